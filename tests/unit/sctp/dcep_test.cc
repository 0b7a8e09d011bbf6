// DCEP codec (RFC 8832 §5) against hand-built vectors laid out as in the RFC.
#include "engine/sctp/dcep.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tern::sctp {
namespace {

using Bytes = std::vector<uint8_t>;

// Message type 3, channel type, priority, reliability, label len, protocol len,
// label, protocol: written field by field from the RFC 8832 §5.1 figure.
Bytes open_vector(uint8_t type, uint16_t prio, uint32_t rel, const std::string& label,
                  const std::string& proto) {
  Bytes b = {0x03,
             type,
             uint8_t(prio >> 8),
             uint8_t(prio),
             uint8_t(rel >> 24),
             uint8_t(rel >> 16),
             uint8_t(rel >> 8),
             uint8_t(rel),
             uint8_t(label.size() >> 8),
             uint8_t(label.size()),
             uint8_t(proto.size() >> 8),
             uint8_t(proto.size())};
  b.insert(b.end(), label.begin(), label.end());
  b.insert(b.end(), proto.begin(), proto.end());
  return b;
}

TEST(Dcep, ParsesReliableOpen) {
  // "chat" / "" as a browser sends for createDataChannel("chat").
  const Bytes v = {0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                   0x00, 0x04, 0x00, 0x00, 'c',  'h',  'a',  't'};
  auto o = parse_dcep_open(v.data(), v.size());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->channel_type, DcepChannelType::kReliable);
  EXPECT_EQ(o->priority, 256);
  EXPECT_EQ(o->reliability, 0u);
  EXPECT_EQ(o->label, "chat");
  EXPECT_EQ(o->protocol, "");
  EXPECT_EQ(*dcep_message_type(v.data(), v.size()), DcepMessageType::kOpen);
}

TEST(Dcep, ParsesEveryChannelTypeAndFields) {
  struct Case {
    uint8_t type;
    uint32_t rel;
    uint32_t want_rel;
  } cases[] = {{0x00, 7, 0}, {0x80, 7, 0},  // reliability ignored when reliable
               {0x01, 3, 3}, {0x81, 0, 0}, {0x02, 150, 150}, {0x82, 0xffffffff, 0xffffffff}};
  for (const auto& c : cases) {
    Bytes v = open_vector(c.type, 512, c.rel, "label", "proto-x");
    auto o = parse_dcep_open(v.data(), v.size());
    ASSERT_TRUE(o.ok()) << int(c.type) << " " << o.status();
    EXPECT_EQ(static_cast<uint8_t>(o->channel_type), c.type);
    EXPECT_EQ(o->reliability, c.want_rel);
    EXPECT_EQ(o->priority, 512);
    EXPECT_EQ(o->label, "label");
    EXPECT_EQ(o->protocol, "proto-x");
    EXPECT_EQ(dcep_unordered(o->channel_type), (c.type & 0x80) != 0);
  }
}

TEST(Dcep, EncodeMatchesVectorAndRoundTrips) {
  DcepOpen o;
  o.channel_type = DcepChannelType::kPartialReliableTimedUnordered;
  o.priority = kDcepPriorityHigh;
  o.reliability = 3000;
  o.label = "bulk \xc3\xa9";  // é
  o.protocol = "x";
  auto enc = encode_dcep_open(o);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, open_vector(0x82, 512, 3000, "bulk \xc3\xa9", "x"));
  auto back = parse_dcep_open(enc->data(), enc->size());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, o);
  // Reliable types are encoded with reliability 0.
  o.channel_type = DcepChannelType::kReliable;
  enc = encode_dcep_open(o);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ((*enc)[4] | (*enc)[5] | (*enc)[6] | (*enc)[7], 0);
}

TEST(Dcep, AckIsOneByte) {
  uint8_t b[4];
  ASSERT_EQ(encode_dcep_ack(b, sizeof(b)), 1u);
  EXPECT_EQ(b[0], 0x02);
  EXPECT_TRUE(parse_dcep_ack(b, 1).ok());
  EXPECT_EQ(*dcep_message_type(b, 1), DcepMessageType::kAck);
  const uint8_t two[] = {0x02, 0x00};
  auto st = parse_dcep_ack(two, 2);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("length 2"), std::string::npos) << st;
  const uint8_t wrong[] = {0x03};
  EXPECT_FALSE(parse_dcep_ack(wrong, 1).ok());
  EXPECT_FALSE(parse_dcep_ack(nullptr, 0).ok());
  EXPECT_EQ(encode_dcep_ack(b, 0), 0u);
}

TEST(Dcep, RejectsMalformedOpenWithClearErrors) {
  auto err = [](const Bytes& v) {
    auto o = parse_dcep_open(v.data(), v.size());
    EXPECT_FALSE(o.ok());
    return o.ok() ? std::string() : std::string(o.status().message());
  };
  Bytes good = open_vector(0x00, 256, 0, "ab", "cd");
  // Short header.
  EXPECT_NE(err(Bytes(good.begin(), good.begin() + 11)).find("length 11"), std::string::npos);
  // Truncated label/protocol and trailing garbage.
  EXPECT_NE(err(Bytes(good.begin(), good.end() - 1)).find("does not match"), std::string::npos);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_NE(err(longer).find("does not match"), std::string::npos);
  // Unknown channel types.
  for (uint8_t t : {0x03, 0x7f, 0x83, 0xff, 0x40}) {
    Bytes v = open_vector(t, 256, 0, "a", "");
    EXPECT_NE(err(v).find("channel type"), std::string::npos) << int(t);
  }
  // Wrong message type.
  Bytes v = good;
  v[0] = 0x02;
  EXPECT_NE(err(v).find("message type 2"), std::string::npos);
  // Invalid UTF-8 in label and protocol: lone continuation, overlong, surrogate, > U+10FFFF.
  for (std::string bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    EXPECT_NE(err(open_vector(0, 256, 0, bad, "")).find("label"), std::string::npos);
    EXPECT_NE(err(open_vector(0, 256, 0, "", bad)).find("protocol"), std::string::npos);
  }
  EXPECT_FALSE(dcep_message_type(nullptr, 0).ok());
  const uint8_t t9[] = {9};
  EXPECT_FALSE(dcep_message_type(t9, 1).ok());
}

TEST(Dcep, MaximalLabelAndProtocol) {
  std::string label(65535, 'l'), proto(65535, 'p');
  Bytes v = open_vector(0x01, 0, 5, label, proto);
  auto o = parse_dcep_open(v.data(), v.size());
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->label.size(), 65535u);
  DcepOpen big;
  big.label = std::string(65536, 'x');
  EXPECT_FALSE(encode_dcep_open(big).ok());
  big.label = "\xff";
  EXPECT_FALSE(encode_dcep_open(big).ok());
}

TEST(Dcep, Utf8Validator) {
  auto ok = [](const std::string& s) {
    return valid_utf8(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_TRUE(ok(""));
  EXPECT_TRUE(ok("plain"));
  EXPECT_TRUE(ok("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(ok("\xf4\x8f\xbf\xbf"));                      // U+10FFFF
  EXPECT_FALSE(ok("\xe0\x80\x80"));                         // overlong 3-byte
  EXPECT_FALSE(ok("\xf0\x80\x80\x80"));                     // overlong 4-byte
  EXPECT_FALSE(ok("\xc3"));                                 // truncated
  EXPECT_FALSE(ok("\xf5\x80\x80\x80"));
}

}  // namespace
}  // namespace tern::sctp
