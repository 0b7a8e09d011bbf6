// Worker: one poll-mode thread per driver queue. Run to completion: every
// datagram the queue receives is classified (RFC 7983 first byte), handled
// and answered or freed on this thread, in bursts.
//
// Loop, per iteration:
//   rx_burst(q, 32) -> if packets: read the clock once, classify and dispatch
//   each, send all answers with one tx_burst and free all drops with one
//   free_bulk -> advance the timer wheel -> housekeeping every ~100 ms ->
//   if idle: spin with a pause instruction for idle_spin, then
//   driver.wait_rx(q, min(idle_max_sleep, next timer, next housekeeping)).
//
// The worker is the I/O shell around sans-IO protocol cores, so it is the one
// place in engine/ that reads a clock: CLOCK_MONOTONIC through clock_gettime,
// which the vDSO serves without a syscall.
//
// Threading: start() and stop() are called by the control thread. Everything
// else the worker owns (timers, services) is touched only by its thread once
// started; stats() may be read by anyone (relaxed-atomic counters, one writer).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "drivers/driver.h"
#include "engine/net/classify.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/stun/binding_service.h"
#include "engine/turn/turn_server.h"
#include "engine/worker/timer_wheel.h"

namespace tern {

struct WorkerConfig {
  uint16_t index = 0;  // worker index == driver queue it owns; thread "tern-w<index>"
  int cpu = -1;        // CPU to pin to; -1 = not pinned
  Nanos idle_spin = 50 * kMicrosecond;         // keep polling this long after the last packet
  Nanos idle_max_sleep = 1000 * kMicrosecond;  // longest single wait_rx; 0 = never sleep
  Nanos housekeeping_interval = 100 * kMillisecond;
  uint32_t timer_capacity = 4096;  // timer wheel node pool (fixed; see timer_wheel.h)
  StunServiceConfig stun;
  // TURN server (engine/turn) on this worker; nullopt = off. Its relayed
  // ports are opened with driver.open_port(index, ...) on the worker thread.
  std::optional<TurnServerConfig> turn;
};

inline constexpr size_t kNumPacketClasses = static_cast<size_t>(PacketClass::kRtcp) + 1;

// Written only by the worker thread; read by the control thread.
struct WorkerStats {
  Counter rx_packets, rx_bytes;
  Counter tx_packets;                   // answers handed to tx_burst and accepted by the driver
  Counter by_class[kNumPacketClasses];  // indexed by PacketClass
  DropCounters drops;                   // drops decided by the worker itself
  Counter loops;                        // loop iterations
  Counter busy_polls;                   // rx_burst calls that returned packets
  Counter idle_polls;                   // rx_burst calls that returned nothing
  Counter sleeps;                       // wait_rx calls
  Counter timers_fired;
  Counter housekeeping;
};

class Worker {
 public:
  Worker(PacketDriver& driver, WorkerConfig cfg);
  ~Worker();  // stops and joins if still running

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread and waits until it is named, pinned and has run
  // driver.thread_init(q). Errors: the CPU does not exist or is not allowed,
  // pinning failed, thread_init failed, the TURN config is invalid (no
  // thread is left running).
  absl::Status start();
  // Asks the loop to stop (it notices within one idle_max_sleep) and joins.
  void stop();
  bool running() const { return thread_.joinable(); }

  const WorkerConfig& config() const { return cfg_; }
  const WorkerStats& stats() const { return stats_; }
  const StunBindingService& stun() const { return stun_; }
  // Null when TURN is off. Its stats() may be read from any thread.
  const TurnServer* turn() const { return turn_.get(); }
  // The worker's timers. Only the worker thread may use it once started
  // (before start(), the setup thread may schedule).
  TimerWheel& timers() { return timers_; }

  // CLOCK_MONOTONIC in Nanos (vDSO, no syscall).
  static Nanos now();

 private:
  void run();
  void process_burst(Packet** pkts, uint16_t n, Nanos now);

  PacketDriver& driver_;
  const WorkerConfig cfg_;
  const uint16_t q_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  TimerWheel timers_;
  StunBindingService stun_;
  // Opens/closes TURN relayed ports through the driver (worker thread).
  struct RelayHooks : RelayPortHooks {
    PacketDriver* driver = nullptr;
    uint16_t q = 0;
    bool open_relay_port(const Endpoint& ep) override { return driver->open_port(q, ep).ok(); }
    void close_relay_port(const Endpoint& ep) override { driver->close_port(q, ep); }
  } relay_hooks_;
  std::unique_ptr<TurnServer> turn_;
  WorkerStats stats_;
};

// Checks that `cpu` exists and this process may run on it. The error names
// the CPU and lists the allowed ones.
absl::Status check_cpu_usable(int cpu);

}  // namespace tern
