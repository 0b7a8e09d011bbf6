#include "engine/worker/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace tern {
namespace {

struct Fired {
  uint64_t cookie;
  Nanos now;
};

struct Recorder {
  std::vector<Fired> fired;
  static void fn(void* ctx, uint64_t cookie, Nanos now) {
    static_cast<Recorder*>(ctx)->fired.push_back({cookie, now});
  }
};

std::vector<uint64_t> cookies(const Recorder& r) {
  std::vector<uint64_t> out;
  for (const auto& f : r.fired) out.push_back(f.cookie);
  return out;
}

TEST(TimerWheel, FiresInDeadlineOrderAndNeverEarly) {
  TimerWheel w(64);
  Recorder r;
  w.schedule(30 * kMillisecond, Recorder::fn, &r, 3);
  w.schedule(10 * kMillisecond, Recorder::fn, &r, 1);
  w.schedule(20 * kMillisecond + 1, Recorder::fn, &r, 2);  // rounds up to 21 ms
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.advance(9 * kMillisecond), 0u);
  EXPECT_EQ(w.advance(10 * kMillisecond), 1u);
  EXPECT_EQ(w.advance(20 * kMillisecond + 500 * kMicrosecond), 0u);
  EXPECT_EQ(w.advance(21 * kMillisecond), 1u);
  EXPECT_EQ(w.advance(100 * kMillisecond), 1u);
  EXPECT_EQ(cookies(r), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.next_deadline(), kNever);
}

TEST(TimerWheel, OneAdvanceFiresManyInOrderAcrossLevels) {
  TimerWheel w(1024);
  Recorder r;
  std::vector<uint64_t> ms = {5000, 1, 63, 64, 65, 4095, 4096, 4097, 300000, 70, 2};
  for (uint64_t m : ms) w.schedule(static_cast<Nanos>(m) * kMillisecond, Recorder::fn, &r, m);
  EXPECT_EQ(w.advance(400 * kSecond), ms.size());
  std::sort(ms.begin(), ms.end());
  EXPECT_EQ(cookies(r), ms);
}

TEST(TimerWheel, Cancel) {
  TimerWheel w(8);
  Recorder r;
  TimerHandle a = w.schedule(5 * kMillisecond, Recorder::fn, &r, 1);
  TimerHandle b = w.schedule(5 * kMillisecond, Recorder::fn, &r, 2);
  TimerHandle far = w.schedule(3 * 3600 * kSecond, Recorder::fn, &r, 3);
  EXPECT_TRUE(w.pending(a));
  EXPECT_TRUE(w.cancel(a));
  EXPECT_FALSE(w.cancel(a));  // already cancelled
  EXPECT_FALSE(w.pending(a));
  EXPECT_TRUE(w.cancel(far));
  EXPECT_FALSE(w.cancel(kInvalidTimer));
  EXPECT_FALSE(w.cancel(0xdeadbeef00000099ull));
  w.advance(4 * 3600 * kSecond);
  EXPECT_EQ(cookies(r), (std::vector<uint64_t>{2}));
  EXPECT_FALSE(w.cancel(b));  // fired: stale
  EXPECT_EQ(w.stats().cancelled.get(), 2u);
  EXPECT_EQ(w.stats().fired.get(), 1u);
}

TEST(TimerWheel, StaleHandleDoesNotCancelReusedNode) {
  TimerWheel w(1);
  Recorder r;
  TimerHandle a = w.schedule(1 * kMillisecond, Recorder::fn, &r, 1);
  w.advance(1 * kMillisecond);
  TimerHandle b = w.schedule(5 * kMillisecond, Recorder::fn, &r, 2);  // reuses the node
  EXPECT_NE(a, b);
  EXPECT_FALSE(w.cancel(a));
  EXPECT_TRUE(w.pending(b));
}

// A periodic timer: the callback re-arms itself.
struct Periodic {
  TimerWheel* w;
  Nanos period;
  int count = 0;
  TimerHandle h = kInvalidTimer;
  static void fn(void* ctx, uint64_t, Nanos now) {
    auto* p = static_cast<Periodic*>(ctx);
    ++p->count;
    p->h = p->w->schedule(now + p->period, fn, p, 0);
  }
};

TEST(TimerWheel, RescheduleFromCallback) {
  TimerWheel w(4);
  Periodic p{&w, 10 * kMillisecond};
  p.h = w.schedule(10 * kMillisecond, Periodic::fn, &p, 0);
  for (Nanos t = 0; t <= 1000 * kMillisecond; t += kMillisecond) w.advance(t);
  EXPECT_EQ(p.count, 100);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_TRUE(w.pending(p.h));
}

// A callback that re-arms for a deadline already reached must not livelock:
// it fires again on the first advance() that reaches the next tick.
struct Immediate {
  TimerWheel* w;
  int count = 0;
  static void fn(void* ctx, uint64_t, Nanos now) {
    auto* p = static_cast<Immediate*>(ctx);
    ++p->count;
    p->w->schedule(now - kSecond, fn, p, 0);
  }
};

TEST(TimerWheel, RearmInThePastFiresOnNextAdvance) {
  TimerWheel w(4);
  Immediate im{&w};
  w.schedule(kMillisecond, Immediate::fn, &im, 0);
  EXPECT_EQ(w.advance(10 * kSecond), 1u);
  EXPECT_EQ(im.count, 1);
  EXPECT_EQ(w.advance(10 * kSecond), 0u);  // same tick: already done
  EXPECT_EQ(w.advance(10 * kSecond + kMillisecond), 1u);
  EXPECT_EQ(im.count, 2);
}

struct CancelOther {
  TimerWheel* w;
  TimerHandle victim;
  int count = 0;
  static void fn(void* ctx, uint64_t, Nanos) {
    auto* p = static_cast<CancelOther*>(ctx);
    ++p->count;
    p->w->cancel(p->victim);
  }
};

TEST(TimerWheel, CallbackCancelsPeerInSameTick) {
  TimerWheel w(4);
  CancelOther c{&w};
  w.schedule(5 * kMillisecond, CancelOther::fn, &c, 0);
  c.victim = w.schedule(5 * kMillisecond, CancelOther::fn, &c, 1);
  EXPECT_EQ(w.advance(5 * kMillisecond), 1u);
  EXPECT_EQ(c.count, 1);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, FarFutureHoursAndBeyondTheWheelSpan) {
  TimerWheel w(8, kMillisecond, 1000 * kSecond);
  Recorder r;
  const Nanos start = 1000 * kSecond;
  w.schedule(start + 5 * 3600 * kSecond, Recorder::fn, &r, 1);        // 5 h
  w.schedule(start + 1000LL * 86400 * kSecond, Recorder::fn, &r, 2);  // 1000 days > span
  EXPECT_EQ(w.advance(start + 5 * 3600 * kSecond - kMillisecond), 0u);
  EXPECT_EQ(w.advance(start + 5 * 3600 * kSecond), 1u);
  EXPECT_EQ(w.advance(start + 999LL * 86400 * kSecond), 0u);
  EXPECT_EQ(w.advance(start + 1000LL * 86400 * kSecond - 1), 0u);
  EXPECT_EQ(w.advance(start + 1000LL * 86400 * kSecond), 1u);
  EXPECT_EQ(cookies(r), (std::vector<uint64_t>{1, 2}));
}

TEST(TimerWheel, NextDeadlineIsLowerBoundAndExactWhenNear) {
  TimerWheel w(8);
  Recorder r;
  EXPECT_EQ(w.next_deadline(), kNever);
  w.schedule(3600 * kSecond, Recorder::fn, &r, 1);
  Nanos nd = w.next_deadline();
  EXPECT_LE(nd, 3600 * kSecond);
  EXPECT_GT(nd, 0);
  w.schedule(7 * kMillisecond, Recorder::fn, &r, 2);
  EXPECT_EQ(w.next_deadline(), 7 * kMillisecond);
  w.advance(7 * kMillisecond);
  // Walking next_deadline() reaches the hour timer in a few steps, never late.
  int steps = 0;
  while (r.fired.size() < 2 && steps < 100) {
    Nanos d = w.next_deadline();
    ASSERT_LE(d, 3600 * kSecond);
    w.advance(d);
    ++steps;
  }
  EXPECT_EQ(cookies(r), (std::vector<uint64_t>{2, 1}));
  EXPECT_LT(steps, 10);
}

TEST(TimerWheel, TimeJumpsForwardAndBackward) {
  TimerWheel w(16);
  Recorder r;
  w.schedule(50 * kMillisecond, Recorder::fn, &r, 1);
  w.schedule(2 * kSecond, Recorder::fn, &r, 2);
  EXPECT_EQ(w.advance(10 * kSecond), 2u);  // jump past both: both fire, in order
  EXPECT_EQ(cookies(r), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(w.advance(5 * kSecond), 0u);  // backwards: ignored
  // A deadline in the past fires on the next advance.
  w.schedule(1 * kSecond, Recorder::fn, &r, 3);
  EXPECT_EQ(w.advance(5 * kSecond), 0u);  // still behind the wheel's time
  EXPECT_EQ(w.advance(10 * kSecond + kMillisecond), 1u);
}

TEST(TimerWheel, ManyTimersRandomDeadlines) {
  constexpr uint32_t kN = 20000;
  TimerWheel w(kN);
  std::mt19937_64 rng(42);
  std::vector<Nanos> deadlines(kN);
  struct Check {
    std::vector<Nanos>* deadlines;
    Nanos last_tick = 0;
    uint32_t count = 0;
    bool early = false, disorder = false;
    static void fn(void* ctx, uint64_t cookie, Nanos now) {
      auto* c = static_cast<Check*>(ctx);
      Nanos d = (*c->deadlines)[cookie];
      if (d > now) c->early = true;
      Nanos tick = (d + kMillisecond - 1) / kMillisecond;
      if (tick < c->last_tick) c->disorder = true;
      c->last_tick = tick;
      ++c->count;
    }
  } check{&deadlines};
  std::vector<TimerHandle> handles(kN);
  for (uint32_t i = 0; i < kN; ++i) {
    deadlines[i] = static_cast<Nanos>(rng() % (600ull * kSecond));  // up to 10 min
    handles[i] = w.schedule(deadlines[i], Check::fn, &check, i);
    ASSERT_NE(handles[i], kInvalidTimer);
  }
  uint32_t cancelled = 0;
  for (uint32_t i = 0; i < kN; i += 7) cancelled += w.cancel(handles[i]) ? 1 : 0;
  // Advance in irregular steps up to 11 minutes.
  Nanos t = 0;
  while (t < 660 * kSecond) {
    t += static_cast<Nanos>(rng() % (3 * kSecond));
    w.advance(t);
  }
  EXPECT_FALSE(check.early);
  EXPECT_FALSE(check.disorder);
  EXPECT_EQ(check.count + cancelled, kN);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, CapacityLimitIsCountedNotAllocated) {
  TimerWheel w(3);
  Recorder r;
  TimerHandle h[3];
  for (int i = 0; i < 3; ++i) h[i] = w.schedule(kMillisecond, Recorder::fn, &r, i);
  EXPECT_EQ(w.schedule(kMillisecond, Recorder::fn, &r, 9), kInvalidTimer);
  EXPECT_EQ(w.stats().schedule_failures.get(), 1u);
  EXPECT_EQ(w.size(), 3u);
  w.cancel(h[1]);
  EXPECT_NE(w.schedule(kMillisecond, Recorder::fn, &r, 10), kInvalidTimer);
  EXPECT_EQ(w.capacity(), 3u);
  w.advance(kMillisecond);
  EXPECT_EQ(cookies(r), (std::vector<uint64_t>{0, 2, 10}));
}

}  // namespace
}  // namespace tern
