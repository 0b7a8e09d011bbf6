// DpdkWire: the loadgen drives one DPDK port itself (net_memif to a ternd on
// the same host, or any PMD): one RX/TX queue, our own IPv4 address, ARP
// both ways, Ethernet/IPv4/UDP framing from engine/net/frame.h. Flows are
// local UDP ports on our address, demultiplexed by destination port.
//
// Idle policy: the loop spins while traffic arrived in the last 200 us and
// otherwise sleeps 20 us per poll, so a quiet run does not hold a core at
// 100% (the box is shared with the server under test). Under load it never
// sleeps, which keeps the latency it measures free of its own naps.
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <signal.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/wire.h"
#include "drivers/dpdk/eal.h"
#include "engine/net/arp.h"
#include "engine/net/frame.h"

namespace tern::loadgen {
namespace {

constexpr uint16_t kBurst = 32;
constexpr uint32_t kHeaders = udp_headers_len(Family::kIpv4);  // 42
constexpr uint16_t kFirstPort = 20000;
constexpr Nanos kSpinAfterTraffic = 200 * kMicrosecond;
constexpr Nanos kIdleNap = 20 * kMicrosecond;

class DpdkWire final : public Wire {
 public:
  ~DpdkWire() override {
    flush();
    if (started_ && hold_ms_ > 0) hold();
    if (started_) rte_eth_dev_stop(port_);
  }
  std::string name() const override { return "dpdk " + port_name_; }

  absl::Status init(const DpdkWireConfig& cfg) {
    if (!cfg.local_ip.is_v4()) return absl::InvalidArgumentError("--dpdk-ip: want an IPv4 address");
    ip_ = cfg.local_ip;
    port_name_ = cfg.port;
    if (auto st = ensure_eal(cfg.eal_args); !st.ok()) return st;
    if (rte_eth_dev_get_port_by_name(cfg.port.c_str(), &port_) != 0)
      return absl::NotFoundError(
          absl::StrCat("--dpdk-port ", cfg.port, ": no such DPDK port (is its --vdev in --dpdk?)"));
    int socket = rte_eth_dev_socket_id(port_);
    if (socket < 0) socket = 0;
    pool_ =
        rte_pktmbuf_pool_create("loadgen_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (pool_ == nullptr)
      return absl::ResourceExhaustedError("loadgen: mbuf pool: " + dpdk_error(rte_errno));
    rte_eth_conf conf{};
    if (int rc = rte_eth_dev_configure(port_, 1, 1, &conf); rc != 0)
      return absl::InternalError(absl::StrCat(cfg.port, ": configure: ", dpdk_error(rc)));
    uint16_t nrx = 1024, ntx = 1024;
    rte_eth_dev_adjust_nb_rx_tx_desc(port_, &nrx, &ntx);
    if (int rc = rte_eth_rx_queue_setup(port_, 0, nrx, socket, nullptr, pool_); rc != 0)
      return absl::InternalError(absl::StrCat(cfg.port, ": RX queue: ", dpdk_error(rc)));
    if (int rc = rte_eth_tx_queue_setup(port_, 0, ntx, socket, nullptr); rc != 0)
      return absl::InternalError(absl::StrCat(cfg.port, ": TX queue: ", dpdk_error(rc)));
    if (int rc = rte_eth_dev_start(port_); rc != 0)
      return absl::InternalError(absl::StrCat(cfg.port, ": start: ", dpdk_error(rc)));
    started_ = true;
    rte_ether_addr mac;
    rte_eth_macaddr_get(port_, &mac);
    if (rte_is_zero_ether_addr(&mac)) rte_eth_random_addr(mac.addr_bytes);
    mac_ = MacAddr::load(mac.addr_bytes);
    rte_eth_link link{};
    for (uint32_t waited = 0;; waited += 10) {
      if (rte_eth_link_get_nowait(port_, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) break;
      if (waited >= cfg.link_wait_ms)
        return absl::UnavailableError(absl::StrCat(
            cfg.port, ": link not up after ", cfg.link_wait_ms,
            " ms (net_memif: is the server side, role=server, running on that socket?)"));
      rte_delay_ms(10);
    }
    link_wait_ms_ = cfg.link_wait_ms;
    hold_ms_ = cfg.hold_ms;
    return absl::OkStatus();
  }

  absl::StatusOr<Flow> open(const Endpoint& to, DatagramSink* sink) override {
    if (!to.is_v4()) return absl::InvalidArgumentError("dpdk wire: IPv4 remotes only");
    if (auto st = resolve(to); !st.ok()) return st;
    for (uint32_t k = 0; k < 65536 - kFirstPort; ++k) {
      const uint16_t port = uint16_t(kFirstPort + (next_port_++ % (65536 - kFirstPort)));
      if (slots_[port].sink != nullptr) continue;
      slots_[port] = {sink, to};
      Flow f;
      f.id = port;
      f.local = ip_;
      f.local.port = port;
      return f;
    }
    return absl::ResourceExhaustedError("dpdk wire: no free local port");
  }

  void close(Flow& f) override {
    if (f.open()) slots_[f.id] = {};
    f.id = -1;
  }

  bool send(const Flow& f, const iovec* iov, int iovcnt) override {
    if (!f.open()) return false;
    size_t len = 0;
    for (int i = 0; i < iovcnt; ++i) len += iov[i].iov_len;
    if (len + kHeaders > RTE_MBUF_DEFAULT_DATAROOM) return false;
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (m == nullptr) return false;
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, uint16_t(kHeaders + len)));
    uint8_t* w = p + kHeaders;
    for (int i = 0; i < iovcnt; ++i) {
      std::memcpy(w, iov[i].iov_base, iov[i].iov_len);
      w += iov[i].iov_len;
    }
    const Slot& s = slots_[f.id];
    write_udp_headers(p, mac_, neighbor_mac(s.remote), f.local, s.remote, uint32_t(len),
                      TxChecksum::kSoftware);
    queue_tx(m);
    return true;
  }

  void poll(Nanos timeout) override {
    rte_mbuf* rx[kBurst];
    const uint16_t n = rte_eth_rx_burst(port_, 0, rx, kBurst);
    const Nanos now = mono_now();
    if (n == 0) {
      flush();
      if (now - last_rx_ >= kSpinAfterTraffic) nap(std::min(timeout, kIdleNap));
      return;
    }
    last_rx_ = now;
    for (uint16_t i = 0; i < n; ++i) handle(rx[i], now);
    flush();
  }

  void flush() override {
    uint16_t done = 0;
    for (int tries = 0; done < tx_n_ && tries < 64; ++tries)
      done += rte_eth_tx_burst(port_, 0, tx_ + done, uint16_t(tx_n_ - done));
    c_.tx_frames += done;
    if (done < tx_n_) {
      c_.tx_full += tx_n_ - done;
      rte_pktmbuf_free_bulk(tx_ + done, tx_n_ - done);
    }
    tx_n_ = 0;
  }

  WireCounters counters() const override { return c_; }

 private:
  struct Slot {
    DatagramSink* sink = nullptr;
    Endpoint remote;
  };
  struct Neighbor {
    uint32_t ip = 0;
    MacAddr mac;
  };

  // --dpdk-hold-ms: the run is over; the port stays up, unpolled, until the
  // harness sends SIGUSR1 (blocked in every thread since main) or time runs
  // out. The line on stderr is what the harness waits for.
  void hold() const {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    std::fprintf(stderr, "tern-loadgen: run over; holding %s up until SIGUSR1 or %u ms\n",
                 port_name_.c_str(), hold_ms_);
    std::fflush(stderr);
    const timespec ts{time_t(hold_ms_ / 1000), long(hold_ms_ % 1000) * 1000000L};
    while (sigtimedwait(&usr1, nullptr, &ts) < 0 && errno == EINTR) {
    }
  }

  static void nap(Nanos d) {
    timespec ts{0, long(d)};
    nanosleep(&ts, nullptr);
  }

  void queue_tx(rte_mbuf* m) {
    tx_[tx_n_++] = m;
    if (tx_n_ == kBurst) flush();
  }

  MacAddr neighbor_mac(const Endpoint& ip) const {
    for (const Neighbor& nb : neighbors_)
      if (nb.ip == ip.v4_host_order()) return nb.mac;
    return MacAddr::broadcast();
  }

  // ARP for `to` until it answers (every 100 ms, bounded by link_wait_ms).
  absl::Status resolve(const Endpoint& to) {
    for (const Neighbor& nb : neighbors_)
      if (nb.ip == to.v4_host_order()) return absl::OkStatus();
    const Nanos deadline = mono_now() + Nanos(link_wait_ms_) * kMillisecond;
    for (Nanos next = 0;;) {
      const Nanos now = mono_now();
      if (now >= next) {
        if (rte_mbuf* m = rte_pktmbuf_alloc(pool_)) {
          auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
          std::memset(p, 0, 60);
          build_arp_request(p, 60, mac_, ip_.addr, to.addr);
          queue_tx(m);
          flush();
        }
        next = now + 100 * kMillisecond;
      }
      poll(kMillisecond);
      for (const Neighbor& nb : neighbors_)
        if (nb.ip == to.v4_host_order()) return absl::OkStatus();
      if (now >= deadline)
        return absl::UnavailableError(absl::StrCat("dpdk wire: no ARP answer from ",
                                                   to.addr_string(), " within ", link_wait_ms_,
                                                   " ms on ", port_name_));
    }
  }

  void handle(rte_mbuf* m, Nanos now) {
    ++c_.rx_frames;
    auto* d = rte_pktmbuf_mtod(m, uint8_t*);
    FrameInfo fi;
    Drop why;
    // Checksums are taken as verified: a load generator counts what the
    // server sent, it does not police it (the server verifies ours), and
    // summing every 1200-byte payload would halve the rate it can receive.
    constexpr RxVerified kTrusted{.ip_checksum = true, .l4_checksum = true};
    if (m->nb_segs != 1 || !parse_frame(d, rte_pktmbuf_data_len(m), kTrusted, &fi, &why)) {
      ++c_.rx_not_udp;
      rte_pktmbuf_free(m);
      return;
    }
    if (fi.kind == FrameKind::kArp) {
      if (fi.has_lla && fi.src.is_v4()) learn(fi.src.v4_host_order(), fi.lla);
      if (fi.arp_op == kArpOpRequest && fi.dst.same_addr(ip_)) {
        const uint32_t len = build_arp_reply(d, fi, mac_);
        m->data_len = uint16_t(len), m->pkt_len = len;
        ++c_.arp_answered;
        queue_tx(m);
        return;
      }
    } else if (fi.kind == FrameKind::kUdp && fi.dst.same_addr(ip_)) {
      const Slot& s = slots_[fi.dst.port];
      if (s.sink != nullptr && s.remote == fi.src)
        s.sink->on_datagram(d + fi.payload_offset, fi.payload_len, now);
      else
        ++c_.rx_unknown;
    } else {
      ++c_.rx_not_udp;
    }
    rte_pktmbuf_free(m);
  }

  void learn(uint32_t ip, const MacAddr& mac) {
    for (Neighbor& nb : neighbors_)
      if (nb.ip == ip) {
        nb.mac = mac;
        return;
      }
    neighbors_.push_back({ip, mac});
  }

  uint16_t port_ = 0;
  std::string port_name_;
  bool started_ = false;
  rte_mempool* pool_ = nullptr;
  Endpoint ip_;
  MacAddr mac_;
  uint32_t link_wait_ms_ = 5000;
  uint32_t hold_ms_ = 0;  // DpdkWireConfig::hold_ms
  uint32_t next_port_ = 0;
  Nanos last_rx_ = 0;
  std::vector<Neighbor> neighbors_;  // a handful: the servers on this link
  std::vector<Slot> slots_ = std::vector<Slot>(65536);
  rte_mbuf* tx_[kBurst];
  uint16_t tx_n_ = 0;
  WireCounters c_;
};

}  // namespace

bool dpdk_wire_available() { return true; }

absl::StatusOr<std::unique_ptr<Wire>> make_dpdk_wire(const DpdkWireConfig& cfg) {
  auto w = std::make_unique<DpdkWire>();
  if (auto st = w->init(cfg); !st.ok()) return st;
  return std::unique_ptr<Wire>(std::move(w));
}

}  // namespace tern::loadgen
