// SrtpSession against bare libsrtp, per 1200-byte packet (12-byte header +
// 1188 payload), for every profile: the wrapper's cost is the difference
// between BM_SessionProtect and BM_BareSrtpProtect in the same run (same
// library, same keys, same packet).
//
//   build-rtp/bench/bench_srtp_ctx --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#ifdef TERN_NO_SRTP
#include <cstdio>
int main() {
  std::puts("SKIP: built without libsrtp (-Dsrtp=disabled)");
  return 0;
}
#else
#include <srtp2/srtp.h>

#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/srtp/srtp_session.h"

namespace tern {
namespace {

constexpr size_t kPacket = 1200;

struct Keys {
  std::vector<uint8_t> key, salt;
};
Keys keys(SrtpProfile p) {
  const bool gcm = p == SrtpProfile::kAeadAes128Gcm || p == SrtpProfile::kAeadAes256Gcm;
  return {std::vector<uint8_t>(p == SrtpProfile::kAeadAes256Gcm ? 32 : 16, 0x5a),
          std::vector<uint8_t>(gcm ? 12 : 14, 0xa5)};
}

void write_header(uint8_t* buf, uint16_t seq) {
  buf[0] = 0x80;
  buf[1] = 96;
  buf[2] = uint8_t(seq >> 8);
  buf[3] = uint8_t(seq);
  std::memset(buf + 4, 0, 4);
  buf[8] = 0x11;
  buf[9] = 0x22;
  buf[10] = 0x33;
  buf[11] = 0x44;
}

void BM_SessionProtect(benchmark::State& state, SrtpProfile profile) {
  if (!srtp_library_init().ok()) return state.SkipWithError("init");
  const Keys k = keys(profile);
  auto s = SrtpSession::create(profile, SrtpSession::Direction::kOutbound, k.key, k.salt);
  if (!s.ok()) return state.SkipWithError("create");
  std::vector<uint8_t> buf(kPacket + 64, 0x42);
  uint16_t seq = 0;
  for (auto _ : state) {
    write_header(buf.data(), seq++);
    size_t len = kPacket;
    if (s->protect_rtp(buf.data(), &len, buf.size()) != SrtpStatus::kOk) {
      state.SkipWithError("protect");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(kPacket));
}

// The same with srtp_protect called directly, as bench/bench_srtp.cc does.
void BM_BareSrtpProtect(benchmark::State& state, SrtpProfile profile) {
  if (!srtp_library_init().ok()) return state.SkipWithError("init");
  const Keys k = keys(profile);
  std::vector<uint8_t> master = k.key;
  master.insert(master.end(), k.salt.begin(), k.salt.end());
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, srtp_profile_t(profile));
  srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, srtp_profile_t(profile));
  policy.key = master.data();
  policy.ssrc.type = ssrc_any_outbound;
  policy.window_size = 1024;
  srtp_t ctx = nullptr;
  if (srtp_create(&ctx, &policy) != srtp_err_status_ok) return state.SkipWithError("create");
  std::vector<uint8_t> buf(kPacket + 64, 0x42);
  uint16_t seq = 0;
  for (auto _ : state) {
    write_header(buf.data(), seq++);
    int len = int(kPacket);
    if (srtp_protect(ctx, buf.data(), &len) != srtp_err_status_ok) {
      state.SkipWithError("protect");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(kPacket));
  srtp_dealloc(ctx);
}

// Unprotect needs a fresh sequence number per packet (replay check): protect
// a batch of 1024 outside the timed region, then unprotect them.
void BM_SessionUnprotect(benchmark::State& state, SrtpProfile profile) {
  if (!srtp_library_init().ok()) return state.SkipWithError("init");
  const Keys k = keys(profile);
  auto out = SrtpSession::create(profile, SrtpSession::Direction::kOutbound, k.key, k.salt);
  auto in = SrtpSession::create(profile, SrtpSession::Direction::kInbound, k.key, k.salt);
  if (!out.ok() || !in.ok()) return state.SkipWithError("create");
  constexpr size_t kBatch = 1024, kSlot = kPacket + 64;
  std::vector<uint8_t> batch(kBatch * kSlot, 0x42), work(kSlot);
  std::vector<size_t> lens(kBatch);
  uint16_t seq = 0;
  size_t i = kBatch;
  for (auto _ : state) {
    if (i == kBatch) {
      state.PauseTiming();
      for (size_t j = 0; j < kBatch; ++j) {
        uint8_t* p = batch.data() + j * kSlot;
        write_header(p, seq++);
        lens[j] = kPacket;
        out->protect_rtp(p, &lens[j], kSlot);
      }
      i = 0;
      state.ResumeTiming();
    }
    size_t len = lens[i];
    uint8_t* p = batch.data() + i * kSlot;
    if (in->unprotect_rtp(p, &len) != SrtpStatus::kOk) {
      state.SkipWithError("unprotect");
      break;
    }
    benchmark::DoNotOptimize(p);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(kPacket));
}

#define PROFILES(BM)                                                             \
  BENCHMARK_CAPTURE(BM, AES_CM_128_HMAC_SHA1_80, SrtpProfile::kAes128CmSha1_80); \
  BENCHMARK_CAPTURE(BM, AES_CM_128_HMAC_SHA1_32, SrtpProfile::kAes128CmSha1_32); \
  BENCHMARK_CAPTURE(BM, AEAD_AES_128_GCM, SrtpProfile::kAeadAes128Gcm);          \
  BENCHMARK_CAPTURE(BM, AEAD_AES_256_GCM, SrtpProfile::kAeadAes256Gcm)

PROFILES(BM_BareSrtpProtect);
PROFILES(BM_SessionProtect);
PROFILES(BM_SessionUnprotect);

}  // namespace
}  // namespace tern

BENCHMARK_MAIN();
#endif  // TERN_NO_SRTP
