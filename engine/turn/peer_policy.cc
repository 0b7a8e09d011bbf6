#include "engine/turn/peer_policy.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tern {
namespace {

bool prefix_match(const uint8_t* a, const uint8_t* net, int bits) {
  int i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (a[i] != net[i]) return false;
  }
  if (bits == 0) return true;
  const uint8_t mask = uint8_t(0xFF << (8 - bits));
  return (a[i] & mask) == (net[i] & mask);
}

struct Range4 {
  uint8_t a, b, c, d, bits;
};
constexpr Range4 kDeny4[] = {
    {0, 0, 0, 0, 8},      {10, 0, 0, 0, 8},    {100, 64, 0, 0, 10}, {127, 0, 0, 0, 8},
    {169, 254, 0, 0, 16}, {172, 16, 0, 0, 12}, {192, 0, 0, 0, 24},  {192, 168, 0, 0, 16},
    {224, 0, 0, 0, 4},    {240, 0, 0, 0, 4},
};

struct Range6 {
  uint8_t addr[16];
  uint8_t bits;
};
constexpr Range6 kDeny6[] = {
    {{0}, 96},                                                // ::/96 incl. ::, ::1
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},  // ::1
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, 96},         // v4-mapped
    {{0, 0x64, 0xFF, 0x9B, 0, 1}, 48},                        // local-use NAT64
    {{0xFC}, 7},                                              // ULA
    {{0xFE, 0x80}, 10},                                       // link-local
    {{0xFF}, 8},                                              // multicast
};

}  // namespace

absl::StatusOr<Cidr> Cidr::parse(absl::string_view text) {
  absl::string_view addr = text;
  int bits = -1;
  if (size_t slash = text.find('/'); slash != absl::string_view::npos) {
    addr = text.substr(0, slash);
    if (!absl::SimpleAtoi(text.substr(slash + 1), &bits)) bits = -2;
  }
  auto ep = Endpoint::parse(addr);
  if (!ep.ok() || ep->port != 0 || addr.empty() || addr.front() == '[') {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4/IPv6 address or CIDR like 10.0.0.0/8: \"", text, "\""));
  }
  const int max = ep->is_v4() ? 32 : 128;
  if (bits == -1) bits = max;
  if (bits < 0 || bits > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("prefix length must be 0..", max, " in \"", text, "\""));
  }
  Cidr c;
  c.net = *ep;
  c.bits = uint8_t(bits);
  // Clear host bits so contains() and to_string() agree.
  for (int i = 0; i < max / 8; ++i) {
    const int keep = bits - i * 8;
    if (keep >= 8) continue;
    c.net.addr[i] &= keep <= 0 ? 0 : uint8_t(0xFF << (8 - keep));
  }
  return c;
}

bool Cidr::contains(const Endpoint& ep) const {
  return ep.family == net.family && prefix_match(ep.addr, net.addr, bits);
}

std::string Cidr::to_string() const { return absl::StrCat(net.addr_string(), "/", bits); }

PeerPolicy::PeerPolicy(std::vector<Cidr> allow, std::vector<Cidr> deny)
    : allow_(std::move(allow)), deny_(std::move(deny)) {}

bool PeerPolicy::default_denied(const Endpoint& peer) {
  if (peer.is_v4()) {
    for (const Range4& r : kDeny4) {
      const uint8_t net[4] = {r.a, r.b, r.c, r.d};
      if (prefix_match(peer.addr, net, r.bits)) return true;
    }
    return false;
  }
  if (peer.is_v6()) {
    for (const Range6& r : kDeny6) {
      if (prefix_match(peer.addr, r.addr, r.bits)) return true;
    }
    return false;
  }
  return true;  // no family: never a peer
}

bool PeerPolicy::allowed(const Endpoint& peer) const {
  if (!peer.is_v4() && !peer.is_v6()) return false;
  for (const Cidr& c : deny_) {
    if (c.contains(peer)) return false;
  }
  for (const Cidr& c : allow_) {
    if (c.contains(peer)) return true;
  }
  return !default_denied(peer);
}

}  // namespace tern
