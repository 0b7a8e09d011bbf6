#include "engine/net/ipv4.h"

#include <cstring>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"

namespace tern {

bool parse_ipv4(const uint8_t* p, uint32_t len, Ipv4Header* out, Drop* why, bool verify_checksum) {
  if (len < kIpv4HeaderLen) {
    *why = Drop::kRuntFrame;
    return false;
  }
  const uint32_t ihl = uint32_t(p[0] & 0x0f) * 4;
  if ((p[0] >> 4) != 4 || ihl < kIpv4HeaderLen) {
    *why = Drop::kIpOptions;
    return false;
  }
  const uint16_t total = load_be16(p + 2);
  if (total < ihl) {
    *why = Drop::kIpOptions;
    return false;
  }
  if (total > len) {
    *why = Drop::kRuntFrame;
    return false;
  }
  if (verify_checksum && internet_checksum(p, ihl) != 0) {
    *why = Drop::kBadChecksum;
    return false;
  }
  out->tos = p[1];
  out->total_len = total;
  out->id = load_be16(p + 4);
  out->flags_frag = load_be16(p + 6);
  out->ttl = p[8];
  out->protocol = p[9];
  std::memcpy(out->src, p + 12, 4);
  std::memcpy(out->dst, p + 16, 4);
  out->header_len = ihl;
  out->fragment = (out->flags_frag & (kIpv4FlagMf | kIpv4OffsetMask)) != 0;
  return true;
}

void write_ipv4(uint8_t* p, const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                uint8_t ttl, uint32_t payload_len, bool checksum, uint16_t id) {
  p[0] = 0x45;
  p[1] = 0;
  store_be16(p + 2, uint16_t(kIpv4HeaderLen + payload_len));
  store_be16(p + 4, id);
  store_be16(p + 6, kIpv4FlagDf);
  p[8] = ttl;
  p[9] = protocol;
  p[10] = 0;
  p[11] = 0;
  std::memcpy(p + 12, src, 4);
  std::memcpy(p + 16, dst, 4);
  if (checksum) store_be16(p + 10, internet_checksum(p, kIpv4HeaderLen));
}

void ipv4_fill_checksum(uint8_t* p) {
  const uint32_t ihl = uint32_t(p[0] & 0x0f) * 4;
  p[10] = 0;
  p[11] = 0;
  store_be16(p + 10, internet_checksum(p, ihl));
}

}  // namespace tern
