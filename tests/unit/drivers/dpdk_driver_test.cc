// DpdkDriver against net_ring ports built from rings this test owns: frames
// the test enqueues on a port's RX ring are what the driver receives, and what
// the driver transmits lands on the TX ring for the test to parse.
//
// The EAL can be initialised once per process, so every DPDK test lives in
// this binary and shares DpdkEnv. Without the rights to start the EAL the
// tests skip.
#include "drivers/dpdk/dpdk_driver.h"

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "drivers/dpdk/eal.h"
#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/net/frame.h"
#include "engine/net/icmp.h"
#include "engine/net/ipv4.h"
#include "engine/net/ipv6.h"

namespace tern {
namespace {

absl::Status g_eal = absl::UnknownError("EAL not initialised");
rte_mempool* g_pool = nullptr;  // frames the test injects (Packet-sized priv area)

class DpdkEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    g_eal = ensure_eal({"--no-pci", "--in-memory", "--no-huge", "-l", "0", "--no-telemetry",
                        "--log-level=lib.eal:error"});
    if (!g_eal.ok()) return;
    g_pool = rte_pktmbuf_pool_create("dpdk_test_inject", 1023, 0,
                                     RTE_ALIGN(sizeof(Packet), RTE_MBUF_PRIV_ALIGN),
                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!g_pool) g_eal = absl::ResourceExhaustedError("test mbuf pool");
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new DpdkEnv);

const MacAddr kPeerMac{{0x02, 0x00, 0x00, 0xaa, 0x00, 0x02}};
const uint8_t kOurIp4[4] = {198, 18, 0, 1};
const uint8_t kPeerIp4[4] = {198, 18, 0, 2};
const uint8_t kOurIp6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const uint8_t kPeerIp6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
using Frame = std::vector<uint8_t>;

// A net_ring port over rings the test owns.
struct RingPort {
  std::string name;
  std::vector<rte_ring*> rx, tx;
  ~RingPort() {
    for (auto* r : rx) drain(r), rte_ring_free(r);
    for (auto* r : tx) drain(r), rte_ring_free(r);
  }
  static void drain(rte_ring* r) {
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
};

class DpdkDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!g_eal.ok()) GTEST_SKIP() << "EAL unavailable (needs root?): " << g_eal.message();
  }

  void start(uint16_t queues, const std::string& extra_port_keys = "") {
    static int seq = 0;
    const std::string base = absl::StrCat("t", seq++);
    ring_.name = "net_ring_" + base;  // rte_eth_from_rings prefixes the name
    for (uint16_t q = 0; q < queues; ++q) {
      ring_.rx.push_back(rte_ring_create(absl::StrCat(ring_.name, "_rx", q).c_str(), 256, 0,
                                         RING_F_SP_ENQ | RING_F_SC_DEQ));
      ring_.tx.push_back(rte_ring_create(absl::StrCat(ring_.name, "_tx", q).c_str(), 256, 0,
                                         RING_F_SP_ENQ | RING_F_SC_DEQ));
    }
    ASSERT_GE(rte_eth_from_rings(base.c_str(), ring_.rx.data(), queues, ring_.tx.data(), queues, 0),
              0);
    toml::table root = toml::parse(absl::StrCat(R"(
[dpdk]
mbufs = 2047
rx_desc = 64
tx_desc = 64
link_wait_ms = 0
[[dpdk.ports]]
name = ")",
                                                ring_.name, R"("
ipv4 = "198.18.0.1/24"
ipv6 = "2001:2::1/64"
)",
                                                extra_port_keys));
    DriverCommonConfig common;
    common.num_queues = queues;
    common.base_port = 3478;
    auto d = make_dpdk_driver(*root["dpdk"].as_table(), common);
    ASSERT_TRUE(d.ok()) << d.status();
    driver_ = std::move(*d);
    dd_ = static_cast<DpdkDriver*>(driver_.get());
    our_mac_ = dd_->port_info(0).mac;
    for (uint16_t q = 0; q < queues; ++q) ASSERT_TRUE(driver_->thread_init(q).ok());
  }

  void inject(const Frame& f, uint16_t q = 0) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    ASSERT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, uint16_t(f.size())), f.data(), f.size());
    ASSERT_EQ(rte_ring_enqueue(ring_.rx[q], m), 0);
  }
  std::vector<Frame> sent(uint16_t q = 0) {
    std::vector<Frame> out;
    void* obj;
    while (rte_ring_dequeue(ring_.tx[q], &obj) == 0) {
      auto* m = static_cast<rte_mbuf*>(obj);
      const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
      out.emplace_back(p, p + m->data_len);
      rte_pktmbuf_free(m);
    }
    return out;
  }
  // Polls queue q once; returns the delivered packets (caller frees).
  std::vector<Packet*> poll(uint16_t q = 0) {
    Packet* pkts[kMaxBurst];
    uint16_t n = driver_->rx_burst(q, pkts, kMaxBurst);
    return std::vector<Packet*>(pkts, pkts + n);
  }
  uint64_t drops(Drop d, uint16_t q = 0) { return driver_->stats(q).drops.get(d); }

  Frame udp_frame(const uint8_t* src_ip, const uint8_t* dst_ip, Family f, uint16_t sport,
                  uint16_t dport, const std::string& payload, MacAddr dst_mac) {
    Frame fr(udp_headers_len(f) + payload.size());
    std::memcpy(fr.data() + udp_headers_len(f), payload.data(), payload.size());
    Endpoint src = f == Family::kIpv4 ? Endpoint::v4(0, sport) : Endpoint::v6(src_ip, sport);
    Endpoint dst = f == Family::kIpv4 ? Endpoint::v4(0, dport) : Endpoint::v6(dst_ip, dport);
    if (f == Family::kIpv4) std::memcpy(src.addr, src_ip, 4), std::memcpy(dst.addr, dst_ip, 4);
    EXPECT_TRUE(write_udp_headers(fr.data(), kPeerMac, dst_mac, src, dst, uint32_t(payload.size()),
                                  TxChecksum::kSoftware));
    return fr;
  }

  Frame arp_frame(uint16_t op, const uint8_t* sender_ip, const uint8_t* target_ip,
                  MacAddr dst_mac) {
    Frame fr(64);
    uint32_t n = build_arp_request(fr.data(), uint32_t(fr.size()), kPeerMac, sender_ip, target_ip);
    fr.resize(n);
    dst_mac.store(fr.data());
    if (op == 2) {
      fr[21] = 2;
      our_mac_.store(fr.data() + 32);
    }
    return fr;
  }

  RingPort ring_;
  std::unique_ptr<PacketDriver> driver_;
  DpdkDriver* dd_ = nullptr;
  MacAddr our_mac_;
};

TEST_F(DpdkDriverTest, Caps) {
  start(1);
  DriverCaps c = driver_->caps();
  EXPECT_TRUE(c.link_layer);
  EXPECT_FALSE(our_mac_.is_zero());  // net_ring has none: the driver made one up
  EXPECT_FALSE(our_mac_.is_multicast());
  EXPECT_STREQ(driver_->name(), "dpdk");
  auto eps = driver_->local_endpoints(0);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].to_string(), "198.18.0.1:3478");
  EXPECT_EQ(eps[1].to_string(), "[2001:2::1]:3478");
}

TEST_F(DpdkDriverTest, AnswersArpRequestAndLearnsSender) {
  start(1);
  inject(arp_frame(1, kPeerIp4, kOurIp4, MacAddr::broadcast()));
  EXPECT_TRUE(poll().empty());
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  FrameInfo info;
  Drop why;
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why));
  EXPECT_EQ(info.kind, FrameKind::kArp);
  EXPECT_EQ(info.arp_op, 2);
  EXPECT_EQ(info.dst_mac, kPeerMac);
  EXPECT_EQ(info.src_mac, our_mac_);
  EXPECT_EQ(info.lla, our_mac_);
  EXPECT_EQ(std::memcmp(info.src.addr, kOurIp4, 4), 0);
  EXPECT_EQ(std::memcmp(info.dst.addr, kPeerIp4, 4), 0);
  EXPECT_EQ(driver_->stats(0).arp_replies.get(), 1u);
  EXPECT_EQ(dd_->neighbors(0, 0).size(), 1u);

  // A request for someone else is not answered.
  const uint8_t other[4] = {198, 18, 0, 9};
  inject(arp_frame(1, kPeerIp4, other, MacAddr::broadcast()));
  poll();
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(drops(Drop::kNotForUs), 1u);
}

TEST_F(DpdkDriverTest, AnswersIcmpEchoV4) {
  start(1);
  const char payload[] = "abcdefgh01234567";
  Frame fr(14 + 20 + 8 + 16);
  write_ethernet(fr.data(), our_mac_, kPeerMac, kEtherTypeIpv4);
  write_ipv4(fr.data() + 14, kPeerIp4, kOurIp4, 1, 64, 8 + 16, true);
  uint8_t* icmp = fr.data() + 34;
  icmp[0] = 8;
  store_be16(icmp + 4, 0x1234);
  store_be16(icmp + 6, 7);
  std::memcpy(icmp + 8, payload, 16);
  store_be16(icmp + 2, internet_checksum(icmp, 24));
  inject(fr);
  EXPECT_TRUE(poll().empty());
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_GE(out[0].size(), 58u);
  const uint8_t* r = out[0].data();
  EXPECT_EQ(MacAddr::load(r), kPeerMac);
  EXPECT_EQ(MacAddr::load(r + 6), our_mac_);
  EXPECT_EQ(std::memcmp(r + 26, kOurIp4, 4), 0);  // IPv4 source
  EXPECT_EQ(std::memcmp(r + 30, kPeerIp4, 4), 0);
  EXPECT_EQ(internet_checksum(r + 14, 20), 0);  // header checksum valid
  EXPECT_EQ(r[34], 0);                          // echo reply
  EXPECT_TRUE(icmp4_checksum_ok(r + 34, 24));
  EXPECT_EQ(std::memcmp(r + 42, payload, 16), 0);
  EXPECT_EQ(driver_->stats(0).icmp_echo_replies.get(), 1u);
}

TEST_F(DpdkDriverTest, AnswersIcmpEchoV6ToLinkLocal) {
  start(1);
  uint8_t ll[16] = {0xfe, 0x80};
  ll[8] = our_mac_.b[0] ^ 2, ll[9] = our_mac_.b[1], ll[10] = our_mac_.b[2];
  ll[11] = 0xff, ll[12] = 0xfe;
  ll[13] = our_mac_.b[3], ll[14] = our_mac_.b[4], ll[15] = our_mac_.b[5];
  Frame fr(14 + 40 + 8 + 4);
  write_ethernet(fr.data(), our_mac_, kPeerMac, kEtherTypeIpv6);
  write_ipv6(fr.data() + 14, kPeerIp6, ll, 58, 64, 12);
  uint8_t* icmp = fr.data() + 54;
  icmp[0] = 128;
  std::memcpy(icmp + 8, "ping", 4);
  icmp6_fill_checksum(icmp, 12, kPeerIp6, ll);
  inject(fr);
  EXPECT_TRUE(poll().empty());
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  const uint8_t* r = out[0].data();
  EXPECT_EQ(std::memcmp(r + 22, ll, 16), 0);
  EXPECT_EQ(std::memcmp(r + 38, kPeerIp6, 16), 0);
  EXPECT_EQ(r[54], 129);
  EXPECT_TRUE(icmp6_checksum_ok(r + 54, 12, ll, kPeerIp6));
}

TEST_F(DpdkDriverTest, AnswersNeighborSolicitation) {
  start(1);
  Frame fr(128);
  uint32_t n = build_neighbor_solicit(fr.data(), 128, kPeerMac, kPeerIp6, kOurIp6);
  ASSERT_GT(n, 0u);
  fr.resize(n);
  inject(fr);
  poll();
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  FrameInfo info;
  Drop why;
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why)) << int(why);
  EXPECT_EQ(info.kind, FrameKind::kNeighborAdvert);
  EXPECT_EQ(std::memcmp(info.nd_target, kOurIp6, 16), 0);
  EXPECT_TRUE(info.has_lla);
  EXPECT_EQ(info.lla, our_mac_);
  EXPECT_TRUE(info.na_solicited);
  EXPECT_EQ(info.dst_mac, kPeerMac);
  EXPECT_EQ(driver_->stats(0).nd_replies.get(), 1u);
  EXPECT_EQ(dd_->neighbors(0, 0).size(), 1u);  // learned the solicitor
}

TEST_F(DpdkDriverTest, DeliversUdpWithEndpoints) {
  start(1);
  inject(udp_frame(kPeerIp4, kOurIp4, Family::kIpv4, 50000, 3478, "hello", our_mac_));
  inject(udp_frame(kPeerIp6, kOurIp6, Family::kIpv6, 50001, 3478, "hello6", our_mac_));
  inject(udp_frame(kPeerIp4, kOurIp4, Family::kIpv4, 50000, 3479, "wrong port", our_mac_));
  inject(udp_frame(kPeerIp4, kOurIp4, Family::kIpv4, 50000, 3478, "other mac", kPeerMac));
  Frame bad = udp_frame(kPeerIp4, kOurIp4, Family::kIpv4, 50000, 3478, "corrupt", our_mac_);
  bad.back() ^= 0xff;
  inject(bad);
  auto pkts = poll();
  // The UDP checksum is the worker's to check (RxVerified::defer_l4): the
  // corrupt datagram is delivered unverified, with the sum its payload
  // should have, which it does not.
  ASSERT_EQ(pkts.size(), 3u);
  for (Packet* p : pkts) EXPECT_FALSE(p->rx_verified);
  EXPECT_TRUE(checksum_matches(pkts[0]->data(), pkts[0]->len, pkts[0]->rx_sum));
  EXPECT_TRUE(checksum_matches(pkts[1]->data(), pkts[1]->len, pkts[1]->rx_sum));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(pkts[2]->data()), pkts[2]->len - 1), "corrup");
  EXPECT_FALSE(checksum_matches(pkts[2]->data(), pkts[2]->len, pkts[2]->rx_sum));
  driver_->free_bulk(0, &pkts[2], 1);
  pkts.pop_back();
  EXPECT_EQ(std::string(reinterpret_cast<char*>(pkts[0]->data()), pkts[0]->len), "hello");
  EXPECT_EQ(pkts[0]->remote.to_string(), "198.18.0.2:50000");
  EXPECT_EQ(pkts[0]->local.to_string(), "198.18.0.1:3478");
  EXPECT_EQ(pkts[0]->queue, 0);
  EXPECT_GE(pkts[0]->headroom(), 62u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(pkts[1]->data()), pkts[1]->len), "hello6");
  EXPECT_EQ(pkts[1]->remote.to_string(), "[2001:2::2]:50001");
  EXPECT_EQ(pkts[1]->local.to_string(), "[2001:2::1]:3478");
  EXPECT_EQ(drops(Drop::kNotForUs), 2u);
  EXPECT_EQ(drops(Drop::kBadChecksum), 0u);
  EXPECT_EQ(driver_->stats(0).rx_packets.get(), 5u);

  // Answer in place: the gleaned neighbour resolves, so both go out.
  uint16_t sent_n = driver_->tx_burst(0, pkts.data(), uint16_t(pkts.size()));
  EXPECT_EQ(sent_n, 2u);
  auto out = sent();
  ASSERT_EQ(out.size(), 2u);
  FrameInfo info;
  Drop why;
  ASSERT_TRUE(parse_frame(out[1].data(), uint32_t(out[1].size()), &info, &why)) << int(why);
  EXPECT_EQ(info.kind, FrameKind::kUdp);
  EXPECT_EQ(info.dst.to_string(), "[2001:2::2]:50001");
  EXPECT_EQ(info.src.to_string(), "[2001:2::1]:3478");
  EXPECT_EQ(info.dst_mac, kPeerMac);
}

TEST_F(DpdkDriverTest, TxToResolvedNeighbourBuildsValidFrame) {
  start(1);
  inject(arp_frame(2, kPeerIp4, kOurIp4, our_mac_));  // ARP reply teaches the peer's MAC
  poll();
  EXPECT_EQ(dd_->neighbors(0, 0).size(), 1u);
  Packet* p = nullptr;
  ASSERT_EQ(driver_->alloc_bulk(0, &p, 1), 1u);
  EXPECT_EQ(p->headroom(), kDefaultHeadroom);
  EXPECT_EQ(p->len, 0u);
  const std::string payload(1000, 'x');
  std::memcpy(p->append(uint32_t(payload.size())), payload.data(), payload.size());
  p->remote = Endpoint::v4(0xC6120002, 40000);  // 198.18.0.2
  p->local = Endpoint::v4(0xC6120001, 3478);
  ASSERT_EQ(driver_->tx_burst(0, &p, 1), 1u);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 42u + payload.size());
  FrameInfo info;
  Drop why = Drop::kCount;
  // parse_frame verifies the IPv4 header and UDP checksums.
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why)) << int(why);
  EXPECT_EQ(info.kind, FrameKind::kUdp);
  EXPECT_EQ(info.dst_mac, kPeerMac);
  EXPECT_EQ(info.src_mac, our_mac_);
  EXPECT_EQ(info.src.to_string(), "198.18.0.1:3478");
  EXPECT_EQ(info.dst.to_string(), "198.18.0.2:40000");
  EXPECT_EQ(info.payload_len, payload.size());
  EXPECT_NE(load_be16(out[0].data() + 40), 0);  // a real UDP checksum, not "none"
  EXPECT_EQ(driver_->stats(0).tx_packets.get(), 1u);
}

TEST_F(DpdkDriverTest, UnresolvedSendsOneArpRequestAndDrops) {
  start(1);
  Packet* p[3];
  ASSERT_EQ(driver_->alloc_bulk(0, p, 3), 3u);
  for (Packet* x : p) {
    std::memcpy(x->append(4), "data", 4);
    x->remote = Endpoint::v4(0xC6120063, 40000);  // 198.18.0.99, never seen
    x->local = Endpoint{};                        // let the driver pick the source
  }
  EXPECT_EQ(driver_->tx_burst(0, p, 3), 0u);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  FrameInfo info;
  Drop why;
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why));
  EXPECT_EQ(info.kind, FrameKind::kArp);
  EXPECT_EQ(info.arp_op, 1);
  EXPECT_TRUE(info.dst_mac.is_broadcast());
  EXPECT_EQ(info.dst.addr_string(), "198.18.0.99");
  EXPECT_EQ(info.src.addr_string(), "198.18.0.1");
  EXPECT_EQ(drops(Drop::kArpUnresolved), 3u);

  // Off-link with no gateway: dropped, nothing asked.
  ASSERT_EQ(driver_->alloc_bulk(0, p, 1), 1u);
  p[0]->remote = Endpoint::v4(0xC6130005, 40000);  // 198.19.0.5
  EXPECT_EQ(driver_->tx_burst(0, p, 1), 0u);
  EXPECT_TRUE(sent().empty());

  // IPv6: one NS to the solicited-node group.
  ASSERT_EQ(driver_->alloc_bulk(0, p, 2), 2u);
  uint8_t target[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x63};
  p[0]->remote = Endpoint::v6(target, 1);
  p[1]->remote = Endpoint::v6(target, 1);
  EXPECT_EQ(driver_->tx_burst(0, p, 2), 0u);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why)) << int(why);
  EXPECT_EQ(info.kind, FrameKind::kNeighborSolicit);
  EXPECT_EQ(std::memcmp(info.nd_target, target, 16), 0);
  EXPECT_EQ(info.dst_mac.b[0], 0x33);

  // The NA teaches the MAC; the next send goes out.
  Frame na(128);
  write_ethernet(na.data(), our_mac_, kPeerMac, kEtherTypeIpv6);
  uint32_t icmp_len =
      write_neighbor_advert(na.data() + 54, target, kOurIp6, target, kPeerMac, 0x60);
  write_ipv6(na.data() + 14, target, kOurIp6, 58, 255, icmp_len);
  na.resize(54 + icmp_len);
  inject(na);
  poll();
  ASSERT_EQ(driver_->alloc_bulk(0, p, 1), 1u);
  p[0]->remote = Endpoint::v6(target, 1);
  EXPECT_EQ(driver_->tx_burst(0, p, 1), 1u);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why)) << int(why);
  EXPECT_EQ(info.kind, FrameKind::kUdp);
  EXPECT_EQ(info.dst_mac, kPeerMac);
}

TEST_F(DpdkDriverTest, GatewayUsedForOffLinkDestinations) {
  start(1, "gateway = \"198.18.0.254\"\n");
  const uint8_t gw[4] = {198, 18, 0, 254};
  Packet* p;
  ASSERT_EQ(driver_->alloc_bulk(0, &p, 1), 1u);
  p->remote = Endpoint::v4(0xC6130005, 40000);  // 198.19.0.5, off-link
  EXPECT_EQ(driver_->tx_burst(0, &p, 1), 0u);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  FrameInfo info;
  Drop why;
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why));
  EXPECT_EQ(info.dst.addr_string(), "198.18.0.254");  // asks for the gateway
  inject(arp_frame(2, gw, kOurIp4, our_mac_));
  poll();
  ASSERT_EQ(driver_->alloc_bulk(0, &p, 1), 1u);
  p->remote = Endpoint::v4(0xC6130005, 40000);
  EXPECT_EQ(driver_->tx_burst(0, &p, 1), 1u);
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(parse_frame(out[0].data(), uint32_t(out[0].size()), &info, &why));
  EXPECT_EQ(info.dst.addr_string(), "198.19.0.5");
  EXPECT_EQ(info.dst_mac, kPeerMac);
}

TEST_F(DpdkDriverTest, NeighbourLearnedOnOneQueueReachesTheOther) {
  start(2);
  Packet* p;
  ASSERT_EQ(driver_->alloc_bulk(1, &p, 1), 1u);
  p->remote = Endpoint::v4(0xC6120002, 40000);
  EXPECT_EQ(driver_->tx_burst(1, &p, 1), 0u);  // unresolved on queue 1: ARP request
  EXPECT_EQ(sent(1).size(), 1u);
  inject(arp_frame(2, kPeerIp4, kOurIp4, our_mac_), 0);  // the reply lands on queue 0
  poll(0);
  ASSERT_EQ(driver_->alloc_bulk(1, &p, 1), 1u);
  p->remote = Endpoint::v4(0xC6120002, 40000);
  EXPECT_EQ(driver_->tx_burst(1, &p, 1), 1u);
  EXPECT_EQ(sent(1).size(), 1u);
  EXPECT_EQ(driver_->local_endpoints(1)[0].port, 3479);
  // Housekeeping keeps a fresh entry.
  driver_->poll_housekeeping(1, 0);
  EXPECT_EQ(dd_->neighbors(1, 0).size(), 1u);
}

TEST_F(DpdkDriverTest, WaitRxIsBounded) {
  start(1);
  auto t0 = std::chrono::steady_clock::now();
  driver_->wait_rx(0, 2 * kMillisecond);
  auto dt = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(dt, std::chrono::seconds(1));
  EXPECT_FALSE(driver_->caps().rx_interrupts);  // net_ring has none
}

TEST_F(DpdkDriverTest, MissingPortIsNamed) {
  start(1);  // some port exists, just not the one asked for
  toml::table root = toml::parse(R"(
[dpdk]
[[dpdk.ports]]
name = "net_nosuch0"
ipv4 = "198.18.0.1/24"
)");
  auto d = make_dpdk_driver(*root["dpdk"].as_table(), DriverCommonConfig{});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("dpdk.ports[0].name = \"net_nosuch0\""), std::string::npos)
      << d.status();
}

}  // namespace
}  // namespace tern
