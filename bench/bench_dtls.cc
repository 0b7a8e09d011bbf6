// DTLS costs: a full DTLS 1.2 handshake (both endpoints in memory, ECDSA P-256,
// ECDHE X25519, use_srtp, key export) and certificate fingerprinting. Control-plane
// costs: they bound how many transports per second one core can bring up.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "engine/dtls/certificate.h"
#include "engine/dtls/dtls_endpoint.h"

namespace tern {
namespace {

struct Fixture {
  std::shared_ptr<const DtlsCertificate> ccert = *DtlsCertificate::generate();
  std::shared_ptr<const DtlsCertificate> scert = *DtlsCertificate::generate();
  std::shared_ptr<DtlsContext> cctx = *DtlsContext::create(ccert);
  std::shared_ptr<DtlsContext> sctx = *DtlsContext::create(scert);
};

bool shuttle(DtlsEndpoint& from, DtlsEndpoint& to, uint8_t* buf, size_t cap) {
  bool moved = false;
  for (size_t n; (n = from.poll_output(buf, cap)) != 0;) {
    to.feed(buf, n, 0);
    moved = true;
  }
  return moved;
}

void BM_DtlsHandshake(benchmark::State& state) {
  Fixture f;
  DtlsEndpointConfig cc, sc;
  cc.role = DtlsRole::kClient;
  sc.role = DtlsRole::kServer;
  cc.has_remote_fingerprint = sc.has_remote_fingerprint = true;
  cc.remote_fingerprint = f.scert->fingerprint();
  sc.remote_fingerprint = f.ccert->fingerprint();
  std::vector<uint8_t> buf(2048);
  for (auto _ : state) {
    auto c = *DtlsEndpoint::create(f.cctx, cc);
    auto s = *DtlsEndpoint::create(f.sctx, sc);
    s->start(0);
    c->start(0);
    for (int i = 0; i < 20; ++i) {
      bool a = shuttle(*c, *s, buf.data(), buf.size());
      bool b = shuttle(*s, *c, buf.data(), buf.size());
      if (!a && !b) break;
    }
    if (c->state() != DtlsState::kConnected || s->state() != DtlsState::kConnected) {
      state.SkipWithError("handshake failed");
      break;
    }
    benchmark::DoNotOptimize(c->srtp_keys().local_key[0]);
  }
  state.SetItemsProcessed(state.iterations());  // handshakes
}
BENCHMARK(BM_DtlsHandshake)->Unit(benchmark::kMicrosecond);

void BM_CertificateFingerprintSha256(benchmark::State& state) {
  auto cert = *DtlsCertificate::generate();
  for (auto _ : state) {
    auto fp = certificate_fingerprint(cert->x509(), FingerprintHash::kSha256);
    benchmark::DoNotOptimize(fp->bytes[0]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CertificateFingerprintSha256);

void BM_ParseFingerprint(benchmark::State& state) {
  auto cert = *DtlsCertificate::generate();
  const std::string sdp = cert->sdp_fingerprint();
  for (auto _ : state) {
    auto fp = parse_fingerprint(sdp);
    benchmark::DoNotOptimize(fp->bytes[0]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseFingerprint);

void BM_CertificateGenerate(benchmark::State& state) {
  for (auto _ : state) {
    auto c = DtlsCertificate::generate();
    benchmark::DoNotOptimize(c->get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CertificateGenerate)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tern
BENCHMARK_MAIN();
