// bench/loadgen's TURN side: the client leg (TurnLeg: challenge, signed
// Allocate, ChannelBind, stale nonce, wrong password, deferred peer), and
// --scenario turn's Pacer and relay pair. The rest of the loadgen's unit
// tests are in loadgen_test.cc (same test binary).
#include "bench/loadgen/turn_leg.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "bench/loadgen/checker.h"
#include "bench/loadgen/offer.h"
#include "bench/loadgen/relay_pair.h"
#include "bench/loadgen/stream.h"
#include "control/sdp/sdp_parser.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/turn/turn_protocol.h"

namespace tern::loadgen {
namespace {

TurnLeg test_leg(uint32_t id) {
  TurnConfig cfg;
  cfg.server = *Endpoint::parse("127.0.0.1:3478");
  cfg.user = "u", cfg.password = "p";
  return TurnLeg(cfg, *Endpoint::parse("127.0.0.1:40000"), id);
}

// The TURN client leg: 401 with realm/nonce -> a signed Allocate; success
// (signed with the long-term key) -> ChannelBind; 438 -> the same request
// with the new nonce; success -> ready. ChannelData framing round trip.
TEST(TurnLeg, ChallengeAllocateChannelBindAndFraming) {
  TurnLeg leg = test_leg(7);
  uint8_t req[512], out[512];
  size_t n = leg.start(req, sizeof(req), 0);
  ASSERT_GT(n, 0u);
  auto answer = [&](const uint8_t* r, size_t rn, bool ok, int code, const char* nonce,
                    const MessageIntegrity* key) {
    stun::StunMessage m;
    EXPECT_EQ(m.parse(r, rn), stun::ParseError::kOk);
    uint8_t buf[512];
    stun::StunWriter w(buf, sizeof(buf));
    w.begin(m.method(), ok ? stun::StunClass::kSuccess : stun::StunClass::kError,
            m.transaction_id());
    if (!ok) {
      w.add_error_code(code, "x");
      w.add_string(stun::attr::kRealm, "r");
      w.add_string(stun::attr::kNonce, nonce);
    }
    if (key) w.add_message_integrity(*key);
    stun::StunMessage resp;
    EXPECT_EQ(resp.parse(buf, w.size()), stun::ParseError::kOk);
    size_t len = 0;
    leg.on_response(resp, out, sizeof(out), &len);
    return len;
  };
  stun::StunMessage first;
  ASSERT_EQ(first.parse(req, n), stun::ParseError::kOk);
  EXPECT_FALSE(first.has(stun::attr::kMessageIntegrity));  // unauthenticated first
  n = answer(req, n, false, 401, "n1", nullptr);
  ASSERT_GT(n, 0u);
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                      MessageIntegrity::long_term_key_md5("u", "r", "p"));
  ASSERT_TRUE(key.ok());
  stun::StunMessage signed_alloc;
  ASSERT_EQ(signed_alloc.parse(out, n), stun::ParseError::kOk);
  EXPECT_EQ(signed_alloc.verify_integrity(*key), stun::IntegrityCheck::kOk);
  std::memcpy(req, out, n);
  n = answer(req, n, true, 0, "", &*key);  // Allocate success -> ChannelBind
  ASSERT_GT(n, 0u);
  stun::StunMessage bind;
  ASSERT_EQ(bind.parse(out, n), stun::ParseError::kOk);
  EXPECT_EQ(bind.method(), 0x009);
  std::memcpy(req, out, n);
  n = answer(req, n, false, 438, "n2", nullptr);  // stale nonce: same request, new nonce
  ASSERT_GT(n, 0u);
  EXPECT_FALSE(leg.ready());
  std::memcpy(req, out, n);
  EXPECT_EQ(answer(req, n, true, 0, "", &*key), 0u);
  EXPECT_TRUE(leg.ready());

  uint8_t frame[8] = {};
  TurnLeg::write_header(frame, 3);
  frame[4] = 1, frame[5] = 2, frame[6] = 3;
  size_t len = 0;
  const uint8_t* p = TurnLeg::payload(frame, 7, &len);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(p[2], 3);
  EXPECT_EQ(TurnLeg::payload(frame, 6, &len), nullptr);  // length beyond the datagram
  frame[0] = 0x41;
  EXPECT_EQ(TurnLeg::payload(frame, 7, &len), nullptr);  // not our channel
}

TEST(TurnLeg, WrongPasswordFailsAfterTheSignedAllocate) {
  TurnLeg leg = test_leg(1);
  uint8_t req[512], out[512];
  const size_t n = leg.start(req, sizeof(req), 0);
  stun::StunMessage m;
  ASSERT_EQ(m.parse(req, n), stun::ParseError::kOk);
  uint8_t buf[256];
  stun::StunWriter w(buf, sizeof(buf));
  w.begin(m.method(), stun::StunClass::kError, m.transaction_id());
  w.add_error_code(401, "Unauthorized");
  w.add_string(stun::attr::kRealm, "r");
  w.add_string(stun::attr::kNonce, "n");
  stun::StunMessage e;
  ASSERT_EQ(e.parse(buf, w.size()), stun::ParseError::kOk);
  size_t len = 0;
  leg.on_response(e, out, sizeof(out), &len);
  ASSERT_GT(len, 0u);
  stun::StunMessage again;
  ASSERT_EQ(again.parse(out, len), stun::ParseError::kOk);
  stun::StunWriter w2(buf, sizeof(buf));
  w2.begin(again.method(), stun::StunClass::kError, again.transaction_id());
  w2.add_error_code(401, "Unauthorized");
  w2.add_string(stun::attr::kNonce, "n");
  stun::StunMessage e2;
  ASSERT_EQ(e2.parse(buf, w2.size()), stun::ParseError::kOk);
  leg.on_response(e2, out, sizeof(out), &len);
  EXPECT_TRUE(leg.failed());
  EXPECT_NE(leg.failure().find("401"), std::string::npos) << leg.failure();
  // Retransmission gives up after its attempts, too (a fresh leg, no answer).
  TurnLeg silent = test_leg(2);
  silent.start(req, sizeof(req), 0);
  for (Nanos t = 0; t < 5 * kSecond && !silent.failed(); t += 100 * kMillisecond)
    silent.tick(req, sizeof(req), t);
  EXPECT_TRUE(silent.failed());
}

// A TURN server's answer to request `req` (n bytes): an error with realm
// and nonce, or a success signed with `key`, optionally carrying
// XOR-RELAYED-ADDRESS and LIFETIME. Fed to the leg; returns what it wrote.
size_t answer_leg(TurnLeg& leg, const uint8_t* req, size_t n, int code, const MessageIntegrity* key,
                  const Endpoint* relayed, uint8_t* out, size_t cap) {
  stun::StunMessage m;
  EXPECT_EQ(m.parse(req, n), stun::ParseError::kOk);
  uint8_t buf[512];
  stun::StunWriter w(buf, sizeof(buf));
  w.begin(m.method(), code ? stun::StunClass::kError : stun::StunClass::kSuccess,
          m.transaction_id());
  if (code) {
    w.add_error_code(code, "x");
    w.add_string(stun::attr::kRealm, "r");
    w.add_string(stun::attr::kNonce, "n1");
  }
  if (relayed) {
    w.add_address(turn::attr::kXorRelayedAddress, *relayed, true);
    w.add_u32(turn::attr::kLifetime, 600);
  }
  if (key) w.add_message_integrity(*key);
  stun::StunMessage resp;
  EXPECT_EQ(resp.parse(buf, w.size()), stun::ParseError::kOk);
  size_t len = 0;
  leg.on_response(resp, out, cap, &len);
  return len;
}

// Deferred peer (the relay scenario): the leg stops after the Allocate with
// the relayed address parsed, sends nothing until set_peer(), then binds
// the channel to exactly that peer (signed, retransmitted with the same
// transaction id) and becomes ready on its success.
TEST(TurnLeg, DeferredPeerStopsAfterAllocateThenBindsOnSetPeer) {
  TurnConfig cfg;
  cfg.server = *Endpoint::parse("127.0.0.1:3478");
  cfg.user = "u", cfg.password = "p";
  TurnLeg leg(cfg, 9);
  uint8_t req[512], out[512];
  size_t n = leg.start(req, sizeof(req), 0);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(leg.set_peer(*Endpoint::parse("127.0.0.1:1"), out, sizeof(out), 0), 0u)
      << "no ChannelBind before the allocation exists";
  n = answer_leg(leg, req, n, 401, nullptr, nullptr, out, sizeof(out));
  ASSERT_GT(n, 0u);
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                      MessageIntegrity::long_term_key_md5("u", "r", "p"));
  ASSERT_TRUE(key.ok());
  std::memcpy(req, out, n);
  const Endpoint relayed = *Endpoint::parse("192.0.2.7:50123");
  EXPECT_FALSE(leg.allocated());
  EXPECT_EQ(answer_leg(leg, req, n, 0, &*key, &relayed, out, sizeof(out)), 0u)
      << "a deferred leg must not send a ChannelBind on its own";
  ASSERT_TRUE(leg.allocated());
  ASSERT_TRUE(leg.relayed().has_value());
  EXPECT_EQ(*leg.relayed(), relayed);
  EXPECT_EQ(leg.lifetime_s(), 600u);
  EXPECT_FALSE(leg.ready());
  // Waiting for the peer is not a pending request: nothing is retransmitted
  // and the leg does not time out.
  for (Nanos t = 0; t < 5 * kSecond; t += 100 * kMillisecond)
    EXPECT_EQ(leg.tick(req, sizeof(req), t), 0u);
  EXPECT_FALSE(leg.failed()) << leg.failure();

  const Endpoint peer = *Endpoint::parse("127.0.0.1:41234");
  n = leg.set_peer(peer, req, sizeof(req), 5 * kSecond);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(leg.set_peer(peer, out, sizeof(out), 5 * kSecond), 0u) << "the peer is given once";
  stun::StunMessage bind;
  ASSERT_EQ(bind.parse(req, n), stun::ParseError::kOk);
  EXPECT_EQ(bind.method(), turn::kMethodChannelBind);
  EXPECT_EQ(bind.verify_integrity(*key), stun::IntegrityCheck::kOk);
  stun::Attribute a;
  ASSERT_TRUE(bind.find(turn::attr::kXorPeerAddress, &a));
  Endpoint got;
  ASSERT_TRUE(bind.decode_address(a, true, &got));
  EXPECT_EQ(got, peer);
  ASSERT_TRUE(bind.find(turn::attr::kChannelNumber, &a));
  ASSERT_EQ(a.length, 4u);
  EXPECT_EQ(a.value[0] << 8 | a.value[1], TurnLeg::kChannel);
  // Unanswered: the same transaction again after the retransmission time.
  EXPECT_EQ(leg.tick(out, sizeof(out), 5 * kSecond + 100 * kMillisecond), 0u);
  const size_t rn = leg.tick(out, sizeof(out), 5 * kSecond + 200 * kMillisecond);
  ASSERT_EQ(rn, n);
  EXPECT_EQ(std::memcmp(out + 8, req + 8, 12), 0);
  EXPECT_EQ(answer_leg(leg, req, n, 0, &*key, nullptr, out, sizeof(out)), 0u);
  EXPECT_TRUE(leg.ready());

  // At the end of a run: a signed Refresh with LIFETIME 0 deletes the allocation.
  const size_t rl = leg.release(out, sizeof(out));
  ASSERT_GT(rl, 0u);
  stun::StunMessage refresh;
  ASSERT_EQ(refresh.parse(out, rl), stun::ParseError::kOk);
  EXPECT_EQ(refresh.method(), turn::kMethodRefresh);
  EXPECT_EQ(refresh.verify_integrity(*key), stun::IntegrityCheck::kOk);
  ASSERT_TRUE(refresh.find(turn::attr::kLifetime, &a));
  ASSERT_EQ(a.length, 4u);
  EXPECT_EQ(a.value[0] | a.value[1] | a.value[2] | a.value[3], 0);
  EXPECT_EQ(TurnLeg(cfg, 10).release(out, sizeof(out)), 0u)
      << "nothing allocated, nothing to delete";
}

// A deferred leg cannot go on without the relayed address; a leg with a
// fixed peer binds its channel whether or not the server sent it.
TEST(TurnLeg, DeferredPeerNeedsTheRelayedAddress) {
  TurnConfig cfg;
  cfg.server = *Endpoint::parse("127.0.0.1:3478");
  cfg.user = "u", cfg.password = "p";
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                      MessageIntegrity::long_term_key_md5("u", "r", "p"));
  ASSERT_TRUE(key.ok());
  for (bool deferred : {true, false}) {
    TurnLeg leg = deferred ? TurnLeg(cfg, 3) : test_leg(3);
    uint8_t req[512], out[512];
    size_t n = leg.start(req, sizeof(req), 0);
    n = answer_leg(leg, req, n, 401, nullptr, nullptr, out, sizeof(out));
    ASSERT_GT(n, 0u);
    std::memcpy(req, out, n);
    const size_t bind = answer_leg(leg, req, n, 0, &*key, nullptr, out, sizeof(out));
    EXPECT_FALSE(leg.allocated());
    if (deferred) {
      EXPECT_EQ(bind, 0u);
      EXPECT_TRUE(leg.failed());
      EXPECT_NE(leg.failure().find("XOR-RELAYED-ADDRESS"), std::string::npos) << leg.failure();
    } else {
      EXPECT_GT(bind, 0u);
      EXPECT_FALSE(leg.failed());
    }
  }
}

// --scenario turn's pacing: smooth (never more than one packet per 1 ms tick
// at 500 pps, the rate met over a second) and bounded after a stall (at
// most 5 ms worth in one go; the rest is skipped and counted, not burst).
TEST(Pacer, SmoothAndBoundedAfterAStall) {
  Pacer p(500, 0, 0);
  uint64_t sent = 0;
  uint32_t most = 0;
  Nanos t = 0;
  for (; t <= kSecond; t += kMillisecond) {
    const uint32_t n = p.due(t);
    sent += n, most = std::max(most, n);
  }
  EXPECT_GE(sent, 499u);
  EXPECT_LE(sent, 501u);
  EXPECT_EQ(most, 1u);
  Pacer fast(20000, 0, 0);
  fast.due(kMillisecond);
  const uint32_t burst = fast.due(101 * kMillisecond);  // a 100 ms stall: 2000 due
  EXPECT_LE(burst, 101u);
  EXPECT_GE(burst, 100u);
  EXPECT_GE(fast.skipped(), 1899u);
  EXPECT_LE(fast.skipped(), 1900u);
}

// A wire that records what is sent and lets the test deliver datagrams.
class FakeWire final : public Wire {
 public:
  struct Sent {
    int flow;
    std::vector<uint8_t> data;
  };
  std::string name() const override { return "fake"; }
  absl::StatusOr<Flow> open(const Endpoint& to, DatagramSink* sink) override {
    remotes.push_back(to), sinks.push_back(sink);
    Flow f;
    f.id = int(sinks.size()) - 1;
    f.local = Endpoint::v4(0x7F000001, uint16_t(30000 + f.id));
    return f;
  }
  void close(Flow& f) override { f.id = -1; }
  bool send(const Flow& f, const iovec* iov, int n) override {
    Sent s{f.id, {}};
    for (int i = 0; i < n; ++i) {
      const auto* b = static_cast<const uint8_t*>(iov[i].iov_base);
      s.data.insert(s.data.end(), b, b + iov[i].iov_len);
    }
    sent.push_back(std::move(s));
    return true;
  }
  void poll(Nanos) override {}
  std::vector<Endpoint> remotes;
  std::vector<DatagramSink*> sinks;
  std::vector<Sent> sent;
};

// One relay pair over the fake wire, the fake test playing the TURN server:
// A's flow goes to the server; after the allocation B's flow goes to the
// relayed address and A's ChannelBind names B's local address; once bound,
// A sends probes as ChannelData and B as plain UDP, and what comes back is
// counted per direction (with one duplicate recognised as such).
TEST(RelayPair, AllocateThenPeerFlowThenBindThenBothStreams) {
  FakeWire wire;
  RelayPairConfig cfg;
  cfg.name = "pair 0";
  cfg.wire = &wire;
  cfg.turn.server = *Endpoint::parse("127.0.0.1:3478");
  cfg.turn.user = "u", cfg.turn.password = "p";
  cfg.pps = 1000;
  cfg.payload = 100;
  auto made = RelayPair::create(cfg, 0);
  ASSERT_TRUE(made.ok()) << made.status();
  RelayPair& pair = **made;
  ASSERT_EQ(wire.remotes.size(), 1u);
  EXPECT_EQ(wire.remotes[0], cfg.turn.server);
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                      MessageIntegrity::long_term_key_md5("u", "r", "p"));
  ASSERT_TRUE(key.ok());
  const Endpoint relayed = *Endpoint::parse("127.0.0.1:50001");
  // The server's answer to the last request sent, delivered to flow A.
  auto serve = [&](int code, const Endpoint* rel) {
    ASSERT_FALSE(wire.sent.empty());
    const auto req = wire.sent.back().data;
    stun::StunMessage m;
    ASSERT_EQ(m.parse(req.data(), req.size()), stun::ParseError::kOk);
    uint8_t buf[512];
    stun::StunWriter w(buf, sizeof(buf));
    w.begin(m.method(), code ? stun::StunClass::kError : stun::StunClass::kSuccess,
            m.transaction_id());
    if (code) {
      w.add_error_code(code, "x");
      w.add_string(stun::attr::kRealm, "r");
      w.add_string(stun::attr::kNonce, "n");
    }
    if (rel) w.add_address(turn::attr::kXorRelayedAddress, *rel, true);
    if (!code) w.add_message_integrity(*key);
    wire.sinks[0]->on_datagram(buf, w.size(), 0);
  };
  serve(401, nullptr);
  serve(0, &relayed);
  ASSERT_EQ(wire.remotes.size(), 2u) << "the peer's flow opens once the relayed address is known";
  EXPECT_EQ(wire.remotes[1], relayed);
  EXPECT_EQ(pair.relayed(), "127.0.0.1:50001");
  {
    stun::StunMessage bind;
    const auto& b = wire.sent.back().data;
    ASSERT_EQ(bind.parse(b.data(), b.size()), stun::ParseError::kOk);
    EXPECT_EQ(bind.method(), turn::kMethodChannelBind);
    stun::Attribute a;
    Endpoint peer;
    ASSERT_TRUE(bind.find(turn::attr::kXorPeerAddress, &a));
    ASSERT_TRUE(bind.decode_address(a, true, &peer));
    EXPECT_EQ(peer.port, pair.peer_port());
  }
  EXPECT_FALSE(pair.ready());
  serve(0, nullptr);
  ASSERT_TRUE(pair.ready()) << pair.failure();
  wire.sent.clear();
  for (Nanos t = kMillisecond; t <= 10 * kMillisecond; t += kMillisecond) pair.tick(t);
  size_t on_a = 0, on_b = 0;
  for (const auto& s : wire.sent) {
    Probe pr;
    if (s.flow == 0) {
      ++on_a;
      ASSERT_EQ(s.data.size(), 104u);  // ChannelData header + payload
      size_t len = 0;
      const uint8_t* p = TurnLeg::payload(s.data.data(), s.data.size(), &len);
      ASSERT_NE(p, nullptr);
      ASSERT_TRUE(read_probe(p, len, &pr));
      EXPECT_EQ(pr.stream_id, 0u);
    } else {
      ++on_b;
      ASSERT_EQ(s.data.size(), 100u);
      ASSERT_TRUE(read_probe(s.data.data(), s.data.size(), &pr));
      EXPECT_EQ(pr.stream_id, 1u);
    }
  }
  EXPECT_EQ(on_a, 10u);
  EXPECT_EQ(on_b, 10u);
  EXPECT_FALSE(pair.flowing());
  // Relay them as a server would: A's ChannelData payload to B, B's UDP to A
  // as ChannelData; one of A's packets twice.
  const auto sent = wire.sent;
  for (const auto& s : sent) {
    std::vector<uint8_t> d = s.data;
    if (s.flow == 0) {
      std::vector<uint8_t> udp(d.begin() + 4, d.end());
      wire.sinks[1]->on_datagram(udp.data(), udp.size(), 20 * kMillisecond);
    } else {
      std::vector<uint8_t> cd(4 + d.size());
      TurnLeg::write_header(cd.data(), d.size());
      std::copy(d.begin(), d.end(), cd.begin() + 4);
      wire.sinks[0]->on_datagram(cd.data(), cd.size(), 20 * kMillisecond);
    }
  }
  std::vector<uint8_t> again(sent[0].data.begin() + 4, sent[0].data.end());
  wire.sinks[1]->on_datagram(again.data(), again.size(), 20 * kMillisecond);
  EXPECT_TRUE(pair.flowing());
  const WindowCounts to_peer = pair.to_peer().seq.window(),
                     to_client = pair.to_client().seq.window();
  EXPECT_EQ(to_peer.received, 10u);
  EXPECT_EQ(to_peer.expected, 10u);
  EXPECT_EQ(to_peer.duplicates, 1u);
  EXPECT_EQ(to_client.received, 10u);
  EXPECT_EQ(to_client.expected, 10u);
  EXPECT_EQ(pair.to_peer().latency.count(), 10u);
  // Sent at 1..10 ms, received at 20 ms.
  EXPECT_GE(pair.to_client().latency.max(), 18 * kMillisecond);
  EXPECT_LE(pair.to_client().latency.max(), 20 * kMillisecond);
  // A probe of the other direction on B's flow is a payload error, not a packet.
  std::vector<uint8_t> wrong(sent.back().data);
  wire.sinks[1]->on_datagram(wrong.data(), wrong.size(), 21 * kMillisecond);
  EXPECT_EQ(pair.to_peer().payload_errors, 1u);
  EXPECT_EQ(pair.to_peer().seq.window().received, 10u);
}

}  // namespace
}  // namespace tern::loadgen
