#include "drivers/socket/socket_config.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace tern {
namespace {

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

absl::StatusOr<Endpoint> parse_address(const std::string& key, const toml::node& n) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": expected a string address, got ", type_name(n)));
  }
  const std::string& text = s->get();
  Endpoint e;
  if (inet_pton(AF_INET, text.c_str(), e.addr) == 1) {
    e.family = Family::kIpv4;
  } else if (inet_pton(AF_INET6, text.c_str(), e.addr) == 1) {
    e.family = Family::kIpv6;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(key, ": not an IPv4 or IPv6 address: '", text, "'"));
  }
  return e;
}

absl::Status parse_bool(const toml::table& t, const char* name, bool* out) {
  const toml::node* n = t.get(name);
  if (n == nullptr) return absl::OkStatus();
  const auto* b = n->as_boolean();
  if (b == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket.", name, ": expected true or false, got ", type_name(*n)));
  }
  *out = b->get();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SocketConfig> parse_socket_config(const toml::table& section) {
  SocketConfig cfg;
  for (const auto& [key, value] : section) {
    const std::string_view k = key.str();
    if (k != "addresses" && k != "gro" && k != "gso" && k != "buffers") {
      return absl::InvalidArgumentError(absl::StrCat(
          "socket.", std::string(k), ": unknown key (expected addresses, gro, gso or buffers)"));
    }
  }

  if (const toml::node* n = section.get("addresses")) {
    const auto* arr = n->as_array();
    if (arr == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("socket.addresses: expected an array of strings, got ", type_name(*n)));
    }
    if (arr->empty()) {
      return absl::InvalidArgumentError("socket.addresses: empty (need at least one address)");
    }
    cfg.addresses_defaulted = false;
    for (size_t i = 0; i < arr->size(); ++i) {
      const std::string key = absl::StrCat("socket.addresses[", i, "]");
      absl::StatusOr<Endpoint> e = parse_address(key, *arr->get(i));
      if (!e.ok()) return e.status();
      for (size_t j = 0; j < cfg.addresses.size(); ++j) {
        if (cfg.addresses[j].same_addr(*e)) {
          return absl::InvalidArgumentError(absl::StrCat(
              key, ": duplicate address '", e->addr_string(), "' (also at [", j, "])"));
        }
      }
      cfg.addresses.push_back(*e);
    }
  } else {
    static const uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    cfg.addresses = {Endpoint::v4(0x7f000001, 0), Endpoint::v6(kLoop6, 0)};
  }

  if (absl::Status s = parse_bool(section, "gro", &cfg.gro); !s.ok()) return s;
  if (absl::Status s = parse_bool(section, "gso", &cfg.gso); !s.ok()) return s;

  if (const toml::node* n = section.get("buffers")) {
    const auto* v = n->as_integer();
    if (v == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("socket.buffers: expected an integer, got ", type_name(*n)));
    }
    const int64_t b = v->get();
    if (b < kSocketMinBuffers || b > kSocketMaxBuffers) {
      return absl::InvalidArgumentError(absl::StrCat("socket.buffers: ", b, " out of range [",
                                                     kSocketMinBuffers, ", ", kSocketMaxBuffers,
                                                     "]"));
    }
    cfg.buffers = static_cast<uint32_t>(b);
  }
  return cfg;
}

}  // namespace tern
