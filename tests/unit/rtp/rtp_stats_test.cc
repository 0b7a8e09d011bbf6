#include "engine/rtp/rtp_stats.h"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "gtest/gtest.h"

namespace tern {
namespace rtp {
namespace {

TEST(SeqUnwrapper, WrapAndReorder) {
  SeqUnwrapper u;
  const int64_t a = u.unwrap(65534);
  EXPECT_EQ(u.unwrap(65535), a + 1);
  EXPECT_EQ(u.unwrap(0), a + 2);
  EXPECT_EQ(u.unwrap(1), a + 3);
  EXPECT_EQ(u.unwrap(65535), a + 1);  // late: behind, across the wrap
  EXPECT_EQ(u.highest(), a + 3);
  EXPECT_EQ(u.unwrap(3), a + 5);
  EXPECT_EQ(u.unwrap(2), a + 4);
  // Many wraps forward in steps below half the space.
  int64_t last = u.highest();
  for (int i = 0; i < 10; ++i) {
    const uint16_t next = uint16_t(last + 30000);
    const int64_t e = u.unwrap(next);
    EXPECT_EQ(e, last + 30000);
    last = e;
  }
  // A reordered packet from just before the first one stays positive.
  SeqUnwrapper v;
  EXPECT_EQ(v.unwrap(0), 65536);
  EXPECT_EQ(v.unwrap(65535), 65535);
  EXPECT_EQ(v.peek(1), 65537);
}

TEST(ReceiveStatistics, LossFractionPerInterval) {
  ReceiveStatistics s(0x1234, 90000);
  // 100 packets starting near the wrap, 10 of them lost (every 10th).
  int received = 0;
  for (int i = 0; i < 100; ++i) {
    if (i % 10 == 5) continue;
    ASSERT_TRUE(s.on_packet(uint16_t(65500 + i), uint32_t(i * 3000), i * 33 * kMillisecond));
    ++received;
  }
  ReportBlock b;
  s.fill_report_block(4 * kSecond, &b);
  EXPECT_EQ(b.ssrc, 0x1234u);
  EXPECT_EQ(b.cumulative_lost, 10);
  EXPECT_EQ(b.fraction_lost, 10 * 256 / 100);  // 25
  EXPECT_EQ(b.extended_highest_seq, (1u << 16) + uint16_t(65500 + 99));
  EXPECT_EQ(s.received(), uint64_t(received));
  // Next interval: 50 more, none lost.
  for (int i = 100; i < 150; ++i) s.on_packet(uint16_t(65500 + i), i * 3000, i * 33 * kMillisecond);
  s.fill_report_block(6 * kSecond, &b);
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 10);
  // A late retransmission of a lost one (within 100 of the highest): fewer
  // lost, fraction clamps at 0.
  s.on_packet(uint16_t(65595), 95 * 3000, 7 * kSecond);
  s.fill_report_block(7 * kSecond, &b);
  EXPECT_EQ(b.cumulative_lost, 9);
  EXPECT_EQ(b.fraction_lost, 0);
  // Half of the next 8 lost.
  for (int i = 150; i < 158; i += 2) s.on_packet(uint16_t(65500 + i), i * 3000, 8 * kSecond);
  s.fill_report_block(8 * kSecond, &b);
  EXPECT_EQ(b.fraction_lost, 3 * 256 / 7);  // highest is 156: 7 expected, 4 received
}

TEST(ReceiveStatistics, JumpThenRestart) {
  ReceiveStatistics s(1, 48000);
  for (int i = 0; i < 10; ++i) s.on_packet(uint16_t(100 + i), 0, 0);
  EXPECT_FALSE(s.on_packet(20000, 0, 0));  // far ahead: ignored
  EXPECT_EQ(s.received(), 10u);
  EXPECT_TRUE(s.on_packet(110, 0, 0));  // stream goes on
  EXPECT_FALSE(s.on_packet(30000, 0, 0));
  EXPECT_TRUE(s.on_packet(30001, 0, 0));  // sequential after the jump: restart
  EXPECT_EQ(s.received(), 1u);
  EXPECT_EQ(s.cumulative_lost(), 0);
  EXPECT_EQ(s.extended_highest_seq(), 30001);
}

// Jitter against RFC 3550 A.8 written out directly for a synthetic stream:
// 20 ms packets (1800 ticks at 90 kHz) whose arrival wobbles by a known
// pattern of offsets.
TEST(ReceiveStatistics, JitterMatchesA8) {
  ReceiveStatistics s(1, 90000);
  const int offsets_us[] = {0, 5000, 1000, 3000, 12000, 0, 250, 7000};
  const Nanos base = 123 * kSecond;  // any epoch
  int64_t jitter_q4 = 0;             // A.8 integer form
  double jitter_f = 0;               // A.8 floating form
  int64_t prev_transit = 0;
  for (int i = 0; i < 200; ++i) {
    const uint32_t ts = uint32_t(1000 + i * 1800);
    const Nanos arrival = base + i * 20 * kMillisecond + offsets_us[i % 8] * kMicrosecond;
    ASSERT_TRUE(s.on_packet(uint16_t(i), ts, arrival));
    // Arrival in 90 kHz units, truncated (the offsets are not whole ticks).
    const int64_t arrival_ticks = int64_t((__int128)arrival * 90000 / kSecond);
    const int64_t transit = arrival_ticks - ts;
    if (i > 0) {
      const int64_t d = std::llabs(transit - prev_transit);
      jitter_q4 += d - ((jitter_q4 + 8) >> 4);
      jitter_f += (double(d) - jitter_f) / 16.0;
    }
    prev_transit = transit;
    EXPECT_EQ(s.jitter(), uint32_t(jitter_q4 >> 4)) << i;
  }
  EXPECT_NEAR(double(s.jitter()), jitter_f, 1.0);
  EXPECT_GT(s.jitter(), 100u);  // the pattern is several ms of wobble
  ReportBlock b;
  s.fill_report_block(base + 5 * kSecond, &b);
  EXPECT_EQ(b.jitter, s.jitter());
  EXPECT_EQ(b.cumulative_lost, 0);
}

TEST(ReceiveStatistics, ConstantDelayHasNoJitter) {
  ReceiveStatistics s(1, 48000);
  for (int i = 0; i < 100; ++i) {
    s.on_packet(uint16_t(i), uint32_t(960 * i), 5 * kSecond + i * 20 * kMillisecond);
  }
  EXPECT_EQ(s.jitter(), 0u);
}

TEST(Ntp, Conversions) {
  // 2020-01-01T00:00:00Z = 1577836800 Unix.
  const int64_t unix_ns = 1577836800LL * kSecond + kSecond / 2;
  const uint64_t ntp = ntp_from_unix_nanos(unix_ns);
  EXPECT_EQ(ntp >> 32, 1577836800ull + kNtpUnixOffset);
  EXPECT_EQ(ntp & 0xFFFFFFFF, 0x80000000ull);
  EXPECT_EQ(unix_nanos_from_ntp(ntp), unix_ns);
  EXPECT_EQ(ntp_compact(ntp), uint32_t(((1577836800ull + kNtpUnixOffset) & 0xFFFF) << 16 | 0x8000));
  EXPECT_EQ(compact_from_nanos(kSecond / 2), 0x8000u);
  EXPECT_EQ(compact_from_nanos(3 * kSecond), 3u << 16);
  EXPECT_EQ(nanos_from_compact(0x18000), 3 * kSecond / 2);
  // After the 2036 era wrap.
  const int64_t later = 2200000000LL * kSecond;
  EXPECT_EQ(unix_nanos_from_ntp(ntp_from_unix_nanos(later)), later);
}

TEST(Ntp, RoundTripTime) {
  // SR sent at NTP T, held 0.5 s by the receiver, report back at T + 0.6 s.
  const uint64_t t = ntp_from_unix_nanos(1700000000LL * kSecond);
  ReportBlock b;
  b.last_sr = ntp_compact(t);
  b.delay_since_last_sr = compact_from_nanos(500 * kMillisecond);
  const Nanos rtt =
      rtt_from_report_block(b, ntp_from_unix_nanos(1700000000LL * kSecond + 600 * kMillisecond));
  EXPECT_NEAR(double(rtt), double(100 * kMillisecond), double(50 * kMicrosecond));
  b.last_sr = 0;
  EXPECT_EQ(rtt_from_report_block(b, t), 0);
}

TEST(ReceiveStatistics, LsrDlsr) {
  ReceiveStatistics s(1, 90000);
  s.on_packet(1, 0, kSecond);
  const uint64_t sr_ntp = ntp_from_unix_nanos(1700000000LL * kSecond);
  s.on_sender_report(sr_ntp, 2 * kSecond);
  ReportBlock b;
  s.fill_report_block(2 * kSecond + 250 * kMillisecond, &b);
  EXPECT_EQ(b.last_sr, ntp_compact(sr_ntp));
  EXPECT_EQ(b.delay_since_last_sr, 0x4000u);
}

TEST(SenderStatistics, FillsSenderInfo) {
  SenderStatistics s(7, 90000);
  for (int i = 0; i < 10; ++i)
    s.on_packet_sent(uint32_t(1000 + 3000 * i), 1000, i * 33 * kMillisecond);
  const uint64_t ntp = ntp_from_unix_nanos(1700000000LL * kSecond);
  // 100 ms after the last packet: timestamp advanced by 9000.
  const SenderInfo info = s.sender_info(9 * 33 * kMillisecond + 100 * kMillisecond, ntp);
  EXPECT_EQ(info.ntp, ntp);
  EXPECT_EQ(info.rtp_timestamp, 1000u + 3000 * 9 + 9000);
  EXPECT_EQ(info.packet_count, 10u);
  EXPECT_EQ(info.octet_count, 10000u);
  EXPECT_EQ(s.last_sr_compact(), ntp_compact(ntp));
}

}  // namespace
}  // namespace rtp
}  // namespace tern
