#include "drivers/dpdk/neighbor_table.h"

#include <cstring>

namespace tern {
namespace {

size_t ip_len(Family f) { return f == Family::kIpv4 ? 4 : 16; }

}  // namespace

NeighborTable::NeighborTable(uint32_t capacity) {
  uint32_t n = 16;
  while (n < capacity * 2) n <<= 1;  // load factor <= 1/2 keeps probe runs short
  slots_.resize(n);
  mask_ = n - 1;
}

uint32_t NeighborTable::home(Family f, const uint8_t* ip) const {
  uint64_t a = 0, b = 0;
  if (f == Family::kIpv4) {
    std::memcpy(&a, ip, 4);
  } else {
    std::memcpy(&a, ip, 8);
    std::memcpy(&b, ip + 8, 8);
  }
  uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ uint64_t(f)) * 0xff51afd7ed558ccdull;
  return uint32_t(h >> 32) & mask_;
}

// The slot holding (f, ip) (*found = true), or the empty slot ending its probe run.
uint32_t NeighborTable::slot_of(Family f, const uint8_t* ip, bool* found) const {
  uint32_t i = home(f, ip);
  const size_t n = ip_len(f);
  for (;;) {
    const NeighborEntry& e = slots_[i];
    if (e.state == NeighborEntry::kEmpty) {
      *found = false;
      return i;
    }
    if (e.family == f && std::memcmp(e.ip, ip, n) == 0) {
      *found = true;
      return i;
    }
    i = (i + 1) & mask_;  // terminates: load <= 1/2 guarantees an empty slot
  }
}

NeighborEntry* NeighborTable::find(Family f, const uint8_t* ip) {
  bool found = false;
  uint32_t i = slot_of(f, ip, &found);
  return found ? &slots_[i] : nullptr;
}

NeighborEntry* NeighborTable::find_or_create(Family f, const uint8_t* ip, uint64_t now) {
  bool found = false;
  uint32_t i = slot_of(f, ip, &found);
  if (found) return &slots_[i];
  if ((size_ + 1) * 2 > capacity()) return nullptr;
  NeighborEntry& e = slots_[i];
  e = NeighborEntry{};
  e.state = NeighborEntry::kIncomplete;
  e.family = f;
  std::memcpy(e.ip, ip, ip_len(f));
  e.created = now;
  ++size_;
  return &e;
}

bool NeighborTable::learn(Family f, const uint8_t* ip, const MacAddr& mac, uint64_t now) {
  NeighborEntry* e = find_or_create(f, ip, now);
  if (!e) return false;
  e->state = NeighborEntry::kReachable;
  e->mac = mac;
  e->confirmed = now;
  return true;
}

void NeighborTable::refresh_if_present(Family f, const uint8_t* ip, const MacAddr& mac,
                                       uint64_t now) {
  NeighborEntry* e = find(f, ip);
  if (!e) return;
  e->state = NeighborEntry::kReachable;
  e->mac = mac;
  e->confirmed = now;
}

void NeighborTable::erase_at(uint32_t i) {
  // Backward-shift deletion: move later members of the probe run into the
  // hole when their home slot does not lie cyclically in (hole, j].
  slots_[i].state = NeighborEntry::kEmpty;
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    NeighborEntry& e = slots_[j];
    if (e.state == NeighborEntry::kEmpty) break;
    uint32_t k = home(e.family, e.ip);
    bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    slots_[i] = e;
    e.state = NeighborEntry::kEmpty;
    i = j;
  }
  --size_;
}

uint32_t NeighborTable::age(uint64_t now, uint64_t reachable_ttl, uint64_t incomplete_ttl) {
  uint32_t removed = 0;
  for (uint32_t i = 0; i <= mask_;) {
    const NeighborEntry& e = slots_[i];
    // Timestamps may come from another queue's clock read, slightly ahead of ours.
    auto older = [now](uint64_t t, uint64_t ttl) { return now > t && now - t > ttl; };
    bool expired = (e.state == NeighborEntry::kReachable && older(e.confirmed, reachable_ttl)) ||
                   (e.state == NeighborEntry::kIncomplete && older(e.created, incomplete_ttl));
    if (expired) {
      erase_at(i);  // a later entry may have shifted into slot i: look at it again
      ++removed;
      continue;
    }
    ++i;
  }
  return removed;
}

}  // namespace tern
