// DpdkDriver hot path: rx_burst, tx_burst, buffers, idle wait, housekeeping.
// No allocation, lock, syscall (except the idle wait) or log line here.
#include <rte_cycles.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <time.h>

#include <cstring>

#include "drivers/dpdk/dpdk_driver.h"
#include "engine/net/frame.h"

namespace tern {
namespace {

inline Packet* packet_of(rte_mbuf* m) { return static_cast<Packet*>(rte_mbuf_to_priv(m)); }

inline bool is_link_local6(const uint8_t* a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }

inline bool is_zero(const uint8_t* a, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i]) return false;
  }
  return true;
}

// Frame length as built -> mbuf; clears RX flags so no TX offload is asked for.
inline void set_frame_len(rte_mbuf* m, uint32_t len) {
  m->data_len = uint16_t(len);
  m->pkt_len = len;
  m->ol_flags = 0;
}

}  // namespace

bool DpdkDriver::is_our_ip(const Port& p, const Endpoint& ip) const {
  if (ip.is_v4()) return p.v4 && p.v4->addr.same_addr(ip);
  if (ip.is_v6()) {
    return p.v6 && (p.v6->addr.same_addr(ip) || std::memcmp(ip.addr, p.ll6, 16) == 0);
  }
  return false;
}

void DpdkDriver::learn(Queue& qs, uint16_t q, size_t pi, Family f, const uint8_t* ip,
                       const MacAddr& mac, bool publish) {
  if (mac.is_multicast() || mac.is_zero()) return;
  qs.neigh[pi].learn(f, ip, mac, qs.now);
  if (!publish || num_queues_ == 1) return;
  NeighborUpdate u{};
  std::memcpy(u.ip, ip, f == Family::kIpv4 ? 4 : 16);
  mac.store(u.mac);
  u.family = uint8_t(f);
  u.port_index = uint8_t(pi);
  u.when = qs.now;
  for (uint16_t r = 0; r < num_queues_; ++r) {
    // A full ring only delays learning on that queue until its own request.
    if (r != q) rte_ring_mp_enqueue_elem(queues_[r]->updates, &u, sizeof(u));
  }
}

void DpdkDriver::drain_updates(Queue& qs) {
  if (!qs.updates) return;
  NeighborUpdate u[kMaxBurst];
  unsigned n;
  do {
    n = rte_ring_sc_dequeue_burst_elem(qs.updates, u, sizeof(NeighborUpdate), kMaxBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      qs.neigh[u[i].port_index].learn(Family(u[i].family), u[i].ip, MacAddr::load(u[i].mac),
                                      u[i].when);
    }
  } while (n == kMaxBurst);
}

void DpdkDriver::send_ctrl(Queue& qs, uint16_t q, size_t pi, rte_mbuf* m) {
  if (rte_eth_tx_burst(ports_[pi].info.port_id, q, &m, 1) == 1) {
    qs.stats.tx_packets.add();
    qs.stats.tx_bytes.add(m->pkt_len);
  } else {
    rte_pktmbuf_free(m);
    qs.stats.drops.add(Drop::kTxFull);
  }
}

void DpdkDriver::solicit(Queue& qs, uint16_t q, size_t pi, Family f, const uint8_t* ip) {
  const Port& port = ports_[pi];
  rte_mbuf* m = rte_pktmbuf_alloc(qs.pool);
  if (!m) {
    qs.stats.drops.add(Drop::kNoBuffer);
    return;
  }
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  uint32_t cap = rte_pktmbuf_tailroom(m);
  uint32_t len = 0;
  if (f == Family::kIpv4 && port.v4) {
    len = build_arp_request(frame, cap, port.info.mac, port.v4->addr.addr, ip);
  } else if (f == Family::kIpv6 && port.v6) {
    // Ask for a link-local neighbour from our link-local address (RFC 4861 §7.2.2
    // prefers the source of the packet that prompted the solicitation; either works).
    const uint8_t* src = is_link_local6(ip) ? port.ll6 : port.v6->addr.addr;
    len = build_neighbor_solicit(frame, cap, port.info.mac, src, ip);
  }
  if (len == 0) {
    rte_pktmbuf_free(m);
    return;
  }
  set_frame_len(m, len);
  send_ctrl(qs, q, pi, m);
}

void DpdkDriver::handle_frame(Queue& qs, uint16_t q, size_t pi, rte_mbuf* m, Packet** out,
                              uint16_t* got, rte_mbuf** replies, uint16_t* nrep) {
  const Port& port = ports_[pi];
  DropCounters& drops = qs.stats.drops;
  // Chained mbufs (scattered RX) are never configured; a PMD that hands one
  // over anyway gets it counted as a runt rather than half-parsed.
  if (m->nb_segs != 1) {
    drops.add(Drop::kRuntFrame);
    rte_pktmbuf_free(m);
    return;
  }
  uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
  FrameInfo info;
  Drop why = Drop::kRuntFrame;
  // UDP checksums are left to the worker (RxVerified::defer_l4): what it
  // relays it never reads, and the checksum goes out carried, not recomputed.
  if (!parse_frame(frame, m->data_len, RxVerified{false, false, true}, &info, &why)) {
    drops.add(why);
    rte_pktmbuf_free(m);
    return;
  }
  const bool to_our_mac = info.dst_mac == port.info.mac;
  if (!to_our_mac && !info.dst_mac.is_multicast()) {
    drops.add(Drop::kNotForUs);  // unicast to another host (promiscuous vdevs see those)
    rte_pktmbuf_free(m);
    return;
  }
  uint32_t reply_len = 0;
  switch (info.kind) {
    case FrameKind::kUdp: {
      const uint16_t dport = info.dst.port;
      const bool our_port = (dport >= base_port_ && dport < uint32_t(base_port_) + num_queues_) ||
                            extra_ports_[dport].load(std::memory_order_relaxed) != 0;
      if (!to_our_mac || !is_our_ip(port, info.dst) || !our_port) {
        break;
      }
      // Glean the sender's MAC: the answer usually goes straight back to it.
      const bool on_link = info.src.is_v4() ? (port.v4 && port.v4->contains(info.src))
                                            : (is_link_local6(info.src.addr) ||
                                               (port.v6 && port.v6->contains(info.src)));
      if (on_link) {
        NeighborEntry* e = qs.neigh[pi].find(info.src.family, info.src.addr);
        if (e && e->state == NeighborEntry::kReachable && e->mac == info.src_mac) {
          e->confirmed = qs.now;
        } else {
          learn(qs, q, pi, info.src.family, info.src.addr, info.src_mac, /*publish=*/false);
        }
      }
      // The Packet lives in the mbuf's private area. Our pools size it; an
      // mbuf from a foreign pool (a PMD passing through someone else's
      // buffers, net_ring) without room cannot carry one.
      if (m->priv_size < sizeof(Packet)) {
        drops.add(Drop::kNoBuffer);
        rte_pktmbuf_free(m);
        return;
      }
      Packet* p = packet_of(m);
      p->buf = static_cast<uint8_t*>(m->buf_addr);
      p->capacity = m->buf_len;
      p->off = uint32_t(m->data_off) + info.payload_offset;
      p->len = info.payload_len;
      p->handle = m;
      p->queue = q;
      p->remote = info.src;
      p->local = info.dst;
      p->set_rx_checksum(info.payload_sum, info.l4_verified);
      out[(*got)++] = p;
      return;
    }
    case FrameKind::kArp: {
      const bool for_us = port.v4 && std::memcmp(info.dst.addr, port.v4->addr.addr, 4) == 0;
      const bool sender_known = !is_zero(info.src.addr, 4);  // 0.0.0.0: an ARP probe
      if (!for_us) {
        // RFC 826: update an entry we already have, add none for others' traffic.
        if (sender_known) {
          qs.neigh[pi].refresh_if_present(Family::kIpv4, info.src.addr, info.lla, qs.now);
        }
        break;
      }
      if (sender_known) learn(qs, q, pi, Family::kIpv4, info.src.addr, info.lla, true);
      if (info.arp_op == 1) {
        reply_len = build_arp_reply(frame, info, port.info.mac);
        if (reply_len) qs.stats.arp_replies.add();
      } else {
        rte_pktmbuf_free(m);  // a reply to us: learned, consumed
        return;
      }
      break;
    }
    case FrameKind::kIcmpEchoV4:
      if (to_our_mac && is_our_ip(port, info.dst)) {
        reply_len = build_icmp_echo_reply(frame, info, port.info.mac);
        if (reply_len) qs.stats.icmp_echo_replies.add();
      }
      break;
    case FrameKind::kIcmpEchoV6:
      if (to_our_mac && is_our_ip(port, info.dst)) {
        reply_len = build_icmp_echo_reply(frame, info, port.info.mac);
        if (reply_len) qs.stats.icmp_echo_replies.add();
      }
      break;
    case FrameKind::kNeighborSolicit: {
      Endpoint target = Endpoint::v6(info.nd_target, 0);
      if (!is_our_ip(port, target)) break;
      if (info.has_lla && !is_zero(info.src.addr, 16)) {
        learn(qs, q, pi, Family::kIpv6, info.src.addr, info.lla, true);
      }
      reply_len = build_neighbor_advert(frame, m->buf_len - m->data_off, info, port.info.mac);
      if (reply_len) qs.stats.nd_replies.add();
      break;
    }
    case FrameKind::kNeighborAdvert: {
      // Only neighbours we could send to directly: on-link or link-local.
      Endpoint target = Endpoint::v6(info.nd_target, 0);
      if (is_link_local6(info.nd_target) || (port.v6 && port.v6->contains(target))) {
        const MacAddr& mac = info.has_lla ? info.lla : info.src_mac;
        learn(qs, q, pi, Family::kIpv6, info.nd_target, mac, true);
      }
      rte_pktmbuf_free(m);  // consumed
      return;
    }
    case FrameKind::kOther:
      drops.add(Drop::kUnsupportedL4);
      rte_pktmbuf_free(m);
      return;
  }
  if (reply_len == 0) {
    drops.add(Drop::kNotForUs);
    rte_pktmbuf_free(m);
    return;
  }
  set_frame_len(m, reply_len);
  replies[(*nrep)++] = m;
}

uint16_t DpdkDriver::rx_burst(uint16_t q, Packet** pkts, uint16_t n) {
  Queue& qs = *queues_[q];
  qs.now = rte_get_tsc_cycles();
  uint16_t got = 0;
  rte_mbuf* mbufs[kMaxBurst];
  rte_mbuf* replies[kMaxBurst];
  for (size_t pi = 0; pi < ports_.size() && got < n; ++pi) {
    const uint16_t port_id = ports_[pi].info.port_id;
    uint16_t want = n - got < kMaxBurst ? uint16_t(n - got) : kMaxBurst;
    uint16_t nb = rte_eth_rx_burst(port_id, q, mbufs, want);
    if (nb == 0) {
      // A PMD may free what its TX ring sent only inside tx_burst (memif
      // zero-copy does), and refill RX only with a bulk the pool must hold
      // at once. If TX holds the buffers RX needs, nothing arrives, so
      // nothing is sent and nothing reclaimed: a deadlock. An empty burst
      // every few idle polls lets TX give its finished buffers back.
      if (++qs.empty_polls[pi] >= kReclaimAfterEmpty) {
        qs.empty_polls[pi] = 0;
        rte_eth_tx_burst(port_id, q, nullptr, 0);
      }
      continue;
    }
    qs.empty_polls[pi] = 0;
    uint64_t bytes = 0;
    uint16_t nrep = 0;
    // The headers were just written by another core (the NIC's DMA, the
    // memif peer) and the Packet in the mbuf's private area was last touched
    // when the mbuf went back to the pool: all of them are cold. Asking for
    // every burst's lines at once overlaps those misses instead of paying
    // them one packet after another (bursts under load are a few packets).
    for (uint16_t i = 0; i < nb; ++i) {
      rte_prefetch0(rte_pktmbuf_mtod(mbufs[i], void*));
      rte_prefetch0(packet_of(mbufs[i]));
    }
    for (uint16_t i = 0; i < nb; ++i) {
      bytes += mbufs[i]->pkt_len;
      handle_frame(qs, q, pi, mbufs[i], pkts, &got, replies, &nrep);
    }
    qs.stats.rx_packets.add(nb);
    qs.stats.rx_bytes.add(bytes);
    if (nrep) {
      uint16_t sent = rte_eth_tx_burst(port_id, q, replies, nrep);
      uint64_t tx_bytes = 0;
      for (uint16_t i = 0; i < sent; ++i) tx_bytes += replies[i]->pkt_len;
      qs.stats.tx_packets.add(sent);
      qs.stats.tx_bytes.add(tx_bytes);
      if (sent < nrep) {
        rte_pktmbuf_free_bulk(replies + sent, nrep - sent);
        qs.stats.drops.add(Drop::kTxFull, nrep - sent);
      }
    }
  }
  return got;
}

int DpdkDriver::port_for_tx(const Packet* p) const {
  const Family f = p->remote.family;
  if (f == Family::kNone) return -1;
  if (ports_.size() == 1) {
    const Port& port = ports_[0];
    return (f == Family::kIpv4 ? bool(port.v4) : bool(port.v6)) ? 0 : -1;
  }
  // Several ports: the one that owns the source address, else the one whose
  // prefix holds the destination, else the first with that family.
  int fallback = -1;
  for (size_t i = 0; i < ports_.size(); ++i) {
    const Port& port = ports_[i];
    const auto& pre = f == Family::kIpv4 ? port.v4 : port.v6;
    if (!pre) continue;
    if (p->local.family == f && is_our_ip(port, p->local)) return int(i);
    if (fallback < 0 || pre->contains(p->remote)) fallback = int(i);
  }
  return fallback;
}

uint16_t DpdkDriver::tx_burst(uint16_t q, Packet** pkts, uint16_t n) {
  Queue& qs = *queues_[q];
  qs.now = rte_get_tsc_cycles();
  uint16_t total_sent = 0;
  rte_mbuf* out[kMaxPorts][kMaxBurst];
  uint16_t cnt[kMaxPorts];
  for (uint16_t base = 0; base < n; base += kMaxBurst) {
    const uint16_t chunk = n - base < kMaxBurst ? uint16_t(n - base) : kMaxBurst;
    for (size_t pi = 0; pi < ports_.size(); ++pi) cnt[pi] = 0;
    for (uint16_t i = 0; i < chunk; ++i) {
      Packet* p = pkts[base + i];
      auto* m = static_cast<rte_mbuf*>(p->handle);
      const int pi = port_for_tx(p);
      if (pi < 0) {
        qs.stats.drops.add(Drop::kUnsupportedL3);  // no port has an address of that family
        rte_pktmbuf_free(m);
        continue;
      }
      const Port& port = ports_[pi];
      const Family f = p->remote.family;
      if (p->local.family == Family::kNone) {  // engine left the source to us
        p->local = f == Family::kIpv4 ? port.v4->addr : port.v6->addr;
        p->local.port = uint16_t(base_port_ + q);
      }
      // Next hop: the destination itself when on-link, else the gateway.
      const uint8_t* nh = nullptr;
      if (f == Family::kIpv4) {
        if (port.v4->contains(p->remote))
          nh = p->remote.addr;
        else if (port.gw4)
          nh = port.gw4->addr;
      } else {
        if (is_link_local6(p->remote.addr) || port.v6->contains(p->remote))
          nh = p->remote.addr;
        else if (port.gw6)
          nh = port.gw6->addr;
      }
      if (!nh) {
        qs.stats.drops.add(Drop::kArpUnresolved);  // off-link and no gateway configured
        rte_pktmbuf_free(m);
        continue;
      }
      NeighborTable& table = qs.neigh[pi];
      NeighborEntry* e = table.find(f, nh);
      if (!e || e->state != NeighborEntry::kReachable) {
        drain_updates(qs);  // another queue may have learned it
        e = table.find(f, nh);
      }
      if (!e || e->state != NeighborEntry::kReachable) {
        e = table.find_or_create(f, nh, qs.now);
        if (e && (e->last_request == 0 || qs.now - e->last_request >= request_interval_)) {
          e->last_request = qs.now;
          solicit(qs, q, size_t(pi), f, nh);
        }
        qs.stats.drops.add(Drop::kArpUnresolved);
        rte_pktmbuf_free(m);
        continue;
      }
      // Still in use but unconfirmed for a while: ask again, keep sending.
      if (qs.now - e->confirmed > refresh_after_ && qs.now - e->last_request >= request_interval_) {
        e->last_request = qs.now;
        solicit(qs, q, size_t(pi), f, nh);
      }
      const bool offload = f == Family::kIpv4 ? port.info.tx_csum_v4 : port.info.tx_csum_v6;
      if (p->headroom() < udp_headers_len(f)) {
        qs.stats.drops.add(Drop::kNoBuffer);  // no room for the headers
        rte_pktmbuf_free(m);
        continue;
      }
      if (!prepend_udp_headers(p, port.info.mac, e->mac,
                               offload ? TxChecksum::kOffload : TxChecksum::kSoftware)) {
        qs.stats.drops.add(Drop::kUnsupportedL3);  // local/remote families differ, or too long
        rte_pktmbuf_free(m);
        continue;
      }
      m->data_off = uint16_t(p->off);
      m->data_len = uint16_t(p->len);
      m->pkt_len = p->len;
      if (offload) {
        m->ol_flags = f == Family::kIpv4
                          ? (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM)
                          : (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
        m->l2_len = 14;
        m->l3_len = f == Family::kIpv4 ? 20 : 40;
      } else {
        m->ol_flags = 0;
      }
      out[pi][cnt[pi]++] = m;
    }
    for (size_t pi = 0; pi < ports_.size(); ++pi) {
      if (cnt[pi] == 0) continue;
      uint16_t sent = rte_eth_tx_burst(ports_[pi].info.port_id, q, out[pi], cnt[pi]);
      uint64_t bytes = 0;
      for (uint16_t i = 0; i < sent; ++i) bytes += out[pi][i]->pkt_len;
      qs.stats.tx_packets.add(sent);
      qs.stats.tx_bytes.add(bytes);
      total_sent += sent;
      if (sent < cnt[pi]) {
        rte_pktmbuf_free_bulk(out[pi] + sent, cnt[pi] - sent);
        qs.stats.drops.add(Drop::kTxFull, cnt[pi] - sent);
      }
    }
  }
  return total_sent;
}

uint16_t DpdkDriver::alloc_bulk(uint16_t q, Packet** pkts, uint16_t n) {
  Queue& qs = *queues_[q];
  uint16_t done = 0;
  rte_mbuf* mbufs[kMaxBurst];
  while (done < n) {
    const uint16_t want = n - done < kMaxBurst ? uint16_t(n - done) : kMaxBurst;
    uint16_t got = want;
    if (rte_pktmbuf_alloc_bulk(qs.pool, mbufs, want) != 0) {
      // All-or-nothing failed: take what is left one by one.
      got = 0;
      while (got < want) {
        rte_mbuf* m = rte_pktmbuf_alloc(qs.pool);
        if (!m) break;
        mbufs[got++] = m;
      }
    }
    for (uint16_t i = 0; i < got; ++i) {
      rte_mbuf* m = mbufs[i];
      Packet* p = packet_of(m);
      p->buf = static_cast<uint8_t*>(m->buf_addr);
      p->capacity = m->buf_len;
      p->off = m->data_off;
      p->len = 0;
      p->handle = m;
      p->queue = q;
      p->remote = Endpoint{};
      p->local = Endpoint{};
      p->set_rx_checksum();
      pkts[done++] = p;
    }
    if (got < want) {
      qs.stats.drops.add(Drop::kNoBuffer);  // pool empty: the caller gets fewer
      break;
    }
  }
  return done;
}

void DpdkDriver::free_bulk(uint16_t q, Packet** pkts, uint16_t n) {
  (void)q;
  rte_mbuf* mbufs[kMaxBurst];
  for (uint16_t base = 0; base < n; base += kMaxBurst) {
    const uint16_t chunk = n - base < kMaxBurst ? uint16_t(n - base) : kMaxBurst;
    for (uint16_t i = 0; i < chunk; ++i) mbufs[i] = static_cast<rte_mbuf*>(pkts[base + i]->handle);
    rte_pktmbuf_free_bulk(mbufs, chunk);
  }
}

void DpdkDriver::wait_rx(uint16_t q, Nanos timeout) {
  if (timeout <= 0) return;
  Queue& qs = *queues_[q];
  if (qs.intr_ready) {
    for (const Port& p : ports_) rte_eth_dev_rx_intr_enable(p.info.port_id, q);
    rte_epoll_event ev[kMaxPorts];
    // Frames that landed between the last empty poll and the enable are
    // picked up by the next poll after at most `timeout`.
    int ms = int((timeout + kMillisecond - 1) / kMillisecond);
    rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, int(ports_.size()), ms);
    for (const Port& p : ports_) rte_eth_dev_rx_intr_disable(p.info.port_id, q);
    return;
  }
  timespec ts{time_t(timeout / kSecond), long(timeout % kSecond)};
  nanosleep(&ts, nullptr);
}

void DpdkDriver::poll_housekeeping(uint16_t q, Nanos now) {
  // Neighbour times are TSC cycles (what the burst functions read), so the
  // engine's `now` is not needed here.
  (void)now;
  Queue& qs = *queues_[q];
  qs.now = rte_get_tsc_cycles();
  drain_updates(qs);
  for (NeighborTable& t : qs.neigh) t.age(qs.now, reachable_ttl_, incomplete_ttl_);
}

absl::Status DpdkDriver::open_port(uint16_t q, const Endpoint& local) {
  if (q >= num_queues_) return absl::InvalidArgumentError("dpdk: open_port: no such queue");
  bool ours = false;
  for (const Port& p : ports_) ours = ours || is_our_ip(p, local);
  if (!ours || local.port == 0) {
    return absl::InvalidArgumentError("dpdk: open_port: " + local.to_string() +
                                      " is not one of our addresses with a port");
  }
  if (local.port >= base_port_ && local.port < uint32_t(base_port_) + num_queues_) {
    return absl::AlreadyExistsError("dpdk: open_port: " + local.to_string() + " is a base port");
  }
  std::atomic<uint8_t>& slot = extra_ports_[local.port];
  const uint8_t n = slot.load(std::memory_order_relaxed);
  if (n == 255) return absl::ResourceExhaustedError("dpdk: open_port: port opened 255 times");
  slot.store(uint8_t(n + 1), std::memory_order_relaxed);
  return absl::OkStatus();
}

void DpdkDriver::close_port(uint16_t q, const Endpoint& local) {
  (void)q;
  std::atomic<uint8_t>& slot = extra_ports_[local.port];
  const uint8_t n = slot.load(std::memory_order_relaxed);
  if (n != 0) slot.store(uint8_t(n - 1), std::memory_order_relaxed);
}

}  // namespace tern
