// Host candidates of an ICE-lite agent (RFC 8445 §5.1) and their SDP form
// (RFC 8839 §5.1): "candidate:<foundation> 1 udp <priority> <ip> <port> typ host".
//
// A lite agent gathers host candidates only. Behind a 1:1 NAT (cloud VMs,
// Kubernetes) the address a peer must use (`announced`) differs from the
// address the socket or NIC queue is bound to (`base`): the SDP carries the
// announced one, while the demux and the agent's candidate pairs use the
// real local address packets arrive on (Packet::local), which is the base.
// Control plane only (allocates).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/net/endpoint.h"

namespace tern {
namespace ice {

// RFC 8445 §5.1.2.2 recommended type preference for host candidates.
inline constexpr uint32_t kHostTypePreference = 126;

// RFC 8445 §5.1.2.1: 2^24 * type + 2^8 * local + (256 - component).
// type_preference 0..126, component 1..256.
constexpr uint32_t candidate_priority(uint32_t type_preference, uint32_t local_preference,
                                      uint32_t component) {
  return (type_preference << 24) | ((local_preference & 0xFFFF) << 8) | (256 - component);
}

struct IceCandidate {
  std::string foundation;  // 1..32 ice-chars
  uint32_t component = 1;  // 1 = RTP (tern always uses rtcp-mux, so only 1)
  uint32_t priority = 0;
  Endpoint announced;  // what the SDP says: address and port the peer sends to
  Endpoint base;       // what packets arrive on (== announced without NAT)

  // "candidate:1234 1 udp 2130706431 198.18.0.1 40000 typ host" (no "a=", no CRLF).
  std::string to_sdp() const;
  // "a=" + to_sdp().
  std::string to_sdp_attribute() const { return "a=" + to_sdp(); }
};

// Where a lite agent listens: the bound address and the address to announce
// (an unset `announced`, family kNone, means "same as bound").
struct HostAddress {
  Endpoint bound;
  Endpoint announced;
};

// One host candidate per address, in the order given: the first gets the
// highest local preference (65535, then 65534, ...), so list preferred
// addresses first (RFC 8421 suggests interleaving IPv6 and IPv4, IPv6 first).
// The foundation hashes the base address (RFC 8445 §5.1.1.3: same type and
// base IP -> same foundation). Errors name the offending address: no family,
// port 0, unspecified (0.0.0.0 / ::) announced address, more than 65536.
absl::StatusOr<std::vector<IceCandidate>> host_candidates(absl::Span<const HostAddress> addrs,
                                                          uint32_t component = 1);

}  // namespace ice
}  // namespace tern
