// SpscRing: a bounded lock-free single-producer single-consumer ring of
// trivially copyable items. The control thread talks to a worker through two
// of them (DESIGN.md "command/event rings"): commands in, events out. Neither
// side ever blocks or takes a lock; a full ring makes push() return false
// (the producer decides: the control plane reports "busy", a worker counts
// the lost event).
//
// Classic Lamport ring with acquire/release on the two indices, each on its
// own cache line; each side caches the other's index to touch the shared
// line only when the ring looks full/empty. Capacity is a power of two.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tern {

template <typename T, size_t N>
class SpscRing {
  static_assert(N >= 2 && (N & (N - 1)) == 0, "capacity must be a power of two");
  static_assert(std::is_trivially_copyable_v<T>, "items are copied through the ring");

 public:
  // Producer thread only.
  bool push(const T& item) {
    uint64_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_cache_ >= N) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (h - tail_cache_ >= N) return false;
    }
    slots_[h & (N - 1)] = item;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  // Consumer thread only.
  bool pop(T* out) {
    uint64_t t = tail_.load(std::memory_order_relaxed);
    if (t == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (t == head_cache_) return false;
    }
    *out = slots_[t & (N - 1)];
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }
  // Either thread; a snapshot.
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }
  static constexpr size_t capacity() { return N; }

 private:
  alignas(64) std::atomic<uint64_t> head_{0};  // written by the producer
  uint64_t tail_cache_ = 0;                    // producer's view of tail_
  alignas(64) std::atomic<uint64_t> tail_{0};  // written by the consumer
  uint64_t head_cache_ = 0;                    // consumer's view of head_
  alignas(64) std::array<T, N> slots_{};
};

}  // namespace tern
