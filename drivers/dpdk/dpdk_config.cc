#include "drivers/dpdk/dpdk_config.h"

#include <toml++/toml.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tern {
namespace {

const char* family_name(Family f) { return f == Family::kIpv4 ? "IPv4" : "IPv6"; }

// Reads an optional integer key into *out, checking [lo, hi].
absl::Status read_int(const toml::table& t, const std::string& prefix, const char* key, int64_t lo,
                      int64_t hi, int64_t* out, bool* present = nullptr) {
  if (present) *present = false;
  const toml::node* n = t.get(key);
  if (!n) return absl::OkStatus();
  auto v = n->value<int64_t>();
  if (!v || !n->is_integer()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, key, ": expected an integer"));
  }
  if (*v < lo || *v > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, key, " = ", *v, ": must be between ", lo, " and ", hi));
  }
  *out = *v;
  if (present) *present = true;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> read_string(const toml::table& t,
                                                       const std::string& prefix, const char* key) {
  const toml::node* n = t.get(key);
  if (!n) return std::optional<std::string>();
  if (!n->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, key, ": expected a string"));
  }
  return std::optional<std::string>(*n->value<std::string>());
}

absl::StatusOr<std::optional<Endpoint>> read_addr(const toml::table& t, const std::string& prefix,
                                                  const char* key, Family want) {
  auto s = read_string(t, prefix, key);
  if (!s.ok()) return s.status();
  if (!s->has_value()) return std::optional<Endpoint>();
  auto e = Endpoint::parse(**s);
  if (!e.ok() || e->family != want || e->port != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, key, " = \"", **s, "\": not an ", family_name(want), " address"));
  }
  return std::optional<Endpoint>(*e);
}

absl::StatusOr<DpdkPortConfig> parse_port(const toml::table& t, size_t index) {
  DpdkPortConfig pc;
  pc.key = absl::StrCat("dpdk.ports[", index, "]");
  const std::string prefix = pc.key + ".";
  for (const auto& [k, v] : t) {
    static constexpr const char* kKnown[] = {"port", "name", "ipv4", "ipv6", "gateway", "gateway6"};
    bool known = false;
    for (const char* kk : kKnown) known = known || k.str() == kk;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, std::string(k.str()), ": unknown key"));
    }
  }
  int64_t id = 0;
  bool has_id = false;
  if (auto st = read_int(t, prefix, "port", 0, 65535, &id, &has_id); !st.ok()) return st;
  if (has_id) pc.port_id = uint16_t(id);
  auto name = read_string(t, prefix, "name");
  if (!name.ok()) return name.status();
  if (name->has_value()) pc.name = **name;
  if (has_id && !pc.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(pc.key, ": set either port = ", id, " or name = \"", pc.name, "\", not both"));
  }
  if (!has_id && pc.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(pc.key, ": needs `port = <id>` or `name = \"<device name>\"`"));
  }
  for (auto [key, fam] : {std::pair{"ipv4", Family::kIpv4}, std::pair{"ipv6", Family::kIpv6}}) {
    auto s = read_string(t, prefix, key);
    if (!s.ok()) return s.status();
    if (!s->has_value()) continue;
    auto p = parse_ip_prefix(**s, fam, prefix + key);
    if (!p.ok()) return p.status();
    (fam == Family::kIpv4 ? pc.ipv4 : pc.ipv6) = *p;
  }
  if (!pc.ipv4 && !pc.ipv6) {
    return absl::InvalidArgumentError(
        absl::StrCat(pc.key, ": needs an address (ipv4 = \"a.b.c.d/len\" and/or ipv6)"));
  }
  auto gw4 = read_addr(t, prefix, "gateway", Family::kIpv4);
  if (!gw4.ok()) return gw4.status();
  pc.gateway4 = *gw4;
  auto gw6 = read_addr(t, prefix, "gateway6", Family::kIpv6);
  if (!gw6.ok()) return gw6.status();
  pc.gateway6 = *gw6;
  if (pc.gateway4 && (!pc.ipv4 || !pc.ipv4->contains(*pc.gateway4))) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "gateway = \"",
                                                   pc.gateway4->addr_string(),
                                                   "\": not inside the port's ipv4 prefix"));
  }
  if (pc.gateway6 && (!pc.ipv6 || !pc.ipv6->contains(*pc.gateway6))) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "gateway6 = \"",
                                                   pc.gateway6->addr_string(),
                                                   "\": not inside the port's ipv6 prefix"));
  }
  return pc;
}

}  // namespace

bool IpPrefix::contains(const Endpoint& ip) const {
  if (ip.family != addr.family) return false;
  uint32_t bits = length;
  for (size_t i = 0; i < addr.addr_len() && bits > 0; ++i) {
    uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
    if ((ip.addr[i] & mask) != (addr.addr[i] & mask)) return false;
    bits = bits >= 8 ? bits - 8 : 0;
  }
  return true;
}

absl::StatusOr<IpPrefix> parse_ip_prefix(const std::string& text, Family want,
                                         const std::string& key) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(key, " = \"", text, "\": ", why));
  };
  size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return bad(want == Family::kIpv4 ? "expected \"a.b.c.d/len\"" : "expected \"x::y/len\"");
  }
  auto e = Endpoint::parse(absl::string_view(text).substr(0, slash));
  if (!e.ok() || e->family != want || e->port != 0) {
    return bad(absl::StrCat("not an ", family_name(want), " address"));
  }
  uint32_t len = 0;
  uint32_t max = want == Family::kIpv4 ? 32 : 128;
  if (!absl::SimpleAtoi(absl::string_view(text).substr(slash + 1), &len) || len == 0 || len > max) {
    return bad(absl::StrCat("prefix length must be 1..", max));
  }
  IpPrefix p;
  p.addr = *e;
  p.length = uint8_t(len);
  return p;
}

absl::StatusOr<DpdkConfig> parse_dpdk_config(const toml::table& section) {
  DpdkConfig c;
  for (const auto& [k, v] : section) {
    static constexpr const char* kKnown[] = {
        "eal_args", "mbufs", "rx_desc", "tx_desc", "link_wait_ms", "neighbor_entries", "ports"};
    bool known = false;
    for (const char* kk : kKnown) known = known || k.str() == kk;
    if (!known)
      return absl::InvalidArgumentError(
          absl::StrCat("dpdk.", std::string(k.str()), ": unknown key"));
  }
  if (const toml::node* n = section.get("eal_args")) {
    const toml::array* a = n->as_array();
    if (!a) return absl::InvalidArgumentError("dpdk.eal_args: expected an array of strings");
    for (size_t i = 0; i < a->size(); ++i) {
      auto s = (*a)[i].value<std::string>();
      if (!s || !(*a)[i].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("dpdk.eal_args[", i, "]: expected a string"));
      }
      c.eal_args.push_back(*s);
    }
  }
  int64_t v = 0;
  bool present = false;
  if (auto st = read_int(section, "dpdk.", "mbufs", 1023, 1 << 24, &v, &present); !st.ok())
    return st;
  if (present) c.mbufs = uint32_t(v);
  if (auto st = read_int(section, "dpdk.", "rx_desc", 32, 32768, &v, &present); !st.ok()) return st;
  if (present) c.rx_desc = uint16_t(v);
  if (auto st = read_int(section, "dpdk.", "tx_desc", 32, 32768, &v, &present); !st.ok()) return st;
  if (present) c.tx_desc = uint16_t(v);
  if (auto st = read_int(section, "dpdk.", "link_wait_ms", 0, 600000, &v, &present); !st.ok())
    return st;
  if (present) c.link_wait_ms = uint32_t(v);
  if (auto st = read_int(section, "dpdk.", "neighbor_entries", 16, 1 << 20, &v, &present); !st.ok())
    return st;
  if (present) c.neighbor_entries = uint32_t(v);

  const toml::node* ports = section.get("ports");
  if (!ports) {
    return absl::InvalidArgumentError(
        "dpdk.ports: at least one [[dpdk.ports]] entry (port or name, ipv4/ipv6) is required");
  }
  const toml::array* arr = ports->as_array();
  if (!arr || arr->empty()) {
    return absl::InvalidArgumentError("dpdk.ports: expected a non-empty array of tables");
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = (*arr)[i].as_table();
    if (!t)
      return absl::InvalidArgumentError(absl::StrCat("dpdk.ports[", i, "]: expected a table"));
    auto pc = parse_port(*t, i);
    if (!pc.ok()) return pc.status();
    c.ports.push_back(std::move(*pc));
  }
  return c;
}

}  // namespace tern
