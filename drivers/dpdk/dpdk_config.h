// The [dpdk] section of ternd's TOML config, parsed and validated.
//
// Setup code only (control plane): every error names the key and the bad value.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/net/endpoint.h"
#include "engine/net/ip_prefix.h"

namespace tern {

// An address with its on-link prefix ("198.18.0.1/24", "2001:2::1/64").
struct DpdkPortConfig {
  std::optional<uint16_t> port_id;   // `port = N`
  std::string name;                  // `name = "net_af_packet0"` (when no port id)
  std::optional<IpPrefix> ipv4;      // `ipv4 = "a.b.c.d/len"`
  std::optional<IpPrefix> ipv6;      // `ipv6 = "x::y/len"`
  std::optional<Endpoint> gateway4;  // `gateway = "a.b.c.d"`: next hop for off-link IPv4
  std::optional<Endpoint> gateway6;  // `gateway6 = "x::y"`: next hop for off-link IPv6
  std::string key;                   // "dpdk.ports[i]", for messages
};

struct DpdkConfig {
  std::vector<std::string> eal_args;
  uint32_t mbufs = 8191;  // mbufs per NUMA socket pool
  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint32_t link_wait_ms = 3000;      // how long setup waits for link up (then goes on)
  uint32_t neighbor_entries = 1024;  // per queue and port; rounded up to a power of two
  std::vector<DpdkPortConfig> ports;
};

// Parses the [dpdk] table. Unknown keys are errors (a typo must not silently
// fall back to a default).
// `source` names the config file in messages ("" for tables built in code).
absl::StatusOr<DpdkConfig> parse_dpdk_config(const toml::table& section,
                                             const std::string& source = "");

}  // namespace tern
