// SfuManager: room.*, producer.*, consumer.* over JSON-RPC
// (docs/control-protocol.md). Params are declared here and checked by the
// registry before a handler runs; the handlers check the rest (codec lists,
// ids) and name the field in every error.
#include "absl/strings/str_cat.h"
#include "control/room_methods.h"
#include "control/sfu_json.h"

namespace tern {

using jsonrpc::invalid_param;
using jsonrpc::json;
using jsonrpc::ParamSpec;
using jsonrpc::ParamType;
using jsonrpc::Session;

namespace {

absl::StatusOr<uint32_t> optional_ssrc(const json& p, const char* key) {
  if (!p.contains(key)) return uint32_t{0};
  int64_t v = p[key].get<int64_t>();
  return uint32_t(v);
}

}  // namespace

absl::StatusOr<json> SfuManager::room_create(const json& p) {
  std::string name = p["room"].get<std::string>();
  std::optional<uint16_t> w;
  if (p.contains("worker")) w = uint16_t(p["worker"].get<int64_t>());
  auto r = create_room(name, w);
  if (!r.ok()) return r.status();
  return json{{"room", name}, {"worker", *r}};
}

absl::StatusOr<json> SfuManager::room_close(const json& p) {
  std::string name = p["room"].get<std::string>();
  if (absl::Status s = close_room(name); !s.ok()) return s;
  return json{{"room", name}, {"closed", true}};
}

absl::StatusOr<json> SfuManager::room_list(const json&) const {
  json rooms = json::array();
  for (const auto& [name, r] : rooms_) {
    size_t np = 0, nc = 0;
    for (const auto& [id, x] : producers_) np += x.room == name;
    for (const auto& [id, x] : consumers_) nc += x.room == name;
    rooms.push_back({{"room", name},
                     {"worker", r.worker},
                     {"transports", r.transports.size()},
                     {"producers", np},
                     {"consumers", nc},
                     {"sessions", r.sessions.size()}});
  }
  return json{{"rooms", std::move(rooms)}};
}

absl::StatusOr<json> SfuManager::room_get(const json& p) const {
  std::string name = p["room"].get<std::string>();
  const Room* r = room(name);
  if (r == nullptr) return absl::NotFoundError(absl::StrCat("no room \"", name, "\""));
  json ps = json::array(), cs = json::array();
  for (const auto& [id, x] : producers_) {
    if (x.room != name) continue;
    ps.push_back({{"id", id},
                  {"transport_id", x.spec.transport_id},
                  {"kind", sfu_kind_name(x.spec.kind)},
                  {"mid", x.spec.mid},
                  {"session", x.spec.session}});
  }
  for (const auto& [id, x] : consumers_) {
    if (x.room != name) continue;
    cs.push_back({{"id", id},
                  {"producer_id", x.spec.producer_id},
                  {"transport_id", x.spec.transport_id},
                  {"kind", sfu_kind_name(x.kind)},
                  {"mid", x.spec.mid},
                  {"session", x.spec.session}});
  }
  return json{{"room", name},
              {"worker", r->worker},
              {"transports", json(r->transports)},
              {"sessions", json(r->sessions)},
              {"producers", std::move(ps)},
              {"consumers", std::move(cs)}};
}

absl::StatusOr<json> SfuManager::producer_create(const json& p) {
  ProducerSpec s;
  s.transport_id = p["transport_id"].get<uint64_t>();
  auto kind = kind_from_json(p["kind"], "params.kind");
  if (!kind.ok()) return kind.status();
  s.kind = *kind;
  s.mid = p["mid"].get<std::string>();
  auto codecs = codecs_from_json(p["codecs"], s.kind, "params.codecs");
  if (!codecs.ok()) return codecs.status();
  s.codecs = *std::move(codecs);
  if (p.contains("extensions")) {
    auto ext = extensions_from_json(p["extensions"], "params.extensions");
    if (!ext.ok()) return ext.status();
    s.ext = *ext;
  }
  auto layers = layers_from_json(p.value("layers", json::array()), "params.layers");
  if (!layers.ok()) return layers.status();
  s.layers = *std::move(layers);
  if (s.layers.size() > 1 && s.ext.rid == 0) {
    return invalid_param("params.extensions",
                         "simulcast layers need the rtp-stream-id extension "
                         "(urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id)");
  }
  auto id = create_producer(std::move(s));
  if (!id.ok()) return id.status();
  return producer_json(producers_.at(*id));
}

absl::StatusOr<json> SfuManager::producer_close(const json& p) {
  uint64_t id = p["id"].get<uint64_t>();
  if (absl::Status s = close_producer(id, "producer.close"); !s.ok()) return s;
  return json{{"id", id}, {"closed", true}};
}

absl::StatusOr<json> SfuManager::producer_get(const json& p) const {
  uint64_t id = p["id"].get<uint64_t>();
  const Producer* x = producer(id);
  if (x == nullptr) return absl::NotFoundError(absl::StrCat("no producer ", id));
  json out = producer_json(*x);
  out["stats"] = producer_stats_json(*x->stats, x->spec.layers.size());
  return out;
}

json SfuManager::producer_json(const Producer& x) const {
  return json{{"id", x.id},
              {"room", x.room},
              {"worker", x.worker},
              {"transport_id", x.spec.transport_id},
              {"kind", sfu_kind_name(x.spec.kind)},
              {"mid", x.spec.mid},
              {"codecs", codecs_to_json(x.spec.codecs)},
              {"extensions", extensions_to_json(x.spec.ext)},
              {"layers", layers_to_json(x.spec.layers)},
              {"session", x.spec.session}};
}

absl::StatusOr<json> SfuManager::consumer_create(const json& p) {
  ConsumerSpec s;
  s.transport_id = p["transport_id"].get<uint64_t>();
  s.producer_id = p["producer_id"].get<uint64_t>();
  s.mid = p["mid"].get<std::string>();
  const Producer* prod = producer(s.producer_id);
  if (prod == nullptr) return absl::NotFoundError(absl::StrCat("no producer ", s.producer_id));
  auto codecs = codecs_from_json(p["codecs"], prod->spec.kind, "params.codecs");
  if (!codecs.ok()) return codecs.status();
  s.codecs = *std::move(codecs);
  if (p.contains("extensions")) {
    auto ext = extensions_from_json(p["extensions"], "params.extensions");
    if (!ext.ok()) return ext.status();
    s.ext = *ext;
  }
  auto ssrc = optional_ssrc(p, "ssrc");
  auto rtx = optional_ssrc(p, "rtx_ssrc");
  s.ssrc = *ssrc;
  s.rtx_ssrc = *rtx;
  if (s.rtx_ssrc != 0) {
    bool any_rtx = false;
    for (const auto& c : s.codecs) any_rtx = any_rtx || c.rtx_pt >= 0;
    if (!any_rtx) return invalid_param("params.rtx_ssrc", "no codec has an rtx_pt");
  }
  if (p.contains("layer")) s.layer = int8_t(p["layer"].get<int64_t>());
  s.paused = p.value("paused", false);
  auto id = create_consumer(std::move(s));
  if (!id.ok()) return id.status();
  return consumer_json(consumers_.at(*id));
}

json SfuManager::consumer_json(const Consumer& x) const {
  return json{{"id", x.id},
              {"room", x.room},
              {"worker", x.worker},
              {"transport_id", x.spec.transport_id},
              {"producer_id", x.spec.producer_id},
              {"kind", sfu_kind_name(x.kind)},
              {"mid", x.spec.mid},
              {"ssrc", x.spec.ssrc},
              {"rtx_ssrc", x.spec.rtx_ssrc},
              {"layer", x.layer},
              {"paused", x.stats->paused.load(std::memory_order_relaxed)},
              {"rtp_parameters",
               {{"codecs", codecs_to_json(x.spec.codecs)},
                {"extensions", extensions_to_json(x.spec.ext)},
                {"ssrc", x.spec.ssrc},
                {"rtx_ssrc", x.spec.rtx_ssrc}}},
              {"session", x.spec.session}};
}

absl::StatusOr<json> SfuManager::consumer_close(const json& p) {
  uint64_t id = p["id"].get<uint64_t>();
  if (absl::Status s = close_consumer(id, "consumer.close"); !s.ok()) return s;
  return json{{"id", id}, {"closed", true}};
}

absl::StatusOr<json> SfuManager::consumer_pause(const json& p, bool pause) {
  uint64_t id = p["id"].get<uint64_t>();
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return absl::NotFoundError(absl::StrCat("no consumer ", id));
  WorkerCommand cmd;
  cmd.type = pause ? WorkerCommand::Type::kPauseConsumer : WorkerCommand::Type::kResumeConsumer;
  cmd.id = id;
  if (absl::Status s = post(it->second.worker, cmd); !s.ok()) return s;
  // The worker writes it too once it ran the command; set now so a get right
  // after the call reads what was asked.
  it->second.stats->paused.store(pause, std::memory_order_relaxed);
  return json{{"id", id}, {"paused", pause}};
}

absl::StatusOr<json> SfuManager::consumer_set_layer(const json& p) {
  uint64_t id = p["id"].get<uint64_t>();
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return absl::NotFoundError(absl::StrCat("no consumer ", id));
  int64_t layer = p["layer"].get<int64_t>();
  const Producer* prod = producer(it->second.spec.producer_id);
  size_t n = prod ? prod->spec.layers.size() : 1;
  if (layer >= int64_t(n)) {
    return invalid_param("params.layer",
                         absl::StrCat("producer ", it->second.spec.producer_id, " has ", n,
                                      " layer(s) (0..", n - 1, ", or -1 for the highest)"));
  }
  WorkerCommand cmd;
  cmd.type = WorkerCommand::Type::kSetConsumerLayer;
  cmd.id = id;
  cmd.layer = int8_t(layer);
  if (absl::Status s = post(it->second.worker, cmd); !s.ok()) return s;
  it->second.layer = int8_t(layer);
  return json{{"id", id}, {"layer", layer}};
}

absl::StatusOr<json> SfuManager::consumer_get(const json& p) const {
  uint64_t id = p["id"].get<uint64_t>();
  const Consumer* x = consumer(id);
  if (x == nullptr) return absl::NotFoundError(absl::StrCat("no consumer ", id));
  json out = consumer_json(*x);
  out["current_layer"] = x->current;
  out["stats"] = consumer_stats_json(*x->stats);
  return out;
}

absl::Status SfuManager::register_methods(jsonrpc::MethodRegistry& reg) {
  ParamSpec room{.name = "room",
                 .type = ParamType::kString,
                 .required = true,
                 .max_length = 64,
                 .doc = "room name: 1..64 of A-Z a-z 0-9 - _ . ~"};
  ParamSpec id{.name = "id", .type = ParamType::kInteger, .required = true, .min = 1};
  ParamSpec transport{.name = "transport_id",
                      .type = ParamType::kInteger,
                      .required = true,
                      .min = 1,
                      .doc = "a transport of the room (transport.create room=...)"};
  ParamSpec mid{.name = "mid", .type = ParamType::kString, .required = true, .max_length = 16};
  ParamSpec codecs{.name = "codecs",
                   .type = ParamType::kArray,
                   .required = true,
                   .max_length = 16,
                   .doc = "[{name, pt, clock_rate?, rtx_pt?, rtcp_fb?}]"};
  ParamSpec exts{.name = "extensions",
                 .type = ParamType::kArray,
                 .max_length = 32,
                 .doc = "[{id, uri}] (a=extmap)"};
  ParamSpec ssrc{.name = "ssrc", .type = ParamType::kInteger, .min = 1, .max = 0xffffffffLL};
  ParamSpec rtx_ssrc{
      .name = "rtx_ssrc", .type = ParamType::kInteger, .min = 1, .max = 0xffffffffLL};
  ParamSpec layer{.name = "layer",
                  .type = ParamType::kInteger,
                  .min = -1,
                  .max = 3,
                  .doc = "simulcast layer index; -1 = highest present"};
  struct M {
    const char* name;
    std::vector<ParamSpec> params;
    const char* summary;
    jsonrpc::Handler h;
  };
  ParamSpec required_layer = layer;
  required_layer.required = true;
  std::vector<M> ms = {
      {"room.create",
       {room,
        {.name = "worker",
         .type = ParamType::kInteger,
         .min = 0,
         .max = 1023,
         .doc = "worker to place it on (default: least loaded)"}},
       "a room on one worker",
       [this](const json& p, Session&) { return room_create(p); }},
      {"room.close",
       {room},
       "close a room: its sessions, transports, producers, consumers",
       [this](const json& p, Session&) { return room_close(p); }},
      {"room.list",
       {},
       "every room with its counts",
       [this](const json& p, Session&) { return room_list(p); }},
      {"room.get",
       {room},
       "a room's transports, sessions, producers and consumers",
       [this](const json& p, Session&) { return room_get(p); }},
      {"producer.create",
       {transport,
        {.name = "kind",
         .type = ParamType::kString,
         .required = true,
         .one_of = {"audio", "video"}},
        mid,
        codecs,
        exts,
        {.name = "layers",
         .type = ParamType::kArray,
         .max_length = 4,
         .doc = "[{rid?, ssrc?, rtx_ssrc?}] simulcast layers; default one"}},
       "a track a participant sends",
       [this](const json& p, Session&) { return producer_create(p); }},
      {"producer.close",
       {id},
       "close a producer and its consumers",
       [this](const json& p, Session&) { return producer_close(p); }},
      {"producer.get",
       {id},
       "a producer and its counters",
       [this](const json& p, Session&) { return producer_get(p); }},
      {"consumer.create",
       {transport,
        {.name = "producer_id", .type = ParamType::kInteger, .required = true, .min = 1},
        mid,
        codecs,
        exts,
        ssrc,
        rtx_ssrc,
        layer,
        {.name = "paused", .type = ParamType::kBoolean}},
       "a subscriber's copy of a producer",
       [this](const json& p, Session&) { return consumer_create(p); }},
      {"consumer.close",
       {id},
       "close a consumer",
       [this](const json& p, Session&) { return consumer_close(p); }},
      {"consumer.pause",
       {id},
       "stop forwarding",
       [this](const json& p, Session&) { return consumer_pause(p, true); }},
      {"consumer.resume",
       {id},
       "forward again (asks for a keyframe)",
       [this](const json& p, Session&) { return consumer_pause(p, false); }},
      {"consumer.set_layer",
       {id, required_layer},
       "the simulcast layer to forward",
       [this](const json& p, Session&) { return consumer_set_layer(p); }},
      {"consumer.get",
       {id},
       "a consumer and its counters",
       [this](const json& p, Session&) { return consumer_get(p); }},
  };
  for (M& m : ms) {
    absl::Status s = reg.register_method(
        {.name = m.name, .params = std::move(m.params), .summary = m.summary}, std::move(m.h));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace tern
