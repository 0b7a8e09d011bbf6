// Data channels through one association pair in one thread (both ends run on
// this worker: the numbers are the cost of sending AND receiving), lossless
// in-memory pipe, reliable ordered binary channel. Plus the cost of the
// node-wide usrsctp lock (sctp_stack.h) uncontended and with two threads.
//
//   build-sctp/bench/bench_sctp --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/sctp/sctp_association.h"

namespace {

using namespace tern;
using namespace tern::sctp;

Nanos mono_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Counter : SctpAssociationHandler {
  uint64_t messages = 0, bytes = 0;
  bool connected = false;
  int opened = 0;
  void on_connected() override { connected = true; }
  void on_channel_open(const DataChannelInfo&) override { ++opened; }
  void on_message(uint16_t, uint32_t, const uint8_t*, size_t n) override {
    ++messages;
    bytes += n;
  }
  void on_channel_closed(uint16_t) override {}
};

struct Pair {
  std::shared_ptr<SctpStack> stack;
  Counter hc, hs;
  std::unique_ptr<SctpAssociation> client, server;
  std::deque<std::vector<uint8_t>> to_server, to_client;
  uint16_t stream = 0;
  bool ok = false;

  Pair() {
    stack = *SctpStack::acquire();
    SctpAssociationConfig c;
    c.remote_max_message_size = 262144;
    c.dtls_client = true;
    SctpAssociationConfig s = c;
    s.dtls_client = false;
    client = std::move(*SctpAssociation::create(
        stack, c, [this](const uint8_t* d, size_t n) { to_server.emplace_back(d, d + n); }, &hc));
    server = std::move(*SctpAssociation::create(
        stack, s, [this](const uint8_t* d, size_t n) { to_client.emplace_back(d, d + n); }, &hs));
    client->start(mono_now()).IgnoreError();
    server->start(mono_now()).IgnoreError();
    pump_until([&] { return hc.connected && hs.connected; });
    auto sid = client->open_channel(DataChannelParams{.label = "bench"}, mono_now());
    if (!sid.ok()) return;
    stream = *sid;
    ok = pump_until([&] { return hs.opened == 1; });
  }

  void pump() {
    while (!to_server.empty() || !to_client.empty()) {
      const Nanos now = mono_now();
      if (!to_server.empty()) {
        auto p = std::move(to_server.front());
        to_server.pop_front();
        server->receive(p.data(), p.size(), now);
      }
      if (!to_client.empty()) {
        auto p = std::move(to_client.front());
        to_client.pop_front();
        client->receive(p.data(), p.size(), now);
      }
    }
    const Nanos now = mono_now();
    if (client->next_deadline() <= now) client->on_timer(now);
    if (server->next_deadline() <= now) server->on_timer(now);
  }
  template <typename F>
  bool pump_until(F pred) {
    const Nanos end = mono_now() + 10 * kSecond;
    while (!pred() && mono_now() < end) pump();
    return pred();
  }
};

void BM_SctpMessages(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  Pair p;
  if (!p.ok) {
    state.SkipWithError("association did not come up");
    return;
  }
  std::vector<uint8_t> msg(size, 0xab);
  uint64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      auto st = p.client->send(p.stream, MessageKind::kBinary, msg.data(), msg.size(), mono_now());
      if (st.ok()) break;
      p.pump();  // send buffer full: let the receiver drain it
    }
    ++sent;
    if (sent % 16 == 0) p.pump();
  }
  if (!p.pump_until([&] { return p.hs.messages == sent; })) state.SkipWithError("messages lost");
  state.SetItemsProcessed(static_cast<int64_t>(sent));
  state.SetBytesProcessed(static_cast<int64_t>(sent * size));
}
BENCHMARK(BM_SctpMessages)->Arg(100)->Arg(1024)->Arg(65536)->Unit(benchmark::kMicrosecond);

// The node-wide lock every usrsctp call takes: the uncontended cost.
void BM_StackLock(benchmark::State& state) {
  auto stack = *SctpStack::acquire();
  for (auto _ : state) {
    std::lock_guard<std::mutex> g(stack->mutex());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StackLock);

// Two "workers", each with its own association pair, contending for the lock.
void BM_SctpMessagesThreads(benchmark::State& state) {
  Pair p;
  if (!p.ok) {
    state.SkipWithError("association did not come up");
    return;
  }
  std::vector<uint8_t> msg(1024, 0xcd);
  uint64_t sent = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      if (p.client->send(p.stream, MessageKind::kBinary, msg.data(), msg.size(), mono_now()).ok()) {
        break;
      }
      p.pump();
    }
    ++sent;
    if (sent % 16 == 0) p.pump();
  }
  p.pump_until([&] { return p.hs.messages == sent; });
  state.SetItemsProcessed(static_cast<int64_t>(sent));
  state.SetBytesProcessed(static_cast<int64_t>(sent * msg.size()));
}
BENCHMARK(BM_SctpMessagesThreads)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
