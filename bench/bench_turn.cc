// TURN server core costs, ns per packet (items processed):
//   ChannelDataToPeer       client -> peer: ChannelData header stripped in place
//   PeerToClientChannel     peer -> client with a channel: 4 bytes prepended
//   PeerToClientDataInd     peer -> client without a channel: Data indication
//   SendIndicationToPeer    client -> peer: Send indication parsed and trimmed
//   Challenge401            unauthenticated Allocate -> 401 with a fresh nonce
//   AllocateAndDelete       authenticated Allocate + Refresh(lifetime 0), both
//                           with MESSAGE-INTEGRITY checked and signed (2 items)
// Run: build/bench/bench_turn --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server.h"

namespace {

using namespace tern;

Endpoint ep(const char* s) { return *Endpoint::parse(s); }

const Endpoint kClient = ep("203.0.113.7:40000");
const Endpoint kServer = ep("198.18.0.1:3478");
const Endpoint kPeer = ep("198.18.5.5:7000");
const Endpoint kPeer2 = ep("198.18.5.6:7000");
constexpr Nanos kNow = 1000 * kSecond;
constexpr size_t kPayload = 1200;

struct Fixture {
  std::unique_ptr<TurnServer> srv;
  std::vector<uint8_t> mem = std::vector<uint8_t>(2048 + kDefaultHeadroom);
  Packet pkt;
  std::string nonce;
  Endpoint relay;
  MessageIntegrity key = [] {
    auto k = MessageIntegrity::long_term_key_md5("alice", "tern.bench", "pw");
    return *MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                     absl::Span<const uint8_t>(k.data(), k.size()));
  }();
  uint8_t txid[12] = {};

  Fixture() {
    TurnServerConfig c;
    c.realm = "tern.bench";
    c.users = {{"alice", "pw"}};
    c.relay_addresses = {ep("198.18.0.1")};
    c.relay_port_min = 50000;
    c.relay_port_max = 59999;
    c.max_allocations = 4096;
    c.max_allocations_per_user = 4096;
    c.secret.assign(32, 1);
    srv = *TurnServer::create(c);
    request(turn::kMethodAllocate, kClient, false);
    stun::StunMessage m;
    m.parse(pkt.data(), pkt.len, turn::is_known_attribute);
    stun::Attribute a;
    m.find(stun::attr::kNonce, &a);
    nonce.assign(reinterpret_cast<const char*>(a.value), a.length);
    request(turn::kMethodAllocate, kClient, true);
    m.parse(pkt.data(), pkt.len, turn::is_known_attribute);
    m.find(turn::attr::kXorRelayedAddress, &a);
    m.decode_address(a, true, &relay);
    request(turn::kMethodChannelBind, kClient, true, kPeer);
    request(turn::kMethodCreatePermission, kClient, true, kPeer2);
  }
  Packet* load(const uint8_t* d, size_t n, const Endpoint& remote, const Endpoint& local) {
    pkt.buf = mem.data();
    pkt.capacity = uint32_t(mem.size());
    pkt.off = kDefaultHeadroom;
    pkt.len = uint32_t(n);
    std::memcpy(pkt.data(), d, n);
    pkt.remote = remote;
    pkt.local = local;
    return &pkt;
  }
  size_t build(uint8_t* out, uint16_t method, bool auth, const Endpoint& peer, uint32_t lifetime) {
    ++txid[0];
    stun::StunWriter w(out, 1024);
    w.begin(method, stun::StunClass::kRequest, txid);
    if (method == turn::kMethodAllocate) w.add_u32(turn::attr::kRequestedTransport, 17u << 24);
    if (method == turn::kMethodRefresh) w.add_u32(turn::attr::kLifetime, lifetime);
    if (method == turn::kMethodChannelBind) w.add_u32(turn::attr::kChannelNumber, 0x4001u << 16);
    if (peer.family != Family::kNone) w.add_address(turn::attr::kXorPeerAddress, peer, true);
    if (auth) {
      w.add_username("alice");
      w.add_string(stun::attr::kRealm, "tern.bench");
      w.add_string(stun::attr::kNonce, nonce);
      w.add_message_integrity(key);
    }
    w.add_fingerprint();
    return w.size();
  }
  bool request(uint16_t method, const Endpoint& from, bool auth, Endpoint peer = {},
               uint32_t lifetime = 600) {
    uint8_t buf[1024];
    const size_t n = build(buf, method, auth, peer, lifetime);
    return srv->handle_stun(load(buf, n, from, kServer), kNow);
  }
};

void BM_ChannelDataToPeer(benchmark::State& state) {
  Fixture f;
  std::vector<uint8_t> cd(4 + kPayload, 0xAB);
  store_be16(cd.data(), 0x4001);
  store_be16(cd.data() + 2, kPayload);
  f.load(cd.data(), cd.size(), kClient, kServer);
  for (auto _ : state) {
    f.pkt.off = kDefaultHeadroom;  // the header bytes are untouched by the relay
    f.pkt.len = uint32_t(cd.size());
    f.pkt.remote = kClient;
    f.pkt.local = kServer;
    bool ok = f.srv->handle_channel_data(&f.pkt, kNow);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("dropped");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ChannelDataToPeer);

void peer_to_client(benchmark::State& state, const Endpoint& peer) {
  Fixture f;
  std::vector<uint8_t> data(kPayload, 0xCD);
  f.load(data.data(), data.size(), peer, f.relay);
  for (auto _ : state) {
    f.pkt.off = kDefaultHeadroom;
    f.pkt.len = uint32_t(data.size());
    f.pkt.remote = peer;
    f.pkt.local = f.relay;
    bool ok = f.srv->handle_peer(&f.pkt, kNow);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("dropped");
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_PeerToClientChannel(benchmark::State& state) { peer_to_client(state, kPeer); }
void BM_PeerToClientDataInd(benchmark::State& state) { peer_to_client(state, kPeer2); }
BENCHMARK(BM_PeerToClientChannel);
BENCHMARK(BM_PeerToClientDataInd);

void BM_SendIndicationToPeer(benchmark::State& state) {
  Fixture f;
  std::vector<uint8_t> msg(2048);
  stun::StunWriter w(msg.data(), msg.size());
  w.begin(turn::kMethodSend, stun::StunClass::kIndication, f.txid);
  w.add_address(turn::attr::kXorPeerAddress, kPeer2, true);
  std::vector<uint8_t> data(kPayload, 0xEF);
  w.add_bytes(turn::attr::kData, data.data(), data.size());
  msg.resize(w.size());
  for (auto _ : state) {
    f.load(msg.data(), msg.size(), kClient, kServer);  // the relay trims in place: restore
    bool ok = f.srv->handle_stun(&f.pkt, kNow);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("dropped");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("includes a 1.2 KB memcpy restoring the input");
}
BENCHMARK(BM_SendIndicationToPeer);

void BM_Challenge401(benchmark::State& state) {
  Fixture f;
  uint8_t req[1024];
  const size_t n = f.build(req, turn::kMethodAllocate, false, {}, 0);
  const Endpoint other = ep("203.0.113.9:1000");
  for (auto _ : state) {
    bool ok = f.srv->handle_stun(f.load(req, n, other, kServer), kNow);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Challenge401);

void BM_AllocateAndDelete(benchmark::State& state) {
  Fixture f;
  uint8_t alloc[1024], del[1024];
  Endpoint from = ep("203.0.113.10:1000");
  const size_t na = f.build(alloc, turn::kMethodAllocate, true, {}, 0);
  const size_t nd = f.build(del, turn::kMethodRefresh, true, {}, 0);
  for (auto _ : state) {
    bool a = f.srv->handle_stun(f.load(alloc, na, from, kServer), kNow);
    bool d = f.srv->handle_stun(f.load(del, nd, from, kServer), kNow);
    if (!a || !d || f.srv->allocation_count() != 1) state.SkipWithError("allocate/delete failed");
  }
  state.SetItemsProcessed(2 * state.iterations());
}
BENCHMARK(BM_AllocateAndDelete);

}  // namespace

BENCHMARK_MAIN();
