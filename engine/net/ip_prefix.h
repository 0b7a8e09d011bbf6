// An IP prefix ("198.18.0.0/15", "2001:2::/48"): an address and a length in
// bits. Used for interface subnets (DPDK ports) and address policies (TURN
// peer ranges).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/net/endpoint.h"

namespace tern {

struct IpPrefix {
  Endpoint addr;       // port unused (0); host bits are kept as written
  uint8_t length = 0;  // prefix length in bits

  // Parses "addr/len". `want` kNone accepts either family; a bare address
  // without "/len" is accepted only when `allow_bare` (then a host prefix).
  static absl::StatusOr<IpPrefix> parse(absl::string_view text, Family want = Family::kNone,
                                        bool allow_bare = false);
  bool contains(const Endpoint& ip) const;
  std::string to_string() const;
};

}  // namespace tern
