#include "engine/net/ip_prefix.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tern {

absl::StatusOr<IpPrefix> IpPrefix::parse(absl::string_view text, Family want, bool allow_bare) {
  const char* fam = want == Family::kIpv4 ? "IPv4" : want == Family::kIpv6 ? "IPv6" : "IP";
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos && !allow_bare) {
    return absl::InvalidArgumentError(want == Family::kIpv4   ? "expected \"a.b.c.d/len\""
                                      : want == Family::kIpv6 ? "expected \"x::y/len\""
                                                              : "expected \"address/len\"");
  }
  absl::StatusOr<Endpoint> e = Endpoint::parse(text.substr(0, slash));
  if (!e.ok() || e->port != 0 || (want != Family::kNone && e->family != want)) {
    return absl::InvalidArgumentError(absl::StrCat("not an ", fam, " address"));
  }
  const uint32_t max = e->is_v4() ? 32 : 128;
  uint32_t len = max;
  if (slash != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &len) || len > max)) {
    return absl::InvalidArgumentError(absl::StrCat("prefix length must be 0..", max));
  }
  IpPrefix p;
  p.addr = *e;
  p.length = uint8_t(len);
  return p;
}

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

std::string IpPrefix::to_string() const { return absl::StrCat(addr.addr_string(), "/", length); }

}  // namespace tern
