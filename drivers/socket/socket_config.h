// Parsing of the [socket] table of ternd's config (docs/configuration.md).
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/net/endpoint.h"

namespace tern {

struct SocketConfig {
  // Addresses to bind (port 0 here: the port comes from [udp] base_port).
  std::vector<Endpoint> addresses;
  // True when `addresses` came from the defaults: an unavailable ::1 (IPv6
  // disabled on the host) is then skipped instead of failing startup.
  bool addresses_defaulted = true;
  bool gro = true;          // UDP_GRO on receive where the kernel has it
  bool gso = true;          // UDP_SEGMENT on send where the kernel has it
  uint32_t buffers = 4096;  // packet buffers per queue
};

inline constexpr uint32_t kSocketMinBuffers = 32;
inline constexpr uint32_t kSocketMaxBuffers = 1u << 20;

// Errors name the key and the bad value: "socket.addresses[1]: not an IPv4 or
// IPv6 address: 'x'".
absl::StatusOr<SocketConfig> parse_socket_config(const toml::table& section);

}  // namespace tern
