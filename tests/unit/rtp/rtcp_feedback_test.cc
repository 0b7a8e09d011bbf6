#include "engine/rtp/rtcp_feedback.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/rtp/test_util.h"

namespace tern {
namespace rtp {
namespace {

using testing::hex;

RtcpPacket single(const std::vector<uint8_t>& pkt) {
  RtcpCompound c;
  EXPECT_EQ(c.parse(pkt.data(), pkt.size()), RtcpError::kOk);
  return c.valid() ? *c.begin() : RtcpPacket{};
}

// RFC 4585 §6.2.1: PID 100, BLP 0x8001 -> 100, 101 (bit 0), 116 (bit 15).
const std::vector<uint8_t> kNack = hex("81 cd 0003 00000001 00000002 0064 8001");

TEST(Nack, ExpandsPidBlp) {
  NackPacket n;
  ASSERT_TRUE(n.parse(single(kNack)));
  EXPECT_EQ(n.sender_ssrc(), 1u);
  EXPECT_EQ(n.media_ssrc(), 2u);
  ASSERT_EQ(n.item_count(), 1u);
  EXPECT_EQ(n.pid(0), 100);
  EXPECT_EQ(n.blp(0), 0x8001);
  uint16_t lost[8];
  ASSERT_EQ(n.lost(lost, 8), 3u);
  EXPECT_EQ(lost[0], 100);
  EXPECT_EQ(lost[1], 101);
  EXPECT_EQ(lost[2], 116);
  EXPECT_EQ(n.lost(lost, 1), 3u);  // total even when the output is short
}

TEST(Nack, BuildsFromLostList) {
  uint8_t buf[64];
  const uint16_t lost[] = {100, 101, 116};
  size_t n = write_nack(buf, sizeof(buf), 1, 2, lost);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), kNack);

  // Across the wrap, with a duplicate, and a seq 17 past the PID.
  const uint16_t wrap[] = {65535, 0, 0, 5, 16, 40};
  n = write_nack(buf, sizeof(buf), 1, 2, wrap);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n),
            hex("81 cd 0005 00000001 00000002 ffff 0021 0010 0000 0028 0000"));
  NackPacket p;
  const std::vector<uint8_t> built(buf, buf + n);
  ASSERT_TRUE(p.parse(single(built)));
  uint16_t out[8];
  ASSERT_EQ(p.lost(out, 8), 5u);
  EXPECT_EQ(out[0], 65535);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 5);
  EXPECT_EQ(out[3], 16);
  EXPECT_EQ(out[4], 40);
  EXPECT_EQ(write_nack(buf, 19, 1, 2, wrap), 0u);
  EXPECT_EQ(write_nack(buf, sizeof(buf), 1, 2, {}), 0u);
}

TEST(Nack, RejectsBadFci) {
  NackPacket n;
  EXPECT_FALSE(n.parse(single(hex("81 cd 0002 00000001 00000002"))));            // no FCI
  EXPECT_FALSE(n.parse(single(hex("82 cd 0003 00000001 00000002 0064 8001"))));  // FMT 2
}

TEST(Pli, BuildsAndIsRecognised) {
  uint8_t buf[16];
  const size_t n = write_pli(buf, sizeof(buf), 1, 2);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), hex("81 ce 0002 00000001 00000002"));
  const auto pkt = std::vector<uint8_t>(buf, buf + n);
  const RtcpPacket p = single(pkt);
  EXPECT_TRUE(is_feedback(p, rtcp_type::kPsfb, fb_fmt::kPli));
  EXPECT_EQ(feedback_media_ssrc(p), 2u);
}

// RFC 5104 §4.3.1: media SSRC 0, FCI SSRC + seq nr + reserved.
TEST(Fir, RoundTrips) {
  const auto want = hex("84 ce 0006 00000001 00000000 0000aaaa 07000000 0000bbbb 08000000");
  const FirEntry e[] = {{0xaaaa, 7}, {0xbbbb, 8}};
  uint8_t buf[64];
  const size_t n = write_fir(buf, sizeof(buf), 1, e);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), want);
  FirPacket f;
  ASSERT_TRUE(f.parse(single(want)));
  EXPECT_EQ(f.sender_ssrc(), 1u);
  ASSERT_EQ(f.entry_count(), 2u);
  EXPECT_EQ(f.entry(1).ssrc, 0xbbbbu);
  EXPECT_EQ(f.entry(1).seq_nr, 8);
  EXPECT_FALSE(f.parse(single(hex("84 ce 0002 00000001 00000000"))));
  EXPECT_FALSE(f.parse(single(hex("84 ce 0003 00000001 00000000 0000aaaa"))));
}

// draft-alvestrand-rmcat-remb §2.2 layout: 1 000 000 bps = 250000 << 2
// (mantissa 0x3d090, exp 2) for one SSRC.
const std::vector<uint8_t> kRemb = hex("8f ce 0005 00000001 00000000 52454d42 01 0b d090 12345678");

TEST(Remb, ParsesDraftLayout) {
  RembPacket r;
  ASSERT_TRUE(r.parse(single(kRemb)));
  EXPECT_EQ(r.sender_ssrc(), 1u);
  EXPECT_EQ(r.bitrate_bps(), 1000000u);
  ASSERT_EQ(r.ssrc_count(), 1u);
  EXPECT_EQ(r.ssrc(0), 0x12345678u);
  auto bad = kRemb;
  bad[12] = 'X';
  EXPECT_FALSE(r.parse(single(bad)));
  bad = kRemb;
  bad[16] = 2;  // two SSRCs, one present
  EXPECT_FALSE(r.parse(single(bad)));
  // Largest exponent saturates instead of wrapping.
  bad = kRemb;
  bad[17] = 0xff;
  ASSERT_TRUE(r.parse(single(bad)));
  EXPECT_EQ(r.bitrate_bps(), UINT64_MAX);
}

TEST(Remb, Builds) {
  uint8_t buf[64];
  const uint32_t ssrc = 0x12345678;
  size_t n = write_remb(buf, sizeof(buf), 1, 1000000, {&ssrc, 1});
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), kRemb);
  // Rounds down to an 18-bit mantissa.
  n = write_remb(buf, sizeof(buf), 1, 1000003, {&ssrc, 1});
  RembPacket r;
  const std::vector<uint8_t> rounded(buf, buf + n);
  ASSERT_TRUE(r.parse(single(rounded)));
  EXPECT_EQ(r.bitrate_bps(), 1000000u);
  n = write_remb(buf, sizeof(buf), 1, 0x3FFFF, {});
  const std::vector<uint8_t> no_ssrc(buf, buf + n);
  ASSERT_TRUE(r.parse(single(no_ssrc)));
  EXPECT_EQ(r.bitrate_bps(), 0x3FFFFu);
  EXPECT_EQ(r.ssrc_count(), 0u);
}

// Chunks from draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.3/3.1.4:
//   0x9f1c  1-bit vector: 1x not received, 5x received, 3x not, 3x received, 2x not
//   0xcd50  2-bit vector: not received, "11", 3x small delta, 2x not received
//   0x00dd  run length: 221x not received
const std::vector<uint8_t> kTcc =
    hex("8f cd 0009 00000001 00000002"
        "03e8 00f2 000010 05"               // base 1000, 242 statuses, ref 16 (x 64 ms), fb count 5
        "9f1c cd50 00dd"                    // chunks
        "01 02 03 04 05 06 07 08 09 0a 0b"  // 11 small deltas
        "00 00 00");                        // zero padding

TEST(TransportCc, ParsesDraftChunks) {
  TransportCcPacket t;
  ASSERT_TRUE(t.parse(single(kTcc)));
  EXPECT_EQ(t.sender_ssrc(), 1u);
  EXPECT_EQ(t.media_ssrc(), 2u);
  EXPECT_EQ(t.base_seq(), 1000);
  EXPECT_EQ(t.status_count(), 242);
  EXPECT_EQ(t.reference_time(), 16);
  EXPECT_EQ(t.fb_count(), 5);
  EXPECT_EQ(t.chunk_count(), 3u);
  std::vector<TccPacketStatus> s;
  TransportCcPacket::Reader r(t);
  TccPacketStatus st;
  while (r.next(&st)) s.push_back(st);
  ASSERT_EQ(s.size(), 242u);
  const int recv[] = {1, 2, 3, 4, 5, 9, 10, 11, 16, 17, 18};
  int64_t ticks = 16 * 256;
  int delta = 0;
  size_t k = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].seq, 1000 + i);
    if (i == 15) {
      EXPECT_EQ(s[i].status, TccStatus::kReserved);
      continue;
    }
    const bool got = k < 11 && recv[k] == int(i);
    ASSERT_EQ(s[i].received(), got) << i;
    if (got) {
      EXPECT_EQ(s[i].status, TccStatus::kSmallDelta);
      ticks += ++delta;
      EXPECT_EQ(s[i].arrival_ticks, ticks) << i;
      ++k;
    }
  }
  EXPECT_EQ(k, 11u);
  EXPECT_EQ(s[1].arrival(), 16 * 64 * kMillisecond + kTccTick);
}

TEST(TransportCc, RejectsShortChunksOrDeltas) {
  TransportCcPacket t;
  // Status count one more than the chunks describe: needs a 4th chunk.
  auto more = kTcc;
  more[15] = 0xf3;
  // The next two bytes (delta bytes 01 02) read as a run of 258 "not
  // received": still consistent, so it parses.
  EXPECT_TRUE(t.parse(single(more)));
  more[15] = 0xf2;
  more[25] = 0xde;  // run of 222: one status too many is clipped, fine
  EXPECT_TRUE(t.parse(single(more)));
  // Chunk 0x9fff: 13 received -> 5 more deltas than present.
  auto deltas = kTcc;
  deltas[20] = 0xbf;
  deltas[21] = 0xff;
  EXPECT_FALSE(t.parse(single(deltas)));
  // Every truncation of the FCI (with the length field fixed up) fails.
  for (size_t words = 3; words < 9; ++words) {
    std::vector<uint8_t> cut(kTcc.begin(), kTcc.begin() + 4 * (words + 1));
    cut[3] = uint8_t(words);
    EXPECT_FALSE(t.parse(single(cut))) << words;
  }
}

TEST(TransportCc, BuildsByteExact) {
  // seq 65534, 65535, (0 lost), 1, 2; ref = 1000 ms / 64 ms = 15 (960 ms).
  const TccArrival in[] = {
      {65534, 1000 * kMillisecond},
      {65535, 1000 * kMillisecond + 250 * kMicrosecond},
      {1, 1001 * kMillisecond},
      {2, 1070 * kMillisecond},  // 276 ticks later: a large delta
  };
  uint8_t buf[64];
  size_t consumed = 0;
  const size_t n = write_transport_cc(buf, sizeof(buf), 1, 2, 7, in, &consumed);
  EXPECT_EQ(consumed, 4u);
  const auto want =
      hex("8f cd 0006 00000001 00000002 fffe 0005 00000f 07"
          "d460"           // 2-bit vector: small small none small large (+2 unused)
          "a0 01 03 0114"  // 160, 1, 3, 276 ticks
          "00");
  ASSERT_EQ(std::vector<uint8_t>(buf, buf + n), want);

  TransportCcPacket t;
  ASSERT_TRUE(t.parse(single(want)));
  TransportCcPacket::Reader r(t);
  TccPacketStatus s;
  size_t i = 0;
  for (uint16_t seq : {65534, 65535, 0, 1, 2}) {
    ASSERT_TRUE(r.next(&s));
    EXPECT_EQ(s.seq, seq);
    if (seq == 0) {
      EXPECT_FALSE(s.received());
      continue;
    }
    EXPECT_EQ(s.arrival(), in[i].arrival / kTccTick * kTccTick);
    ++i;
  }
  EXPECT_FALSE(r.next(&s));
}

std::vector<TccPacketStatus> round_trip(const std::vector<TccArrival>& in, size_t cap,
                                        size_t* consumed, std::vector<uint8_t>* wire = nullptr) {
  std::vector<uint8_t> buf(cap);
  const size_t n = write_transport_cc(buf.data(), cap, 1, 2, 0, in, consumed);
  std::vector<TccPacketStatus> out;
  if (n == 0) return out;
  buf.resize(n);
  if (wire) *wire = buf;
  TransportCcPacket t;
  EXPECT_TRUE(t.parse(single(buf)));
  TransportCcPacket::Reader r(t);
  TccPacketStatus s;
  while (r.next(&s)) out.push_back(s);
  return out;
}

TEST(TransportCc, RunLengthAndVectors) {
  std::vector<TccArrival> in;
  for (int i = 0; i < 20; ++i) in.push_back({uint16_t(10 + i), Nanos(i) * kMillisecond});
  // A gap of 30, then alternating received/lost.
  for (int i = 0; i < 10; ++i) in.push_back({uint16_t(60 + 2 * i), Nanos(100 + i) * kMillisecond});
  size_t consumed = 0;
  std::vector<uint8_t> wire;
  const auto s = round_trip(in, 1200, &consumed, &wire);
  EXPECT_EQ(consumed, in.size());
  ASSERT_EQ(s.size(), 69u);                        // 10 .. 78
  EXPECT_EQ(load_be16(wire.data() + 20), 0x2014);  // run of 20 small deltas
  size_t k = 0;
  for (const auto& st : s) {
    if (!st.received()) continue;
    ASSERT_LT(k, in.size());
    EXPECT_EQ(st.seq, in[k].seq);
    EXPECT_EQ(st.arrival(), in[k].arrival);  // whole ticks: exact
    ++k;
  }
  EXPECT_EQ(k, in.size());
}

TEST(TransportCc, SplitsWhenItDoesNotFit) {
  std::vector<TccArrival> in;
  for (int i = 0; i < 100; ++i) in.push_back({uint16_t(i), Nanos(i) * 5 * kMillisecond});
  size_t consumed = 0;
  // 20 header + chunks + 100 deltas do not fit 64 bytes.
  const auto s = round_trip(in, 64, &consumed);
  ASSERT_GT(consumed, 0u);
  EXPECT_LT(consumed, 100u);
  EXPECT_EQ(s.size(), consumed);
  // A 10 s pause: beyond a 16-bit delta, so the message stops before it.
  in = {{1, 0}, {2, kMillisecond}, {3, 10 * kSecond}};
  round_trip(in, 1200, &consumed);
  EXPECT_EQ(consumed, 2u);
  // A gap beyond kTccMaxStatuses.
  in = {{1, 0}, {uint16_t(1 + kTccMaxStatuses), kMillisecond}};
  round_trip(in, 1200, &consumed);
  EXPECT_EQ(consumed, 1u);
  // Negative deltas (reordered arrival) use the large form.
  in = {{1, 10 * kMillisecond}, {2, 5 * kMillisecond}};
  const auto neg = round_trip(in, 1200, &consumed);
  ASSERT_EQ(neg.size(), 2u);
  EXPECT_EQ(neg[1].status, TccStatus::kLargeDelta);
  EXPECT_EQ(neg[1].arrival(), 5 * kMillisecond);
}

}  // namespace
}  // namespace rtp
}  // namespace tern
