#include "engine/net/ipv6.h"

#include <cstring>

#include "engine/net/bytes.h"
#include "engine/net/ipv4.h"

namespace tern {

bool parse_ipv6(const uint8_t* p, uint32_t len, Ipv6Header* out, Drop* why) {
  if (len < kIpv6HeaderLen) {
    *why = Drop::kRuntFrame;
    return false;
  }
  if ((p[0] >> 4) != 6) {
    *why = Drop::kIpOptions;
    return false;
  }
  const uint32_t vtf = load_be32(p);
  const uint16_t plen = load_be16(p + 4);
  if (plen == 0 && p[6] == kIpProtoHopByHop) {
    *why = Drop::kIpOptions;  // jumbogram (RFC 2675): not on Ethernet
    return false;
  }
  const uint32_t end = kIpv6HeaderLen + plen;
  if (end > len) {
    *why = Drop::kRuntFrame;
    return false;
  }
  if (p[8] == 0xff) {
    *why = Drop::kIpOptions;  // multicast source (RFC 4291 §2.7): never valid
    return false;
  }
  out->traffic_class = uint8_t(vtf >> 20);
  out->flow_label = vtf & 0xfffff;
  out->payload_len = plen;
  out->hop_limit = p[7];
  std::memcpy(out->src, p + 8, 16);
  std::memcpy(out->dst, p + 24, 16);
  out->fragment = false;

  uint8_t nh = p[6];
  uint32_t off = kIpv6HeaderLen;
  for (uint32_t n = 0;; ++n) {
    if (nh != kIpProtoHopByHop && nh != kIpProtoRouting && nh != kIpProtoDestOpts &&
        nh != kIpProtoFragment) {
      break;
    }
    if (n == kMaxIpv6ExtHeaders || (nh == kIpProtoHopByHop && n != 0) || off + 8 > end) {
      *why = Drop::kIpOptions;
      return false;
    }
    if (nh == kIpProtoFragment) {
      out->fragment = true;
      break;
    }
    const uint32_t ext_len = (uint32_t(p[off + 1]) + 1) * 8;
    if (off + ext_len > end) {
      *why = Drop::kIpOptions;
      return false;
    }
    nh = p[off];
    off += ext_len;
  }
  out->next_header = nh;
  out->header_len = off;
  return true;
}

void write_ipv6(uint8_t* p, const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                uint8_t hop_limit, uint32_t payload_len, uint8_t traffic_class,
                uint32_t flow_label) {
  store_be32(p, 6u << 28 | uint32_t(traffic_class) << 20 | (flow_label & 0xfffff));
  store_be16(p + 4, uint16_t(payload_len));
  p[6] = next_header;
  p[7] = hop_limit;
  std::memcpy(p + 8, src, 16);
  std::memcpy(p + 24, dst, 16);
}

void solicited_node_multicast(const uint8_t addr[16], uint8_t out[16]) {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  uint8_t low[3] = {addr[13], addr[14], addr[15]};  // addr may alias out
  std::memcpy(out, kPrefix, 13);
  std::memcpy(out + 13, low, 3);
}

MacAddr ipv6_multicast_mac(const uint8_t addr[16]) {
  return MacAddr{{0x33, 0x33, addr[12], addr[13], addr[14], addr[15]}};
}

bool ipv6_is_unspecified(const uint8_t a[16]) {
  uint8_t acc = 0;
  for (int i = 0; i < 16; ++i) acc |= a[i];
  return acc == 0;
}

bool ipv6_is_solicited_node(const uint8_t a[16]) {
  static constexpr uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  return std::memcmp(a, kPrefix, 13) == 0;
}

}  // namespace tern
