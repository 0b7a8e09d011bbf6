#include "drivers/socket/socket_driver.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/drivers/socket_test_util.h"

namespace tern {
namespace {

using testing::addr;
using testing::make_driver;
using testing::Peer;
using testing::rx_until;

std::string payload(const Packet* p) {
  return std::string(reinterpret_cast<const char*>(p->data()), p->len);
}

SocketConfig config_for(std::vector<Endpoint> addrs, bool gro = false, bool gso = false) {
  SocketConfig cfg;
  cfg.addresses = std::move(addrs);
  cfg.addresses_defaulted = false;
  cfg.gro = gro;
  cfg.gso = gso;
  cfg.buffers = 256;
  return cfg;
}

class SocketDriverFamily : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    loop_ = addr(GetParam());
    if (loop_.is_v6() && !testing::v6_loopback_available()) {
      GTEST_SKIP() << "::1 is not available on this host (IPv6 disabled)";
    }
  }
  Endpoint loop_;
};

TEST_P(SocketDriverFamily, RxFillsPayloadRemoteAndLocal) {
  auto d = make_driver(config_for({loop_}));
  ASSERT_TRUE(d.ok()) << d.status();
  const Endpoint local = (*d)->local_endpoints(0).at(0);
  EXPECT_TRUE(local.same_addr(loop_));
  Peer peer(loop_);
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(peer.send_to(local, "hello tern"));
  auto got = rx_until(**d, 0, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(payload(got[0]), "hello tern");
  EXPECT_EQ(got[0]->remote, peer.endpoint());
  EXPECT_EQ(got[0]->local, local);
  EXPECT_EQ(got[0]->queue, 0);
  EXPECT_EQ(got[0]->headroom(), kDefaultHeadroom);
  EXPECT_GE(got[0]->tailroom(), kSocketDataRoom - 10);
  EXPECT_EQ((*d)->stats(0).rx_packets.get(), 1u);
  EXPECT_EQ((*d)->stats(0).rx_bytes.get(), 10u);
  (*d)->free_bulk(0, got.data(), 1);
  EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
}

TEST_P(SocketDriverFamily, ReplyInPlaceReachesPeerFromServicePort) {
  auto d = make_driver(config_for({loop_}));
  ASSERT_TRUE(d.ok()) << d.status();
  const Endpoint local = (*d)->local_endpoints(0).at(0);
  Peer peer(loop_);
  ASSERT_TRUE(peer.send_to(local, "ping"));
  auto got = rx_until(**d, 0, 1);
  ASSERT_EQ(got.size(), 1u);
  std::memcpy(got[0]->data(), "pong", 4);  // answer in place: no swap needed
  ASSERT_NE(got[0]->append(3), nullptr);
  std::memcpy(got[0]->data() + 4, "!!!", 3);
  EXPECT_EQ((*d)->tx_burst(0, got.data(), 1), 1);
  std::string reply;
  Endpoint from;
  ASSERT_TRUE(peer.recv(&reply, &from));
  EXPECT_EQ(reply, "pong!!!");
  EXPECT_EQ(from, local);
  EXPECT_EQ((*d)->stats(0).tx_packets.get(), 1u);
  EXPECT_EQ((*d)->stats(0).tx_bytes.get(), 7u);
  EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
}

TEST_P(SocketDriverFamily, WildcardReportsRealLocalAddressAndRepliesFromIt) {
  const bool v4 = loop_.is_v4();
  // GSO on: the pktinfo and UDP_SEGMENT cmsgs must combine in one message.
  auto d = make_driver(config_for({addr(v4 ? "0.0.0.0" : "::")}, false, /*gso=*/true));
  ASSERT_TRUE(d.ok()) << d.status();
  const uint16_t port = (*d)->local_endpoints(0).at(0).port;
  // 127.0.0.2 is a loopback address too: the reply must come from it, not 127.0.0.1.
  const Endpoint target = addr(v4 ? "127.0.0.2" : "::1", port);
  Peer peer(loop_);
  ASSERT_TRUE(peer.send_to(target, "who am i"));
  auto got = rx_until(**d, 0, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->local, target);
  EXPECT_EQ(got[0]->remote, peer.endpoint());
  EXPECT_EQ((*d)->tx_burst(0, got.data(), 1), 1);
  std::string reply;
  Endpoint from;
  ASSERT_TRUE(peer.recv(&reply, &from));
  EXPECT_EQ(reply, "who am i");
  EXPECT_EQ(from, target);
  // A GSO-sized group from the same source address.
  Packet* p[4];
  ASSERT_EQ((*d)->alloc_bulk(0, p, 4), 4);
  for (int i = 0; i < 4; ++i) {
    std::memset(p[i]->append(500), 'k' + i, 500);
    p[i]->remote = peer.endpoint();
    p[i]->local = target;
  }
  EXPECT_EQ((*d)->tx_burst(0, p, 4), 4);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(peer.recv(&reply, &from)) << i;
    EXPECT_EQ(reply, std::string(500, char('k' + i)));
    EXPECT_EQ(from, target);
  }
  EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
}

TEST_P(SocketDriverFamily, ManyDatagramsInOneBurstAndAcrossBursts) {
  auto d = make_driver(config_for({loop_}, /*gro=*/true));
  ASSERT_TRUE(d.ok()) << d.status();
  const Endpoint local = (*d)->local_endpoints(0).at(0);
  Peer peer(loop_);
  constexpr int kCount = 100;
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(peer.send_to(local, "msg" + std::to_string(i)));
  auto got = rx_until(**d, 0, kCount, 7);
  ASSERT_EQ(got.size(), size_t{kCount});
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(payload(got[i]), "msg" + std::to_string(i));
  (*d)->free_bulk(0, got.data(), kCount);
  EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
}

TEST_P(SocketDriverFamily, TxBurstToPeerWithAndWithoutGso) {
  for (bool gso : {false, true}) {
    SCOPED_TRACE(gso ? "gso" : "no gso");
    auto d = make_driver(config_for({loop_}, false, gso));
    ASSERT_TRUE(d.ok()) << d.status();
    Peer peer(loop_);
    const Endpoint local = (*d)->local_endpoints(0).at(0);
    // 20 x 1000 bytes, then one 300-byte tail, then 5 x 700 (a new group).
    std::vector<uint32_t> sizes(20, 1000);
    sizes.push_back(300);
    for (int i = 0; i < 5; ++i) sizes.push_back(700);
    std::vector<Packet*> pkts(sizes.size());
    ASSERT_EQ((*d)->alloc_bulk(0, pkts.data(), pkts.size()), pkts.size());
    for (size_t i = 0; i < pkts.size(); ++i) {
      uint8_t* w = pkts[i]->append(sizes[i]);
      ASSERT_NE(w, nullptr);
      std::memset(w, 'a' + int(i % 26), sizes[i]);
      pkts[i]->remote = peer.endpoint();
      pkts[i]->local = local;
    }
    EXPECT_EQ((*d)->tx_burst(0, pkts.data(), pkts.size()), pkts.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::string got;
      Endpoint from;
      ASSERT_TRUE(peer.recv(&got, &from)) << i;
      EXPECT_EQ(got, std::string(sizes[i], char('a' + int(i % 26)))) << i;
      EXPECT_EQ(from, local);
    }
    EXPECT_EQ((*d)->stats(0).tx_packets.get(), sizes.size());
    EXPECT_EQ((*d)->stats(0).drops.total(), 0u);
    EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
  }
}

INSTANTIATE_TEST_SUITE_P(Loopback, SocketDriverFamily, ::testing::Values("127.0.0.1", "::1"),
                         [](const auto& info) {
                           return std::string(addr(info.param).is_v4() ? "v4" : "v6");
                         });

TEST(SocketDriver, PoolExhaustionReturnsFewerBuffers) {
  SocketConfig cfg = config_for({addr("127.0.0.1")});
  cfg.buffers = 40;
  auto d = make_driver(cfg);
  ASSERT_TRUE(d.ok()) << d.status();
  Packet* a[kMaxBurst];
  Packet* b[kMaxBurst];
  Packet* c[kMaxBurst];
  EXPECT_EQ((*d)->alloc_bulk(0, a, kMaxBurst), kMaxBurst);
  EXPECT_EQ((*d)->alloc_bulk(0, b, kMaxBurst), 8);
  EXPECT_EQ((*d)->alloc_bulk(0, c, kMaxBurst), 0);
  // A datagram arriving with the pool empty waits in the socket buffer.
  Peer peer(addr("127.0.0.1"));
  ASSERT_TRUE(peer.send_to((*d)->local_endpoints(0)[0], "later"));
  usleep(20000);
  EXPECT_EQ((*d)->rx_burst(0, c, kMaxBurst), 0);
  (*d)->free_bulk(0, b, 8);
  auto got = rx_until(**d, 0, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(payload(got[0]), "later");
  (*d)->free_bulk(0, got.data(), 1);
  (*d)->free_bulk(0, a, kMaxBurst);
  EXPECT_EQ((*d)->pool_available(0), 40u);
  // Fresh buffers are empty with the default headroom.
  ASSERT_EQ((*d)->alloc_bulk(0, a, 1), 1);
  EXPECT_EQ(a[0]->len, 0u);
  EXPECT_EQ(a[0]->headroom(), kDefaultHeadroom);
  EXPECT_EQ(a[0]->remote.family, Family::kNone);
  EXPECT_NE(a[0]->handle, nullptr);
  (*d)->free_bulk(0, a, 1);
}

TEST(SocketDriver, TxToInvalidDestinationCountsDropAndFreesBuffer) {
  auto d = make_driver(config_for({addr("0.0.0.0")}));
  ASSERT_TRUE(d.ok()) << d.status();
  const uint32_t full = (*d)->pool_available(0);
  Packet* p[4];
  ASSERT_EQ((*d)->alloc_bulk(0, p, 4), 4);
  for (Packet* x : p) std::memcpy(x->append(4), "drop", 4);
  // [0] no destination at all; [1] port 0; [2] IPv6 on a v4-only driver;
  // [3] a source address that is not ours (the kernel refuses: no traffic).
  p[1]->remote = addr("127.0.0.1", 0);
  p[2]->remote = addr("::1", 9);
  p[3]->remote = addr("127.0.0.1", 9);
  p[3]->local = addr("192.0.2.1", 9);
  EXPECT_EQ((*d)->tx_burst(0, p, 4), 0);
  EXPECT_EQ((*d)->stats(0).drops.total(), 4u);
  EXPECT_EQ((*d)->stats(0).tx_packets.get(), 0u);
  EXPECT_EQ((*d)->pool_available(0), full);
}

TEST(SocketDriver, OversizedDatagramIsDropped) {
  for (bool gro : {false, true}) {
    auto d = make_driver(config_for({addr("127.0.0.1")}, gro));
    ASSERT_TRUE(d.ok()) << d.status();
    Peer peer(addr("127.0.0.1"));
    const Endpoint local = (*d)->local_endpoints(0)[0];
    ASSERT_TRUE(peer.send_to(local, std::string(3000, 'x')));
    ASSERT_TRUE(peer.send_to(local, "small"));
    auto got = rx_until(**d, 0, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(payload(got[0]), "small");
    EXPECT_EQ((*d)->stats(0).drops.get(Drop::kNoBuffer), 1u);
    (*d)->free_bulk(0, got.data(), 1);
    EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
  }
}

TEST(SocketDriver, QueuesServeConsecutivePortsAndFreeAcrossQueues) {
  SocketConfig cfg = config_for({addr("127.0.0.1")});
  cfg.buffers = 32;
  auto d = make_driver(cfg, 2);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ((*d)->num_queues(), 2);
  const Endpoint e0 = (*d)->local_endpoints(0)[0];
  const Endpoint e1 = (*d)->local_endpoints(1)[0];
  EXPECT_EQ(e1.port, e0.port + 1);
  Peer peer(addr("127.0.0.1"));
  ASSERT_TRUE(peer.send_to(e1, "for q1"));
  auto got = rx_until(**d, 1, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->queue, 1);
  EXPECT_EQ(got[0]->local, e1);
  Packet* none[1];
  EXPECT_EQ((*d)->rx_burst(0, none, 1), 0);
  // A queue-1 packet freed by worker 0 goes back to queue 1's pool.
  (*d)->free_bulk(0, got.data(), 1);
  Packet* all[kMaxBurst];
  EXPECT_EQ((*d)->alloc_bulk(1, all, kMaxBurst), kMaxBurst);
  (*d)->free_bulk(1, all, kMaxBurst);
}

TEST(SocketDriver, OneQueueServesV4AndV6SocketsInOneBurst) {
  if (!testing::v6_loopback_available()) {
    GTEST_SKIP() << "::1 is not available on this host (IPv6 disabled)";
  }
  auto d = make_driver(config_for({addr("127.0.0.1"), addr("::1")}));
  ASSERT_TRUE(d.ok()) << d.status();
  const auto eps = (*d)->local_endpoints(0);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].port, eps[1].port);
  Peer p4(addr("127.0.0.1")), p6(addr("::1"));
  ASSERT_TRUE(p4.send_to(eps[0], "four"));
  ASSERT_TRUE(p6.send_to(eps[1], "six"));
  auto got = rx_until(**d, 0, 2);
  ASSERT_EQ(got.size(), 2u);
  // Both replies in one burst: each leaves through its own family's socket.
  EXPECT_EQ((*d)->tx_burst(0, got.data(), 2), 2);
  std::string r4, r6;
  Endpoint f4, f6;
  ASSERT_TRUE(p4.recv(&r4, &f4));
  ASSERT_TRUE(p6.recv(&r6, &f6));
  EXPECT_EQ(r4, "four");
  EXPECT_EQ(f4, eps[0]);
  EXPECT_EQ(r6, "six");
  EXPECT_EQ(f6, eps[1]);
}

TEST(SocketDriver, WaitRxReturnsEarlyWhenReadable) {
  auto d = make_driver(config_for({addr("127.0.0.1")}));
  ASSERT_TRUE(d.ok()) << d.status();
  Peer peer(addr("127.0.0.1"));
  ASSERT_TRUE(peer.send_to((*d)->local_endpoints(0)[0], "wake"));
  const auto t0 = std::chrono::steady_clock::now();
  (*d)->wait_rx(0, 10 * kSecond);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  Packet* p[1];
  ASSERT_EQ((*d)->rx_burst(0, p, 1), 1);
  (*d)->free_bulk(0, p, 1);
  (*d)->wait_rx(0, 1 * kMillisecond);  // nothing pending: times out
}

TEST(SocketDriver, BindFailureNamesAddressPortAndErrno) {
  Peer holder(addr("127.0.0.1"));
  ASSERT_TRUE(holder.ok());
  DriverCommonConfig common;
  common.base_port = holder.endpoint().port;
  auto d = SocketDriver::create(config_for({addr("127.0.0.1")}), common);
  ASSERT_FALSE(d.ok());
  const std::string msg(d.status().message());
  EXPECT_NE(msg.find("bind 127.0.0.1:" + std::to_string(common.base_port)), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("Address already in use"), std::string::npos) << msg;
}

TEST(SocketDriver, CapsReportLinkLayerOffAndOffloadsAsConfigured) {
  auto off = make_driver(config_for({addr("127.0.0.1")}, false, false));
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE((*off)->caps().link_layer);
  EXPECT_FALSE((*off)->caps().gro);
  EXPECT_FALSE((*off)->caps().gso);
  EXPECT_STREQ((*off)->name(), "socket");
}

}  // namespace
}  // namespace tern
