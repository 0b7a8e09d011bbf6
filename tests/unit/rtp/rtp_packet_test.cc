#include "engine/rtp/rtp_packet.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/rtp/test_util.h"

namespace tern {
namespace rtp {
namespace {

using testing::hex;

// V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq 0x1234 | ts 0x00005678 | SSRC deadbeef | payload
const std::vector<uint8_t> kMinimal = hex("80 e0 1234 00005678 deadbeef 01 02 03");

TEST(RtpPacket, ParsesFixedHeader) {
  RtpView v;
  ASSERT_EQ(v.parse(kMinimal.data(), kMinimal.size()), RtpError::kOk);
  EXPECT_EQ(v.version(), 2);
  EXPECT_FALSE(v.has_padding());
  EXPECT_FALSE(v.has_extension());
  EXPECT_EQ(v.csrc_count(), 0);
  EXPECT_TRUE(v.marker());
  EXPECT_EQ(v.payload_type(), 96);
  EXPECT_EQ(v.sequence(), 0x1234);
  EXPECT_EQ(v.timestamp(), 0x5678u);
  EXPECT_EQ(v.ssrc(), 0xdeadbeefu);
  EXPECT_EQ(v.header_size(), 12u);
  ASSERT_EQ(v.payload_size(), 3u);
  EXPECT_EQ(v.payload()[0], 1);
  EXPECT_EQ(v.payload()[2], 3);
  EXPECT_EQ(v.padding_size(), 0u);
}

// CC=2, X (profile 0xBEDE, 1 word), P with 3 padding bytes.
const std::vector<uint8_t> kFull =
    hex("b2 60 0001 00000002 00000003"  // V2 P X CC=2, PT 96, seq 1, ts 2, ssrc 3
        "11111111 22222222"             // CSRCs
        "bede 0001 10 aa 00 00"         // one-byte ext: id 1 len 1 (0xaa), padding
        "de ad be ef"                   // payload
        "00 00 03");                    // padding, count 3

TEST(RtpPacket, ParsesCsrcExtensionPadding) {
  RtpView v;
  ASSERT_EQ(v.parse(kFull.data(), kFull.size()), RtpError::kOk);
  EXPECT_TRUE(v.has_padding());
  EXPECT_TRUE(v.has_extension());
  ASSERT_EQ(v.csrc_count(), 2);
  EXPECT_EQ(v.csrc(0), 0x11111111u);
  EXPECT_EQ(v.csrc(1), 0x22222222u);
  EXPECT_EQ(v.extension_profile(), 0xBEDE);
  EXPECT_EQ(v.extension_offset(), 24u);
  EXPECT_EQ(v.extension_block().size(), 4u);
  EXPECT_EQ(v.header_size(), 28u);
  EXPECT_EQ(v.payload_size(), 4u);
  EXPECT_EQ(v.payload()[0], 0xde);
  EXPECT_EQ(v.padding_size(), 3u);
}

TEST(RtpPacket, EveryTruncationRejected) {
  for (const auto* pkt : {&kMinimal, &kFull}) {
    RtpView v;
    for (size_t len = 0; len < pkt->size(); ++len) {
      const RtpError e = v.parse(pkt->data(), len);
      // Any prefix of kFull loses its padding count; of kMinimal only the
      // header matters, so payload-only truncations are still valid RTP.
      if (pkt == &kMinimal && len >= 12) {
        EXPECT_EQ(e, RtpError::kOk) << len;
      } else {
        EXPECT_NE(e, RtpError::kOk) << "len " << len;
        EXPECT_FALSE(v.valid());
      }
    }
  }
}

TEST(RtpPacket, RejectsMalformed) {
  RtpView v;
  auto bad_version = kMinimal;
  bad_version[0] = 0x40;
  EXPECT_EQ(v.parse(bad_version.data(), bad_version.size()), RtpError::kBadVersion);
  auto csrc = kMinimal;
  csrc[0] = 0x81;  // one CSRC but only 3 bytes after the header
  EXPECT_EQ(v.parse(csrc.data(), csrc.size()), RtpError::kCsrcOverrun);
  auto ext = kFull;
  ext[23] = 9;  // extension length 9 words does not fit
  EXPECT_EQ(v.parse(ext.data(), ext.size()), RtpError::kExtensionOverrun);
  auto pad0 = kFull;
  pad0.back() = 0;
  EXPECT_EQ(v.parse(pad0.data(), pad0.size()), RtpError::kBadPadding);
  auto pad_big = kFull;
  pad_big.back() = 8;  // payload(4) + padding(3) = 7 < 8
  EXPECT_EQ(v.parse(pad_big.data(), pad_big.size()), RtpError::kBadPadding);
  auto pad_all = kFull;
  pad_all.back() = 7;  // padding may consume the whole payload
  EXPECT_EQ(v.parse(pad_all.data(), pad_all.size()), RtpError::kOk);
  EXPECT_EQ(v.payload_size(), 0u);
}

TEST(RtpPacket, SettersRewriteInPlace) {
  auto buf = kFull;
  RtpPacket p;
  ASSERT_EQ(p.parse(buf.data(), buf.size()), RtpError::kOk);
  p.set_ssrc(0x01020304);
  p.set_sequence(0xfffe);
  p.set_timestamp(0xa0b0c0d0);
  p.set_payload_type(111);
  p.set_marker(true);
  const auto want = hex(
      "b2 ef fffe a0b0c0d0 01020304 11111111 22222222 bede 0001 10 aa 00 00 de ad be ef 00 00 03");
  EXPECT_EQ(buf, want);
  p.set_marker(false);
  EXPECT_EQ(buf[1], 111);
  p.set_payload_type(0);
  EXPECT_EQ(buf[1], 0);
  RtpView again;
  ASSERT_EQ(again.parse(buf.data(), buf.size()), RtpError::kOk);
  EXPECT_EQ(again.ssrc(), 0x01020304u);
}

TEST(RtpPacket, WritesHeader) {
  uint8_t buf[64];
  const uint32_t csrcs[] = {0x11111111, 0x22222222};
  RtpHeaderFields h;
  h.marker = true;
  h.payload_type = 96;
  h.sequence = 0x1234;
  h.timestamp = 0x5678;
  h.ssrc = 0xdeadbeef;
  EXPECT_EQ(write_rtp_header(buf, sizeof(buf), h), 12u);
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + 12), hex("80 e0 1234 00005678 deadbeef"));
  h.csrcs = csrcs;
  EXPECT_EQ(write_rtp_header(buf, sizeof(buf), h), 20u);
  EXPECT_EQ(buf[0], 0x82);
  EXPECT_EQ(write_rtp_header(buf, 19, h), 0u);
}

}  // namespace
}  // namespace rtp
}  // namespace tern
