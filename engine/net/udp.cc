#include "engine/net/udp.h"

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/net/ipv4.h"

namespace tern {

bool parse_udp(const uint8_t* p, uint32_t len, UdpHeader* out, Drop* why) {
  if (len < kUdpHeaderLen) {
    *why = Drop::kRuntFrame;
    return false;
  }
  const uint16_t length = load_be16(p + 4);
  if (length < kUdpHeaderLen) {
    *why = Drop::kIpOptions;
    return false;
  }
  if (length > len) {
    *why = Drop::kRuntFrame;
    return false;
  }
  out->src_port = load_be16(p);
  out->dst_port = load_be16(p + 2);
  out->length = length;
  out->checksum = load_be16(p + 6);
  return true;
}

void write_udp(uint8_t* p, uint16_t src_port, uint16_t dst_port, uint32_t length) {
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be16(p + 4, uint16_t(length));
  p[6] = 0;
  p[7] = 0;
}

namespace {
// Sum over the datagram without its checksum field (bytes 6..7).
uint32_t udp_sum_without_field(const uint8_t* udp, uint32_t len, uint32_t sum) {
  sum = checksum_partial(udp, 6, sum);
  return checksum_partial(udp + 8, len - 8, sum);
}
uint16_t nonzero(uint16_t c) { return c == 0 ? 0xffff : c; }
}  // namespace

uint16_t udp_checksum_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                         const uint8_t dst[4]) {
  uint32_t s = pseudo_header_sum_v4(src, dst, kIpProtoUdp, len);
  return nonzero(checksum_finish(udp_sum_without_field(udp, len, s)));
}

uint16_t udp_checksum_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                         const uint8_t dst[16]) {
  uint32_t s = pseudo_header_sum_v6(src, dst, kIpProtoUdp, len);
  return nonzero(checksum_finish(udp_sum_without_field(udp, len, s)));
}

uint16_t udp_checksum_from_sum_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                                  const uint8_t dst[4], uint32_t payload_sum) {
  uint32_t s = pseudo_header_sum_v4(src, dst, kIpProtoUdp, len) + checksum_partial(udp, 6);
  return nonzero(checksum_finish(s + payload_sum));
}

uint16_t udp_checksum_from_sum_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                                  const uint8_t dst[16], uint32_t payload_sum) {
  uint32_t s = pseudo_header_sum_v6(src, dst, kIpProtoUdp, len) + checksum_partial(udp, 6);
  return nonzero(checksum_finish(s + payload_sum));
}

// Header + pseudo-header + payload fold to 0xffff when the checksum holds, so
// the payload must sum to the complement of the rest.
uint32_t udp_payload_claim_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                              const uint8_t dst[4]) {
  if (load_be16(udp + 6) == 0) return kNoSum;
  uint32_t s = pseudo_header_sum_v4(src, dst, kIpProtoUdp, len);
  return uint16_t(~checksum_fold(checksum_partial(udp, kUdpHeaderLen, s)));
}

uint32_t udp_payload_claim_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                              const uint8_t dst[16]) {
  uint32_t s = pseudo_header_sum_v6(src, dst, kIpProtoUdp, len);
  return uint16_t(~checksum_fold(checksum_partial(udp, kUdpHeaderLen, s)));
}

bool udp_checksum_ok_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                        const uint8_t dst[4]) {
  if (load_be16(udp + 6) == 0) return true;
  uint32_t s = pseudo_header_sum_v4(src, dst, kIpProtoUdp, len);
  return checksum_finish(checksum_partial(udp, len, s)) == 0;
}

bool udp_checksum_ok_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                        const uint8_t dst[16]) {
  if (load_be16(udp + 6) == 0) return false;
  uint32_t s = pseudo_header_sum_v6(src, dst, kIpProtoUdp, len);
  return checksum_finish(checksum_partial(udp, len, s)) == 0;
}

}  // namespace tern
