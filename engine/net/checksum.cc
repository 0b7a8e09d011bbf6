#include "engine/net/checksum.h"

#include <bit>
#include <cstring>

namespace tern {

// The one's-complement sum is byte-order independent (RFC 1071 §2(B)): sum
// native-endian 32-bit loads into a 64-bit accumulator (no carry is lost for
// buffers under 16 GiB), fold, and swap once at the end on little-endian.
uint32_t checksum_partial(const uint8_t* data, uint32_t len, uint32_t sum) {
  uint64_t acc0 = 0, acc1 = 0;
  while (len >= 16) {
    uint32_t w[4];
    std::memcpy(w, data, 16);
    acc0 += uint64_t(w[0]) + w[1];
    acc1 += uint64_t(w[2]) + w[3];
    data += 16;
    len -= 16;
  }
  uint64_t acc = acc0 + acc1;
  while (len >= 4) {
    uint32_t w;
    std::memcpy(&w, data, 4);
    acc += w;
    data += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, data, 2);
    acc += w;
    data += 2;
    len -= 2;
  }
  if (len == 1) {
    // Big-endian word [byte, 0] in native order.
    if constexpr (std::endian::native == std::endian::little) {
      acc += data[0];
    } else {
      acc += uint32_t(data[0]) << 8;
    }
  }
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  uint16_t folded = checksum_fold(uint32_t(acc));
  if constexpr (std::endian::native == std::endian::little) {
    folded = uint16_t(folded << 8 | folded >> 8);
  }
  return checksum_fold(uint32_t(folded) + sum);
}

uint32_t pseudo_header_sum_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                              uint32_t l4_len) {
  uint32_t s = uint32_t(src[0] << 8 | src[1]) + uint32_t(src[2] << 8 | src[3]) +
               uint32_t(dst[0] << 8 | dst[1]) + uint32_t(dst[2] << 8 | dst[3]) + protocol +
               (l4_len & 0xffff) + (l4_len >> 16);
  return checksum_fold(s);
}

uint32_t pseudo_header_sum_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                              uint32_t l4_len) {
  uint32_t s = 0;
  for (int i = 0; i < 16; i += 2) {
    s += uint32_t(src[i] << 8 | src[i + 1]) + uint32_t(dst[i] << 8 | dst[i + 1]);
  }
  s += (l4_len >> 16) + (l4_len & 0xffff) + next_header;
  return checksum_fold(s);
}

}  // namespace tern
