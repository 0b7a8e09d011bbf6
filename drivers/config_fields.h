// Typed, range-checked reads of one TOML section of ternd's configuration.
//
// Every config parser (ternd's [engine]/[udp]/[driver], each driver's own
// section, later services) reads its keys through ConfigSection so that every
// error has one shape: "FILE:LINE: section.key: what is wrong, got VALUE".
// Absent keys leave the output untouched (the caller's default stands).
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/net/endpoint.h"
#include "engine/net/ip_prefix.h"

namespace tern {

// "integer", "string", ... for messages.
const char* toml_type_name(const toml::node& n);
// A short rendering of a value for messages: strings quoted, long values cut.
std::string toml_show(const toml::node& n);
// "FILE:LINE: " when the node came from a file, "FILE: " (or "") otherwise.
std::string toml_where(absl::string_view source, const toml::node& n);

class ConfigSection {
 public:
  // `name` prefixes keys in messages ("socket", "dpdk.ports[0]"); `source`
  // names the file (or "" for tables built in code).
  ConfigSection(const toml::table& table, std::string name, std::string source = "")
      : table_(table), name_(std::move(name)), source_(std::move(source)) {}

  const toml::table& table() const { return table_; }
  const std::string& source() const { return source_; }
  // "section.key".
  std::string key_name(absl::string_view key) const;
  // An InvalidArgument error about `n` (found at `key`), with file and line.
  absl::Status error(const toml::node& n, absl::string_view key, absl::string_view what) const;

  // Fails on the first key not in `known`, listing the known ones.
  absl::Status only_keys(std::initializer_list<absl::string_view> known) const;

  absl::Status read_int(absl::string_view key, int64_t lo, int64_t hi, int64_t* out) const;
  template <typename T>
  absl::Status read_int(absl::string_view key, int64_t lo, int64_t hi, T* out) const {
    int64_t v = int64_t(*out);
    absl::Status s = read_int(key, lo, hi, &v);
    if (s.ok()) *out = static_cast<T>(v);
    return s;
  }
  absl::Status read_bool(absl::string_view key, bool* out) const;
  absl::Status read_string(absl::string_view key, std::string* out) const;
  // An array of strings; `allow_empty` false rejects [].
  absl::Status read_string_list(absl::string_view key, bool allow_empty,
                                std::vector<std::string>* out) const;
  // An IP address without port ("1.2.3.4", "::1"); `want` kNone accepts both families.
  absl::Status read_address(absl::string_view key, Family want, Endpoint* out) const;
  // An array of such addresses; duplicates and [] rejected.
  absl::Status read_address_list(absl::string_view key, std::vector<Endpoint>* out) const;
  // A prefix "addr/len" of family `want` (kNone: either); *present tells
  // whether the key was there.
  absl::Status read_prefix(absl::string_view key, Family want, IpPrefix* out, bool* present) const;
  // An array of prefixes of either family; a bare address means a host prefix.
  absl::Status read_prefix_list(absl::string_view key, std::vector<IpPrefix>* out) const;
  // An array of integers each in [lo, hi].
  absl::Status read_int_list(absl::string_view key, int64_t lo, int64_t hi,
                             std::vector<int64_t>* out) const;

 private:
  absl::Status parse_address(const toml::node& n, absl::string_view key, Family want,
                             Endpoint* out) const;

  const toml::table& table_;
  std::string name_;
  std::string source_;
};

}  // namespace tern
