// Endpoint, classify() and Packet: the skeleton types every subsystem uses.
#include <gtest/gtest.h>

#include "engine/net/classify.h"
#include "engine/net/counters.h"
#include "engine/net/endpoint.h"
#include "engine/net/packet.h"

namespace tern {
namespace {

TEST(Endpoint, ParseV4WithPort) {
  auto e = Endpoint::parse("198.18.0.1:3478");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->is_v4());
  EXPECT_EQ(e->port, 3478);
  EXPECT_EQ(e->v4_host_order(), 0xc6120001u);
  EXPECT_EQ(e->to_string(), "198.18.0.1:3478");
  EXPECT_EQ(e->addr_string(), "198.18.0.1");
  EXPECT_EQ(*e, Endpoint::v4(0xc6120001u, 3478));
}

TEST(Endpoint, ParseV6Bracketed) {
  auto e = Endpoint::parse("[fd54:7465:726e::1]:5000");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->is_v6());
  EXPECT_EQ(e->port, 5000);
  EXPECT_EQ(e->addr[0], 0xfd);
  EXPECT_EQ(e->addr[15], 0x01);
  EXPECT_EQ(e->to_string(), "[fd54:7465:726e::1]:5000");
  EXPECT_EQ(e->addr_len(), 16u);
}

TEST(Endpoint, ParseWithoutPort) {
  auto a = Endpoint::parse("10.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 0);
  auto b = Endpoint::parse("::1");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->to_string(), "[::1]:0");
  auto c = Endpoint::parse("[::1]");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 0);
}

TEST(Endpoint, ParseErrors) {
  for (const char* bad : {"", "1.2.3.4:", "[::1]:", "1.2.3.4:65536", "1.2.3.4:x", "[::1", "[::1]5",
                          "300.1.1.1:1", "host:80", "1.2.3:4"}) {
    EXPECT_FALSE(Endpoint::parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(Endpoint::parse("1.2.3.4:65535").ok());
}

TEST(Endpoint, EqualityAndRoundTrip) {
  auto a = *Endpoint::parse("[2001:db8::5]:9");
  auto b = *Endpoint::parse(a.to_string());
  EXPECT_EQ(a, b);
  b.port = 10;
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.same_addr(b));
  Endpoint none;
  EXPECT_EQ(none.addr_string(), "none");
  EXPECT_FALSE(none.same_addr(a));
}

TEST(Classify, EveryRfc7983Boundary) {
  struct Case {
    int first;
    PacketClass want;
  };
  const Case cases[] = {
      {0, PacketClass::kStun},         {3, PacketClass::kStun},     {4, PacketClass::kUnknown},
      {15, PacketClass::kUnknown},     {16, PacketClass::kZrtp},    {19, PacketClass::kZrtp},
      {20, PacketClass::kDtls},        {63, PacketClass::kDtls},    {64, PacketClass::kChannelData},
      {79, PacketClass::kChannelData}, {80, PacketClass::kUnknown}, {127, PacketClass::kUnknown},
      {128, PacketClass::kRtp},        {191, PacketClass::kRtp},    {192, PacketClass::kUnknown},
      {255, PacketClass::kUnknown},
  };
  for (const auto& c : cases) {
    uint8_t b[2] = {uint8_t(c.first), 0};
    EXPECT_EQ(classify(b, 2), c.want) << c.first;
  }
  // All 256 agree with the table above, range by range.
  int counts[8] = {};
  for (int i = 0; i < 256; ++i) {
    uint8_t b[1] = {uint8_t(i)};
    ++counts[int(classify(b, 1))];
  }
  EXPECT_EQ(counts[int(PacketClass::kStun)], 4);
  EXPECT_EQ(counts[int(PacketClass::kZrtp)], 4);
  EXPECT_EQ(counts[int(PacketClass::kDtls)], 44);
  EXPECT_EQ(counts[int(PacketClass::kChannelData)], 16);
  EXPECT_EQ(counts[int(PacketClass::kRtp)], 64);
  EXPECT_EQ(counts[int(PacketClass::kUnknown)], 124);
}

TEST(Classify, RtcpVersusRtp) {
  const uint8_t empty[1] = {0};
  EXPECT_EQ(classify(empty, 0), PacketClass::kUnknown);
  uint8_t one[1] = {0x80};
  EXPECT_EQ(classify(one, 1), PacketClass::kRtp);  // no second byte: RTP
  for (int pt = 0; pt < 256; ++pt) {
    uint8_t b[2] = {0x80, uint8_t(pt)};
    PacketClass want = (pt >= 192 && pt <= 223) ? PacketClass::kRtcp : PacketClass::kRtp;
    EXPECT_EQ(classify(b, 2), want) << pt;
  }
  uint8_t stun[2] = {0x00, 200};  // second byte only matters for RTP
  EXPECT_EQ(classify(stun, 2), PacketClass::kStun);
  EXPECT_STREQ(packet_class_name(PacketClass::kRtcp), "rtcp");
  EXPECT_STREQ(packet_class_name(PacketClass::kChannelData), "channel_data");
}

TEST(Packet, PrependAppendAdjBounds) {
  uint8_t mem[256];
  Packet p;
  p.buf = mem;
  p.capacity = sizeof(mem);
  p.reset();
  EXPECT_EQ(p.headroom(), kDefaultHeadroom);
  EXPECT_EQ(p.len, 0u);
  EXPECT_EQ(p.tailroom(), 256u - kDefaultHeadroom);

  ASSERT_NE(p.append(100), nullptr);
  EXPECT_EQ(p.len, 100u);
  EXPECT_EQ(p.append(29), nullptr);  // 28 left
  EXPECT_EQ(p.append(28), mem + kDefaultHeadroom + 100);
  EXPECT_EQ(p.tailroom(), 0u);
  EXPECT_EQ(p.append(1), nullptr);
  EXPECT_NE(p.append(0), nullptr);

  EXPECT_EQ(p.prepend(kDefaultHeadroom + 1), nullptr);
  EXPECT_EQ(p.len, 128u);
  EXPECT_EQ(p.prepend(kDefaultHeadroom), mem);
  EXPECT_EQ(p.headroom(), 0u);
  EXPECT_EQ(p.len, 256u);
  EXPECT_EQ(p.prepend(1), nullptr);

  EXPECT_FALSE(p.adj(257));
  EXPECT_TRUE(p.adj(56));
  EXPECT_EQ(p.data(), mem + 56);
  EXPECT_EQ(p.len, 200u);
  EXPECT_TRUE(p.adj(200));
  EXPECT_EQ(p.len, 0u);
  EXPECT_FALSE(p.adj(1));

  p.reset(10);
  EXPECT_TRUE(p.set_len(246));
  EXPECT_FALSE(p.set_len(247));
  EXPECT_EQ(p.len, 246u);
  p.reset(1000);  // clamped to capacity
  EXPECT_EQ(p.off, 256u);
  EXPECT_EQ(p.tailroom(), 0u);
}

TEST(PacketBatch, PushAndFull) {
  Packet pk[kMaxBurst];
  PacketBatch b;
  EXPECT_TRUE(b.empty());
  for (auto& p : pk) b.push(&p);
  EXPECT_TRUE(b.full());
  EXPECT_EQ(b[5], &pk[5]);
  b.clear();
  EXPECT_TRUE(b.empty());
}

TEST(DropCounters, CountAndName) {
  DropCounters d;
  d.add(Drop::kBadChecksum);
  d.add(Drop::kRuntFrame, 3);
  EXPECT_EQ(d.get(Drop::kBadChecksum), 1u);
  EXPECT_EQ(d.total(), 4u);
  for (int i = 0; i < int(Drop::kCount); ++i) {
    EXPECT_STRNE(drop_name(Drop(i)), "unknown") << i;
  }
}

}  // namespace
}  // namespace tern
