#include "drivers/dpdk/dpdk_config.h"

#include <toml++/toml.h>

#include "absl/strings/str_cat.h"
#include "drivers/config_fields.h"

namespace tern {
namespace {

absl::StatusOr<DpdkPortConfig> parse_port(const toml::table& t, size_t index,
                                          const std::string& source) {
  DpdkPortConfig pc;
  pc.key = absl::StrCat("dpdk.ports[", index, "]");
  ConfigSection sec(t, pc.key, source);
  if (auto s = sec.only_keys({"port", "name", "ipv4", "ipv6", "gateway", "gateway6"}); !s.ok()) {
    return s;
  }
  if (t.contains("port")) {
    uint16_t id = 0;
    if (auto s = sec.read_int("port", 0, 65535, &id); !s.ok()) return s;
    pc.port_id = id;
  }
  if (auto s = sec.read_string("name", &pc.name); !s.ok()) return s;
  if (pc.port_id && !pc.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(pc.key, ": set either port = ", *pc.port_id,
                                                   " or name = \"", pc.name, "\", not both"));
  }
  if (!pc.port_id && pc.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(pc.key, ": needs `port = <id>` or `name = \"<device name>\"`"));
  }
  for (auto [key, fam] : {std::pair{"ipv4", Family::kIpv4}, std::pair{"ipv6", Family::kIpv6}}) {
    IpPrefix p;
    bool present = false;
    if (auto s = sec.read_prefix(key, fam, &p, &present); !s.ok()) return s;
    if (!present) continue;
    if (p.length == 0)
      return sec.error(*t.get(key), key, "an interface prefix needs a length of 1 or more");
    (fam == Family::kIpv4 ? pc.ipv4 : pc.ipv6) = p;
  }
  if (!pc.ipv4 && !pc.ipv6) {
    return absl::InvalidArgumentError(
        absl::StrCat(pc.key, ": needs an address (ipv4 = \"a.b.c.d/len\" and/or ipv6)"));
  }
  struct Gateway {
    const char* key;
    Family family;
    const std::optional<IpPrefix>& subnet;
    std::optional<Endpoint>& out;
  };
  for (const Gateway& g : {Gateway{"gateway", Family::kIpv4, pc.ipv4, pc.gateway4},
                           Gateway{"gateway6", Family::kIpv6, pc.ipv6, pc.gateway6}}) {
    if (!t.contains(g.key)) continue;
    Endpoint gw;
    if (auto s = sec.read_address(g.key, g.family, &gw); !s.ok()) return s;
    if (!g.subnet || !g.subnet->contains(gw)) {
      return sec.error(*t.get(g.key), g.key,
                       absl::StrCat("\"", gw.addr_string(), "\" is not inside the port's ",
                                    g.family == Family::kIpv4 ? "ipv4" : "ipv6", " prefix"));
    }
    g.out = gw;
  }
  return pc;
}

}  // namespace

absl::StatusOr<DpdkConfig> parse_dpdk_config(const toml::table& section,
                                             const std::string& source) {
  DpdkConfig c;
  ConfigSection sec(section, "dpdk", source);
  if (auto s = sec.only_keys(
          {"eal_args", "mbufs", "rx_desc", "tx_desc", "link_wait_ms", "neighbor_entries", "ports"});
      !s.ok()) {
    return s;
  }
  for (absl::Status s : {sec.read_string_list("eal_args", /*allow_empty=*/true, &c.eal_args),
                         sec.read_int("mbufs", 1023, 1 << 24, &c.mbufs),
                         sec.read_int("rx_desc", 32, 32768, &c.rx_desc),
                         sec.read_int("tx_desc", 32, 32768, &c.tx_desc),
                         sec.read_int("link_wait_ms", 0, 600000, &c.link_wait_ms),
                         sec.read_int("neighbor_entries", 16, 1 << 20, &c.neighbor_entries)}) {
    if (!s.ok()) return s;
  }
  const toml::node* ports = section.get("ports");
  if (!ports) {
    return absl::InvalidArgumentError(
        "dpdk.ports: at least one [[dpdk.ports]] entry (port or name, ipv4/ipv6) is required");
  }
  const toml::array* arr = ports->as_array();
  if (!arr || arr->empty()) {
    return sec.error(*ports, "ports", "must be a non-empty array of tables ([[dpdk.ports]])");
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* t = (*arr)[i].as_table();
    if (!t) return sec.error((*arr)[i], absl::StrCat("ports[", i, "]"), "must be a table");
    auto pc = parse_port(*t, i, source);
    if (!pc.ok()) return pc.status();
    c.ports.push_back(std::move(*pc));
  }
  return c;
}

}  // namespace tern
