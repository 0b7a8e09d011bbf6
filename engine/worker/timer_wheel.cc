#include "engine/worker/timer_wheel.h"

#include <bit>

namespace tern {

namespace {

constexpr uint64_t level_mask(int level) { return (uint64_t{1} << (6 * level)) - 1; }

}  // namespace

TimerWheel::TimerWheel(uint32_t capacity, Nanos resolution, Nanos start)
    : res_(resolution > 0 ? resolution : kMillisecond),
      cur_(start > 0 ? static_cast<uint64_t>(start / res_) : 0),
      nodes_(capacity) {
  for (uint16_t l = 0; l < kNumLists; ++l) heads_[l] = tails_[l] = kNil;
  for (uint32_t i = 0; i < capacity; ++i) link(i, kFreeList);
}

void TimerWheel::link(uint32_t i, uint16_t list) {
  Node& n = nodes_[i];
  n.list = list;
  n.next = kNil;
  n.prev = tails_[list];
  if (n.prev == kNil) {
    heads_[list] = i;
  } else {
    nodes_[n.prev].next = i;
  }
  tails_[list] = i;
  if (list < kFreeList) occupied_[list / kSlots] |= uint64_t{1} << (list % kSlots);
}

void TimerWheel::unlink(uint32_t i) {
  Node& n = nodes_[i];
  uint16_t list = n.list;
  if (n.prev == kNil) {
    heads_[list] = n.next;
  } else {
    nodes_[n.prev].next = n.next;
  }
  if (n.next == kNil) {
    tails_[list] = n.prev;
  } else {
    nodes_[n.next].prev = n.prev;
  }
  n.prev = n.next = kNil;
  if (list < kFreeList && heads_[list] == kNil) {
    occupied_[list / kSlots] &= ~(uint64_t{1} << (list % kSlots));
  }
}

void TimerWheel::file(uint32_t i) {
  Node& n = nodes_[i];
  if (n.tick < cur_) n.tick = cur_;
  uint64_t delta = n.tick - cur_;
  uint64_t place = n.tick;
  int level = 0;
  if (delta >= kSlots) {
    level = (63 - std::countl_zero(delta)) / kSlotBits;
    if (level >= kLevels) {
      // Beyond the wheel's span: park in the farthest top-level slot; it is
      // re-filed by its real tick when that slot cascades.
      level = kLevels - 1;
      place = cur_ + level_mask(kLevels);
    }
  }
  int slot = static_cast<int>((place >> (kSlotBits * level)) & (kSlots - 1));
  link(i, static_cast<uint16_t>(level * kSlots + slot));
}

uint64_t TimerWheel::next_event_tick() const {
  uint64_t best = UINT64_MAX;
  if (occupied_[0] != 0) {
    int idx = static_cast<int>(cur_ & (kSlots - 1));
    best = cur_ + static_cast<uint64_t>(std::countr_zero(std::rotr(occupied_[0], idx)));
  }
  for (int level = 1; level < kLevels; ++level) {
    uint64_t occ = occupied_[level];
    if (occ == 0) continue;
    int shift = kSlotBits * level;
    uint64_t base = cur_ >> shift;
    int idx = static_cast<int>(base & (kSlots - 1));
    uint64_t d;
    if ((cur_ & level_mask(level)) == 0) {
      // cur_ sits on this level's boundary and has not been processed yet:
      // the slot at the current index cascades now.
      d = static_cast<uint64_t>(std::countr_zero(std::rotr(occ, idx)));
    } else {
      // The current index's boundary is past; its slot (if any) is a full turn away.
      d = static_cast<uint64_t>(std::countr_zero(std::rotr(occ, idx + 1))) + 1;
    }
    uint64_t t = (base + d) << shift;
    if (t < best) best = t;
  }
  return best;
}

TimerHandle TimerWheel::schedule(Nanos deadline, TimerFn fn, void* ctx, uint64_t cookie) {
  uint32_t i = heads_[kFreeList];
  if (i == kNil) {
    stats_.schedule_failures.add();
    return kInvalidTimer;
  }
  unlink(i);
  Node& n = nodes_[i];
  uint64_t tick = 0;
  if (deadline > 0) {
    tick = static_cast<uint64_t>(deadline / res_) + (deadline % res_ != 0 ? 1 : 0);
  }
  // Filed from a callback inside advance(): due at the earliest on the next
  // advance(), so a timer re-arming itself "now" cannot livelock the loop.
  if (in_advance_ && tick <= advance_target_) tick = advance_target_ + 1;
  n.tick = tick;
  n.fn = fn;
  n.ctx = ctx;
  n.cookie = cookie;
  file(i);
  ++active_;
  stats_.scheduled.add();
  return (uint64_t{n.gen} << 32) | (uint64_t{i} + 1);
}

uint32_t TimerWheel::index_of(TimerHandle h) const {
  uint64_t low = h & 0xffffffffu;
  if (low == 0 || low > nodes_.size()) return kNil;
  uint32_t i = static_cast<uint32_t>(low - 1);
  const Node& n = nodes_[i];
  if (n.gen != static_cast<uint32_t>(h >> 32) || n.list == kFreeList) return kNil;
  return i;
}

bool TimerWheel::pending(TimerHandle h) const { return index_of(h) != kNil; }

bool TimerWheel::cancel(TimerHandle h) {
  uint32_t i = index_of(h);
  if (i == kNil) return false;
  unlink(i);
  ++nodes_[i].gen;
  link(i, kFreeList);
  --active_;
  stats_.cancelled.add();
  return true;
}

void TimerWheel::cascade(int level, int slot) {
  uint16_t list = static_cast<uint16_t>(level * kSlots + slot);
  for (uint32_t i = heads_[list]; i != kNil; i = heads_[list]) {
    unlink(i);
    file(i);
  }
}

uint32_t TimerWheel::advance(Nanos now) {
  if (now < 0) return 0;
  uint64_t target = static_cast<uint64_t>(now / res_);
  if (target < cur_) return 0;  // time went backwards or same tick already done
  uint32_t fired = 0;
  in_advance_ = true;
  advance_target_ = target;
  for (;;) {
    uint64_t t = next_event_tick();
    if (t == UINT64_MAX || t > target) break;
    cur_ = t;
    // Highest level first: what comes down may land in a lower level's slot
    // that cascades at this same tick.
    for (int level = kLevels - 1; level >= 1; --level) {
      if ((t & level_mask(level)) == 0) {
        cascade(level, static_cast<int>((t >> (kSlotBits * level)) & (kSlots - 1)));
      }
    }
    // Move the due slot to the firing list, so callbacks may cancel or file
    // timers (even into this slot) while we walk it.
    uint16_t due = static_cast<uint16_t>(t & (kSlots - 1));
    for (uint32_t i = heads_[due]; i != kNil; i = heads_[due]) {
      unlink(i);
      link(i, kFiring);
    }
    cur_ = t + 1;
    for (uint32_t i = heads_[kFiring]; i != kNil; i = heads_[kFiring]) {
      Node& n = nodes_[i];
      TimerFn fn = n.fn;
      void* ctx = n.ctx;
      uint64_t cookie = n.cookie;
      unlink(i);
      ++n.gen;
      link(i, kFreeList);
      --active_;
      stats_.fired.add();
      ++fired;
      fn(ctx, cookie, now);
    }
  }
  if (cur_ <= target) cur_ = target + 1;
  in_advance_ = false;
  return fired;
}

Nanos TimerWheel::next_deadline() const {
  uint64_t t = next_event_tick();
  if (t == UINT64_MAX || t > static_cast<uint64_t>(kNever / res_)) return kNever;
  return static_cast<Nanos>(t) * res_;
}

}  // namespace tern
