// tern-loadgen: an emulated endpoint reaching the server through a TURN
// relay (RFC 8656), as a browser with iceTransportPolicy 'relay' does: one
// UDP allocation with long-term credentials (401 -> realm/nonce -> signed
// Allocate; 438 -> new nonce), then ChannelBind to the server's media
// address (which also installs the permission), then everything — ICE,
// DTLS, SRTP — as ChannelData on that channel.
//
// Sans-IO: the Peer hands it the TURN server's responses and sends what it
// returns; tick() retransmits the pending request.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"

namespace tern::loadgen {

struct TurnConfig {
  Endpoint server;  // the TURN server (UDP)
  std::string user, password;
};

class TurnLeg {
 public:
  static constexpr uint16_t kChannel = 0x4000;
  static constexpr size_t kHeader = 4;  // ChannelData: channel, length

  TurnLeg(TurnConfig cfg, Endpoint peer, uint32_t id);
  // The first Allocate (unauthenticated: the server answers 401 with its
  // realm and nonce). Returns its length in out (0 on a writer error).
  size_t start(uint8_t* out, size_t cap, Nanos now);
  // A STUN message from the TURN server; may write the next request into out
  // (*out_len > 0). Failures are final: failed() and failure().
  void on_response(const stun::StunMessage& m, uint8_t* out, size_t cap, size_t* out_len);
  // The pending request again when its retransmission time has come.
  size_t tick(uint8_t* out, size_t cap, Nanos now);

  bool ready() const { return phase_ == Phase::kReady; }
  bool failed() const { return phase_ == Phase::kFailed; }
  const std::string& failure() const { return failure_; }
  Nanos next_timeout() const { return next_retx_; }

  // ChannelData framing (no padding: over UDP it is optional, §12.5).
  static void write_header(uint8_t* hdr, size_t payload_len);
  // The payload of a ChannelData message on our channel, or nullptr.
  static const uint8_t* payload(const uint8_t* d, size_t n, size_t* len);

 private:
  enum class Phase { kAllocate, kChannelBind, kReady, kFailed };
  size_t write_request(uint8_t* out, size_t cap);
  void fail(std::string why);

  TurnConfig cfg_;
  Endpoint peer_;
  uint32_t id_;
  Phase phase_ = Phase::kAllocate;
  std::string realm_, nonce_;
  std::optional<MessageIntegrity> key_;
  uint32_t serial_ = 0;
  uint8_t txid_[12] = {};
  int attempts_ = 0, stale_ = 0;
  Nanos next_retx_ = 0;
  std::string failure_;
};

}  // namespace tern::loadgen
