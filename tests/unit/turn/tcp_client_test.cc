// TurnServer with clients on TCP/TLS (Transport::kTcp): the allocation is
// keyed by the transport with the 5-tuple, ChannelData towards the client is
// padded to 4 (§12.5), handle_peer() says the packet goes to a stream, and a
// closed connection frees its allocation at once.
#include <memory>

#include "engine/net/bytes.h"
#include "engine/turn/stream_framer.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server.h"
#include "gtest/gtest.h"
#include "tests/unit/turn/turn_test_util.h"

namespace tern {
namespace {

using namespace turntest;

constexpr Nanos kT0 = 1000 * kSecond;

class TurnTcpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TurnServer::create(test_config(), &hooks);
    ASSERT_TRUE(s.ok()) << s.status();
    srv = *std::move(s);
    c = std::make_unique<Client>(*srv, client, server, "alice", "alice-pass");
    c->set_transport(Transport::kTcp);
    ASSERT_EQ(c->allocate(kT0), 0);
    relay = c->relayed()[0];
    ASSERT_EQ(c->channel_bind(kT0, 0x4001, peer), 0);
  }

  FakeHooks hooks;
  std::unique_ptr<TurnServer> srv;
  std::unique_ptr<Client> c;
  Endpoint relay;
  const Endpoint client = ep("203.0.113.7:40000");
  const Endpoint server = ep("198.18.0.1:3478");
  const Endpoint peer = ep("198.18.5.5:7000");
};

TEST_F(TurnTcpTest, AllocationIsKeyedByTransport) {
  EXPECT_TRUE(srv->has_allocation(client, server, Transport::kTcp, kT0));
  EXPECT_FALSE(srv->has_allocation(client, server, Transport::kUdp, kT0));
  // The same addresses over UDP are another client: no allocation there.
  Bytes cd(4 + 8, 0x33);
  store_be16(cd.data(), 0x4001);
  store_be16(cd.data() + 2, 8);
  TestPacket udp(cd, client, server);
  EXPECT_FALSE(srv->handle_channel_data(&udp.pkt, kT0, Transport::kUdp));
  EXPECT_EQ(srv->stats().drops.get(Drop::kTurnNoAllocation), 1u);
  TestPacket tcp(cd, client, server);
  EXPECT_TRUE(srv->handle_channel_data(&tcp.pkt, kT0, Transport::kTcp));
  EXPECT_EQ(tcp.pkt.remote, peer);
  EXPECT_EQ(tcp.pkt.local, relay);
}

TEST_F(TurnTcpTest, PeerToTcpClientIsPaddedAndRoutedToTheStream) {
  for (uint32_t n : {1u, 2u, 3u, 4u, 5u, 100u}) {
    TestPacket p(Bytes(n, 0x5A), peer, relay);
    Transport t = Transport::kUdp;
    ASSERT_TRUE(srv->handle_peer(&p.pkt, kT0 + kSecond, &t));
    EXPECT_EQ(t, Transport::kTcp);
    EXPECT_EQ(p.pkt.remote, client);
    EXPECT_EQ(p.pkt.local, server);
    EXPECT_EQ(p.pkt.len % 4, 0u) << n;
    EXPECT_EQ(load_be16(p.pkt.data() + 2), n);
    // It is one frame for the stream, already padded.
    EXPECT_EQ(stream_wire_size(p.pkt.data(), p.pkt.len), p.pkt.len);
  }
}

TEST_F(TurnTcpTest, ClosedConnectionFreesTheAllocation) {
  ASSERT_EQ(hooks.open.size(), 1u);
  EXPECT_FALSE(srv->close_client(client, server, Transport::kUdp));
  EXPECT_TRUE(srv->close_client(client, server, Transport::kTcp));
  EXPECT_TRUE(hooks.open.empty()) << "relayed port closed";
  EXPECT_EQ(srv->allocation_count(), 0u);
  EXPECT_EQ(srv->stats().allocations_deleted.get(), 1u);
  EXPECT_FALSE(srv->has_allocation(client, server, Transport::kTcp, kT0));
  EXPECT_FALSE(srv->close_client(client, server, Transport::kTcp));
  TestPacket p(Bytes(10, 1), peer, relay);
  EXPECT_FALSE(srv->handle_peer(&p.pkt, kT0 + kSecond));
}

TEST_F(TurnTcpTest, UdpClientStillReportsUdp) {
  Client u(*srv, ep("203.0.113.8:40001"), server, "alice", "alice-pass");
  ASSERT_EQ(u.allocate(kT0), 0);
  ASSERT_EQ(u.channel_bind(kT0, 0x4002, peer), 0);
  TestPacket p(Bytes(5, 1), peer, u.relayed()[0]);
  Transport t = Transport::kTcp;
  ASSERT_TRUE(srv->handle_peer(&p.pkt, kT0 + kSecond, &t));
  EXPECT_EQ(t, Transport::kUdp);
  EXPECT_EQ(p.pkt.len, 9u) << "no padding over UDP";
}

}  // namespace
}  // namespace tern
