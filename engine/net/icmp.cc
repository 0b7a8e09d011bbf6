#include "engine/net/icmp.h"

#include <cstring>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/net/ipv4.h"
#include "engine/net/ipv6.h"

namespace tern {

bool icmp4_checksum_ok(const uint8_t* icmp, uint32_t len) {
  return internet_checksum(icmp, len) == 0;
}

void icmp4_echo_to_reply(uint8_t* icmp) {
  const uint16_t old_word = load_be16(icmp);  // type, code
  icmp[0] = kIcmpEchoReply;
  store_be16(icmp + 2, checksum_update16(load_be16(icmp + 2), old_word, load_be16(icmp)));
}

bool icmp6_checksum_ok(const uint8_t* icmp, uint32_t len, const uint8_t src[16],
                       const uint8_t dst[16]) {
  uint32_t s = pseudo_header_sum_v6(src, dst, kIpProtoIcmpv6, len);
  return checksum_finish(checksum_partial(icmp, len, s)) == 0;
}

void icmp6_fill_checksum(uint8_t* icmp, uint32_t len, const uint8_t src[16],
                         const uint8_t dst[16]) {
  icmp[2] = 0;
  icmp[3] = 0;
  uint32_t s = pseudo_header_sum_v6(src, dst, kIpProtoIcmpv6, len);
  store_be16(icmp + 2, checksum_finish(checksum_partial(icmp, len, s)));
}

void icmp6_echo_to_reply(uint8_t* icmp) {
  const uint16_t old_word = load_be16(icmp);
  icmp[0] = kIcmp6EchoReply;
  store_be16(icmp + 2, checksum_update16(load_be16(icmp + 2), old_word, load_be16(icmp)));
}

namespace {

// Common RFC 4861 §7.1 checks, then walks the options after the 24-byte
// fixed part. Finds the link-layer option of `want_opt` if present.
bool nd_validate(const uint8_t* icmp, uint32_t len, const uint8_t src[16], const uint8_t dst[16],
                 uint8_t hop_limit, uint8_t want_opt, bool* has_lla, MacAddr* lla, Drop* why) {
  if (len < kNdMessageLen) {
    *why = Drop::kRuntFrame;
    return false;
  }
  if (hop_limit != kNdHopLimit || icmp[1] != 0) {
    *why = Drop::kUnsupportedL4;
    return false;
  }
  if (!icmp6_checksum_ok(icmp, len, src, dst)) {
    *why = Drop::kBadChecksum;
    return false;
  }
  if (ipv6_is_multicast(icmp + 8)) {  // target
    *why = Drop::kUnsupportedL4;
    return false;
  }
  *has_lla = false;
  uint32_t off = kNdMessageLen;
  while (off < len) {
    if (len - off < 2) {
      *why = Drop::kUnsupportedL4;
      return false;
    }
    const uint32_t opt_len = uint32_t(icmp[off + 1]) * 8;
    if (opt_len == 0 || opt_len > len - off) {
      *why = Drop::kUnsupportedL4;
      return false;
    }
    if (icmp[off] == want_opt && opt_len >= kNdLlaOptionLen) {
      *has_lla = true;
      *lla = MacAddr::load(icmp + off + 2);
    }
    off += opt_len;
  }
  return true;
}

uint32_t write_nd(uint8_t* icmp, uint8_t type, uint8_t flags, uint8_t opt_type,
                  const uint8_t src[16], const uint8_t dst[16], const uint8_t target[16],
                  const MacAddr& lla) {
  icmp[0] = type;
  icmp[1] = 0;
  icmp[2] = 0;
  icmp[3] = 0;
  icmp[4] = flags;
  icmp[5] = icmp[6] = icmp[7] = 0;
  std::memcpy(icmp + 8, target, 16);
  icmp[24] = opt_type;
  icmp[25] = 1;  // length in units of 8 bytes
  lla.store(icmp + 26);
  constexpr uint32_t len = kNdMessageLen + kNdLlaOptionLen;
  icmp6_fill_checksum(icmp, len, src, dst);
  return len;
}

}  // namespace

bool parse_neighbor_solicit(const uint8_t* icmp, uint32_t len, const uint8_t src[16],
                            const uint8_t dst[16], uint8_t hop_limit, NeighborSolicit* out,
                            Drop* why) {
  if (len >= 1 && icmp[0] != kIcmp6NeighborSolicit) {
    *why = Drop::kUnsupportedL4;
    return false;
  }
  if (!nd_validate(icmp, len, src, dst, hop_limit, kNdOptSourceLla, &out->has_source_lla,
                   &out->source_lla, why)) {
    return false;
  }
  if (ipv6_is_unspecified(src) && (!ipv6_is_solicited_node(dst) || out->has_source_lla)) {
    *why = Drop::kUnsupportedL4;
    return false;
  }
  std::memcpy(out->target, icmp + 8, 16);
  return true;
}

bool parse_neighbor_advert(const uint8_t* icmp, uint32_t len, const uint8_t src[16],
                           const uint8_t dst[16], uint8_t hop_limit, NeighborAdvert* out,
                           Drop* why) {
  if (len >= 1 && icmp[0] != kIcmp6NeighborAdvert) {
    *why = Drop::kUnsupportedL4;
    return false;
  }
  if (!nd_validate(icmp, len, src, dst, hop_limit, kNdOptTargetLla, &out->has_target_lla,
                   &out->target_lla, why)) {
    return false;
  }
  const uint8_t flags = icmp[4];
  out->router = (flags & kNaFlagRouter) != 0;
  out->solicited = (flags & kNaFlagSolicited) != 0;
  out->override_flag = (flags & kNaFlagOverride) != 0;
  if (ipv6_is_multicast(dst) && out->solicited) {
    *why = Drop::kUnsupportedL4;
    return false;
  }
  std::memcpy(out->target, icmp + 8, 16);
  return true;
}

uint32_t write_neighbor_solicit(uint8_t* icmp, const uint8_t src[16], const uint8_t dst[16],
                                const uint8_t target[16], const MacAddr& source_lla) {
  return write_nd(icmp, kIcmp6NeighborSolicit, 0, kNdOptSourceLla, src, dst, target, source_lla);
}

uint32_t write_neighbor_advert(uint8_t* icmp, const uint8_t src[16], const uint8_t dst[16],
                               const uint8_t target[16], const MacAddr& target_lla, uint8_t flags) {
  return write_nd(icmp, kIcmp6NeighborAdvert, flags, kNdOptTargetLla, src, dst, target, target_lla);
}

}  // namespace tern
