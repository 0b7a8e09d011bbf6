// Socket driver: GRO receive path and [socket] config parsing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "drivers/socket/socket_config.h"
#include "drivers/socket/socket_driver.h"
#include "tests/unit/drivers/socket_test_util.h"

namespace tern {
namespace {

using testing::addr;
using testing::make_driver;
using testing::Peer;
using testing::rx_until;

// The peer sends one UDP_SEGMENT super-datagram; on loopback the kernel hands
// it to a UDP_GRO socket still coalesced, which exercises the split path.
bool send_gso(Peer& peer, const Endpoint& to, const std::string& data, uint16_t seg) {
  sockaddr_storage ss;
  socklen_t sl = testing::make_sa(to, &ss);
  iovec iov{const_cast<char*>(data.data()), data.size()};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(uint16_t))] = {};
  msghdr h{};
  h.msg_name = &ss;
  h.msg_namelen = sl;
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  h.msg_control = ctrl;
  h.msg_controllen = sizeof(ctrl);
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  std::memcpy(CMSG_DATA(c), &seg, sizeof(seg));
  return sendmsg(peer.fd(), &h, 0) == static_cast<ssize_t>(data.size());
}

std::string segment_bytes(int msg, int i, size_t len) {
  std::string s(len, char('A' + (msg * 7 + i) % 26));
  s[0] = char(i);  // each segment identifies itself
  return s;
}

class SocketGro : public ::testing::TestWithParam<const char*> {};

TEST_P(SocketGro, CoalescedReceiveSplitsIntoSegments) {
  const Endpoint loop = addr(GetParam());
  if (loop.is_v6() && !testing::v6_loopback_available()) {
    GTEST_SKIP() << "::1 is not available on this host (IPv6 disabled)";
  }
  SocketConfig cfg;
  cfg.addresses = {loop};
  cfg.addresses_defaulted = false;
  cfg.buffers = 512;
  auto d = make_driver(cfg);
  ASSERT_TRUE(d.ok()) << d.status();
  if (!(*d)->caps().gro) GTEST_SKIP() << "kernel has no UDP_GRO";
  Peer peer(loop);
  const Endpoint local = (*d)->local_endpoints(0)[0];
  // Three super-datagrams: 40 x 1000 + 333 tail, 10 x 1200 exact, 64 x 100.
  struct Msg {
    int segs;
    uint16_t seg;
    size_t tail;
  };
  const std::vector<Msg> msgs = {{41, 1000, 333}, {10, 1200, 1200}, {64, 100, 100}};
  std::vector<std::string> want;
  for (size_t m = 0; m < msgs.size(); ++m) {
    std::string all;
    for (int i = 0; i < msgs[m].segs; ++i) {
      std::string s = segment_bytes(int(m), i, i + 1 == msgs[m].segs ? msgs[m].tail : msgs[m].seg);
      all += s;
      want.push_back(s);
    }
    if (!send_gso(peer, local, all, msgs[m].seg)) GTEST_SKIP() << "peer has no UDP_SEGMENT";
  }
  // Small bursts so a coalesced receive spans several rx_burst calls.
  auto got = rx_until(**d, 0, want.size(), 9);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(std::string(reinterpret_cast<char*>(got[i]->data()), got[i]->len), want[i]) << i;
    EXPECT_EQ(got[i]->remote, peer.endpoint());
    EXPECT_EQ(got[i]->local, local);
    EXPECT_EQ(got[i]->headroom(), kDefaultHeadroom);
  }
  EXPECT_EQ((*d)->stats(0).rx_packets.get(), want.size());
  (*d)->free_bulk(0, got.data(), got.size());
  EXPECT_EQ((*d)->pool_available(0), (*d)->pool_size(0));
}

TEST_P(SocketGro, PoolTooSmallForAllSegmentsDropsTheRest) {
  const Endpoint loop = addr(GetParam());
  if (loop.is_v6() && !testing::v6_loopback_available()) {
    GTEST_SKIP() << "::1 is not available on this host (IPv6 disabled)";
  }
  SocketConfig cfg;
  cfg.addresses = {loop};
  cfg.addresses_defaulted = false;
  cfg.buffers = 32;
  auto d = make_driver(cfg);
  ASSERT_TRUE(d.ok()) << d.status();
  if (!(*d)->caps().gro) GTEST_SKIP() << "kernel has no UDP_GRO";
  Peer peer(loop);
  std::string all;
  for (int i = 0; i < 50; ++i) all += segment_bytes(0, i, 500);
  if (!send_gso(peer, (*d)->local_endpoints(0)[0], all, 500)) {
    GTEST_SKIP() << "peer has no UDP_SEGMENT";
  }
  // Hold every packet: the pool (32) runs out after 32 segments.
  auto got = rx_until(**d, 0, 50, kMaxBurst, 300);
  EXPECT_EQ(got.size(), 32u);
  EXPECT_EQ((*d)->stats(0).drops.get(Drop::kNoBuffer), 18u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(std::string(reinterpret_cast<char*>(got[i]->data()), got[i]->len),
              segment_bytes(0, int(i), 500));
  }
  (*d)->free_bulk(0, got.data(), got.size());
  EXPECT_EQ((*d)->pool_available(0), 32u);
}

INSTANTIATE_TEST_SUITE_P(Loopback, SocketGro, ::testing::Values("127.0.0.1", "::1"),
                         [](const auto& info) {
                           return std::string(addr(info.param).is_v4() ? "v4" : "v6");
                         });

toml::table parse(const char* text) { return toml::parse(text); }

std::string error_of(const char* text) {
  auto cfg = parse_socket_config(parse(text));
  return cfg.ok() ? "" : std::string(cfg.status().message());
}

TEST(SocketConfig, EmptySectionGivesDefaults) {
  auto cfg = parse_socket_config(toml::table{});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->addresses.size(), 2u);
  EXPECT_EQ(cfg->addresses[0], addr("127.0.0.1"));
  EXPECT_EQ(cfg->addresses[1], addr("::1"));
  EXPECT_TRUE(cfg->addresses_defaulted);
  EXPECT_TRUE(cfg->gro);
  EXPECT_TRUE(cfg->gso);
  EXPECT_EQ(cfg->buffers, 4096u);
}

TEST(SocketConfig, ParsesAllKeys) {
  auto cfg = parse_socket_config(
      parse("addresses = [\"0.0.0.0\", \"::\"]\ngro = false\ngso = false\nbuffers = 100\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->addresses.size(), 2u);
  EXPECT_TRUE(cfg->addresses[1].is_v6());
  EXPECT_FALSE(cfg->addresses_defaulted);
  EXPECT_FALSE(cfg->gro);
  EXPECT_FALSE(cfg->gso);
  EXPECT_EQ(cfg->buffers, 100u);
}

TEST(SocketConfig, ErrorsNameTheKeyAndValue) {
  EXPECT_EQ(error_of("addresses = [\"127.0.0.1\", \"x\"]"),
            "socket.addresses[1]: not an IPv4 or IPv6 address: 'x'");
  EXPECT_EQ(error_of("addresses = [\"127.0.0.1:80\"]"),
            "socket.addresses[0]: not an IPv4 or IPv6 address: '127.0.0.1:80'");
  EXPECT_NE(error_of("addresses = [1]").find("socket.addresses[0]: must be an IP address string, got integer"),
            std::string::npos);
  EXPECT_NE(error_of("addresses = \"127.0.0.1\"").find("socket.addresses: must be an array of address strings, got string"),
            std::string::npos);
  EXPECT_NE(error_of("addresses = []").find("socket.addresses: must not be empty"), std::string::npos);
  EXPECT_NE(error_of("addresses = [\"::1\", \"::1\"]").find("socket.addresses[1]: duplicate"),
            std::string::npos);
  EXPECT_NE(error_of("gro = \"yes\"").find("socket.gro: must be true or false, got string \"yes\""),
            std::string::npos);
  EXPECT_NE(error_of("gso = 1").find("socket.gso: must be true or false, got integer 1"),
            std::string::npos);
  EXPECT_NE(error_of("buffers = 1").find("socket.buffers: must be 32..1048576, got 1"), std::string::npos);
  EXPECT_NE(error_of("buffers = \"many\"").find("socket.buffers: must be an integer, got string"),
            std::string::npos);
  EXPECT_NE(error_of("adresses = []").find("socket.adresses: unknown key"), std::string::npos);
}

TEST(SocketConfig, FactoryReportsConfigErrors) {
  DriverCommonConfig common;
  auto d = make_socket_driver(parse("addresses = [\"nope\"]"), common);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), "socket.addresses[0]: not an IPv4 or IPv6 address: 'nope'");
  common.num_queues = 0;
  d = make_socket_driver(toml::table{}, common);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("engine.workers"), std::string::npos);
}

TEST(SocketConfig, FactoryBuildsADriverFromTheDefaults) {
  DriverCommonConfig common;
  common.base_port = testing::pick_free_base_port();
  ASSERT_NE(common.base_port, 0);
  auto d = make_socket_driver(toml::table{}, common);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->num_queues(), 1);
  const auto eps = (*d)->local_endpoints(0);
  ASSERT_GE(eps.size(), 1u);
  EXPECT_EQ(eps[0], addr("127.0.0.1", common.base_port));
  if (testing::v6_loopback_available()) {
    ASSERT_EQ(eps.size(), 2u);
    EXPECT_EQ(eps[1], addr("::1", common.base_port));
  }
}

}  // namespace
}  // namespace tern
