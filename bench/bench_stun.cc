// STUN micro benchmarks: parse, FINGERPRINT verification, the Binding
// service's request->response in place, and MESSAGE-INTEGRITY (HMAC-SHA1) with
// MessageIntegrity's prepared per-key state against OpenSSL's one-shot HMAC().
// The "allocs" counter is OpenSSL heap allocations per item
// (CRYPTO_set_mem_functions).
//
//   build-stun/bench/bench_stun --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
// The low-level SHA1_* API is deprecated in OpenSSL 3; used here only to
// measure what a zero-allocation cached HMAC state would cost.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/stun/binding_service.h"
#include "engine/stun/stun_message.h"

namespace tern {
namespace {

using namespace stun;

std::atomic<uint64_t> g_ossl_allocs{0};
void* count_malloc(size_t n, const char*, int) {
  g_ossl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* count_realloc(void* p, size_t n, const char*, int) {
  g_ossl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void count_free(void* p, const char*, int) { std::free(p); }

constexpr char kPassword[] = "VOkJxbRl1RmTxUk/WvJxBt";
const uint8_t kTxid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// An ICE connectivity check as browsers send it: USERNAME, PRIORITY,
// ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT.
std::vector<uint8_t> ice_request() {
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, kPassword);
  std::vector<uint8_t> buf(256);
  StunWriter w(buf.data(), buf.size());
  w.begin(kMethodBinding, StunClass::kRequest, kTxid);
  w.add_username("abcd1234:efgh5678");
  w.add_u32(attr::kPriority, 0x6e0001ff);
  w.add_u64(attr::kIceControlling, 0x932ff9b151263b36);
  w.add(attr::kUseCandidate, 0);
  w.add_message_integrity(*key);
  w.add_fingerprint();
  buf.resize(w.size());
  return buf;
}

void report(benchmark::State& state, uint64_t allocs0) {
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs"] = benchmark::Counter(double(g_ossl_allocs.load() - allocs0),
                                                benchmark::Counter::kAvgIterations);
}

void BM_Parse(benchmark::State& state) {
  const auto req = ice_request();
  for (auto _ : state) {
    StunMessage m;
    benchmark::DoNotOptimize(m.parse(req.data(), req.size()));
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * req.size());
}
BENCHMARK(BM_Parse);

void BM_VerifyFingerprint(benchmark::State& state) {
  const auto req = ice_request();
  StunMessage m;
  m.parse(req.data(), req.size());
  for (auto _ : state) benchmark::DoNotOptimize(m.verify_fingerprint());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyFingerprint);

void BM_ServiceHandle(benchmark::State& state) {
  const bool v6 = state.range(0) != 0;
  StunBindingService svc;
  std::vector<uint8_t> req(64);
  StunWriter w(req.data(), req.size());
  w.begin(kMethodBinding, StunClass::kRequest, kTxid);
  w.add_fingerprint();
  req.resize(w.size());
  std::vector<uint8_t> storage(2048);
  Packet pkt;
  pkt.buf = storage.data();
  pkt.capacity = uint32_t(storage.size());
  pkt.remote = *Endpoint::parse(v6 ? "[2001:db8::7]:61000" : "198.18.0.7:50000");
  for (auto _ : state) {
    pkt.off = kDefaultHeadroom;  // what a driver hands over on rx
    std::memcpy(pkt.data(), req.data(), req.size());
    pkt.len = uint32_t(req.size());
    benchmark::DoNotOptimize(svc.handle(&pkt, 0));
  }
  state.SetItemsProcessed(state.iterations());
  if (svc.stats().responses.get() != uint64_t(state.iterations())) state.SkipWithError("no reply");
}
BENCHMARK(BM_ServiceHandle)->Arg(0)->Arg(1)->ArgName("v6");

void BM_IntegritySha1Prepared(benchmark::State& state) {
  const auto req = ice_request();
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, kPassword);
  StunMessage m;
  m.parse(req.data(), req.size());
  const uint64_t a0 = g_ossl_allocs.load();
  for (auto _ : state) {
    if (m.verify_integrity(*key) != IntegrityCheck::kOk) state.SkipWithError("mismatch");
  }
  report(state, a0);
}
BENCHMARK(BM_IntegritySha1Prepared);

// The same bytes through OpenSSL's one-shot HMAC(): what a per-packet
// "HMAC(key, msg)" without a prepared context costs.
void BM_IntegritySha1OneShot(benchmark::State& state) {
  const auto req = ice_request();
  const size_t covered = req.size() - 8 - 24;
  uint8_t mac[20];
  unsigned n = 0;
  const uint64_t a0 = g_ossl_allocs.load();
  for (auto _ : state) {
    HMAC(EVP_sha1(), kPassword, int(sizeof(kPassword) - 1), req.data(), covered, mac, &n);
    benchmark::DoNotOptimize(mac);
  }
  report(state, a0);
}
BENCHMARK(BM_IntegritySha1OneShot);

// A plain SHA-1 through a reused EVP_MD_CTX (no HMAC framing): shows that
// the EVP layer allocates on every re-init, which is why MessageIntegrity
// keeps low-level hash states instead.
void BM_Sha1Digest(benchmark::State& state) {
  const auto req = ice_request();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  uint8_t md[20];
  unsigned n = 0;
  const uint64_t a0 = g_ossl_allocs.load();
  for (auto _ : state) {
    EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
    EVP_DigestUpdate(ctx, req.data(), req.size() - 32);
    EVP_DigestFinal_ex(ctx, md, &n);
    benchmark::DoNotOptimize(md);
  }
  EVP_MD_CTX_free(ctx);
  report(state, a0);
}
BENCHMARK(BM_Sha1Digest);

// What MessageIntegrity does inside, without the STUN framing (header copy,
// two-piece update, constant-time compare): HMAC-SHA1 from ipad/opad states
// computed once per key and copied (plain structs) per MAC.
void BM_IntegritySha1CachedPads(benchmark::State& state) {
  const auto req = ice_request();
  const size_t covered = req.size() - 8 - 24;
  uint8_t pad[64] = {};
  std::memcpy(pad, kPassword, sizeof(kPassword) - 1);
  SHA_CTX inner0, outer0;
  for (auto& b : pad) b ^= 0x36;
  SHA1_Init(&inner0);
  SHA1_Update(&inner0, pad, 64);
  for (auto& b : pad) b ^= 0x36 ^ 0x5c;
  SHA1_Init(&outer0);
  SHA1_Update(&outer0, pad, 64);
  uint8_t mac[20], ref[20];
  unsigned n = 0;
  HMAC(EVP_sha1(), kPassword, int(sizeof(kPassword) - 1), req.data(), covered, ref, &n);
  const uint64_t a0 = g_ossl_allocs.load();
  for (auto _ : state) {
    SHA_CTX c = inner0;
    SHA1_Update(&c, req.data(), covered);
    SHA1_Final(mac, &c);
    c = outer0;
    SHA1_Update(&c, mac, 20);
    SHA1_Final(mac, &c);
    benchmark::DoNotOptimize(mac);
  }
  if (std::memcmp(mac, ref, 20) != 0) state.SkipWithError("HMAC mismatch");
  report(state, a0);
}
BENCHMARK(BM_IntegritySha1CachedPads);

void BM_WriteIntegrityAndFingerprint(benchmark::State& state) {
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, kPassword);
  uint8_t buf[256];
  const Endpoint ep = *Endpoint::parse("198.18.0.7:50000");
  const uint64_t a0 = g_ossl_allocs.load();
  for (auto _ : state) {
    StunWriter w(buf, sizeof(buf));
    w.begin(kMethodBinding, StunClass::kSuccess, kTxid);
    w.add_xor_mapped_address(ep);
    w.add_message_integrity(*key);
    w.add_fingerprint();
    benchmark::DoNotOptimize(w.size());
  }
  report(state, a0);
}
BENCHMARK(BM_WriteIntegrityAndFingerprint);

}  // namespace
}  // namespace tern

int main(int argc, char** argv) {
  // Before OpenSSL's first allocation, or it refuses.
  CRYPTO_set_mem_functions(tern::count_malloc, tern::count_realloc, tern::count_free);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
