#include "engine/stun/ice_demux.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/ice/ice_test_util.h"

namespace tern::ice {
namespace {

using namespace testing;  // NOLINT: the test client

constexpr Nanos kT0 = 1000 * kSecond;
const char* const kClientA = "198.18.0.7:50000";
const char* const kClientB = "198.18.0.8:50001";
const char* const kLocal = "198.18.0.1:40000";
const char* const kLocal2 = "198.18.0.2:40000";

class DemuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a = make(server_creds(), client_creds());
    b = make({"bbbb", "AgentBPassword0123456789"}, {"cccc", "ClientBPassword012345678"});
    ASSERT_TRUE(demux.add(a.get()).ok());
    ASSERT_TRUE(demux.add(b.get()).ok());
  }
  static std::unique_ptr<IceLiteAgent> make(IceCredentials l, IceCredentials r) {
    auto x = IceLiteAgent::create(std::move(l), std::move(r), {}, kT0);
    EXPECT_TRUE(x.ok());
    return std::move(*x);
  }
  StunRoute send(const Bytes& payload, const char* from, Nanos now = kT0, const char* to = kLocal) {
    last = std::make_unique<TestPacket>(payload, ep(from), ep(to));
    events.clear();
    handled_by = nullptr;
    return demux.handle_stun(&last->pkt, now, &events, &handled_by);
  }
  static Check check_b(bool nominate = false) {
    Check c;
    c.username = "bbbb:cccc";
    c.pwd = "AgentBPassword0123456789";
    c.use_candidate = nominate;
    return c;
  }

  IceLiteDemux demux;
  std::unique_ptr<IceLiteAgent> a, b;
  std::unique_ptr<TestPacket> last;
  IceEvents events;
  IceLiteAgent* handled_by = nullptr;
};

TEST_F(DemuxTest, RoutesByUfragThenByFiveTuple) {
  EXPECT_EQ(demux.ufrag_count(), 2u);
  EXPECT_EQ(demux.find_ufrag("srv1"), a.get());
  EXPECT_EQ(demux.find_ufrag("bbbb"), b.get());

  Check ca;
  ca.use_candidate = true;
  ASSERT_EQ(send(ca.build(), kClientA), StunRoute::kRespond);
  EXPECT_EQ(handled_by, a.get());
  EXPECT_EQ(read_response(last->pkt, ca.txid, "ServerPassword0123456789").code, 0);
  ASSERT_EQ(events.count, 2u);
  EXPECT_EQ(events.ev[0].agent, a.get());

  const Check cb = check_b(true);
  ASSERT_EQ(send(cb.build(), kClientB, kT0, kLocal2), StunRoute::kRespond);
  EXPECT_EQ(handled_by, b.get());
  EXPECT_EQ(read_response(last->pkt, cb.txid, "AgentBPassword0123456789").code, 0);

  // DTLS / SRTP find their transport by the validated 5-tuple.
  EXPECT_EQ(demux.tuple_count(), 2u);
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), a.get());
  EXPECT_EQ(demux.find(ep(kClientB), ep(kLocal2)), b.get());
  EXPECT_EQ(demux.find(ep(kClientB), ep(kLocal)), nullptr);  // the real local address counts
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal2)), nullptr);
}

TEST_F(DemuxTest, UnknownUfragIsDroppedWithoutAnswerOrState) {
  Check c;
  c.username = "nope:cli1";
  ASSERT_EQ(send(c.build(), kClientA), StunRoute::kDrop);
  EXPECT_EQ(handled_by, nullptr);
  EXPECT_EQ(demux.stats().unknown_ufrag.get(), 1u);
  EXPECT_EQ(demux.tuple_count(), 0u);
  EXPECT_EQ(a->pair_count() + b->pair_count(), 0u);
}

TEST_F(DemuxTest, WrongPasswordCreatesNoTuple) {
  Check c;
  c.pwd = "GuessedPassword012345678";
  c.use_candidate = true;
  ASSERT_EQ(send(c.build(), kClientA), StunRoute::kRespond);
  EXPECT_EQ(read_response(last->pkt, c.txid, "x").code, 401);
  EXPECT_EQ(demux.tuple_count(), 0u);
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), nullptr);
}

TEST_F(DemuxTest, NonIceStunIsHandedBack) {
  // Plain binding discovery (no USERNAME) from an unknown 5-tuple.
  Check plain;
  plain.username = "";
  plain.pwd = "";
  plain.priority = false;
  plain.controlling = false;
  ASSERT_EQ(send(plain.build(), kClientA), StunRoute::kNotIce);
  // Another method (TURN Allocate = 0x003).
  Bytes alloc(20);
  stun::StunWriter w(alloc.data(), alloc.size());
  w.begin(0x003, stun::StunClass::kRequest, plain.txid);
  ASSERT_EQ(send(alloc, kClientA), StunRoute::kNotIce);
  EXPECT_EQ(demux.stats().not_ice.get(), 2u);
  // Garbage: dropped, counted.
  Bytes junk = {0x00, 0x01, 0x00};
  ASSERT_EQ(send(junk, kClientA), StunRoute::kDrop);
  EXPECT_EQ(demux.stats().drops.get(Drop::kMalformedStun), 1u);

  // Once the 5-tuple is validated, a USERNAME-less request on it is ICE's: 400.
  ASSERT_EQ(send(Check{}.build(), kClientA), StunRoute::kRespond);
  ASSERT_EQ(send(plain.build(), kClientA), StunRoute::kRespond);
  EXPECT_EQ(handled_by, a.get());
  EXPECT_EQ(read_response(last->pkt, plain.txid, "x").code, 400);
  // And a keepalive indication on it is absorbed.
  Bytes ind(64);
  stun::StunWriter wi(ind.data(), ind.size());
  wi.begin(stun::kMethodBinding, stun::StunClass::kIndication, plain.txid);
  wi.add_fingerprint();
  ind.resize(wi.size());
  ASSERT_EQ(send(ind, kClientA), StunRoute::kDrop);
  EXPECT_EQ(demux.stats().keepalives.get(), 1u);
  ASSERT_EQ(send(ind, kClientB), StunRoute::kNotIce);
}

TEST_F(DemuxTest, DuplicateUfragAndDoubleAddAreRefused) {
  auto dup = make({"srv1", "AnotherPassword012345678"}, {});
  auto s = demux.add(dup.get());
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("srv1"), std::string::npos);
  EXPECT_EQ(demux.add(a.get()).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(demux.agent_count(), 2u);
  // Restart into a ufrag another agent holds: refused, nothing changes.
  auto r = a->restart({"bbbb", "FreshPassword01234567890"}, {}, kT0);
  EXPECT_EQ(r.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(a->local_credentials(), server_creds());
  EXPECT_EQ(demux.find_ufrag("bbbb"), b.get());
}

TEST_F(DemuxTest, TuplesFollowPairLifetimes) {
  Check nom;
  nom.use_candidate = true;
  ASSERT_EQ(send(nom.build(), kClientA, kT0), StunRoute::kRespond);
  ASSERT_EQ(send(Check{}.build(), kClientB, kT0 + kSecond), StunRoute::kRespond);
  EXPECT_EQ(demux.tuple_count(), 2u);
  // Steady-state checks do not insert.
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(send(Check{}.build(), kClientA, kT0 + 2 * kSecond), StunRoute::kRespond);
  EXPECT_EQ(demux.tuple_count(), 2u);
  EXPECT_EQ(a->stats().pairs_created.get(), 2u);
  // Pair B expires after 30 s without checks; A is kept fresh.
  ASSERT_EQ(send(Check{}.build(), kClientA, kT0 + 25 * kSecond), StunRoute::kRespond);
  a->on_timer(kT0 + 31 * kSecond, &events);
  EXPECT_EQ(demux.tuple_count(), 1u);
  EXPECT_EQ(demux.find(ep(kClientB), ep(kLocal)), nullptr);
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), a.get());
  // Consent lost: everything of A leaves the 5-tuple map, ufrag stays.
  a->on_timer(kT0 + 55 * kSecond, &events);
  EXPECT_EQ(a->state(), IceState::kFailed);
  EXPECT_EQ(demux.tuple_count(), 0u);
  EXPECT_EQ(demux.find_ufrag("srv1"), a.get());
  // Destroying an agent unregisters it.
  ASSERT_EQ(send(check_b(true).build(), kClientB), StunRoute::kRespond);
  EXPECT_EQ(demux.tuple_count(), 1u);
  b.reset();
  EXPECT_EQ(demux.tuple_count(), 0u);
  EXPECT_EQ(demux.find_ufrag("bbbb"), nullptr);
  EXPECT_EQ(demux.agent_count(), 1u);
  a->close();
  EXPECT_EQ(demux.ufrag_count(), 0u);
  EXPECT_EQ(demux.agent_count(), 0u);
}

TEST_F(DemuxTest, RestartMapsBothUfragsUntilDone) {
  Check nom;
  nom.use_candidate = true;
  ASSERT_EQ(send(nom.build(), kClientA, kT0), StunRoute::kRespond);
  ASSERT_TRUE(a->restart(server_creds2(), client_creds2(), kT0 + kSecond).ok());
  EXPECT_EQ(demux.find_ufrag("srv1"), a.get());
  EXPECT_EQ(demux.find_ufrag("srv2"), a.get());
  Check n2;
  n2.username = "srv2:cli2";
  n2.pwd = "ServerPasswordSecondGen1";
  n2.use_candidate = true;
  ASSERT_EQ(send(n2.build(), kClientB, kT0 + 2 * kSecond), StunRoute::kRespond);
  EXPECT_EQ(read_response(last->pkt, n2.txid, n2.pwd).code, 0);
  EXPECT_EQ(demux.find_ufrag("srv1"), nullptr);
  EXPECT_EQ(demux.find_ufrag("srv2"), a.get());
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), nullptr);  // old pair gone
  EXPECT_EQ(demux.find(ep(kClientB), ep(kLocal)), a.get());
  // The old ufrag from the (now unknown) old path: dropped; from the
  // validated path: routed to the agent, which answers 401.
  ASSERT_EQ(send(Check{}.build(), kClientA, kT0 + 3 * kSecond), StunRoute::kDrop);
  const Check stale;
  ASSERT_EQ(send(stale.build(), kClientB, kT0 + 3 * kSecond), StunRoute::kRespond);
  EXPECT_EQ(read_response(last->pkt, stale.txid, "x").code, 401);
}

TEST_F(DemuxTest, SameTupleValidatedByTwoAgentsLastWins) {
  ASSERT_EQ(send(Check{}.build(), kClientA), StunRoute::kRespond);
  ASSERT_EQ(send(check_b().build(), kClientA), StunRoute::kRespond);
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), b.get());
  a->close();  // a's removal must not take b's entry
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), b.get());
}

TEST_F(DemuxTest, FloodOfDistinctSourcesIsBounded) {
  Check nom;
  nom.use_candidate = true;
  ASSERT_EQ(send(nom.build(), kClientA), StunRoute::kRespond);
  // 20000 unauthenticated checks (guessed password, guessed ufrag) from
  // distinct sources: no state at all.
  Check bad_pwd;
  bad_pwd.pwd = "GuessedPassword012345678";
  Check bad_ufrag;
  bad_ufrag.username = "gues:cli1";
  const Bytes bp = bad_pwd.build(), bu = bad_ufrag.build();
  for (uint32_t i = 0; i < 10000; ++i) {
    Endpoint src = Endpoint::v4(0xC6130000u + i, uint16_t(1024 + i));
    TestPacket t1(bp, src, ep(kLocal)), t2(bu, src, ep(kLocal));
    ASSERT_EQ(demux.handle_stun(&t1.pkt, kT0, &events), StunRoute::kRespond);  // 401
    ASSERT_EQ(demux.handle_stun(&t2.pkt, kT0, &events), StunRoute::kDrop);
  }
  EXPECT_EQ(a->pair_count(), 1u);
  EXPECT_EQ(demux.tuple_count(), 1u);
  EXPECT_EQ(demux.stats().unknown_ufrag.get(), 10000u);
  // One sniffed valid check replayed from 10000 spoofed sources: the first
  // copy validates one pair, the rest are replays.
  const Bytes good = Check{}.build();
  for (uint32_t i = 0; i < 10000; ++i) {
    Endpoint src = Endpoint::v4(0xC6130000u + i, uint16_t(1024 + i));
    TestPacket t(good, src, ep(kLocal));
    ASSERT_EQ(demux.handle_stun(&t.pkt, kT0 + i, &events),
              i == 0 ? StunRoute::kRespond : StunRoute::kDrop);
  }
  EXPECT_EQ(a->pair_count(), 2u);
  EXPECT_EQ(a->stats().replays.get(), 9999u);
  // 10000 distinct valid checks from distinct sources: bounded.
  for (uint32_t i = 0; i < 10000; ++i) {
    Endpoint src = Endpoint::v4(0xC6140000u + i, uint16_t(1024 + i));
    TestPacket t(Check{}.build(), src, ep(kLocal));
    ASSERT_EQ(demux.handle_stun(&t.pkt, kT0 + i, &events), StunRoute::kRespond);
    ASSERT_LE(demux.tuple_count(), 16u);
  }
  EXPECT_EQ(a->pair_count(), 16u);
  EXPECT_EQ(demux.tuple_count(), 16u);
  EXPECT_EQ(demux.find(ep(kClientA), ep(kLocal)), a.get());  // the selected pair survives
  EXPECT_EQ(a->selected_pair()->remote, ep(kClientA));
}

TEST(IceDemux, DemuxDestroyedBeforeAgents) {
  auto x = IceLiteAgent::create(server_creds(), {}, {}, kT0);
  ASSERT_TRUE(x.ok());
  {
    IceLiteDemux d;
    ASSERT_TRUE(d.add(x->get()).ok());
  }
  // The agent outlives the demux and keeps working alone.
  Check c;
  TestPacket tp(c.build(), ep(kClientA), ep(kLocal));
  stun::StunMessage m;
  ASSERT_EQ(m.parse(tp.pkt.data(), tp.pkt.len), stun::ParseError::kOk);
  EXPECT_EQ((*x)->handle_check(m, &tp.pkt, kT0, nullptr), CheckVerdict::kRespond);
  IceLiteDemux d2;
  EXPECT_TRUE(d2.add(x->get()).ok());  // re-attach: ufrag and pair registered
  EXPECT_EQ(d2.find(ep(kClientA), ep(kLocal)), x->get());
}

}  // namespace
}  // namespace tern::ice
