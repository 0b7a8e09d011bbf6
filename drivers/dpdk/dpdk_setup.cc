// DpdkDriver setup and teardown: control thread only, never per packet.
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstdio>
#include <new>
#include <thread>

#include "absl/strings/str_cat.h"
#include "drivers/dpdk/dpdk_driver.h"
#include "drivers/dpdk/eal.h"

namespace tern {
namespace {

void log_line(const std::string& s) { std::fprintf(stderr, "[dpdk] %s\n", s.c_str()); }

// Unique names for DPDK objects: a process may create several drivers
// (tests do), and in-memory mode still keeps names process-wide.
std::string unique_name(const char* what) {
  static std::atomic<uint32_t> seq{0};
  return absl::StrCat("tern_", what, "_", seq.fetch_add(1));
}

// The Packet descriptor lives in each mbuf's private area; construct it once
// when the pool is created. buf / capacity / handle never change afterwards.
void init_packet(rte_mempool*, void*, void* obj, unsigned) {
  auto* m = static_cast<rte_mbuf*>(obj);
  auto* p = new (rte_mbuf_to_priv(m)) Packet();
  p->buf = static_cast<uint8_t*>(m->buf_addr);
  p->capacity = m->buf_len;
  p->off = RTE_PKTMBUF_HEADROOM;
  p->handle = m;
}

// fe80::/64 with the modified EUI-64 interface id of `mac` (RFC 4291 App. A).
void link_local_from_mac(const MacAddr& mac, uint8_t out[16]) {
  std::memset(out, 0, 16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out[8] = mac.b[0] ^ 0x02;
  out[9] = mac.b[1];
  out[10] = mac.b[2];
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac.b[3];
  out[14] = mac.b[4];
  out[15] = mac.b[5];
}

}  // namespace

static_assert(RTE_PKTMBUF_HEADROOM == kDefaultHeadroom,
              "Packet headroom must match the mbuf headroom");
static_assert(sizeof(DpdkDriver::PortInfo) > 0);

absl::StatusOr<std::unique_ptr<PacketDriver>> make_dpdk_driver(const toml::table& section,
                                                               const DriverCommonConfig& common) {
  auto cfg = parse_dpdk_config(section);
  if (!cfg.ok()) return cfg.status();
  auto d = DpdkDriver::create(*cfg, common);
  if (!d.ok()) return d.status();
  return std::unique_ptr<PacketDriver>(std::move(*d));
}

absl::StatusOr<std::unique_ptr<DpdkDriver>> DpdkDriver::create(const DpdkConfig& cfg,
                                                               const DriverCommonConfig& common) {
  if (common.num_queues == 0) {
    return absl::InvalidArgumentError("engine.workers = 0: the DPDK driver needs >= 1 queue");
  }
  if (cfg.ports.size() > kMaxPorts) {
    return absl::InvalidArgumentError(
        absl::StrCat("dpdk.ports: ", cfg.ports.size(), " ports configured, at most ", kMaxPorts));
  }
  if (auto st = ensure_eal(cfg.eal_args); !st.ok()) return st;
  if (rte_eth_dev_count_avail() == 0) {
    return absl::FailedPreconditionError(
        "dpdk.eal_args: DPDK found no ports (add a --vdev=... or bind a NIC to vfio-pci)");
  }

  std::unique_ptr<DpdkDriver> d(new DpdkDriver());
  d->num_queues_ = common.num_queues;
  d->base_port_ = common.base_port;
  d->tsc_hz_ = rte_get_tsc_hz();
  d->request_interval_ = d->tsc_hz_;  // 1 s
  d->refresh_after_ = 60 * d->tsc_hz_;
  d->reachable_ttl_ = 180 * d->tsc_hz_;
  d->incomplete_ttl_ = 10 * d->tsc_hz_;

  // Every configured port must exist and appear once.
  d->ports_.resize(cfg.ports.size());
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    const DpdkPortConfig& pc = cfg.ports[i];
    uint16_t id = 0;
    if (pc.port_id) {
      id = *pc.port_id;
      if (!rte_eth_dev_is_valid_port(id)) {
        return absl::NotFoundError(absl::StrCat(pc.key, ".port = ", id, ": no such DPDK port (",
                                                rte_eth_dev_count_avail(), " available)"));
      }
    } else if (int rc = rte_eth_dev_get_port_by_name(pc.name.c_str(), &id); rc != 0) {
      return absl::NotFoundError(
          absl::StrCat(pc.key, ".name = \"", pc.name, "\": no such DPDK port: ", dpdk_error(rc)));
    }
    for (size_t j = 0; j < i; ++j) {
      if (d->ports_[j].info.port_id == id) {
        return absl::InvalidArgumentError(
            absl::StrCat(pc.key, ": DPDK port ", id, " is already ", cfg.ports[j].key));
      }
    }
    d->ports_[i].info.port_id = id;
  }

  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    if (auto st = d->setup_port(cfg.ports[i], &d->ports_[i], cfg); !st.ok()) return st;
  }

  d->all_rx_intr_ = true;
  for (const Port& p : d->ports_) d->all_rx_intr_ = d->all_rx_intr_ && p.info.rx_intr;

  for (uint16_t q = 0; q < d->num_queues_; ++q) {
    auto qs = std::make_unique<Queue>();
    qs->pool = d->ports_[0].pool;
    for (size_t i = 0; i < d->ports_.size(); ++i) qs->neigh.emplace_back(cfg.neighbor_entries);
    if (d->num_queues_ > 1) {
      qs->updates = rte_ring_create_elem(unique_name("nbr").c_str(), sizeof(NeighborUpdate), 1024,
                                         d->ports_[0].info.socket, RING_F_SC_DEQ);
      if (!qs->updates) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cannot create the neighbour update ring for queue ", q, ": ", dpdk_error(rte_errno)));
      }
    }
    d->queues_.push_back(std::move(qs));
  }
  return d;
}

rte_mempool* DpdkDriver::pool_for_socket(int socket, const DpdkConfig& cfg, absl::Status* st) {
  for (auto& [s, pool] : pools_) {
    if (s == socket) return pool;
  }
  const unsigned cache = 256;  // per lcore; needs registered threads (thread_init)
  const uint16_t priv = RTE_ALIGN(sizeof(Packet), RTE_MBUF_PRIV_ALIGN);
  rte_mempool* pool = rte_pktmbuf_pool_create(unique_name("mbuf").c_str(), cfg.mbufs, cache, priv,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (!pool) {
    *st = absl::ResourceExhaustedError(
        absl::StrCat("dpdk.mbufs = ", cfg.mbufs, ": cannot create the mbuf pool on NUMA socket ",
                     socket, ": ", dpdk_error(rte_errno), " (more hugepages, or fewer mbufs)"));
    return nullptr;
  }
  rte_mempool_obj_iter(pool, init_packet, nullptr);
  pools_.emplace_back(socket, pool);
  return pool;
}

absl::Status DpdkDriver::setup_port(const DpdkPortConfig& pc, Port* port, const DpdkConfig& cfg) {
  const uint16_t id = port->info.port_id;
  char name[RTE_ETH_NAME_MAX_LEN] = {0};
  rte_eth_dev_get_name_by_port(id, name);
  port->info.name = name;
  port->v4 = pc.ipv4;
  port->v6 = pc.ipv6;
  port->gw4 = pc.gateway4;
  port->gw6 = pc.gateway6;
  int socket = rte_eth_dev_socket_id(id);
  if (socket < 0) socket = 0;  // SOCKET_ID_ANY: vdevs and single-socket machines
  port->info.socket = socket;

  // Enough mbufs to fill every RX ring of the ports sharing this pool while
  // every TX ring is full too (a PMD holds sent buffers until it reclaims
  // them), plus the per-lcore caches and a few bursts in flight per worker.
  uint64_t need = uint64_t(cfg.ports.size()) * num_queues_ * (cfg.rx_desc + cfg.tx_desc) +
                  uint64_t(num_queues_) * (256 + 4 * kMaxBurst);
  if (cfg.mbufs < need) {
    return absl::InvalidArgumentError(
        absl::StrCat("dpdk.mbufs = ", cfg.mbufs, ": too few for ", cfg.ports.size(), " port(s) x ",
                     num_queues_, " queue(s) x (rx_desc ", cfg.rx_desc, " + tx_desc ", cfg.tx_desc,
                     "); need at least ", need));
  }
  absl::Status st;
  port->pool = pool_for_socket(socket, cfg, &st);
  if (!port->pool) return st;

  // RX interrupts are not advertised in dev_info: ask, and if the PMD refuses
  // to configure or start with them, set the port up again without.
  st = configure_port(port, cfg, /*want_intr=*/true);
  if (!st.ok()) {
    log_line(absl::StrCat(pc.key, " (", name, "): RX interrupts refused (", st.message(),
                          "); polling with timed sleeps instead"));
    rte_eth_dev_stop(id);
    st = configure_port(port, cfg, /*want_intr=*/false);
    if (!st.ok()) return st;
  }

  rte_ether_addr mac;
  if (int rc = rte_eth_macaddr_get(id, &mac); rc != 0) {
    return absl::InternalError(
        absl::StrCat(pc.key, " (", name, "): cannot read the MAC address: ", dpdk_error(rc)));
  }
  if (rte_is_zero_ether_addr(&mac)) {
    // Some vdevs (net_ring from rings) come without an address; ARP and ND
    // need one. A random locally administered unicast MAC will do.
    rte_eth_random_addr(mac.addr_bytes);
    if (int rc = rte_eth_dev_default_mac_addr_set(id, &mac); rc != 0) {
      log_line(absl::StrCat(pc.key, " (", name, "): no MAC address; using ",
                            MacAddr::load(mac.addr_bytes).to_string(),
                            " in the frames we build (PMD: ", dpdk_error(rc), ")"));
    }
  }
  port->info.mac = MacAddr::load(mac.addr_bytes);
  link_local_from_mac(port->info.mac, port->ll6);
  if (port->v6) {
    if (auto m = setup_multicast(port); !m.ok()) log_line(std::string(m.message()));
  }

  // Link up, bounded wait. A port still down is not fatal (a cable may come
  // later); say so.
  rte_eth_link link{};
  const uint32_t step_ms = 50;
  for (uint32_t waited = 0;; waited += step_ms) {
    if (rte_eth_link_get_nowait(id, &link) == 0 && link.link_status == RTE_ETH_LINK_UP) break;
    if (waited >= cfg.link_wait_ms) break;
    rte_delay_ms(step_ms);
  }
  const std::string link_text =
      link.link_status == RTE_ETH_LINK_UP
          ? absl::StrCat("link up ", link.link_speed, " Mbps ",
                         link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half")
          : std::string("link down");
  log_line(absl::StrCat(
      pc.key, ": port ", id, " (", name, ") mac ", port->info.mac.to_string(), ", ", num_queues_,
      " queue(s), RSS ", port->info.rss ? "on" : "off", ", tx checksum offload v4 ",
      port->info.tx_csum_v4 ? "on" : "off", " v6 ", port->info.tx_csum_v6 ? "on" : "off",
      ", rx interrupts ", port->info.rx_intr ? "on" : "off", ", ", link_text,
      link.link_status == RTE_ETH_LINK_UP ? "" : " (not up after dpdk.link_wait_ms; going on)"));
  return absl::OkStatus();
}

absl::Status DpdkDriver::configure_port(Port* port, const DpdkConfig& cfg, bool want_intr) {
  const uint16_t id = port->info.port_id;
  const std::string& name = port->info.name;
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
    return absl::InternalError(
        absl::StrCat("port ", id, " (", name, "): rte_eth_dev_info_get: ", dpdk_error(rc)));
  }
  // One RX/TX queue pair per worker on every port: each worker transmits on
  // its own queue without a lock, so a port that has fewer queues than
  // workers is an error rather than a silent funnel.
  if (info.max_rx_queues < num_queues_ || info.max_tx_queues < num_queues_) {
    return absl::InvalidArgumentError(
        absl::StrCat("engine.workers = ", num_queues_, ": port ", id, " (", name, ") has at most ",
                     info.max_rx_queues, " RX / ", info.max_tx_queues,
                     " TX queues (vdevs take e.g. qpairs=N, queue_count=N or nb_rx/tx args)"));
  }

  rte_eth_conf conf{};
  const uint64_t want_rss = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
  port->info.rss = false;
  if (num_queues_ > 1) {
    if ((info.flow_type_rss_offloads & want_rss) != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & want_rss;
      port->info.rss = true;
    } else {
      log_line(absl::StrCat("port ", id, " (", name,
                            "): no RSS support; frames reach the queues however the PMD spreads "
                            "them (often all on queue 0). Every queue still serves all our UDP "
                            "ports and keeps its own TX queue."));
    }
  }
  const uint64_t v4_csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  port->info.tx_csum_v4 = (info.tx_offload_capa & v4_csum) == v4_csum;
  port->info.tx_csum_v6 = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
  if (port->info.tx_csum_v4) conf.txmode.offloads |= v4_csum;
  if (port->info.tx_csum_v6) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  conf.intr_conf.rxq = want_intr ? 1 : 0;

  if (int rc = rte_eth_dev_configure(id, num_queues_, num_queues_, &conf); rc != 0) {
    return absl::InternalError(
        absl::StrCat("port ", id, " (", name, "): rte_eth_dev_configure: ", dpdk_error(rc)));
  }
  uint16_t nrx = cfg.rx_desc, ntx = cfg.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx); rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("dpdk.rx_desc = ", cfg.rx_desc,
                                                   " / dpdk.tx_desc = ", cfg.tx_desc, ": port ", id,
                                                   " (", name, "): ", dpdk_error(rc)));
  }
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (uint16_t q = 0; q < num_queues_; ++q) {
    if (int rc =
            rte_eth_rx_queue_setup(id, q, nrx, port->info.socket, &info.default_rxconf, port->pool);
        rc != 0) {
      return absl::InternalError(absl::StrCat("port ", id, " (", name, "): RX queue ", q, " with ",
                                              nrx, " descriptors: ", dpdk_error(rc)));
    }
    if (int rc = rte_eth_tx_queue_setup(id, q, ntx, port->info.socket, &txconf); rc != 0) {
      return absl::InternalError(absl::StrCat("port ", id, " (", name, "): TX queue ", q, " with ",
                                              ntx, " descriptors: ", dpdk_error(rc)));
    }
  }
  if (int rc = rte_eth_dev_start(id); rc != 0) {
    return absl::InternalError(
        absl::StrCat("port ", id, " (", name, "): rte_eth_dev_start: ", dpdk_error(rc)));
  }
  port->info.rx_intr = false;
  if (want_intr) {
    port->info.rx_intr = true;
    for (uint16_t q = 0; q < num_queues_; ++q) {
      port->info.rx_intr = port->info.rx_intr && rte_eth_dev_rx_intr_ctl_q_get_fd(id, q) >= 0;
    }
  }
  return absl::OkStatus();
}

// Our MACs for ND: the solicited-node multicast groups (33:33:ff + last 24
// bits, RFC 4291 2.7.1 / RFC 2464 7) of the global and link-local addresses,
// and all-nodes. Fall back to all-multicast where the PMD has no list.
absl::Status DpdkDriver::setup_multicast(Port* port) {
  const uint16_t id = port->info.port_id;
  rte_ether_addr list[3] = {};
  const uint8_t* addrs[2] = {port->v6->addr.addr, port->ll6};
  for (int i = 0; i < 2; ++i) {
    uint8_t* b = list[i].addr_bytes;
    b[0] = 0x33, b[1] = 0x33, b[2] = 0xff;
    b[3] = addrs[i][13], b[4] = addrs[i][14], b[5] = addrs[i][15];
  }
  uint8_t* all = list[2].addr_bytes;
  all[0] = 0x33, all[1] = 0x33, all[5] = 0x01;
  if (rte_eth_dev_set_mc_addr_list(id, list, 3) == 0) return absl::OkStatus();
  int rc = rte_eth_allmulticast_enable(id);
  if (rc == 0 || rte_eth_allmulticast_get(id) == 1) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "port ", id, " (", port->info.name, "): no multicast filter to open for ND (", dpdk_error(rc),
      "); fine for vdevs that see every frame (af_packet, af_xdp, tap), a NIC may need "
      "promiscuous mode for IPv6 neighbours to find us"));
}

DpdkDriver::~DpdkDriver() {
  for (Port& p : ports_) {
    rte_eth_dev_stop(p.info.port_id);
    rte_eth_dev_close(p.info.port_id);
  }
  for (auto& qs : queues_) {
    if (qs->updates) rte_ring_free(qs->updates);
  }
  // Ports are closed, so their rings hold no mbufs any more.
  for (auto& [socket, pool] : pools_) rte_mempool_free(pool);
}

DriverCaps DpdkDriver::caps() const {
  DriverCaps c;
  c.link_layer = true;
  c.tx_checksum_offload = !ports_.empty();
  for (const Port& p : ports_) c.tx_checksum_offload = c.tx_checksum_offload && p.info.tx_csum_v4;
  c.rx_interrupts = all_rx_intr_;
  return c;
}

std::vector<Endpoint> DpdkDriver::local_endpoints(uint16_t q) const {
  std::vector<Endpoint> out;
  const uint16_t port = uint16_t(base_port_ + q);
  for (const Port& p : ports_) {
    if (p.v4) {
      Endpoint e = p.v4->addr;
      e.port = port;
      out.push_back(e);
    }
    if (p.v6) {
      Endpoint e = p.v6->addr;
      e.port = port;
      out.push_back(e);
    }
  }
  return out;
}

absl::Status DpdkDriver::thread_init(uint16_t q) {
  if (q >= num_queues_) {
    return absl::InvalidArgumentError(absl::StrCat("thread_init: queue ", q, " >= ", num_queues_));
  }
  // A non-EAL thread has no lcore id and so no mempool cache: register it.
  if (rte_lcore_id() == LCORE_ID_ANY && rte_thread_register() != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("worker ", q, ": rte_thread_register: ", dpdk_error(rte_errno),
                     " (EAL lcores exhausted? RTE_MAX_LCORE minus the --lcores in dpdk.eal_args)"));
  }
  Queue& qs = *queues_[q];
  qs.intr_ready = false;
  if (all_rx_intr_) {
    bool ok = true;
    for (const Port& p : ports_) {
      ok = ok && rte_eth_dev_rx_intr_ctl_q(p.info.port_id, q, RTE_EPOLL_PER_THREAD,
                                           RTE_INTR_EVENT_ADD, nullptr) == 0;
    }
    qs.intr_ready = ok;
    if (!ok) log_line(absl::StrCat("worker ", q, ": RX interrupt registration failed; polling"));
  }
  return absl::OkStatus();
}

}  // namespace tern
