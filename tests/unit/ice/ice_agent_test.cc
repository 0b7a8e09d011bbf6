#include "engine/stun/ice_agent.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/ice_candidate.h"
#include "gtest/gtest.h"
#include "tests/unit/ice/ice_test_util.h"
#include "tests/unit/stun/rfc5769_vectors.h"

namespace tern::ice {
namespace {

using namespace testing;  // NOLINT: the test client

constexpr Nanos kT0 = 1000 * kSecond;
const char* const kClientA = "198.18.0.7:50000";
const char* const kClientB = "198.18.0.8:50001";
const char* const kLocal = "198.18.0.1:40000";

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { make(server_creds(), client_creds()); }

  void make(IceCredentials local, IceCredentials remote, IceLiteConfig cfg = {}) {
    auto a = IceLiteAgent::create(std::move(local), std::move(remote), cfg, kT0);
    ASSERT_TRUE(a.ok()) << a.status();
    agent = std::move(*a);
  }

  // Sends `c` from `from` at `now`; returns the verdict, leaves the
  // response in last.
  CheckVerdict send(const Check& c, const char* from = kClientA, Nanos now = kT0,
                    const char* to = kLocal) {
    last = std::make_unique<TestPacket>(c.build(), ep(from), ep(to));
    stun::StunMessage m;
    EXPECT_EQ(m.parse(last->pkt.data(), last->pkt.len), stun::ParseError::kOk);
    events.clear();
    return agent->handle_check(m, &last->pkt, now, &events);
  }
  Response response(const Check& c, absl::string_view pwd = "ServerPassword0123456789") {
    return read_response(last->pkt, c.txid, pwd);
  }
  static Check nominate() {
    Check c;
    c.use_candidate = true;
    return c;
  }

  std::unique_ptr<IceLiteAgent> agent;
  std::unique_ptr<TestPacket> last;
  IceEvents events;
};

// --- credentials and candidates -------------------------------------------

TEST(IceCredentials, GenerateUsesIceCharsAndLengths) {
  auto a = IceCredentials::generate();
  auto b = IceCredentials::generate();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ufrag.size(), kDefaultUfragChars);
  EXPECT_EQ(a->pwd.size(), kDefaultPwdChars);
  EXPECT_TRUE(a->validate().ok());
  EXPECT_NE(a->pwd, b->pwd);  // 2^-144 chance of a false failure
  for (char c : a->ufrag + a->pwd) EXPECT_TRUE(is_ice_char(c)) << c;
  auto c = IceCredentials::generate(4, 22);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ufrag.size(), 4u);
  EXPECT_EQ(c->pwd.size(), 22u);
  EXPECT_FALSE(IceCredentials::generate(3, 22).ok());
  EXPECT_FALSE(IceCredentials::generate(4, 21).ok());
  EXPECT_FALSE(IceCredentials::generate(4, 257).ok());
}

TEST(IceCredentials, GeneratedCharactersCoverTheSet) {
  // 64 symbols, 6 bits a byte: 100 passwords of 24 chars draw 2400 symbols,
  // missing any one symbol has probability ~64 * (63/64)^2400 ~ 2e-15.
  bool seen[256] = {};
  for (int i = 0; i < 100; ++i) {
    auto c = IceCredentials::generate();
    ASSERT_TRUE(c.ok());
    for (char ch : c->pwd) seen[uint8_t(ch)] = true;
  }
  int distinct = 0;
  for (int i = 0; i < 256; ++i) distinct += seen[i];
  EXPECT_EQ(distinct, 64);
}

TEST(IceCredentials, ValidateNamesTheFieldAndHidesThePassword) {
  IceCredentials c{"ab", "ServerPassword0123456789"};
  auto s = c.validate();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ufrag \"ab\""), std::string::npos) << s;
  c = {"abcd", "short-secret:with-bad-chars"};
  s = c.validate();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("pwd"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("short-secret"), std::string::npos) << s;
  c = {"ab:d", "ServerPassword0123456789"};
  EXPECT_FALSE(c.validate().ok());
  EXPECT_EQ(sdp_ice_ufrag(server_creds()), "a=ice-ufrag:srv1");
  EXPECT_EQ(sdp_ice_pwd(server_creds()), "a=ice-pwd:ServerPassword0123456789");
  EXPECT_EQ(kSdpIceLite, "a=ice-lite");
}

TEST(IceCandidate, PriorityAndSdpLines) {
  EXPECT_EQ(candidate_priority(126, 65535, 1), 2130706431u);  // (2^24)*126 + (2^8)*65535 + 255
  EXPECT_EQ(candidate_priority(126, 65534, 1), 2130706175u);
  EXPECT_EQ(candidate_priority(0, 0, 256), 0u);
  std::vector<HostAddress> addrs = {
      {ep("[2001:2::1]:40000"), {}},
      {ep("10.0.0.5:40000"), ep("198.18.0.1:40000")},  // NAT: announce the public one
      {ep("10.0.0.6:40000"), {}},
  };
  auto c = host_candidates(addrs);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 3u);
  EXPECT_EQ((*c)[0].priority, 2130706431u);
  EXPECT_EQ((*c)[1].priority, 2130706175u);
  EXPECT_EQ((*c)[0].to_sdp(),
            "candidate:" + (*c)[0].foundation + " 1 udp 2130706431 2001:2::1 40000 typ host");
  EXPECT_EQ((*c)[1].to_sdp_attribute(),
            "a=candidate:" + (*c)[1].foundation + " 1 udp 2130706175 198.18.0.1 40000 typ host");
  EXPECT_EQ((*c)[1].base, ep("10.0.0.5:40000"));  // what the demux matches on
  EXPECT_EQ((*c)[1].announced, ep("198.18.0.1:40000"));
  // Different base IPs, different foundations; ice-chars, 1..32 of them.
  EXPECT_NE((*c)[0].foundation, (*c)[1].foundation);
  EXPECT_NE((*c)[1].foundation, (*c)[2].foundation);
  for (const auto& cand : *c) {
    EXPECT_FALSE(cand.foundation.empty());
    EXPECT_LE(cand.foundation.size(), 32u);
    for (char ch : cand.foundation) EXPECT_TRUE(is_ice_char(ch));
  }
  // Same base IP on another port: same foundation.
  std::vector<HostAddress> same = {{ep("10.0.0.5:40001"), {}}};
  EXPECT_EQ((*host_candidates(same))[0].foundation, (*c)[1].foundation);
}

TEST(IceCandidate, RejectsUnusableAddresses) {
  std::vector<HostAddress> wildcard = {{ep("0.0.0.0:40000"), {}}};
  auto r = host_candidates(wildcard);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("0.0.0.0:40000"), std::string::npos) << r.status();
  std::vector<HostAddress> wildcard_announced = {{ep("0.0.0.0:40000"), ep("198.18.0.1:40000")}};
  EXPECT_TRUE(host_candidates(wildcard_announced).ok());
  std::vector<HostAddress> no_port = {{ep("198.18.0.1"), {}}};
  EXPECT_FALSE(host_candidates(no_port).ok());
  std::vector<HostAddress> none = {{Endpoint{}, {}}};
  EXPECT_FALSE(host_candidates(none).ok());
  std::vector<HostAddress> ok = {{ep("198.18.0.1:1"), {}}};
  EXPECT_FALSE(host_candidates(ok, 0).ok());
}

// --- checks ----------------------------------------------------------------

TEST_F(AgentTest, CreateRejectsBadInput) {
  EXPECT_FALSE(IceLiteAgent::create({"ab", "ServerPassword0123456789"}, {}, {}, 0).ok());
  EXPECT_FALSE(IceLiteAgent::create(server_creds(), {"cli1", "short"}, {}, 0).ok());
  IceLiteConfig cfg;
  cfg.max_pairs = 1;
  EXPECT_FALSE(IceLiteAgent::create(server_creds(), {}, cfg, 0).ok());
  cfg = {};
  cfg.disconnected_timeout = cfg.consent_timeout;
  EXPECT_FALSE(IceLiteAgent::create(server_creds(), {}, cfg, 0).ok());
  EXPECT_TRUE(IceLiteAgent::create(server_creds(), {}, {}, 0).ok());  // remote later
}

TEST_F(AgentTest, SuccessResponseIsSignedWithLocalPwd) {
  Check c;
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  Response r = response(c);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.signed_ok);
  EXPECT_EQ(r.mapped, ep(kClientA));
  // Signed with OUR pwd, not the client's.
  EXPECT_FALSE(read_response(last->pkt, c.txid, "ClientPassword0123456789").signed_ok);
  EXPECT_EQ(last->pkt.remote, ep(kClientA));  // answer in place, no swap
  EXPECT_EQ(last->pkt.local, ep(kLocal));
  EXPECT_EQ(agent->pair_count(), 1u);
  EXPECT_TRUE(agent->has_pair({ep(kClientA), ep(kLocal)}));
  EXPECT_EQ(agent->state(), IceState::kNew);  // valid, not nominated
  EXPECT_EQ(agent->selected_pair(), nullptr);
  EXPECT_EQ(events.count, 0u);
  EXPECT_EQ(agent->stats().checks.get(), 1u);
}

TEST_F(AgentTest, Ipv6SuccessResponse) {
  Check c;
  ASSERT_EQ(send(c, "[2001:2::7]:50000", kT0, "[2001:2::1]:40000"), CheckVerdict::kRespond);
  Response r = response(c);
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.signed_ok);
  EXPECT_EQ(r.mapped, ep("[2001:2::7]:50000"));
}

TEST_F(AgentTest, WrongPasswordIs401AndCreatesNoState) {
  Check c;
  c.pwd = "NotTheServerPassword0123";
  c.use_candidate = true;
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  Response r = response(c);
  EXPECT_EQ(r.code, 401);
  EXPECT_FALSE(r.has_mi);  // no key the peer shares
  EXPECT_EQ(agent->pair_count(), 0u);
  EXPECT_EQ(agent->state(), IceState::kNew);
  EXPECT_EQ(agent->next_deadline(), kT0 + 30 * kSecond);  // only the connect timeout
  EXPECT_EQ(events.count, 0u);
  EXPECT_EQ(agent->stats().unauthorized.get(), 1u);
}

TEST_F(AgentTest, UnknownUsernameIs401) {
  Check c;
  c.username = "zzzz:cli1";  // not our ufrag
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  EXPECT_EQ(response(c).code, 401);
  c.username = "srv1:zzzz";  // remote ufrag known and different
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  EXPECT_EQ(response(c).code, 401);
  c.username = "srv1";  // no colon
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  EXPECT_EQ(response(c).code, 401);
  EXPECT_EQ(agent->pair_count(), 0u);
  EXPECT_EQ(agent->stats().unauthorized.get(), 3u);
}

TEST_F(AgentTest, EarlyCheckBeforeRemoteCredentialsIsAccepted) {
  make(server_creds(), {});
  Check c;
  c.username = "srv1:anything";
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  EXPECT_EQ(response(c).code, 0);
  ASSERT_TRUE(agent->set_remote_credentials(client_creds()).ok());
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  EXPECT_EQ(response(c).code, 401);  // now the remote part is checked
  c.username = "srv1:cli1";
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  EXPECT_EQ(response(c).code, 0);
  EXPECT_FALSE(agent->set_remote_credentials({"cli1", "bad"}).ok());
}

TEST_F(AgentTest, MissingAttributesAre400) {
  Check no_user;
  no_user.username = "";
  Check no_mi;
  no_mi.pwd = "";
  Check no_fp;
  no_fp.fingerprint = false;
  for (const Check* c : {&no_user, &no_mi, &no_fp}) {
    ASSERT_EQ(send(*c), CheckVerdict::kRespond);
    Response r = response(*c);
    EXPECT_EQ(r.code, 400);
    EXPECT_FALSE(r.has_mi);  // not authenticated: unsigned
  }
  // PRIORITY missing: authenticated, so the 400 is signed.
  Check no_prio;
  no_prio.priority = false;
  no_prio.use_candidate = true;
  ASSERT_EQ(send(no_prio), CheckVerdict::kRespond);
  Response r = response(no_prio);
  EXPECT_EQ(r.code, 400);
  EXPECT_TRUE(r.signed_ok);
  EXPECT_EQ(agent->pair_count(), 0u);
  EXPECT_EQ(agent->state(), IceState::kNew);
  EXPECT_EQ(agent->stats().bad_request.get(), 4u);
}

TEST_F(AgentTest, BadFingerprintIsDroppedSilently) {
  Check c;
  Bytes b = c.build();
  b.back() ^= 1;  // FINGERPRINT value
  TestPacket tp(b, ep(kClientA), ep(kLocal));
  stun::StunMessage m;
  ASSERT_EQ(m.parse(tp.pkt.data(), tp.pkt.len), stun::ParseError::kOk);
  EXPECT_EQ(agent->handle_check(m, &tp.pkt, kT0, &events), CheckVerdict::kDrop);
  EXPECT_EQ(agent->stats().drops.get(Drop::kStunFingerprint), 1u);
  EXPECT_EQ(agent->pair_count(), 0u);
}

TEST_F(AgentTest, UnknownComprehensionRequiredAttributeIs420) {
  Check c;
  c.extra.push_back({0x0042, Bytes{1, 2, 3, 4}});
  ASSERT_EQ(send(c), CheckVerdict::kRespond);
  Response r = response(c);
  EXPECT_EQ(r.code, 420);
  EXPECT_TRUE(r.signed_ok);
  stun::Attribute a;
  ASSERT_TRUE(r.msg.find(stun::attr::kUnknownAttributes, &a));
  ASSERT_EQ(a.length, 2);
  EXPECT_EQ(load_be16(a.value), 0x0042);
  EXPECT_EQ(agent->pair_count(), 0u);
}

TEST_F(AgentTest, RoleConflictIs487WhateverTheTieBreaker) {
  for (uint64_t tb : {uint64_t{0}, uint64_t{0x8000000000000000ull}, UINT64_MAX}) {
    Check c;
    c.controlling = false;
    c.controlled = true;
    c.tie_breaker = tb;
    c.use_candidate = true;
    ASSERT_EQ(send(c), CheckVerdict::kRespond);
    Response r = response(c);
    EXPECT_EQ(r.code, 487) << tb;
    EXPECT_TRUE(r.signed_ok);
  }
  EXPECT_EQ(agent->pair_count(), 0u);
  EXPECT_EQ(agent->state(), IceState::kNew);
  EXPECT_EQ(agent->stats().role_conflicts.get(), 3u);
  // After the 487 the peer switches to controlling (§7.2.5.1) and succeeds.
  const Check retry = nominate();
  ASSERT_EQ(send(retry), CheckVerdict::kRespond);
  EXPECT_EQ(response(retry).code, 0);
  EXPECT_EQ(agent->state(), IceState::kConnected);
  // A check with no role attribute (RFC 5245-era agent) is accepted.
  Check none;
  none.controlling = false;
  ASSERT_EQ(send(none), CheckVerdict::kRespond);
  EXPECT_EQ(response(none).code, 0);
}

TEST_F(AgentTest, ResponseFitsInTheRequestBuffer) {
  // The largest success response (IPv6 XOR-MAPPED-ADDRESS) against the
  // smallest valid check: both 76 bytes, in a buffer with no tailroom.
  Check c;
  c.controlling = false;
  Bytes b = c.build();
  ASSERT_EQ(b.size(), 76u);
  TestPacket tp(b, ep("[2001:2::7]:50000"), ep("[2001:2::1]:40000"),
                uint32_t(kDefaultHeadroom + b.size()));
  stun::StunMessage m;
  ASSERT_EQ(m.parse(tp.pkt.data(), tp.pkt.len), stun::ParseError::kOk);
  ASSERT_EQ(agent->handle_check(m, &tp.pkt, kT0, &events), CheckVerdict::kRespond);
  Response r = read_response(tp.pkt, c.txid, "ServerPassword0123456789");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(tp.pkt.len, 76u);
  // One byte less and there is no room: dropped before any state change.
  make(server_creds(), client_creds());
  TestPacket small(b, ep("[2001:2::7]:50000"), ep("[2001:2::1]:40000"),
                   uint32_t(kDefaultHeadroom + b.size()));
  ASSERT_EQ(m.parse(small.pkt.data(), small.pkt.len), stun::ParseError::kOk);
  small.pkt.capacity -= 1;  // a driver buffer whose last byte is not ours
  EXPECT_EQ(agent->handle_check(m, &small.pkt, kT0, &events), CheckVerdict::kDrop);
  EXPECT_EQ(agent->stats().drops.get(Drop::kNoBuffer), 1u);
  EXPECT_EQ(agent->pair_count(), 0u);
}

TEST_F(AgentTest, Rfc5769SampleRequestVerifiesWithTheAgentKey) {
  // §2.1: USERNAME "evtj:h6vY", pwd "VOkJxbRl1RmTxUk/WvJxBt", and the
  // request carries ICE-CONTROLLED: so a correct MESSAGE-INTEGRITY check
  // shows as a signed 487; a failed one would be an unsigned 401.
  make({"evtj", rfc5769::kPassword}, {"h6vY", "RemotePasswordIsNotUsed0"});
  Bytes b(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  TestPacket tp(b, ep(kClientA), ep(kLocal));
  stun::StunMessage m;
  ASSERT_EQ(m.parse(tp.pkt.data(), tp.pkt.len), stun::ParseError::kOk);
  ASSERT_EQ(agent->handle_check(m, &tp.pkt, kT0, &events), CheckVerdict::kRespond);
  Response r = read_response(tp.pkt, rfc5769::kRequest + 8, rfc5769::kPassword);
  EXPECT_EQ(r.code, 487);
  EXPECT_TRUE(r.signed_ok);
  EXPECT_EQ(agent->stats().unauthorized.get(), 0u);
  // The same request against a different pwd: 401.
  make({"evtj", "VOkJxbRl1RmTxUk/WvJxBT"}, {});
  TestPacket tp2(b, ep(kClientA), ep(kLocal));
  ASSERT_EQ(m.parse(tp2.pkt.data(), tp2.pkt.len), stun::ParseError::kOk);
  ASSERT_EQ(agent->handle_check(m, &tp2.pkt, kT0, &events), CheckVerdict::kRespond);
  EXPECT_EQ(read_response(tp2.pkt, rfc5769::kRequest + 8, rfc5769::kPassword).code, 401);
}

// --- nomination and consent -----------------------------------------------

TEST_F(AgentTest, UseCandidateSelectsAndRenominationSwitches) {
  ASSERT_EQ(send(nominate(), kClientA), CheckVerdict::kRespond);
  ASSERT_EQ(events.count, 2u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kSelectedPairChanged);
  EXPECT_EQ(events.ev[0].pair.remote, ep(kClientA));
  EXPECT_EQ(events.ev[0].pair.local, ep(kLocal));
  EXPECT_EQ(events.ev[0].agent, agent.get());
  EXPECT_EQ(events.ev[1].type, IceEventType::kConnected);
  EXPECT_EQ(agent->state(), IceState::kConnected);
  ASSERT_NE(agent->selected_pair(), nullptr);
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientA));

  // Plain check on another pair: valid, not selected.
  ASSERT_EQ(send(Check{}, kClientB, kT0 + kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(events.count, 0u);
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientA));
  EXPECT_EQ(agent->pair_count(), 2u);

  // Renomination (network change): B becomes selected, one event.
  ASSERT_EQ(send(nominate(), kClientB, kT0 + 2 * kSecond), CheckVerdict::kRespond);
  ASSERT_EQ(events.count, 1u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kSelectedPairChanged);
  EXPECT_EQ(events.ev[0].pair.remote, ep(kClientB));
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientB));

  // Nominating the selected pair again: no event.
  ASSERT_EQ(send(nominate(), kClientB, kT0 + 3 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(events.count, 0u);
  EXPECT_EQ(agent->stats().selected_changes.get(), 2u);
  EXPECT_EQ(agent->stats().nominations.get(), 3u);
}

TEST_F(AgentTest, ConsentExpiresAt30SecondsExactly) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  // Checks on another pair do not refresh the selected pair's consent.
  ASSERT_EQ(send(Check{}, kClientB, kT0 + 20 * kSecond), CheckVerdict::kRespond);
  // Disconnected after 10 s without a check on the selected pair.
  EXPECT_EQ(agent->next_deadline(), kT0 + 10 * kSecond);
  events.clear();
  agent->on_timer(kT0 + 10 * kSecond - 1, &events);
  EXPECT_EQ(agent->state(), IceState::kConnected);
  agent->on_timer(kT0 + 10 * kSecond, &events);
  EXPECT_EQ(agent->state(), IceState::kDisconnected);
  ASSERT_EQ(events.count, 1u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kDisconnected);
  EXPECT_EQ(agent->next_deadline(), kT0 + 30 * kSecond);

  events.clear();
  agent->on_timer(kT0 + 30 * kSecond - 1, &events);
  EXPECT_EQ(agent->state(), IceState::kDisconnected);
  EXPECT_EQ(events.count, 0u);
  agent->on_timer(kT0 + 30 * kSecond, &events);
  EXPECT_EQ(agent->state(), IceState::kFailed);
  ASSERT_EQ(events.count, 1u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kFailed);
  EXPECT_EQ(events.ev[0].pair.remote, ep(kClientA));
  EXPECT_EQ(agent->pair_count(), 0u);
  EXPECT_EQ(agent->selected_pair(), nullptr);
  EXPECT_EQ(agent->next_deadline(), kNever);

  // Failed: checks are ignored until a restart.
  EXPECT_EQ(send(nominate(), kClientA, kT0 + 31 * kSecond), CheckVerdict::kDrop);
  EXPECT_EQ(agent->stats().ignored_failed.get(), 1u);
}

TEST_F(AgentTest, ChecksOnTheSelectedPairRefreshConsent) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  // Consent checks every 5 s (no USE-CANDIDATE) for two minutes.
  for (int i = 1; i <= 24; ++i) {
    const Nanos t = kT0 + i * 5 * kSecond;
    agent->on_timer(t, &events);
    ASSERT_EQ(send(Check{}, kClientA, t), CheckVerdict::kRespond);
    ASSERT_EQ(agent->state(), IceState::kConnected) << i;
  }
  const Nanos last = kT0 + 120 * kSecond;
  EXPECT_EQ(agent->next_deadline(), last + 10 * kSecond);
  agent->on_timer(last + 10 * kSecond, &events);
  EXPECT_EQ(agent->state(), IceState::kDisconnected);
  // A check on the selected pair reconnects.
  ASSERT_EQ(send(Check{}, kClientA, last + 15 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(agent->state(), IceState::kConnected);
  ASSERT_EQ(events.count, 1u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kConnected);
  agent->on_timer(last + 44 * kSecond, &events);
  EXPECT_NE(agent->state(), IceState::kFailed);
  agent->on_timer(last + 45 * kSecond, &events);
  EXPECT_EQ(agent->state(), IceState::kFailed);
}

TEST_F(AgentTest, ConnectTimeoutFailsANeverNominatedAgent) {
  ASSERT_EQ(send(Check{}, kClientA, kT0 + kSecond),
            CheckVerdict::kRespond);  // valid, no nomination
  EXPECT_EQ(agent->next_deadline(), kT0 + 30 * kSecond);
  agent->on_timer(kT0 + 30 * kSecond - 1, &events);
  EXPECT_EQ(agent->state(), IceState::kNew);
  agent->on_timer(kT0 + 30 * kSecond, &events);
  EXPECT_EQ(agent->state(), IceState::kFailed);
  ASSERT_EQ(events.count, 1u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kFailed);
  EXPECT_EQ(events.ev[0].pair.remote.family, Family::kNone);  // never selected
}

TEST_F(AgentTest, IdlePairsExpire) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  ASSERT_EQ(send(Check{}, kClientB, kT0 + kSecond), CheckVerdict::kRespond);
  for (int i = 1; i <= 8; ++i) {  // keep A fresh
    ASSERT_EQ(send(Check{}, kClientA, kT0 + i * 4 * kSecond), CheckVerdict::kRespond);
    agent->on_timer(kT0 + i * 4 * kSecond, &events);
  }
  EXPECT_EQ(agent->pair_count(), 1u);  // B expired at kT0 + 31 s
  EXPECT_FALSE(agent->has_pair({ep(kClientB), ep(kLocal)}));
  EXPECT_EQ(agent->stats().pairs_expired.get(), 1u);
  EXPECT_EQ(agent->state(), IceState::kConnected);
}

TEST_F(AgentTest, ReplayedCheckFromOtherSourcesIsDropped) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  Check captured;
  captured.use_candidate = true;
  ASSERT_EQ(send(captured, kClientA, kT0 + kSecond), CheckVerdict::kRespond);
  // Retransmission from the same 5-tuple: answered.
  ASSERT_EQ(send(captured, kClientA, kT0 + kSecond), CheckVerdict::kRespond);
  // The same bytes from a spoofed source: no answer, no pair, no switch.
  EXPECT_EQ(send(captured, kClientB, kT0 + 2 * kSecond), CheckVerdict::kDrop);
  EXPECT_EQ(agent->stats().replays.get(), 1u);
  EXPECT_EQ(agent->pair_count(), 1u);
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientA));
}

TEST_F(AgentTest, PairTableIsBoundedAndKeepsTheSelectedPair) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  // 1000 distinct valid checks (captured ones, or a peer gone wild) from
  // 1000 sources: the table stays at max_pairs.
  for (int i = 0; i < 1000; ++i) {
    Endpoint src = Endpoint::v4(0xC6120000u + 100 + uint32_t(i), uint16_t(20000 + i));
    last = std::make_unique<TestPacket>(Check{}.build(), src, ep(kLocal));
    stun::StunMessage m;
    ASSERT_EQ(m.parse(last->pkt.data(), last->pkt.len), stun::ParseError::kOk);
    ASSERT_EQ(agent->handle_check(m, &last->pkt, kT0 + i, &events), CheckVerdict::kRespond);
    ASSERT_LE(agent->pair_count(), 16u);
  }
  EXPECT_EQ(agent->pair_count(), 16u);
  EXPECT_EQ(agent->stats().pairs_evicted.get(), 1000u - 15u);
  ASSERT_NE(agent->selected_pair(), nullptr);
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientA));
  EXPECT_EQ(agent->state(), IceState::kConnected);
}

// --- restart -----------------------------------------------------------------

TEST_F(AgentTest, RestartKeepsOldCredentialsUntilTheNewOnesNominate) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  EXPECT_FALSE(agent->restart(server_creds(), client_creds2(), kT0).ok());  // must change
  ASSERT_TRUE(agent->restart(server_creds2(), client_creds2(), kT0 + kSecond).ok());
  EXPECT_TRUE(agent->restarting());
  EXPECT_EQ(agent->local_credentials(), server_creds2());
  EXPECT_EQ(agent->state(), IceState::kConnected);

  // Old credentials still answer (and refresh consent on the selected pair).
  Check old_c;
  ASSERT_EQ(send(old_c, kClientA, kT0 + 2 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(response(old_c).code, 0);
  EXPECT_TRUE(response(old_c).signed_ok);

  // New credentials, not nominating yet, from the new network path.
  Check new_c;
  new_c.username = "srv2:cli2";
  new_c.pwd = "ServerPasswordSecondGen1";
  ASSERT_EQ(send(new_c, kClientB, kT0 + 3 * kSecond), CheckVerdict::kRespond);
  Response r = response(new_c, "ServerPasswordSecondGen1");
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(r.signed_ok);
  EXPECT_TRUE(agent->restarting());
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientA));

  // A new-credential check with the old USERNAME's remote part: 401.
  Check mixed = new_c;
  mixed.username = "srv2:cli1";
  ASSERT_EQ(send(mixed, kClientB, kT0 + 3 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(response(mixed, "ServerPasswordSecondGen1").code, 401);

  // The new generation nominates: restart done, old credentials dropped.
  new_c.use_candidate = true;
  ASSERT_EQ(send(new_c, kClientB, kT0 + 4 * kSecond), CheckVerdict::kRespond);
  EXPECT_FALSE(agent->restarting());
  ASSERT_EQ(events.count, 1u);
  EXPECT_EQ(events.ev[0].type, IceEventType::kSelectedPairChanged);
  EXPECT_EQ(agent->selected_pair()->remote, ep(kClientB));
  EXPECT_FALSE(agent->has_pair({ep(kClientA), ep(kLocal)}));  // old-generation pair gone
  ASSERT_EQ(send(old_c, kClientA, kT0 + 5 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(response(old_c).code, 401);
}

TEST_F(AgentTest, RestartTwiceDiscardsTheUnfinishedGeneration) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  ASSERT_TRUE(agent->restart(server_creds2(), client_creds2(), kT0).ok());
  IceCredentials third{"srv3", "ServerPasswordThirdGen12"};
  ASSERT_TRUE(agent->restart(third, {"cli3", "ClientPasswordThirdGen12"}, kT0).ok());
  Check gen2;
  gen2.username = "srv2:cli2";
  gen2.pwd = "ServerPasswordSecondGen1";
  ASSERT_EQ(send(gen2, kClientB, kT0 + kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(response(gen2, gen2.pwd).code, 401);
  Check gen1;  // the one in use still works
  ASSERT_EQ(send(gen1, kClientA, kT0 + kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(response(gen1).code, 0);
}

TEST_F(AgentTest, RestartAfterFailureStartsOver) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  agent->on_timer(kT0 + 30 * kSecond, &events);
  ASSERT_EQ(agent->state(), IceState::kFailed);
  ASSERT_TRUE(agent->restart(server_creds2(), client_creds2(), kT0 + 40 * kSecond).ok());
  EXPECT_EQ(agent->state(), IceState::kNew);
  EXPECT_FALSE(agent->restarting());
  EXPECT_EQ(agent->next_deadline(), kT0 + 70 * kSecond);
  Check c;
  c.username = "srv2:cli2";
  c.pwd = "ServerPasswordSecondGen1";
  c.use_candidate = true;
  ASSERT_EQ(send(c, kClientA, kT0 + 41 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(agent->state(), IceState::kConnected);
  const Check old_gen = nominate();
  ASSERT_EQ(send(old_gen, kClientA, kT0 + 42 * kSecond), CheckVerdict::kRespond);
  EXPECT_EQ(response(old_gen).code, 401);  // the failed generation is gone
}

TEST_F(AgentTest, ClosedAgentDropsEverything) {
  ASSERT_EQ(send(nominate(), kClientA, kT0), CheckVerdict::kRespond);
  agent->close();
  EXPECT_EQ(agent->state(), IceState::kClosed);
  EXPECT_EQ(agent->pair_count(), 0u);
  EXPECT_EQ(agent->next_deadline(), kNever);
  EXPECT_EQ(send(nominate(), kClientA, kT0 + 1), CheckVerdict::kDrop);
  EXPECT_FALSE(agent->restart(server_creds2(), client_creds2(), kT0).ok());
}

}  // namespace
}  // namespace tern::ice
