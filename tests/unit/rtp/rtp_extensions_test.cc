#include "engine/rtp/rtp_extensions.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/rtp/test_util.h"

namespace tern {
namespace rtp {
namespace {

using testing::hex;

// RFC 8285 §4.2 one-byte form: mid (id 1, "0"), abs-send-time (id 3),
// transport-cc (id 5), audio-level (id 7), a padding byte, then id 15 ends
// the walk (whatever follows it is ignored).
const std::vector<uint8_t> kOneByte =
    hex("90 6f 0001 00000002 00000003"
        "bede 0004"
        "10 30"        // id 1, L=0: "0"
        "32 12 34 56"  // id 3, L=2: abs-send-time 0x123456
        "51 ab cd"     // id 5, L=1: transport-cc seq 0xabcd
        "70 8a"        // id 7, L=0: V=1 level 10
        "00"           // padding
        "f0 ff 00 00"  // id 15: stop
        "ca fe");

// RFC 8285 §4.3 two-byte form: rid (id 20, "hi"), an empty element (id 2),
// tcc (id 200).
const std::vector<uint8_t> kTwoByte =
    hex("90 6f 0001 00000002 00000003"
        "1000 0003"
        "14 02 68 69"  // id 20 len 2 "hi"
        "02 00"        // id 2 len 0
        "00"           // padding
        "c8 02 00 07"  // id 200 len 2: 7
        "00 00 00"     // padding to 12
        "ca fe");

std::vector<Extension> all(const RtpView& v, bool* malformed = nullptr) {
  std::vector<Extension> out;
  ExtensionReader r(v);
  Extension e;
  while (r.next(&e)) out.push_back(e);
  if (malformed) *malformed = r.malformed();
  return out;
}

TEST(RtpExtensions, OneByteForm) {
  RtpView v;
  ASSERT_EQ(v.parse(kOneByte.data(), kOneByte.size()), RtpError::kOk);
  EXPECT_EQ(extension_form(v), ExtensionForm::kOneByte);
  bool malformed = true;
  const auto ext = all(v, &malformed);
  EXPECT_FALSE(malformed);
  ASSERT_EQ(ext.size(), 4u);
  EXPECT_EQ(ext[0].id, 1);
  EXPECT_EQ(ext[1].id, 3);
  EXPECT_EQ(ext[2].id, 5);
  EXPECT_EQ(ext[3].id, 7);

  Extension e;
  absl::string_view mid;
  ASSERT_TRUE(find_extension(v, 1, &e));
  ASSERT_TRUE(read_string_extension(e, &mid));
  EXPECT_EQ(mid, "0");
  uint32_t ast = 0;
  ASSERT_TRUE(find_extension(v, 3, &e));
  ASSERT_TRUE(read_abs_send_time(e, &ast));
  EXPECT_EQ(ast, 0x123456u);
  uint16_t seq = 0;
  ASSERT_TRUE(find_extension(v, 5, &e));
  ASSERT_TRUE(read_transport_cc_seq(e, &seq));
  EXPECT_EQ(seq, 0xabcd);
  bool voice = false;
  uint8_t level = 0;
  ASSERT_TRUE(find_extension(v, 7, &e));
  ASSERT_TRUE(read_audio_level(e, &voice, &level));
  EXPECT_TRUE(voice);
  EXPECT_EQ(level, 10);
  EXPECT_FALSE(find_extension(v, 15, &e));
  EXPECT_FALSE(find_extension(v, 2, &e));
  // Wrong sizes are refused by the typed readers.
  ASSERT_TRUE(find_extension(v, 5, &e));
  EXPECT_FALSE(read_abs_send_time(e, &ast));
}

TEST(RtpExtensions, TwoByteForm) {
  RtpView v;
  ASSERT_EQ(v.parse(kTwoByte.data(), kTwoByte.size()), RtpError::kOk);
  EXPECT_EQ(extension_form(v), ExtensionForm::kTwoByte);
  const auto ext = all(v);
  ASSERT_EQ(ext.size(), 3u);
  EXPECT_EQ(ext[1].id, 2);
  EXPECT_EQ(ext[1].size, 0);
  Extension e;
  absl::string_view rid;
  ASSERT_TRUE(find_extension(v, 20, &e));
  ASSERT_TRUE(read_string_extension(e, &rid));
  EXPECT_EQ(rid, "hi");
  ASSERT_TRUE(find_extension(v, 2, &e));
  EXPECT_FALSE(read_string_extension(e, &rid));  // empty
  uint16_t seq;
  ASSERT_TRUE(find_extension(v, 200, &e));
  ASSERT_TRUE(read_transport_cc_seq(e, &seq));
  EXPECT_EQ(seq, 7);
}

TEST(RtpExtensions, OverrunningElementIsMalformed) {
  auto buf = kTwoByte;
  buf[17] = 0x0b;  // id 20 claims 11 bytes; 10 are left in the block
  RtpView v;
  ASSERT_EQ(v.parse(buf.data(), buf.size()), RtpError::kOk);
  bool malformed = false;
  EXPECT_TRUE(all(v, &malformed).empty());
  EXPECT_TRUE(malformed);
  // Unknown profile: no elements, not malformed.
  buf = kTwoByte;
  buf[12] = 0x12;
  ASSERT_EQ(v.parse(buf.data(), buf.size()), RtpError::kOk);
  EXPECT_EQ(extension_form(v), ExtensionForm::kNone);
  EXPECT_TRUE(all(v, &malformed).empty());
  EXPECT_FALSE(malformed);
}

TEST(RtpExtensions, RewriteIdKeepsPacketValid) {
  auto buf = kOneByte;
  RtpPacket p;
  ASSERT_EQ(p.parse(buf.data(), buf.size()), RtpError::kOk);
  EXPECT_TRUE(rewrite_extension_id(p, 5, 9));
  EXPECT_EQ(buf[22], 0x91);                      // id 9, L unchanged
  EXPECT_FALSE(rewrite_extension_id(p, 5, 10));  // gone
  EXPECT_FALSE(rewrite_extension_id(p, 9, 15));  // does not fit one-byte form
  EXPECT_FALSE(rewrite_extension_id(p, 9, 0));
  EXPECT_FALSE(rewrite_extension_id(p, 9, 200));
  EXPECT_EQ(buf[22], 0x91);  // untouched
  RtpView v;
  ASSERT_EQ(v.parse(buf.data(), buf.size()), RtpError::kOk);
  Extension e;
  uint16_t seq;
  ASSERT_TRUE(find_extension(v, 9, &e));
  ASSERT_TRUE(read_transport_cc_seq(e, &seq));
  EXPECT_EQ(seq, 0xabcd);
  EXPECT_EQ(v.payload_size(), 2u);

  // Two-byte form takes any id 1..255.
  auto two = kTwoByte;
  ASSERT_EQ(p.parse(two.data(), two.size()), RtpError::kOk);
  EXPECT_TRUE(rewrite_extension_id(p, 200, 201));
  ASSERT_TRUE(find_extension(p, 201, &e));
}

TEST(RtpExtensions, RemapErasesWhatDoesNotFit) {
  auto buf = kOneByte;
  const size_t size = buf.size();
  RtpPacket p;
  ASSERT_EQ(p.parse(buf.data(), buf.size()), RtpError::kOk);
  ExtensionIdTable t{};
  for (int i = 0; i < 256; ++i) t[i] = uint8_t(i);
  t[1] = 4;   // mid -> 4
  t[3] = 0;   // abs-send-time not negotiated: erase
  t[5] = 3;   // tcc -> 3 (swap-like: old 3 is erased in the same pass)
  t[7] = 20;  // audio level -> 20: not in the one-byte form: erase
  const RemapResult r = remap_extension_ids(p, t);
  EXPECT_EQ(r.rewritten, 2);
  EXPECT_EQ(r.erased, 2);
  EXPECT_EQ(buf.size(), size);
  RtpView v;
  ASSERT_EQ(v.parse(buf.data(), buf.size()), RtpError::kOk);
  const auto ext = all(v);
  ASSERT_EQ(ext.size(), 2u);
  EXPECT_EQ(ext[0].id, 4);
  EXPECT_EQ(ext[1].id, 3);
  EXPECT_EQ(ext[1].size, 2);
  EXPECT_EQ(std::vector<uint8_t>(buf.end() - 2, buf.end()), hex("ca fe"));
  EXPECT_TRUE(erase_extension(p, 4));
  EXPECT_FALSE(erase_extension(p, 4));
  EXPECT_EQ(all(v).size(), 1u);
}

TEST(RtpExtensions, SetInPlace) {
  auto buf = kOneByte;
  RtpPacket p;
  ASSERT_EQ(p.parse(buf.data(), buf.size()), RtpError::kOk);
  EXPECT_TRUE(set_transport_cc_seq(p, 5, 0x0102));
  EXPECT_TRUE(set_abs_send_time(p, 3, 0xfedcba));
  EXPECT_FALSE(set_transport_cc_seq(p, 3, 1));  // wrong size
  EXPECT_FALSE(set_abs_send_time(p, 9, 1));     // absent
  Extension e;
  uint16_t seq;
  uint32_t ast;
  ASSERT_TRUE(find_extension(p, 5, &e) && read_transport_cc_seq(e, &seq));
  EXPECT_EQ(seq, 0x0102);
  ASSERT_TRUE(find_extension(p, 3, &e) && read_abs_send_time(e, &ast));
  EXPECT_EQ(ast, 0xfedcbau);
}

TEST(RtpExtensions, AbsSendTimeConversion) {
  EXPECT_EQ(abs_send_time_from_nanos(0), 0u);
  EXPECT_EQ(abs_send_time_from_nanos(kSecond), 1u << 18);
  EXPECT_EQ(abs_send_time_from_nanos(kSecond / 2), 1u << 17);
  EXPECT_EQ(abs_send_time_from_nanos(64 * kSecond + kSecond), 1u << 18);  // wraps at 64 s
  EXPECT_EQ(abs_send_time_to_nanos(1u << 18), kSecond);
  EXPECT_EQ(abs_send_time_to_nanos(3u << 16), 3 * kSecond / 4);
  // Hours in: no overflow.
  const Nanos t = Nanos(10) * 3600 * kSecond + 250 * kMillisecond;
  EXPECT_EQ(abs_send_time_from_nanos(t), ((36000u % 64) << 18) + (1u << 16));
}

TEST(RtpExtensions, WriterPicksOneByteForm) {
  uint8_t buf[128];
  RtpWriter w(buf, sizeof(buf));
  RtpHeaderFields h;
  h.payload_type = 111;
  h.sequence = 1;
  h.timestamp = 2;
  h.ssrc = 3;
  ASSERT_TRUE(w.begin(h));
  ASSERT_TRUE(w.add_string_extension(1, "0"));
  ASSERT_TRUE(w.add_abs_send_time(3, 0x123456));
  ASSERT_TRUE(w.add_transport_cc_seq(5, 0xabcd));
  ASSERT_TRUE(w.add_audio_level(7, true, 10));
  const uint8_t payload[] = {0xca, 0xfe};
  const size_t n = w.finish(payload);
  // Same elements as kOneByte without its padding/stop bytes: 11 bytes of
  // elements padded to 12.
  const auto want =
      hex("90 6f 0001 00000002 00000003 bede 0003 10 30 32 12 34 56 51 ab cd 70 8a 00 ca fe");
  ASSERT_EQ(n, want.size());
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), want);
}

TEST(RtpExtensions, WriterFallsBackToTwoByteForm) {
  uint8_t buf[128];
  RtpWriter w(buf, sizeof(buf));
  RtpHeaderFields h;
  h.payload_type = 111;
  h.sequence = 1;
  h.timestamp = 2;
  h.ssrc = 3;
  ASSERT_TRUE(w.begin(h));
  ASSERT_TRUE(w.add_string_extension(20, "hi"));
  ASSERT_TRUE(w.add_extension(2, nullptr, 0));
  ASSERT_TRUE(w.add_transport_cc_seq(200, 7));
  const uint8_t payload[] = {0xca, 0xfe};
  const size_t n = w.finish(payload, 4);
  const auto want =
      hex("b0 6f 0001 00000002 00000003 1000 0003 14 02 68 69 02 00 c8 02 00 07 00 00"
          "ca fe 00 00 00 04");
  ASSERT_EQ(n, want.size());
  EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), want);
  RtpView v;
  ASSERT_EQ(v.parse(buf, n), RtpError::kOk);
  EXPECT_EQ(v.payload_size(), 2u);
  EXPECT_EQ(all(v).size(), 3u);
}

TEST(RtpExtensions, WriterRejectsOverflowAndBadIds) {
  uint8_t buf[20];
  RtpWriter w(buf, sizeof(buf));
  ASSERT_TRUE(w.begin({}));
  EXPECT_EQ(w.add_extension(0, 1), nullptr);  // id 0 is padding
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.finish({}), 0u);
  ASSERT_TRUE(w.begin({}));
  EXPECT_TRUE(w.add_extension(1, 2) != nullptr);  // 12 + 4 + 2 + 2 = 20
  EXPECT_EQ(w.add_extension(2, 1), nullptr);
  ASSERT_TRUE(w.begin({}));
  ASSERT_NE(w.add_extension(1, 2), nullptr);
  EXPECT_EQ(w.finish({}), 20u);  // packed: 12 + 4 + 3 -> 4
}

TEST(ExtensionMap, NegotiatedIds) {
  ExtensionMap producer, consumer;
  ASSERT_TRUE(producer.add_uri(1, "urn:ietf:params:rtp-hdrext:sdes:mid").ok());
  ASSERT_TRUE(producer.add_uri(3, extension_uri(ExtensionKind::kAbsSendTime)).ok());
  ASSERT_TRUE(producer.add_uri(5, extension_uri(ExtensionKind::kTransportWideCc)).ok());
  ASSERT_TRUE(producer.add_uri(6, "urn:example:unknown").ok());
  EXPECT_EQ(producer.kind(1), ExtensionKind::kMid);
  EXPECT_EQ(producer.kind(6), ExtensionKind::kUnknown);
  EXPECT_EQ(producer.id(ExtensionKind::kTransportWideCc), 5);
  EXPECT_EQ(producer.id(ExtensionKind::kRid), 0);
  // Conflicts name the id.
  const absl::Status dup = producer.add(1, ExtensionKind::kRid);
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("id 1"), std::string::npos) << dup;
  EXPECT_FALSE(producer.add(9, ExtensionKind::kMid).ok());
  EXPECT_FALSE(producer.add(0, ExtensionKind::kRid).ok());
  EXPECT_TRUE(producer.add(1, ExtensionKind::kMid).ok());  // idempotent

  ASSERT_TRUE(consumer.add(2, ExtensionKind::kMid).ok());
  ASSERT_TRUE(consumer.add(5, ExtensionKind::kTransportWideCc).ok());
  const ExtensionIdTable t = make_id_table(producer, consumer);
  EXPECT_EQ(t[1], 2);
  EXPECT_EQ(t[3], 0);
  EXPECT_EQ(t[5], 5);
  EXPECT_EQ(t[6], 0);

  auto buf = kOneByte;
  RtpPacket p;
  ASSERT_EQ(p.parse(buf.data(), buf.size()), RtpError::kOk);
  const RemapResult r = remap_extension_ids(p, t);
  EXPECT_EQ(r.rewritten, 1);
  EXPECT_EQ(r.erased, 2);  // abs-send-time, audio level (id 7: unknown to producer)
  Extension e;
  absl::string_view mid;
  ASSERT_TRUE(consumer.find(p, ExtensionKind::kMid, &e));
  ASSERT_TRUE(read_string_extension(e, &mid));
  EXPECT_EQ(mid, "0");
  EXPECT_FALSE(consumer.find(p, ExtensionKind::kAbsSendTime, &e));
  EXPECT_EQ(extension_kind_from_uri(extension_uri(ExtensionKind::kDependencyDescriptor)),
            ExtensionKind::kDependencyDescriptor);
}

}  // namespace
}  // namespace rtp
}  // namespace tern
