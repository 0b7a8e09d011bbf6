// SctpStack: the one owner of usrsctp's process-wide state (RFC 8261 SCTP over
// DTLS, AF_CONN mode, no usrsctp threads).
//
// usrsctp keeps everything global: one endpoint table, one timer queue, one
// output callback. This class is the only code that initialises it
// (usrsctp_init_nothreads: no timer thread, no receive threads, debug output
// off), sets the sysctls once, owns the AF_CONN address registry (sconn_addr is
// an opaque 64-bit id, never a pointer, so a late callback for a destroyed
// association finds nothing instead of a dangling object) and drives usrsctp's
// clock.
//
// Lifetime: acquire() returns a shared handle; the first one initialises
// usrsctp, the last one to go tries usrsctp_finish() (it can refuse while
// usrsctp still holds closed sockets; then the library stays initialised and
// the next acquire() reuses it). Every SctpAssociation holds a handle.
//
// Threading (docs/datachannels.md). usrsctp is internally locked, but its
// callbacks run on whichever thread made the call that triggered them: worker
// A running the shared timer queue retransmits worker B's packets through the
// output callback. We therefore serialise ALL usrsctp calls, node-wide, with
// one mutex (mutex()); the output callback only appends to the association's
// pending queue (under that mutex) and the owning worker drains it and runs
// its event handlers after releasing the mutex. The cost is one uncontended
// lock/unlock (15 ns, bench_sctp BM_StackLock) per call against 2.5-5 us of
// usrsctp work per message (bench_sctp BM_SctpMessages), and with several
// workers the SCTP work of the node is serialised on that lock (data channels
// are bounded by about one core in total: two threads moved 88k msg/s where
// one moved 78k). Media never touches it.
//
// Clock. usrsctp counts timer ticks (1 ms) in a process-global counter that
// only usrsctp_handle_timers(elapsed_ms) advances. advance(now) adds the whole
// milliseconds elapsed since the previous advance (any thread; a `now` older
// than the last one adds nothing) and runs every expired usrsctp timer of every
// association (usrsctp scans its whole timer list on each call: one call per
// millisecond node-wide however many associations ask). usrsctp also reads the
// real clock (gettimeofday) itself: RTT samples, cookie and PR-SCTP lifetimes,
// and, decisively, its T3-rtx handler resends only chunks sent at least one RTO
// ago BY THAT CLOCK. So `now` must follow real time: a clock running ahead makes
// usrsctp count timeouts without resending until it declares the association
// lost (seen in testing). The worker's monotonic `now` is right; tests use
// real time with short RTOs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/net/nanos.h"

namespace tern::sctp {

class SctpAssociation;

// Process-wide knobs, applied by the first acquire() (later calls ignore them).
struct SctpStackConfig {
  // usrsctp's per-association cap on queued chunks. Must hold a max-size
  // message in MTU-sized chunks plus what is in flight: 256 KiB / 1150 = 228.
  uint32_t max_chunks_on_queue = 8192;
};

class SctpStack {
 public:
  static absl::StatusOr<std::shared_ptr<SctpStack>> acquire(
      const SctpStackConfig& config = SctpStackConfig{});
  ~SctpStack();
  SctpStack(const SctpStack&) = delete;
  SctpStack& operator=(const SctpStack&) = delete;

  // Runs usrsctp's expired timers after moving its clock to `now`. Takes the lock.
  void advance(Nanos now);
  // How often an owner should call advance() while it has live associations:
  // usrsctp's own timer thread (which we do not run) ticks every 10 ms.
  static constexpr Nanos kTimerInterval = 10 * kMillisecond;

  // The node-wide usrsctp lock (see above). SctpAssociation holds it around
  // every usrsctp call; nothing else should need it.
  std::mutex& mutex() { return mu_; }
  // With mutex() held.
  void advance_locked(Nanos now);
  uint64_t register_association(SctpAssociation* a);
  void unregister_association(uint64_t id);
  size_t association_count() const { return assocs_.size(); }

 private:
  SctpStack() = default;
  static int output_callback(void* addr, void* buffer, size_t length, uint8_t tos, uint8_t set_df);

  std::mutex mu_;
  absl::flat_hash_map<uint64_t, SctpAssociation*> assocs_;  // under mu_
  uint64_t next_id_ = 1;                                    // under mu_; never reused
  Nanos clock_ = 0;                                         // under mu_
  bool clock_set_ = false;                                  // under mu_
};

}  // namespace tern::sctp
