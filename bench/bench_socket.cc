// Socket driver micro benchmarks on loopback: one burst of 32 x 1200-byte
// datagrams sent by one SocketDriver and received by another, per iteration
// (so both the send and the receive side are in the time), with GSO / GRO on
// and off, against a plain sendto/recvfrom loop (one syscall per packet).
//
//   build-sock/bench/bench_socket --benchmark_repetitions=5 --benchmark_min_time=0.3
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "drivers/socket/socket_driver.h"

namespace tern {
namespace {

constexpr uint32_t kLen = 1200;

std::unique_ptr<SocketDriver> make(bool gro, bool gso) {
  SocketConfig cfg;
  cfg.addresses = {*Endpoint::parse("127.0.0.1")};
  cfg.addresses_defaulted = false;
  cfg.gro = gro;
  cfg.gso = gso;
  cfg.buffers = 1024;
  DriverCommonConfig common;
  common.base_port = 0;  // ephemeral: benchmarks never collide with a running ternd
  auto d = SocketDriver::create(cfg, common);
  return d.ok() ? std::move(*d) : nullptr;
}

// args: {gso on sender, gro on receiver, sizes: 0 all equal, 1 all different
// (nothing can be grouped: the price of looking for GSO groups)}
void BM_LoopbackBurst(benchmark::State& state) {
  const bool gso = state.range(0) != 0, gro = state.range(1) != 0;
  const bool mixed = state.range(2) != 0;
  auto tx = make(false, gso);
  auto rx = make(gro, false);
  if (!tx || !rx) {
    state.SkipWithError("driver setup failed");
    return;
  }
  if (gso && !tx->caps().gso) state.SkipWithError("no UDP_SEGMENT");
  if (gro && !rx->caps().gro) state.SkipWithError("no UDP_GRO");
  const Endpoint src = tx->local_endpoints(0)[0];
  const Endpoint dst = rx->local_endpoints(0)[0];
  uint64_t lost = 0;
  for (auto _ : state) {
    Packet* p[kMaxBurst];
    const uint16_t n = tx->alloc_bulk(0, p, kMaxBurst);
    for (uint16_t i = 0; i < n; ++i) {
      std::memset(p[i]->append(mixed ? kLen + i : kLen), i, 16);
      p[i]->remote = dst;
      p[i]->local = src;
    }
    tx->tx_burst(0, p, n);
    uint32_t got = 0;
    for (int spins = 0; got < n && spins < 1000; ++spins) {
      const uint16_t r = rx->rx_burst(0, p, kMaxBurst);
      benchmark::DoNotOptimize(p[0]);
      rx->free_bulk(0, p, r);
      got += r;
    }
    lost += n - got;
  }
  state.SetItemsProcessed(state.iterations() * kMaxBurst);
  state.counters["lost"] = static_cast<double>(lost);
}
BENCHMARK(BM_LoopbackBurst)
    ->ArgNames({"gso", "gro", "mixed"})
    ->Args({0, 0, 0})
    ->Args({1, 0, 0})
    ->Args({0, 1, 0})
    ->Args({1, 1, 0})
    ->Args({0, 0, 1})
    ->Args({1, 0, 1});

// Baseline: what a naive server does, one sendto and one recvfrom per packet.
void BM_LoopbackPlainSyscalls(benchmark::State& state) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(a, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  bind(b, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  socklen_t len = sizeof(sa);
  getsockname(b, reinterpret_cast<sockaddr*>(&sa), &len);
  std::vector<char> buf(2048, 1);
  for (auto _ : state) {
    for (uint16_t i = 0; i < kMaxBurst; ++i) {
      sendto(a, buf.data(), kLen, 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    }
    for (uint16_t i = 0; i < kMaxBurst; ++i) {
      benchmark::DoNotOptimize(recv(b, buf.data(), buf.size(), 0));
    }
  }
  state.SetItemsProcessed(state.iterations() * kMaxBurst);
  close(a);
  close(b);
}
BENCHMARK(BM_LoopbackPlainSyscalls);

// The per-segment price of copying GRO segments into their own slots.
void BM_GroSegmentCopy(benchmark::State& state) {
  std::vector<uint8_t> src(65536, 7), dst(32 * 2304);
  for (auto _ : state) {
    for (int i = 0; i < 32; ++i) {
      std::memcpy(dst.data() + i * 2304 + 128, src.data() + i * kLen, kLen);
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_GroSegmentCopy);

}  // namespace
}  // namespace tern

BENCHMARK_MAIN();
