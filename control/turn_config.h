// The [turn] section of ternd's configuration (docs/configuration.md,
// docs/turn.md) and how it becomes one TurnServerConfig per worker.
//
// Control-plane code: runs once at startup on the main thread.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/net/endpoint.h"
#include "engine/turn/turn_server.h"

namespace tern {

struct TurnConfig {
  bool enabled = false;
  std::string realm = "tern";
  std::vector<std::pair<std::string, std::string>> users;  // from "user:password"
  std::vector<std::string> rest_secrets;                   // first = current, others accepted
  std::vector<Endpoint> relay_addresses;                   // empty: the driver's concrete addresses
  uint16_t relay_port_min = 49152;                         // split evenly between workers
  uint16_t relay_port_max = 65535;
  std::vector<Cidr> allow_peers, deny_peers;
  uint32_t max_allocations = 1024;  // per worker
  uint32_t max_allocations_per_user = 16;
  uint64_t bandwidth_bytes_per_s = 0;  // per allocation; 0 = unlimited
  uint32_t max_lifetime_s = 3600;
  uint32_t nonce_lifetime_s = 600;
  // TURN over TCP / TLS (drivers/socket/tcp_turn_listener.h): "address:port"
  // each; every worker listens on them (SO_REUSEPORT).
  std::vector<Endpoint> tcp_listen, tls_listen;
  std::string tls_cert, tls_key;        // PEM files; both empty: self-signed at startup
  uint32_t tcp_max_connections = 1024;  // per worker, TCP + TLS
  uint32_t tcp_idle_timeout_s = 300;    // no bytes from the client (and no live allocation)
};

// Parses [turn]; `source` names the file in errors ("FILE:LINE: turn.key: ...").
absl::StatusOr<TurnConfig> parse_turn_config(const toml::table& section,
                                             absl::string_view source = "");

// The TurnServerConfig of worker `index` of `workers`: its share of the
// relayed port range, relay addresses (given, or the concrete ones among
// `listen` when none are), the process `secret`. Errors: range too small for
// the workers, a listening port inside the relay range, no usable relay
// address (wildcard listening address and no turn.relay_addresses).
absl::StatusOr<TurnServerConfig> turn_server_config_for_worker(const TurnConfig& cfg,
                                                               uint16_t index, uint16_t workers,
                                                               const std::vector<Endpoint>& listen,
                                                               const std::vector<uint8_t>& secret,
                                                               std::string software);

// 32 random bytes from the kernel (getrandom): the per-process nonce and
// reservation-token secret every worker shares.
absl::StatusOr<std::vector<uint8_t>> random_turn_secret();

// ternd's output: the banner line of one worker's TURN server, and its final
// counters (several lines, each starting with `indent`).
std::string turn_banner_line(const TurnServer& t);
std::string turn_final_counters(const TurnServer& t, absl::string_view indent);

}  // namespace tern
