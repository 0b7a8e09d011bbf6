// parse_frame, write_udp_headers and the reply builders, mostly against
// frames the Linux kernel produced (captured_frames.h).
#include "engine/net/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
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

Drop must_fail(const Bytes& f) {
  FrameInfo fi;
  Drop why = Drop::kCount;
  EXPECT_FALSE(parse(f, &fi, &why));
  return why;
}

TEST(ParseFrame, CapturedKinds) {
  struct Case {
    const Bytes* f;
    FrameKind kind;
  };
  const Case cases[] = {
      {&td::k_arp_request, FrameKind::kArp},
      {&td::k_arp_reply, FrameKind::kArp},
      {&td::k_icmp4_echo_request, FrameKind::kIcmpEchoV4},
      {&td::k_icmp4_echo_reply, FrameKind::kOther},
      {&td::k_udp4_stun, FrameKind::kUdp},
      {&td::k_icmp4_port_unreachable, FrameKind::kOther},
      {&td::k_udp4_dtls, FrameKind::kUdp},
      {&td::k_udp4_vlan, FrameKind::kUdp},
      {&td::k_ns_multicast, FrameKind::kNeighborSolicit},
      {&td::k_na_solicited, FrameKind::kNeighborAdvert},
      {&td::k_icmp6_echo_request, FrameKind::kIcmpEchoV6},
      {&td::k_icmp6_echo_reply, FrameKind::kOther},
      {&td::k_udp6_odd, FrameKind::kUdp},
      {&td::k_icmp6_port_unreachable, FrameKind::kOther},
      {&td::k_udp6_1200, FrameKind::kUdp},
      {&td::k_ns_from_peer, FrameKind::kNeighborSolicit},
  };
  for (const auto& c : cases) {
    FrameInfo fi = must_parse(*c.f);
    EXPECT_EQ(fi.kind, c.kind) << frame_kind_name(fi.kind) << " vs " << frame_kind_name(c.kind);
    EXPECT_EQ(fi.l3_offset + fi.l3_len, c.f->size());
  }
}

TEST(ParseFrame, UdpV4Fields) {
  FrameInfo fi = must_parse(td::k_udp4_stun);
  EXPECT_EQ(fi.src_mac, kMac1);
  EXPECT_EQ(fi.dst_mac, kMac2);
  EXPECT_EQ(fi.ethertype, kEtherTypeIpv4);
  EXPECT_EQ(fi.ip_proto, kIpProtoUdp);
  EXPECT_EQ(fi.hop_limit, 64);
  EXPECT_EQ(fi.l3_offset, 14);
  EXPECT_EQ(fi.l4_offset, 34);
  EXPECT_EQ(fi.payload_offset, 42);
  EXPECT_EQ(fi.payload_len, td::k_udp4_stun.size() - 42);
  EXPECT_EQ(fi.src, *Endpoint::parse("198.18.0.1:40000"));
  EXPECT_EQ(fi.dst, *Endpoint::parse("198.18.0.2:3478"));
  EXPECT_EQ(td::k_udp4_stun[fi.payload_offset], 0x00);  // STUN binding request
  EXPECT_EQ(td::k_udp4_stun[fi.payload_offset + 1], 0x01);
}

TEST(ParseFrame, UdpV6Fields) {
  FrameInfo fi = must_parse(td::k_udp6_odd);
  EXPECT_EQ(fi.ethertype, kEtherTypeIpv6);
  EXPECT_EQ(fi.l4_offset, 54);
  EXPECT_EQ(fi.payload_offset, 62);
  EXPECT_EQ(fi.payload_len, 23u);  // odd: exercises the trailing-byte pad
  EXPECT_EQ(fi.src, *Endpoint::parse("[fd54:7465:726e::1]:40001"));
  EXPECT_EQ(fi.dst, *Endpoint::parse("[fd54:7465:726e::2]:3479"));
  FrameInfo big = must_parse(td::k_udp6_1200);
  EXPECT_EQ(big.payload_len, 1200u);
}

TEST(ParseFrame, VlanTagged) {
  FrameInfo fi = must_parse(td::k_udp4_vlan);
  EXPECT_EQ(fi.vlan_tags, 1);
  EXPECT_EQ(fi.vlan_tci, 100);
  EXPECT_EQ(fi.l3_offset, 18);
  EXPECT_EQ(fi.payload_len, 12u);
}

TEST(ParseFrame, ArpFields) {
  FrameInfo fi = must_parse(td::k_arp_request);
  EXPECT_EQ(fi.arp_op, 1);
  EXPECT_EQ(fi.src.addr_string(), "198.18.0.1");
  EXPECT_EQ(fi.dst.addr_string(), "198.18.0.2");
  EXPECT_TRUE(fi.has_lla);
  EXPECT_EQ(fi.lla, kMac1);
  EXPECT_TRUE(fi.dst_mac.is_broadcast());
  EXPECT_EQ(must_parse(td::k_arp_reply).arp_op, 2);
}

TEST(ParseFrame, NdFields) {
  FrameInfo ns = must_parse(td::k_ns_multicast);
  EXPECT_EQ(0, std::memcmp(ns.nd_target, kIp6Two, 16));
  EXPECT_TRUE(ns.has_lla);
  EXPECT_EQ(ns.lla, kMac1);
  EXPECT_EQ(ns.hop_limit, 255);
  FrameInfo na = must_parse(td::k_na_solicited);
  EXPECT_EQ(0, std::memcmp(na.nd_target, kIp6Two, 16));
  EXPECT_TRUE(na.has_lla);
  EXPECT_EQ(na.lla, kMac2);
  EXPECT_TRUE(na.na_solicited);
  EXPECT_TRUE(na.na_override);
  EXPECT_FALSE(na.na_router);
}

TEST(ParseFrame, EthernetPaddingIgnored) {
  Bytes f = td::k_udp4_dtls;  // 54 bytes on the wire before padding
  f.resize(60, 0);
  FrameInfo fi = must_parse(f);
  EXPECT_EQ(fi.payload_len, 12u);
  EXPECT_EQ(fi.l3_len, 40u);
  Bytes a = td::k_arp_request;
  a.resize(60, 0xee);
  EXPECT_EQ(must_parse(a).kind, FrameKind::kArp);
}

TEST(ParseFrame, TruncatedAtEveryLength) {
  for (const Bytes* f : {&td::k_arp_request, &td::k_icmp4_echo_request, &td::k_udp4_stun,
                         &td::k_udp4_vlan, &td::k_ns_multicast, &td::k_na_solicited,
                         &td::k_icmp6_echo_request, &td::k_udp6_odd, &td::k_udp6_1200}) {
    for (size_t n = 0; n < f->size(); ++n) {
      Bytes t(f->begin(), f->begin() + n);
      FrameInfo fi;
      Drop why = Drop::kCount;
      ASSERT_FALSE(parse(t, &fi, &why)) << "len " << n << " of " << f->size();
      EXPECT_EQ(why, Drop::kRuntFrame) << "len " << n << " " << drop_name(why);
    }
  }
}

TEST(ParseFrame, BadChecksums) {
  Bytes f = td::k_udp4_stun;
  f.back() ^= 0x01;  // UDP payload
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
  f = td::k_udp4_stun;
  f[14 + 8] ^= 1;  // TTL: IPv4 header checksum
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
  f = td::k_udp6_odd;
  f[60] ^= 0x80;  // UDP checksum field
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
  f = td::k_icmp4_echo_request;
  f[50] ^= 1;
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
  f = td::k_icmp6_echo_request;
  f[70] ^= 1;
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
  f = td::k_ns_multicast;
  f[14 + 40 + 12] ^= 1;  // target
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
  f = td::k_icmp6_port_unreachable;
  f.back() ^= 1;
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);
}

TEST(ParseFrame, HardwareVerifiedChecksumsAreNotRechecked) {
  Bytes f = td::k_udp4_stun;
  f.back() ^= 0x01;  // UDP checksum now wrong...
  f[14 + 8] ^= 1;    // ...and the IPv4 header checksum too
  FrameInfo fi;
  Drop why;
  EXPECT_FALSE(parse_frame(f.data(), uint32_t(f.size()), RxVerified{true, false}, &fi, &why));
  EXPECT_EQ(why, Drop::kBadChecksum);  // UDP still checked
  EXPECT_FALSE(parse_frame(f.data(), uint32_t(f.size()), RxVerified{false, true}, &fi, &why));
  EXPECT_EQ(why, Drop::kBadChecksum);  // IP still checked
  ASSERT_TRUE(parse_frame(f.data(), uint32_t(f.size()), RxVerified{true, true}, &fi, &why));
  EXPECT_EQ(fi.kind, FrameKind::kUdp);
  // Lengths are still validated.
  Bytes t(f.begin(), f.end() - 1);
  EXPECT_FALSE(parse_frame(t.data(), uint32_t(t.size()), RxVerified{true, true}, &fi, &why));
  EXPECT_EQ(why, Drop::kRuntFrame);
  // ICMP is always verified.
  Bytes icmp = td::k_icmp4_echo_request;
  icmp.back() ^= 1;
  EXPECT_FALSE(parse_frame(icmp.data(), uint32_t(icmp.size()), RxVerified{true, true}, &fi, &why));
}

// defer_l4: the UDP checksum is not checked but its claim on the payload is
// handed on, and carrying it gives back the checksum the datagram had.
TEST(ParseFrame, DeferredUdpChecksumIsClaimedNotChecked) {
  for (const Bytes& good : {td::k_udp4_stun, td::k_udp6_odd, td::k_udp6_1200}) {
    Bytes f = good;
    FrameInfo fi;
    Drop why;
    ASSERT_TRUE(
        parse_frame(f.data(), uint32_t(f.size()), RxVerified{false, false, true}, &fi, &why));
    EXPECT_FALSE(fi.l4_verified);
    ASSERT_NE(fi.payload_sum, kNoSum);
    const uint8_t* payload = f.data() + fi.payload_offset;
    EXPECT_TRUE(checksum_matches(payload, fi.payload_len, fi.payload_sum));
    // The carried sum rebuilds the same checksum field without the payload.
    const uint8_t* udp = f.data() + fi.l4_offset;
    const uint32_t ulen = fi.payload_len + 8;
    const uint16_t field = load_be16(udp + 6);
    EXPECT_EQ(fi.src.is_v4()
                  ? udp_checksum_from_sum_v4(udp, ulen, fi.src.addr, fi.dst.addr, fi.payload_sum)
                  : udp_checksum_from_sum_v6(udp, ulen, fi.src.addr, fi.dst.addr, fi.payload_sum),
              field);
    // Corrupt: still parsed when deferred, and the claim catches it.
    f.back() ^= 0x40;
    ASSERT_TRUE(
        parse_frame(f.data(), uint32_t(f.size()), RxVerified{false, false, true}, &fi, &why));
    EXPECT_FALSE(checksum_matches(f.data() + fi.payload_offset, fi.payload_len, fi.payload_sum));
    EXPECT_FALSE(parse_frame(f.data(), uint32_t(f.size()), &fi, &why));
    EXPECT_EQ(why, Drop::kBadChecksum);
  }
  // IPv4 without a checksum: nothing to claim, nothing deferred.
  Bytes z = td::k_udp4_stun;
  z[40] = z[41] = 0;
  FrameInfo fi;
  Drop why;
  ASSERT_TRUE(parse_frame(z.data(), uint32_t(z.size()), RxVerified{false, false, true}, &fi, &why));
  EXPECT_TRUE(fi.l4_verified);
  EXPECT_EQ(fi.payload_sum, kNoSum);
}

TEST(ParseFrame, UdpZeroChecksum) {
  Bytes f = td::k_udp4_stun;
  f[40] = f[41] = 0;
  EXPECT_EQ(must_parse(f).kind, FrameKind::kUdp);  // allowed on IPv4
  f = td::k_udp6_odd;
  f[60] = f[61] = 0;
  EXPECT_EQ(must_fail(f), Drop::kBadChecksum);  // mandatory on IPv6
}

TEST(ParseFrame, Fragments) {
  Bytes f = td::k_udp4_stun;
  store_be16(f.data() + 14 + 6, kIpv4FlagMf);
  ipv4_fill_checksum(f.data() + 14);
  EXPECT_EQ(must_fail(f), Drop::kIpFragment);
  store_be16(f.data() + 14 + 6, 185);  // offset only (last fragment)
  ipv4_fill_checksum(f.data() + 14);
  EXPECT_EQ(must_fail(f), Drop::kIpFragment);
  // IPv6: insert a fragment header in front of the UDP header.
  Bytes g = td::k_udp6_odd;
  const uint8_t frag[8] = {kIpProtoUdp, 0, 0, 0x01, 0, 0, 0, 42};  // M=1
  g.insert(g.begin() + 54, frag, frag + 8);
  g[14 + 6] = kIpProtoFragment;
  store_be16(g.data() + 14 + 4, uint16_t(load_be16(g.data() + 18) + 8));
  EXPECT_EQ(must_fail(g), Drop::kIpFragment);
}

TEST(ParseFrame, UnsupportedAndMalformed) {
  Bytes f = td::k_udp4_stun;
  f[12] = 0x88;
  f[13] = 0xcc;  // LLDP
  EXPECT_EQ(must_fail(f), Drop::kUnsupportedL3);
  f = td::k_udp4_stun;
  f[14 + 9] = kIpProtoTcp;
  ipv4_fill_checksum(f.data() + 14);
  EXPECT_EQ(must_fail(f), Drop::kUnsupportedL4);
  f = td::k_udp4_stun;
  f[14] = 0x65;  // version 6 in an IPv4 ethertype
  EXPECT_EQ(must_fail(f), Drop::kIpOptions);
  f = td::k_udp6_odd;
  f[14 + 6] = kIpProtoNoNext;
  EXPECT_EQ(must_fail(f), Drop::kUnsupportedL4);
  f = td::k_arp_request;
  f[14 + 1] = 6;  // htype IEEE 802
  EXPECT_EQ(must_fail(f), Drop::kUnsupportedL3);
  // Three VLAN tags.
  f = td::k_udp4_stun;
  const uint8_t tags[12] = {0x88, 0xa8, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3};
  f.insert(f.begin() + 12, tags, tags + 12);
  EXPECT_EQ(must_fail(f), Drop::kUnsupportedL3);
  // NS with hop limit 64 (came through a router): RFC 4861 says drop.
  f = td::k_ns_multicast;
  f[14 + 7] = 64;
  EXPECT_EQ(must_fail(f), Drop::kUnsupportedL4);
  // UDP length field below 8.
  f = td::k_udp4_stun;
  store_be16(f.data() + 38, 4);
  EXPECT_EQ(must_fail(f), Drop::kIpOptions);
}

TEST(ParseFrame, Ipv6MulticastSourceRefused) {
  Bytes f = td::k_udp6_odd;
  f[14 + 8] = 0xff;
  EXPECT_EQ(must_fail(f), Drop::kIpOptions);
}

TEST(ParseFrame, IcmpEchoWithNonZeroCodeIsOther) {
  Bytes f = td::k_icmp4_echo_request;
  f[35] = 1;
  store_be16(f.data() + 36, 0);
  store_be16(f.data() + 36, internet_checksum(f.data() + 34, uint32_t(f.size() - 34)));
  EXPECT_EQ(must_parse(f).kind, FrameKind::kOther);
}

// ---- TX ----

TEST(WriteUdpHeaders, Lengths) {
  EXPECT_EQ(udp_headers_len(Family::kIpv4), 42u);
  EXPECT_EQ(udp_headers_len(Family::kIpv6), 62u);
  EXPECT_EQ(udp_headers_len(Family::kNone), 0u);
}

TEST(WriteUdpHeaders, V4MatchesKernel) {
  const Bytes& cap = td::k_udp4_stun;
  Bytes f(cap.size());
  std::memcpy(f.data() + 42, cap.data() + 42, cap.size() - 42);
  const Endpoint local = *Endpoint::parse("198.18.0.1:40000");
  const Endpoint remote = *Endpoint::parse("198.18.0.2:3478");
  ASSERT_TRUE(write_udp_headers(f.data(), kMac1, kMac2, local, remote, uint32_t(cap.size() - 42),
                                TxChecksum::kSoftware));
  // Identical except the IP ID (kernel: counter, ours: 0) and so the IP checksum.
  for (size_t i = 0; i < 42; ++i) {
    if (i == 18 || i == 19 || i == 24 || i == 25) continue;
    EXPECT_EQ(f[i], cap[i]) << "byte " << i;
  }
  EXPECT_EQ(internet_checksum(f.data() + 14, 20), 0);
  FrameInfo fi = must_parse(f);
  EXPECT_EQ(fi.kind, FrameKind::kUdp);
  EXPECT_EQ(fi.src, local);
  EXPECT_EQ(fi.dst, remote);
}

TEST(WriteUdpHeaders, V6MatchesKernel) {
  const Bytes& cap = td::k_udp6_odd;
  Bytes f(cap.size());
  std::memcpy(f.data() + 62, cap.data() + 62, cap.size() - 62);
  const Endpoint local = *Endpoint::parse("[fd54:7465:726e::1]:40001");
  const Endpoint remote = *Endpoint::parse("[fd54:7465:726e::2]:3479");
  ASSERT_TRUE(write_udp_headers(f.data(), kMac1, kMac2, local, remote, uint32_t(cap.size() - 62),
                                TxChecksum::kSoftware));
  for (size_t i = 0; i < 62; ++i) {
    if (i >= 15 && i <= 17) continue;  // flow label: the kernel hashes one, we send 0
    EXPECT_EQ(f[i], cap[i]) << "byte " << i;
  }
  EXPECT_EQ(must_parse(f).dst, remote);
}

TEST(WriteUdpHeaders, OffloadLeavesPseudoHeaderSum) {
  std::mt19937 rng(5);
  for (Family fam : {Family::kIpv4, Family::kIpv6}) {
    const Endpoint local =
        *Endpoint::parse(fam == Family::kIpv4 ? "198.18.0.1:3478" : "[fd54:7465:726e::1]:3478");
    const Endpoint remote =
        *Endpoint::parse(fam == Family::kIpv4 ? "198.18.7.9:50000" : "[fd54:7465:726e::99]:50000");
    for (uint32_t n : {0u, 1u, 2u, 17u, 1200u}) {
      const uint32_t h = udp_headers_len(fam);
      Bytes sw(h + n), off(h + n);
      for (uint32_t i = 0; i < n; ++i) sw[h + i] = off[h + i] = uint8_t(rng());
      ASSERT_TRUE(
          write_udp_headers(sw.data(), kMac1, kMac2, local, remote, n, TxChecksum::kSoftware));
      ASSERT_TRUE(
          write_udp_headers(off.data(), kMac1, kMac2, local, remote, n, TxChecksum::kOffload));
      uint8_t* udp = off.data() + h - 8;
      if (fam == Family::kIpv4) {
        EXPECT_EQ(load_be16(off.data() + 24), 0);  // IP checksum left to the NIC
        EXPECT_EQ(load_be16(udp + 6),
                  checksum_fold(pseudo_header_sum_v4(local.addr, remote.addr, 17, n + 8)));
      }
      // What the NIC does: checksum over the UDP bytes seeded with the field.
      uint16_t nic = internet_checksum(udp, n + 8);
      if (nic == 0) nic = 0xffff;
      EXPECT_EQ(nic, load_be16(sw.data() + h - 2)) << n;
      EXPECT_EQ(must_parse(sw).payload_len, n);
    }
  }
}

TEST(WriteUdpHeaders, Refusals) {
  uint8_t b[64];
  const Endpoint v4 = *Endpoint::parse("198.18.0.1:1");
  const Endpoint v6 = *Endpoint::parse("[::1]:1");
  EXPECT_FALSE(write_udp_headers(b, kMac1, kMac2, v4, v6, 0, TxChecksum::kOffload));
  EXPECT_FALSE(write_udp_headers(b, kMac1, kMac2, Endpoint{}, Endpoint{}, 0, TxChecksum::kOffload));
  EXPECT_FALSE(write_udp_headers(b, kMac1, kMac2, v4, v4, 65508, TxChecksum::kOffload));
  EXPECT_TRUE(write_udp_headers(b, kMac1, kMac2, v4, v4, 65507, TxChecksum::kOffload));
  EXPECT_FALSE(write_udp_headers(b, kMac1, kMac2, v6, v6, 65528, TxChecksum::kOffload));
}

TEST(WriteUdpHeaders, PrependToPacket) {
  uint8_t mem[512] = {};
  Packet p;
  p.buf = mem;
  p.capacity = sizeof(mem);
  p.reset();
  std::memcpy(p.append(5), "hello", 5);
  p.local = *Endpoint::parse("[fd54:7465:726e::1]:3478");
  p.remote = *Endpoint::parse("[fd54:7465:726e::2]:9");
  ASSERT_TRUE(prepend_udp_headers(&p, kMac1, kMac2, TxChecksum::kSoftware));
  EXPECT_EQ(p.len, 67u);
  EXPECT_EQ(p.off, kDefaultHeadroom - 62u);
  FrameInfo fi;
  Drop why;
  ASSERT_TRUE(parse_frame(p.data(), p.len, &fi, &why));
  EXPECT_EQ(fi.payload_len, 5u);
  EXPECT_EQ(0, std::memcmp(p.data() + fi.payload_offset, "hello", 5));
  // Not enough headroom: unchanged.
  p.reset(40);
  p.append(5);
  EXPECT_FALSE(prepend_udp_headers(&p, kMac1, kMac2, TxChecksum::kSoftware));
  EXPECT_EQ(p.off, 40u);
  p.reset();
  p.local = Endpoint{};
  EXPECT_FALSE(prepend_udp_headers(&p, kMac1, kMac2, TxChecksum::kSoftware));
}

TEST(WriteUdpHeaders, RandomRoundTrip) {
  std::mt19937 rng(99);
  Bytes f(2000);
  for (int it = 0; it < 500; ++it) {
    Endpoint a, b;
    if (rng() & 1) {
      a = Endpoint::v4(uint32_t(rng()), uint16_t(rng()));
      b = Endpoint::v4(uint32_t(rng()), uint16_t(rng()));
    } else {
      uint8_t x[16], y[16];
      for (int i = 0; i < 16; ++i) x[i] = uint8_t(rng()), y[i] = uint8_t(rng());
      x[0] &= 0xfe;  // a multicast source is refused on parse
      a = Endpoint::v6(x, uint16_t(rng()));
      b = Endpoint::v6(y, uint16_t(rng()));
    }
    const uint32_t n = rng() % 1500;
    const uint32_t h = udp_headers_len(a.family);
    for (uint32_t i = 0; i < n; ++i) f[h + i] = uint8_t(rng());
    ASSERT_TRUE(write_udp_headers(f.data(), kMac1, kMac2, a, b, n, TxChecksum::kSoftware));
    FrameInfo fi;
    Drop why;
    ASSERT_TRUE(parse_frame(f.data(), h + n, &fi, &why)) << drop_name(why);
    ASSERT_EQ(fi.src, a);
    ASSERT_EQ(fi.dst, b);
    ASSERT_EQ(fi.payload_len, n);
    ASSERT_EQ(fi.payload_offset, h);
  }
}

}  // namespace
}  // namespace tern
