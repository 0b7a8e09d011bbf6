// tern-loadgen: a blocking JSON-RPC 2.0 client for ternd's Unix control
// socket (docs/control-protocol.md: one JSON text per line). Control plane
// of the load generator only: calls happen between measurement windows.
#pragma once
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace tern::loadgen {

class ControlClient {
 public:
  ~ControlClient();
  absl::Status connect(const std::string& path);
  // Sends one request and waits (at most timeout_ms) for the response with
  // its id; events in between are skipped. A JSON-RPC error becomes a status
  // naming the method, code, message and data.
  absl::StatusOr<nlohmann::json> call(const std::string& method, const nlohmann::json& params,
                                      int timeout_ms = 10000);

 private:
  int fd_ = -1;
  long next_id_ = 1;
  std::string buf_;  // bytes received after the last complete line
};

}  // namespace tern::loadgen
