// TimerWheel: per-worker timers on a hierarchical timing wheel.
//
// Resolution: one tick = `resolution` (1 ms by default). A timer never fires
// early: its deadline is rounded up to a tick, and advance(now) fires every
// timer whose tick is <= floor(now / resolution). So a timer fires between 0
// and one tick (plus the caller's loop latency) after its deadline.
//
// Layout: 6 levels of 64 slots. Level 0 holds timers due within 64 ticks, one
// slot per tick; level L holds timers due within 64^(L+1) ticks, one slot per
// 64^L ticks, and cascades a slot down to lower levels when the wheel reaches
// it. 64^6 ms is ~795 days; a deadline farther out is parked in the top level
// and re-filed each time it cascades, so any deadline works. Timers in one
// tick fire in the order they were filed ("deadline order-ish": exact across
// ticks, FIFO-ish within one).
//
// Time jumps: advance() does not walk empty ticks. Occupancy bitmaps give the
// next tick at which anything fires or cascades, and the wheel jumps there, so
// advancing by hours or days costs a handful of steps, not millions.
//
// Memory: every timer node comes from a pool preallocated by the constructor
// (`capacity` nodes) and a free list. schedule() never allocates; when the
// pool is exhausted it returns kInvalidTimer and counts `schedule_failures`.
// The pool never grows: size it at setup.
//
// Callbacks: a plain function pointer plus a context pointer and a 64-bit
// cookie, so a service files timers for its own objects without std::function
// (no allocation). A timer is removed from the wheel before its callback
// runs: a callback may schedule (including re-arming itself) or cancel any
// timer. A timer scheduled from inside advance() for a tick that advance()
// covers is deferred to the tick after it (it fires on a later advance(), not
// in the same one), so a callback re-arming itself "now" cannot livelock.
//
// Threading: one owner thread (the worker). Not thread-safe; the stats
// counters alone may be read from other threads.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/net/counters.h"
#include "engine/net/nanos.h"

namespace tern {

// Opaque handle: generation << 32 | (node index + 1). 0 is never valid, and a
// stale handle (timer fired or cancelled, node reused) is detected.
using TimerHandle = uint64_t;
inline constexpr TimerHandle kInvalidTimer = 0;

using TimerFn = void (*)(void* ctx, uint64_t cookie, Nanos now);

struct TimerWheelStats {
  Counter scheduled, fired, cancelled;
  Counter schedule_failures;  // pool exhausted: capacity too small
};

class TimerWheel {
 public:
  static constexpr int kLevels = 6;
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;

  // Allocates the node pool (setup only). `start` is the current time.
  explicit TimerWheel(uint32_t capacity = 4096, Nanos resolution = kMillisecond, Nanos start = 0);

  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Files a timer for `deadline`. kInvalidTimer if the pool is exhausted.
  TimerHandle schedule(Nanos deadline, TimerFn fn, void* ctx, uint64_t cookie);
  // Removes a pending timer. False if the handle is stale or invalid.
  bool cancel(TimerHandle h);
  // True if `h` is still pending.
  bool pending(TimerHandle h) const;

  // Fires every timer due at `now` (tick granularity). Returns how many fired.
  // `now` going backwards is ignored (the wheel never rewinds).
  uint32_t advance(Nanos now);

  // A lower bound on the earliest pending deadline (tick-rounded), kNever if
  // none: exact when the earliest timer is within 64 ticks, otherwise the time
  // of the next cascade, which is early but never late. Good for "how long may
  // I sleep".
  Nanos next_deadline() const;

  uint32_t size() const { return active_; }
  uint32_t capacity() const { return static_cast<uint32_t>(nodes_.size()); }
  Nanos resolution() const { return res_; }
  const TimerWheelStats& stats() const { return stats_; }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
  static constexpr uint16_t kFreeList = kLevels * kSlots;  // pseudo-list ids
  static constexpr uint16_t kFiring = kFreeList + 1;
  static constexpr uint16_t kNumLists = kFiring + 1;

  struct Node {
    uint64_t tick = 0;  // expiry tick
    TimerFn fn = nullptr;
    void* ctx = nullptr;
    uint64_t cookie = 0;
    uint32_t prev = kNil, next = kNil;
    uint32_t gen = 0;
    uint16_t list = kFreeList;  // which list the node is on
  };

  void link(uint32_t i, uint16_t list);
  void unlink(uint32_t i);
  void file(uint32_t i);  // places node i by its tick relative to cur_
  void cascade(int level, int slot);
  // Earliest tick >= cur_ at which a slot fires (level 0) or cascades, or
  // UINT64_MAX if the wheel is empty.
  uint64_t next_event_tick() const;
  uint32_t index_of(TimerHandle h) const;

  Nanos res_;
  uint64_t cur_;  // next tick to process; every tick < cur_ is done
  std::vector<Node> nodes_;
  uint32_t heads_[kNumLists];
  uint32_t tails_[kNumLists];
  uint64_t occupied_[kLevels]{};  // bit s set: level's slot s is non-empty
  uint32_t active_ = 0;
  bool in_advance_ = false;
  uint64_t advance_target_ = 0;  // during advance(): the last tick it processes
  TimerWheelStats stats_;
};

}  // namespace tern
