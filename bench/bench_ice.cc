// ICE-lite micro benchmarks: a full connectivity check through the agent
// (parse, FINGERPRINT, USERNAME match, MESSAGE-INTEGRITY verify, response
// with XOR-MAPPED-ADDRESS + MESSAGE-INTEGRITY + FINGERPRINT written in
// place), the same through IceLiteDemux::handle_stun (adds the ufrag lookup),
// the pure crypto such a check must do (two HMAC-SHA1 with prepared keys, two
// CRC-32) as the floor to compare against, and the per-packet 5-tuple lookup
// non-STUN traffic (DTLS, SRTP) takes.
//
//   build-ice/bench/bench_ice --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <cstring>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/stun/crc32.h"
#include "engine/stun/ice_agent.h"
#include "engine/stun/ice_demux.h"
#include "engine/stun/stun_message.h"

namespace tern {
namespace {

using namespace ice;

const IceCredentials kLocal{"abcd1234", "ServerPassword0123456789"};
const IceCredentials kRemote{"efgh5678", "ClientPassword0123456789"};
const uint8_t kTxid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// A check as browsers send it to a lite agent: USERNAME, PRIORITY,
// ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT.
std::vector<uint8_t> check() {
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, kLocal.pwd);
  std::vector<uint8_t> buf(256);
  stun::StunWriter w(buf.data(), buf.size());
  w.begin(stun::kMethodBinding, stun::StunClass::kRequest, kTxid);
  w.add_username(kLocal.ufrag + ":" + kRemote.ufrag);
  w.add_u32(stun::attr::kPriority, 0x6e0001ff);
  w.add_u64(stun::attr::kIceControlling, 0x932ff9b151263b36);
  w.add(stun::attr::kUseCandidate, 0);
  w.add_message_integrity(*key);
  w.add_fingerprint();
  buf.resize(w.size());
  return buf;
}

struct Buf {
  std::vector<uint8_t> storage = std::vector<uint8_t>(2048);
  Packet pkt;
  Buf() {
    pkt.buf = storage.data();
    pkt.capacity = uint32_t(storage.size());
    pkt.remote = *Endpoint::parse("198.18.0.7:50000");
    pkt.local = *Endpoint::parse("198.18.0.1:40000");
  }
  void load(const std::vector<uint8_t>& b) {
    pkt.reset(kDefaultHeadroom);
    std::memcpy(pkt.data(), b.data(), b.size());
    pkt.len = uint32_t(b.size());
  }
};

void BM_IceCheckAgent(benchmark::State& state) {
  auto agent = std::move(*IceLiteAgent::create(kLocal, kRemote, {}, 0));
  const auto req = check();
  Buf b;
  IceEvents ev;
  Nanos now = kSecond;
  for (auto _ : state) {
    b.load(req);
    stun::StunMessage m;
    m.parse(b.pkt.data(), b.pkt.len);
    ev.clear();
    CheckVerdict v = agent->handle_check(m, &b.pkt, now, &ev);
    benchmark::DoNotOptimize(v);
    now += kMillisecond;
  }
  if (agent->stats().checks.get() != uint64_t(state.iterations()))
    state.SkipWithError("check failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IceCheckAgent);

void BM_IceCheckDemux(benchmark::State& state) {
  // 1000 agents on the port, the check for one of them.
  IceLiteDemux demux(1000);
  std::vector<std::unique_ptr<IceLiteAgent>> agents;
  for (int i = 0; i < 999; ++i) {
    agents.push_back(std::move(*IceLiteAgent::create(*IceCredentials::generate(), {}, {}, 0)));
    demux.add(agents.back().get()).IgnoreError();
  }
  agents.push_back(std::move(*IceLiteAgent::create(kLocal, kRemote, {}, 0)));
  demux.add(agents.back().get()).IgnoreError();
  const auto req = check();
  Buf b;
  IceEvents ev;
  Nanos now = kSecond;
  for (auto _ : state) {
    b.load(req);
    ev.clear();
    StunRoute r = demux.handle_stun(&b.pkt, now, &ev);
    benchmark::DoNotOptimize(r);
    now += kMillisecond;
  }
  if (agents.back()->stats().checks.get() != uint64_t(state.iterations()))
    state.SkipWithError("check failed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IceCheckDemux);

// The floor: what any implementation must compute for one check (verify
// the request's HMAC and CRC, compute the response's HMAC and CRC), with the
// same prepared key, plus the same copy of the request into the buffer.
void BM_IceCheckCryptoFloor(benchmark::State& state) {
  auto key = *MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, kLocal.pwd);
  const auto req = check();
  Buf b;
  uint8_t mac[20];
  const size_t req_mi = req.size() - 8 - 24;  // bytes the request's HMAC covers
  const size_t resp_mi = 20 + 12;             // header + XOR-MAPPED-ADDRESS (IPv4)
  for (auto _ : state) {
    b.load(req);
    const uint8_t* d = b.pkt.data();
    key.compute(d, 20, d + 20, req_mi - 20, mac);
    benchmark::DoNotOptimize(mac_equal(mac, d + req_mi + 4, 20));
    benchmark::DoNotOptimize(crc32(d, req.size() - 8));
    key.compute(d, 20, d + 20, resp_mi - 20, mac);
    benchmark::DoNotOptimize(mac);
    benchmark::DoNotOptimize(crc32(d, resp_mi + 24));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IceCheckCryptoFloor);

// IceLiteDemux::find for non-STUN packets: `range(0)` validated 5-tuples in
// the map, lookups cycling over 256 of them (hits) or over absent ones.
void demux_find(benchmark::State& state, bool hit) {
  const int n = int(state.range(0));
  IceLiteDemux demux{size_t(n)};
  std::vector<std::unique_ptr<IceLiteAgent>> agents;
  std::vector<CandidatePair> tuples;
  const auto req = check();
  for (int i = 0; i < n; ++i) {
    auto creds = *IceCredentials::generate();
    agents.push_back(std::move(*IceLiteAgent::create(creds, {}, {}, 0)));
    demux.add(agents.back().get()).IgnoreError();
    // One valid check per agent: validates the pair, fills the map.
    auto key = *MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, creds.pwd);
    std::vector<uint8_t> buf(256);
    stun::StunWriter w(buf.data(), buf.size());
    w.begin(stun::kMethodBinding, stun::StunClass::kRequest, kTxid);
    w.add_username(creds.ufrag + ":peer");
    w.add_u32(stun::attr::kPriority, 1);
    w.add_message_integrity(key);
    w.add_fingerprint();
    buf.resize(w.size());
    Buf b;
    b.pkt.remote = Endpoint::v4(0xC6120000u + uint32_t(i), uint16_t(10000 + i % 50000));
    b.load(buf);
    const CandidatePair t{b.pkt.remote, b.pkt.local};
    demux.handle_stun(&b.pkt, kSecond, nullptr);
    tuples.push_back(t);
  }
  if (demux.tuple_count() != size_t(n)) state.SkipWithError("pairs not validated");
  std::vector<CandidatePair> probe;
  for (int i = 0; i < 256; ++i) {
    CandidatePair t = tuples[size_t(i) * size_t(n) / 256];
    if (!hit) t.remote.port = 1;  // never validated
    probe.push_back(t);
  }
  size_t i = 0;
  for (auto _ : state) {
    const CandidatePair& t = probe[i++ & 255];
    benchmark::DoNotOptimize(demux.find(t.remote, t.local));
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_IceDemuxFindHit(benchmark::State& s) { demux_find(s, true); }
void BM_IceDemuxFindMiss(benchmark::State& s) { demux_find(s, false); }
BENCHMARK(BM_IceDemuxFindHit)->Arg(256)->Arg(10000);
BENCHMARK(BM_IceDemuxFindMiss)->Arg(256)->Arg(10000);

}  // namespace
}  // namespace tern

BENCHMARK_MAIN();
