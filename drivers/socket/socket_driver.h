// SocketDriver: the kernel UDP socket driver (the default on a laptop or CI).
//
// Queue i owns one non-blocking UDP socket per configured address, all bound to
// common.base_port + i, and a BufferPool of `buffers` slots. Per burst it makes
// one recvmmsg / sendmmsg per socket and no other syscall; every header array
// (mmsghdr, iovec, sockaddr, cmsg) is built once per queue at startup.
//
// Addresses: IPv4 and IPv6 (IPV6_V6ONLY). A socket bound to a wildcard address
// (0.0.0.0, ::) receives IP_PKTINFO / IPV6_PKTINFO, so every packet's `local`
// is the address the client sent to, and a reply sent with that `local` leaves
// from it (pktinfo cmsg on send). Link-local IPv6 needs a scope id that
// Endpoint does not carry: bind such addresses explicitly, not through ::.
//
// GRO (UDP_GRO): one receive may carry many same-size segments. The driver
// receives into [pool slot data room | 64 KiB per-message staging] with a
// two-entry iovec: an ordinary datagram lands in its slot (zero copy); for a
// coalesced one, segment 0 stays in the slot and every further segment is
// copied into its own slot. Segments are not given descriptors sharing one
// buffer by refcount because the engine rewrites packets in place (prepends
// TURN/ChannelData headers into headroom, appends SRTP tags into tailroom): in
// a shared buffer those writes would overwrite the neighbouring segments, and
// the descriptor lives in a slot anyway, so sharing would save no slots. The
// copy costs far less than the per-datagram kernel work GRO saves: measured
// with bench/bench_socket.cc on loopback (32 x 1200 B per burst, CPU ns per
// packet, send + receive), copying a 1200 B segment costs ~20 ns, while GRO
// takes a GSO sender's burst from 541 to 291 ns per packet. Segments that do
// not fit the caller's burst stay staged and are returned by the next rx_burst.
//
// GSO (UDP_SEGMENT): consecutive packets (per socket) with the same remote and
// local, all of one size except a shorter last one, go out as one
// super-datagram. No staging copy is needed: the message's iovec simply lists
// the packets' payloads and the kernel gathers them. If the kernel rejects a
// GSO message (EINVAL/EIO: path MTU below the segment size, no checksum
// offload), GSO is switched off for that socket and those packets are resent
// one by one. It pays, so it is on by default: same bench, GSO cuts 1268 to
// 541 ns per packet (receiver without GRO), and looking for groups where none
// can form costs nothing measurable (1251 vs 1267 ns, within noise).
//
// base_port 0 (tests, benchmarks) binds every socket to its own ephemeral
// port; local_endpoints() reports the real ones.
//
// Drops inside the driver (DriverQueueStats::drops):
//   rx: kNoBuffer   datagram larger than the 2048-byte data room, or pool empty
//                   for a GRO segment
//   tx: kTxFull     EAGAIN / EWOULDBLOCK / ENOBUFS / ENOMEM (socket buffer full)
//       kArpUnresolved  ENETUNREACH / EHOSTUNREACH / ENETDOWN / EHOSTDOWN
//       kNotForUs   no socket of this queue can send it (remote family or port
//                   unset, `local` not one of our addresses) or any other errno
//                   (EINVAL, EPERM from a firewall, EACCES, EMSGSIZE, ...)
#pragma once

#include <toml++/toml.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/driver.h"
#include "drivers/socket/socket_config.h"

namespace tern {

inline constexpr uint32_t kSocketDataRoom = 2048;  // payload bytes per slot

class SocketDriver : public PacketDriver {
 public:
  static absl::StatusOr<std::unique_ptr<SocketDriver>> create(const SocketConfig& cfg,
                                                              const DriverCommonConfig& common);
  ~SocketDriver() override;

  const char* name() const override { return "socket"; }
  DriverCaps caps() const override { return caps_; }
  uint16_t num_queues() const override { return static_cast<uint16_t>(queues_.size()); }
  std::vector<Endpoint> local_endpoints(uint16_t q) const override;

  uint16_t rx_burst(uint16_t q, Packet** pkts, uint16_t n) override;
  uint16_t tx_burst(uint16_t q, Packet** pkts, uint16_t n) override;
  uint16_t alloc_bulk(uint16_t q, Packet** pkts, uint16_t n) override;
  void free_bulk(uint16_t q, Packet** pkts, uint16_t n) override;
  void wait_rx(uint16_t q, Nanos timeout) override;
  const DriverQueueStats& stats(uint16_t q) const override;
  // Extra UDP sockets (TURN relayed ports): bound to `local` (concrete
  // address), no GRO, polled through one epoll set per queue.
  absl::Status open_port(uint16_t q, const Endpoint& local) override;
  void close_port(uint16_t q, const Endpoint& local) override;
  // Extra ports open on queue q (tests, diagnostics).
  size_t open_ports(uint16_t q) const;
  // Adds `fd` (not owned; e.g. the epoll set of a worker's TCP/TLS TURN
  // connections) to what wait_rx(q) sleeps on, so readiness there wakes the
  // worker at once. Setup only: before queue q's worker starts.
  bool add_wake_fd(uint16_t q, int fd) override;

  // Free buffers in queue q's pool (owner thread; for tests and diagnostics).
  uint32_t pool_available(uint16_t q) const;
  uint32_t pool_size(uint16_t q) const;

  struct Queue;  // defined in socket_driver_internal.h

 private:
  SocketDriver() = default;
  void free_one(uint16_t q, Packet* p);

  std::vector<std::unique_ptr<Queue>> queues_;
  DriverCaps caps_;
  SocketConfig cfg_;  // for sockets opened later (open_port)
};

// `section` is the [socket] table of ternd's TOML config (possibly empty:
// defaults apply).
absl::StatusOr<std::unique_ptr<PacketDriver>> make_socket_driver(const toml::table& section,
                                                                 const DriverCommonConfig& common);

}  // namespace tern
