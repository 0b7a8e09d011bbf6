// PacketDriver: the one small interface between workers and packet I/O.
//
// A driver owns N queues; worker i uses queue i and nothing else, so every
// queue method below is called from exactly one thread (that worker's) and
// needs no lock. Every call works on a burst: the cost of a virtual call is
// paid once per up to kMaxBurst packets.
//
// Drivers deliver and accept UDP datagrams (see engine/net/packet.h). A driver
// that sees link-layer frames (DPDK) answers ARP, ND and ICMP echo itself.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/net/counters.h"
#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"

namespace tern {

// What every driver is told by ternd's config ([engine] and [udp] sections).
struct DriverCommonConfig {
  uint16_t num_queues = 1;    // == number of workers; worker i uses queue i
  uint16_t base_port = 3478;  // worker i serves UDP port base_port + i
};

struct DriverCaps {
  bool link_layer = false;           // sees Ethernet frames (answers ARP/ND/ICMP itself)
  bool tx_checksum_offload = false;  // UDP/IP checksums computed by the NIC
  bool rx_interrupts = false;        // wait_rx sleeps on a real RX event, not a timer
  bool gso = false;                  // kernel UDP segmentation offload in use
  bool gro = false;                  // kernel UDP receive coalescing in use
};

// Per-queue counters; written only by the queue's worker thread.
struct DriverQueueStats {
  Counter rx_packets, rx_bytes, tx_packets, tx_bytes;
  Counter arp_replies, nd_replies, icmp_echo_replies;  // answered inside the driver
  DropCounters drops;                                  // dropped inside the driver
};

class PacketDriver {
 public:
  virtual ~PacketDriver() = default;

  virtual const char* name() const = 0;
  virtual DriverCaps caps() const = 0;
  virtual uint16_t num_queues() const = 0;
  // The UDP endpoints queue q serves (one per configured address).
  virtual std::vector<Endpoint> local_endpoints(uint16_t q) const = 0;

  // Called once on queue q's worker thread before its first burst (DPDK
  // registers the thread as an lcore so mempool caches work).
  virtual absl::Status thread_init(uint16_t q) {
    (void)q;
    return absl::OkStatus();
  }

  // Receives up to n datagrams on queue q. Never blocks.
  virtual uint16_t rx_burst(uint16_t q, Packet** pkts, uint16_t n) = 0;
  // Sends n datagrams on queue q and takes ownership of all of them: those the
  // driver cannot send are freed and counted (Drop::kTxFull, kArpUnresolved).
  // Returns how many were handed to the wire.
  virtual uint16_t tx_burst(uint16_t q, Packet** pkts, uint16_t n) = 0;
  // Allocates up to n empty buffers (payload empty, kDefaultHeadroom in front).
  virtual uint16_t alloc_bulk(uint16_t q, Packet** pkts, uint16_t n) = 0;
  virtual void free_bulk(uint16_t q, Packet** pkts, uint16_t n) = 0;

  // Idle support: blocks queue q's thread for at most `timeout` (or until
  // traffic may be waiting). Called only after empty polls, never per packet.
  virtual void wait_rx(uint16_t q, Nanos timeout) = 0;
  // Adds `fd` (not owned: an eventfd, an epoll set) to what wait_rx(q)
  // sleeps on, so readiness there ends the wait at once. Setup only, before
  // queue q's worker starts. False when this driver cannot (its wait_rx only
  // wakes on RX or the timeout): the caller must then keep sleeps short.
  virtual bool add_wake_fd(uint16_t q, int fd) {
    (void)q, (void)fd;
    return false;
  }
  // Periodic housekeeping on queue q's thread (neighbour timers, link state).
  virtual void poll_housekeeping(uint16_t q, Nanos now) { (void)q, (void)now; }

  virtual const DriverQueueStats& stats(uint16_t q) const = 0;

  // Extra UDP ports (TURN relayed transport addresses). Control path: called
  // on queue q's worker thread when an allocation is made or freed (a
  // syscall here is fine; never per packet). After open_port(q, local),
  // datagrams to `local` (a concrete address and port) are delivered to
  // queue q with pkt->local == local, and packets queue q sends with that
  // `local` leave from it. Errors name the address (port in use, address not
  // ours). Drivers without support return Unimplemented.
  virtual absl::Status open_port(uint16_t q, const Endpoint& local) {
    (void)q, (void)local;
    return absl::UnimplementedError(std::string(name()) + " driver: open_port not supported");
  }
  virtual void close_port(uint16_t q, const Endpoint& local) { (void)q, (void)local; }
};

}  // namespace tern
