#include "control/jsonrpc_methods.h"

#include <algorithm>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "engine/net/classify.h"
#include "engine/turn/turn_auth.h"

namespace tern {

using jsonrpc::json;
using jsonrpc::ParamType;
using jsonrpc::Session;

namespace {

constexpr int64_t kMaxWorkerIndex = 1023;  // the real bound is checked against the view
// turn.credentials: TTL bounds (one minute to one week) and the user's length.
constexpr int64_t kTurnTtlMin = 60, kTurnTtlMax = 604800, kTurnTtlDefault = 86400;
constexpr size_t kTurnUserMax = 128;

double seconds(Nanos n) { return static_cast<double>(n) / static_cast<double>(kSecond); }

json caps_json(const DriverCaps& c) {
  return json{{"link_layer", c.link_layer},
              {"tx_checksum_offload", c.tx_checksum_offload},
              {"rx_interrupts", c.rx_interrupts},
              {"gro", c.gro},
              {"gso", c.gso}};
}

json worker_json(const Worker& w, const PacketDriver* drv) {
  const WorkerStats& s = w.stats();
  uint16_t q = w.config().index;
  json classes = json::object();
  for (size_t c = 0; c < kNumPacketClasses; ++c) {
    classes[packet_class_name(static_cast<PacketClass>(c))] = s.by_class[c].get();
  }
  const StunServiceStats& st = w.stun().stats();
  json out{{"index", q},
           {"rx_packets", s.rx_packets.get()},
           {"rx_bytes", s.rx_bytes.get()},
           {"tx_packets", s.tx_packets.get()},
           {"classes", std::move(classes)},
           {"drops", drops_json(s.drops)},
           {"loops", s.loops.get()},
           {"busy_polls", s.busy_polls.get()},
           {"busy_ns", s.busy_ns.get()},
           {"hairpin", s.hairpin.get()},
           {"hairpin_dropped", s.hairpin_dropped.get()},
           {"idle_polls", s.idle_polls.get()},
           {"sleeps", s.sleeps.get()},
           {"timers_fired", s.timers_fired.get()},
           {"housekeeping", s.housekeeping.get()},
           {"stun",
            {{"requests", st.requests.get()},
             {"responses", st.responses.get()},
             {"indications", st.indications.get()},
             {"drops", drops_json(st.drops)}}}};
  const sfu::DataRouterStats& dc = w.data_stats();
  out["datachannels"] = json{{"members", dc.members.load(std::memory_order_relaxed)},
                             {"channels", dc.channels.load(std::memory_order_relaxed)},
                             {"legs_opened", dc.legs_opened.get()},
                             {"messages_in", dc.messages_in.get()},
                             {"bytes_in", dc.bytes_in.get()},
                             {"messages_out", dc.messages_out.get()},
                             {"bytes_out", dc.bytes_out.get()},
                             {"send_failed", dc.send_failed.get()},
                             {"leg_open_failed", dc.leg_open_failed.get()},
                             {"relay_queued", dc.relay_queued.get()},
                             {"relay_dropped", dc.relay_dropped.get()},
                             {"source_pauses", dc.source_pauses.get()},
                             {"backlog_bytes", dc.backlog_bytes.load(std::memory_order_relaxed)}};
  if (drv != nullptr && q < drv->num_queues()) {
    const DriverQueueStats& ds = drv->stats(q);
    json d{{"queue", q},
           {"rx_packets", ds.rx_packets.get()},
           {"rx_bytes", ds.rx_bytes.get()},
           {"tx_packets", ds.tx_packets.get()},
           {"tx_bytes", ds.tx_bytes.get()},
           {"drops", drops_json(ds.drops)}};
    if (drv->caps().link_layer) {
      d["arp_replies"] = ds.arp_replies.get();
      d["nd_replies"] = ds.nd_replies.get();
      d["icmp_echo_replies"] = ds.icmp_echo_replies.get();
    }
    out["driver"] = std::move(d);
  }
  return out;
}

}  // namespace

json drops_json(const DropCounters& d) {
  json out = json::object();
  uint64_t total = 0;
  for (size_t r = 0; r < static_cast<size_t>(Drop::kCount); ++r) {
    uint64_t n = d.by_reason[r].get();
    total += n;
    if (n) out[drop_name(static_cast<Drop>(r))] = n;
  }
  out["total"] = total;
  return out;
}

json server_info_json(const EngineView& v, Nanos now) {
  json workers = json::array();
  for (const Worker* w : v.workers) {
    json eps = json::array();
    if (v.driver != nullptr) {
      for (const Endpoint& ep : v.driver->local_endpoints(w->config().index)) {
        eps.push_back(absl::StrCat("udp:", ep.to_string()));
      }
    }
    workers.push_back(json{{"index", w->config().index},
                           {"cpu", w->config().cpu},
                           {"running", w->running()},
                           {"endpoints", std::move(eps)}});
  }
  json info{{"name", "ternd"},
            {"version", v.version},
            {"pid", v.pid},
            {"uptime_s", seconds(now - v.started)},
            {"config", v.config_source},
            {"workers", std::move(workers)},
            {"features", v.features}};
  if (v.driver != nullptr) {
    info["driver"] = json{{"name", v.driver->name()},
                          {"queues", v.driver->num_queues()},
                          {"caps", caps_json(v.driver->caps())}};
  }
  info["control"] =
      json{{"endpoints", v.control_endpoints ? v.control_endpoints() : std::vector<std::string>{}}};
  if (v.control_stats) info["control"]["stats"] = v.control_stats();
  return info;
}

json stats_json(const EngineView& v, Nanos now, std::optional<int> worker) {
  json workers = json::array();
  json totals{{"rx_packets", 0}, {"tx_packets", 0}, {"stun_requests", 0}, {"drops", 0}};
  for (const Worker* w : v.workers) {
    if (worker && w->config().index != *worker) continue;
    json wj = worker_json(*w, v.driver);
    totals["rx_packets"] = totals["rx_packets"].get<uint64_t>() + wj["rx_packets"].get<uint64_t>();
    totals["tx_packets"] = totals["tx_packets"].get<uint64_t>() + wj["tx_packets"].get<uint64_t>();
    totals["stun_requests"] =
        totals["stun_requests"].get<uint64_t>() + wj["stun"]["requests"].get<uint64_t>();
    uint64_t drops = wj["drops"]["total"].get<uint64_t>() +
                     wj["stun"]["drops"]["total"].get<uint64_t>() +
                     (wj.contains("driver") ? wj["driver"]["drops"]["total"].get<uint64_t>() : 0);
    totals["drops"] = totals["drops"].get<uint64_t>() + drops;
    workers.push_back(std::move(wj));
  }
  return json{{"uptime_s", seconds(now - v.started)},
              {"workers", std::move(workers)},
              {"totals", std::move(totals)}};
}

std::vector<std::string> turn_uris(const std::vector<Endpoint>& listen,
                                   const std::vector<Endpoint>& relay_addresses) {
  std::vector<std::string> out;
  auto add = [&out](const Endpoint& addr, uint16_t port) {
    Endpoint ep = addr;
    ep.port = port;
    std::string uri = absl::StrCat("turn:", ep.to_string(), "?transport=udp");
    if (std::find(out.begin(), out.end(), uri) == out.end()) out.push_back(std::move(uri));
  };
  for (const Endpoint& l : listen) {
    bool wildcard = std::all_of(l.addr, l.addr + l.addr_len(), [](uint8_t b) { return b == 0; });
    if (!wildcard) {
      add(l, l.port);
      continue;
    }
    for (const Endpoint& r : relay_addresses) {
      if (r.family == l.family) add(r, l.port);
    }
  }
  return out;
}

absl::StatusOr<json> turn_credentials_json(const TurnCredentialsView& turn, absl::string_view user,
                                           int64_t ttl_s, int64_t unix_now_s) {
  if (!turn.enabled) {
    return absl::FailedPreconditionError(
        "TURN is not enabled on this ternd (set [turn] enabled = true)");
  }
  if (turn.rest_secrets.empty()) {
    return absl::FailedPreconditionError(
        "no TURN REST secret configured (set [turn] rest_secrets)");
  }
  if (user.empty() || user.size() > kTurnUserMax) {
    return jsonrpc::invalid_param(
        "params.user", absl::StrCat("must be 1..", kTurnUserMax, " characters, got ", user.size()));
  }
  if (user.find(':') != absl::string_view::npos) {
    return jsonrpc::invalid_param("params.user",
                                  "must not contain ':' (it separates expiry and user)");
  }
  auto cred = mint_rest_credential(turn.rest_secrets.front(), user, ttl_s, unix_now_s);
  if (!cred.ok()) return absl::InternalError(cred.status().message());
  return json{{"username", cred->username},
              {"password", cred->password},
              {"ttl_s", ttl_s},
              {"uris", turn.uris}};
}

absl::Status register_engine_methods(jsonrpc::MethodRegistry& registry, const EngineView& view) {
  const EngineView* v = &view;
  absl::Status s = registry.register_method(
      {.name = "server.info", .summary = "version, pid, uptime, driver, workers, endpoints"},
      [v](const json&, Session&) -> absl::StatusOr<json> {
        return server_info_json(*v, Worker::now());
      });
  if (!s.ok()) return s;
  s = registry.register_method(
      {.name = "turn.credentials",
       .params = {{.name = "user",
                   .type = ParamType::kString,
                   .required = true,
                   .max_length = kTurnUserMax,
                   .doc = "the user the credentials are for (no ':')"},
                  {.name = "ttl_s",
                   .type = ParamType::kInteger,
                   .min = kTurnTtlMin,
                   .max = kTurnTtlMax,
                   .doc = "validity in seconds (default 86400)"}},
       .summary = "TURN REST API credentials minted with the first rest_secret"},
      [v](const json& p, Session&) -> absl::StatusOr<json> {
        int64_t ttl = p.contains("ttl_s") ? p["ttl_s"].get<int64_t>() : kTurnTtlDefault;
        return turn_credentials_json(v->turn, p["user"].get<std::string>(), ttl,
                                     static_cast<int64_t>(std::time(nullptr)));
      });
  if (!s.ok()) return s;
  return registry.register_method(
      {.name = "stats.get",
       .params = {{.name = "worker",
                   .type = ParamType::kInteger,
                   .min = 0,
                   .max = kMaxWorkerIndex,
                   .doc = "only this worker (default: all)"}},
       .summary = "per-worker and per-driver-queue counters"},
      [v](const json& p, Session&) -> absl::StatusOr<json> {
        std::optional<int> worker;
        if (p.contains("worker")) {
          worker = p["worker"].get<int>();
          if (*worker >= static_cast<int>(v->workers.size())) {
            return jsonrpc::invalid_param(
                "params.worker",
                absl::StrCat("no worker ", *worker, "; this ternd runs ", v->workers.size(),
                             " (0..", v->workers.size() - 1, ")"));
          }
        }
        return stats_json(*v, Worker::now(), worker);
      });
}

}  // namespace tern
