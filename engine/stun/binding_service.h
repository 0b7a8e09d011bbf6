// StunBindingService: answers STUN Binding requests (RFC 8489 §3, §6.3) in
// place, the "what is my address" service every ICE agent and TURN client
// uses. One per worker, called for every datagram classified as STUN.
//
// Behaviour (each drop is counted under a tern::Drop reason):
//   - Binding request -> success response, same transaction id, with
//     XOR-MAPPED-ADDRESS = pkt->remote, SOFTWARE (if configured), FINGERPRINT.
//   - request with unknown comprehension-required attributes -> 420 error
//     response with UNKNOWN-ATTRIBUTES (§6.3.1.1), SOFTWARE, FINGERPRINT.
//   - does not parse (header, cookie, length, attribute walk) -> kMalformedStun.
//     This includes RFC 3489 requests (no magic cookie): §11's backwards
//     compatibility is optional, browsers and ICE agents all speak RFC 5389+,
//     and on a port shared with DTLS and RTP the cookie is what tells STUN
//     from noise, so tern does not answer cookie-less datagrams.
//   - FINGERPRINT present but wrong -> kStunFingerprint (§14.7).
//   - request of another method -> kStunUnknownMethod: §6.3 says a message
//     whose method is not supported is silently discarded (no 400).
//   - Binding indication -> counted in `indications`, no response (§6.3.2).
//   - responses (success or error) -> kStunUnknownMethod: this service sends
//     no requests, so no transaction can match (§6.3.3).
//   - pkt->remote with no address family -> kUnsupportedL3 (driver bug).
//   - buffer too small for the response -> kNoBuffer, packet left untouched.
// No authentication: this is the plain binding-discovery usage. USERNAME and
// MESSAGE-INTEGRITY in a request are ignored; the ICE-lite agent checks them.
#pragma once

#include <string>

#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"

namespace tern {

// Written by the owning worker thread only; read by anyone (relaxed atomics).
struct StunServiceStats {
  Counter requests;     // Binding requests accepted (answered or failed for room)
  Counter responses;    // responses written (success and error)
  Counter indications;  // Binding indications received
  DropCounters drops;
};

struct StunServiceConfig {
  // SOFTWARE attribute value; empty = omit. Cut to fewer than 128 characters
  // (§14.14) on a UTF-8 boundary.
  std::string software = "tern";
};

class StunBindingService {  // one per worker, never shared between threads
 public:
  explicit StunBindingService(StunServiceConfig cfg = {});

  // pkt->data() holds a datagram classified as STUN (first byte 0..3),
  // pkt->remote is the sender. Returns true if the packet buffer was
  // rewritten IN PLACE into the response (send it back: remote/local
  // unchanged); false if it must be freed (drop counted in stats() with a
  // tern::Drop reason, or a Binding indication counted).
  bool handle(Packet* pkt, Nanos now);

  const StunServiceStats& stats() const { return stats_; }

 private:
  StunServiceConfig cfg_;
  StunServiceStats stats_;
};

}  // namespace tern
