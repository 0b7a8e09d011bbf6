// Internals of SocketDriver shared by its setup and data-path files.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "drivers/socket/buffer_pool.h"
#include "drivers/socket/socket_driver.h"

namespace tern {

union SockAddr {
  sockaddr sa;
  sockaddr_in in4;
  sockaddr_in6 in6;
};

// Writes e into *out; returns the sockaddr length (0 for Family::kNone).
inline socklen_t to_sockaddr(const Endpoint& e, SockAddr* out) {
  if (e.is_v4()) {
    out->in4 = sockaddr_in{};
    out->in4.sin_family = AF_INET;
    out->in4.sin_port = htons(e.port);
    std::memcpy(&out->in4.sin_addr, e.addr, 4);
    return sizeof(sockaddr_in);
  }
  if (e.is_v6()) {
    out->in6 = sockaddr_in6{};
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons(e.port);
    std::memcpy(&out->in6.sin6_addr, e.addr, 16);
    return sizeof(sockaddr_in6);
  }
  return 0;
}

inline void from_sockaddr(const SockAddr& a, Endpoint* e) {
  std::memset(e->addr, 0, sizeof(e->addr));
  if (a.sa.sa_family == AF_INET) {
    e->family = Family::kIpv4;
    e->port = ntohs(a.in4.sin_port);
    std::memcpy(e->addr, &a.in4.sin_addr, 4);
  } else if (a.sa.sa_family == AF_INET6) {
    e->family = Family::kIpv6;
    e->port = ntohs(a.in6.sin6_port);
    std::memcpy(e->addr, &a.in6.sin6_addr, 16);
  } else {
    e->family = Family::kNone;
    e->port = 0;
  }
}

inline bool addr_is_unspecified(const Endpoint& e) {
  static constexpr uint8_t kZero[16] = {};
  return std::memcmp(e.addr, kZero, e.addr_len()) == 0;
}

struct SocketInfo {
  int fd = -1;
  Endpoint bound;         // bound address and the actual port
  bool wildcard = false;  // bound to 0.0.0.0 / ::: pktinfo on receive and send
  bool gro = false;       // UDP_GRO enabled: receives use the staging iovec
  bool gso = false;       // UDP_SEGMENT usable (cleared if the kernel rejects it)
};

inline uint32_t extra_port_key(const Endpoint& e) {
  return uint32_t(static_cast<uint8_t>(e.family)) << 16 | e.port;
}

inline constexpr size_t kGroStage = 65536;       // largest UDP payload, rounded up
inline constexpr size_t kRxCtrl = 128;           // pktinfo (40) + UDP_GRO (24) + slack
inline constexpr size_t kTxCtrl = 64;            // pktinfo (40) + UDP_SEGMENT (24)
inline constexpr uint16_t kGsoMaxSegs = 64;      // UDP_MAX_SEGMENTS on older kernels
inline constexpr uint32_t kGsoMaxBytes = 65000;  // under the 64 KiB IP datagram limit

struct SocketDriver::Queue {
  uint16_t id = 0;
  std::unique_ptr<BufferPool> pool;
  // socks[0, nmain): the queue's own sockets (one per configured address);
  // socks[nmain, ...): extra ports from open_port() (TURN relayed addresses),
  // fd -1 when the slot is free. Indices never move while a port is open.
  std::vector<SocketInfo> socks;
  uint16_t nmain = 0;
  // Extra ports: (family << 16 | port) -> index in socks, and an epoll set
  // over them (data.u32 = index) so rx_burst asks the kernel once which of
  // possibly thousands are readable instead of trying each.
  absl::flat_hash_map<uint32_t, uint16_t> extra_by_port;
  int epfd = -1;
  epoll_event ep_events[kMaxBurst];
  std::vector<pollfd> pfds;  // main sockets, wake fds (add_wake_fd), epfd once extra ports exist
  DriverQueueStats stats;

  // --- receive: arrays reused by every recvmmsg ---
  mmsghdr rx_msgs[kMaxBurst];
  iovec rx_iov[kMaxBurst][2];  // [slot data room, GRO staging tail]
  SockAddr rx_names[kMaxBurst];
  alignas(cmsghdr) uint8_t rx_ctrl[kMaxBurst][kRxCtrl];
  Packet* rx_slots[kMaxBurst];
  std::unique_ptr<uint8_t[]> gro_stage;  // kMaxBurst * kGroStage, only with GRO
  uint16_t rx_next_sock = 0;             // round-robin start

  // The result of the last recvmmsg, possibly not fully handed out (a GRO
  // receive can hold more segments than the caller's burst).
  struct Cursor {
    uint16_t sock = 0;
    uint16_t got = 0;        // messages received
    uint16_t msg = 0;        // next message to hand out
    uint32_t seg_off = 0;    // within msg: next segment's offset (0: not started)
    uint32_t gso = 0;        // within msg: segment size
    Endpoint remote, local;  // within msg, once started
    bool pending() const { return msg < got; }
  } cur;

  // --- send: arrays reused by every sendmmsg ---
  mmsghdr tx_msgs[kMaxBurst];
  iovec tx_iov[kMaxBurst];     // one per packet, in tx_pkts order
  Packet* tx_pkts[kMaxBurst];  // packets grouped by socket, then in burst order
  SockAddr tx_names[kMaxBurst];
  alignas(cmsghdr) uint8_t tx_ctrl[kMaxBurst][kTxCtrl];
  uint16_t tx_first[kMaxBurst];        // message -> its first index in tx_iov / tx_pkts
  uint16_t tx_pktinfo_len[kMaxBurst];  // message -> control bytes without UDP_SEGMENT
  int16_t tx_sock[kMaxBurst];  // burst index -> socket (-1: cannot send, -2: in a GSO group)
};

}  // namespace tern
