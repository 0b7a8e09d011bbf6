// Data channels through the SFU, in memory (sfu_datachannel_fixture.h): two
// transports with SCTP and two clients playing browsers. A opens a channel,
// B gets it relayed; messages of every size from empty to 256 KiB go both
// ways byte-exact; closing propagates.
#include "tests/unit/sfu/sfu_datachannel_fixture.h"

namespace tern::sfu::testing {
namespace {

TEST_F(SfuDataChannelTest, RelaysChannelMessagesBothWaysAndClose) {
  DcClient& a = connect(1);
  DcClient& b = connect(2);
  ASSERT_TRUE(data->join(1, 7, mono_now()).ok());
  ASSERT_TRUE(data->join(2, 7, mono_now()).ok());

  sctp::DataChannelParams p;
  p.label = "chat";
  p.protocol = "json";
  p.ordered = true;
  auto sa = a.assoc->open_channel(p, mono_now());
  ASSERT_TRUE(sa.ok()) << sa.status();
  ASSERT_TRUE(run_until([&] { return !b.rec.opened.empty(); })) << "B never saw the channel";
  const sctp::DataChannelInfo bch = b.rec.opened[0];
  EXPECT_EQ(bch.label, "chat");
  EXPECT_EQ(bch.protocol, "json");
  EXPECT_TRUE(bch.remote);
  EXPECT_TRUE(bch.ordered());
  EXPECT_EQ(bch.stream % 2, 1) << "tern is the DTLS server: odd streams";
  EXPECT_EQ(data->channel_count(), 1u);
  EXPECT_EQ(data->legs_of(1, *sa), 2u);
  EXPECT_EQ(dev.count(DataEvent::Type::kOpen, 1), 1);
  EXPECT_EQ(dev.count(DataEvent::Type::kOpen, 2), 1);  // the leg tern opened on B

  std::vector<size_t> sizes = {0, 1, 2, 100, 1149, 1150, 1151, 4096, 65535, 65536, 65537};
  for (size_t n = 128 * 1024; n <= 256 * 1024; n += 64 * 1024) sizes.push_back(n);
  uint8_t seed = 0;
  for (size_t n : sizes) {
    for (bool text : {true, false}) {
      for (int dir = 0; dir < 2; ++dir) {
        DcClient& from = dir == 0 ? a : b;
        DcClient& to = dir == 0 ? b : a;
        const uint16_t from_stream = dir == 0 ? *sa : bch.stream;
        const uint16_t to_stream = dir == 0 ? bch.stream : *sa;
        Bytes msg = pattern(n, text, ++seed);
        to.rec.msgs.clear();
        ASSERT_TRUE(from.assoc
                        ->send(from_stream,
                               text ? sctp::MessageKind::kText : sctp::MessageKind::kBinary,
                               msg.data(), msg.size(), mono_now())
                        .ok());
        ASSERT_TRUE(run_until([&] { return !to.rec.msgs.empty(); }))
            << "size " << n << (text ? " text" : " binary") << " dir " << dir;
        ASSERT_EQ(to.rec.msgs.size(), 1u);
        const Msg& m = to.rec.msgs[0];
        EXPECT_EQ(m.stream, to_stream);
        uint32_t want_ppid = text ? (n == 0 ? sctp::kPpidStringEmpty : sctp::kPpidString)
                                  : (n == 0 ? sctp::kPpidBinaryEmpty : sctp::kPpidBinary);
        EXPECT_EQ(m.ppid, want_ppid) << "size " << n;
        ASSERT_EQ(m.bytes.size(), n);
        EXPECT_TRUE(m.bytes == msg) << "size " << n << " not byte-exact";
      }
    }
  }
  EXPECT_EQ(data->stats().messages_out.get(), sizes.size() * 4);
  EXPECT_EQ(data->stats().send_failed.get(), 0u);

  // Control-plane events: whole up to 64 KiB, cut beyond.
  const DataEvent* big = nullptr;
  const DataEvent* small = nullptr;
  for (const DataEvent& e : dev.ev) {
    if (e.type != DataEvent::Type::kMessage || e.transport_id != 1) continue;
    if (e.size == 262144) big = &e;
    if (e.size == 100) small = &e;
  }
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->truncated);
  EXPECT_EQ(big->len, DataEvent::kMaxEventPayload);
  ASSERT_NE(small, nullptr);
  EXPECT_FALSE(small->truncated);
  EXPECT_EQ(small->len, 100u);

  // Close by the producer: B's leg closes.
  ASSERT_TRUE(a.assoc->close_channel(*sa, mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return !b.rec.closed.empty() && !a.rec.closed.empty(); }));
  EXPECT_EQ(b.rec.closed[0], bch.stream);
  EXPECT_EQ(data->channel_count(), 0u);
  EXPECT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kClosed, 2) >= 1; }));
  EXPECT_GE(dev.count(DataEvent::Type::kClosed, 1), 1);
}

TEST_F(SfuDataChannelTest, LateJoinerGetsExistingChannelAndControlSend) {
  DcClient& a = connect(1);
  ASSERT_TRUE(data->join(1, 9, mono_now()).ok());
  sctp::DataChannelParams p;
  p.label = "late";
  p.ordered = false;
  p.max_retransmits = 3;
  auto sa = a.assoc->open_channel(p, mono_now());
  ASSERT_TRUE(sa.ok());
  ASSERT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kOpen, 1) == 1; }));
  EXPECT_EQ(data->legs_of(1, *sa), 1u);

  DcClient& b = connect(2);
  ASSERT_TRUE(data->join(2, 9, mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return !b.rec.opened.empty(); }));
  EXPECT_EQ(b.rec.opened[0].label, "late");
  EXPECT_FALSE(b.rec.opened[0].ordered());
  EXPECT_EQ(sctp::dcep_policy(b.rec.opened[0].type), 1);
  EXPECT_EQ(b.rec.opened[0].reliability, 3u);

  // The control plane sends into A's channel by label.
  DataSend ds;
  ds.transport_id = 1;
  ds.label = "late";
  ds.bytes = {'h', 'i'};
  ASSERT_TRUE(data->send(ds, mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return !a.rec.msgs.empty(); }));
  EXPECT_EQ(a.rec.msgs[0].stream, *sa);
  EXPECT_EQ(a.rec.msgs[0].ppid, sctp::kPpidString);
  EXPECT_EQ(a.rec.msgs[0].bytes, (Bytes{'h', 'i'}));
  ds.label = "nope";
  EXPECT_EQ(data->send(ds, mono_now()).code(), absl::StatusCode::kNotFound);

  // B's transport closes: the channel stays with A alone; A's transport
  // closing ends it.
  ASSERT_TRUE(host->close(2, mono_now()));
  EXPECT_EQ(data->legs_of(1, *sa), 1u);
  ASSERT_TRUE(host->close(1, mono_now()));
  EXPECT_EQ(data->channel_count(), 0u);
  EXPECT_EQ(data->stats().members.load(), 0u);
}

TEST_F(SfuDataChannelTest, NoGroupNoRelay) {
  DcClient& a = connect(1);
  DcClient& b = connect(2);
  (void)b;
  sctp::DataChannelParams p;
  p.label = "solo";
  auto sa = a.assoc->open_channel(p, mono_now());
  ASSERT_TRUE(sa.ok());
  const Bytes msg = pattern(10, true, 1);
  ASSERT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kOpen, 1) == 1; }));
  ASSERT_TRUE(
      a.assoc->send(*sa, sctp::MessageKind::kText, msg.data(), msg.size(), mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kMessage, 1) == 1; }));
  run_until([] { return false; }, 100 * kMillisecond);
  EXPECT_TRUE(b.rec.opened.empty());
  EXPECT_EQ(data->channel_count(), 0u);
  EXPECT_EQ(data->stats().messages_out.get(), 0u);
}

}  // namespace
}  // namespace tern::sfu::testing
