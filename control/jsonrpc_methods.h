// ternd's engine methods on the control socket: server.info, stats.get and
// turn.credentials.
// (auth, server.ping and events.* belong to ControlServer itself.)
//
// Workers are read through their relaxed-atomic counters from the main
// thread: no lock, no pause, no message to the worker. A snapshot is not
// atomic across counters (rx may be one packet ahead of tx); each counter is
// exact and monotonic.
//
// Rooms, transports and producers will register their methods next to these
// (register_engine_methods is the place to add a call).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/jsonrpc_registry.h"
#include "drivers/driver.h"
#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"
#include "engine/worker/worker.h"

namespace tern {

// What turn.credentials reads: copied from the [turn] config at startup,
// read-only afterwards (main thread only; no worker involvement).
struct TurnCredentialsView {
  bool enabled = false;                   // [turn] enabled
  std::vector<std::string> rest_secrets;  // the first one mints
  std::vector<std::string> uris;          // e.g. "turn:127.0.0.1:3478?transport=udp"
};

// What the methods read. Owned by ternd's run(); must outlive the registry's
// use of the handlers.
struct EngineView {
  std::string version;
  int pid = 0;
  Nanos started = 0;  // CLOCK_MONOTONIC (Worker::now()) at startup
  std::string config_source;
  const PacketDriver* driver = nullptr;
  std::vector<const Worker*> workers;
  std::vector<std::string> features;  // e.g. "stun", "dpdk"
  // The control endpoints (filled once the server listens).
  std::function<std::vector<std::string>()> control_endpoints;
  // The control server's own counters, as JSON (optional).
  std::function<jsonrpc::json()> control_stats;
  TurnCredentialsView turn;
};

// Registers server.info, stats.get and turn.credentials.
absl::Status register_engine_methods(jsonrpc::MethodRegistry& registry, const EngineView& view);

// The result of server.info.
jsonrpc::json server_info_json(const EngineView& view, Nanos now);
// The result of stats.get: every worker, or only `worker` if given (the
// caller checks the index). Also the data of the periodic "stats" event.
jsonrpc::json stats_json(const EngineView& view, Nanos now, std::optional<int> worker);
// Non-zero drop counters by reason name, plus "total".
jsonrpc::json drops_json(const DropCounters& d);

// TURN URIs (RFC 7065) for the listening endpoints, deduplicated, in order:
// "turn:127.0.0.1:3478?transport=udp", "turn:[::1]:3478?transport=udp". A
// wildcard listening address is replaced by each `relay_addresses` entry of
// its family (what a client can reach), or skipped when there is none.
std::vector<std::string> turn_uris(const std::vector<Endpoint>& listen,
                                   const std::vector<Endpoint>& relay_addresses);
// The result of turn.credentials: REST credentials for `user` valid `ttl_s`
// seconds from `unix_now_s`, minted with the first REST secret.
// FailedPrecondition when TURN or REST secrets are not configured;
// InvalidArgument naming params.user for an unusable user name.
absl::StatusOr<jsonrpc::json> turn_credentials_json(const TurnCredentialsView& turn,
                                                    absl::string_view user, int64_t ttl_s,
                                                    int64_t unix_now_s);

}  // namespace tern
