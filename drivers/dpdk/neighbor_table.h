// NeighborTable: IPv4 (ARP) and IPv6 (ND) address -> MAC for one port, owned
// by one queue's worker thread (no lock; see dpdk_driver.h for how entries
// learned on one queue reach the others).
//
// Fixed capacity, allocated once at setup: open addressing with linear probing
// and backward-shift deletion, so the hot path (lookup on every tx, learning on
// rx) never allocates. When full, new entries are refused (counted by the
// caller as unresolved) rather than evicting live ones.
//
// Times are TSC cycles (rte_get_tsc_cycles()), read once per burst by the
// caller; the table itself never reads a clock.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/net/endpoint.h"
#include "engine/net/ethernet.h"

namespace tern {

struct NeighborEntry {
  enum State : uint8_t { kEmpty = 0, kIncomplete, kReachable };
  State state = kEmpty;
  Family family = Family::kNone;
  uint8_t ip[16]{};
  MacAddr mac;                // valid when kReachable
  uint64_t confirmed = 0;     // last time a reply / packet proved mac (kReachable)
  uint64_t last_request = 0;  // last ARP request / NS we sent for it
  uint64_t created = 0;
};

class NeighborTable {
 public:
  // capacity is rounded up to a power of two; the table keeps load <= 1/2.
  explicit NeighborTable(uint32_t capacity = 1024);

  NeighborEntry* find(Family f, const uint8_t* ip);
  // Finds, or creates as kIncomplete. nullptr when the table is full.
  NeighborEntry* find_or_create(Family f, const uint8_t* ip, uint64_t now);
  // Records ip -> mac as reachable at `now`. False when the table is full.
  bool learn(Family f, const uint8_t* ip, const MacAddr& mac, uint64_t now);
  // Refreshes an existing entry only (RFC 826: update if present, never add
  // on behalf of a frame not addressed to us).
  void refresh_if_present(Family f, const uint8_t* ip, const MacAddr& mac, uint64_t now);
  // Removes reachable entries not confirmed for `reachable_ttl` and incomplete
  // ones older than `incomplete_ttl`. Returns how many were removed.
  uint32_t age(uint64_t now, uint64_t reachable_ttl, uint64_t incomplete_ttl);

  uint32_t size() const { return size_; }
  uint32_t capacity() const { return mask_ + 1; }

 private:
  uint32_t home(Family f, const uint8_t* ip) const;
  uint32_t slot_of(Family f, const uint8_t* ip, bool* found) const;
  void erase_at(uint32_t i);

  std::vector<NeighborEntry> slots_;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
};

}  // namespace tern
