// SctpAssociation back to back in memory (client = DTLS client, even streams;
// server odd), lossless and lossy, on the real monotonic clock (sctp_test_util.h says why).
#include "engine/sctp/sctp_association.h"

#include <gtest/gtest.h>
#include <usrsctp.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "tests/unit/sctp/sctp_test_util.h"

namespace tern::sctp::test {
namespace {

DataChannelParams params(std::string label, std::string protocol = "") {
  DataChannelParams p;
  p.label = std::move(label);
  p.protocol = std::move(protocol);
  return p;
}

absl::Status send_bytes(SctpAssociation& a, uint16_t sid, MessageKind k, const Bytes& b,
                        Nanos now) {
  return a.send(sid, k, b.data(), b.size(), now);
}

// Retries while usrsctp's send buffer is full, running the link meanwhile.
absl::Status send_retry(Link& l, SctpAssociation& a, uint16_t sid, MessageKind k, const Bytes& b) {
  absl::Status st;
  for (int i = 0; i < 20000; ++i) {
    st = a.send(sid, k, b.data(), b.size(), l.now());
    if (!absl::IsResourceExhausted(st)) return st;
    l.run_for(2 * kMillisecond);
  }
  return st;
}

TEST(SctpAssociation, ConnectsAndOpensChannelsFromBothSides) {
  Link l;
  ASSERT_TRUE(l.connect());
  EXPECT_EQ(l.client->state(), SctpState::kConnected);
  EXPECT_GE(l.client->outbound_streams(), 2);
  auto c = l.client->open_channel(params("from-client", "proto-c"), l.now());
  ASSERT_TRUE(c.ok()) << c.status();
  DataChannelParams sp = params("from-server");
  sp.ordered = false;
  sp.max_retransmits = 2;
  sp.priority = kDcepPriorityHigh;
  auto s = l.server->open_channel(sp, l.now());
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*c % 2, 0) << "DTLS client opens even streams";
  EXPECT_EQ(*s % 2, 1) << "DTLS server opens odd streams";
  ASSERT_TRUE(l.run_until([&] { return l.rc.opened.size() == 2 && l.rs.opened.size() == 2; }));
  // The server sees the client's channel with everything from the OPEN.
  auto find = [](const std::vector<DataChannelInfo>& v, uint16_t sid) {
    return *std::find_if(v.begin(), v.end(), [&](auto& i) { return i.stream == sid; });
  };
  DataChannelInfo at_server = find(l.rs.opened, *c);
  EXPECT_TRUE(at_server.remote);
  EXPECT_EQ(at_server.label, "from-client");
  EXPECT_EQ(at_server.protocol, "proto-c");
  EXPECT_EQ(at_server.type, DcepChannelType::kReliable);
  DataChannelInfo at_client = find(l.rc.opened, *s);
  EXPECT_TRUE(at_client.remote);
  EXPECT_EQ(at_client.label, "from-server");
  EXPECT_EQ(at_client.type, DcepChannelType::kPartialReliableRexmitUnordered);
  EXPECT_EQ(at_client.reliability, 2u);
  EXPECT_EQ(at_client.priority, kDcepPriorityHigh);
  EXPECT_FALSE(find(l.rc.opened, *c).remote);
  // Second channel from the client takes the next even id.
  auto c2 = l.client->open_channel(params("second"), l.now());
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(*c2, *c + 2);
}

TEST(SctpAssociation, ChannelOpenedBeforeConnectIsAnnouncedWhenUp) {
  Link l;
  auto c = l.client->open_channel(params("early"), l.now());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(send_bytes(*l.client, *c, MessageKind::kText, pattern(3, 0), l.now()).ok());
  ASSERT_TRUE(l.connect());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  EXPECT_EQ(l.rs.opened[0].label, "early");
  ASSERT_TRUE(send_bytes(*l.client, *c, MessageKind::kText, pattern(3, 0), l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 1; }));
}

void exchange_sizes(Link& l, uint16_t sid, bool client_sends) {
  const std::vector<size_t> sizes = {0,    1,     2,     100,   1000,  1100,   1150,  1151,
                                     4096, 16384, 65535, 65536, 65537, 100000, 262144};
  SctpAssociation& tx = client_sends ? *l.client : *l.server;
  Recorder& rx = client_sends ? l.rs : l.rc;
  rx.messages.clear();
  uint32_t seq = 0;
  for (size_t n : sizes) {
    for (MessageKind k : {MessageKind::kText, MessageKind::kBinary}) {
      Bytes b = pattern(n, seq++);
      absl::Status st = send_retry(l, tx, sid, k, b);
      ASSERT_TRUE(st.ok()) << n << ": " << st;
    }
  }
  ASSERT_TRUE(l.run_until([&] { return rx.messages.size() == 2 * sizes.size(); }))
      << rx.messages.size();
  seq = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    for (int k = 0; k < 2; ++k) {
      const Message& m = rx.messages[2 * i + k];
      const size_t n = sizes[i];
      EXPECT_EQ(m.stream, sid);
      const uint32_t want = n == 0 ? (k == 0 ? kPpidStringEmpty : kPpidBinaryEmpty)
                                   : (k == 0 ? kPpidString : kPpidBinary);
      EXPECT_EQ(m.ppid, want) << n;
      ASSERT_EQ(m.data.size(), n);
      EXPECT_TRUE(m.data == pattern(n, seq)) << "payload of " << n << " bytes differs";
      ++seq;
    }
  }
}

SctpAssociationConfig big_messages() {
  SctpAssociationConfig c = test_config();
  c.remote_max_message_size = 262144;
  return c;
}

TEST(SctpAssociation, TextAndBinaryEverySizeBothWays) {
  Link l(big_messages(), big_messages());
  ASSERT_TRUE(l.connect());
  auto c = l.client->open_channel(params("sizes"), l.now());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  exchange_sizes(l, *c, true);
  exchange_sizes(l, *c, false);
}

TEST(SctpAssociation, ReliableOrderedAndUnorderedSurviveLoss) {
  Link l(big_messages(), big_messages());
  l.drop_every = 7;
  ASSERT_TRUE(l.connect());
  auto ord = l.client->open_channel(params("ordered"), l.now());
  DataChannelParams up = params("unordered");
  up.ordered = false;
  auto uno = l.client->open_channel(up, l.now());
  ASSERT_TRUE(ord.ok() && uno.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 2; }));
  exchange_sizes(l, *ord, true);
  // Unordered: everything arrives intact, in any order.
  l.rs.messages.clear();
  const int kCount = 200;
  for (int i = 0; i < kCount; ++i) {
    Bytes b = pattern(50 + (i * 37) % 3000, i);
    b[0] = uint8_t(i);
    b[1] = uint8_t(i >> 8);
    ASSERT_TRUE(send_retry(l, *l.client, *uno, MessageKind::kBinary, b).ok());
  }
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == kCount; }));
  std::set<int> seen;
  for (const Message& m : l.rs.messages) {
    ASSERT_GE(m.data.size(), 2u);
    int i = m.data[0] | m.data[1] << 8;
    Bytes want = pattern(50 + (i * 37) % 3000, i);
    want[0] = uint8_t(i);
    want[1] = uint8_t(i >> 8);
    EXPECT_TRUE(m.data == want) << i;
    seen.insert(i);
  }
  EXPECT_EQ(seen.size(), size_t(kCount));
  EXPECT_GT(l.dropped[0] + l.dropped[1], 10u) << "the pipe really dropped packets";
}

// Partial reliability under loss: whatever is delivered is intact, unique and
// (ordered channels) in order; at most the messages whose packets the pipe
// dropped are missing; and the association keeps working afterwards.
// `bounded`: losses are at most the packets dropped (max-retransmits). A
// lifetime may also expire before the first transmission (send-buffer wait).
void partial_reliability_case(DataChannelParams p, bool ordered, bool bounded = true) {
  Link l;
  l.drop_every = 5;
  ASSERT_TRUE(l.connect());
  auto pr = l.client->open_channel(p, l.now());
  auto rel = l.client->open_channel(params("reliable"), l.now());
  ASSERT_TRUE(pr.ok() && rel.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 2; }))
      << sctp_state_name(l.client->state()) << " " << sctp_state_name(l.server->state()) << " "
      << l.rc.close_reason << "/" << l.rs.close_reason << " opened " << l.rs.opened.size()
      << " out " << l.client->stats().packets_out << " in " << l.server->stats().packets_in;
  l.rs.messages.clear();
  const uint64_t dropped_before = l.dropped[0];
  const int kCount = 300;
  for (int i = 0; i < kCount; ++i) {
    Bytes b = pattern(1000, i);  // one message per packet (mtu 1150)
    b[0] = uint8_t(i);
    b[1] = uint8_t(i >> 8);
    ASSERT_TRUE(send_retry(l, *l.client, *pr, MessageKind::kBinary, b).ok());
    if (i % 10 == 9) l.run_until([&] { return l.to_server.empty() && l.to_client.empty(); });
  }
  l.run_for(2 * kSecond);
  Bytes done = pattern(10, 9999);
  ASSERT_TRUE(send_bytes(*l.client, *rel, MessageKind::kBinary, done, l.now()).ok());
  ASSERT_TRUE(
      l.run_until([&] { return !l.rs.messages.empty() && l.rs.messages.back().stream == *rel; }));
  std::vector<int> got;
  for (const Message& m : l.rs.messages) {
    if (m.stream != *pr) continue;
    ASSERT_EQ(m.data.size(), 1000u);
    int i = m.data[0] | m.data[1] << 8;
    Bytes want = pattern(1000, i);
    want[0] = uint8_t(i);
    want[1] = uint8_t(i >> 8);
    EXPECT_TRUE(m.data == want) << i;
    got.push_back(i);
  }
  std::set<int> unique(got.begin(), got.end());
  EXPECT_EQ(unique.size(), got.size()) << "duplicates delivered";
  if (ordered) {
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  }
  const uint64_t data_packets_dropped = l.dropped[0] - dropped_before;
  EXPECT_GT(data_packets_dropped, 0u);
  if (bounded) {
    EXPECT_GE(got.size() + data_packets_dropped, size_t(kCount))
        << "more messages lost than packets dropped";
  } else {
    EXPECT_GT(got.size(), 0u);
  }
  EXPECT_LE(got.size(), size_t(kCount));
  ::testing::Test::RecordProperty("delivered", int(got.size()));
}

TEST(SctpAssociation, PartialReliabilityMaxRetransmitsOrdered) {
  DataChannelParams p = params("rexmit0");
  p.max_retransmits = 0;
  partial_reliability_case(p, true);
}

TEST(SctpAssociation, PartialReliabilityMaxRetransmitsUnordered) {
  DataChannelParams p = params("rexmit1-unordered");
  p.max_retransmits = 1;
  p.ordered = false;
  partial_reliability_case(p, false);
}

TEST(SctpAssociation, PartialReliabilityLifetime) {
  DataChannelParams p = params("ttl");
  p.max_packet_life_time_ms = 1;  // usrsctp measures it on the real clock
  partial_reliability_case(p, true, false);
}

TEST(SctpAssociation, PartialReliabilityLosslessDeliversEverything) {
  Link l;
  ASSERT_TRUE(l.connect());
  DataChannelParams p = params("ttl");
  p.max_packet_life_time_ms = 60000;
  p.ordered = false;
  auto pr = l.client->open_channel(p, l.now());
  ASSERT_TRUE(pr.ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(send_bytes(*l.client, *pr, MessageKind::kText, pattern(500, i), l.now()).ok());
  }
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 100; }));
}

TEST(SctpAssociation, CloseFromEitherSideIsSeenByBoth) {
  Link l;
  ASSERT_TRUE(l.connect());
  auto a = l.client->open_channel(params("a"), l.now());
  auto b = l.server->open_channel(params("b"), l.now());
  auto keep = l.client->open_channel(params("keep"), l.now());
  ASSERT_TRUE(a.ok() && b.ok() && keep.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 3 && l.rc.opened.size() == 3; }));
  ASSERT_TRUE(l.client->close_channel(*a, l.now()).ok());
  ASSERT_TRUE(l.server->close_channel(*b, l.now()).ok());
  auto has = [](const std::vector<uint16_t>& v, uint16_t s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  ASSERT_TRUE(l.run_until([&] {
    return has(l.rc.closed_streams, *a) && has(l.rs.closed_streams, *a) &&
           has(l.rc.closed_streams, *b) && has(l.rs.closed_streams, *b);
  }));
  EXPECT_EQ(l.client->channel(*a), nullptr);
  EXPECT_EQ(l.server->channel(*b), nullptr);
  EXPECT_FALSE(send_bytes(*l.client, *a, MessageKind::kText, pattern(4, 0), l.now()).ok());
  EXPECT_FALSE(has(l.rs.closed_streams, *keep));
  // The untouched channel still works, and the freed stream id is reused.
  ASSERT_TRUE(send_bytes(*l.client, *keep, MessageKind::kText, pattern(4, 1), l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return !l.rs.messages.empty(); }));
  auto again = l.client->open_channel(params("again"), l.now());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *a);
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 4; }));
  ASSERT_TRUE(send_bytes(*l.client, *again, MessageKind::kBinary, pattern(9, 2), l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 2; }));
  EXPECT_EQ(l.rs.messages[1].stream, *again);
  EXPECT_FALSE(l.client->close_channel(999, l.now()).ok());
}

TEST(SctpAssociation, MessageSizeLimits) {
  SctpAssociationConfig ccfg = test_config();
  ccfg.remote_max_message_size = 65536;  // the server's a=max-message-size, as the client knows it
  SctpAssociationConfig scfg = test_config();
  scfg.max_message_size = 1000;  // but the server enforces less
  Link l(ccfg, scfg);
  ASSERT_TRUE(l.connect());
  auto c = l.client->open_channel(params("limits"), l.now());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  Bytes too_big = pattern(65537, 0);
  absl::Status st = send_bytes(*l.client, *c, MessageKind::kBinary, too_big, l.now());
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("max-message-size 65536"), std::string::npos);
  // Oversized on receive: dropped and counted, the next message is fine.
  ASSERT_TRUE(send_bytes(*l.client, *c, MessageKind::kBinary, pattern(5000, 1), l.now()).ok());
  ASSERT_TRUE(send_bytes(*l.client, *c, MessageKind::kBinary, pattern(1000, 2), l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 1; }));
  l.run_for(100 * kMillisecond);
  EXPECT_EQ(l.rs.messages.size(), 1u);
  EXPECT_TRUE(l.rs.messages[0].data == pattern(1000, 2));
  EXPECT_EQ(l.server->stats().oversize_dropped, 1u);
}

TEST(SctpAssociation, BadParameters) {
  Link l;
  DataChannelParams both = params("x");
  both.max_retransmits = 1;
  both.max_packet_life_time_ms = 1;
  EXPECT_TRUE(absl::IsInvalidArgument(l.client->open_channel(both, l.now()).status()));
  EXPECT_FALSE(l.client->open_channel(params("\xff"), l.now()).ok());
  SctpAssociationConfig bad;
  bad.mtu = 100;
  EXPECT_FALSE(SctpAssociation::create(
                   l.stack, bad, [](const uint8_t*, size_t) {}, &l.rc)
                   .ok());
  bad = {};
  bad.remote_max_message_size = 0;  // unlimited: send buffer must hold 1 MiB
  bad.send_buffer = 64 * 1024;
  EXPECT_FALSE(SctpAssociation::create(
                   l.stack, bad, [](const uint8_t*, size_t) {}, &l.rc)
                   .ok());
  EXPECT_FALSE(SctpAssociation::create(
                   nullptr, {}, [](const uint8_t*, size_t) {}, &l.rc)
                   .ok());
}

TEST(SctpAssociation, MalformedDcepLeavesOtherChannelsWorking) {
  Link l;
  ASSERT_TRUE(l.connect());
  auto good = l.client->open_channel(params("good"), l.now());
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  // 1. Garbage with the DCEP PPID on an unused even stream: counted, stream reset.
  const uint8_t garbage[] = {0x03, 0x99, 0x00};
  ASSERT_TRUE(l.client->send_raw(2, kPpidDcep, garbage, sizeof(garbage)).ok());
  // 2. A well-formed OPEN on a stream of the wrong parity (odd = server's).
  DcepOpen o;
  o.label = "wrong parity";
  auto enc = encode_dcep_open(o);
  ASSERT_TRUE(l.client->send_raw(3, kPpidDcep, enc->data(), enc->size()).ok());
  // 3. A second OPEN and a stray ACK on the stream already in use, unknown type.
  ASSERT_TRUE(l.client->send_raw(*good, kPpidDcep, enc->data(), enc->size()).ok());
  const uint8_t ack = 0x02, seven = 0x07;
  ASSERT_TRUE(l.client->send_raw(*good, kPpidDcep, &ack, 1).ok());
  ASSERT_TRUE(l.client->send_raw(*good, kPpidDcep, &seven, 1).ok());
  // 4. User data on a stream with no channel, and an unknown PPID.
  ASSERT_TRUE(l.client->send_raw(10, kPpidString, garbage, 3).ok());
  ASSERT_TRUE(l.client->send_raw(*good, 4242, garbage, 3).ok());
  Bytes after = pattern(20, 5);
  ASSERT_TRUE(send_bytes(*l.client, *good, MessageKind::kText, after, l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 1; }));
  EXPECT_TRUE(l.rs.messages[0].data == after);
  const SctpStats& s = l.server->stats();
  EXPECT_EQ(s.dcep_malformed, 2u);   // garbage OPEN, type 7
  EXPECT_EQ(s.dcep_unexpected, 3u);  // wrong parity, OPEN on used stream, stray ACK
  EXPECT_EQ(s.no_channel_dropped, 1u);
  EXPECT_EQ(s.unknown_ppid_dropped, 1u);
  EXPECT_EQ(l.rs.opened.size(), 1u);
  EXPECT_EQ(l.server->channel_count(), 1u);
  EXPECT_EQ(l.server->state(), SctpState::kConnected);
  // The server refused streams 2 and 3 by resetting them; the channel is intact.
  ASSERT_TRUE(send_bytes(*l.server, *good, MessageKind::kBinary, after, l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return l.rc.messages.size() == 1; }));
}

// A valid-CRC SCTP packet with one INIT chunk (RFC 4960 §3.3.2), as a flood.
Bytes init_packet(uint32_t tag, uint16_t src_port, uint16_t dst_port) {
  Bytes p(12 + 20, 0);
  auto be16 = [&](size_t o, uint16_t v) {
    p[o] = uint8_t(v >> 8);
    p[o + 1] = uint8_t(v);
  };
  auto be32 = [&](size_t o, uint32_t v) {
    be16(o, uint16_t(v >> 16));
    be16(o + 2, uint16_t(v));
  };
  be16(0, src_port);
  be16(2, dst_port);
  be32(4, 0);  // verification tag 0 for INIT
  p[12] = 1;   // INIT
  be16(14, 20);
  be32(16, tag);
  be32(20, 65536);  // a_rwnd
  be16(24, 1024);
  be16(26, 1024);
  be32(28, tag ^ 0x5a5a5a5a);  // initial TSN
  uint32_t crc = usrsctp_crc32c(p.data(), p.size());
  std::memcpy(&p[8], &crc, 4);
  return p;
}

TEST(SctpAssociation, InitFloodAndGarbageLeaveTheAssociationWorking) {
  Link l;
  ASSERT_TRUE(l.connect());
  auto c = l.client->open_channel(params("survivor"), l.now());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  std::mt19937 rng(1234);
  const uint64_t out_before = l.server->stats().packets_out;
  for (int i = 0; i < 2000; ++i) {
    Bytes init = init_packet(rng() | 1, 5000, 5000);
    l.server->receive(init.data(), init.size(), l.now());
    // Random garbage, and garbage behind a plausible header.
    Bytes g(1 + rng() % 1200);
    for (auto& b : g) b = uint8_t(rng());
    l.server->receive(g.data(), g.size(), l.now());
    if (g.size() > 16) {
      std::memcpy(g.data(), init.data(), 12);
      uint32_t crc = 0;
      std::memcpy(&g[8], &crc, 4);
      crc = usrsctp_crc32c(g.data(), g.size());
      std::memcpy(&g[8], &crc, 4);
      l.server->receive(g.data(), g.size(), l.now());
    }
  }
  // The INITs passed the CRC check and were answered (statelessly, INIT-ACK).
  EXPECT_GT(l.server->stats().packets_out, out_before);
  l.to_client.clear();  // the INIT-ACKs are for the forged peers
  EXPECT_EQ(l.server->state(), SctpState::kConnected);
  EXPECT_EQ(l.server->channel_count(), 1u);
  Bytes m = pattern(3000, 77);
  ASSERT_TRUE(send_bytes(*l.client, *c, MessageKind::kBinary, m, l.now()).ok());
  ASSERT_TRUE(send_bytes(*l.server, *c, MessageKind::kBinary, m, l.now()).ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 1 && l.rc.messages.size() == 1; }));
  EXPECT_TRUE(l.rs.messages[0].data == m);
  EXPECT_TRUE(l.rc.closed_streams.empty());
  EXPECT_FALSE(l.rc.closed || l.rs.closed);
}

TEST(SctpAssociation, ShutdownClosesBothSides) {
  Link l;
  ASSERT_TRUE(l.connect());
  auto c = l.client->open_channel(params("bye"), l.now());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  l.client->shutdown(l.now());
  ASSERT_TRUE(l.run_until([&] { return l.rc.closed && l.rs.closed; }));
  EXPECT_EQ(l.rs.closed_streams.size(), 1u);
  EXPECT_EQ(l.rc.closed_streams.size(), 1u);
  EXPECT_EQ(l.server->state(), SctpState::kClosed);
  EXPECT_FALSE(l.client->open_channel(params("late"), l.now()).ok());
}

TEST(SctpAssociation, HandlerMaySendFromOnMessage) {
  Link l;
  ASSERT_TRUE(l.connect());
  auto c = l.client->open_channel(params("echo"), l.now());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(l.run_until([&] { return l.rs.opened.size() == 1; }));
  l.rs.on_msg = [&](const Message& m) {
    EXPECT_TRUE(
        l.server->send(m.stream, MessageKind::kBinary, m.data.data(), m.data.size(), l.now()).ok());
  };
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(send_bytes(*l.client, *c, MessageKind::kBinary, pattern(100 + i, i), l.now()).ok());
  }
  ASSERT_TRUE(l.run_until([&] { return l.rc.messages.size() == 50; }));
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(l.rc.messages[i].data == pattern(100 + i, i));
}

TEST(SctpAssociation, ManyAssociationsAtOnce) {
  constexpr int kPairs = 64;
  std::vector<std::unique_ptr<Link>> links;
  for (int i = 0; i < kPairs; ++i) {
    links.push_back(std::make_unique<Link>());
    ASSERT_TRUE(links.back()->client->start(mono_now()).ok());
    ASSERT_TRUE(links.back()->server->start(mono_now()).ok());
  }
  EXPECT_GE(links[0]->stack->association_count(), size_t(2 * kPairs));
  auto all = [&](auto pred) {
    return std::all_of(links.begin(), links.end(), [&](auto& l) { return pred(*l); });
  };
  // Drive all pairs round-robin on the shared clock.
  for (int round = 0;
       round < 2000 && !all([](Link& l) { return l.rc.connected && l.rs.connected; }); ++round) {
    for (auto& l : links) l->run_until([] { return true; });  // deliver what is queued
    for (auto& l : links)
      l->run_until([&] { return l->to_server.empty() && l->to_client.empty(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    for (auto& l : links) l->tick();
  }
  ASSERT_TRUE(all([](Link& l) { return l.rc.connected && l.rs.connected; }));
  for (int i = 0; i < kPairs; ++i) {
    Link& l = *links[i];
    auto c = l.client->open_channel(params("pair-" + std::to_string(i)), l.now());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(send_bytes(*l.client, *c, MessageKind::kText, pattern(64, i), l.now()).ok());
  }
  for (int i = 0; i < kPairs; ++i) {
    Link& l = *links[i];
    ASSERT_TRUE(l.run_until([&] { return l.rs.messages.size() == 1; })) << i;
    EXPECT_EQ(l.rs.opened[0].label, "pair-" + std::to_string(i));
    EXPECT_TRUE(l.rs.messages[0].data == pattern(64, i)) << "no cross-talk between associations";
  }
}

// Two threads, each driving its own pair: the node-wide usrsctp lock keeps
// them apart (timer runs on one thread may queue output for the other's).
TEST(SctpAssociation, TwoWorkerThreads) {
  std::atomic<int> ok{0};
  auto worker = [&](int id) {
    Link l;
    if (!l.connect()) return;
    auto c = l.client->open_channel(params("t" + std::to_string(id)), l.now());
    if (!c.ok()) return;
    for (int i = 0; i < 500; ++i) {
      Bytes b = pattern(200 + i % 700, i);
      if (!l.client->send(*c, MessageKind::kBinary, b.data(), b.size(), l.now()).ok()) return;
      l.run_until([&] { return l.to_server.empty() && l.to_client.empty(); });
    }
    if (!l.run_until([&] { return l.rs.messages.size() == 500; })) return;
    for (int i = 0; i < 500; ++i) {
      if (!(l.rs.messages[i].data == pattern(200 + i % 700, i))) return;
    }
    ok.fetch_add(1);
  };
  std::thread a(worker, 1), b(worker, 2);
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 2);
}

}  // namespace
}  // namespace tern::sctp::test
