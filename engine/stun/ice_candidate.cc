#include "engine/stun/ice_candidate.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/stun/crc32.h"

namespace tern {
namespace ice {
namespace {

bool unspecified(const Endpoint& e) {
  for (size_t i = 0; i < e.addr_len(); ++i) {
    if (e.addr[i] != 0) return false;
  }
  return true;
}

absl::Status check_endpoint(absl::string_view what, size_t index, const Endpoint& e) {
  if (!e.is_v4() && !e.is_v6()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("host address %d: %s has no family", index, what));
  }
  if (e.port == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("host address %d: %s %s has port 0", index, what, e.to_string()));
  }
  return absl::OkStatus();
}

// Hash of the base IP (not the port: every port on one IP shares a
// foundation), family folded in, printed in decimal (ice-chars).
std::string foundation_of(const Endpoint& base) {
  uint8_t key[17];
  key[0] = uint8_t(base.family);
  std::memcpy(key + 1, base.addr, base.addr_len());
  return absl::StrCat(crc32(key, 1 + base.addr_len()));
}

}  // namespace

std::string IceCandidate::to_sdp() const {
  return absl::StrCat("candidate:", foundation, " ", component, " udp ", priority, " ",
                      announced.addr_string(), " ", announced.port, " typ host");
}

absl::StatusOr<std::vector<IceCandidate>> host_candidates(absl::Span<const HostAddress> addrs,
                                                          uint32_t component) {
  if (component < 1 || component > 256) {
    return absl::InvalidArgumentError(absl::StrFormat("ice component %d: need 1..256", component));
  }
  if (addrs.size() > 65536) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d host addresses: at most 65536 local preferences", addrs.size()));
  }
  std::vector<IceCandidate> out;
  out.reserve(addrs.size());
  for (size_t i = 0; i < addrs.size(); ++i) {
    const HostAddress& a = addrs[i];
    absl::Status s = check_endpoint("bound address", i, a.bound);
    if (!s.ok()) return s;
    const Endpoint announced = a.announced.family == Family::kNone ? a.bound : a.announced;
    s = check_endpoint("announced address", i, announced);
    if (!s.ok()) return s;
    if (unspecified(announced)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("host address %d: announced address %s is unspecified; announce the "
                          "public address of a wildcard bind",
                          i, announced.to_string()));
    }
    IceCandidate c;
    c.foundation = foundation_of(a.bound);
    c.component = component;
    c.priority = candidate_priority(kHostTypePreference, uint32_t(65535 - i), component);
    c.announced = announced;
    c.base = a.bound;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ice
}  // namespace tern
