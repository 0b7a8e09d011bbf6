// SpscRing (engine/worker/spsc_ring.h): the control<->worker command/event rings.
#include "engine/worker/spsc_ring.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace tern {
namespace {

TEST(SpscRing, FullAndEmpty) {
  SpscRing<uint64_t, 4> r;
  uint64_t v = 0;
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.pop(&v));
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(r.push(i));
  EXPECT_FALSE(r.push(99));  // full: refused, nothing overwritten
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(r.pop(&v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(r.pop(&v));
  EXPECT_TRUE(r.push(5));
  ASSERT_TRUE(r.pop(&v));
  EXPECT_EQ(v, 5u);
}

struct Item {
  uint64_t seq;
  uint64_t check;
};

TEST(SpscRing, TwoThreadsInOrderNothingLost) {
  static SpscRing<Item, 64> r;
  constexpr uint64_t kN = 500000;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::thread producer([&] {
    for (uint64_t i = 0; i < kN && std::chrono::steady_clock::now() < deadline;) {
      if (r.push(Item{i, i * 2654435761u})) ++i;
    }
  });
  uint64_t next = 0;
  Item it;
  while (next < kN && std::chrono::steady_clock::now() < deadline) {
    if (!r.pop(&it)) continue;
    ASSERT_EQ(it.seq, next);
    ASSERT_EQ(it.check, next * 2654435761u);
    ++next;
  }
  producer.join();
  EXPECT_EQ(next, kN);
}

}  // namespace
}  // namespace tern
