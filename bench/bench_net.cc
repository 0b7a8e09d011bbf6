// engine/net micro benchmarks: per-packet costs on the driver's RX/TX path.
//   build-net/bench/bench_net --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/net/checksum.h"
#include "engine/net/classify.h"
#include "engine/net/frame.h"

namespace tern {
namespace {

const MacAddr kMacA{{0x02, 0, 0, 0, 0, 0x01}};
const MacAddr kMacB{{0x02, 0, 0, 0, 0, 0x02}};

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

// A 1200-byte-payload UDP frame with valid checksums (what a media packet looks like).
std::vector<uint8_t> udp_frame(Family f) {
  const Endpoint local =
      *Endpoint::parse(f == Family::kIpv4 ? "198.18.0.1:3478" : "[fd54:7465:726e::1]:3478");
  const Endpoint remote =
      *Endpoint::parse(f == Family::kIpv4 ? "198.18.0.2:50000" : "[fd54:7465:726e::2]:50000");
  const uint32_t h = udp_headers_len(f);
  std::vector<uint8_t> frame = random_bytes(h + 1200, 1);
  frame[h] = 0x80;  // RTP
  write_udp_headers(frame.data(), kMacA, kMacB, local, remote, 1200, TxChecksum::kSoftware);
  return frame;
}

void BM_Classify(benchmark::State& state) {
  // 32 first bytes covering every class, as a burst would.
  std::vector<uint8_t> pkts = random_bytes(32 * 2, 2);
  for (auto _ : state) {
    for (int i = 0; i < 32; ++i) benchmark::DoNotOptimize(classify(&pkts[i * 2], 2));
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 32);
}
BENCHMARK(BM_Classify);

void BM_ParseFrameUdp(benchmark::State& state, Family f) {
  const std::vector<uint8_t> frame = udp_frame(f);
  FrameInfo info;
  Drop why;
  for (auto _ : state) {
    bool ok = parse_frame(frame.data(), uint32_t(frame.size()), &info, &why);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(info);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(frame.size()));
}
BENCHMARK_CAPTURE(BM_ParseFrameUdp, v4_1200, Family::kIpv4);
BENCHMARK_CAPTURE(BM_ParseFrameUdp, v6_1200, Family::kIpv6);

// With the NIC's RX checksum offload: headers only.
void BM_ParseFrameUdpHwVerified(benchmark::State& state, Family f) {
  const std::vector<uint8_t> frame = udp_frame(f);
  FrameInfo info;
  Drop why;
  const RxVerified hw{true, true};
  for (auto _ : state) {
    bool ok = parse_frame(frame.data(), uint32_t(frame.size()), hw, &info, &why);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(info);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK_CAPTURE(BM_ParseFrameUdpHwVerified, v4, Family::kIpv4);
BENCHMARK_CAPTURE(BM_ParseFrameUdpHwVerified, v6, Family::kIpv6);

void BM_Checksum(benchmark::State& state) {
  const std::vector<uint8_t> buf = random_bytes(size_t(state.range(0)), 3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(internet_checksum(buf.data(), uint32_t(buf.size())));
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Checksum)->Arg(1200);

void BM_WriteUdpHeaders(benchmark::State& state, Family f, TxChecksum mode) {
  std::vector<uint8_t> frame = udp_frame(f);
  const Endpoint local =
      *Endpoint::parse(f == Family::kIpv4 ? "198.18.0.1:3478" : "[fd54:7465:726e::1]:3478");
  const Endpoint remote =
      *Endpoint::parse(f == Family::kIpv4 ? "198.18.0.2:50000" : "[fd54:7465:726e::2]:50000");
  for (auto _ : state) {
    bool ok = write_udp_headers(frame.data(), kMacA, kMacB, local, remote, 1200, mode);
    benchmark::DoNotOptimize(ok);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK_CAPTURE(BM_WriteUdpHeaders, v4_offload, Family::kIpv4, TxChecksum::kOffload);
BENCHMARK_CAPTURE(BM_WriteUdpHeaders, v4_software_1200, Family::kIpv4, TxChecksum::kSoftware);
BENCHMARK_CAPTURE(BM_WriteUdpHeaders, v6_offload, Family::kIpv6, TxChecksum::kOffload);
BENCHMARK_CAPTURE(BM_WriteUdpHeaders, v6_software_1200, Family::kIpv6, TxChecksum::kSoftware);

}  // namespace
}  // namespace tern

BENCHMARK_MAIN();
