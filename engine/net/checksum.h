// Internet checksum (RFC 1071), pseudo-header sums for UDP and ICMPv6, and
// incremental update (RFC 1624).
//
// Sums are carried as a "partial" uint32_t: a one's-complement sum folded to
// 16 bits, not yet complemented, in host byte order of the big-endian words.
// Partials add with +, then checksum_finish() folds and complements. Data
// given to checksum_partial() is summed as big-endian 16-bit words; a
// trailing odd byte is padded with zero, so every chunk but the last must
// have even length.
#pragma once

#include <cstdint>

namespace tern {

// Folds a 32-bit sum of partials to 16 bits (end-around carry), no complement.
constexpr uint16_t checksum_fold(uint32_t sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}
// Folds and complements: the value that goes into a checksum field.
constexpr uint16_t checksum_finish(uint32_t sum) { return uint16_t(~checksum_fold(sum)); }

// One's-complement sum of data, plus `sum`, folded to 16 bits.
uint32_t checksum_partial(const uint8_t* data, uint32_t len, uint32_t sum = 0);

// RFC 1071 checksum of a buffer: the value to store in the checksum field.
// Verifying: internet_checksum over data that includes its checksum field is 0.
inline uint16_t internet_checksum(const uint8_t* data, uint32_t len) {
  return checksum_finish(checksum_partial(data, len));
}

// Pseudo-header sums (partials). IPv4 (RFC 768): src, dst, zero, protocol,
// L4 length. IPv6 (RFC 8200 §8.1): src, dst, 32-bit upper-layer length, 3
// zero bytes, next header.
uint32_t pseudo_header_sum_v4(const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                              uint32_t l4_len);
uint32_t pseudo_header_sum_v6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                              uint32_t l4_len);

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 16-bit field changing from
// old_word to new_word. `csum` and the result are checksum field values.
constexpr uint16_t checksum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word) {
  return uint16_t(~checksum_fold(uint32_t(uint16_t(~csum)) + uint16_t(~old_word) + new_word));
}
constexpr uint16_t checksum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val) {
  return uint16_t(~checksum_fold(uint32_t(uint16_t(~csum)) + uint16_t(~(old_val >> 16)) +
                                 uint16_t(~old_val) + (new_val >> 16) + (new_val & 0xffff)));
}

// --- Payload sums carried past a relay (Packet::rx_sum / tx_sum) ---
// kNoSum: "not known". Otherwise a folded partial as above.
inline constexpr uint32_t kNoSum = 0xffffffffu;

// One's-complement subtraction of a partial: the sum of what is left when the
// bytes summing to `part` are taken away (RFC 1624: adding ~m removes m).
constexpr uint32_t checksum_sub(uint32_t sum, uint32_t part) {
  return checksum_fold(sum + uint16_t(~uint16_t(part)));
}
// The partial of bytes that start at an odd offset of the word grid: summed
// from their own start, then byte-swapped (RFC 1071 §2(B)).
constexpr uint32_t checksum_at_odd(uint32_t part) {
  return uint16_t(uint16_t(part) << 8 | uint16_t(part) >> 8);
}
// True if `len` bytes at `data` sum to `claimed` (a payload's sum as its
// header says it should be: the deferred half of a UDP checksum check).
// Compared modulo 0xffff: one's complement has two zeros (0 and 0xffff), and
// a sum carried by subtraction may land on either.
inline bool checksum_matches(const uint8_t* data, uint32_t len, uint32_t claimed) {
  const uint16_t a = checksum_fold(checksum_partial(data, len));
  const uint16_t b = checksum_fold(claimed);
  return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff));
}

}  // namespace tern
