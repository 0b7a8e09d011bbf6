// SfuManager: room.*, producer.*, consumer.* over JSON-RPC
// (docs/control-protocol.md). Params are declared here and checked by the
// registry before a handler runs; the handlers check the rest (codec lists,
// ids) and name the field in every error.
#include <cstdint>
#include <vector>

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

// An integer param in [min, max].
ParamSpec integer(const char* name, bool required, int64_t min, int64_t max = INT64_MAX,
                  const char* doc = "") {
  return {.name = name,
          .type = ParamType::kInteger,
          .required = required,
          .min = min,
          .max = max,
          .doc = doc};
}

// A string (bytes) or array (items) param of at most max_length.
ParamSpec sized(const char* name, ParamType type, bool required, size_t max_length,
                const char* doc = "") {
  return {.name = name, .type = type, .required = required, .max_length = max_length, .doc = doc};
}

// params.codecs (checked against `kind`), then params.extensions (optional).
absl::Status codecs_and_extensions(const json& p, sfu::SfuMediaKind kind,
                                   std::vector<sfu::RtpCodecParams>& codecs,
                                   sfu::RtpExtensionIds& ext) {
  auto c = codecs_from_json(p["codecs"], kind, "params.codecs");
  if (!c.ok()) return c.status();
  codecs = *std::move(c);
  if (p.contains("extensions")) {
    auto e = extensions_from_json(p["extensions"], "params.extensions");
    if (!e.ok()) return e.status();
    ext = *e;
  }
  return absl::OkStatus();
}

// The answer to a close: {id, closed: true}, or the error.
absl::StatusOr<json> closed(uint64_t id, const absl::Status& s) {
  if (!s.ok()) return s;
  return json{{"id", id}, {"closed", true}};
}

// A registry handler: `method` of `m` on the params.
template <auto method>
jsonrpc::Handler call(SfuManager* m) {
  return [m](const json& p, Session&) { return (m->*method)(p); };
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
  if (auto st = codecs_and_extensions(p, s.kind, s.codecs, s.ext); !st.ok()) return st;
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
  return closed(id, close_producer(id, "producer.close"));
}

absl::StatusOr<json> SfuManager::producer_get(const json& p) const {
  auto x = find_record(producers_, "producer", p["id"].get<uint64_t>());
  if (!x.ok()) return x.status();
  json out = producer_json(**x);
  out["stats"] = producer_stats_json(*(*x)->stats, (*x)->spec.layers.size());
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
  if (auto st = codecs_and_extensions(p, prod->spec.kind, s.codecs, s.ext); !st.ok()) return st;
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
  return closed(id, close_consumer(id, "consumer.close"));
}

absl::StatusOr<json> SfuManager::consumer_pause(const json& p, bool pause) {
  uint64_t id = p["id"].get<uint64_t>();
  auto c = find_record(consumers_, "consumer", id);
  if (!c.ok()) return c.status();
  WorkerCommand::Type type =
      pause ? WorkerCommand::Type::kPauseConsumer : WorkerCommand::Type::kResumeConsumer;
  if (absl::Status s = post((*c)->worker, {.type = type, .id = id}); !s.ok()) return s;
  // The worker writes it too once it ran the command; set now so a get right
  // after the call reads what was asked.
  (*c)->stats->paused.store(pause, std::memory_order_relaxed);
  return json{{"id", id}, {"paused", pause}};
}

absl::StatusOr<json> SfuManager::consumer_set_layer(const json& p) {
  uint64_t id = p["id"].get<uint64_t>();
  auto c = find_record(consumers_, "consumer", id);
  if (!c.ok()) return c.status();
  int64_t layer = p["layer"].get<int64_t>();
  const Producer* prod = producer((*c)->spec.producer_id);
  size_t n = prod ? prod->spec.layers.size() : 1;
  if (layer >= int64_t(n)) {
    return invalid_param("params.layer",
                         absl::StrCat("producer ", (*c)->spec.producer_id, " has ", n,
                                      " layer(s) (0..", n - 1, ", or -1 for the highest)"));
  }
  if (absl::Status s =
          post((*c)->worker,
               {.type = WorkerCommand::Type::kSetConsumerLayer, .id = id, .layer = int8_t(layer)});
      !s.ok()) {
    return s;
  }
  (*c)->layer = int8_t(layer);
  return json{{"id", id}, {"layer", layer}};
}

absl::StatusOr<json> SfuManager::consumer_get(const json& p) const {
  auto x = find_record(consumers_, "consumer", p["id"].get<uint64_t>());
  if (!x.ok()) return x.status();
  json out = consumer_json(**x);
  out["current_layer"] = (*x)->current;
  out["stats"] = consumer_stats_json(*(*x)->stats);
  return out;
}

absl::Status SfuManager::register_methods(jsonrpc::MethodRegistry& reg) {
  ParamSpec room =
      sized("room", ParamType::kString, true, 64, "room name: 1..64 of A-Z a-z 0-9 - _ . ~");
  ParamSpec id = integer("id", true, 1);
  ParamSpec transport = integer("transport_id", true, 1, INT64_MAX,
                                "a transport of the room (transport.create room=...)");
  ParamSpec mid = sized("mid", ParamType::kString, true, 16);
  ParamSpec codecs =
      sized("codecs", ParamType::kArray, true, 16, "[{name, pt, clock_rate?, rtx_pt?, rtcp_fb?}]");
  ParamSpec exts = sized("extensions", ParamType::kArray, false, 32, "[{id, uri}] (a=extmap)");
  ParamSpec ssrc = integer("ssrc", false, 1, 0xffffffffLL);
  ParamSpec rtx_ssrc = integer("rtx_ssrc", false, 1, 0xffffffffLL);
  ParamSpec layer = integer("layer", false, -1, 3, "simulcast layer index; -1 = highest present");
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
       {room, integer("worker", false, 0, 1023, "worker to place it on (default: least loaded)")},
       "a room on one worker",
       call<&SfuManager::room_create>(this)},
      {"room.close",
       {room},
       "close a room: its sessions, transports, producers, consumers",
       call<&SfuManager::room_close>(this)},
      {"room.list", {}, "every room with its counts", call<&SfuManager::room_list>(this)},
      {"room.get",
       {room},
       "a room's transports, sessions, producers and consumers",
       call<&SfuManager::room_get>(this)},
      {"producer.create",
       {transport,
        {.name = "kind",
         .type = ParamType::kString,
         .required = true,
         .one_of = {"audio", "video"}},
        mid,
        codecs,
        exts,
        sized("layers", ParamType::kArray, false, 4,
              "[{rid?, ssrc?, rtx_ssrc?}] simulcast layers; default one")},
       "a track a participant sends",
       call<&SfuManager::producer_create>(this)},
      {"producer.close",
       {id},
       "close a producer and its consumers",
       call<&SfuManager::producer_close>(this)},
      {"producer.get", {id}, "a producer and its counters", call<&SfuManager::producer_get>(this)},
      {"consumer.create",
       {transport,
        integer("producer_id", true, 1),
        mid,
        codecs,
        exts,
        ssrc,
        rtx_ssrc,
        layer,
        {.name = "paused", .type = ParamType::kBoolean}},
       "a subscriber's copy of a producer",
       call<&SfuManager::consumer_create>(this)},
      {"consumer.close", {id}, "close a consumer", call<&SfuManager::consumer_close>(this)},
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
       call<&SfuManager::consumer_set_layer>(this)},
      {"consumer.get", {id}, "a consumer and its counters", call<&SfuManager::consumer_get>(this)},
  };
  for (M& m : ms) {
    absl::Status s = reg.register_method(
        {.name = m.name, .params = std::move(m.params), .summary = m.summary}, std::move(m.h));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace tern
