// ternd's engine methods on the control socket: server.info and stats.get.
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
#include "control/jsonrpc_registry.h"
#include "drivers/driver.h"
#include "engine/net/nanos.h"
#include "engine/worker/worker.h"

namespace tern {

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
};

// Registers server.info and stats.get.
absl::Status register_engine_methods(jsonrpc::MethodRegistry& registry, const EngineView& view);

// The result of server.info.
jsonrpc::json server_info_json(const EngineView& view, Nanos now);
// The result of stats.get: every worker, or only `worker` if given (the
// caller checks the index). Also the data of the periodic "stats" event.
jsonrpc::json stats_json(const EngineView& view, Nanos now, std::optional<int> worker);
// Non-zero drop counters by reason name, plus "total".
jsonrpc::json drops_json(const DropCounters& d);

}  // namespace tern
