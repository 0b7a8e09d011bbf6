// The forwarding core end to end in memory: publisher and subscriber
// clients (our own ICE/DTLS/SRTP cores) on WebRtcTransports of one
// TransportHost, the Router between them. Everything a subscriber sees is
// SRTP it must decrypt with its own keys.
#include <gtest/gtest.h>

#include "engine/sfu/router.h"
#include "tests/unit/sfu/sfu_test_util.h"

namespace tern::sfu {
namespace {

using testing::Bytes;
using testing::Client;
using testing::RtpSpec;

constexpr uint32_t kPubSsrc = 0xA0A0A0A0;

class RouterTest : public testing::SfuBed {
 protected:
  ProducerParams video_producer(uint64_t id, uint64_t transport, int layers = 1) {
    ProducerParams p;
    p.id = id;
    p.transport_id = transport;
    p.kind = SfuMediaKind::kVideo;
    p.mid = "0";
    p.codecs = {testing::vp8_codec(96, 97)};
    p.ext = testing::publisher_ext();
    static const char* rids[] = {"q", "h", "f", "x"};
    for (int i = 0; i < layers; ++i) {
      ProducerLayer l;
      if (layers > 1) l.rid = rids[i];
      p.layers.push_back(l);
    }
    return p;
  }
  ConsumerParams video_consumer(uint64_t id, uint64_t transport, uint64_t producer, uint32_t ssrc,
                                uint32_t rtx_ssrc = 0) {
    ConsumerParams c;
    c.id = id;
    c.transport_id = transport;
    c.producer_id = producer;
    c.kind = SfuMediaKind::kVideo;
    c.mid = "v" + std::to_string(id);
    c.codecs = {testing::vp8_codec(100, 101)};
    c.ext.mid = 9;
    c.ext.transport_cc = 5;
    c.ssrc = ssrc;
    c.rtx_ssrc = rtx_ssrc;
    return c;
  }
  Bytes vp8(uint16_t seq, uint32_t ts, bool key, uint32_t ssrc = kPubSsrc, const char* rid = "") {
    RtpSpec s;
    s.seq = seq;
    s.ts = ts;
    s.ssrc = ssrc;
    s.mid = "0";
    s.rid = rid;
    s.payload = testing::vp8_payload(key, 100 + seq % 50, uint8_t(seq));
    payloads[ssrc][seq] = s.payload;
    return testing::make_rtp(s);
  }
  // RTCP the publisher got from us.
  std::vector<rtp::RtcpPacket> rtcp_to(Client& cl, std::vector<Bytes>* keep) {
    std::vector<rtp::RtcpPacket> v;
    for (Bytes& b : received(cl)) {
      keep->push_back(std::move(b));
      rtp::RtcpCompound c;
      EXPECT_EQ(c.parse(keep->back().data(), keep->back().size()), rtp::RtcpError::kOk);
      for (rtp::RtcpPacket p : c) v.push_back(p);
    }
    return v;
  }
  static int count_type(const std::vector<rtp::RtcpPacket>& v, uint8_t type, uint8_t fmt) {
    int n = 0;
    for (const auto& p : v) n += p.type == type && p.count == fmt;
    return n;
  }
  std::map<uint32_t, std::map<uint16_t, Bytes>> payloads;
};

TEST_F(RouterTest, ForwardsToTwoSubscribersRewrittenWithPayloadByteExact) {
  Client& pub = connect(1);
  Client& sub1 = connect(2);
  Client& sub2 = connect(3);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  ConsumerParams c2 = video_consumer(21, 3, 10, 0x3000);
  c2.codecs = {testing::vp8_codec(120, -1)};
  c2.ext = {};
  c2.ext.mid = 14;
  ASSERT_TRUE(router->add_consumer(std::move(c2), t0).ok());

  Nanos now = t0;
  for (uint16_t i = 0; i < 50; ++i) {
    send(pub, vp8(uint16_t(65500 + i), 3000 * i, i == 0), false, now += kMillisecond);
  }
  std::vector<Bytes> r1 = received_rtp(sub1), r2 = received_rtp(sub2);
  ASSERT_EQ(r1.size(), 50u);
  ASSERT_EQ(r2.size(), 50u);
  rtp::RtpView first;
  ASSERT_EQ(first.parse(r1[0].data(), r1[0].size()), rtp::RtpError::kOk);
  for (size_t i = 0; i < 50; ++i) {
    rtp::RtpView a, b;
    ASSERT_EQ(a.parse(r1[i].data(), r1[i].size()), rtp::RtpError::kOk);
    ASSERT_EQ(b.parse(r2[i].data(), r2[i].size()), rtp::RtpError::kOk);
    EXPECT_EQ(a.ssrc(), 0x2000u);
    EXPECT_EQ(b.ssrc(), 0x3000u);
    EXPECT_EQ(a.payload_type(), 100);
    EXPECT_EQ(b.payload_type(), 120);
    EXPECT_EQ(a.sequence(), uint16_t(first.sequence() + i));  // continuous across the wrap
    EXPECT_EQ(a.timestamp(), uint32_t(3000 * i));
    const Bytes& want = payloads[kPubSsrc][uint16_t(65500 + i)];
    EXPECT_EQ(Bytes(a.payload().begin(), a.payload().end()), want);
    EXPECT_EQ(Bytes(b.payload().begin(), b.payload().end()), want);
    rtp::Extension e;
    absl::string_view mid;
    ASSERT_TRUE(rtp::find_extension(a, 9, &e));
    ASSERT_TRUE(rtp::read_string_extension(e, &mid));
    EXPECT_EQ(mid, "v20");
    ASSERT_TRUE(rtp::find_extension(b, 14, &e));
    ASSERT_TRUE(rtp::read_string_extension(e, &mid));
    EXPECT_EQ(mid, "v21");
    EXPECT_FALSE(rtp::find_extension(a, 10, &e));  // rid id of the publisher: gone
    uint16_t tcc = 0;
    ASSERT_TRUE(rtp::find_extension(a, 5, &e));
    ASSERT_TRUE(rtp::read_transport_cc_seq(e, &tcc));
    EXPECT_EQ(tcc, i);  // per subscriber transport
  }
  EXPECT_EQ(router->find_consumer(20)->stats().rtp_out.get(), 50u);
  EXPECT_EQ(router->find_producer(10)->stats().rtp_in.get(), 50u);
  EXPECT_EQ(router->find_producer(10)->stats().keyframes_in.get(), 1u);
  EXPECT_EQ(router->find_producer(10)->layer(0).ssrc, kPubSsrc);  // learnt from mid
  EXPECT_EQ(router->stats().learnt.get(), 1u);
  EXPECT_EQ(router->stats().drops.total(), 0u);
  EXPECT_EQ(host->find(2)->stats()->rtp_out.get(), 50u);
  // The consumers asked the publisher for a keyframe when the stream appeared.
  std::vector<Bytes> keep;
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kPsfb, rtp::fb_fmt::kPli), 1);
}

TEST_F(RouterTest, StartsAtKeyframeAndPauseResumeKeepsSequenceAndTimestampContinuous) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  Nanos now = t0;
  uint16_t seq = 100;
  uint32_t ts = 1000;
  auto step = [&](bool key) {
    now += 33 * kMillisecond;
    ts += 2970;
    send(pub, vp8(seq++, ts, key), false, now);
  };
  step(false);
  step(false);
  EXPECT_TRUE(received_rtp(sub).empty());  // no keyframe yet
  step(true);
  for (int i = 0; i < 4; ++i) step(false);
  std::vector<Bytes> a = received_rtp(sub);
  ASSERT_EQ(a.size(), 5u);
  rtp::RtpView last;
  ASSERT_EQ(last.parse(a.back().data(), a.back().size()), rtp::RtpError::kOk);
  const uint16_t last_seq = last.sequence();
  const uint32_t last_ts = last.timestamp();

  ASSERT_TRUE(router->pause_consumer(20, true, now));
  for (int i = 0; i < 5; ++i) step(false);
  EXPECT_TRUE(received_rtp(sub).empty());
  ASSERT_TRUE(router->pause_consumer(20, false, now));
  step(false);  // not a keyframe: held back
  EXPECT_TRUE(received_rtp(sub).empty());
  const Nanos gap_from = now - 6 * 33 * kMillisecond - 33 * kMillisecond;
  (void)gap_from;
  step(true);
  step(false);
  std::vector<Bytes> b = received_rtp(sub);
  ASSERT_EQ(b.size(), 2u);
  rtp::RtpView r0, r1;
  ASSERT_EQ(r0.parse(b[0].data(), b[0].size()), rtp::RtpError::kOk);
  ASSERT_EQ(r1.parse(b[1].data(), b[1].size()), rtp::RtpError::kOk);
  EXPECT_EQ(r0.sequence(), uint16_t(last_seq + 1));  // no hole for the paused part
  EXPECT_EQ(r1.sequence(), uint16_t(last_seq + 2));
  // The timestamp advanced by the wall time elapsed (7 frames of 33 ms at 90 kHz).
  EXPECT_EQ(r0.timestamp() - last_ts, uint32_t(7 * 33 * 90));
  EXPECT_EQ(r1.timestamp() - r0.timestamp(), 2970u);  // then the publisher's spacing
}

TEST_F(RouterTest, SubscriberNackRetransmitsAsRtxWithOsn) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  Client& plain = connect(3);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000, 0x2001), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(21, 3, 10, 0x3000), t0).ok());  // no RTX
  Nanos now = t0;
  for (uint16_t i = 0; i < 10; ++i) send(pub, vp8(500 + i, 90 * i, i == 0), false, now += 1000);
  std::vector<Bytes> got = received_rtp(sub);
  ASSERT_EQ(got.size(), 10u);
  // The plain subscriber "loses" packets 3 and 4 (never decrypts them).
  std::vector<Packet*> raw = sink.take(plain.addr);
  ASSERT_EQ(raw.size(), 10u);
  std::vector<Bytes> plain_got;
  for (size_t i = 0; i < raw.size(); ++i)
    if (i != 3 && i != 4) plain_got.push_back(plain.unprotect(raw[i]));
  rtp::RtpView p0;
  ASSERT_EQ(p0.parse(plain_got[0].data(), plain_got[0].size()), rtp::RtpError::kOk);

  rtp::RtpView v3;
  ASSERT_EQ(v3.parse(got[3].data(), got[3].size()), rtp::RtpError::kOk);
  const uint16_t lost = v3.sequence();
  Bytes nack(64);
  uint16_t seqs[] = {lost, uint16_t(lost + 1), uint16_t(lost + 300)};  // the last: never sent
  nack.resize(rtp::write_nack(nack.data(), nack.size(), 0x9999, 0x2000, seqs));
  send(sub, nack, true, now += 1000);
  std::vector<Bytes> rtx = received_rtp(sub);
  ASSERT_EQ(rtx.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    rtp::RtpView r;
    ASSERT_EQ(r.parse(rtx[k].data(), rtx[k].size()), rtp::RtpError::kOk);
    EXPECT_EQ(r.ssrc(), 0x2001u);
    EXPECT_EQ(r.payload_type(), 101);
    ASSERT_GE(r.payload_size(), 2u);
    const uint16_t osn = load_be16(r.payload().data());
    EXPECT_EQ(osn, uint16_t(lost + k));
    rtp::RtpView orig;
    ASSERT_EQ(orig.parse(got[3 + k].data(), got[3 + k].size()), rtp::RtpError::kOk);
    EXPECT_EQ(r.timestamp(), orig.timestamp());
    EXPECT_EQ(Bytes(r.payload().begin() + 2, r.payload().end()),
              Bytes(orig.payload().begin(), orig.payload().end()));
  }
  ConsumerStats& cs = router->find_consumer(20)->stats();
  EXPECT_EQ(cs.nack_in.get(), 3u);
  EXPECT_EQ(cs.rtx_out.get(), 2u);
  EXPECT_EQ(cs.nack_missed.get(), 1u);

  // Without RTX: a plain copy on the same SSRC and sequence number.
  const uint16_t plain_lost = uint16_t(p0.sequence() + 3);
  nack.assign(64, 0);
  uint16_t one[] = {plain_lost};
  nack.resize(rtp::write_nack(nack.data(), nack.size(), 0x9999, 0x3000, one));
  send(plain, nack, true, now += 1000);
  std::vector<Bytes> copy = received_rtp(plain);
  ASSERT_EQ(copy.size(), 1u);
  rtp::RtpView c;
  ASSERT_EQ(c.parse(copy[0].data(), copy[0].size()), rtp::RtpError::kOk);
  EXPECT_EQ(c.ssrc(), 0x3000u);
  EXPECT_EQ(c.sequence(), plain_lost);
  EXPECT_EQ(Bytes(c.payload().begin(), c.payload().end()), payloads[kPubSsrc][503]);
}

TEST_F(RouterTest, PublisherGapsAreNackedWithBoundedRetriesAndRtxRepairs) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  Nanos now = t0;
  send(pub, vp8(1, 0, true), false, now += 1000);
  send(pub, vp8(2, 0, false), false, now += 1000);
  send(pub, vp8(5, 0, false), false, now += 1000);  // 3 and 4 lost
  std::vector<Bytes> keep;
  rtcp_to(pub, &keep);  // the PLI from the consumer start
  router->on_tick(now, 0);
  std::vector<rtp::RtcpPacket> fb = rtcp_to(pub, &keep);
  ASSERT_EQ(count_type(fb, rtp::rtcp_type::kRtpfb, rtp::fb_fmt::kNack), 1);
  for (const auto& p : fb) {
    if (p.type != rtp::rtcp_type::kRtpfb) continue;
    rtp::NackPacket n;
    ASSERT_TRUE(n.parse(p));
    EXPECT_EQ(n.media_ssrc(), kPubSsrc);
    uint16_t lost[8];
    ASSERT_EQ(n.lost(lost, 8), 2u);
    EXPECT_EQ(lost[0], 3);
    EXPECT_EQ(lost[1], 4);
  }
  router->on_tick(now + 10 * kMillisecond, 0);  // too soon for a retry
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kRtpfb, rtp::fb_fmt::kNack), 0);
  // The publisher repairs 3 with RTX (its RTX SSRC is learnt from the RTX pt).
  RtpSpec rs;
  rs.pt = 97;
  rs.seq = 900;
  rs.ssrc = 0xA0A0A0A1;
  rs.mid = "0";
  Bytes orig_payload = testing::vp8_payload(false, 120, 3);
  rs.payload = {0x00, 0x03};
  rs.payload.insert(rs.payload.end(), orig_payload.begin(), orig_payload.end());
  send(pub, testing::make_rtp(rs), false, now += 1000);
  EXPECT_EQ(router->find_producer(10)->stats().rtx_in.get(), 1u);
  EXPECT_EQ(router->find_producer(10)->layer(0).rtx_ssrc, 0xA0A0A0A1u);
  std::vector<Bytes> got = received_rtp(sub);
  ASSERT_EQ(got.size(), 4u);  // 1, 2, 5, then the repaired 3
  rtp::RtpView first, rep;
  ASSERT_EQ(first.parse(got[0].data(), got[0].size()), rtp::RtpError::kOk);
  ASSERT_EQ(rep.parse(got[3].data(), got[3].size()), rtp::RtpError::kOk);
  EXPECT_EQ(rep.sequence(), uint16_t(first.sequence() + 2));
  EXPECT_EQ(rep.payload_type(), 100);
  EXPECT_EQ(Bytes(rep.payload().begin(), rep.payload().end()), orig_payload);
  // 4 stays missing: NACKed again every retry interval, at most kMaxNackRetries times.
  int nacks = 0;
  for (int i = 1; i <= 20; ++i) {
    router->on_tick(now + i * kNackRetryInterval, 0);
    nacks += count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kRtpfb, rtp::fb_fmt::kNack);
  }
  EXPECT_EQ(nacks, kMaxNackRetries - 1);
  EXPECT_EQ(router->find_producer(10)->stats().nack_out.get(), uint64_t(kMaxNackRetries));
}

TEST_F(RouterTest, KeyframeRequestsAreThrottledPerLayer) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  Nanos now = t0 + kSecond;
  send(pub, vp8(1, 0, true), false, now);  // starts; the start PLI goes out now
  std::vector<Bytes> keep;
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kPsfb, rtp::fb_fmt::kPli), 1);
  Bytes pli(32);
  pli.resize(rtp::write_pli(pli.data(), pli.size(), 0x9999, 0x2000));
  for (int i = 0; i < 3; ++i) send(sub, pli, true, now + (i + 1) * 50 * kMillisecond);
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kPsfb, rtp::fb_fmt::kPli), 0);
  router->on_tick(now + 200 * kMillisecond, 0);
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kPsfb, rtp::fb_fmt::kPli), 0);
  router->on_tick(now + kKeyframeInterval, 0);  // the pending request, once
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kPsfb, rtp::fb_fmt::kPli), 1);
  router->on_tick(now + 2 * kKeyframeInterval, 0);
  EXPECT_EQ(count_type(rtcp_to(pub, &keep), rtp::rtcp_type::kPsfb, rtp::fb_fmt::kPli), 0);
  EXPECT_EQ(router->find_consumer(20)->stats().pli_in.get(), 3u);
  EXPECT_EQ(router->find_producer(10)->stats().pli_out.get(), 2u);
}

TEST_F(RouterTest, SimulcastSwitchesOnlyAtTargetKeyframeContinuously) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1, 3), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  const uint32_t ssrc[3] = {0x100, 0x200, 0x300};
  const char* rid[3] = {"q", "h", "f"};
  uint16_t seq[3] = {10, 2000, 40000};
  uint32_t ts[3] = {0, 777777, 123};
  Nanos now = t0;
  auto frame = [&](int layer, bool key) {
    send(pub, vp8(seq[layer]++, ts[layer], key, ssrc[layer], rid[layer]), false, now);
  };
  auto advance = [&]() {
    now += 33 * kMillisecond;
    for (uint32_t& t : ts) t += 2970;
  };
  // Only q at first: the consumer starts on it.
  frame(0, true);
  advance();
  frame(0, false);
  ConsumerStats& cs = router->find_consumer(20)->stats();
  EXPECT_EQ(cs.current_layer.load(), 0);
  ASSERT_EQ(events.count(TransportEventType::kConsumerLayerChanged, 20), 1);
  // f appears (delta frames): the target moves to f, a PLI asks for its keyframe.
  std::vector<Bytes> keep;
  rtcp_to(pub, &keep);
  advance();
  frame(0, false);
  frame(2, false);
  bool pli_for_f = false;
  for (const auto& p : rtcp_to(pub, &keep))
    pli_for_f |= p.type == rtp::rtcp_type::kPsfb && rtp::feedback_media_ssrc(p) == 0x300;
  EXPECT_TRUE(pli_for_f);
  EXPECT_EQ(cs.current_layer.load(), 0);  // still q: no keyframe of f yet
  advance();
  frame(0, false);
  frame(2, false);
  advance();
  frame(2, true);   // switch here
  frame(0, false);  // q no longer forwarded
  advance();
  frame(2, false);
  EXPECT_EQ(cs.current_layer.load(), 2);
  const TransportEvent* ev = events.last(TransportEventType::kConsumerLayerChanged);
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(ev->layer, 2);
  EXPECT_EQ(ev->object_id, 20u);
  std::vector<Bytes> got = received_rtp(sub);
  // q: 4 packets (key + 3 deltas), then f: key + 1 delta.
  ASSERT_EQ(got.size(), 6u);
  std::vector<rtp::RtpView> v(got.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(v[i].parse(got[i].data(), got[i].size()), rtp::RtpError::kOk);
  for (size_t i = 1; i < v.size(); ++i) {
    EXPECT_EQ(v[i].sequence(), uint16_t(v[0].sequence() + i)) << i;
    EXPECT_EQ(v[i].ssrc(), 0x2000u);
  }
  EXPECT_EQ(v[4].timestamp() - v[3].timestamp(), 2970u);  // one frame later, not f's clock
  EXPECT_EQ(v[5].timestamp() - v[4].timestamp(), 2970u);
  EXPECT_EQ(Bytes(v[4].payload().begin(), v[4].payload().end()),
            payloads[0x300][uint16_t(seq[2] - 2)]);

  // Down to h by request: h delta frames are not forwarded, its keyframe is.
  ASSERT_TRUE(router->set_consumer_layer(20, 1, now));
  advance();
  frame(1, false);  // h becomes active; target h
  frame(2, false);  // still forwarding f
  advance();
  frame(1, true);
  frame(2, false);
  got = received_rtp(sub);
  ASSERT_EQ(got.size(), 2u);  // f delta, h key
  EXPECT_EQ(cs.current_layer.load(), 1);
  EXPECT_EQ(cs.layer_switches.get(), 3u);
}

TEST_F(RouterTest, SimulcastRtxLearntFromRepairedRidRepairsItsLayer) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1, 2), t0).ok());
  ConsumerParams cp = video_consumer(20, 2, 10, 0x2000);
  cp.preferred_layer = 1;
  ASSERT_TRUE(router->add_consumer(std::move(cp), t0).ok());
  Nanos now = t0;
  send(pub, vp8(1, 0, true, 0x100, "q"), false, now += 1000);
  send(pub, vp8(1, 0, true, 0x200, "h"), false, now += 1000);
  send(pub, vp8(3, 0, false, 0x200, "h"), false, now += 1000);  // h seq 2 lost
  // The RTX stream of h: repaired-rid "h", RTX pt 97, OSN 2.
  RtpSpec rs;
  rs.pt = 97;
  rs.seq = 4000;
  rs.ssrc = 0x201;
  rs.mid = "0";
  rs.rrid = "h";
  Bytes orig = testing::vp8_payload(false, 90, 2);
  rs.payload = {0x00, 0x02};
  rs.payload.insert(rs.payload.end(), orig.begin(), orig.end());
  send(pub, testing::make_rtp(rs), false, now += 1000);
  Producer* p = router->find_producer(10);
  EXPECT_EQ(p->layer(0).ssrc, 0x100u);
  EXPECT_EQ(p->layer(1).ssrc, 0x200u);
  EXPECT_EQ(p->layer(1).rtx_ssrc, 0x201u);
  EXPECT_EQ(p->layer(0).rtx_ssrc, 0u);
  EXPECT_EQ(p->stats().layer_packets[1].get(), 3u);
  std::vector<Bytes> got = received_rtp(sub);
  // q's keyframe first (the only layer then), then h: 1, 3, and the repaired 2.
  ASSERT_EQ(got.size(), 4u);
  rtp::RtpView a, c;
  ASSERT_EQ(a.parse(got[1].data(), got[1].size()), rtp::RtpError::kOk);
  ASSERT_EQ(c.parse(got[3].data(), got[3].size()), rtp::RtpError::kOk);
  EXPECT_EQ(c.sequence(), uint16_t(a.sequence() + 1));
  EXPECT_EQ(Bytes(c.payload().begin(), c.payload().end()), orig);
  EXPECT_EQ(router->find_consumer(20)->stats().current_layer.load(), 1);
  // A second copy of the same repair is a duplicate: not forwarded again.
  rs.seq = 4001;
  send(pub, testing::make_rtp(rs), false, now += 1000);
  EXPECT_TRUE(received_rtp(sub).empty());
}

TEST_F(RouterTest, ConsumerOnUnconnectedTransportStartsAtKeyframeOnceConnected) {
  Client& pub = connect(1);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  // Transport 2 exists but its peer has not connected yet.
  WebRtcTransportConfig c;
  c.id = 2;
  ASSERT_TRUE(host->add(*WebRtcTransport::create(c, server_ctx, t0), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  Nanos now = t0;
  send(pub, vp8(1, 0, true), false, now += 1000);
  send(pub, vp8(2, 0, false), false, now += 1000);
  ConsumerStats& cs = router->find_consumer(20)->stats();
  EXPECT_EQ(cs.drops.get(Drop::kSfuNotConnected), 2u);
  EXPECT_EQ(cs.rtp_out.get(), 0u);
  EXPECT_EQ(cs.current_layer.load(), -1);  // not started on a keyframe it could not send
}

TEST_F(RouterTest, MalformedRtcpAndPaddingProbesAreCountedNotForwarded) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  Nanos now = t0;
  send(pub, vp8(1, 0, true), false, now += 1000);
  received(sub);
  // An RR whose length field claims more than the datagram holds.
  Bytes bad = {0x80, 201, 0x00, 0x07, 0, 0, 0, 1};
  send(sub, bad, true, now += 1000);
  EXPECT_EQ(router->stats().drops.get(Drop::kRtcpMalformed), 1u);
  // A padding-only RTX probe (no OSN): learnt as the RTX stream, nothing forwarded.
  Bytes probe = {0x80 | 0x20, 97, 0x00, 0x01, 0, 0, 0, 0, 0xA0, 0xA0, 0xA0, 0xA1, 0, 0, 0, 4};
  send(pub, probe, false, now += 1000);
  EXPECT_TRUE(received_rtp(sub).empty());
  EXPECT_EQ(router->find_producer(10)->stats().rtx_in.get(), 0u);
  EXPECT_EQ(router->find_producer(10)->stats().drops.total(), 0u);
  // RTP with a payload type the producer never negotiated.
  RtpSpec s;
  s.pt = 45;
  s.seq = 2;
  s.ssrc = kPubSsrc;
  s.payload = Bytes(20, 1);
  send(pub, testing::make_rtp(s), false, now += 1000);
  EXPECT_EQ(router->find_producer(10)->stats().drops.get(Drop::kSfuUnknownPt), 1u);
  EXPECT_TRUE(received_rtp(sub).empty());
}

TEST_F(RouterTest, SenderAndReceiverReports) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  Nanos now = t0;
  size_t payload_bytes = 0;
  for (uint16_t i = 0; i < 20; ++i) {
    if (i == 7) continue;  // one loss
    Bytes b = vp8(i, 1000 + 3000 * i, i == 0);
    payload_bytes += payloads[kPubSsrc][i].size();
    send(pub, b, false, now += 10 * kMillisecond);
  }
  // The publisher's SR: NTP 0x11223344.55667788 <-> RTP 50000.
  rtp::SenderInfo si;
  si.ntp = 0x1122334455667788ull;
  si.rtp_timestamp = 50000;
  si.packet_count = 19;
  Bytes sr(64);
  sr.resize(rtp::write_sender_report(sr.data(), sr.size(), kPubSsrc, si, {}));
  send(pub, sr, true, now);
  EXPECT_EQ(router->find_producer(10)->stats().sr_in.get(), 1u);
  received(sub);
  std::vector<Bytes> keep;
  rtcp_to(pub, &keep);
  const Nanos later = now + 500 * kMillisecond;
  router->on_tick(later, 1700000000ll * kSecond);

  // RR to the publisher.
  bool saw_rr = false;
  for (const auto& p : rtcp_to(pub, &keep)) {
    if (p.type != rtp::rtcp_type::kRr) continue;
    rtp::ReportPacket rr;
    ASSERT_TRUE(rr.parse(p));
    ASSERT_EQ(rr.block_count(), 1u);
    rtp::ReportBlock b = rr.block(0);
    EXPECT_EQ(b.ssrc, kPubSsrc);
    EXPECT_EQ(b.cumulative_lost, 1);
    EXPECT_EQ(b.extended_highest_seq, 19u);  // no wrap yet (cycles 0)
    EXPECT_EQ(b.last_sr, 0x33445566u);
    EXPECT_EQ(b.delay_since_last_sr, rtp::compact_from_nanos(500 * kMillisecond));
    saw_rr = true;
  }
  EXPECT_TRUE(saw_rr);
  EXPECT_EQ(router->find_producer(10)->stats().rr_out.get(), 1u);
  // SR to the subscriber: its SSRC, what it was sent, and the publisher's clock.
  bool saw_sr = false;
  for (Bytes& b : received(sub)) {
    rtp::RtcpCompound c;
    ASSERT_EQ(c.parse(b.data(), b.size()), rtp::RtcpError::kOk);
    for (rtp::RtcpPacket p : c) {
      rtp::ReportPacket rp;
      ASSERT_TRUE(rp.parse(p));
      ASSERT_TRUE(rp.is_sender_report());
      EXPECT_EQ(rp.ssrc(), 0x2000u);
      EXPECT_EQ(rp.sender_info().packet_count, 19u);
      EXPECT_EQ(rp.sender_info().octet_count, payload_bytes);
      const uint64_t el = (uint64_t(500) << 32) / 1000;  // 500 ms in NTP units
      EXPECT_NEAR(double(rp.sender_info().ntp - si.ntp), double(el), 2.0);
      EXPECT_EQ(rp.sender_info().rtp_timestamp, 50000u + 45000u);
      saw_sr = true;
    }
  }
  EXPECT_TRUE(saw_sr);
  EXPECT_EQ(router->find_consumer(20)->stats().sr_out.get(), 1u);
  // The subscriber's RR about our SSRC is counted.
  rtp::ReportBlock rb;
  rb.ssrc = 0x2000;
  Bytes rr(64);
  rr.resize(rtp::write_receiver_report(rr.data(), rr.size(), 0x9999, {&rb, 1}));
  send(sub, rr, true, later);
  EXPECT_EQ(router->find_consumer(20)->stats().rr_in.get(), 1u);
}

TEST_F(RouterTest, RefusalsAndClosesEmitEvents) {
  connect(1);
  connect(2);
  EXPECT_FALSE(router->add_producer(video_producer(10, 99), t0).ok());
  const TransportEvent* ev = events.last(TransportEventType::kProducerClosed);
  ASSERT_NE(ev, nullptr);
  EXPECT_EQ(ev->object_id, 10u);
  EXPECT_NE(std::string(ev->reason).find("not on this worker"), std::string::npos) << ev->reason;
  EXPECT_FALSE(router->add_consumer(video_consumer(20, 2, 77, 0x2000), t0).ok());
  ev = events.last(TransportEventType::kConsumerClosed);
  ASSERT_NE(ev, nullptr);
  EXPECT_NE(std::string(ev->reason).find("producer 77"), std::string::npos) << ev->reason;
  ProducerParams bad = video_producer(11, 1);
  bad.layers.clear();
  EXPECT_FALSE(router->add_producer(std::move(bad), t0).ok());
  ProducerParams dup_rid = video_producer(12, 1, 2);
  dup_rid.layers[1].rid = "q";
  EXPECT_FALSE(router->add_producer(std::move(dup_rid), t0).ok());
  ev = events.last(TransportEventType::kProducerClosed);
  EXPECT_NE(std::string(ev->reason).find("layers[1].rid"), std::string::npos) << ev->reason;
  EXPECT_EQ(router->stats().refused.get(), 4u);

  ASSERT_TRUE(router->add_producer(video_producer(10, 1), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(20, 2, 10, 0x2000), t0).ok());
  ASSERT_TRUE(router->add_consumer(video_consumer(21, 1, 10, 0x2100), t0).ok());   // self view
  EXPECT_FALSE(router->add_consumer(video_consumer(22, 2, 10, 0x2000), t0).ok());  // ssrc taken
  events.ev.clear();
  // The publisher's transport closes: its producer, and with it every consumer.
  ASSERT_TRUE(host->close(1, t0));
  EXPECT_EQ(events.count(TransportEventType::kProducerClosed, 10), 1);
  EXPECT_EQ(events.count(TransportEventType::kConsumerClosed, 20), 1);
  EXPECT_EQ(events.count(TransportEventType::kConsumerClosed, 21), 1);
  EXPECT_TRUE(router->empty());
  EXPECT_EQ(router->on_tick(t0, 0), kNever);
}

TEST_F(RouterTest, AudioForwardsWithoutKeyframesAndUnknownSsrcIsCounted) {
  Client& pub = connect(1);
  Client& sub = connect(2);
  ProducerParams p;
  p.id = 30;
  p.transport_id = 1;
  p.kind = SfuMediaKind::kAudio;
  p.mid = "1";
  RtpCodecParams opus;
  opus.codec = CodecId::kOpus;
  opus.pt = 111;
  opus.clock_rate = 48000;
  p.codecs = {opus};
  p.ext = testing::publisher_ext();
  p.layers = {ProducerLayer{"", 0x5150, 0}};  // SSRC from signalling
  ASSERT_TRUE(router->add_producer(std::move(p), t0).ok());
  ConsumerParams c;
  c.id = 31;
  c.transport_id = 2;
  c.producer_id = 30;
  c.kind = SfuMediaKind::kAudio;
  c.mid = "a";
  opus.pt = 109;
  c.codecs = {opus};
  c.ext.audio_level = 12;
  c.ssrc = 0x3131;
  ASSERT_TRUE(router->add_consumer(std::move(c), t0).ok());
  RtpSpec s;
  s.pt = 111;
  s.ssrc = 0x5150;
  s.audio_level = 30;
  s.payload = Bytes(60, 0x42);
  for (int i = 0; i < 5; ++i) {
    s.seq = uint16_t(i);
    s.ts = 960 * i;
    send(pub, testing::make_rtp(s), false, t0 + i * 20 * kMillisecond);
  }
  std::vector<Bytes> got = received_rtp(sub);
  ASSERT_EQ(got.size(), 5u);
  rtp::RtpView v;
  ASSERT_EQ(v.parse(got[0].data(), got[0].size()), rtp::RtpError::kOk);
  EXPECT_EQ(v.payload_type(), 109);
  rtp::Extension e;
  ASSERT_TRUE(rtp::find_extension(v, 12, &e));
  bool voice;
  uint8_t level;
  ASSERT_TRUE(rtp::read_audio_level(e, &voice, &level));
  EXPECT_EQ(level, 30);
  s.ssrc = 0x7777;  // unknown, no mid: two producers? no, one -- but an SSRC is set
  s.mid = "";
  send(pub, testing::make_rtp(s), false, t0 + kSecond);
  EXPECT_EQ(router->stats().drops.get(Drop::kSfuUnknownSsrc), 1u);
  EXPECT_TRUE(received_rtp(sub).empty());
}

}  // namespace
}  // namespace tern::sfu
