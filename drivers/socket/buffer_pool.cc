#include "drivers/socket/buffer_pool.h"

#include <new>

namespace tern {
namespace {
constexpr size_t kAlign = 64;
constexpr size_t round_up(size_t v) { return (v + kAlign - 1) & ~(kAlign - 1); }
}  // namespace

BufferPool::BufferPool(uint16_t queue, uint32_t count, uint32_t data_room)
    : queue_(queue), count_(count), data_room_(data_room) {
  const size_t header = round_up(sizeof(SlotHeader));
  const uint32_t capacity = kDefaultHeadroom + data_room;
  stride_ = round_up(header + capacity);
  // Default-initialised (not zeroed): pages are touched only when used.
  raw_.reset(new uint8_t[size_t{count} * stride_ + kAlign]);
  mem_ = reinterpret_cast<uint8_t*>(round_up(reinterpret_cast<uintptr_t>(raw_.get())));
  free_.reset(new Packet*[count]);
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* slot = mem_ + size_t{i} * stride_;
    auto* h = new (slot) SlotHeader();
    h->pkt.buf = slot + header;
    h->pkt.capacity = capacity;
    h->pkt.handle = slot;
    h->pkt.queue = queue;
    h->pkt.off = kDefaultHeadroom;
    // Stack order: slot 0 on top, so a lightly loaded queue stays in few pages.
    free_[count - 1 - i] = &h->pkt;
  }
  top_ = count;
}

void BufferPool::push_foreign(Packet* p) {
  auto* h = reinterpret_cast<SlotHeader*>(p);
  SlotHeader* head = foreign_.load(std::memory_order_relaxed);
  do {
    h->next.store(head, std::memory_order_relaxed);
  } while (!foreign_.compare_exchange_weak(head, h, std::memory_order_release,
                                           std::memory_order_relaxed));
}

bool BufferPool::reclaim_foreign() {
  if (foreign_.load(std::memory_order_relaxed) == nullptr) return false;
  SlotHeader* h = foreign_.exchange(nullptr, std::memory_order_acquire);
  bool any = false;
  while (h != nullptr) {
    SlotHeader* next = h->next.load(std::memory_order_relaxed);
    free_[top_++] = &h->pkt;
    h = next;
    any = true;
  }
  return any;
}

}  // namespace tern
