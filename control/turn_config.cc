#include "control/turn_config.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "drivers/config_fields.h"

namespace tern {

absl::StatusOr<TurnConfig> parse_turn_config(const toml::table& t, absl::string_view source) {
  TurnConfig c;
  ConfigSection sec(t, "turn", std::string(source));
  std::vector<std::string> users, allow, deny, tcp_listen, tls_listen;
  std::vector<int64_t> ports;
  for (absl::Status s :
       {sec.only_keys({"enabled", "realm", "users", "rest_secrets", "relay_addresses",
                       "relay_ports", "allow_peers", "deny_peers", "max_allocations",
                       "max_allocations_per_user", "bandwidth_bytes_per_s", "max_lifetime_s",
                       "nonce_lifetime_s", "tcp_listen", "tls_listen", "tls_cert", "tls_key",
                       "tcp_max_connections", "tcp_idle_timeout_s"}),
        sec.read_bool("enabled", &c.enabled),
        sec.read_string("realm", &c.realm),
        sec.read_string_list("users", true, &users),
        sec.read_string_list("rest_secrets", true, &c.rest_secrets),
        sec.read_address_list("relay_addresses", &c.relay_addresses),
        sec.read_int_list("relay_ports", 1, 65535, &ports),
        sec.read_string_list("allow_peers", true, &allow),
        sec.read_string_list("deny_peers", true, &deny),
        sec.read_int("max_allocations", 1, 1 << 20, &c.max_allocations),
        sec.read_int("max_allocations_per_user", 1, 1 << 20, &c.max_allocations_per_user),
        sec.read_int("bandwidth_bytes_per_s", 0, 1'000'000'000, &c.bandwidth_bytes_per_s),
        sec.read_int("max_lifetime_s", 600, 86400, &c.max_lifetime_s),
        sec.read_int("nonce_lifetime_s", 30, 86400, &c.nonce_lifetime_s),
        sec.read_string_list("tcp_listen", true, &tcp_listen),
        sec.read_string_list("tls_listen", true, &tls_listen),
        sec.read_string("tls_cert", &c.tls_cert),
        sec.read_string("tls_key", &c.tls_key),
        sec.read_int("tcp_max_connections", 1, 1 << 20, &c.tcp_max_connections),
        sec.read_int("tcp_idle_timeout_s", 5, 86400, &c.tcp_idle_timeout_s)}) {
    if (!s.ok()) return s;
  }
  auto err = [&](absl::string_view key, absl::string_view what) {
    return sec.error(*t.get(std::string_view(key.data(), key.size())), key, what);
  };
  if (c.realm.empty() || c.realm.size() > 64) {
    return err("realm", absl::StrCat("must be 1..64 bytes, got \"", c.realm, "\""));
  }
  for (const std::string& u : users) {
    const size_t colon = u.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == u.size()) {
      return err("users", absl::StrCat("entries are \"user:password\", got \"", u, "\""));
    }
    c.users.emplace_back(u.substr(0, colon), u.substr(colon + 1));
  }
  for (const std::string& s : c.rest_secrets) {
    if (s.empty()) return err("rest_secrets", "contains an empty secret");
  }
  if (!ports.empty()) {
    if (ports.size() != 2 || ports[0] > ports[1]) {
      return err("relay_ports", "must be [first, last] with first <= last, e.g. [49152, 65535]");
    }
    c.relay_port_min = uint16_t(ports[0]);
    c.relay_port_max = uint16_t(ports[1]);
  }
  for (auto [list, key] : {std::pair{&allow, "allow_peers"}, std::pair{&deny, "deny_peers"}}) {
    for (const std::string& s : *list) {
      auto cidr = Cidr::parse(s);
      if (!cidr.ok()) return err(key, cidr.status().message());
      (key == absl::string_view("allow_peers") ? c.allow_peers : c.deny_peers).push_back(*cidr);
    }
  }
  for (auto [list, key] :
       {std::pair{&tcp_listen, "tcp_listen"}, std::pair{&tls_listen, "tls_listen"}}) {
    std::vector<Endpoint>& out =
        key == absl::string_view("tcp_listen") ? c.tcp_listen : c.tls_listen;
    for (const std::string& s : *list) {
      auto e = Endpoint::parse(s);
      if (!e.ok() || e->port == 0) {
        return err(
            key,
            absl::StrCat("entries are \"address:port\" (\"[::1]:443\" for IPv6), got \"", s, "\""));
      }
      for (const Endpoint& o : c.tcp_listen) {
        if (o == *e) return err(key, absl::StrCat(s, " is listed twice"));
      }
      for (const Endpoint& o : c.tls_listen) {
        if (o == *e) return err(key, absl::StrCat(s, " is listed twice"));
      }
      out.push_back(*e);
    }
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return err(c.tls_cert.empty() ? "tls_key" : "tls_cert",
               "set both turn.tls_cert and turn.tls_key (PEM files), or neither for a "
               "self-signed certificate");
  }
  if (c.enabled && c.users.empty() && c.rest_secrets.empty()) {
    return err("enabled", "TURN needs credentials: set turn.users and/or turn.rest_secrets");
  }
  return c;
}

absl::StatusOr<TurnServerConfig> turn_server_config_for_worker(const TurnConfig& cfg,
                                                               uint16_t index, uint16_t workers,
                                                               const std::vector<Endpoint>& listen,
                                                               const std::vector<uint8_t>& secret,
                                                               std::string software) {
  const uint32_t range = uint32_t(cfg.relay_port_max) - cfg.relay_port_min + 1;
  const uint32_t share = workers ? range / workers : 0;
  if (share < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("turn.relay_ports: ", cfg.relay_port_min, "-", cfg.relay_port_max,
                     " gives fewer than 2 ports to each of ", workers, " worker(s)"));
  }
  for (const Endpoint& l : listen) {
    if (l.port >= cfg.relay_port_min && l.port <= cfg.relay_port_max) {
      return absl::InvalidArgumentError(
          absl::StrCat("turn.relay_ports: ", cfg.relay_port_min, "-", cfg.relay_port_max,
                       " contains the listening port ", l.port, " (udp.base_port)"));
    }
  }
  TurnServerConfig t;
  t.realm = cfg.realm;
  t.users = cfg.users;
  t.rest_secrets = cfg.rest_secrets;
  t.relay_port_min = uint16_t(cfg.relay_port_min + index * share);
  t.relay_port_max = uint16_t(t.relay_port_min + share - 1);
  t.allow_peers = cfg.allow_peers;
  t.deny_peers = cfg.deny_peers;
  t.listen = listen;
  t.max_allocations = cfg.max_allocations;
  t.max_allocations_per_user = cfg.max_allocations_per_user;
  t.bandwidth_bytes_per_s = cfg.bandwidth_bytes_per_s;
  t.max_lifetime_s = cfg.max_lifetime_s;
  t.nonce_lifetime_s = cfg.nonce_lifetime_s;
  t.software = std::move(software);
  t.secret = secret;
  t.relay_addresses = cfg.relay_addresses;
  if (t.relay_addresses.empty()) {
    // The driver's concrete listening addresses, one per family.
    static constexpr uint8_t kZero[16] = {};
    bool have[2] = {false, false};
    for (Endpoint l : listen) {
      const int f = l.is_v6() ? 1 : 0;
      if (have[f] || std::memcmp(l.addr, kZero, l.addr_len()) == 0) continue;
      l.port = 0;
      t.relay_addresses.push_back(l);
      have[f] = true;
    }
    if (t.relay_addresses.empty()) {
      return absl::InvalidArgumentError(
          "turn.relay_addresses: not set and the driver listens only on wildcard addresses; "
          "give the address clients reach, e.g. relay_addresses = [\"203.0.113.5\"]");
    }
  }
  if (auto s = validate_turn_server_config(t); !s.ok()) return s;
  return t;
}

absl::StatusOr<std::vector<uint8_t>> random_turn_secret() {
  std::vector<uint8_t> out(32);
  size_t got = 0;
  for (int tries = 0; got < out.size() && tries < 8; ++tries) {
    const ssize_t n = getrandom(out.data() + got, out.size() - got, 0);
    if (n > 0) got += size_t(n);
    if (n < 0 && errno != EINTR) break;
  }
  if (got != out.size()) {
    return absl::InternalError(
        absl::StrCat("getrandom for the TURN secret: ", std::strerror(errno)));
  }
  return out;
}

std::string turn_banner_line(const TurnServer& t) {
  const TurnServerConfig& c = t.config();
  std::vector<std::string> relays;
  for (const Endpoint& e : c.relay_addresses) relays.push_back(e.addr_string());
  std::vector<std::string> auth;
  if (!c.users.empty()) auth.push_back(absl::StrCat(c.users.size(), " user(s)"));
  if (!c.rest_secrets.empty())
    auth.push_back(absl::StrCat("REST (", c.rest_secrets.size(), " secret(s))"));
  return absl::StrCat("TURN realm \"", c.realm, "\" relays ", absl::StrJoin(relays, " "), " ports ",
                      c.relay_port_min, "-", c.relay_port_max, ", auth ",
                      absl::StrJoin(auth, " + "), ", max ", c.max_allocations, " allocations");
}

std::string turn_final_counters(const TurnServer& t, absl::string_view indent) {
  const TurnStats& s = t.stats();
  std::string out = absl::StrCat(
      indent, "turn: requests ", s.requests.get(), " ok ", s.responses_ok.get(), " errors ",
      s.responses_error.get(), " (challenges ", s.auth_challenges.get(), ", auth failures ",
      s.auth_failures.get(), "); allocations created ", s.allocations_created.get(), " deleted ",
      s.allocations_deleted.get(), " expired ", s.allocations_expired.get(), " active ",
      t.allocation_count(), "; permissions ", s.permissions_created.get(), " channels ",
      s.channels_bound.get(), "\n");
  absl::StrAppend(&out, indent, "turn relay: to peers ", s.to_peer_packets.get(), " packets ",
                  s.to_peer_bytes.get(), " bytes (send indications ", s.send_indications.get(),
                  "), to clients ", s.to_client_packets.get(), " packets ", s.to_client_bytes.get(),
                  " bytes (data indications ", s.data_indications.get(), ")\n");
  std::string drops;
  for (size_t r = 0; r < static_cast<size_t>(Drop::kCount); ++r) {
    if (uint64_t n = s.drops.by_reason[r].get()) {
      absl::StrAppend(&drops, " ", drop_name(static_cast<Drop>(r)), " ", n);
    }
  }
  if (!drops.empty()) absl::StrAppend(&out, indent, "drops (turn):", drops, "\n");
  return out;
}

}  // namespace tern
