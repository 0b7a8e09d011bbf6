// Data channels on the control socket (docs/control-protocol.md,
// docs/datachannels.md): datachannel.send, and the events
// "datachannel.open", "datachannel.close", "datachannel.message",
// "datachannel.error" drained from the workers' data event rings.
//
// Also the session glue: sctp_config() turns a negotiated m=application
// section into the transport's SCTP config, join_room() puts a transport in
// its room's data group (WorkerCommand kAddDataConsumer) so channels are
// relayed between the room's participants (engine/sfu/data_router.h).
//
// Single-threaded: ternd's main thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/jsonrpc_registry.h"
#include "control/sdp/sdp_negotiate.h"
#include "control/transport_methods.h"
#include "engine/sfu/data_channel.h"

namespace tern {

// The accepted data-channel section of a negotiation, as the transport's SCTP
// config; nullopt when the offer had none (or it was refused).
std::optional<sfu::SctpTransportConfig> sctp_config(const sdp::NegotiationResult& r);

// The data group of a room (a stable hash of its name; never 0).
uint64_t data_group_of(const std::string& room);

// Puts transport `id` (with SCTP) in `room`'s data group (kAddDataConsumer).
// Unavailable when the worker's ring is full; NotFound for an unknown transport.
absl::Status join_data_room(TransportManager& transports, uint64_t transport_id,
                            const std::string& room);

class DataChannelManager {
 public:
  using Publish = TransportManager::Publish;
  explicit DataChannelManager(TransportManager& transports) : transports_(transports) {}

  absl::Status register_methods(jsonrpc::MethodRegistry& registry);
  // Drains every worker's data events and publishes them. Returns how many.
  size_t poll_events(const Publish& publish);

  // datachannel.send {transport_id, label | stream, text | binary_b64}.
  absl::StatusOr<jsonrpc::json> send(const jsonrpc::json& p);

  // Every topic topic_of() can return, for the control server's topic list.
  static constexpr const char* kTopics[] = {"datachannel.open", "datachannel.close",
                                            "datachannel.message", "datachannel.error"};

  // An event as published (topic, data); public for unit tests.
  static std::string topic_of(const sfu::DataEvent& ev);
  static jsonrpc::json event_json(const sfu::DataEvent& ev);

 private:
  TransportManager& transports_;
};

}  // namespace tern
