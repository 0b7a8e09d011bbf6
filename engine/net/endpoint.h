// Endpoint: an IP address and UDP port, IPv4 or IPv6, in network byte order.
//
// Plain value type, trivially copyable, so it can sit inside Packet metadata and
// hash tables on the hot path without allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tern {

enum class Family : uint8_t { kNone = 0, kIpv4 = 4, kIpv6 = 6 };

struct Endpoint {
  Family family = Family::kNone;
  uint16_t port = 0;   // host byte order
  uint8_t addr[16]{};  // IPv4 uses addr[0..3]; network byte order

  static Endpoint v4(uint32_t addr_host_order, uint16_t port);
  static Endpoint v6(const uint8_t addr[16], uint16_t port);
  // Parses "1.2.3.4:5", "[::1]:5", or an address without port (port 0).
  static absl::StatusOr<Endpoint> parse(absl::string_view text);

  bool is_v4() const { return family == Family::kIpv4; }
  bool is_v6() const { return family == Family::kIpv6; }
  uint32_t v4_host_order() const {
    return (uint32_t{addr[0]} << 24) | (uint32_t{addr[1]} << 16) | (uint32_t{addr[2]} << 8) |
           addr[3];
  }
  size_t addr_len() const { return is_v4() ? 4 : (is_v6() ? 16 : 0); }
  bool same_addr(const Endpoint& o) const {
    return family == o.family && std::memcmp(addr, o.addr, addr_len()) == 0;
  }
  bool operator==(const Endpoint& o) const { return same_addr(o) && port == o.port; }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }

  // "1.2.3.4:5" or "[::1]:5".
  std::string to_string() const;
  std::string addr_string() const;

  template <typename H>
  friend H AbslHashValue(H h, const Endpoint& e) {
    return H::combine(H::combine_contiguous(std::move(h), e.addr, e.addr_len()), e.family, e.port);
  }
};

}  // namespace tern
