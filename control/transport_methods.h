// WebRTC transports on the control socket: transport.create / connect /
// close / get, and the "transport.state" event (docs/control-protocol.md).
//
// The control thread builds each transport (credentials, ICE agent, DTLS
// endpoint: everything that allocates or may fail) and hands it to its
// worker through the worker's command ring; the worker attaches it to its
// data path. State changes come back through the worker's event ring, which
// poll_events() drains from ternd's main loop and publishes. Counters are
// read straight from the transport's shared relaxed-atomic stats: no round
// trip to the worker.
//
// Single-threaded: ternd's main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/jsonrpc_methods.h"
#include "control/jsonrpc_registry.h"
#include "drivers/config_fields.h"
#include "drivers/driver.h"
#include "engine/dtls/dtls_endpoint.h"
#include "engine/sfu/webrtc_transport.h"
#include "engine/worker/worker.h"

namespace tern {

// [dtls] (docs/configuration.md): cert + key PEM files, or neither (a fresh
// ECDSA P-256 certificate at startup).
struct DtlsNodeConfig {
  std::string cert_file;
  std::string key_file;
};
absl::StatusOr<DtlsNodeConfig> parse_dtls_config(const toml::table& t, absl::string_view source);
// The node-wide certificate and DTLS context.
absl::StatusOr<std::shared_ptr<const DtlsContext>> make_dtls_context(const DtlsNodeConfig& cfg);

class TransportManager {
 public:
  using Publish = std::function<void(absl::string_view topic, const jsonrpc::json& data)>;

  TransportManager(std::vector<Worker*> workers, const PacketDriver* driver,
                   std::shared_ptr<const DtlsContext> dtls);

  // transport.create, transport.connect, transport.close, transport.get.
  absl::Status register_methods(jsonrpc::MethodRegistry& registry);
  // Drains every worker's event ring; each event updates the record and is
  // published as topic "transport.state". Returns how many were handled.
  size_t poll_events(const Publish& publish);
  size_t size() const { return records_.size(); }

  // Handlers, public for unit tests.
  absl::StatusOr<jsonrpc::json> create(const jsonrpc::json& params);
  absl::StatusOr<jsonrpc::json> connect(const jsonrpc::json& params);
  absl::StatusOr<jsonrpc::json> close(const jsonrpc::json& params);
  absl::StatusOr<jsonrpc::json> get(const jsonrpc::json& params) const;

 private:
  struct Record {
    uint64_t id = 0;
    uint16_t worker = 0;
    ice::IceCredentials local_ice;
    DtlsRole role = DtlsRole::kServer;
    bool echo = false;
    bool has_remote_fingerprint = false;
    std::string reason;  // failure reason from the last failure event
    bool failed = false;
    std::shared_ptr<sfu::WebRtcTransportStats> stats;
  };
  jsonrpc::json record_json(const Record& r) const;
  absl::StatusOr<Record*> find(const jsonrpc::json& params);

  std::vector<Worker*> workers_;
  const PacketDriver* driver_;
  std::shared_ptr<const DtlsContext> dtls_;
  std::map<uint64_t, Record> records_;
  uint64_t next_id_ = 1;
};

}  // namespace tern
