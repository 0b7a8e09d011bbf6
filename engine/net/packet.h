// Packet: a view over one driver-owned buffer, and PacketBatch, a burst of them.
//
// Zero copy: a driver hands the engine buffers it owns (an rte_mbuf under DPDK,
// a pooled slot under kernel sockets). The Packet descriptor itself lives inside
// that buffer (the mbuf private area, or the pool slot's header), so receiving,
// rewriting and sending a packet never allocates.
//
// Every driver delivers UDP datagrams: data() is the UDP payload, and `remote`
// / `local` carry the 5-tuple. Lower layers (Ethernet, ARP, IP, ICMP) are the
// driver's business; the engine only ever sees and writes UDP payloads.
//
// Ownership: a Packet belongs to exactly one worker at a time (the one whose
// burst holds it). Only that worker's thread reads or writes any field. The
// driver writes `buf`, `capacity`, `handle` and `queue` at allocation; no one
// else may write them.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/net/checksum.h"
#include "engine/net/endpoint.h"

namespace tern {

inline constexpr uint16_t kMaxBurst = 32;
// Room kept in front of the payload for headers a driver or relay prepends
// (Ethernet 14 + IPv6 40 + UDP 8 + TURN ChannelData 4, with slack).
inline constexpr uint16_t kDefaultHeadroom = 128;

struct Packet {
  // --- buffer geometry (driver at alloc; owning worker afterwards may move off/len) ---
  uint8_t* buf = nullptr;  // start of the buffer memory
  uint32_t capacity = 0;   // bytes available from buf
  uint32_t off = 0;        // offset of the first payload byte; == headroom
  uint32_t len = 0;        // payload bytes
  void* handle = nullptr;  // driver cookie (rte_mbuf*, pool slot); driver-only
  uint16_t queue = 0;      // driver queue (== worker index) that owns it

  // --- UDP 5-tuple ---
  // On receive: remote = sender, local = our address and port it arrived on.
  // On send: remote = destination, local = source address and port.
  // Answering in place therefore needs no swap.
  Endpoint remote;
  Endpoint local;

  // --- UDP checksum, for drivers that compute it in software ---
  // rx_sum: the one's-complement sum (checksum.h partial) the payload must
  // have according to the checksum it arrived with; kNoSum if unknown (kernel
  // sockets, IPv4 without checksum). rx_verified: false if that was not
  // checked yet (RxVerified::defer_l4); the worker checks it before anything
  // but the TURN relay reads the payload. Both: driver at receive; the worker
  // sets rx_verified once it has checked.
  // tx_sum: the payload's sum for the transmit side, written only by code
  // that changed the payload by whole headers whose sum it accounted for (the
  // TURN relay); the driver then fills the UDP checksum without reading the
  // payload. Drivers reset it to kNoSum at every receive and allocation.
  uint32_t rx_sum = kNoSum;
  uint32_t tx_sum = kNoSum;
  bool rx_verified = true;

  // A fresh receive (or allocation): what the driver knows of the checksum.
  void set_rx_checksum(uint32_t claimed = kNoSum, bool verified = true) {
    rx_sum = claimed;
    rx_verified = verified;
    tx_sum = kNoSum;
  }

  uint8_t* data() { return buf + off; }
  const uint8_t* data() const { return buf + off; }
  uint32_t headroom() const { return off; }
  uint32_t tailroom() const { return capacity - off - len; }

  // Grows the payload at the front by n bytes; nullptr if headroom is short.
  uint8_t* prepend(uint32_t n) {
    if (n > off) return nullptr;
    off -= n;
    len += n;
    return data();
  }
  // Grows the payload at the back by n bytes; returns the first new byte.
  uint8_t* append(uint32_t n) {
    if (n > tailroom()) return nullptr;
    uint8_t* p = data() + len;
    len += n;
    return p;
  }
  // Removes n bytes from the front; false if the payload is shorter.
  bool adj(uint32_t n) {
    if (n > len) return false;
    off += n;
    len -= n;
    return true;
  }
  // Sets the payload length; false if it would not fit the buffer.
  bool set_len(uint32_t n) {
    if (off + n > capacity) return false;
    len = n;
    return true;
  }
  // Resets to an empty payload with the given headroom.
  void reset(uint32_t headroom = kDefaultHeadroom) {
    off = headroom < capacity ? headroom : capacity;
    len = 0;
  }
};

// A burst of packets. Fixed size, lives on the worker's stack or in its state.
struct PacketBatch {
  Packet* pkts[kMaxBurst];
  uint16_t count = 0;

  bool full() const { return count == kMaxBurst; }
  bool empty() const { return count == 0; }
  void push(Packet* p) { pkts[count++] = p; }
  Packet* operator[](uint16_t i) const { return pkts[i]; }
  void clear() { count = 0; }
};

}  // namespace tern
