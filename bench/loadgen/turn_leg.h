// tern-loadgen: an emulated endpoint reaching the server through a TURN
// relay (RFC 8656), as a browser with iceTransportPolicy 'relay' does: one
// UDP allocation with long-term credentials (401 -> realm/nonce -> signed
// Allocate; 438 -> new nonce), then ChannelBind to the server's media
// address (which also installs the permission), then everything — ICE,
// DTLS, SRTP — as ChannelData on that channel.
//
// Sans-IO: the Peer hands it the TURN server's responses and sends what it
// returns; tick() retransmits the pending request.
//
// Deferred peer (the relay scenario, relay_pair.h): the peer's address is
// not known until the allocation exists, because the peer's flow is opened
// towards the relayed address. Such a leg stops after the Allocate
// (allocated(), relayed() from XOR-RELAYED-ADDRESS) until set_peer() starts
// the ChannelBind. No Refresh: the allocation lives the server's default
// lifetime (600 s, RFC 8656 §7.2), the permission the ChannelBind installs
// 300 s (§9), so callers bound their runs below that.
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
  // Deferred peer: stops once allocated(); set_peer() binds the channel.
  TurnLeg(TurnConfig cfg, uint32_t id);
  // The first Allocate (unauthenticated: the server answers 401 with its
  // realm and nonce). Returns its length in out (0 on a writer error).
  size_t start(uint8_t* out, size_t cap, Nanos now);
  // A STUN message from the TURN server; may write the next request into out
  // (*out_len > 0). Failures are final: failed() and failure().
  void on_response(const stun::StunMessage& m, uint8_t* out, size_t cap, size_t* out_len);
  // The pending request again when its retransmission time has come.
  size_t tick(uint8_t* out, size_t cap, Nanos now);

  // Deferred peer: the ChannelBind to `peer` (its length in out; 0 when not
  // allocated yet, already given, or on a writer error).
  size_t set_peer(const Endpoint& peer, uint8_t* out, size_t cap, Nanos now);

  // A signed Refresh with LIFETIME 0 (RFC 8656 §7.2: deletes the
  // allocation), so a run does not leave its allocations to expire on the
  // server; sent once, never retransmitted, its answer not awaited. 0 when
  // nothing was allocated or there is no key yet.
  size_t release(uint8_t* out, size_t cap);

  bool allocated() const { return relayed_.has_value(); }
  // The allocation's relayed transport address (XOR-RELAYED-ADDRESS of the
  // Allocate success); unset before it, or when the server left it out
  // (only a deferred-peer leg treats that as a failure).
  const std::optional<Endpoint>& relayed() const { return relayed_; }
  // LIFETIME of the Allocate success in seconds (0: not given).
  uint32_t lifetime_s() const { return lifetime_s_; }
  bool ready() const { return phase_ == Phase::kReady; }
  bool failed() const { return phase_ == Phase::kFailed; }
  const std::string& failure() const { return failure_; }
  Nanos next_timeout() const { return next_retx_; }

  // ChannelData framing (no padding: over UDP it is optional, §12.5).
  static void write_header(uint8_t* hdr, size_t payload_len);
  // The payload of a ChannelData message on our channel, or nullptr.
  static const uint8_t* payload(const uint8_t* d, size_t n, size_t* len);

 private:
  // kAllocated: a deferred-peer leg waiting for set_peer() (nothing pending).
  enum class Phase { kAllocate, kAllocated, kChannelBind, kReady, kFailed };
  size_t write_request(uint8_t* out, size_t cap);
  // USERNAME, REALM, NONCE and MESSAGE-INTEGRITY with the long-term key.
  void sign(stun::StunWriter& w) const;
  void fail(std::string why);

  TurnConfig cfg_;
  Endpoint peer_;
  bool deferred_ = false;  // no peer until set_peer()
  uint32_t id_;
  std::optional<Endpoint> relayed_;
  bool have_allocation_ = false;  // the Allocate succeeded (release() has something to delete)
  uint32_t lifetime_s_ = 0;
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
