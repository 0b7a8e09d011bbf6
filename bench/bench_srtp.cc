// The crypto floor: what srtp_protect alone costs per packet for each SRTP
// profile, with the libsrtp tern links (OpenSSL build). tern's per-packet
// forwarding cost is reported next to these numbers.
#include <benchmark/benchmark.h>
#include <srtp2/srtp.h>

#include <cstring>
#include <vector>

namespace {

void BM_SrtpProtect(benchmark::State& state, srtp_profile_t profile) {
  static bool init = (srtp_init() == srtp_err_status_ok);
  if (!init) {
    state.SkipWithError("srtp_init failed");
    return;
  }
  const size_t payload = size_t(state.range(0));
  std::vector<uint8_t> key(
      srtp_profile_get_master_key_length(profile) + srtp_profile_get_master_salt_length(profile),
      0x5a);
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profile);
  srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profile);
  policy.key = key.data();
  policy.ssrc.type = ssrc_any_outbound;
  policy.window_size = 1024;
  srtp_t session = nullptr;
  if (srtp_create(&session, &policy) != srtp_err_status_ok) {
    state.SkipWithError("srtp_create failed");
    return;
  }
  std::vector<uint8_t> buf(12 + payload + SRTP_MAX_TRAILER_LEN);
  uint16_t seq = 0;
  for (auto _ : state) {
    // A fresh header each time: sequence advances as on the wire.
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = uint8_t(seq >> 8);
    buf[3] = uint8_t(seq);
    buf[8] = 1;
    ++seq;
    int len = int(12 + payload);
    if (srtp_protect(session, buf.data(), &len) != srtp_err_status_ok) {
      state.SkipWithError("srtp_protect failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(12 + payload));
  srtp_dealloc(session);
}

BENCHMARK_CAPTURE(BM_SrtpProtect, AES_CM_128_HMAC_SHA1_80, srtp_profile_aes128_cm_sha1_80)
    ->Arg(1188)
    ->Arg(160);
BENCHMARK_CAPTURE(BM_SrtpProtect, AES_CM_128_HMAC_SHA1_32, srtp_profile_aes128_cm_sha1_32)
    ->Arg(1188);
BENCHMARK_CAPTURE(BM_SrtpProtect, AEAD_AES_128_GCM, srtp_profile_aead_aes_128_gcm)
    ->Arg(1188)
    ->Arg(160);
BENCHMARK_CAPTURE(BM_SrtpProtect, AEAD_AES_256_GCM, srtp_profile_aead_aes_256_gcm)->Arg(1188);

}  // namespace

BENCHMARK_MAIN();
