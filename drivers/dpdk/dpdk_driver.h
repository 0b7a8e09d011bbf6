// DpdkDriver: PacketDriver over DPDK ethdev ports (real NICs and vdevs such as
// net_af_packet, net_af_xdp, net_memif, net_tap, net_ring, net_null).
//
// The driver sees Ethernet frames, so it is also the host's IP stack for our
// addresses: it answers ARP (RFC 826) and Neighbour Solicitations (RFC 4861)
// for them, answers ICMP / ICMPv6 echo (RFC 792 / 4443), resolves next hops
// for transmit, and hands the engine only UDP datagrams addressed to our
// ports (base_port .. base_port + num_queues - 1).
//
// Threads: setup and teardown run on the control thread; every per-queue
// method runs only on queue q's worker (see drivers/driver.h). Worker q owns
// RX/TX queue q of every configured port, its own neighbour tables and its
// own counters, so the data path takes no lock.
//
// Neighbour resolution is per queue. A queue learns from ARP / NA frames it
// receives and gleans from UDP datagrams it delivers. ARP / NA frames may
// arrive on another queue than the one that asked (RSS hashes non-IP frames
// to one queue), so a queue that learns from ARP / ND also posts the entry to
// every other queue's lock-free update ring; a queue drains its ring in
// housekeeping and whenever a transmit misses its table.
//
// Unresolved next hop on transmit: the packet is dropped and counted as
// Drop::kArpUnresolved, and an ARP request / NS is sent, at most one per
// second per next hop. No pending queue: a media engine's first packet to a
// peer answers one the peer sent, which already taught us its MAC.
#pragma once

#include <toml++/toml.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/dpdk/dpdk_config.h"
#include "drivers/dpdk/neighbor_table.h"
#include "drivers/driver.h"
#include "engine/net/ethernet.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace tern {

// `section` is the [dpdk] table of ternd's config; see docs/dpdk.md.
absl::StatusOr<std::unique_ptr<PacketDriver>> make_dpdk_driver(const toml::table& section,
                                                               const DriverCommonConfig& common);

class DpdkDriver final : public PacketDriver {
 public:
  static constexpr size_t kMaxPorts = 8;
  // Empty RX polls of a port after which its TX queue is poked (rx_burst).
  static constexpr uint16_t kReclaimAfterEmpty = 32;

  static absl::StatusOr<std::unique_ptr<DpdkDriver>> create(const DpdkConfig& cfg,
                                                            const DriverCommonConfig& common);
  ~DpdkDriver() override;

  const char* name() const override { return "dpdk"; }
  DriverCaps caps() const override;
  uint16_t num_queues() const override { return num_queues_; }
  std::vector<Endpoint> local_endpoints(uint16_t q) const override;
  absl::Status thread_init(uint16_t q) override;
  uint16_t rx_burst(uint16_t q, Packet** pkts, uint16_t n) override;
  uint16_t tx_burst(uint16_t q, Packet** pkts, uint16_t n) override;
  uint16_t alloc_bulk(uint16_t q, Packet** pkts, uint16_t n) override;
  void free_bulk(uint16_t q, Packet** pkts, uint16_t n) override;
  void wait_rx(uint16_t q, Nanos timeout) override;
  void poll_housekeeping(uint16_t q, Nanos now) override;
  const DriverQueueStats& stats(uint16_t q) const override { return queues_[q]->stats; }
  // Extra UDP ports (TURN relayed addresses): datagrams to `local` (one of
  // our addresses) are delivered like those to the base ports. The port is
  // accepted on whichever queue RSS picks; the owning worker is `q`, so with
  // several queues and RSS the port must be steered to q (not done yet: use
  // one queue, or flow rules, for TURN on DPDK).
  absl::Status open_port(uint16_t q, const Endpoint& local) override;
  void close_port(uint16_t q, const Endpoint& local) override;

  // What setup found out about a configured port (for logs, stats and tests).
  struct PortInfo {
    uint16_t port_id = 0;
    std::string name;  // ethdev name, e.g. "net_af_packet0"
    MacAddr mac;
    bool rss = false;         // RX spread over the queues by flow hash
    bool tx_csum_v4 = false;  // IPv4 header + UDP checksum offloaded
    bool tx_csum_v6 = false;  // UDP-over-IPv6 checksum offloaded
    bool rx_intr = false;     // RX interrupts available on every queue
    int socket = 0;           // NUMA socket of the port
  };
  size_t num_ports() const { return ports_.size(); }
  const PortInfo& port_info(size_t i) const { return ports_[i].info; }
  // Neighbour table of queue q for port index i (tests, stats).
  const NeighborTable& neighbors(uint16_t q, size_t i) const { return queues_[q]->neigh[i]; }

 private:
  struct Port {
    PortInfo info;
    std::optional<IpPrefix> v4, v6;
    uint8_t ll6[16]{};  // fe80::/64 + EUI-64 of the MAC (answered like v6)
    std::optional<Endpoint> gw4, gw6;
    rte_mempool* pool = nullptr;  // on the port's socket
  };
  // A neighbour learned on one queue, posted to the others (32 bytes: the
  // ring element size must be a multiple of 4).
  struct NeighborUpdate {
    uint8_t ip[16];
    uint8_t mac[6];
    uint8_t family;
    uint8_t port_index;
    uint64_t when;
  };
  struct alignas(64) Queue {
    DriverQueueStats stats;
    std::vector<NeighborTable> neigh;  // one per port
    rte_ring* updates = nullptr;       // NeighborUpdates from other queues (MP/SC)
    rte_mempool* pool = nullptr;       // allocations for this queue
    uint64_t now = 0;                  // TSC at the start of the current burst
    bool intr_ready = false;           // RX interrupts registered on this thread
    // RX polls that found nothing in a row, per port (owning worker only):
    // every kReclaimAfterEmpty of them the TX queue is poked to reclaim.
    uint16_t empty_polls[kMaxPorts] = {};
  };

  DpdkDriver() = default;
  absl::Status setup_port(const DpdkPortConfig& pc, Port* port, const DpdkConfig& cfg);
  absl::Status configure_port(Port* port, const DpdkConfig& cfg, bool want_intr);
  absl::Status setup_multicast(Port* port);
  rte_mempool* pool_for_socket(int socket, const DpdkConfig& cfg, absl::Status* st);

  // Hot path helpers (dpdk_datapath.cc).
  void handle_frame(Queue& qs, uint16_t q, size_t pi, rte_mbuf* m, Packet** out, uint16_t* got,
                    rte_mbuf** replies, uint16_t* nrep);
  bool is_our_ip(const Port& p, const Endpoint& ip) const;
  void learn(Queue& qs, uint16_t q, size_t pi, Family f, const uint8_t* ip, const MacAddr& mac,
             bool publish);
  void drain_updates(Queue& qs);
  // Sends an ARP request / NS for next hop `ip` on port pi (one frame).
  void solicit(Queue& qs, uint16_t q, size_t pi, Family f, const uint8_t* ip);
  int port_for_tx(const Packet* p) const;
  void send_ctrl(Queue& qs, uint16_t q, size_t pi, rte_mbuf* m);

  uint16_t num_queues_ = 1;
  uint16_t base_port_ = 3478;
  // Extra ports by UDP port number: open count (any address of ours).
  // Written by the owning worker (open/close_port), read by every queue's
  // RX path: relaxed atomics, one byte each.
  std::unique_ptr<std::atomic<uint8_t>[]> extra_ports_ { new std::atomic<uint8_t>[ 65536 ]() };
  std::vector<Port> ports_;
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::pair<int, rte_mempool*>> pools_;  // socket -> pool
  uint64_t tsc_hz_ = 1;
  uint64_t request_interval_ = 0;  // min TSC between requests for one next hop
  uint64_t refresh_after_ = 0;     // re-ask (while still using) an entry this old
  uint64_t reachable_ttl_ = 0;     // forget an entry not confirmed for this long
  uint64_t incomplete_ttl_ = 0;    // forget an unanswered request this old
  bool all_rx_intr_ = false;
};

}  // namespace tern
