#include "engine/net/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "engine/net/bytes.h"

namespace tern {
namespace {

// Straight from RFC 1071 §4.1, word by word: the independent reference.
uint16_t reference_checksum(const uint8_t* p, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i]) << 8 | p[i + 1];
  if (n & 1) sum += uint32_t(p[n - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (after carries).
  const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(checksum_partial(d, 8)), 0xddf2);
  EXPECT_EQ(internet_checksum(d, 8), 0x220d);
}

TEST(Checksum, EmptyAndOdd) {
  EXPECT_EQ(internet_checksum(nullptr, 0), 0xffff);
  const uint8_t one[] = {0xab};
  EXPECT_EQ(checksum_fold(checksum_partial(one, 1)), 0xab00);
  const uint8_t three[] = {0x12, 0x34, 0x56};
  EXPECT_EQ(checksum_fold(checksum_partial(three, 3)), 0x1234 + 0x5600);
}

TEST(Checksum, MatchesReferenceAllLengthsAndAlignments) {
  std::mt19937 rng(42);
  std::vector<uint8_t> buf(1600);
  for (auto& b : buf) b = uint8_t(rng());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t n = 0; n <= 300; ++n) {
      ASSERT_EQ(internet_checksum(buf.data() + align, uint32_t(n)),
                reference_checksum(buf.data() + align, n))
          << "align " << align << " len " << n;
    }
  }
  EXPECT_EQ(internet_checksum(buf.data(), 1500), reference_checksum(buf.data(), 1500));
  // All 0xff (maximum carries).
  std::vector<uint8_t> ff(4001, 0xff);
  EXPECT_EQ(internet_checksum(ff.data(), 4001), reference_checksum(ff.data(), 4001));
}

TEST(Checksum, PartialsChainOverEvenChunks) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(999);
  for (auto& b : buf) b = uint8_t(rng());
  uint32_t s = checksum_partial(buf.data(), 100);
  s = checksum_partial(buf.data() + 100, 500, s);
  s = checksum_partial(buf.data() + 600, 399, s);
  EXPECT_EQ(checksum_finish(s), reference_checksum(buf.data(), buf.size()));
  // Adding partials with + works too.
  uint32_t a = checksum_partial(buf.data(), 500);
  uint32_t b = checksum_partial(buf.data() + 500, 499);
  EXPECT_EQ(checksum_finish(a + b), reference_checksum(buf.data(), buf.size()));
}

TEST(Checksum, VerifyingIncludesFieldGivesZero) {
  uint8_t d[20] = {0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  store_be16(d + 10, internet_checksum(d, 20));
  EXPECT_EQ(internet_checksum(d, 20), 0);
}

TEST(Checksum, PseudoHeaderV4) {
  const uint8_t src[4] = {198, 18, 0, 1}, dst[4] = {198, 18, 0, 2};
  uint8_t ph[12] = {198, 18, 0, 1, 198, 18, 0, 2, 0, 17, 0x01, 0x02};
  EXPECT_EQ(checksum_fold(pseudo_header_sum_v4(src, dst, 17, 0x0102)),
            uint16_t(~reference_checksum(ph, 12)));
}

TEST(Checksum, PseudoHeaderV6) {
  uint8_t ph[40] = {};
  for (int i = 0; i < 32; ++i) ph[i] = uint8_t(i * 7 + 3);
  ph[34] = 0x12;
  ph[35] = 0x34;  // length 0x1234
  ph[39] = 58;
  EXPECT_EQ(checksum_fold(pseudo_header_sum_v6(ph, ph + 16, 58, 0x1234)),
            uint16_t(~reference_checksum(ph, 40)));
  ph[33] = 0x01;  // length 0x11234: the upper half counts too
  EXPECT_EQ(checksum_fold(pseudo_header_sum_v6(ph, ph + 16, 58, 0x11234)),
            uint16_t(~reference_checksum(ph, 40)));
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  std::mt19937 rng(1624);
  for (int iter = 0; iter < 2000; ++iter) {
    uint8_t d[32];
    for (auto& b : d) b = uint8_t(rng());
    d[0] = d[1] = 0;  // checksum field at 0..1
    store_be16(d, internet_checksum(d, 32));
    int at = 2 + 2 * int(rng() % 13);
    uint16_t old16 = load_be16(d + at);
    uint16_t new16 = iter == 0 ? 0 : uint16_t(rng());
    store_be16(d + at, new16);
    uint16_t inc = checksum_update16(load_be16(d), old16, new16);
    store_be16(d, 0);
    uint16_t full = internet_checksum(d, 32);
    // One's complement has two zeros; RFC 1624 eqn 3 never yields -0 from +0
    // data, so compare as checksums: both must verify.
    store_be16(d, inc);
    ASSERT_EQ(internet_checksum(d, 32), 0) << iter << " full " << full << " inc " << inc;

    uint32_t old32 = load_be32(d + 4);
    uint32_t new32 = uint32_t(rng());
    store_be32(d + 4, new32);
    store_be16(d, checksum_update32(load_be16(d), old32, new32));
    ASSERT_EQ(internet_checksum(d, 32), 0) << iter;
  }
}

// Taking bytes off either end of a buffer, at even or odd offsets, leaves the
// sum of what remains: what a relay does to a carried payload sum.
TEST(Checksum, SubtractingAPartLeavesTheRest) {
  std::mt19937 rng(1071);
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> d(1 + rng() % 300);
    for (auto& b : d) b = uint8_t(rng());
    if (iter == 0) std::fill(d.begin(), d.end(), 0);
    const uint32_t head = uint32_t(rng() % (d.size() + 1)) & ~1u;  // stripped headers are even
    const uint32_t end = head + uint32_t(rng() % (d.size() - head + 1));
    const uint32_t all = checksum_partial(d.data(), uint32_t(d.size()));
    uint32_t s = checksum_sub(all, checksum_partial(d.data(), head));
    if (end < d.size()) {
      const uint32_t tail = checksum_partial(d.data() + end, uint32_t(d.size() - end));
      s = checksum_sub(s, (end & 1) ? checksum_at_odd(tail) : tail);
    }
    // As checksums (one's complement has two zeros): the remainder verifies
    // against the carried sum, and a flipped bit does not.
    ASSERT_TRUE(checksum_matches(d.data() + head, end - head, s)) << iter;
    if (end > head) {
      d[head] ^= 0x10;
      ASSERT_FALSE(checksum_matches(d.data() + head, end - head, s)) << iter;
    }
  }
}

TEST(Checksum, Rfc1624Example) {
  // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives HC' = 0x0000.
  EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

}  // namespace
}  // namespace tern
