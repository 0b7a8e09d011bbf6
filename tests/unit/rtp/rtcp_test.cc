#include "engine/rtp/rtcp.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/rtp/test_util.h"

namespace tern {
namespace rtp {
namespace {

using testing::hex;

// RFC 3550 §6.4.1 SR with one report block.
const std::vector<uint8_t> kSr =
    hex("81 c8 000c"         // V2 RC=1 PT=200 length 12
        "11223344"           // SSRC of sender
        "e5a0b1c2 80000000"  // NTP
        "00012345"           // RTP timestamp
        "00000064"           // packet count 100
        "00002710"           // octet count 10000
        "55667788"           // block: SSRC
        "19 fffffe"          // fraction 25/256, cumulative -2
        "0001fff0"           // extended highest seq
        "00000123"           // jitter
        "b1c20000"           // LSR
        "00008000");         // DLSR 0.5 s

// §6.5 SDES with a CNAME, §6.6 BYE with a reason.
const std::vector<uint8_t> kSdes = hex("81 ca 0003 11223344 01 03 616263 00 0000");
const std::vector<uint8_t> kBye = hex("81 cb 0003 11223344 04 62796521 000000");
// RR with no blocks and 4 bytes of padding (allowed on the last packet only).
const std::vector<uint8_t> kPaddedRr = hex("a0 c9 0002 11223344 00000004");

std::vector<uint8_t> cat(std::initializer_list<const std::vector<uint8_t>*> parts) {
  std::vector<uint8_t> out;
  for (const auto* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

TEST(Rtcp, ParsesCompound) {
  const auto pkt = cat({&kSr, &kSdes, &kBye, &kPaddedRr});
  RtcpCompound c;
  ASSERT_EQ(c.parse(pkt.data(), pkt.size()), RtcpError::kOk);
  EXPECT_EQ(c.packet_count(), 4u);
  std::vector<RtcpPacket> packets;
  for (RtcpPacket p : c) packets.push_back(p);
  ASSERT_EQ(packets.size(), 4u);

  ReportPacket sr;
  ASSERT_TRUE(sr.parse(packets[0]));
  EXPECT_TRUE(sr.is_sender_report());
  EXPECT_EQ(sr.ssrc(), 0x11223344u);
  EXPECT_EQ(sr.sender_info().ntp, 0xe5a0b1c280000000ull);
  EXPECT_EQ(sr.sender_info().rtp_timestamp, 0x12345u);
  EXPECT_EQ(sr.sender_info().packet_count, 100u);
  EXPECT_EQ(sr.sender_info().octet_count, 10000u);
  ASSERT_EQ(sr.block_count(), 1u);
  const ReportBlock b = sr.block(0);
  EXPECT_EQ(b.ssrc, 0x55667788u);
  EXPECT_EQ(b.fraction_lost, 25);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.extended_highest_seq, 0x1fff0u);
  EXPECT_EQ(b.jitter, 0x123u);
  EXPECT_EQ(b.last_sr, 0xb1c20000u);
  EXPECT_EQ(b.delay_since_last_sr, 0x8000u);

  uint32_t ssrc = 0;
  absl::string_view cname;
  ASSERT_TRUE(read_sdes_cname(packets[1], &ssrc, &cname));
  EXPECT_EQ(ssrc, 0x11223344u);
  EXPECT_EQ(cname, "abc");

  ByePacket bye;
  ASSERT_TRUE(bye.parse(packets[2]));
  ASSERT_EQ(bye.ssrc_count(), 1u);
  EXPECT_EQ(bye.ssrc(0), 0x11223344u);
  EXPECT_EQ(bye.reason(), "bye!");

  EXPECT_EQ(packets[3].type, rtcp_type::kRr);
  EXPECT_EQ(packets[3].size, 12u);
  EXPECT_EQ(packets[3].body_size, 4u);
  ReportPacket rr;
  ASSERT_TRUE(rr.parse(packets[3]));
  EXPECT_FALSE(rr.is_sender_report());
  EXPECT_EQ(rr.block_count(), 0u);
  // Parsers refuse other types.
  EXPECT_FALSE(bye.parse(packets[0]));
  EXPECT_FALSE(sr.parse(packets[2]));
}

TEST(Rtcp, TruncationsRejectedExceptAtPacketBoundaries) {
  const auto pkt = cat({&kSr, &kSdes, &kBye, &kPaddedRr});
  const size_t bounds[] = {kSr.size(), kSr.size() + kSdes.size(),
                           kSr.size() + kSdes.size() + kBye.size()};
  RtcpCompound c;
  for (size_t len = 0; len < pkt.size(); ++len) {
    const bool boundary = len == bounds[0] || len == bounds[1] || len == bounds[2];
    EXPECT_EQ(c.parse(pkt.data(), len) == RtcpError::kOk, boundary) << "len " << len;
  }
}

TEST(Rtcp, RejectsMalformedCompound) {
  RtcpCompound c;
  auto v = kSr;
  v[0] = 0x41;
  EXPECT_EQ(c.parse(v.data(), v.size()), RtcpError::kBadVersion);
  // Padding on a packet that is not last.
  const auto pad_first = cat({&kPaddedRr, &kSdes});
  EXPECT_EQ(c.parse(pad_first.data(), pad_first.size()), RtcpError::kBadPadding);
  auto pad0 = kPaddedRr;
  pad0.back() = 0;
  EXPECT_EQ(c.parse(pad0.data(), pad0.size()), RtcpError::kBadPadding);
  auto pad_big = kPaddedRr;
  pad_big.back() = 9;  // body is 8 bytes
  EXPECT_EQ(c.parse(pad_big.data(), pad_big.size()), RtcpError::kBadPadding);
  auto longer = kSr;
  longer[3] = 0x0d;  // one word past the end
  EXPECT_EQ(c.parse(longer.data(), longer.size()), RtcpError::kTooShort);
  // Trailing bytes that are not a whole packet.
  auto trailing = kSdes;
  trailing.push_back(0x80);
  trailing.push_back(0xc9);
  EXPECT_EQ(c.parse(trailing.data(), trailing.size()), RtcpError::kTooShort);
}

// Body shorter than what the count field promises: the compound is fine, the
// type parser refuses.
TEST(Rtcp, ParsersCheckCounts) {
  auto sr = kSr;
  sr[0] = 0x82;  // RC=2, one block present
  RtcpCompound c;
  ASSERT_EQ(c.parse(sr.data(), sr.size()), RtcpError::kOk);
  ReportPacket r;
  EXPECT_FALSE(r.parse(*c.begin()));

  auto bye = kBye;
  bye[8] = 0x05;  // reason length 5: 1 + 5 fits the 8 bytes after the SSRC
  ASSERT_EQ(c.parse(bye.data(), bye.size()), RtcpError::kOk);
  ByePacket b;
  EXPECT_TRUE(b.parse(*c.begin()));
  bye[8] = 0x08;  // 1 + 8 does not
  ASSERT_EQ(c.parse(bye.data(), bye.size()), RtcpError::kOk);
  EXPECT_FALSE(b.parse(*c.begin()));
  bye[0] = 0x84;  // 4 SSRCs in a 12-byte body
  ASSERT_EQ(c.parse(bye.data(), bye.size()), RtcpError::kOk);
  EXPECT_FALSE(b.parse(*c.begin()));

  auto sdes = kSdes;
  sdes[9] = 0x09;  // item length past the chunk
  ASSERT_EQ(c.parse(sdes.data(), sdes.size()), RtcpError::kOk);
  SdesReader reader(*c.begin());
  SdesItem item;
  EXPECT_FALSE(reader.next(&item));
  EXPECT_TRUE(reader.malformed());
  sdes = kSdes;
  sdes[0] = 0x82;  // two chunks, one present
  ASSERT_EQ(c.parse(sdes.data(), sdes.size()), RtcpError::kOk);
  SdesReader r2(*c.begin());
  EXPECT_TRUE(r2.next(&item));
  EXPECT_FALSE(r2.next(&item));
  EXPECT_TRUE(r2.malformed());
}

TEST(Rtcp, BuildsByteExact) {
  uint8_t buf[128];
  SenderInfo info;
  info.ntp = 0xe5a0b1c280000000ull;
  info.rtp_timestamp = 0x12345;
  info.packet_count = 100;
  info.octet_count = 10000;
  ReportBlock b;
  b.ssrc = 0x55667788;
  b.fraction_lost = 25;
  b.cumulative_lost = -2;
  b.extended_highest_seq = 0x1fff0;
  b.jitter = 0x123;
  b.last_sr = 0xb1c20000;
  b.delay_since_last_sr = 0x8000;
  size_t n = write_sender_report(buf, sizeof(buf), 0x11223344, info, {&b, 1});
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), kSr);
  EXPECT_EQ(write_sender_report(buf, kSr.size() - 1, 0x11223344, info, {&b, 1}), 0u);

  n = write_sdes_cname(buf, sizeof(buf), 0x11223344, "abc");
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), kSdes);
  const uint32_t ssrc = 0x11223344;
  n = write_bye(buf, sizeof(buf), {&ssrc, 1}, "bye!");
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), kBye);
  n = write_bye(buf, sizeof(buf), {&ssrc, 1});
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), hex("81 cb 0001 11223344"));
  n = write_receiver_report(buf, sizeof(buf), 0x11223344, {});
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), hex("80 c9 0001 11223344"));

  // CNAME lengths 0..8 all pad to a whole word with a terminating null.
  for (size_t len = 0; len <= 8; ++len) {
    const std::string name(len, 'x');
    n = write_sdes_cname(buf, sizeof(buf), 7, name);
    ASSERT_EQ(n % 4, 0u);
    RtcpCompound c;
    ASSERT_EQ(c.parse(buf, n), RtcpError::kOk);
    uint32_t s = 0;
    absl::string_view cname;
    ASSERT_TRUE(read_sdes_cname(*c.begin(), &s, &cname));
    EXPECT_EQ(cname, name);
  }
}

TEST(Rtcp, CumulativeLostClampsTo24Bits) {
  uint8_t buf[24];
  ReportBlock b;
  b.cumulative_lost = 0x1000000;
  write_report_block(buf, b);
  EXPECT_EQ(read_report_block(buf).cumulative_lost, 0x7FFFFF);
  b.cumulative_lost = -0x1000000;
  write_report_block(buf, b);
  EXPECT_EQ(read_report_block(buf).cumulative_lost, -0x800000);
}

}  // namespace
}  // namespace rtp
}  // namespace tern
