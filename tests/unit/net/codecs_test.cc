// Per-layer codecs: ethernet, arp, ipv4, ipv6, icmp/nd, udp.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/net/arp.h"
#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/net/ethernet.h"
#include "engine/net/icmp.h"
#include "engine/net/ipv4.h"
#include "engine/net/ipv6.h"
#include "engine/net/udp.h"
#include "tests/unit/net/captured_frames.h"

namespace tern {
namespace {

using testdata::k_arp_request;
using testdata::k_icmp6_echo_request;
using testdata::k_na_solicited;
using testdata::k_ns_multicast;
using testdata::k_udp4_stun;
using testdata::k_udp6_odd;

const MacAddr kMac1{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMac2{{0x02, 0, 0, 0, 0, 0x02}};
const uint8_t kIp6One[16] = {0xfd, 0x54, 0x74, 0x65, 0x72, 0x6e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t kIp6Two[16] = {0xfd, 0x54, 0x74, 0x65, 0x72, 0x6e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

// ---- Ethernet ----

TEST(MacAddr, ParseAndFormat) {
  auto m = MacAddr::parse("02:00:5E:10:aB:ff");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->to_string(), "02:00:5e:10:ab:ff");
  auto d = MacAddr::parse("02-00-5e-10-ab-ff");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, *m);
  for (const char* bad : {"", "02:00:5e:10:ab", "02:00:5e:10:ab:ff:00", "02:00:5e-10:ab:ff",
                          "0g:00:5e:10:ab:ff", "02.00.5e.10.ab.ff", "2:00:5e:10:ab:ff0"}) {
    EXPECT_FALSE(MacAddr::parse(bad).ok()) << bad;
  }
}

TEST(MacAddr, Classes) {
  EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddr::broadcast().is_multicast());
  EXPECT_FALSE(kMac1.is_multicast());
  EXPECT_FALSE(kMac1.is_broadcast());
  EXPECT_TRUE(kMac1.is_locally_administered());
  EXPECT_TRUE((MacAddr{{0x33, 0x33, 0, 0, 0, 1}}.is_multicast()));
  EXPECT_TRUE((MacAddr{{0x01, 0, 0x5e, 0, 0, 1}}.is_multicast()));
  EXPECT_FALSE((MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}}.is_broadcast()));
  EXPECT_TRUE(MacAddr{}.is_zero());
  EXPECT_FALSE(kMac1.is_zero());
  uint8_t b[6];
  kMac2.store(b);
  EXPECT_EQ(MacAddr::load(b), kMac2);
}

TEST(Ethernet, ParseUntagged) {
  EthernetHeader h;
  ASSERT_TRUE(parse_ethernet(k_udp4_stun.data(), uint32_t(k_udp4_stun.size()), &h));
  EXPECT_EQ(h.dst, kMac2);
  EXPECT_EQ(h.src, kMac1);
  EXPECT_EQ(h.ethertype, kEtherTypeIpv4);
  EXPECT_EQ(h.header_len, 14u);
  EXPECT_EQ(h.vlan_tags, 0);
  for (uint32_t n = 0; n < 14; ++n) EXPECT_FALSE(parse_ethernet(k_udp4_stun.data(), n, &h));
}

TEST(Ethernet, SkipsUpToTwoVlanTags) {
  std::vector<uint8_t> f = {2,    0,    0,    0,    0, 2, 2, 0, 0, 0, 0, 1,  // MACs
                            0x88, 0xa8, 0x00, 0x0a,                          // S-tag VID 10
                            0x81, 0x00, 0x20, 0x64,                          // C-tag PCP 1 VID 100
                            0x86, 0xdd};
  EthernetHeader h;
  ASSERT_TRUE(parse_ethernet(f.data(), uint32_t(f.size()), &h));
  EXPECT_EQ(h.vlan_tags, 2);
  EXPECT_EQ(h.vlan_tci, 0x2064);
  EXPECT_EQ(h.ethertype, kEtherTypeIpv6);
  EXPECT_EQ(h.header_len, 22u);
  for (uint32_t n = 0; n < f.size(); ++n) EXPECT_FALSE(parse_ethernet(f.data(), n, &h)) << n;
  // A third tag is refused.
  std::vector<uint8_t> g(f.begin(), f.begin() + 20);
  const uint8_t third[] = {0x81, 0x00, 0x00, 0x01, 0x08, 0x00};
  g.insert(g.end(), third, third + 6);
  EXPECT_FALSE(parse_ethernet(g.data(), uint32_t(g.size()), &h));
}

TEST(Ethernet, WriteAndReply) {
  uint8_t b[14];
  write_ethernet(b, kMac2, kMac1, kEtherTypeArp);
  EXPECT_EQ(load_be16(b + 12), 0x0806);
  EXPECT_EQ(MacAddr::load(b), kMac2);
  ethernet_reply_in_place(b, MacAddr{{2, 0, 0, 0, 0, 9}});
  EXPECT_EQ(MacAddr::load(b), kMac1);
  EXPECT_EQ(MacAddr::load(b + 6), (MacAddr{{2, 0, 0, 0, 0, 9}}));
}

// ---- ARP ----

TEST(Arp, ParseCapturedRequestAndBuildReply) {
  ArpPacket a;
  std::vector<uint8_t> f = k_arp_request;
  ASSERT_TRUE(parse_arp(f.data() + 14, uint32_t(f.size() - 14), &a));
  EXPECT_EQ(a.op, kArpOpRequest);
  EXPECT_EQ(a.sha, kMac1);
  EXPECT_EQ(load_be32(a.spa), 0xc6120001u);
  EXPECT_TRUE(a.tha.is_zero());
  EXPECT_EQ(load_be32(a.tpa), 0xc6120002u);
  arp_reply_in_place(f.data() + 14, kMac2);
  // Byte for byte what the Linux peer answered (testdata::k_arp_reply, body).
  EXPECT_TRUE(std::equal(f.begin() + 14, f.end(), testdata::k_arp_reply.begin() + 14));
  ArpPacket r;
  ASSERT_TRUE(parse_arp(f.data() + 14, 28, &r));
  EXPECT_EQ(r.op, kArpOpReply);
  for (uint32_t n = 0; n < 28; ++n) EXPECT_FALSE(parse_arp(f.data() + 14, n, &r));
}

TEST(Arp, RejectsOtherHardwareOrProtocol) {
  ArpPacket a;
  for (int field : {0, 2, 4, 5, 6}) {
    std::vector<uint8_t> f(k_arp_request.begin() + 14, k_arp_request.end());
    f[field + (field < 4 ? 1 : 0)] ^= 0x40;
    EXPECT_FALSE(parse_arp(f.data(), 28, &a)) << field;
  }
  std::vector<uint8_t> f(k_arp_request.begin() + 14, k_arp_request.end());
  f[7] = 3;  // RARP request
  EXPECT_FALSE(parse_arp(f.data(), 28, &a));
}

TEST(Arp, WriteRequestMatchesCapture) {
  uint8_t b[28];
  const uint8_t us[4] = {198, 18, 0, 1}, them[4] = {198, 18, 0, 2};
  write_arp_request(b, kMac1, us, them);
  EXPECT_EQ(0, std::memcmp(b, k_arp_request.data() + 14, 28));
}

// ---- IPv4 ----

TEST(Ipv4, ParseCaptured) {
  Ipv4Header ip;
  Drop why = Drop::kCount;
  const uint8_t* p = k_udp4_stun.data() + 14;
  const uint32_t n = uint32_t(k_udp4_stun.size() - 14);
  ASSERT_TRUE(parse_ipv4(p, n, &ip, &why));
  EXPECT_EQ(ip.header_len, 20u);
  EXPECT_EQ(ip.total_len, n);
  EXPECT_EQ(ip.protocol, kIpProtoUdp);
  EXPECT_EQ(ip.ttl, 64);
  EXPECT_FALSE(ip.fragment);
  EXPECT_EQ(ip.flags_frag, kIpv4FlagDf);
  EXPECT_EQ(load_be32(ip.src), 0xc6120001u);
  EXPECT_EQ(load_be32(ip.dst), 0xc6120002u);
  // Trailing link padding is fine.
  std::vector<uint8_t> padded(p, p + n);
  padded.resize(n + 10, 0);
  EXPECT_TRUE(parse_ipv4(padded.data(), uint32_t(padded.size()), &ip, &why));
}

TEST(Ipv4, Negative) {
  const uint8_t* p0 = k_udp4_stun.data() + 14;
  const uint32_t n = uint32_t(k_udp4_stun.size() - 14);
  Ipv4Header ip;
  Drop why;
  for (uint32_t k = 0; k < n; ++k) {
    ASSERT_FALSE(parse_ipv4(p0, k, &ip, &why)) << k;
    EXPECT_EQ(why, Drop::kRuntFrame);
  }
  std::vector<uint8_t> p(p0, p0 + n);
  auto mutate = [&](auto fn, Drop want) {
    std::vector<uint8_t> q = p;
    fn(q.data());
    Drop w = Drop::kCount;
    EXPECT_FALSE(parse_ipv4(q.data(), uint32_t(q.size()), &ip, &w));
    EXPECT_EQ(w, want);
  };
  mutate([](uint8_t* q) { q[0] = 0x65; }, Drop::kIpOptions);            // version 6
  mutate([](uint8_t* q) { q[0] = 0x44; }, Drop::kIpOptions);            // IHL 4
  mutate([](uint8_t* q) { store_be16(q + 2, 19); }, Drop::kIpOptions);  // total < IHL
  mutate([](uint8_t* q) { store_be16(q + 2, 200); }, Drop::kRuntFrame);
  mutate([](uint8_t* q) { q[8] ^= 1; }, Drop::kBadChecksum);
  mutate([](uint8_t* q) { q[10] ^= 0x80; }, Drop::kBadChecksum);
  // Fragments parse but are flagged.
  for (uint16_t ff : {uint16_t(kIpv4FlagMf), uint16_t(1), uint16_t(kIpv4FlagDf | 0x100)}) {
    std::vector<uint8_t> q = p;
    store_be16(q.data() + 6, ff);
    ipv4_fill_checksum(q.data());
    ASSERT_TRUE(parse_ipv4(q.data(), uint32_t(q.size()), &ip, &why));
    EXPECT_TRUE(ip.fragment) << ff;
  }
}

TEST(Ipv4, OptionsHeader) {
  // IHL 6 (one 4-byte option word: NOPs + EOL) still parses, header_len 24.
  uint8_t q[24 + 8] = {0x46, 0, 0, 32, 0,  0, 0x40, 0, 64, 17, 0, 0,
                       10,   0, 0, 1,  10, 0, 0,    2, 1,  1,  1, 0};
  ipv4_fill_checksum(q);
  Ipv4Header ip;
  Drop why;
  ASSERT_TRUE(parse_ipv4(q, sizeof(q), &ip, &why));
  EXPECT_EQ(ip.header_len, 24u);
}

TEST(Ipv4, WriteMatchesCapturedHeader) {
  // The captured UDP/IPv4 packet had ID 0x0d5a; ours sends that ID too here.
  const uint8_t* cap = k_udp4_stun.data() + 14;
  uint8_t b[20];
  write_ipv4(b, cap + 12, cap + 16, kIpProtoUdp, 64, k_udp4_stun.size() - 34, true,
             load_be16(cap + 4));
  EXPECT_EQ(0, std::memcmp(b, cap, 20));
  write_ipv4(b, cap + 12, cap + 16, kIpProtoUdp, 64, k_udp4_stun.size() - 34, false,
             load_be16(cap + 4));
  EXPECT_EQ(load_be16(b + 10), 0);
}

// ---- IPv6 ----

TEST(Ipv6, ParseCaptured) {
  Ipv6Header ip;
  Drop why;
  const uint8_t* p = k_udp6_odd.data() + 14;
  const uint32_t n = uint32_t(k_udp6_odd.size() - 14);
  ASSERT_TRUE(parse_ipv6(p, n, &ip, &why));
  EXPECT_EQ(ip.header_len, 40u);
  EXPECT_EQ(ip.next_header, kIpProtoUdp);
  EXPECT_EQ(ip.payload_len, n - 40);
  EXPECT_EQ(ip.hop_limit, 64);
  EXPECT_EQ(0, std::memcmp(ip.src, kIp6One, 16));
  EXPECT_EQ(0, std::memcmp(ip.dst, kIp6Two, 16));
  EXPECT_FALSE(ip.fragment);
  for (uint32_t k = 0; k < n; ++k) {
    ASSERT_FALSE(parse_ipv6(p, k, &ip, &why));
    EXPECT_EQ(why, Drop::kRuntFrame);
  }
  std::vector<uint8_t> q(p, p + n);
  q[0] = 0x40;
  EXPECT_FALSE(parse_ipv6(q.data(), n, &ip, &why));
  EXPECT_EQ(why, Drop::kIpOptions);
}

// Builds an IPv6 packet with the given extension headers (each 8 bytes) then 8 bytes of UDP-ish.
std::vector<uint8_t> with_ext(std::initializer_list<uint8_t> chain, uint8_t last) {
  std::vector<uint8_t> v(40);
  std::vector<uint8_t> types(chain);
  v[0] = 0x60;
  v[6] = types.empty() ? last : types[0];
  v[7] = 64;
  for (size_t i = 0; i < types.size(); ++i) {
    uint8_t ext[8] = {i + 1 < types.size() ? types[i + 1] : last, 0, 1, 4, 0, 0, 0, 0};
    v.insert(v.end(), ext, ext + 8);
  }
  for (int i = 0; i < 8; ++i) v.push_back(0);
  store_be16(v.data() + 4, uint16_t(v.size() - 40));
  return v;
}

TEST(Ipv6, ExtensionHeaders) {
  Ipv6Header ip;
  Drop why;
  auto v = with_ext({kIpProtoHopByHop, kIpProtoDestOpts, kIpProtoRouting}, kIpProtoUdp);
  ASSERT_TRUE(parse_ipv6(v.data(), uint32_t(v.size()), &ip, &why));
  EXPECT_EQ(ip.header_len, 64u);
  EXPECT_EQ(ip.next_header, kIpProtoUdp);
  EXPECT_FALSE(ip.fragment);

  v = with_ext({kIpProtoDestOpts, kIpProtoFragment}, kIpProtoUdp);
  ASSERT_TRUE(parse_ipv6(v.data(), uint32_t(v.size()), &ip, &why));
  EXPECT_TRUE(ip.fragment);

  // Too many, hop-by-hop not first, chain running past the payload.
  v = with_ext(
      {kIpProtoDestOpts, kIpProtoDestOpts, kIpProtoDestOpts, kIpProtoDestOpts, kIpProtoDestOpts},
      kIpProtoUdp);
  EXPECT_FALSE(parse_ipv6(v.data(), uint32_t(v.size()), &ip, &why));
  EXPECT_EQ(why, Drop::kIpOptions);
  v = with_ext({kIpProtoDestOpts, kIpProtoHopByHop}, kIpProtoUdp);
  EXPECT_FALSE(parse_ipv6(v.data(), uint32_t(v.size()), &ip, &why));
  EXPECT_EQ(why, Drop::kIpOptions);
  v = with_ext({kIpProtoRouting}, kIpProtoUdp);
  v[41] = 5;  // claims 48 bytes
  EXPECT_FALSE(parse_ipv6(v.data(), uint32_t(v.size()), &ip, &why));
  EXPECT_EQ(why, Drop::kIpOptions);
  // Jumbogram.
  v = with_ext({kIpProtoHopByHop}, kIpProtoUdp);
  store_be16(v.data() + 4, 0);
  EXPECT_FALSE(parse_ipv6(v.data(), uint32_t(v.size()), &ip, &why));
  EXPECT_EQ(why, Drop::kIpOptions);
}

TEST(Ipv6, WriteMatchesCapturedHeader) {
  const uint8_t* cap = k_udp6_odd.data() + 14;
  uint8_t b[40];
  const uint32_t vtf = load_be32(cap);
  write_ipv6(b, kIp6One, kIp6Two, kIpProtoUdp, 64, load_be16(cap + 4), uint8_t(vtf >> 20),
             vtf & 0xfffff);
  EXPECT_EQ(0, std::memcmp(b, cap, 40));
}

TEST(Ipv6, SolicitedNodeAndMulticastMac) {
  uint8_t sn[16];
  solicited_node_multicast(kIp6Two, sn);
  // The captured NS went to ff02::1:ff00:2 at 33:33:ff:00:00:02.
  EXPECT_EQ(0, std::memcmp(sn, k_ns_multicast.data() + 14 + 24, 16));
  EXPECT_EQ(ipv6_multicast_mac(sn), MacAddr::load(k_ns_multicast.data()));
  EXPECT_TRUE(ipv6_is_solicited_node(sn));
  EXPECT_TRUE(ipv6_is_multicast(sn));
  EXPECT_FALSE(ipv6_is_solicited_node(kIp6Two));
  const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0xef, 0x12};
  solicited_node_multicast(a, sn);
  const uint8_t want[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xcd, 0xef, 0x12};
  EXPECT_EQ(0, std::memcmp(sn, want, 16));
  EXPECT_EQ(ipv6_multicast_mac(sn).to_string(), "33:33:ff:cd:ef:12");
  uint8_t z[16] = {};
  EXPECT_TRUE(ipv6_is_unspecified(z));
  EXPECT_FALSE(ipv6_is_unspecified(kIp6One));
}

// ---- UDP ----

TEST(Udp, ParseAndChecksumCapturedV4) {
  const uint8_t* ip = k_udp4_stun.data() + 14;
  const uint8_t* u = ip + 20;
  const uint32_t n = uint32_t(k_udp4_stun.size() - 34);
  UdpHeader h;
  Drop why;
  ASSERT_TRUE(parse_udp(u, n, &h, &why));
  EXPECT_EQ(h.src_port, 40000);
  EXPECT_EQ(h.dst_port, 3478);
  EXPECT_EQ(h.length, n);
  EXPECT_TRUE(udp_checksum_ok_v4(u, n, ip + 12, ip + 16));
  EXPECT_EQ(udp_checksum_v4(u, n, ip + 12, ip + 16), h.checksum);  // kernel's value
  std::vector<uint8_t> q(u, u + n);
  q[n - 1] ^= 1;
  EXPECT_FALSE(udp_checksum_ok_v4(q.data(), n, ip + 12, ip + 16));
  q[6] = q[7] = 0;  // no checksum: accepted on IPv4
  EXPECT_TRUE(udp_checksum_ok_v4(q.data(), n, ip + 12, ip + 16));
  for (uint32_t k = 0; k < n; ++k) {
    EXPECT_FALSE(parse_udp(u, k, &h, &why));
    EXPECT_EQ(why, Drop::kRuntFrame);
  }
  store_be16(q.data() + 4, 7);
  EXPECT_FALSE(parse_udp(q.data(), n, &h, &why));
  EXPECT_EQ(why, Drop::kIpOptions);
}

TEST(Udp, ChecksumCapturedV6OddLength) {
  const uint8_t* ip = k_udp6_odd.data() + 14;
  const uint8_t* u = ip + 40;
  const uint32_t n = uint32_t(k_udp6_odd.size() - 54);
  ASSERT_EQ(n % 2, 1u);
  EXPECT_TRUE(udp_checksum_ok_v6(u, n, ip + 8, ip + 24));
  EXPECT_EQ(udp_checksum_v6(u, n, ip + 8, ip + 24), load_be16(u + 6));
  std::vector<uint8_t> q(u, u + n);
  q[6] = q[7] = 0;  // zero is not allowed on IPv6
  EXPECT_FALSE(udp_checksum_ok_v6(q.data(), n, ip + 8, ip + 24));
  const uint8_t* big = testdata::k_udp6_1200.data() + 14;
  EXPECT_TRUE(udp_checksum_ok_v6(big + 40, 1208, big + 8, big + 24));
}

TEST(Udp, ComputedZeroIsSentAsFfff) {
  // Search a datagram whose checksum computes to 0 by adjusting one payload word.
  uint8_t u[10] = {0, 1, 0, 2, 0, 10, 0, 0, 0, 0};
  const uint8_t s[4] = {10, 0, 0, 1}, d[4] = {10, 0, 0, 2};
  uint16_t c = udp_checksum_v4(u, 10, s, d);
  // Adding ~c... make the sum 0xffff: put the complement of the current sum in the payload.
  store_be16(u + 8, c);
  EXPECT_EQ(udp_checksum_v4(u, 10, s, d), 0xffff);
  store_be16(u + 6, 0xffff);
  EXPECT_TRUE(udp_checksum_ok_v4(u, 10, s, d));
}

// ---- ICMP / ND ----

TEST(Icmp, V4EchoToReplyMatchesPeer) {
  std::vector<uint8_t> f = testdata::k_icmp4_echo_request;
  uint8_t* icmp = f.data() + 34;
  const uint32_t n = uint32_t(f.size() - 34);
  ASSERT_TRUE(icmp4_checksum_ok(icmp, n));
  icmp4_echo_to_reply(icmp);
  EXPECT_TRUE(icmp4_checksum_ok(icmp, n));
  // The ICMP part is exactly what the Linux peer sent back.
  EXPECT_EQ(0, std::memcmp(icmp, testdata::k_icmp4_echo_reply.data() + 34, n));
}

TEST(Icmp, V6EchoToReplyMatchesPeer) {
  std::vector<uint8_t> f = k_icmp6_echo_request;
  uint8_t* ip = f.data() + 14;
  uint8_t* icmp = ip + 40;
  const uint32_t n = uint32_t(f.size() - 54);
  ASSERT_TRUE(icmp6_checksum_ok(icmp, n, ip + 8, ip + 24));
  icmp6_echo_to_reply(icmp);
  EXPECT_TRUE(icmp6_checksum_ok(icmp, n, ip + 24, ip + 8));  // swapped
  EXPECT_EQ(0, std::memcmp(icmp, testdata::k_icmp6_echo_reply.data() + 54, n));
  icmp[9] ^= 1;
  EXPECT_FALSE(icmp6_checksum_ok(icmp, n, ip + 24, ip + 8));
  icmp6_fill_checksum(icmp, n, ip + 24, ip + 8);
  EXPECT_TRUE(icmp6_checksum_ok(icmp, n, ip + 24, ip + 8));
}

TEST(Nd, ParseCapturedNs) {
  const uint8_t* ip = k_ns_multicast.data() + 14;
  const uint8_t* icmp = ip + 40;
  NeighborSolicit ns;
  Drop why;
  ASSERT_TRUE(parse_neighbor_solicit(icmp, 32, ip + 8, ip + 24, 255, &ns, &why));
  EXPECT_EQ(0, std::memcmp(ns.target, kIp6Two, 16));
  EXPECT_TRUE(ns.has_source_lla);
  EXPECT_EQ(ns.source_lla, kMac1);
  // RFC 4861 §7.1.1 rules.
  EXPECT_FALSE(parse_neighbor_solicit(icmp, 32, ip + 8, ip + 24, 254, &ns, &why));
  EXPECT_EQ(why, Drop::kUnsupportedL4);
  for (uint32_t k = 0; k < 24; ++k) {
    EXPECT_FALSE(parse_neighbor_solicit(icmp, k, ip + 8, ip + 24, 255, &ns, &why));
  }
  std::vector<uint8_t> q(icmp, icmp + 32);
  q[1] = 1;  // code
  EXPECT_FALSE(parse_neighbor_solicit(q.data(), 32, ip + 8, ip + 24, 255, &ns, &why));
  q[1] = 0;
  q[31] ^= 1;
  EXPECT_FALSE(parse_neighbor_solicit(q.data(), 32, ip + 8, ip + 24, 255, &ns, &why));
  EXPECT_EQ(why, Drop::kBadChecksum);
  q[31] ^= 1;
  q[25] = 0;  // option length 0
  icmp6_fill_checksum(q.data(), 32, ip + 8, ip + 24);
  EXPECT_FALSE(parse_neighbor_solicit(q.data(), 32, ip + 8, ip + 24, 255, &ns, &why));
  q[25] = 2;  // option overruns
  icmp6_fill_checksum(q.data(), 32, ip + 8, ip + 24);
  EXPECT_FALSE(parse_neighbor_solicit(q.data(), 32, ip + 8, ip + 24, 255, &ns, &why));
  q[25] = 1;
  q[8] = 0xff;  // multicast target
  icmp6_fill_checksum(q.data(), 32, ip + 8, ip + 24);
  EXPECT_FALSE(parse_neighbor_solicit(q.data(), 32, ip + 8, ip + 24, 255, &ns, &why));
  // DAD: from ::, must have no source link-layer option and go to solicited-node.
  const uint8_t zero[16] = {};
  std::vector<uint8_t> dad(icmp, icmp + 24);
  icmp6_fill_checksum(dad.data(), 24, zero, ip + 24);
  EXPECT_TRUE(parse_neighbor_solicit(dad.data(), 24, zero, ip + 24, 255, &ns, &why));
  EXPECT_FALSE(ns.has_source_lla);
  icmp6_fill_checksum(dad.data(), 24, zero, kIp6Two);
  EXPECT_FALSE(parse_neighbor_solicit(dad.data(), 24, zero, kIp6Two, 255, &ns, &why));
  std::vector<uint8_t> dad_lla(icmp, icmp + 32);
  icmp6_fill_checksum(dad_lla.data(), 32, zero, ip + 24);
  EXPECT_FALSE(parse_neighbor_solicit(dad_lla.data(), 32, zero, ip + 24, 255, &ns, &why));
  // Not an NS at all.
  EXPECT_FALSE(
      parse_neighbor_solicit(k_na_solicited.data() + 54, 32, ip + 8, ip + 24, 255, &ns, &why));
}

TEST(Nd, ParseCapturedNa) {
  const uint8_t* ip = k_na_solicited.data() + 14;
  const uint8_t* icmp = ip + 40;
  NeighborAdvert na;
  Drop why;
  ASSERT_TRUE(parse_neighbor_advert(icmp, 32, ip + 8, ip + 24, 255, &na, &why));
  EXPECT_EQ(0, std::memcmp(na.target, kIp6Two, 16));
  EXPECT_TRUE(na.solicited);
  EXPECT_TRUE(na.override_flag);
  EXPECT_FALSE(na.router);
  EXPECT_TRUE(na.has_target_lla);
  EXPECT_EQ(na.target_lla, kMac2);
  EXPECT_FALSE(parse_neighbor_advert(icmp, 32, ip + 8, ip + 24, 64, &na, &why));
  // Solicited NA to a multicast destination is invalid.
  std::vector<uint8_t> q(icmp, icmp + 32);
  icmp6_fill_checksum(q.data(), 32, ip + 8, kIpv6AllNodes);
  EXPECT_FALSE(parse_neighbor_advert(q.data(), 32, ip + 8, kIpv6AllNodes, 255, &na, &why));
  q[4] = kNaFlagOverride;
  icmp6_fill_checksum(q.data(), 32, ip + 8, kIpv6AllNodes);
  EXPECT_TRUE(parse_neighbor_advert(q.data(), 32, ip + 8, kIpv6AllNodes, 255, &na, &why));
}

TEST(Nd, WriteMatchesCapture) {
  // Our NS writer reproduces the kernel's NS (fd54::1 asking for fd54::2).
  const uint8_t* ip = k_ns_multicast.data() + 14;
  uint8_t b[32];
  EXPECT_EQ(write_neighbor_solicit(b, ip + 8, ip + 24, kIp6Two, kMac1), 32u);
  EXPECT_EQ(0, std::memcmp(b, ip + 40, 32));
  // And the NA writer the kernel's solicited NA.
  const uint8_t* na_ip = k_na_solicited.data() + 14;
  EXPECT_EQ(write_neighbor_advert(b, na_ip + 8, na_ip + 24, kIp6Two, kMac2,
                                  kNaFlagSolicited | kNaFlagOverride),
            32u);
  EXPECT_EQ(0, std::memcmp(b, na_ip + 40, 32));
}

}  // namespace
}  // namespace tern
