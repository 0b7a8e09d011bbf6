// The in-place reply builders (ARP reply, ICMP echo reply, NA) and the frames
// we originate (ARP request, NS), against what the Linux kernel sent.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/net/frame.h"
#include "engine/net/icmp.h"
#include "engine/net/ipv4.h"
#include "engine/net/ipv6.h"
#include "engine/net/udp.h"
#include "tests/unit/net/captured_frames.h"
#include "tests/unit/net/frame_test_util.h"

namespace tern {
namespace {

namespace td = testdata;
using namespace testutil;  // NOLINT: test-local shorthand

// ---- Replies ----

TEST(Replies, ArpReplyIsWhatLinuxSends) {
  Bytes f = td::k_arp_request;
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(build_arp_reply(f.data(), fi, kMac2), 42u);
  EXPECT_EQ(f, td::k_arp_reply);
  // Not a request: refused.
  FrameInfo r = must_parse(td::k_arp_reply);
  EXPECT_EQ(build_arp_reply(f.data(), r, kMac2), 0u);
  FrameInfo u = must_parse(td::k_udp4_stun);
  EXPECT_EQ(build_arp_reply(f.data(), u, kMac2), 0u);
}

TEST(Replies, IcmpV4EchoReply) {
  Bytes f = td::k_icmp4_echo_request;
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(build_icmp_echo_reply(f.data(), fi, kMac2), f.size());
  FrameInfo r = must_parse(f);
  EXPECT_EQ(r.kind, FrameKind::kOther);
  EXPECT_EQ(r.src.addr_string(), "198.18.0.2");
  EXPECT_EQ(r.dst.addr_string(), "198.18.0.1");
  EXPECT_EQ(r.dst_mac, kMac1);
  EXPECT_EQ(r.src_mac, kMac2);
  EXPECT_EQ(r.hop_limit, 64);
  // ICMP part equals the kernel's reply to the same request.
  EXPECT_TRUE(std::equal(f.begin() + 34, f.end(), td::k_icmp4_echo_reply.begin() + 34));
}

TEST(Replies, IcmpV4EchoReplyDropsOptions) {
  // Request with a 4-byte option (NOP NOP NOP EOL): reply has a plain header.
  Bytes f = td::k_icmp4_echo_request;
  const uint8_t opt[4] = {1, 1, 1, 0};
  f.insert(f.begin() + 34, opt, opt + 4);
  f[14] = 0x46;
  store_be16(f.data() + 16, uint16_t(load_be16(f.data() + 16) + 4));
  ipv4_fill_checksum(f.data() + 14);
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(fi.kind, FrameKind::kIcmpEchoV4);
  const uint32_t n = build_icmp_echo_reply(f.data(), fi, kMac2);
  ASSERT_EQ(n, td::k_icmp4_echo_request.size());
  f.resize(n);
  FrameInfo r = must_parse(f);
  EXPECT_EQ(r.l4_offset, 34);
  EXPECT_TRUE(std::equal(f.begin() + 34, f.end(), td::k_icmp4_echo_reply.begin() + 34));
}

TEST(Replies, IcmpV6EchoReply) {
  Bytes f = td::k_icmp6_echo_request;
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(build_icmp_echo_reply(f.data(), fi, kMac2), f.size());
  // The kernel's reply differs only in the flow label.
  for (size_t i = 0; i < f.size(); ++i) {
    if (i >= 15 && i <= 17) continue;
    EXPECT_EQ(f[i], td::k_icmp6_echo_reply[i]) << i;
  }
  EXPECT_EQ(must_parse(f).kind, FrameKind::kOther);
}

TEST(Replies, IcmpV6EchoToMulticast) {
  Bytes f = td::k_icmp6_echo_request;
  std::memcpy(f.data() + 14 + 24, kIpv6AllNodes, 16);
  icmp6_fill_checksum(f.data() + 54, uint32_t(f.size() - 54), f.data() + 22, f.data() + 38);
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(fi.kind, FrameKind::kIcmpEchoV6);
  ASSERT_EQ(build_icmp_echo_reply(f.data(), fi, kMac2, kIp6Two), f.size());
  FrameInfo r = must_parse(f);  // checksum recomputed for the new source
  EXPECT_EQ(0, std::memcmp(r.src.addr, kIp6Two, 16));
  EXPECT_EQ(0, std::memcmp(r.dst.addr, kIp6One, 16));
}

TEST(Replies, IcmpV6EchoReplyDropsExtensionHeaders) {
  Bytes f = td::k_icmp6_echo_request;
  const uint8_t dst_opts[8] = {kIpProtoIcmpv6, 0, 1, 4, 0, 0, 0, 0};  // PadN
  f.insert(f.begin() + 54, dst_opts, dst_opts + 8);
  f[14 + 6] = kIpProtoDestOpts;
  store_be16(f.data() + 18, uint16_t(load_be16(f.data() + 18) + 8));
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(fi.kind, FrameKind::kIcmpEchoV6);
  ASSERT_EQ(fi.l4_offset, 62);
  const uint32_t n = build_icmp_echo_reply(f.data(), fi, kMac2);
  ASSERT_EQ(n, td::k_icmp6_echo_request.size());
  f.resize(n);
  FrameInfo r = must_parse(f);
  EXPECT_EQ(r.l4_offset, 54);
  EXPECT_EQ(r.ip_proto, kIpProtoIcmpv6);
}

TEST(Replies, NeighborAdvertIsWhatLinuxSends) {
  Bytes f = td::k_ns_multicast;
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(build_neighbor_advert(f.data(), uint32_t(f.size()), fi, kMac2), 86u);
  EXPECT_EQ(f, td::k_na_solicited);
  EXPECT_EQ(build_neighbor_advert(f.data(), 85, fi, kMac2), 0u);
  FrameInfo u = must_parse(td::k_udp4_stun);
  EXPECT_EQ(build_neighbor_advert(f.data(), 200, u, kMac2), 0u);
}

TEST(Replies, NeighborAdvertForDadAndShortNs) {
  // DAD probe: from ::, no options (78-byte frame); the answer goes to ff02::1, not solicited.
  Bytes f(td::k_ns_multicast.begin(), td::k_ns_multicast.begin() + 78);
  std::memset(f.data() + 22, 0, 16);
  store_be16(f.data() + 18, 24);
  icmp6_fill_checksum(f.data() + 54, 24, f.data() + 22, f.data() + 38);
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(fi.kind, FrameKind::kNeighborSolicit);
  EXPECT_FALSE(fi.has_lla);
  EXPECT_EQ(build_neighbor_advert(f.data(), uint32_t(f.size()), fi, kMac2), 0u);  // too small
  f.resize(128);
  ASSERT_EQ(build_neighbor_advert(f.data(), uint32_t(f.size()), fi, kMac2), 86u);
  f.resize(86);
  FrameInfo na = must_parse(f);
  ASSERT_EQ(na.kind, FrameKind::kNeighborAdvert);
  EXPECT_FALSE(na.na_solicited);
  EXPECT_TRUE(na.na_override);
  EXPECT_EQ(0, std::memcmp(na.dst.addr, kIpv6AllNodes, 16));
  EXPECT_EQ(na.dst_mac.to_string(), "33:33:00:00:00:01");
  EXPECT_EQ(na.lla, kMac2);
}

TEST(Replies, NeighborAdvertKeepsVlanTag) {
  Bytes f = td::k_ns_multicast;
  const uint8_t tag[4] = {0x81, 0x00, 0x00, 0x07};
  f.insert(f.begin() + 12, tag, tag + 4);
  FrameInfo fi = must_parse(f);
  ASSERT_EQ(fi.kind, FrameKind::kNeighborSolicit);
  ASSERT_EQ(build_neighbor_advert(f.data(), uint32_t(f.size()), fi, kMac2), 90u);
  FrameInfo na = must_parse(f);
  EXPECT_EQ(na.kind, FrameKind::kNeighborAdvert);
  EXPECT_EQ(na.vlan_tci, 7);
  EXPECT_EQ(na.dst_mac, kMac1);
}

TEST(Builders, ArpRequestIsWhatLinuxSends) {
  uint8_t b[64];
  const uint8_t us[4] = {198, 18, 0, 1}, them[4] = {198, 18, 0, 2};
  ASSERT_EQ(build_arp_request(b, sizeof(b), kMac1, us, them), 42u);
  EXPECT_EQ(Bytes(b, b + 42), td::k_arp_request);
  EXPECT_EQ(build_arp_request(b, 41, kMac1, us, them), 0u);
}

TEST(Builders, NeighborSolicitIsWhatLinuxSends) {
  uint8_t b[100];
  ASSERT_EQ(build_neighbor_solicit(b, sizeof(b), kMac1, kIp6One, kIp6Two), 86u);
  EXPECT_EQ(Bytes(b, b + 86), td::k_ns_multicast);
  EXPECT_EQ(build_neighbor_solicit(b, 85, kMac1, kIp6One, kIp6Two), 0u);
}

TEST(FrameKind, Names) {
  EXPECT_STREQ(frame_kind_name(FrameKind::kNeighborSolicit), "neighbor_solicit");
  EXPECT_STREQ(frame_kind_name(FrameKind::kUdp), "udp");
}

}  // namespace
}  // namespace tern
