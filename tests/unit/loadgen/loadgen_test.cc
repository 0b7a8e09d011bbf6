// bench/loadgen: the checker's sequence accounting and latency histogram,
// the probe format, the synthetic streams (rate, keyframe layout ternd's
// VP8 detector reads) and the offers (parsed back by tern's SDP parser).
// The TURN side (TurnLeg, Pacer, RelayPair) is in turn_leg_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "bench/loadgen/checker.h"
#include "bench/loadgen/offer.h"
#include "bench/loadgen/relay_pair.h"
#include "bench/loadgen/stream.h"
#include "bench/loadgen/turn_leg.h"
#include "control/sdp/sdp_parser.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/turn/turn_protocol.h"

namespace tern::loadgen {
namespace {

WindowCounts feed(SeqTracker& t, std::vector<uint16_t> seqs) {
  bool dup, late;
  for (uint16_t s : seqs) t.on_packet(s, 100, &dup, &late);
  return t.window();
}

TEST(SeqTracker, InOrderNoLoss) {
  SeqTracker t;
  WindowCounts w = feed(t, {10, 11, 12, 13});
  EXPECT_EQ(w.received, 4u);
  EXPECT_EQ(w.expected, 4u);
  EXPECT_EQ(w.duplicates, 0u);
  EXPECT_EQ(w.reordered, 0u);
  EXPECT_EQ(w.bytes, 400u);
}

TEST(SeqTracker, GapIsLossDuplicateAndReorderCounted) {
  SeqTracker t;
  WindowCounts w = feed(t, {1, 2, 4, 5, 5, 7});
  EXPECT_EQ(w.expected, 7u);
  EXPECT_EQ(w.received, 5u);  // 3 and 6 missing
  EXPECT_EQ(w.duplicates, 1u);
  w = feed(t, {3});  // late repair: fills the gap, counted as reordered
  EXPECT_EQ(w.received, 6u);
  EXPECT_EQ(w.reordered, 1u);
  EXPECT_EQ(w.expected, 7u);
}

TEST(SeqTracker, WrapsAround) {
  SeqTracker t;
  WindowCounts w = feed(t, {65534, 65535, 0, 1});
  EXPECT_EQ(w.expected, 4u);
  EXPECT_EQ(w.received, 4u);
  EXPECT_EQ(w.reordered, 0u);
}

TEST(SeqTracker, WindowResetStartsAtNextPacket) {
  SeqTracker t;
  feed(t, {1, 2, 3});
  t.reset_window();
  EXPECT_EQ(t.window().expected, 0u);
  WindowCounts w = feed(t, {5, 6});  // 4 was lost before the window: not counted
  EXPECT_EQ(w.expected, 2u);
  EXPECT_EQ(w.received, 2u);
  w = feed(t, {2});  // a duplicate from before the window
  EXPECT_EQ(w.duplicates, 1u);
  EXPECT_EQ(w.received, 2u);
}

TEST(LatencyHistogram, QuantilesWithinBucketError) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.5), 0);
  for (int us = 1; us <= 1000; ++us) h.add(Nanos(us) * 1000);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(double(h.quantile(0.5)), 500e3, 500e3 * 0.04);
  EXPECT_NEAR(double(h.quantile(0.99)), 990e3, 990e3 * 0.04);
  EXPECT_LE(h.quantile(0.999), h.max());
  EXPECT_EQ(h.max(), 1000 * 1000);
  LatencyHistogram small;
  small.add(7);
  EXPECT_EQ(small.quantile(0.5), 7);  // exact below 64 ns
  h.merge(small);
  EXPECT_EQ(h.count(), 1001u);
}

TEST(Probe, RoundTripAndMagic) {
  uint8_t buf[kProbeSize];
  write_probe(buf, {7, 123456, Nanos(0x123456789abcLL)});
  Probe p;
  ASSERT_TRUE(read_probe(buf, sizeof(buf), &p));
  EXPECT_EQ(p.stream_id, 7u);
  EXPECT_EQ(p.seq, 123456u);
  EXPECT_EQ(p.sent, Nanos(0x123456789abcLL));
  EXPECT_FALSE(read_probe(buf, kProbeSize - 1, &p));
  buf[0] ^= 1;
  EXPECT_FALSE(read_probe(buf, sizeof(buf), &p));
}

struct Sent {
  uint64_t bytes = 0, packets = 0, keyframes = 0;
  std::vector<size_t> sizes;
};

Sent run_stream(StreamGen& g, Nanos seconds) {
  Sent s;
  g.start(0);
  uint8_t buf[1600];
  for (Nanos now = 0; now < seconds * kSecond; now += kMillisecond) {
    while (g.begin_frame(now)) {
      bool first = true;
      for (size_t n; (n = g.next_packet(buf, sizeof(buf), now)) > 0;) {
        rtp::RtpView v;
        EXPECT_EQ(v.parse(buf, n), rtp::RtpError::kOk);
        const uint8_t* pl = v.payload().data();
        Probe p;
        EXPECT_TRUE(read_probe(pl + probe_offset(g.config().video),
                               v.payload_size() - probe_offset(g.config().video), &p));
        EXPECT_EQ(p.sent, now);
        if (g.config().video) {
          EXPECT_EQ(pl[0], first ? 0x10 : 0x00);  // S bit, PID 0 on the first packet only
          if (first && (pl[1] & 1) == 0) ++s.keyframes;
          EXPECT_LE(n, 1200u + 40);
        }
        first = false;
        s.bytes += v.payload_size();
        ++s.packets;
        s.sizes.push_back(v.payload_size());
      }
    }
  }
  return s;
}

TEST(StreamGen, VideoRateAndKeyframes) {
  StreamGen g({.video = true,
               .stream_id = 1,
               .ssrc = 42,
               .pt = kVp8Pt,
               .mid = "1",
               .kbps = 1000,
               .fps = 30,
               .keyframe_interval = 30});
  Sent s = run_stream(g, 10);
  EXPECT_NEAR(double(s.bytes) * 8 / 10, 1000e3, 1000e3 * 0.05);
  EXPECT_EQ(s.keyframes, 10u);  // 300 frames, one keyframe per 30
  EXPECT_EQ(g.keyframes(), 10u);
  g.request_keyframe();
  uint8_t buf[1600];
  ASSERT_TRUE(g.begin_frame(20 * kSecond));
  ASSERT_GT(g.next_packet(buf, sizeof(buf), 20 * kSecond), 0u);
  EXPECT_EQ(g.keyframes(), 11u);
  EXPECT_GT(g.frames_skipped(), 0u);  // 10 s stall: skipped, not burst
}

// With pacing, a frame's packets leave no faster than pacing x kbps (with
// 1 ms of credit), the average rate is unchanged and every packet's probe
// carries the time it was produced.
TEST(StreamGen, PacingSpreadsAFrame) {
  StreamGen g({.video = true,
               .stream_id = 1,
               .ssrc = 42,
               .pt = kVp8Pt,
               .mid = "1",
               .kbps = 10000,
               .fps = 30,
               .keyframe_interval = 30,
               .pacing = 2.5});
  g.start(0);
  uint8_t buf[1600];
  uint64_t bytes = 0, max_in_100us = 0;
  for (Nanos now = 0; now < 4 * kSecond; now += 100 * kMicrosecond) {
    if (!g.frame_pending()) g.begin_frame(now);
    uint64_t here = 0;
    for (size_t n; (n = g.next_packet(buf, sizeof(buf), now)) > 0;) {
      rtp::RtpView v;
      ASSERT_EQ(v.parse(buf, n), rtp::RtpError::kOk);
      Probe p;
      ASSERT_TRUE(read_probe(v.payload().data() + 2, v.payload_size() - 2, &p));
      EXPECT_EQ(p.sent, now);
      here += n;
      if (g.frame_pending() == false) break;
    }
    bytes += here;
    if (now > 10 * kMillisecond) max_in_100us = std::max(max_in_100us, here);
  }
  EXPECT_NEAR(double(bytes) * 8 / 4, 10000e3, 10000e3 * 0.05);
  // 2.5 x 10 Mbps = 3125 B per 100 us, plus the 1 ms credit once: without
  // pacing a keyframe (~125 KB) would leave in one step.
  EXPECT_LE(max_in_100us, 3125u + 3125u * 10 + 1300u);
  EXPECT_EQ(g.frames_skipped(), 0u);
  StreamGen burst({.video = true, .ssrc = 7, .pt = kVp8Pt, .mid = "1", .kbps = 10000});
  burst.start(0);
  ASSERT_TRUE(burst.begin_frame(0));
  uint64_t first = 0;
  for (size_t n; (n = burst.next_packet(buf, sizeof(buf), 0)) > 0;) first += n;
  EXPECT_GT(first, 100000u);  // unpaced: the whole keyframe at once
}

TEST(StreamGen, AudioEvery20msWithinOpusSizes) {
  StreamGen g({.video = false, .stream_id = 0, .ssrc = 43, .pt = kOpusPt, .mid = "0", .kbps = 32});
  Sent s = run_stream(g, 2);
  EXPECT_EQ(s.packets, 100u);
  for (size_t n : s.sizes) {
    EXPECT_GE(n, 60u);
    EXPECT_LE(n, 160u);
  }
}

TEST(Offer, PublisherAndSubscriberParseBack) {
  OfferParams p;
  p.audio_ssrc = 1111, p.video_ssrc = 2222;
  p.ice_ufrag = "abcd", p.ice_pwd = "0123456789012345678901";
  p.fingerprint = "sha-256 AB";
  for (int i = 1; i < 32; ++i) p.fingerprint += ":CD";
  p.cname = "pub0";
  auto sd = sdp::parse_sdp(build_offer(p));
  ASSERT_TRUE(sd.ok()) << sd.status();
  ASSERT_EQ(sd->media.size(), 2u);
  EXPECT_EQ(sd->media[0].direction, sdp::Direction::kSendOnly);
  EXPECT_EQ(sd->media[0].ssrcs.at(0).ssrc, 1111u);
  EXPECT_EQ(sd->media[1].ssrcs.at(0).ssrc, 2222u);
  EXPECT_EQ(sd->media[1].codecs.at(0).name, "VP8");
  EXPECT_EQ(sd->media[1].extmaps.at(0).uri, "urn:ietf:params:rtp-hdrext:sdes:mid");
  ASSERT_NE(sd->bundle_group(), nullptr);
  EXPECT_EQ(sd->bundle_group()->mids.size(), 2u);
  p.publish = false;
  sd = sdp::parse_sdp(build_offer(p));
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->media[0].direction, sdp::Direction::kRecvOnly);
  EXPECT_TRUE(sd->media[0].ssrcs.empty());
}

TEST(Offer, ReadAnswerNeedsCandidate) {
  const std::string fp = [] {
    std::string s = "sha-256 AB";
    for (int i = 1; i < 32; ++i) s += ":CD";
    return s;
  }();
  std::string ans =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:uf\r\n"
      "a=ice-pwd:pwpwpwpwpwpwpwpwpwpwpw\r\na=fingerprint:" +
      fp + "\r\na=setup:passive\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n";
  EXPECT_FALSE(read_answer(ans).ok());  // no candidate
  auto a = read_answer(ans + "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->ice_ufrag, "uf");
  EXPECT_EQ(a->server.port, 40000);
  EXPECT_EQ(a->fingerprint.to_sdp(), fp);
}

// A Janus-style subscriber offer (trimmed from a real Janus 1.1.2 one): the
// loadgen answers recvonly + setup:active on every line and expects the
// primary SSRCs, not the FID retransmission one.
TEST(Offer, AnswersAServerOffer) {
  std::string fp = "sha-256 AB";
  for (int i = 1; i < 32; ++i) fp += ":CD";
  const std::string offer =
      "v=0\r\no=- 1 2 IN IP4 10.0.0.2\r\ns=VideoRoom 1\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
      "a=ice-lite\r\na=fingerprint:" +
      fp +
      "\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 10.0.0.2\r\na=sendonly\r\na=mid:0\r\n"
      "a=rtcp-mux\r\na=ice-ufrag:jn\r\na=ice-pwd:pwpwpwpwpwpwpwpwpwpwpw\r\na=setup:actpass\r\n"
      "a=rtpmap:111 opus/48000/2\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=ssrc:100 cname:janus\r\n"
      "a=candidate:1 1 udp 2015363327 10.0.0.2 40244 typ host\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 10.0.0.2\r\na=sendonly\r\na=mid:1\r\n"
      "a=rtcp-mux\r\na=ice-ufrag:jn\r\na=ice-pwd:pwpwpwpwpwpwpwpwpwpwpw\r\na=setup:actpass\r\n"
      "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 goog-remb\r\n"
      "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\na=extmap:4 "
      "urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
      "a=ssrc-group:FID 200 201\r\na=ssrc:200 cname:janus\r\na=ssrc:201 cname:janus\r\n";
  auto sd = sdp::parse_sdp(offer);
  ASSERT_TRUE(sd.ok()) << sd.status();
  const std::vector<OfferedStream> want = offered_streams(*sd);
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(want[0].ssrc, 100u);
  EXPECT_FALSE(want[0].video);
  EXPECT_EQ(want[1].ssrc, 200u);  // 201 is the retransmission stream
  EXPECT_TRUE(want[1].video);

  OfferParams p;
  p.ice_ufrag = "mine", p.ice_pwd = "0123456789012345678901", p.fingerprint = fp;
  auto ans = sdp::parse_sdp(build_answer(*sd, p));
  ASSERT_TRUE(ans.ok()) << ans.status();
  ASSERT_EQ(ans->media.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const sdp::MediaSection& m = ans->media[i];
    EXPECT_EQ(m.mid, sd->media[i].mid);
    EXPECT_EQ(m.direction, sdp::Direction::kRecvOnly);
    EXPECT_EQ(m.transport.setup, sdp::Setup::kActive);
    EXPECT_EQ(m.transport.ice_ufrag, "mine");
    ASSERT_EQ(m.codecs.size(), 1u);
    ASSERT_EQ(m.extmaps.size(), 1u);
    EXPECT_EQ(m.extmaps[0].id, 4);  // the offer's id, not the loadgen's own
  }
  EXPECT_EQ(ans->media[1].codecs[0].name, "VP8");
  EXPECT_EQ(ans->media[1].codecs[0].rtcp_fb, std::vector<std::string>{"nack"});
  ASSERT_NE(ans->bundle_group(), nullptr);
  EXPECT_EQ(ans->bundle_group()->mids.size(), 2u);
}

}  // namespace
}  // namespace tern::loadgen
