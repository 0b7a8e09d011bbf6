// Which peer addresses a TURN allocation may talk to (RFC 8656 §21.2.3 and
// the "TURN server as an open proxy into the operator's network" problem).
//
// Default: every public unicast address is allowed; these are refused with
// 403 Forbidden (CreatePermission, ChannelBind) and never reached by Send:
//   IPv4: 0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10 (CGNAT), 127.0.0.0/8,
//         169.254.0.0/16 (link-local, incl. the cloud metadata service
//         169.254.169.254), 172.16.0.0/12, 192.0.0.0/24 (IETF assignments),
//         192.168.0.0/16, 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved,
//         incl. broadcast 255.255.255.255)
//   IPv6: ::/128, ::1/128, ::/96 (v4-compatible), ::ffff:0:0/96 (v4-mapped),
//         64:ff9b:1::/48 (local-use NAT64), fc00::/7 (ULA, incl. the EC2
//         metadata service fd00:ec2::254), fe80::/10 (link-local),
//         ff00::/8 (multicast)
// Operator overrides: `deny` CIDRs are refused first, then `allow` CIDRs are
// accepted (tests allow 127.0.0.0/8 to reach a local peer), then the default
// list above applies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/net/endpoint.h"

namespace tern {

struct Cidr {
  Endpoint net;  // address (port unused), host bits cleared
  uint8_t bits = 0;

  // "10.0.0.0/8", "fd00::/8", or a bare address (a /32 or /128).
  static absl::StatusOr<Cidr> parse(absl::string_view text);
  bool contains(const Endpoint& ep) const;
  std::string to_string() const;
};

class PeerPolicy {
 public:
  PeerPolicy(std::vector<Cidr> allow, std::vector<Cidr> deny);
  bool allowed(const Endpoint& peer) const;
  // True if `peer` is in the built-in deny list (ignores allow/deny).
  static bool default_denied(const Endpoint& peer);

 private:
  std::vector<Cidr> allow_, deny_;
};

}  // namespace tern
