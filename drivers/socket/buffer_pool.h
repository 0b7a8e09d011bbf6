// BufferPool: the socket driver's per-queue packet buffers.
//
// One contiguous allocation of `count` fixed-size slots, made once at startup.
// Each slot is [SlotHeader (Packet descriptor + link) | headroom | data room],
// 64-byte aligned, so a Packet and its bytes share the slot and receiving,
// rewriting and sending never allocates. Free slots sit on a LIFO stack (the
// most recently freed slot is the warmest in cache).
//
// Threading: the stack belongs to the queue's worker thread (no lock). A packet
// freed on another queue's thread (after a cross-worker hand-off) is pushed onto
// `foreign_`, a lock-free intrusive list; the owner takes the whole list back
// with one exchange when its stack runs dry. Single consumer + whole-list
// exchange means no ABA problem.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/net/packet.h"

namespace tern {

class BufferPool {
 public:
  // data_room: payload bytes after kDefaultHeadroom.
  BufferPool(uint16_t queue, uint32_t count, uint32_t data_room);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  uint32_t size() const { return count_; }
  // Slots on the owner's stack (foreign frees not yet reclaimed are not counted).
  uint32_t available() const { return top_; }
  uint32_t data_room() const { return data_room_; }
  uint16_t queue() const { return queue_; }

  // Owner thread only. Returns how many were allocated (payload empty,
  // kDefaultHeadroom in front, endpoints cleared).
  uint16_t alloc_bulk(Packet** pkts, uint16_t n) {
    if (top_ < n) reclaim_foreign();
    const uint16_t k = top_ < n ? static_cast<uint16_t>(top_) : n;
    for (uint16_t i = 0; i < k; ++i) {
      Packet* p = free_[--top_];
      p->off = kDefaultHeadroom;
      p->len = 0;
      p->remote = Endpoint{};
      p->local = Endpoint{};
      p->set_rx_checksum();
      pkts[i] = p;
    }
    return k;
  }
  // Raw pop for the driver's receive path: geometry untouched, caller fills all.
  Packet* pop() {
    if (top_ == 0 && !reclaim_foreign()) return nullptr;
    return free_[--top_];
  }
  // Owner thread only, for packets of this pool.
  void push(Packet* p) {
    assert(top_ < count_ && owns(p));  // a double free would overrun the stack
    free_[top_++] = p;
  }
  // Any thread: frees a packet of this pool from a thread that does not own it.
  void push_foreign(Packet* p);

  bool owns(const Packet* p) const {
    const auto* b = reinterpret_cast<const uint8_t*>(p);
    return b >= mem_ && b < mem_ + size_t{count_} * stride_;
  }

 private:
  struct SlotHeader {
    Packet pkt;  // must stay first: a slot's address is its Packet's address
    std::atomic<SlotHeader*> next{nullptr};  // foreign-free list link
  };
  static_assert(offsetof(SlotHeader, pkt) == 0);

  bool reclaim_foreign();

  const uint16_t queue_;
  const uint32_t count_;
  const uint32_t data_room_;
  size_t stride_ = 0;
  std::unique_ptr<uint8_t[]> raw_;  // owning allocation; mem_ is its 64-byte aligned start
  uint8_t* mem_ = nullptr;
  std::unique_ptr<Packet*[]> free_;
  uint32_t top_ = 0;
  std::atomic<SlotHeader*> foreign_{nullptr};
};

}  // namespace tern
