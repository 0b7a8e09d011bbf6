// WebRTC transports on the control socket: transport.create / connect /
// restart_ice / close / get, and the "transport.state" event (docs/control-protocol.md).
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
#include <optional>
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
#include "engine/stun/ice_candidate.h"
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

// What the SFU layer (control/room_methods.h) learns about transports: a
// transport of a room is placed on the room's worker, and its closing or
// failing cleans the producers, consumers and sessions on it. Called on the
// main thread, from inside TransportManager calls (an observer may call
// TransportManager back, e.g. close_transport from transport_event).
class TransportObserver {
 public:
  virtual ~TransportObserver() = default;
  // The worker of `room` (transport.create room=...); NotFound naming it.
  virtual absl::StatusOr<uint16_t> room_worker(const std::string& room) = 0;
  virtual void transport_added(uint64_t id, const std::string& room) = 0;
  // After the record is gone (transport.close, close_transport).
  virtual void transport_closed(uint64_t id, const std::string& room) = 0;
  // A transport event after it was published as "transport.state";
  // `failure`: ICE/DTLS failed or the worker refused it; kClosed: the peer
  // closed it (close_notify). Not called for transports already closed.
  virtual void transport_event(const sfu::TransportEvent& ev, bool failure) = 0;
  // kProducerClosed, kConsumerClosed, kConsumerLayerChanged from `worker`.
  virtual void sfu_event(uint16_t worker, const sfu::TransportEvent& ev) = 0;
};

// transport.create options, for C++ callers (sessions).
struct TransportOptions {
  std::optional<uint16_t> worker;                // nullopt: the room's, else least loaded
  std::string room;                              // "" = in no room
  std::optional<ice::IceCredentials> local_ice;  // nullopt: generated
  std::optional<ice::IceCredentials> remote_ice;
  std::optional<Fingerprint> remote_fingerprint;
  DtlsRole role = DtlsRole::kServer;
  bool echo = false;
  // Data channels (SDP m=application); nullopt = none.
  std::optional<sfu::SctpTransportConfig> sctp;
};

struct TransportInfo {
  uint64_t id = 0;
  uint16_t worker = 0;
  ice::IceCredentials local_ice;
  std::vector<ice::IceCandidate> candidates;
};

class TransportManager {
 public:
  using Publish = std::function<void(absl::string_view topic, const jsonrpc::json& data)>;

  TransportManager(std::vector<Worker*> workers, const PacketDriver* driver,
                   std::shared_ptr<const DtlsContext> dtls);

  // transport.create, transport.connect, transport.restart_ice,
  // transport.close, transport.get.
  absl::Status register_methods(jsonrpc::MethodRegistry& registry);
  // Drains every worker's event ring; each event updates the record and is
  // published as topic "transport.state". Returns how many were handled.
  size_t poll_events(const Publish& publish);
  size_t size() const { return records_.size(); }

  // --- C++ API (sessions, rooms) ---
  void set_observer(TransportObserver* o) { observer_ = o; }
  absl::StatusOr<TransportInfo> create_transport(const TransportOptions& o);
  // Posts the close to the worker and forgets the transport (observer told).
  // NotFound for an unknown id.
  absl::Status close_transport(uint64_t id);
  // Host candidates of a worker's UDP endpoints (wildcards skipped).
  absl::StatusOr<std::vector<ice::IceCandidate>> candidates_for(uint16_t worker) const;
  bool has(uint64_t id) const { return records_.count(id) != 0; }
  // -1 for an unknown id.
  int worker_of(uint64_t id) const;
  // "" for an unknown id or a transport in no room.
  std::string room_of(uint64_t id) const;
  // Transports on each worker (including ones still in flight).
  std::vector<size_t> load() const;
  size_t num_workers() const { return workers_.size(); }
  Worker* worker(uint16_t w) const { return workers_[w]; }
  const DtlsContext& dtls() const { return *dtls_; }

  // Handlers, public for unit tests.
  absl::StatusOr<jsonrpc::json> create(const jsonrpc::json& params);
  absl::StatusOr<jsonrpc::json> connect(const jsonrpc::json& params);
  // transport.restart_ice {id, remote_ice_ufrag, remote_ice_pwd}: new local
  // credentials generated here, sent with the peer's to the worker (ICE
  // restart, RFC 8445 §9; DTLS and SRTP are kept); returns {id, ice_ufrag,
  // ice_pwd} (the new local ones, for the answer SDP).
  absl::StatusOr<jsonrpc::json> restart_ice(const jsonrpc::json& params);
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
    std::string room;
    std::shared_ptr<sfu::WebRtcTransportStats> stats;
  };
  jsonrpc::json record_json(const Record& r) const;
  absl::StatusOr<Record*> find(const jsonrpc::json& params);

  std::vector<Worker*> workers_;
  const PacketDriver* driver_;
  std::shared_ptr<const DtlsContext> dtls_;
  std::map<uint64_t, Record> records_;
  uint64_t next_id_ = 1;
  TransportObserver* observer_ = nullptr;
};

}  // namespace tern
