// SocketDriver::open_port / close_port: extra UDP ports (TURN relayed
// addresses) received through the queue's epoll set and sent from by local
// address and port.
#include <string>

#include "drivers/socket/socket_driver.h"
#include "gtest/gtest.h"
#include "tests/unit/drivers/socket_test_util.h"

namespace tern {
namespace {

using testing::addr;
using testing::make_driver;
using testing::Peer;
using testing::pick_free_base_port;
using testing::rx_until;

SocketConfig loop_config() {
  SocketConfig cfg;
  cfg.addresses = {addr("127.0.0.1")};
  cfg.addresses_defaulted = false;
  cfg.buffers = 256;
  return cfg;
}

TEST(SocketDriverPorts, OpenReceiveSendFromAndClose) {
  auto d = make_driver(loop_config());
  ASSERT_TRUE(d.ok()) << d.status();
  SocketDriver& drv = **d;
  const uint16_t port = pick_free_base_port(3);
  ASSERT_NE(port, 0);
  const Endpoint relay = addr("127.0.0.1", port);
  const Endpoint relay2 = addr("127.0.0.1", uint16_t(port + 2));
  ASSERT_TRUE(drv.open_port(0, relay).ok());
  ASSERT_TRUE(drv.open_port(0, relay2).ok());
  EXPECT_EQ(drv.open_ports(0), 2u);
  EXPECT_EQ(drv.open_port(0, relay).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(drv.open_port(0, addr("0.0.0.0", port)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(drv.local_endpoints(0).size(), 1u);  // extra ports are not listening endpoints

  Peer peer(addr("127.0.0.1"));
  ASSERT_TRUE(peer.ok());
  // To the main port and to both extra ports: each arrives with its local.
  ASSERT_TRUE(peer.send_to(drv.local_endpoints(0)[0], "main"));
  ASSERT_TRUE(peer.send_to(relay, "relay"));
  ASSERT_TRUE(peer.send_to(relay2, "relay2"));
  std::vector<Packet*> got = rx_until(drv, 0, 3);
  ASSERT_EQ(got.size(), 3u);
  int seen = 0;
  for (Packet* p : got) {
    const std::string s(reinterpret_cast<const char*>(p->data()), p->len);
    EXPECT_EQ(p->remote, peer.endpoint());
    if (s == "relay") {
      EXPECT_EQ(p->local, relay);
      seen |= 1;
    } else if (s == "relay2") {
      EXPECT_EQ(p->local, relay2);
      seen |= 2;
    } else if (s == "main") {
      EXPECT_EQ(p->local.port, drv.local_endpoints(0)[0].port);
      seen |= 4;
    }
  }
  EXPECT_EQ(seen, 7);

  // Send from the relayed port: local selects the socket.
  Packet* out = got[0];
  const char msg[] = "from-relay";
  out->reset();
  std::memcpy(out->append(sizeof(msg) - 1), msg, sizeof(msg) - 1);
  out->remote = peer.endpoint();
  out->local = relay2;
  drv.free_bulk(0, got.data() + 1, uint16_t(got.size() - 1));
  ASSERT_EQ(drv.tx_burst(0, &out, 1), 1);
  std::string data;
  Endpoint from;
  ASSERT_TRUE(peer.recv(&data, &from));
  EXPECT_EQ(data, "from-relay");
  EXPECT_EQ(from, relay2);

  // Closed: nothing arrives any more, the port is free again.
  drv.close_port(0, relay);
  EXPECT_EQ(drv.open_ports(0), 1u);
  ASSERT_TRUE(peer.send_to(relay, "late"));
  EXPECT_TRUE(rx_until(drv, 0, 1, kMaxBurst, 200).empty());
  Peer rebind(relay);
  EXPECT_TRUE(rebind.ok());
  drv.close_port(0, relay2);
  drv.close_port(0, relay2);  // twice: no-op
  EXPECT_EQ(drv.open_ports(0), 0u);
  EXPECT_EQ(drv.pool_available(0), drv.pool_size(0));
}

TEST(SocketDriverPorts, ManyPortsSlotsReused) {
  auto d = make_driver(loop_config());
  ASSERT_TRUE(d.ok()) << d.status();
  SocketDriver& drv = **d;
  std::vector<Endpoint> opened;
  for (int i = 0; i < 40 && opened.size() < 20; ++i) {
    Endpoint e;
    {
      Peer probe(addr("127.0.0.1"));  // an ephemeral port, free once probe closes
      e = probe.endpoint();
    }
    if (drv.open_port(0, e).ok()) opened.push_back(e);
  }
  ASSERT_EQ(opened.size(), 20u);
  for (size_t i = 0; i < opened.size(); i += 2) drv.close_port(0, opened[i]);
  Peer peer(addr("127.0.0.1"));
  for (size_t i = 1; i < opened.size(); i += 2) ASSERT_TRUE(peer.send_to(opened[i], "x"));
  std::vector<Packet*> got = rx_until(drv, 0, 10);
  EXPECT_EQ(got.size(), 10u);
  drv.free_bulk(0, got.data(), uint16_t(got.size()));
}

}  // namespace
}  // namespace tern
