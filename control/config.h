// ternd's configuration: a TOML file (docs/configuration.md) overridden by
// command-line flags (ternd --help).
//
// [engine], [udp] and [driver] are validated here: wrong types, out-of-range
// values and unknown keys are errors that name the key, the value and the
// file line, so a typo never passes silently. [socket] and [dpdk] are handed
// as-is to the driver factories, which validate their own keys.
//
// Control-plane code: runs once at startup on the main thread.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tern {

inline constexpr int kMaxWorkers = 64;

struct TerndConfig {
  // [engine]
  uint16_t workers = 1;
  std::vector<int> cores;  // empty: not pinned; else one CPU per worker
  uint32_t idle_spin_us = 50;
  uint32_t idle_max_sleep_us = 1000;  // 0: never sleep (pure busy polling)
  uint32_t stats_interval_s = 0;      // 0: counters at exit only
  // [udp]
  uint16_t base_port = 3478;
  // [driver]
  std::string driver = "socket";  // "socket" or "dpdk"
  // [control] (docs/control-protocol.md). control_socket: nullopt = the
  // default path (default_control_socket(); if another ternd holds it, ternd
  // warns and runs without one); "" = no Unix socket; else this path, which
  // must be free.
  std::optional<std::string> control_socket;
  std::string control_tcp;    // "ADDR:PORT"; "" = no TCP listener
  std::string control_token;  // bearer token, required with control_tcp
  // Driver sections, unvalidated here.
  toml::table socket;
  toml::table dpdk;
  // [turn], validated by control/turn_config.h (ternd).
  toml::table turn;
  // [dtls] (cert/key), validated by control/transport_methods.h (ternd).
  toml::table dtls;
  // [http] (WHIP/WHEP listener), validated by control/http_gateway.h (ternd).
  toml::table http;

  std::string source = "(built-in defaults)";  // where it came from, for messages
};

// Parses TOML text (`source` names it in errors) and validates [engine],
// [udp] and [driver]. Does not apply the cross-field checks of validate().
absl::StatusOr<TerndConfig> parse_config(absl::string_view toml_text, absl::string_view source);
absl::StatusOr<TerndConfig> load_config_file(const std::string& path);

// Cross-field checks: one CPU per worker, no CPU twice, ports in range.
absl::Status validate_config(const TerndConfig& cfg);

struct CommandLine {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  TerndConfig config;
};

// Parses argv: reads --config FILE (if given), applies the other flags over
// it, validates the result. Errors name the flag or key.
absl::StatusOr<CommandLine> parse_command_line(int argc, char* const* argv);

// The --help text: every flag, and a pointer to docs/configuration.md.
std::string usage_text();

// Parses "0,2,4-7" (CPU ids and ranges). `what` names the source in errors.
absl::StatusOr<std::vector<int>> parse_cpu_list(absl::string_view text, absl::string_view what);

}  // namespace tern
