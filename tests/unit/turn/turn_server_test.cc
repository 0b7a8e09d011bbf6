// TurnServer: every request method and error code, lifetimes driven by `now`,
// credentials (static, REST with rotation and expiry), peer policy, the relay
// fast path byte for byte, no state for unauthenticated requests, and the
// amplification bound.
#include "engine/turn/turn_server.h"

#include <memory>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "gtest/gtest.h"
#include "tests/unit/turn/turn_test_util.h"

namespace tern {
namespace {

using namespace turntest;
using stun::StunClass;

constexpr Nanos kT0 = 1000 * kSecond;

class TurnServerTest : public ::testing::Test {
 protected:
  void make(TurnServerConfig c = test_config()) {
    auto s = TurnServer::create(std::move(c), &hooks);
    ASSERT_TRUE(s.ok()) << s.status();
    srv = *std::move(s);
    srv->set_unix_offset(1'700'000'000 * kSecond - kT0);  // UNIX 1.7e9 at kT0
  }
  void SetUp() override { make(); }
  Client client(const char* self = "203.0.113.7:40000", const char* user = "alice",
                const char* pass = "alice-pass") {
    return Client(*srv, ep(self), ep("198.18.0.1:3478"), user, pass);
  }
  uint64_t drops(Drop d) const { return srv->stats().drops.get(d); }

  FakeHooks hooks;
  std::unique_ptr<TurnServer> srv;
};

TEST_F(TurnServerTest, UnauthenticatedAllocateGets401WithRealmAndNonceAndNoState) {
  Client c = client();
  const Bytes req =
      c.build(turn::kMethodAllocate, {{turn::attr::kRequestedTransport, {17, 0, 0, 0}}}, false);
  ASSERT_TRUE(c.send(req, kT0));
  EXPECT_EQ(c.code_of_last(), 401);
  EXPECT_TRUE(c.last_has(stun::attr::kRealm));
  EXPECT_TRUE(c.last_has(stun::attr::kNonce));
  EXPECT_FALSE(c.last_has(stun::attr::kMessageIntegrity));
  EXPECT_EQ(c.nonce().size(), NonceMaker::kSize);
  EXPECT_LE(c.response().size(), req.size() + TurnServer::kMaxErrorGrowth);
  EXPECT_EQ(srv->allocation_count(), 0u);
  EXPECT_EQ(hooks.opened, 0);
  EXPECT_EQ(srv->stats().auth_challenges.get(), 1u);
}

TEST_F(TurnServerTest, AllocateSucceedsWithRelayedMappedLifetimeAndIntegrity) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  ASSERT_EQ(c.relayed().size(), 1u);
  const Endpoint r = c.relayed()[0];
  EXPECT_TRUE(r.same_addr(ep("198.18.0.1")));
  EXPECT_GE(r.port, 50000);
  EXPECT_LE(r.port, 50099);
  EXPECT_EQ(c.last_u32(turn::attr::kLifetime), 600u);
  stun::StunMessage m;
  ASSERT_EQ(m.parse(c.response().data(), c.response().size(), turn::is_known_attribute),
            stun::ParseError::kOk);
  Endpoint mapped;
  ASSERT_TRUE(m.xor_mapped_address(&mapped));
  EXPECT_EQ(mapped, c.self());
  auto key = MessageIntegrity::long_term_key_md5("alice", "tern.test", "alice-pass");
  auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                     absl::Span<const uint8_t>(key.data(), key.size()));
  EXPECT_EQ(m.verify_integrity(*mi), stun::IntegrityCheck::kOk);
  EXPECT_TRUE(m.has_fingerprint() && m.verify_fingerprint());
  ASSERT_EQ(hooks.open.size(), 1u);
  EXPECT_EQ(hooks.open[0], r);
  EXPECT_EQ(srv->allocation_count(), 1u);
}

TEST_F(TurnServerTest, AllocateRetransmissionAnswersAgainOtherTransactionGets437) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  const Endpoint r = c.relayed()[0];
  // Same transaction id again: rebuild the identical request.
  c.txid()[11]--;
  const Bytes again =
      c.build(turn::kMethodAllocate, {{turn::attr::kRequestedTransport, {17, 0, 0, 0}}});
  ASSERT_TRUE(c.send(again, kT0 + kSecond));
  EXPECT_EQ(c.code_of_last(), 0);
  EXPECT_EQ(hooks.opened, 1);
  EXPECT_EQ(c.allocate(kT0 + 2 * kSecond), 437);
  EXPECT_EQ(srv->allocation_count(), 1u);
  (void)r;
}

TEST_F(TurnServerTest, RequestedTransportMissing400AndTcp442) {
  Client c = client();
  EXPECT_EQ(c.request(turn::kMethodAllocate, {}, kT0), 400);
  EXPECT_EQ(
      c.request(turn::kMethodAllocate, {{turn::attr::kRequestedTransport, {6, 0, 0, 0}}}, kT0),
      442);
  EXPECT_EQ(srv->allocation_count(), 0u);
}

TEST_F(TurnServerTest, WrongPasswordAndUnknownUser401) {
  Client c = client("203.0.113.7:40000", "alice", "wrong");
  EXPECT_EQ(c.allocate(kT0), 401);
  Client d = client("203.0.113.8:40000", "mallory", "x");
  EXPECT_EQ(d.allocate(kT0), 401);
  EXPECT_EQ(srv->allocation_count(), 0u);
  EXPECT_EQ(srv->cached_rest_keys(), 0u);
  EXPECT_GE(srv->stats().auth_failures.get(), 2u);
}

TEST_F(TurnServerTest, StaleNonce438ThenRetrySucceeds) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  // Nonce lifetime 600 s: 601 s later it is stale.
  const Bytes req = c.build(turn::kMethodRefresh, {{turn::attr::kLifetime, u32(600)}});
  ASSERT_TRUE(c.send(req, kT0 + 550 * kSecond));
  EXPECT_EQ(c.code_of_last(), 0);
  const Bytes stale = c.build(turn::kMethodRefresh, {{turn::attr::kLifetime, u32(600)}});
  ASSERT_TRUE(c.send(stale, kT0 + 1100 * kSecond));
  EXPECT_EQ(c.code_of_last(), 438);
  EXPECT_TRUE(c.last_has(stun::attr::kRealm));
  EXPECT_LE(c.response().size(), stale.size() + TurnServer::kMaxErrorGrowth);
  EXPECT_EQ(c.refresh(kT0 + 1100 * kSecond, 600), 0);  // with the fresh nonce
}

TEST_F(TurnServerTest, NonceFromAnotherClientAddressIsStale) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  Client d = client("203.0.113.99:40000");
  d.set_nonce(c.nonce());
  ASSERT_TRUE(d.send(
      d.build(turn::kMethodAllocate, {{turn::attr::kRequestedTransport, {17, 0, 0, 0}}}), kT0));
  EXPECT_EQ(d.code_of_last(), 438);
}

TEST_F(TurnServerTest, IntegrityWithoutNonce400) {
  Client c = client();
  Bytes buf(512);
  stun::StunWriter w(buf.data(), buf.size());
  uint8_t txid[12] = {9};
  w.begin(turn::kMethodAllocate, StunClass::kRequest, txid);
  w.add_username("alice");
  auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, absl::string_view("k"));
  w.add_message_integrity(*mi);
  buf.resize(w.size());
  TestPacket p(buf, c.self(), c.server());
  ASSERT_TRUE(srv->handle_stun(&p.pkt, kT0));
  stun::StunMessage m;
  ASSERT_EQ(m.parse(p.pkt.data(), p.pkt.len, turn::is_known_attribute), stun::ParseError::kOk);
  int code = 0;
  absl::string_view reason;
  ASSERT_TRUE(m.error_code(&code, &reason));
  EXPECT_EQ(code, 400);
}

TEST_F(TurnServerTest, UnknownComprehensionRequiredAttribute420) {
  Client c = client();
  EXPECT_EQ(
      c.request(turn::kMethodAllocate,
                {{turn::attr::kRequestedTransport, {17, 0, 0, 0}}, {0x0031, {1, 2, 3, 4}}}, kT0),
      420);
  EXPECT_TRUE(c.last_has(stun::attr::kUnknownAttributes));
  EXPECT_EQ(srv->allocation_count(), 0u);
}

TEST_F(TurnServerTest, RefreshZeroDeletesAndClosesPort) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  EXPECT_EQ(c.refresh(kT0 + kSecond, 1200), 0);
  EXPECT_EQ(c.last_u32(turn::attr::kLifetime), 1200u);
  EXPECT_EQ(c.refresh(kT0 + kSecond, 99999), 0);
  EXPECT_EQ(c.last_u32(turn::attr::kLifetime), 3600u);  // capped at max_lifetime_s
  EXPECT_EQ(c.refresh(kT0 + 2 * kSecond, 0), 0);
  EXPECT_EQ(c.last_u32(turn::attr::kLifetime), 0u);
  EXPECT_EQ(srv->allocation_count(), 0u);
  EXPECT_TRUE(hooks.open.empty());
  EXPECT_EQ(c.refresh(kT0 + 3 * kSecond, 600), 437);  // nothing left to refresh
}

TEST_F(TurnServerTest, RefreshByAnotherUser441) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  c.set_user("bob", "bob-pass");
  EXPECT_EQ(c.refresh(kT0 + kSecond, 600), 441);
  EXPECT_EQ(c.create_permission(kT0 + kSecond, {ep("198.18.5.5:1")}), 441);
  EXPECT_EQ(srv->allocation_count(), 1u);
}

TEST_F(TurnServerTest, RequestsWithoutAllocation437) {
  Client c = client();
  EXPECT_EQ(c.refresh(kT0, 600), 437);
  EXPECT_EQ(c.create_permission(kT0, {ep("198.18.5.5:1")}), 437);
  EXPECT_EQ(c.channel_bind(kT0, 0x4000, ep("198.18.5.5:1")), 437);
}

TEST_F(TurnServerTest, AllocationExpiresThroughPoll) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  srv->poll(kT0 + 599 * kSecond);
  EXPECT_EQ(srv->allocation_count(), 1u);
  srv->poll(kT0 + 601 * kSecond);
  EXPECT_EQ(srv->allocation_count(), 0u);
  EXPECT_TRUE(hooks.open.empty());
  EXPECT_EQ(srv->stats().allocations_expired.get(), 1u);
  // The 5-tuple is free again.
  EXPECT_EQ(c.allocate(kT0 + 602 * kSecond), 0);
}

TEST_F(TurnServerTest, UserQuota486AndWorkerCapacity508) {
  TurnServerConfig cfg = test_config();
  cfg.max_allocations_per_user = 2;
  cfg.max_allocations = 3;
  make(cfg);
  Client a1 = client("203.0.113.1:1"), a2 = client("203.0.113.1:2"), a3 = client("203.0.113.1:3");
  EXPECT_EQ(a1.allocate(kT0), 0);
  EXPECT_EQ(a2.allocate(kT0), 0);
  EXPECT_EQ(a3.allocate(kT0), 486);
  Client b1 = client("203.0.113.2:1", "bob", "bob-pass"),
         b2 = client("203.0.113.2:2", "bob", "bob-pass");
  EXPECT_EQ(b1.allocate(kT0), 0);
  EXPECT_EQ(b2.allocate(kT0), 508);
  EXPECT_EQ(a1.refresh(kT0, 0), 0);  // frees alice's quota
  EXPECT_EQ(a3.allocate(kT0), 0);
}

TEST_F(TurnServerTest, NoRelayPort508) {
  hooks.refuse = 1000;
  Client c = client();
  EXPECT_EQ(c.allocate(kT0), 508);
  EXPECT_EQ(srv->allocation_count(), 0u);
}

TEST_F(TurnServerTest, PortRangeExhaustion508) {
  TurnServerConfig cfg = test_config();
  cfg.relay_port_min = 50000;
  cfg.relay_port_max = 50001;
  make(cfg);
  Client a = client("203.0.113.1:1"), b = client("203.0.113.1:2"), d = client("203.0.113.1:3");
  EXPECT_EQ(a.allocate(kT0), 0);
  EXPECT_EQ(b.allocate(kT0), 0);
  EXPECT_EQ(d.allocate(kT0), 508);
  EXPECT_NE(a.relayed()[0].port, b.relayed()[0].port);
}

TEST_F(TurnServerTest, AddressFamilies) {
  Client v6 = client("203.0.113.1:1");
  EXPECT_EQ(v6.allocate(kT0, {{turn::attr::kRequestedAddressFamily, {2, 0, 0, 0}}}), 0);
  ASSERT_EQ(v6.relayed().size(), 1u);
  EXPECT_TRUE(v6.relayed()[0].is_v6());
  Client dual = client("203.0.113.1:2");
  EXPECT_EQ(dual.allocate(kT0, {{turn::attr::kAdditionalAddressFamily, {2, 0, 0, 0}}}), 0);
  ASSERT_EQ(dual.relayed().size(), 2u);
  EXPECT_TRUE(dual.relayed()[0].is_v4());
  EXPECT_TRUE(dual.relayed()[1].is_v6());
  Client bad = client("203.0.113.1:3");
  EXPECT_EQ(bad.allocate(kT0, {{turn::attr::kRequestedAddressFamily, {3, 0, 0, 0}}}), 440);
  EXPECT_EQ(bad.allocate(kT0, {{turn::attr::kAdditionalAddressFamily, {1, 0, 0, 0}}}), 400);
  EXPECT_EQ(bad.allocate(kT0, {{turn::attr::kRequestedAddressFamily, {1, 0, 0, 0}},
                               {turn::attr::kAdditionalAddressFamily, {2, 0, 0, 0}}}),
            400);
  // A peer of the other family than the allocation: 443.
  EXPECT_EQ(v6.create_permission(kT0, {ep("198.18.5.5:1")}), 443);
  EXPECT_EQ(v6.create_permission(kT0, {ep("[2001:db9::5]:1")}), 0);
}

TEST_F(TurnServerTest, FamilyWithoutRelayAddress440AndDualFallsBackWithAddressErrorCode) {
  TurnServerConfig cfg = test_config();
  cfg.relay_addresses = {ep("198.18.0.1")};
  make(cfg);
  Client c = client();
  EXPECT_EQ(c.allocate(kT0, {{turn::attr::kRequestedAddressFamily, {2, 0, 0, 0}}}), 440);
  EXPECT_EQ(c.allocate(kT0, {{turn::attr::kAdditionalAddressFamily, {2, 0, 0, 0}}}), 0);
  EXPECT_EQ(c.relayed().size(), 1u);
  EXPECT_TRUE(c.last_has(turn::attr::kAddressErrorCode));
}

TEST_F(TurnServerTest, EvenPortReservationToken) {
  Client c = client("203.0.113.1:1");
  ASSERT_EQ(c.allocate(kT0, {{turn::attr::kEvenPort, {0x80}}}), 0);
  const Endpoint first = c.relayed()[0];
  EXPECT_EQ(first.port % 2, 0);
  stun::StunMessage m;
  ASSERT_EQ(m.parse(c.response().data(), c.response().size(), turn::is_known_attribute),
            stun::ParseError::kOk);
  stun::Attribute tok;
  ASSERT_TRUE(m.find(turn::attr::kReservationToken, &tok));
  ASSERT_EQ(tok.length, 8);
  const Bytes token(tok.value, tok.value + 8);
  Client d = client("203.0.113.1:2");
  EXPECT_EQ(d.allocate(kT0, {{turn::attr::kReservationToken, token}, {turn::attr::kEvenPort, {0}}}),
            400);
  ASSERT_EQ(d.allocate(kT0 + kSecond, {{turn::attr::kReservationToken, token}}), 0);
  EXPECT_EQ(d.relayed()[0].port, first.port + 1);
  Client e = client("203.0.113.1:3");
  EXPECT_EQ(e.allocate(kT0 + kSecond, {{turn::attr::kReservationToken, token}}), 508);  // used up
  // EVEN-PORT without R: an even port, no token.
  ASSERT_EQ(e.allocate(kT0 + kSecond, {{turn::attr::kEvenPort, {0}}}), 0);
  EXPECT_EQ(e.relayed()[0].port % 2, 0);
  EXPECT_FALSE(e.last_has(turn::attr::kReservationToken));
}

TEST_F(TurnServerTest, ReservationExpires) {
  Client c = client("203.0.113.1:1");
  ASSERT_EQ(c.allocate(kT0, {{turn::attr::kEvenPort, {0x80}}}), 0);
  stun::StunMessage m;
  m.parse(c.response().data(), c.response().size(), turn::is_known_attribute);
  stun::Attribute tok;
  ASSERT_TRUE(m.find(turn::attr::kReservationToken, &tok));
  const Bytes token(tok.value, tok.value + 8);
  srv->poll(kT0 + 31 * kSecond);
  Client d = client("203.0.113.1:2");
  EXPECT_EQ(d.allocate(kT0 + 31 * kSecond, {{turn::attr::kReservationToken, token}}), 508);
}

TEST_F(TurnServerTest, PeerPolicy403AndAllowList) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  for (const char* bad :
       {"127.0.0.1:9", "10.1.2.3:9", "172.16.0.1:9", "192.168.1.1:9", "169.254.169.254:80",
        "100.64.0.1:9", "224.0.0.1:9", "0.1.2.3:9", "255.255.255.255:9"}) {
    EXPECT_EQ(c.create_permission(kT0, {ep(bad)}), 403) << bad;
    EXPECT_EQ(c.channel_bind(kT0, 0x4001, ep(bad)), 403) << bad;
  }
  EXPECT_EQ(c.create_permission(kT0, {ep("198.18.5.5:1"), ep("8.8.8.8:53")}), 0);
  EXPECT_EQ(srv->stats().permissions_created.get(), 2u);
  // Our own media port is a peer (a relay-only browser reaching this node's
  // SFU); channel binds to it work too.
  EXPECT_EQ(c.channel_bind(kT0, 0x4002, ep("198.18.0.1:3478")), 0);
  // Relay to relay on this server (client to client) is allowed too.
  EXPECT_EQ(c.create_permission(kT0, {ep("198.18.0.1:50001")}), 0);

  TurnServerConfig cfg = test_config();
  cfg.allow_peers = {*Cidr::parse("127.0.0.0/8")};
  make(cfg);
  Client d = client();
  ASSERT_EQ(d.allocate(kT0), 0);
  EXPECT_EQ(d.create_permission(kT0, {ep("127.0.0.1:9")}), 0);
  EXPECT_EQ(d.create_permission(kT0, {ep("10.0.0.1:9")}), 403);
}

TEST_F(TurnServerTest, Ipv6PeerPolicy) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0, {{turn::attr::kRequestedAddressFamily, {2, 0, 0, 0}}}), 0);
  for (const char* bad : {"[::1]:9", "[fe80::1]:9", "[fd00:ec2::254]:80", "[fc00::1]:9",
                          "[ff02::1]:9", "[::ffff:8.8.8.8]:9", "[::]:9"}) {
    EXPECT_EQ(c.create_permission(kT0, {ep(bad)}), 403) << bad;
  }
  EXPECT_EQ(c.create_permission(kT0, {ep("[2001:4860::8888]:53")}), 0);
}

TEST_F(TurnServerTest, CreatePermissionWithoutPeer400AndCapacity508) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  EXPECT_EQ(c.request(turn::kMethodCreatePermission, {}, kT0), 400);
  std::vector<Endpoint> peers;
  for (int i = 0; i < TurnServer::kMaxPermissions; ++i) {
    peers.push_back(Endpoint::v4(0x08080800 + i, 1));
  }
  EXPECT_EQ(c.create_permission(kT0, peers), 0);
  EXPECT_EQ(c.create_permission(kT0, {ep("9.9.9.9:1")}), 508);
  EXPECT_EQ(c.create_permission(kT0, {peers[3]}), 0);  // refreshing an existing one is fine
  // After they expire (300 s) the slots are reusable.
  EXPECT_EQ(c.refresh(kT0 + 301 * kSecond, 600), 0);
  EXPECT_EQ(c.create_permission(kT0 + 301 * kSecond, {ep("9.9.9.9:1")}), 0);
}

TEST_F(TurnServerTest, ChannelBindRules) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  const Endpoint p1 = ep("198.18.5.5:1000"), p2 = ep("198.18.5.6:1000");
  EXPECT_EQ(c.channel_bind(kT0, 0x3FFF, p1), 400);
  EXPECT_EQ(c.channel_bind(kT0, 0x8000, p1), 400);
  EXPECT_EQ(c.request(turn::kMethodChannelBind, {}, kT0, {{turn::attr::kXorPeerAddress, p1}}), 400);
  EXPECT_EQ(c.channel_bind(kT0, 0x4000, p1), 0);
  EXPECT_EQ(c.channel_bind(kT0, 0x4000, p1), 0);    // refresh
  EXPECT_EQ(c.channel_bind(kT0, 0x4000, p2), 400);  // number tied to p1
  EXPECT_EQ(c.channel_bind(kT0, 0x4001, p1), 400);  // p1 tied to 0x4000
  EXPECT_EQ(c.channel_bind(kT0, 0x4001, p2), 0);
  EXPECT_EQ(srv->stats().channels_bound.get(), 2u);
  // Expired (600 s) but within the 5-minute cool-down: still tied.
  EXPECT_EQ(c.refresh(kT0 + 500 * kSecond, 3600), 0);
  EXPECT_EQ(c.channel_bind(kT0 + 700 * kSecond, 0x4000, p2), 400);
  // After the cool-down the number is free.
  EXPECT_EQ(c.channel_bind(kT0 + 1000 * kSecond, 0x4000, ep("198.18.5.7:1")), 0);
}

TEST_F(TurnServerTest, ChannelRangeRfc8656OrRfc5766) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  EXPECT_EQ(c.channel_bind(kT0, 0x7FFF, ep("198.18.5.5:1")), 0);  // legacy range on by default
  TurnServerConfig cfg = test_config();
  cfg.legacy_channel_range = false;
  make(cfg);
  Client d = client();
  ASSERT_EQ(d.allocate(kT0), 0);
  EXPECT_EQ(d.channel_bind(kT0, 0x5000, ep("198.18.5.5:1")), 400);
  EXPECT_EQ(d.channel_bind(kT0, 0x4FFF, ep("198.18.5.5:1")), 0);
  const uint8_t legacy[4] = {0x7F, 0xFF, 0, 0};
  EXPECT_FALSE(srv->is_legacy_channel_data(legacy, 4));
}

TEST_F(TurnServerTest, ChannelCapacity508) {
  Client c = client();
  ASSERT_EQ(c.allocate(kT0), 0);
  for (int i = 0; i < TurnServer::kMaxChannels; ++i) {
    ASSERT_EQ(
        c.channel_bind(kT0, uint16_t(0x4000 + i), Endpoint::v4(0x08080800, uint16_t(1000 + i))), 0);
  }
  EXPECT_EQ(c.channel_bind(kT0, 0x4100, Endpoint::v4(0x08080800, 999)), 508);
}

TEST_F(TurnServerTest, RestCredentialsWithRotationAndExpiry) {
  const int64_t unix_now = 1'700'000'000;
  auto cur = mint_rest_credential("new-secret", "carol", 3600, unix_now);
  auto old = mint_rest_credential("old-secret", "dave", 3600, unix_now);
  auto foreign = mint_rest_credential("other-secret", "eve", 3600, unix_now);
  auto expired = mint_rest_credential("new-secret", "frank", 60, unix_now - 120);
  ASSERT_TRUE(cur.ok() && old.ok() && foreign.ok() && expired.ok());
  Client a = client("203.0.113.1:1", cur->username.c_str(), cur->password.c_str());
  Client b = client("203.0.113.1:2", old->username.c_str(), old->password.c_str());
  Client e = client("203.0.113.1:3", foreign->username.c_str(), foreign->password.c_str());
  Client f = client("203.0.113.1:4", expired->username.c_str(), expired->password.c_str());
  EXPECT_EQ(e.allocate(kT0), 401);
  EXPECT_EQ(f.allocate(kT0), 401);
  EXPECT_EQ(srv->cached_rest_keys(), 0u);  // failures leave nothing behind
  EXPECT_EQ(a.allocate(kT0), 0);
  EXPECT_EQ(b.allocate(kT0), 0);
  EXPECT_EQ(srv->cached_rest_keys(), 2u);
  EXPECT_EQ(a.refresh(kT0 + kSecond, 600), 0);  // cached key
  // Past the username's expiry: 401 even with the cached key.
  EXPECT_EQ(a.refresh(kT0 + 3601 * kSecond, 600), 401);
}

TEST_F(TurnServerTest, ManyUnauthenticatedRequestsCreateNoState) {
  for (int i = 0; i < 200; ++i) {
    Client c(*srv, Endpoint::v4(0xCB007100 + (i & 0xFF), uint16_t(1000 + i)), ep("198.18.0.1:3478"),
             i % 2 ? "alice" : "1999999999:mallory", "bad");
    c.allocate(kT0);
    c.channel_bind(kT0, 0x4000, ep("198.18.5.5:1"));
  }
  EXPECT_EQ(srv->allocation_count(), 0u);
  EXPECT_EQ(srv->cached_rest_keys(), 0u);
  EXPECT_EQ(hooks.opened, 0);
}

TEST_F(TurnServerTest, ErrorResponsesStayWithinAmplificationBound) {
  Client c = client();
  std::vector<Bytes> reqs;
  reqs.push_back(c.build(turn::kMethodAllocate, {}, false, StunClass::kRequest, false));
  reqs.push_back(c.build(turn::kMethodRefresh, {}, false, StunClass::kRequest, false));
  reqs.push_back(c.build(turn::kMethodChannelBind, {}, false, StunClass::kRequest, false));
  ASSERT_EQ(c.allocate(kT0), 0);
  reqs.push_back(c.build(turn::kMethodAllocate, {{0x0031, {}}, {0x0032, {}}, {0x0033, {}}}));
  reqs.push_back(c.build(turn::kMethodChannelBind, {}));
  reqs.push_back(c.build(turn::kMethodCreatePermission, {}));
  c.set_nonce("00000000aaaaaaaaaaaaaaaa");
  reqs.push_back(c.build(turn::kMethodRefresh, {}));
  c.set_check_txid(false);  // requests were built ahead
  for (const Bytes& r : reqs) {
    ASSERT_TRUE(c.send(r, kT0 + kSecond));
    EXPECT_NE(c.code_of_last(), 0);
    EXPECT_LE(c.response().size(), r.size() + TurnServer::kMaxErrorGrowth);
  }
  // The smallest possible request (a bare 20-byte header) included.
  EXPECT_LE(reqs[0].size(), 20u);
}

TEST_F(TurnServerTest, IndicationsResponsesAndOtherMethodsDropped) {
  Client c = client();
  EXPECT_FALSE(c.send(c.build(turn::kMethodAllocate, {}, false, StunClass::kSuccess), kT0));
  EXPECT_FALSE(c.send(c.build(turn::kMethodData, {}, false, StunClass::kIndication), kT0));
  EXPECT_FALSE(c.send(c.build(stun::kMethodBinding, {}, false), kT0));
  EXPECT_EQ(drops(Drop::kStunUnknownMethod), 3u);
  Bytes junk = c.build(turn::kMethodAllocate, {}, false);
  junk[3] += 4;  // length no longer matches
  EXPECT_FALSE(c.send(junk, kT0));
  EXPECT_EQ(drops(Drop::kTurnMalformed), 1u);
}

}  // namespace
}  // namespace tern
