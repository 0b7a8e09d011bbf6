// SfuManager: the records and the worker commands. The JSON-RPC side is in
// room_rpc.cc.
#include "control/room_methods.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "control/sfu_json.h"

namespace tern {

using jsonrpc::invalid_param;
using jsonrpc::json;

namespace {

// InvalidArgument naming params.mid when one of `records` (producers or
// consumers, `what`) already has `mid` on `transport_id`.
template <typename Records>
absl::Status mid_unused(const Records& records, const char* what, uint64_t transport_id,
                        const std::string& mid) {
  for (const auto& [id, r] : records) {
    if (r.spec.transport_id == transport_id && r.spec.mid == mid) {
      return invalid_param("params.mid", absl::StrCat("mid \"", mid, "\" has ", what, " ", id,
                                                      " on transport ", transport_id));
    }
  }
  return absl::OkStatus();
}

// Files a record the worker took: its spec moves in, the next id is used up.
template <typename Record, typename Spec>
uint64_t file_record(std::map<uint64_t, Record>& records, uint64_t& next, Record r, Spec spec) {
  ++next;
  r.spec = std::move(spec);
  uint64_t id = r.id;
  records.emplace(id, std::move(r));
  return id;
}

}  // namespace

absl::Status check_room_name(const std::string& name, const char* field) {
  if (name.empty() || name.size() > 64) {
    return invalid_param(field, absl::StrCat("must be 1..64 characters, got ", name.size()));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '~') {
      return invalid_param(
          field, absl::StrCat("'", std::string(1, c), "' is not allowed (A-Z a-z 0-9 - _ . ~)"));
    }
  }
  return absl::OkStatus();
}

SfuManager::SfuManager(TransportManager& transports)
    : transports_(transports), rng_(std::random_device{}()) {
  transports_.set_observer(this);
}

SfuManager::~SfuManager() { transports_.set_observer(nullptr); }

void SfuManager::emit(const char* topic, json data) {
  if (publish_) publish_(topic, data);
}

absl::Status SfuManager::post(uint16_t worker, const WorkerCommand& cmd) {
  if (!transports_.worker(worker)->post_command(cmd)) {
    return absl::UnavailableError(absl::StrCat("worker ", worker, " command ring full; retry"));
  }
  return absl::OkStatus();
}

absl::Status SfuManager::post_owned(uint16_t worker, const WorkerCommand& cmd) {
  absl::Status s = post(worker, cmd);
  if (!s.ok()) {  // the worker never saw them
    delete cmd.producer;
    delete cmd.consumer;
  }
  return s;
}

template <typename Record>
absl::Status SfuManager::close_record(const std::map<uint64_t, Record>& records, const char* what,
                                      WorkerCommand::Type type, uint64_t id,
                                      void (SfuManager::*drop)(uint64_t, const std::string&),
                                      const std::string& reason) {
  auto r = find_record(records, what, id);
  if (!r.ok()) return r.status();
  if (absl::Status s = post((*r)->worker, {.type = type, .id = id}); !s.ok()) return s;
  (this->*drop)(id, reason);
  return absl::OkStatus();
}

absl::Status SfuManager::check_mid(const std::string& mid, uint64_t transport_id,
                                   bool consumers_too) const {
  if (mid.empty() || mid.size() > 16) {
    return invalid_param("params.mid", "must be 1..16 characters");
  }
  if (consumers_too) {
    if (auto s = mid_unused(consumers_, "consumer", transport_id, mid); !s.ok()) return s;
  }
  return mid_unused(producers_, "producer", transport_id, mid);
}

// ---- rooms ------------------------------------------------------------------

absl::StatusOr<uint16_t> SfuManager::create_room(const std::string& name,
                                                 std::optional<uint16_t> worker) {
  if (auto s = check_room_name(name, "params.room"); !s.ok()) return s;
  if (rooms_.count(name))
    return absl::AlreadyExistsError(absl::StrCat("room \"", name, "\" exists"));
  size_t n = transports_.num_workers();
  if (n == 0) return absl::UnavailableError("no workers");
  uint16_t w = 0;
  if (worker) {
    if (*worker >= n) {
      return invalid_param(
          "params.worker",
          absl::StrCat("no worker ", *worker, "; this ternd runs ", n, " (0..", n - 1, ")"));
    }
    w = *worker;
  } else {  // least loaded: transports (in flight included) plus rooms
    std::vector<size_t> load = transports_.load();
    for (const auto& [k, r] : rooms_) ++load[r.worker];
    w = uint16_t(std::min_element(load.begin(), load.end()) - load.begin());
  }
  Room r;
  r.name = name;
  r.worker = w;
  rooms_.emplace(name, std::move(r));
  return w;
}

const SfuManager::Room* SfuManager::room(const std::string& name) const {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second;
}

SfuManager::Room* SfuManager::mutable_room(const std::string& name) {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : &it->second;
}

absl::Status SfuManager::close_room(const std::string& name) {
  if (rooms_.find(name) == rooms_.end()) {
    return absl::NotFoundError(absl::StrCat("no room \"", name, "\""));
  }
  if (hooks_.close_room_sessions) hooks_.close_room_sessions(name);
  // Sessions closed their transports; the rest were made with room=...
  auto it = rooms_.find(name);
  if (it != rooms_.end()) {
    std::set<uint64_t> left = it->second.transports;
    for (uint64_t t : left) (void)transports_.close_transport(t);  // cascades below
  }
  rooms_.erase(name);
  return absl::OkStatus();
}

absl::StatusOr<uint16_t> SfuManager::room_worker(const std::string& room) {
  if (auto s = check_room_name(room, "params.room"); !s.ok()) return s;
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return absl::NotFoundError(absl::StrCat("no room \"", room, "\""));
  return it->second.worker;
}

void SfuManager::transport_added(uint64_t id, const std::string& room) {
  if (Room* r = mutable_room(room)) r->transports.insert(id);
}

void SfuManager::transport_closed(uint64_t id, const std::string& room) {
  if (Room* r = mutable_room(room)) r->transports.erase(id);
  std::vector<uint64_t> ps, cs;
  for (const auto& [pid, p] : producers_)
    if (p.spec.transport_id == id) ps.push_back(pid);
  for (const auto& [cid, c] : consumers_)
    if (c.spec.transport_id == id) cs.push_back(cid);
  for (uint64_t c : cs) drop_consumer(c, "transport closed");
  for (uint64_t p : ps) drop_producer(p, "transport closed");
  // transport.close on a session's transport ends the session. (A session
  // closing its own transport has already forgotten it: no recursion.)
  if (hooks_.transport_down) hooks_.transport_down(id, "transport closed");
}

void SfuManager::transport_event(const sfu::TransportEvent& ev, bool failure) {
  if (!hooks_.transport_down) return;
  std::string why;
  switch (ev.type) {
    case sfu::TransportEventType::kIceFailed:
      why = absl::StrCat("ice failed: ", ev.reason);
      break;
    case sfu::TransportEventType::kDtlsFailed:
      why = absl::StrCat("dtls failed: ", ev.reason);
      break;
    case sfu::TransportEventType::kAttachFailed:
      why = absl::StrCat("worker refused the transport: ", ev.reason);
      break;
    default:
      why = failure ? ev.reason : "closed by the peer";
      break;
  }
  hooks_.transport_down(ev.transport_id, why);
}

void SfuManager::sfu_event(uint16_t, const sfu::TransportEvent& ev) {
  std::string reason = ev.reason[0] ? ev.reason : "closed by the worker";
  switch (ev.type) {
    case sfu::TransportEventType::kProducerClosed:
      if (producers_.count(ev.object_id)) drop_producer(ev.object_id, reason);
      break;
    case sfu::TransportEventType::kConsumerClosed:
      if (consumers_.count(ev.object_id)) drop_consumer(ev.object_id, reason);
      break;
    case sfu::TransportEventType::kConsumerLayerChanged: {
      auto it = consumers_.find(ev.object_id);
      if (it == consumers_.end()) break;
      Consumer& c = it->second;
      c.current = ev.layer;
      emit("consumer.layer", json{{"id", c.id},
                                  {"producer_id", c.spec.producer_id},
                                  {"transport_id", c.spec.transport_id},
                                  {"room", c.room},
                                  {"layer", ev.layer}});
      break;
    }
    default:
      break;
  }
}

// ---- producers --------------------------------------------------------------

absl::StatusOr<uint64_t> SfuManager::create_producer(ProducerSpec spec) {
  int w = transports_.worker_of(spec.transport_id);
  if (w < 0) return absl::NotFoundError(absl::StrCat("no transport ", spec.transport_id));
  std::string room = transports_.room_of(spec.transport_id);
  if (room.empty()) {
    return invalid_param("params.transport_id",
                         absl::StrCat("transport ", spec.transport_id,
                                      " is in no room (transport.create with room=...)"));
  }
  if (auto s = check_mid(spec.mid, spec.transport_id, /*consumers_too=*/false); !s.ok()) return s;
  if (spec.codecs.empty()) return invalid_param("params.codecs", "at least one codec");
  if (spec.layers.empty()) spec.layers.emplace_back();
  if (spec.layers.size() > 4) return invalid_param("params.layers", "at most 4 layers");
  Producer p;
  p.id = next_producer_;
  p.room = room;
  p.worker = uint16_t(w);
  p.stats = std::make_shared<sfu::ProducerStats>();
  auto* params = new sfu::ProducerParams;
  params->id = p.id;
  params->transport_id = spec.transport_id;
  params->kind = spec.kind;
  params->mid = spec.mid;
  params->codecs = spec.codecs;
  params->ext = spec.ext;
  params->layers = spec.layers;
  params->stats = p.stats;
  if (absl::Status s = post_owned(
          p.worker, {.type = WorkerCommand::Type::kAddProducer, .id = p.id, .producer = params});
      !s.ok()) {
    return s;
  }
  return file_record(producers_, next_producer_, std::move(p), std::move(spec));
}

absl::Status SfuManager::close_producer(uint64_t id, const std::string& reason) {
  return close_record(producers_, "producer", WorkerCommand::Type::kCloseProducer, id,
                      &SfuManager::drop_producer, reason);
}

void SfuManager::drop_producer(uint64_t id, const std::string& reason) {
  auto it = producers_.find(id);
  if (it == producers_.end()) return;
  std::vector<uint64_t> cs;
  for (const auto& [cid, c] : consumers_)
    if (c.spec.producer_id == id) cs.push_back(cid);
  for (uint64_t c : cs) drop_consumer(c, "producer closed");
  json data{{"id", id},
            {"room", it->second.room},
            {"transport_id", it->second.spec.transport_id},
            {"reason", reason}};
  producers_.erase(it);
  emit("producer.closed", std::move(data));
}

const SfuManager::Producer* SfuManager::producer(uint64_t id) const {
  auto it = producers_.find(id);
  return it == producers_.end() ? nullptr : &it->second;
}

std::vector<const SfuManager::Producer*> SfuManager::producers_in(const std::string& room) const {
  std::vector<const Producer*> out;
  for (const auto& [id, p] : producers_)
    if (p.room == room) out.push_back(&p);
  return out;
}

// ---- consumers --------------------------------------------------------------

uint32_t SfuManager::fresh_ssrc(uint64_t transport_id) {
  for (;;) {  // ends: at most a few hundred ssrcs are taken out of 2^32
    uint32_t s = static_cast<uint32_t>(rng_());
    if (s == 0) continue;
    bool used = false;
    for (const auto& [id, c] : consumers_) {
      if (c.spec.transport_id == transport_id && (c.spec.ssrc == s || c.spec.rtx_ssrc == s)) {
        used = true;
        break;
      }
    }
    if (!used) return s;
  }
}

absl::StatusOr<uint64_t> SfuManager::create_consumer(ConsumerSpec spec) {
  int w = transports_.worker_of(spec.transport_id);
  if (w < 0) return absl::NotFoundError(absl::StrCat("no transport ", spec.transport_id));
  auto pit = producers_.find(spec.producer_id);
  if (pit == producers_.end()) {
    return absl::NotFoundError(absl::StrCat("no producer ", spec.producer_id));
  }
  const Producer& prod = pit->second;
  std::string room = transports_.room_of(spec.transport_id);
  if (room != prod.room) {
    return invalid_param("params.transport_id",
                         absl::StrCat("transport ", spec.transport_id, " is in ",
                                      room.empty() ? "no room" : "room \"" + room + "\"",
                                      "; producer ", prod.id, " is in room \"", prod.room, "\""));
  }
  if (auto s = check_mid(spec.mid, spec.transport_id, /*consumers_too=*/true); !s.ok()) return s;
  bool common = false, rtx = false;
  for (const sfu::RtpCodecParams& c : spec.codecs) {
    rtx = rtx || c.rtx_pt >= 0;
    for (const sfu::RtpCodecParams& pc : prod.spec.codecs) common = common || pc.codec == c.codec;
  }
  if (!common) {
    std::string have;
    for (const sfu::RtpCodecParams& pc : prod.spec.codecs)
      absl::StrAppend(&have, have.empty() ? "" : ", ", codec_id_name(pc.codec));
    return invalid_param("params.codecs",
                         absl::StrCat("none of producer ", prod.id, "'s codecs (", have, ")"));
  }
  if (spec.layer >= int8_t(prod.spec.layers.size())) {
    return invalid_param("params.layer", absl::StrCat("producer ", prod.id, " has ",
                                                      prod.spec.layers.size(), " layer(s)"));
  }
  if (spec.ssrc == 0) spec.ssrc = fresh_ssrc(spec.transport_id);
  if (!spec.want_rtx || !rtx) {
    spec.rtx_ssrc = 0;
  } else if (spec.rtx_ssrc == 0) {
    do spec.rtx_ssrc = fresh_ssrc(spec.transport_id);
    while (spec.rtx_ssrc == spec.ssrc);
  }
  if (spec.rtx_ssrc != 0 && spec.rtx_ssrc == spec.ssrc) {
    return invalid_param("params.rtx_ssrc", "must differ from ssrc");
  }
  Consumer c;
  c.id = next_consumer_;
  c.room = room;
  c.worker = uint16_t(w);
  c.kind = prod.spec.kind;
  c.layer = spec.layer;
  c.stats = std::make_shared<sfu::ConsumerStats>();
  c.stats->paused.store(spec.paused, std::memory_order_relaxed);
  auto* params = new sfu::ConsumerParams;
  params->id = c.id;
  params->transport_id = spec.transport_id;
  params->producer_id = prod.id;
  params->kind = prod.spec.kind;
  params->mid = spec.mid;
  params->codecs = spec.codecs;
  params->ext = spec.ext;
  params->ssrc = spec.ssrc;
  params->rtx_ssrc = spec.rtx_ssrc;
  params->preferred_layer = spec.layer;
  params->paused = spec.paused;
  params->stats = c.stats;
  if (absl::Status s = post_owned(
          c.worker, {.type = WorkerCommand::Type::kAddConsumer, .id = c.id, .consumer = params});
      !s.ok()) {
    return s;
  }
  return file_record(consumers_, next_consumer_, std::move(c), std::move(spec));
}

absl::Status SfuManager::close_consumer(uint64_t id, const std::string& reason) {
  return close_record(consumers_, "consumer", WorkerCommand::Type::kCloseConsumer, id,
                      &SfuManager::drop_consumer, reason);
}

void SfuManager::drop_consumer(uint64_t id, const std::string& reason) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return;
  json data{{"id", id},
            {"producer_id", it->second.spec.producer_id},
            {"room", it->second.room},
            {"transport_id", it->second.spec.transport_id},
            {"reason", reason}};
  consumers_.erase(it);
  emit("consumer.closed", std::move(data));
}

const SfuManager::Consumer* SfuManager::consumer(uint64_t id) const {
  auto it = consumers_.find(id);
  return it == consumers_.end() ? nullptr : &it->second;
}

}  // namespace tern
