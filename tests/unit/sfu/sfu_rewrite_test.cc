// Keyframe detectors on real payload bytes and the per-consumer rewrite
// (header fields, extension id remap, per-hop extensions, RTX layout).
#include <gtest/gtest.h>

#include "engine/rtp/rtp_extensions.h"
#include "engine/sfu/keyframe.h"
#include "engine/sfu/rtp_rewrite.h"
#include "tests/unit/sfu/sfu_test_util.h"

namespace tern::sfu {
namespace {

using testing::Bytes;

TEST(Keyframe, Vp8) {
  // Chrome VP8 keyframe start: X=1, I=1 (15-bit picture id), then the frame
  // tag 0x50 (P=0, show_frame) and the start code 9d 01 2a.
  const Bytes key = {0x90, 0x80, 0x81, 0x23, 0x50, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
  EXPECT_TRUE(is_keyframe(CodecId::kVp8, key.data(), key.size()));
  const Bytes inter = {0x90, 0x80, 0x81, 0x24, 0x31, 0x40, 0x01, 0x9d};  // P=1
  EXPECT_FALSE(is_keyframe(CodecId::kVp8, inter.data(), inter.size()));
  const Bytes cont = {0x80, 0x80, 0x81, 0x23, 0x50, 0x00};  // S=0: not the first partition
  EXPECT_FALSE(is_keyframe(CodecId::kVp8, cont.data(), cont.size()));
  // X with L and T/K: 1 + 1 + 1 (7-bit picture id) + 1 + 1, then the tag.
  const Bytes lt = {0x90, 0xF0, 0x05, 0x07, 0x20, 0x10, 0x9d};
  EXPECT_TRUE(is_keyframe(CodecId::kVp8, lt.data(), lt.size()));
  const Bytes truncated = {0x90, 0x80};
  EXPECT_FALSE(is_keyframe(CodecId::kVp8, truncated.data(), truncated.size()));
}

TEST(Keyframe, Vp9) {
  const Bytes key = {0x8A, 0x81, 0x23, 0x82, 0x49, 0x83};  // I, B, V; P=0
  EXPECT_TRUE(is_keyframe(CodecId::kVp9, key.data(), key.size()));
  const Bytes inter = {0xCA, 0x81, 0x24, 0x00};  // P=1
  EXPECT_FALSE(is_keyframe(CodecId::kVp9, inter.data(), inter.size()));
  const Bytes mid_frame = {0x82, 0x81, 0x23, 0x00};  // B=0
  EXPECT_FALSE(is_keyframe(CodecId::kVp9, mid_frame.data(), mid_frame.size()));
  const Bytes l_sid1 = {0xA8, 0x05, 0x02, 0x00};  // I (7-bit), L with SID=1
  EXPECT_FALSE(is_keyframe(CodecId::kVp9, l_sid1.data(), l_sid1.size()));
  const Bytes l_sid0 = {0xA8, 0x05, 0x00, 0x00};
  EXPECT_TRUE(is_keyframe(CodecId::kVp9, l_sid0.data(), l_sid0.size()));
}

TEST(Keyframe, H264) {
  const Bytes idr = {0x65, 0x88, 0x84, 0x00};  // NAL 5
  EXPECT_TRUE(is_keyframe(CodecId::kH264, idr.data(), idr.size()));
  const Bytes slice = {0x41, 0x9a, 0x02};  // NAL 1
  EXPECT_FALSE(is_keyframe(CodecId::kH264, slice.data(), slice.size()));
  // STAP-A with SPS (0x67) and PPS (0x68), as Chrome sends before an IDR.
  const Bytes stap = {0x78, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1f, 0x00, 0x02, 0x68, 0xce};
  EXPECT_TRUE(is_keyframe(CodecId::kH264, stap.data(), stap.size()));
  const Bytes stap_bad = {0x78, 0x00, 0x09, 0x67};  // size runs past the end
  EXPECT_FALSE(is_keyframe(CodecId::kH264, stap_bad.data(), stap_bad.size()));
  const Bytes fu_start = {0x7c, 0x85, 0x88};  // FU-A, S=1, type 5
  EXPECT_TRUE(is_keyframe(CodecId::kH264, fu_start.data(), fu_start.size()));
  const Bytes fu_mid = {0x7c, 0x05, 0x88};  // S=0
  EXPECT_FALSE(is_keyframe(CodecId::kH264, fu_mid.data(), fu_mid.size()));
}

TEST(Keyframe, Av1AndAudio) {
  const Bytes n = {0x18, 0x0a, 0x0b};  // W=1, N=1
  EXPECT_TRUE(is_keyframe(CodecId::kAv1, n.data(), n.size()));
  const Bytes not_n = {0x10, 0x32};
  EXPECT_FALSE(is_keyframe(CodecId::kAv1, not_n.data(), not_n.size()));
  EXPECT_FALSE(is_keyframe(CodecId::kOpus, n.data(), n.size()));
  EXPECT_FALSE(is_keyframe(CodecId::kVp8, nullptr, 0));
}

TEST(Rewrite, HeaderAndExtensionsRemapped) {
  testing::RtpSpec in;
  in.seq = 1000;
  in.ts = 5555;
  in.ssrc = 0x11111111;
  in.marker = true;
  in.mid = "0";
  in.rid = "h";
  in.audio_level = 42;
  in.payload = {1, 2, 3, 4, 5};
  Bytes src = testing::make_rtp(in);
  rtp::RtpView v;
  ASSERT_EQ(v.parse(src.data(), src.size()), rtp::RtpError::kOk);

  RtpExtensionIds cons;
  cons.mid = 1;
  cons.audio_level = 7;
  cons.transport_cc = 5;  // rid, repaired-rid, abs-send-time not negotiated
  rtp::ExtensionIdTable table = make_passthrough_table(testing::publisher_ext(), cons);
  RewriteSpec s;
  s.ssrc = 0x22222222;
  s.seq = 7;
  s.timestamp = 99;
  s.pt = 100;
  s.ext_table = &table;
  s.mid_id = cons.mid;
  s.mid = "video1";
  s.mid_len = 6;
  s.transport_cc_id = cons.transport_cc;
  s.transport_cc_seq = 0xBEEF;
  uint8_t out[1500];
  size_t n = write_rewritten(out, sizeof(out), v, s);
  ASSERT_GT(n, 0u);
  rtp::RtpView o;
  ASSERT_EQ(o.parse(out, n), rtp::RtpError::kOk);
  EXPECT_EQ(o.ssrc(), 0x22222222u);
  EXPECT_EQ(o.sequence(), 7);
  EXPECT_EQ(o.timestamp(), 99u);
  EXPECT_EQ(o.payload_type(), 100);
  EXPECT_TRUE(o.marker());
  EXPECT_EQ(Bytes(o.payload().begin(), o.payload().end()), in.payload);
  EXPECT_EQ(rtp::extension_form(o), rtp::ExtensionForm::kOneByte);
  rtp::Extension e;
  absl::string_view str;
  ASSERT_TRUE(rtp::find_extension(o, 1, &e));
  ASSERT_TRUE(rtp::read_string_extension(e, &str));
  EXPECT_EQ(str, "video1");
  ASSERT_TRUE(rtp::find_extension(o, 7, &e));
  bool voice = false;
  uint8_t level = 0;
  ASSERT_TRUE(rtp::read_audio_level(e, &voice, &level));
  EXPECT_EQ(level, 42);
  uint16_t tcc = 0;
  ASSERT_TRUE(rtp::find_extension(o, 5, &e));
  ASSERT_TRUE(rtp::read_transport_cc_seq(e, &tcc));
  EXPECT_EQ(tcc, 0xBEEF);
  // Nothing else survived: rid (10), abs-send-time (2), the producer's mid id (4).
  int count = 0;
  rtp::ExtensionReader r(o);
  while (r.next(&e)) ++count;
  EXPECT_FALSE(r.malformed());
  EXPECT_EQ(count, 3);
}

TEST(Rewrite, TwoByteFormWhenIdsAreLarge) {
  testing::RtpSpec in;
  in.ssrc = 1;
  in.payload = {9, 9};
  Bytes src = testing::make_rtp(in);
  rtp::RtpView v;
  ASSERT_EQ(v.parse(src.data(), src.size()), rtp::RtpError::kOk);
  RewriteSpec s;
  s.ssrc = 2;
  s.mid_id = 20;  // above 14: the one-byte form cannot carry it
  s.mid = "m";
  s.mid_len = 1;
  uint8_t out[200];
  size_t n = write_rewritten(out, sizeof(out), v, s);
  rtp::RtpView o;
  ASSERT_EQ(o.parse(out, n), rtp::RtpError::kOk);
  EXPECT_EQ(rtp::extension_form(o), rtp::ExtensionForm::kTwoByte);
  rtp::Extension e;
  ASSERT_TRUE(rtp::find_extension(o, 20, &e));
  EXPECT_EQ(e.size, 1);
  EXPECT_EQ(out[n - 1], 9);
  // Too small a buffer: 0.
  EXPECT_EQ(write_rewritten(out, 20, v, s), 0u);
}

TEST(Rewrite, RtxCarriesOsnBeforePayload) {
  testing::RtpSpec in;
  in.ssrc = 1;
  in.seq = 10;
  in.payload = {0xAA, 0xBB, 0xCC};
  Bytes src = testing::make_rtp(in);
  rtp::RtpView v;
  ASSERT_EQ(v.parse(src.data(), src.size()), rtp::RtpError::kOk);
  RewriteSpec s;
  s.ssrc = 0x5555;
  s.seq = 3;
  s.pt = 97;
  s.osn = 0x1234;
  uint8_t out[200];
  size_t n = write_rewritten(out, sizeof(out), v, s);
  rtp::RtpView o;
  ASSERT_EQ(o.parse(out, n), rtp::RtpError::kOk);
  EXPECT_FALSE(o.has_extension());
  EXPECT_EQ(o.payload_type(), 97);
  EXPECT_EQ(Bytes(o.payload().begin(), o.payload().end()), (Bytes{0x12, 0x34, 0xAA, 0xBB, 0xCC}));
}

}  // namespace
}  // namespace tern::sfu
