// DataRouter backpressure (data_router.h), in memory: B stops reading
// (stalled) while A floods a channel with 64 KiB messages. On a reliable
// channel ternd's send buffer to B fills, copies queue in B's leg backlog,
// A's reads are paused (so A's own sends block through SCTP flow control),
// and once B reads again every message arrives, in order, byte-exact, none
// dropped. On a partially reliable channel the copies that do not fit are
// dropped (the channel allows it) and A is never paused.
#include "tests/unit/sfu/sfu_datachannel_fixture.h"

namespace tern::sfu::testing {
namespace {

constexpr size_t kMsg = 64 * 1024;

class SfuDataBackpressureTest : public SfuDataChannelTest {
 protected:
  // A and B in one group, a channel A opens with `p`; returns A's stream and
  // sets b_stream to its leg on B.
  uint16_t open(DcClient& a, DcClient& b, const sctp::DataChannelParams& p) {
    EXPECT_TRUE(data->join(a.id, 3, mono_now()).ok());
    EXPECT_TRUE(data->join(b.id, 3, mono_now()).ok());
    auto sa = a.assoc->open_channel(p, mono_now());
    EXPECT_TRUE(sa.ok()) << sa.status();
    EXPECT_TRUE(run_until([&] { return !b.rec.opened.empty(); })) << "B never saw the channel";
    b_stream = b.rec.opened.empty() ? 0 : b.rec.opened[0].stream;
    return sa.ok() ? *sa : 0;
  }
  // Sends messages [next, n) from A, pumping while A's own buffer is full,
  // until all are sent or nothing was accepted for `idle`. Returns next.
  int send_from(DcClient& a, uint16_t stream, int next, int n, Nanos idle) {
    Nanos last = mono_now();
    while (next < n && mono_now() - last < idle) {
      Bytes m = pattern(kMsg, false, static_cast<uint8_t>(next));
      absl::Status s =
          a.assoc->send(stream, sctp::MessageKind::kBinary, m.data(), m.size(), mono_now());
      if (s.ok()) {
        ++next;
        last = mono_now();
        continue;
      }
      EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
      if (!pump()) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return next;
  }
  uint16_t b_stream = 0;
};

TEST_F(SfuDataBackpressureTest, ReliableChannelPausesTheSourceAndLosesNothing) {
  DcClient& a = connect(1);
  DcClient& b = connect(2);
  sctp::DataChannelParams p;
  p.label = "bulk";
  const uint16_t sa = open(a, b, p);
  constexpr int kN = 128;  // 8 MiB: more than every buffer on the way holds

  stalled.insert(b.id);
  int sent = send_from(a, sa, 0, kN, 1500 * kMillisecond);
  const size_t backlog = data->backlog_of(b.id, b_stream);
  EXPECT_LT(sent, kN) << "A was never held back";
  EXPECT_GE(data->stats().source_pauses.get(), 1u);
  EXPECT_GE(backlog, DataRouter::kPauseBytes);
  EXPECT_LE(backlog, DataRouter::kMaxBacklogBytes);
  EXPECT_GT(data->stats().relay_queued.get(), 0u);
  EXPECT_EQ(data->stats().relay_dropped.get(), 0u);
  std::printf("stalled B: A sent %d of %d messages (%d KiB), B's leg backlog %zu KiB, %lu pauses\n",
              sent, kN, sent * 64, backlog / 1024,
              static_cast<unsigned long>(data->stats().source_pauses.get()));

  stalled.clear();
  sent = send_from(a, sa, sent, kN, 20 * kSecond);
  EXPECT_EQ(sent, kN);
  ASSERT_TRUE(run_until([&] { return b.rec.msgs.size() >= kN; }))
      << b.rec.msgs.size() << " of " << kN;
  ASSERT_EQ(b.rec.msgs.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) {
    const Msg& m = b.rec.msgs[static_cast<size_t>(i)];
    ASSERT_EQ(m.stream, b_stream);
    ASSERT_TRUE(m.bytes == pattern(kMsg, false, static_cast<uint8_t>(i)))
        << "message " << i << " out of order or corrupt";
  }
  EXPECT_EQ(data->stats().relay_dropped.get(), 0u);
  EXPECT_EQ(data->stats().send_failed.get(), 0u);
  EXPECT_TRUE(run_until([&] { return data->backlog_of(b.id, b_stream) == 0; }));
  EXPECT_EQ(data->stats().backlog_bytes.load(), 0u);
  EXPECT_FALSE(host->find(a.id) == nullptr);
}

TEST_F(SfuDataBackpressureTest, PartiallyReliableChannelDropsInsteadOfPausing) {
  DcClient& a = connect(1);
  DcClient& b = connect(2);
  sctp::DataChannelParams p;
  p.label = "lossy";
  p.ordered = false;
  p.max_retransmits = 0;
  const uint16_t sa = open(a, b, p);
  constexpr int kN = 64;  // 4 MiB: four times ternd's send buffer to B

  stalled.insert(b.id);
  const int sent = send_from(a, sa, 0, kN, 5 * kSecond);
  EXPECT_EQ(sent, kN) << "a partially reliable source must not be held back";
  run_until([] { return false; }, 200 * kMillisecond);
  EXPECT_GT(data->stats().relay_dropped.get(), 0u);
  EXPECT_EQ(data->stats().source_pauses.get(), 0u);
  EXPECT_EQ(data->backlog_of(b.id, b_stream), 0u);

  stalled.clear();
  const uint64_t out = data->stats().messages_out.get();
  // usrsctp abandons what B did not acknowledge in time (max_retransmits 0:
  // FORWARD-TSN), so B gets at most what was relayed.
  ASSERT_TRUE(run_until([&] { return !b.rec.msgs.empty(); }, 5 * kSecond));
  run_until([] { return false; }, 500 * kMillisecond);
  std::printf(
      "stalled B, max_retransmits 0: A sent %d, ternd got %lu, relayed %lu, dropped %lu, B got "
      "%zu\n",
      kN, static_cast<unsigned long>(data->stats().messages_in.get()),
      static_cast<unsigned long>(out),
      static_cast<unsigned long>(data->stats().relay_dropped.get()), b.rec.msgs.size());
  // Every message ternd got from A was relayed or dropped (A's own
  // max_retransmits 0 may lose some on the way in).
  EXPECT_EQ(out + data->stats().relay_dropped.get(), data->stats().messages_in.get());
  EXPECT_LE(b.rec.msgs.size(), out);
  // What arrives is whole: one of A's messages, byte for byte.
  for (const Msg& m : b.rec.msgs) {
    ASSERT_EQ(m.bytes.size(), kMsg);
    bool match = false;
    for (int i = 0; i < kN && !match; ++i)
      match = m.bytes == pattern(kMsg, false, static_cast<uint8_t>(i));
    EXPECT_TRUE(match);
  }
  // A's reliable traffic afterwards still flows.
  EXPECT_EQ(data->stats().send_failed.get(), 0u);
}

}  // namespace
}  // namespace tern::sfu::testing
