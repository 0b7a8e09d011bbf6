// Config parsing and the neighbour table: no EAL needed.
#include "drivers/dpdk/dpdk_config.h"

#include <gtest/gtest.h>

#include <cstring>

#include "drivers/dpdk/neighbor_table.h"

namespace tern {
namespace {

toml::table section(const char* text) {
  toml::table root = toml::parse(text);
  return *root["dpdk"].as_table();
}

TEST(DpdkConfig, ParsesAllKeys) {
  auto c = parse_dpdk_config(section(R"(
[dpdk]
eal_args = ["--no-pci", "--vdev=net_ring0"]
mbufs = 4095
rx_desc = 512
tx_desc = 256
[[dpdk.ports]]
port = 0
ipv4 = "198.18.0.1/24"
ipv6 = "2001:2::1/64"
gateway = "198.18.0.254"
gateway6 = "2001:2::fe"
[[dpdk.ports]]
name = "net_af_packet0"
ipv4 = "198.19.0.1/16"
)"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->eal_args.size(), 2u);
  EXPECT_EQ(c->mbufs, 4095u);
  EXPECT_EQ(c->rx_desc, 512);
  EXPECT_EQ(c->tx_desc, 256);
  ASSERT_EQ(c->ports.size(), 2u);
  EXPECT_EQ(*c->ports[0].port_id, 0);
  EXPECT_EQ(c->ports[0].ipv4->length, 24);
  EXPECT_EQ(c->ports[0].ipv4->addr.addr_string(), "198.18.0.1");
  EXPECT_EQ(c->ports[0].ipv6->length, 64);
  EXPECT_EQ(c->ports[0].gateway4->addr_string(), "198.18.0.254");
  EXPECT_EQ(c->ports[0].gateway6->addr_string(), "2001:2::fe");
  EXPECT_EQ(c->ports[1].name, "net_af_packet0");
  EXPECT_FALSE(c->ports[1].port_id.has_value());
  EXPECT_FALSE(c->ports[1].ipv6.has_value());
}

void expect_error(const char* text, const char* needle) {
  auto c = parse_dpdk_config(section(text));
  ASSERT_FALSE(c.ok()) << text;
  EXPECT_NE(c.status().message().find(needle), std::string::npos) << c.status();
}

TEST(DpdkConfig, ErrorsNameKeyAndValue) {
  expect_error("[dpdk]\nmbufs = 3\n[[dpdk.ports]]\nport=0\nipv4=\"198.18.0.1/24\"",
               "dpdk.mbufs: must be 1023..16777216, got 3");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=0\nipv4=\"198.18.0.300/24\"",
               "dpdk.ports[0].ipv4: not an IPv4 address, got \"198.18.0.300/24\"");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=0\nipv4=\"198.18.0.1/40\"", "prefix length");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=0\nipv4=\"198.18.0.1\"", "a.b.c.d/len");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=0\nipv6=\"198.18.0.1/24\"", "not an IPv6");
  expect_error("[dpdk]\n[[dpdk.ports]]\nipv4=\"198.18.0.1/24\"", "dpdk.ports[0]: needs `port");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=1\nname=\"x\"\nipv4=\"198.18.0.1/24\"", "not both");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=1\n", "needs an address");
  expect_error("[dpdk]\neal_args=\"--no-pci\"\n[[dpdk.ports]]\nport=0\nipv4=\"198.18.0.1/24\"",
               "dpdk.eal_args");
  expect_error("[dpdk]\nmbuf=1\n", "dpdk.mbuf: unknown key");
  expect_error("[dpdk]\n", "dpdk.ports");
  expect_error("[dpdk]\n[[dpdk.ports]]\nport=0\nipv4=\"198.18.0.1/24\"\ngateway=\"198.19.0.1\"",
               "dpdk.ports[0].gateway: \"198.19.0.1\" is not inside");
}

TEST(IpPrefix, Contains) {
  auto p = IpPrefix::parse("198.18.0.1/23", Family::kIpv4);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->contains(*Endpoint::parse("198.18.1.200")));
  EXPECT_FALSE(p->contains(*Endpoint::parse("198.18.2.1")));
  EXPECT_FALSE(p->contains(*Endpoint::parse("2001:2::1")));
  auto p6 = IpPrefix::parse("2001:2::1/64", Family::kIpv6);
  ASSERT_TRUE(p6.ok());
  EXPECT_TRUE(p6->contains(*Endpoint::parse("2001:2::abcd")));
  EXPECT_FALSE(p6->contains(*Endpoint::parse("2001:2:0:1::1")));
}

TEST(NeighborTable, LearnFindAge) {
  NeighborTable t(16);
  uint8_t ip[4] = {198, 18, 0, 7};
  MacAddr mac{{2, 0, 0, 0, 0, 7}};
  EXPECT_EQ(t.find(Family::kIpv4, ip), nullptr);
  ASSERT_TRUE(t.learn(Family::kIpv4, ip, mac, 100));
  NeighborEntry* e = t.find(Family::kIpv4, ip);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->state, NeighborEntry::kReachable);
  EXPECT_EQ(e->mac, mac);
  // Same bytes as an IPv6 key are a different entry.
  uint8_t ip6[16] = {198, 18, 0, 7};
  EXPECT_EQ(t.find(Family::kIpv6, ip6), nullptr);
  EXPECT_EQ(t.age(150, 100, 10), 0u);
  EXPECT_EQ(t.age(201, 100, 10), 1u);
  EXPECT_EQ(t.find(Family::kIpv4, ip), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

TEST(NeighborTable, FullTableRefusesAndDeletionKeepsProbeChains) {
  NeighborTable t(16);  // 32 slots, at most 16 entries
  const uint32_t cap = t.capacity() / 2;
  for (uint32_t i = 0; i < cap; ++i) {
    uint8_t ip[4] = {198, 18, uint8_t(i >> 8), uint8_t(i)};
    ASSERT_TRUE(t.learn(Family::kIpv4, ip, MacAddr{{2, 0, 0, 0, 0, uint8_t(i)}}, i));
  }
  uint8_t extra[4] = {198, 19, 0, 1};
  EXPECT_FALSE(t.learn(Family::kIpv4, extra, MacAddr{{2, 0, 0, 0, 0, 1}}, 0));
  // Expire the even-numbered ones (older), keep the odd ones, all findable.
  for (uint32_t i = 0; i < cap; i += 2) {
    uint8_t ip[4] = {198, 18, uint8_t(i >> 8), uint8_t(i)};
    t.find(Family::kIpv4, ip)->confirmed = 0;
  }
  for (uint32_t i = 1; i < cap; i += 2) {
    uint8_t ip[4] = {198, 18, uint8_t(i >> 8), uint8_t(i)};
    t.find(Family::kIpv4, ip)->confirmed = 1000;
  }
  EXPECT_EQ(t.age(1000, 500, 500), cap / 2);
  for (uint32_t i = 0; i < cap; ++i) {
    uint8_t ip[4] = {198, 18, uint8_t(i >> 8), uint8_t(i)};
    NeighborEntry* e = t.find(Family::kIpv4, ip);
    if (i % 2) {
      ASSERT_NE(e, nullptr) << i;
      EXPECT_EQ(e->mac.b[5], uint8_t(i));
    } else {
      EXPECT_EQ(e, nullptr) << i;
    }
  }
  EXPECT_TRUE(t.learn(Family::kIpv4, extra, MacAddr{{2, 0, 0, 0, 0, 1}}, 0));
}

}  // namespace
}  // namespace tern
