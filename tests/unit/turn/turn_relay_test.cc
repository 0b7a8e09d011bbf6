// TurnServer fast path: ChannelData and Send/Data indications byte for byte,
// permissions and channels expiring, drops by reason, bandwidth quota.
#include <memory>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server.h"
#include "gtest/gtest.h"
#include "tests/unit/turn/turn_test_util.h"

namespace tern {
namespace {

using namespace turntest;

constexpr Nanos kT0 = 1000 * kSecond;

Bytes payload(size_t n, uint8_t seed = 1) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(seed + i * 7);
  return b;
}

Bytes channel_data(uint16_t number, const Bytes& data, size_t extra_pad = 0) {
  Bytes b(4 + data.size() + extra_pad, 0);
  store_be16(b.data(), number);
  store_be16(b.data() + 2, uint16_t(data.size()));
  std::copy(data.begin(), data.end(), b.begin() + 4);
  return b;
}

class TurnRelayTest : public ::testing::Test {
 protected:
  void SetUp() override { make(test_config()); }
  void make(TurnServerConfig cfg) {
    auto s = TurnServer::create(std::move(cfg), &hooks);
    ASSERT_TRUE(s.ok()) << s.status();
    srv = *std::move(s);
    c = std::make_unique<Client>(*srv, ep("203.0.113.7:40000"), ep("198.18.0.1:3478"), "alice",
                                 "alice-pass");
    ASSERT_EQ(c->allocate(kT0), 0);
    relay = c->relayed()[0];
  }
  // A datagram from `peer` arriving on the relayed port.
  std::unique_ptr<TestPacket> from_peer(const Endpoint& peer, const Bytes& data) {
    return std::make_unique<TestPacket>(data, peer, relay);
  }
  std::unique_ptr<TestPacket> from_client(const Bytes& data) {
    return std::make_unique<TestPacket>(data, c->self(), c->server());
  }
  uint64_t drops(Drop d) const { return srv->stats().drops.get(d); }

  FakeHooks hooks;
  std::unique_ptr<TurnServer> srv;
  std::unique_ptr<Client> c;
  Endpoint relay;
  const Endpoint peer = ep("198.18.5.5:7000");
};

TEST_F(TurnRelayTest, ChannelDataToPeerStripsHeaderInPlace) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  const Bytes data = payload(101);
  auto p = from_client(channel_data(0x4001, data, 3));  // UDP padding is ignored
  const uint8_t* first_data_byte = p->pkt.data() + 4;
  ASSERT_TRUE(srv->handle_channel_data(&p->pkt, kT0 + kSecond));
  EXPECT_EQ(p->payload(), data);
  EXPECT_EQ(p->pkt.data(), first_data_byte);  // not moved, not copied
  EXPECT_EQ(p->pkt.remote, peer);
  EXPECT_EQ(p->pkt.local, relay);
  EXPECT_EQ(srv->stats().to_peer_packets.get(), 1u);
  EXPECT_EQ(srv->stats().to_peer_bytes.get(), 101u);
}

// The payload's sum is carried through the header rewrite (Packet::tx_sum),
// so a software-checksum driver never reads the payload: it must be exactly
// the sum of what goes out, including after odd UDP padding was dropped.
TEST_F(TurnRelayTest, ChecksumSumIsCarriedBothWays) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  for (size_t n : {size_t(0), size_t(1), size_t(101), size_t(1200)}) {
    for (size_t pad : {size_t(0), size_t(3)}) {
      auto p = from_client(channel_data(0x4001, payload(n, uint8_t(n)), pad));
      p->pkt.set_rx_checksum(checksum_partial(p->pkt.data(), p->pkt.len), false);
      ASSERT_TRUE(srv->handle_channel_data(&p->pkt, kT0 + kSecond));
      ASSERT_NE(p->pkt.tx_sum, kNoSum);
      EXPECT_TRUE(checksum_matches(p->pkt.data(), p->pkt.len, p->pkt.tx_sum)) << n << "+" << pad;
    }
    auto q = from_peer(peer, payload(n, 9));
    q->pkt.set_rx_checksum(checksum_partial(q->pkt.data(), q->pkt.len), false);
    ASSERT_TRUE(srv->handle_peer(&q->pkt, kT0 + kSecond));
    EXPECT_TRUE(checksum_matches(q->pkt.data(), q->pkt.len, q->pkt.tx_sum)) << n;
  }
  // Data indication (no channel for this peer): 36 bytes in front, padding behind.
  const Endpoint other = ep("198.18.5.6:7001");
  ASSERT_EQ(c->create_permission(kT0, {other}), 0);
  auto d = from_peer(other, payload(5));
  d->pkt.set_rx_checksum(checksum_partial(d->pkt.data(), d->pkt.len), false);
  ASSERT_TRUE(srv->handle_peer(&d->pkt, kT0 + kSecond));
  EXPECT_EQ(d->pkt.len, 36u + 8u);
  EXPECT_TRUE(checksum_matches(d->pkt.data(), d->pkt.len, d->pkt.tx_sum));
  // Unknown sum in, unknown out (the driver sums the payload itself).
  auto u = from_peer(peer, payload(10));
  ASSERT_TRUE(srv->handle_peer(&u->pkt, kT0 + kSecond));
  EXPECT_EQ(u->pkt.tx_sum, kNoSum);
}

// A datagram corrupted on the way in is relayed unchecked: its carried sum
// no longer matches, so it leaves with a wrong checksum and the peer drops
// it, as it would have been dropped had we checked.
TEST_F(TurnRelayTest, CorruptionSurvivesTheCarriedChecksum) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  auto p = from_client(channel_data(0x4001, payload(64)));
  p->pkt.set_rx_checksum(checksum_partial(p->pkt.data(), p->pkt.len), false);
  p->pkt.data()[20] ^= 0x01;  // after the checksum was taken
  ASSERT_TRUE(srv->handle_channel_data(&p->pkt, kT0 + kSecond));
  EXPECT_FALSE(checksum_matches(p->pkt.data(), p->pkt.len, p->pkt.tx_sum));
}

TEST_F(TurnRelayTest, PeerToClientWithChannelPrependsFourBytes) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4ABC, peer), 0);
  const Bytes data = payload(99);
  auto p = from_peer(peer, data);
  const uint8_t* data_at = p->pkt.data();
  ASSERT_TRUE(srv->handle_peer(&p->pkt, kT0 + kSecond));
  EXPECT_EQ(p->payload(), channel_data(0x4ABC, data));  // no padding over UDP
  EXPECT_EQ(p->pkt.data() + 4, data_at);
  EXPECT_EQ(p->pkt.remote, c->self());
  EXPECT_EQ(p->pkt.local, c->server());
}

TEST_F(TurnRelayTest, PeerToClientWithoutChannelBuildsDataIndication) {
  ASSERT_EQ(c->create_permission(kT0, {peer}), 0);
  const Bytes data = payload(5);
  auto p = from_peer(peer, data);
  const uint8_t* data_at = p->pkt.data();
  ASSERT_TRUE(srv->handle_peer(&p->pkt, kT0 + kSecond));
  EXPECT_EQ(p->pkt.len, 20u + 12u + 4u + 8u);  // header, XOR-PEER-ADDRESS, DATA + 5 + 3 pad
  EXPECT_EQ(p->pkt.data() + 36, data_at);      // payload stayed where it was
  stun::StunMessage m;
  ASSERT_EQ(m.parse(p->pkt.data(), p->pkt.len, turn::is_known_attribute), stun::ParseError::kOk);
  EXPECT_EQ(m.method(), turn::kMethodData);
  EXPECT_EQ(m.cls(), stun::StunClass::kIndication);
  stun::Attribute a;
  ASSERT_TRUE(m.find(turn::attr::kXorPeerAddress, &a));
  Endpoint got;
  ASSERT_TRUE(m.decode_address(a, true, &got));
  EXPECT_EQ(got, peer);
  ASSERT_TRUE(m.find(turn::attr::kData, &a));
  EXPECT_EQ(Bytes(a.value, a.value + a.length), data);
  EXPECT_EQ(Bytes(p->pkt.data() + 41, p->pkt.data() + 44), Bytes(3, 0));  // zero padding
  EXPECT_EQ(p->pkt.remote, c->self());
  EXPECT_EQ(srv->stats().data_indications.get(), 1u);
}

TEST_F(TurnRelayTest, Ipv6DataIndicationAndChannel) {
  Client c6(*srv, ep("203.0.113.8:40000"), ep("198.18.0.1:3478"), "bob", "bob-pass");
  ASSERT_EQ(c6.allocate(kT0, {{turn::attr::kRequestedAddressFamily, {2, 0, 0, 0}}}), 0);
  const Endpoint r6 = c6.relayed()[0];
  const Endpoint p6 = ep("[2001:db9::7]:9000");
  ASSERT_EQ(c6.create_permission(kT0, {p6}), 0);
  const Bytes data = payload(64);
  TestPacket p(data, p6, r6);
  ASSERT_TRUE(srv->handle_peer(&p.pkt, kT0));
  stun::StunMessage m;
  ASSERT_EQ(m.parse(p.pkt.data(), p.pkt.len, turn::is_known_attribute), stun::ParseError::kOk);
  stun::Attribute a;
  Endpoint got;
  ASSERT_TRUE(m.find(turn::attr::kXorPeerAddress, &a) && m.decode_address(a, true, &got));
  EXPECT_EQ(got, p6);
  EXPECT_EQ(p.pkt.len, 20u + 24u + 4u + 64u);
  ASSERT_EQ(c6.channel_bind(kT0, 0x4000, p6), 0);
  TestPacket cd(channel_data(0x4000, data), c6.self(), c6.server());
  ASSERT_TRUE(srv->handle_channel_data(&cd.pkt, kT0));
  EXPECT_EQ(cd.pkt.remote, p6);
  EXPECT_EQ(cd.pkt.local, r6);
}

TEST_F(TurnRelayTest, SendIndicationToPeerTrimsToData) {
  ASSERT_EQ(c->create_permission(kT0, {peer}), 0);
  const Bytes data = payload(33);
  const Bytes ind =
      c->build(turn::kMethodSend, {{turn::attr::kData, data}}, false, stun::StunClass::kIndication,
               false, {{turn::attr::kXorPeerAddress, peer}});
  auto p = from_client(ind);
  ASSERT_TRUE(srv->handle_stun(&p->pkt, kT0));
  EXPECT_EQ(p->payload(), data);
  EXPECT_EQ(p->pkt.remote, peer);
  EXPECT_EQ(p->pkt.local, relay);
  // Without permission: dropped.
  const Bytes other =
      c->build(turn::kMethodSend, {{turn::attr::kData, data}}, false, stun::StunClass::kIndication,
               false, {{turn::attr::kXorPeerAddress, ep("198.18.9.9:1")}});
  auto q = from_client(other);
  EXPECT_FALSE(srv->handle_stun(&q->pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnNoPermission), 1u);
  // No DATA: malformed.
  auto r = from_client(c->build(turn::kMethodSend, {}, false, stun::StunClass::kIndication, false,
                                {{turn::attr::kXorPeerAddress, peer}}));
  EXPECT_FALSE(srv->handle_stun(&r->pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnMalformed), 1u);
}

TEST_F(TurnRelayTest, DropsByReason) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  // Unbound channel.
  auto a = from_client(channel_data(0x4002, payload(10)));
  EXPECT_FALSE(srv->handle_channel_data(&a->pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnNoChannel), 1u);
  // Length beyond the datagram; too short for a header.
  Bytes bad = channel_data(0x4001, payload(10));
  bad.resize(10);
  auto b = from_client(bad);
  EXPECT_FALSE(srv->handle_channel_data(&b->pkt, kT0));
  auto b2 = from_client(Bytes{0x40, 0x01, 0});
  EXPECT_FALSE(srv->handle_channel_data(&b2->pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnMalformed), 2u);
  // Unknown client 5-tuple.
  TestPacket u(channel_data(0x4001, payload(10)), ep("203.0.113.9:1"), c->server());
  EXPECT_FALSE(srv->handle_channel_data(&u.pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnNoAllocation), 1u);
  // Peer without permission; unallocated relayed port; a port outside the range.
  auto d = from_peer(ep("198.18.9.9:7000"), payload(10));
  EXPECT_FALSE(srv->handle_peer(&d->pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnNoPermission), 1u);
  Endpoint other = relay;
  other.port = relay.port == 50000 ? 50001 : 50000;
  TestPacket e(payload(10), peer, other);
  EXPECT_FALSE(srv->handle_peer(&e.pkt, kT0));
  other.port = 3478;
  TestPacket f(payload(10), peer, other);
  EXPECT_FALSE(srv->handle_peer(&f.pkt, kT0));
  EXPECT_EQ(drops(Drop::kTurnNoAllocation), 3u);
}

TEST_F(TurnRelayTest, PermissionAndChannelLifetimes) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  ASSERT_EQ(c->refresh(kT0, 3600), 0);
  // Permission (300 s) lapses before the channel (600 s): traffic stops.
  auto a = from_client(channel_data(0x4001, payload(10)));
  EXPECT_TRUE(srv->handle_channel_data(&a->pkt, kT0 + 299 * kSecond));
  auto b = from_client(channel_data(0x4001, payload(10)));
  EXPECT_FALSE(srv->handle_channel_data(&b->pkt, kT0 + 301 * kSecond));
  EXPECT_EQ(drops(Drop::kTurnNoPermission), 1u);
  auto pp = from_peer(peer, payload(10));
  EXPECT_FALSE(srv->handle_peer(&pp->pkt, kT0 + 301 * kSecond));
  // Re-binding refreshes both.
  ASSERT_EQ(c->channel_bind(kT0 + 302 * kSecond, 0x4001, peer), 0);
  auto d = from_client(channel_data(0x4001, payload(10)));
  EXPECT_TRUE(srv->handle_channel_data(&d->pkt, kT0 + 303 * kSecond));
  // Channel expires 600 s after the last bind.
  auto e = from_client(channel_data(0x4001, payload(10)));
  EXPECT_FALSE(srv->handle_channel_data(&e->pkt, kT0 + 903 * kSecond));
  EXPECT_EQ(drops(Drop::kTurnNoChannel), 1u);
}

TEST_F(TurnRelayTest, ExpiredAllocationStopsRelayBeforeSweep) {
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  auto p = from_peer(peer, payload(10));
  EXPECT_FALSE(srv->handle_peer(&p->pkt, kT0 + 601 * kSecond));
  EXPECT_EQ(drops(Drop::kTurnNoAllocation), 1u);
}

TEST_F(TurnRelayTest, BandwidthQuotaDropsExcess) {
  TurnServerConfig cfg = test_config();
  cfg.bandwidth_bytes_per_s = 10000;
  make(cfg);
  ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  int sent = 0;
  for (int i = 0; i < 20; ++i) {
    auto p = from_client(channel_data(0x4001, payload(1000)));
    sent += srv->handle_channel_data(&p->pkt, kT0 + kSecond);
  }
  EXPECT_EQ(sent, 10);  // one second's worth of tokens
  EXPECT_EQ(drops(Drop::kTurnQuota), 10u);
  auto p = from_peer(peer, payload(1000));
  EXPECT_FALSE(srv->handle_peer(&p->pkt, kT0 + kSecond));  // both directions share it
  auto q = from_peer(peer, payload(1000));
  EXPECT_TRUE(srv->handle_peer(&q->pkt, kT0 + kSecond + 200 * kMillisecond));
}

TEST_F(TurnRelayTest, NoHeadroomForDataIndicationIsNoBuffer) {
  ASSERT_EQ(c->create_permission(kT0, {peer}), 0);
  auto p = from_peer(peer, payload(10));
  p->pkt.off = 8;  // a driver that left too little headroom
  EXPECT_FALSE(srv->handle_peer(&p->pkt, kT0));
  EXPECT_EQ(drops(Drop::kNoBuffer), 1u);
}

}  // namespace
}  // namespace tern
