// SocketDriver data path: rx_burst, tx_burst, pool access, wait_rx.
// Hot path: no allocation, no lock, one recvmmsg / sendmmsg per socket per burst.
#include <netinet/udp.h>
#include <time.h>

#include <cassert>
#include <cerrno>
#include <cstring>

#include "drivers/socket/socket_driver_internal.h"

namespace tern {
namespace {

// Parses a received message's control data: our address (pktinfo) and the GRO
// segment size (0 when the message is one datagram).
inline uint32_t parse_rx_cmsgs(msghdr& h, const SocketInfo& s, Endpoint* local) {
  uint32_t gso = 0;
  *local = s.bound;
  if (h.msg_controllen == 0) return 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      std::memcpy(local->addr, &pi.ipi_addr, 4);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      std::memcpy(local->addr, &pi.ipi6_addr, 16);
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int v = 0;
      std::memcpy(&v, CMSG_DATA(c), sizeof(v));
      gso = v > 0 ? static_cast<uint32_t>(v) : 0;
    }
  }
  return gso;
}

inline Drop tx_errno_reason(int err) {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS:
    case ENOMEM:
      return Drop::kTxFull;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
      return Drop::kArpUnresolved;
    default:
      return Drop::kNotForUs;
  }
}

inline void fill_rx(Packet* p, uint32_t len, const Endpoint& remote, const Endpoint& local) {
  p->off = kDefaultHeadroom;
  p->len = len;
  p->remote = remote;
  p->local = local;
  p->set_rx_checksum();  // the kernel checked it, and sums what we send
}

}  // namespace

// Hands out packets from the last recvmmsg (Queue::cur) until it is drained or
// `n` packets are out. Returns the new count.
static uint16_t drain_cursor(SocketDriver::Queue& Q, Packet** pkts, uint16_t out, uint16_t n,
                             uint64_t* bytes) {
  auto& c = Q.cur;
  const SocketInfo& sock = Q.socks[c.sock];
  while (c.msg < c.got && out < n) {
    const uint16_t j = c.msg;
    msghdr& h = Q.rx_msgs[j].msg_hdr;
    const uint32_t L = Q.rx_msgs[j].msg_len;
    Packet* slot = Q.rx_slots[j];
    if (c.seg_off == 0) {  // first look at message j
      if (h.msg_flags & MSG_TRUNC) {
        Q.stats.drops.add(Drop::kNoBuffer);
        Q.pool->push(slot);
        ++c.msg;
        continue;
      }
      from_sockaddr(Q.rx_names[j], &c.remote);
      c.gso = parse_rx_cmsgs(h, sock, &c.local);
      if (c.gso == 0 || c.gso >= L) {  // one datagram
        if (L > kSocketDataRoom) {
          Q.stats.drops.add(Drop::kNoBuffer);
          Q.pool->push(slot);
        } else {
          fill_rx(slot, L, c.remote, c.local);
          pkts[out++] = slot;
          *bytes += L;
        }
        ++c.msg;
        continue;
      }
      if (c.gso > kSocketDataRoom) {  // segments cannot fit a slot
        Q.stats.drops.add(Drop::kNoBuffer, (L + c.gso - 1) / c.gso);
        Q.pool->push(slot);
        ++c.msg;
        continue;
      }
      // Coalesced: make the stream contiguous in the staging buffer from
      // segment 1 on (the kernel put [0, data room) in the slot and the rest
      // after it in staging), then segment 0 can be handed out in place.
      uint8_t* stage = Q.gro_stage.get() + size_t{j} * kGroStage;
      const uint32_t in_slot = L < kSocketDataRoom ? L : kSocketDataRoom;
      std::memcpy(stage + c.gso, slot->buf + kDefaultHeadroom + c.gso, in_slot - c.gso);
      fill_rx(slot, c.gso, c.remote, c.local);
      pkts[out++] = slot;
      *bytes += c.gso;
      c.seg_off = c.gso;
    }
    // Remaining segments of a coalesced message: one copy each into a fresh slot.
    const uint8_t* stage = Q.gro_stage.get() + size_t{j} * kGroStage;
    while (c.seg_off < L && out < n) {
      Packet* p = Q.pool->pop();
      if (p == nullptr) {
        Q.stats.drops.add(Drop::kNoBuffer, (L - c.seg_off + c.gso - 1) / c.gso);
        c.seg_off = L;
        break;
      }
      const uint32_t len = L - c.seg_off < c.gso ? L - c.seg_off : c.gso;
      std::memcpy(p->buf + kDefaultHeadroom, stage + c.seg_off, len);
      fill_rx(p, len, c.remote, c.local);
      pkts[out++] = p;
      *bytes += len;
      c.seg_off += len;
    }
    if (c.seg_off >= L) {
      c.seg_off = 0;
      ++c.msg;
    }
  }
  return out;
}

// One recvmmsg on socket s of queue Q into up to (n - out) fresh slots, then
// hands the result out through the cursor. Returns the new count; *empty is
// set when the socket had nothing (or no slot could be armed).
static uint16_t recv_socket(SocketDriver::Queue& Q, uint16_t s, Packet** pkts, uint16_t out,
                            uint16_t n, uint64_t* bytes, bool* empty) {
  const SocketInfo& sock = Q.socks[s];
  // Arm up to (n - out) slots: each message yields at least one packet.
  uint16_t vlen = 0;
  const uint16_t want = static_cast<uint16_t>(n - out);
  const size_t iovlen = sock.gro ? 2 : 1;
  while (vlen < want) {
    Packet* p = Q.pool->pop();
    if (p == nullptr) break;
    Q.rx_slots[vlen] = p;
    msghdr& h = Q.rx_msgs[vlen].msg_hdr;
    Q.rx_iov[vlen][0].iov_base = p->buf + kDefaultHeadroom;
    h.msg_iovlen = iovlen;
    h.msg_namelen = sizeof(SockAddr);
    h.msg_controllen = kRxCtrl;
    ++vlen;
  }
  *empty = true;
  if (vlen == 0) return out;  // pool empty: leave datagrams in the socket buffer
  const int got = recvmmsg(sock.fd, Q.rx_msgs, vlen, MSG_DONTWAIT, nullptr);
  const uint16_t used = got > 0 ? static_cast<uint16_t>(got) : 0;
  for (uint16_t j = vlen; j > used; --j) Q.pool->push(Q.rx_slots[j - 1]);
  if (used == 0) return out;
  *empty = false;
  Q.cur.sock = s;
  Q.cur.got = used;
  Q.cur.msg = 0;
  Q.cur.seg_off = 0;
  return drain_cursor(Q, pkts, out, n, bytes);
}

uint16_t SocketDriver::rx_burst(uint16_t q, Packet** pkts, uint16_t n) {
  Queue& Q = *queues_[q];
  if (n > kMaxBurst) n = kMaxBurst;
  uint16_t out = 0;
  uint64_t bytes = 0;
  if (Q.cur.pending()) out = drain_cursor(Q, pkts, out, n, &bytes);
  const uint16_t nsock = Q.nmain;
  bool empty = false;
  for (uint16_t tried = 0; tried < nsock && out < n && !Q.cur.pending(); ++tried) {
    const uint16_t s = Q.rx_next_sock;
    Q.rx_next_sock = static_cast<uint16_t>(s + 1 >= nsock ? 0 : s + 1);
    out = recv_socket(Q, s, pkts, out, n, &bytes, &empty);
    if (empty && Q.pool->available() == 0) break;
  }
  // Extra ports (TURN relays): one epoll_wait says which are readable.
  if (Q.epfd >= 0 && out < n && !Q.cur.pending() && Q.pool->available() != 0) {
    const int ready = epoll_wait(Q.epfd, Q.ep_events, n - out, 0);
    for (int i = 0; i < ready && out < n && !Q.cur.pending(); ++i) {
      const uint16_t s = static_cast<uint16_t>(Q.ep_events[i].data.u32);
      if (s < Q.socks.size() && Q.socks[s].fd >= 0) {
        out = recv_socket(Q, s, pkts, out, n, &bytes, &empty);
      }
    }
  }
  if (out) {
    Q.stats.rx_packets.add(out);
    Q.stats.rx_bytes.add(bytes);
  }
  return out;
}

namespace {

// Picks the socket of queue Q that sends p (-1: none can). An extra port
// (open_port) is chosen by its exact local address and port; otherwise one
// of the queue's main sockets by family and address.
inline int16_t pick_socket(const SocketDriver::Queue& Q, const Packet& p) {
  if (p.remote.family == Family::kNone || p.remote.port == 0) return -1;
  const bool any_local = p.local.family == Family::kNone || addr_is_unspecified(p.local);
  if (!any_local && p.local.family != p.remote.family) return -1;
  if (!Q.extra_by_port.empty() && !any_local) {
    auto it = Q.extra_by_port.find(extra_port_key(p.local));
    if (it != Q.extra_by_port.end() && Q.socks[it->second].bound.same_addr(p.local)) {
      return static_cast<int16_t>(it->second);
    }
  }
  for (size_t s = 0; s < Q.nmain; ++s) {
    const SocketInfo& si = Q.socks[s];
    if (si.bound.family != p.remote.family) continue;
    if (any_local || si.wildcard || si.bound.same_addr(p.local)) return static_cast<int16_t>(s);
  }
  return -1;
}

// Writes the pktinfo cmsg (source address) when the socket is a wildcard one;
// returns the control bytes used.
inline uint16_t put_pktinfo(uint8_t* ctrl, const SocketInfo& s, const Packet& p) {
  if (!s.wildcard || p.local.family != s.bound.family || addr_is_unspecified(p.local)) return 0;
  auto* c = reinterpret_cast<cmsghdr*>(ctrl);
  if (p.local.is_v4()) {
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo pi{};
    std::memcpy(&pi.ipi_spec_dst, p.local.addr, 4);
    std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
    return CMSG_SPACE(sizeof(in_pktinfo));
  }
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
  in6_pktinfo pi{};
  std::memcpy(&pi.ipi6_addr, p.local.addr, 16);
  std::memcpy(CMSG_DATA(c), &pi, sizeof(pi));
  return CMSG_SPACE(sizeof(in6_pktinfo));
}

inline bool same_flow(const Packet& a, const Packet& b) {
  return a.remote == b.remote && a.local.family == b.local.family && a.local.same_addr(b.local);
}

}  // namespace

uint16_t SocketDriver::tx_burst(uint16_t q, Packet** pkts, uint16_t n) {
  Queue& Q = *queues_[q];
  uint16_t handed = 0;
  uint64_t bytes = 0;
  while (n > 0) {  // chunks of kMaxBurst (the prebuilt arrays' size)
    const uint16_t cnt = n > kMaxBurst ? kMaxBurst : n;
    uint16_t invalid = 0;
    for (uint16_t i = 0; i < cnt; ++i) {
      Q.tx_sock[i] = pick_socket(Q, *pkts[i]);
      invalid += Q.tx_sock[i] < 0;
    }
    if (invalid) Q.stats.drops.add(Drop::kNotForUs, invalid);

    // The distinct sockets this chunk uses, in first-use order (a queue may
    // have thousands of extra ports; only these are visited).
    int16_t used[kMaxBurst];
    uint16_t nused = 0;
    for (uint16_t i = 0; i < cnt; ++i) {
      if (Q.tx_sock[i] < 0) continue;
      bool seen = false;
      for (uint16_t u = 0; u < nused && !seen; ++u) seen = used[u] == Q.tx_sock[i];
      if (!seen) used[nused++] = Q.tx_sock[i];
    }

    for (uint16_t ui = 0; ui < nused; ++ui) {
      const int16_t s = used[ui];
      SocketInfo& sock = Q.socks[s];
      // Build this socket's messages; packets keep their burst order.
      uint16_t m = 0, v = 0;
      for (uint16_t i = 0; i < cnt; ++i) {
        if (Q.tx_sock[i] != s) continue;
        Packet* p = pkts[i];
        msghdr& h = Q.tx_msgs[m].msg_hdr;
        h.msg_namelen = to_sockaddr(p->remote, &Q.tx_names[m]);
        h.msg_iov = &Q.tx_iov[v];
        Q.tx_first[m] = v;
        Q.tx_iov[v] = iovec{p->data(), p->len};
        Q.tx_pkts[v++] = p;
        size_t segs = 1;
        uint32_t total = p->len;
        if (sock.gso && p->len > 0) {
          // Extend with following packets of this socket: same flow, same size
          // (the last may be shorter, which also ends the group).
          uint16_t k = i + 1;
          while (k < cnt && segs < kGsoMaxSegs) {
            if (Q.tx_sock[k] != s) {
              ++k;
              continue;
            }
            const Packet* nx = pkts[k];
            if (!same_flow(*p, *nx) || nx->len > p->len || nx->len == 0 ||
                total + nx->len > kGsoMaxBytes) {
              break;
            }
            Q.tx_iov[v] = iovec{pkts[k]->data(), nx->len};
            Q.tx_pkts[v++] = pkts[k];
            Q.tx_sock[k] = -2;  // consumed by this group
            total += nx->len;
            ++segs;
            ++k;
            if (nx->len < p->len) break;
          }
        }
        h.msg_iovlen = segs;
        uint16_t clen = put_pktinfo(Q.tx_ctrl[m], sock, *p);
        Q.tx_pktinfo_len[m] = clen;
        if (segs > 1) {
          auto* c = reinterpret_cast<cmsghdr*>(Q.tx_ctrl[m] + clen);
          c->cmsg_level = SOL_UDP;
          c->cmsg_type = UDP_SEGMENT;
          c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
          const uint16_t gso_size = static_cast<uint16_t>(p->len);
          std::memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
          clen += CMSG_SPACE(sizeof(uint16_t));
        }
        h.msg_control = clen ? Q.tx_ctrl[m] : nullptr;
        h.msg_controllen = clen;
        ++m;
      }
      if (m == 0) continue;

      // Send; on an error skip the failing message (or give up on a full buffer).
      uint16_t done = 0;
      while (done < m) {
        const int r = sendmmsg(sock.fd, Q.tx_msgs + done, m - done, MSG_DONTWAIT);
        if (r > 0) {
          for (int x = 0; x < r; ++x) {
            const msghdr& h = Q.tx_msgs[done + x].msg_hdr;
            for (size_t y = 0; y < h.msg_iovlen; ++y) bytes += h.msg_iov[y].iov_len;
            handed += static_cast<uint16_t>(h.msg_iovlen);
          }
          done += static_cast<uint16_t>(r);
          continue;
        }
        const int err = errno;
        if (err == EINTR) continue;
        msghdr& h = Q.tx_msgs[done].msg_hdr;
        const Drop reason = tx_errno_reason(err);
        if (h.msg_iovlen > 1 && (err == EINVAL || err == EIO || err == EMSGSIZE)) {
          // The kernel refuses GSO for this path: stop using it on this socket
          // and send the group's packets one by one (rare slow path).
          sock.gso = false;
          msghdr one = h;
          one.msg_controllen = Q.tx_pktinfo_len[done];
          one.msg_control = one.msg_controllen ? h.msg_control : nullptr;
          one.msg_iovlen = 1;
          for (size_t y = 0; y < h.msg_iovlen; ++y) {
            one.msg_iov = h.msg_iov + y;
            if (sendmsg(sock.fd, &one, MSG_DONTWAIT) >= 0) {
              bytes += h.msg_iov[y].iov_len;
              ++handed;
            } else {
              Q.stats.drops.add(tx_errno_reason(errno));
            }
          }
          ++done;
          continue;
        }
        if (reason == Drop::kTxFull) {  // socket buffer full: the rest would fail too
          for (uint16_t x = done; x < m; ++x) {
            Q.stats.drops.add(reason, Q.tx_msgs[x].msg_hdr.msg_iovlen);
          }
          break;
        }
        Q.stats.drops.add(reason, h.msg_iovlen);
        ++done;
      }
    }
    free_bulk(q, pkts, cnt);
    pkts += cnt;
    n = static_cast<uint16_t>(n - cnt);
  }
  if (handed) {
    Q.stats.tx_packets.add(handed);
    Q.stats.tx_bytes.add(bytes);
  }
  return handed;
}

uint16_t SocketDriver::alloc_bulk(uint16_t q, Packet** pkts, uint16_t n) {
  return queues_[q]->pool->alloc_bulk(pkts, n);
}

void SocketDriver::free_one(uint16_t q, Packet* p) {
  // A packet goes back to the pool it came from (p->queue, written at pool
  // creation and on every receive); another queue's pool is freed lock-free.
  if (p->queue == q) {
    queues_[q]->pool->push(p);
  } else {
    assert(p->queue < queues_.size());
    queues_[p->queue]->pool->push_foreign(p);
  }
}

void SocketDriver::free_bulk(uint16_t q, Packet** pkts, uint16_t n) {
  for (uint16_t i = 0; i < n; ++i) free_one(q, pkts[i]);
}

void SocketDriver::wait_rx(uint16_t q, Nanos timeout) {
  Queue& Q = *queues_[q];
  if (Q.cur.pending() || timeout <= 0) return;
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout != kNever) {
    ts.tv_sec = timeout / kSecond;
    ts.tv_nsec = timeout % kSecond;
    tsp = &ts;
  }
  for (pollfd& p : Q.pfds) p.revents = 0;
  // With the pool empty a readable socket cannot be drained: just sleep, or
  // the worker would spin on "readable" until buffers come back. Briefly:
  // wake fds are not watched then, and buffers come back as sends complete.
  const bool no_buffers = Q.pool->available() == 0;
  if (no_buffers && (tsp == nullptr || timeout > kMillisecond)) {
    ts = timespec{0, long(kMillisecond)};
    tsp = &ts;
  }
  ppoll(no_buffers ? nullptr : Q.pfds.data(), no_buffers ? 0 : Q.pfds.size(), tsp, nullptr);
}

}  // namespace tern
