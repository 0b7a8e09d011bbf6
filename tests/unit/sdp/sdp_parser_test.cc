#include "control/sdp/sdp_parser.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "control/sdp/sdp_writer.h"
#include "gtest/gtest.h"
#include "tests/unit/sdp/sdp_test_util.h"

namespace tern::sdp {
namespace {

using testing::kOffers;
using testing::load_offer;

TEST(SdpParser, ChromeWhipOffer) {
  const std::string text = load_offer("chrome_whip_simulcast");
  ASSERT_FALSE(text.empty());
  auto sd = parse_sdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  EXPECT_EQ(sd->origin.session_id, "4215775240449105457");
  EXPECT_EQ(sd->origin.session_version, "2");
  EXPECT_EQ(sd->origin.address, "127.0.0.1");
  EXPECT_TRUE(sd->extmap_allow_mixed);
  ASSERT_NE(sd->bundle_group(), nullptr);
  EXPECT_EQ(sd->bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(sd->other.size(), 1u);
  EXPECT_EQ(sd->other[0].name, "msid-semantic");
  EXPECT_EQ(sd->other[0].value, " WMS 5f1c3b2e-7a10-4d6e-9c57-3f5bb1f0a0d2");
  ASSERT_EQ(sd->media.size(), 2u);

  const MediaSection& a = sd->media[0];
  EXPECT_EQ(a.kind, MediaKind::kAudio);
  EXPECT_EQ(a.port, 9);
  EXPECT_EQ(a.proto, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(a.formats.size(), 8u);
  EXPECT_EQ(a.mid, "0");
  EXPECT_TRUE(a.has_direction);
  EXPECT_EQ(a.direction, Direction::kSendOnly);
  EXPECT_EQ(a.transport.ice_ufrag, "EsAw");
  EXPECT_EQ(a.transport.ice_pwd, "bP+XJMM09aR8AiX1jdukzR6Y");
  EXPECT_EQ(a.transport.ice_options, std::vector<std::string>{"trickle"});
  ASSERT_EQ(a.transport.fingerprints.size(), 1u);
  EXPECT_EQ(a.transport.fingerprints[0].fp.hash, FingerprintHash::kSha256);
  EXPECT_EQ(a.transport.fingerprints[0].fp.bytes[0], 0x93);
  EXPECT_EQ(a.transport.setup, Setup::kActPass);
  EXPECT_TRUE(a.rtcp_mux);
  EXPECT_TRUE(a.rtcp_rsize);
  EXPECT_EQ(a.rtcp, "9 IN IP4 0.0.0.0");
  const Codec* opus = a.find_codec(111);
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->name, "opus");
  EXPECT_EQ(opus->clock_rate, 48000u);
  EXPECT_EQ(opus->channels, 2);
  EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(opus->rtcp_fb, std::vector<std::string>{"transport-cc"});
  const Codec* pcmu = a.find_codec(0);
  ASSERT_NE(pcmu, nullptr);
  EXPECT_EQ(pcmu->name, "PCMU");
  EXPECT_EQ(pcmu->channels, 0);
  ASSERT_EQ(a.extmaps.size(), 4u);
  EXPECT_EQ(a.extmaps[0].id, 1);
  EXPECT_EQ(a.extmaps[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  EXPECT_FALSE(a.extmaps[0].has_direction);
  ASSERT_EQ(a.msids.size(), 1u);
  EXPECT_EQ(a.msids[0].stream_id, "5f1c3b2e-7a10-4d6e-9c57-3f5bb1f0a0d2");
  EXPECT_EQ(a.msids[0].track_id, "0c8f8a0e-2f55-4a3c-bd4e-5c1c2b8a9e11");
  ASSERT_EQ(a.ssrcs.size(), 2u);
  EXPECT_EQ(a.ssrcs[0].ssrc, 3570614608u);
  EXPECT_EQ(a.ssrcs[0].attribute, "cname");
  EXPECT_EQ(a.ssrcs[0].value, "4TOk42mSjXCkVIa6");

  const MediaSection& v = sd->media[1];
  EXPECT_EQ(v.kind, MediaKind::kVideo);
  EXPECT_EQ(v.formats.size(), 25u);
  EXPECT_EQ(v.extmaps.size(), 11u);
  const Codec* h264 = v.find_codec(106);
  ASSERT_NE(h264, nullptr);
  EXPECT_EQ(h264->name, "H264");
  EXPECT_EQ(h264->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(h264->rtcp_fb,
            (std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}));
  const Codec* rtx = v.find_codec(107);
  ASSERT_NE(rtx, nullptr);
  EXPECT_EQ(rtx->name, "rtx");
  EXPECT_EQ(rtx->fmtp, "apt=106");
  ASSERT_EQ(v.rids.size(), 3u);
  EXPECT_EQ(v.rids[0].id, "q");
  EXPECT_TRUE(v.rids[0].send);
  ASSERT_EQ(v.simulcast.send.size(), 3u);
  EXPECT_EQ(v.simulcast.send[2][0].rid, "f");
  EXPECT_FALSE(v.simulcast.send[2][0].paused);
  EXPECT_TRUE(v.simulcast.recv.empty());
  EXPECT_TRUE(v.ssrcs.empty());
}

TEST(SdpParser, DataChannelOfferWithCandidates) {
  auto sd = parse_sdp(load_offer("chrome_datachannel"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  ASSERT_EQ(sd->media.size(), 1u);
  const MediaSection& m = sd->media[0];
  EXPECT_EQ(m.kind, MediaKind::kApplication);
  EXPECT_TRUE(m.is_sctp());
  EXPECT_FALSE(m.is_rtp());
  EXPECT_EQ(m.formats, std::vector<std::string>{"webrtc-datachannel"});
  EXPECT_EQ(m.sctp_port, 5000);
  EXPECT_TRUE(m.has_max_message_size);
  EXPECT_EQ(m.max_message_size, 262144u);
  EXPECT_TRUE(m.end_of_candidates);
  ASSERT_EQ(m.candidates.size(), 2u);
  const Candidate& h = m.candidates[0];
  EXPECT_EQ(h.foundation, "3052875401");
  EXPECT_EQ(h.component, 1u);
  EXPECT_EQ(h.transport, "udp");
  EXPECT_EQ(h.priority, 2113937151u);
  EXPECT_EQ(h.address, "8f3c7a64-1d2e-4c5b-9a8f-7e6d5c4b3a21.local");
  EXPECT_EQ(h.port, 54321);
  EXPECT_EQ(h.type, "host");
  EXPECT_EQ(h.rel_port, -1);
  ASSERT_EQ(h.extensions.size(), 2u);
  EXPECT_EQ(h.extensions[0], (std::pair<std::string, std::string>{"generation", "0"}));
  EXPECT_EQ(h.extensions[1], (std::pair<std::string, std::string>{"network-cost", "999"}));
  const Candidate& s = m.candidates[1];
  EXPECT_EQ(s.type, "srflx");
  EXPECT_EQ(s.address, "198.18.0.7");
  EXPECT_EQ(s.rel_addr, "0.0.0.0");
  EXPECT_EQ(s.rel_port, 0);
}

TEST(SdpParser, FirefoxOffer) {
  auto sd = parse_sdp(load_offer("firefox_sendonly"));
  ASSERT_TRUE(sd.ok()) << sd.status();
  // Session-level fingerprint and direction; fmtp before rtpmap.
  ASSERT_EQ(sd->transport.fingerprints.size(), 1u);
  EXPECT_EQ(sd->transport.fingerprints[0].fp.bytes[0], 0x16);
  EXPECT_TRUE(sd->has_direction);
  EXPECT_EQ(sd->direction, Direction::kSendRecv);
  EXPECT_EQ(sd->transport.ice_options, std::vector<std::string>{"trickle"});
  ASSERT_EQ(sd->media.size(), 2u);
  const MediaSection& a = sd->media[0];
  EXPECT_TRUE(a.transport.fingerprints.empty());
  EXPECT_EQ(a.direction, Direction::kSendOnly);
  ASSERT_EQ(a.extmaps.size(), 3u);
  EXPECT_TRUE(a.extmaps[1].has_direction);
  EXPECT_EQ(a.extmaps[1].direction, Direction::kRecvOnly);
  const Codec* opus = a.find_codec(109);
  ASSERT_NE(opus, nullptr);
  EXPECT_TRUE(opus->has_rtpmap);
  EXPECT_EQ(opus->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  const Codec* g722 = a.find_codec(9);
  ASSERT_NE(g722, nullptr);
  EXPECT_EQ(g722->channels, 1);
  const MediaSection& v = sd->media[1];
  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(v.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{3108238318u, 1950185497u}));
  EXPECT_EQ(v.find_codec(126)->rtcp_fb.size(), 5u);
  EXPECT_EQ(v.msids[0].stream_id, "{1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b}");
}

// parse -> write -> parse gives the same model, and writing is idempotent.
TEST(SdpParser, RoundTripEveryOffer) {
  for (const char* name : kOffers) {
    SCOPED_TRACE(name);
    auto a = parse_sdp(load_offer(name));
    ASSERT_TRUE(a.ok()) << a.status();
    const std::string text = write_sdp(*a);
    auto b = parse_sdp(text);
    ASSERT_TRUE(b.ok()) << b.status() << "\n" << text;
    EXPECT_TRUE(*a == *b);
    EXPECT_EQ(write_sdp(*b), text);
    // CRLF everywhere, no bare LF.
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') ASSERT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(SdpParser, LfOnlyAndBlankLinesAccepted) {
  std::string text = load_offer("chrome_datachannel");
  std::string lf;
  for (char c : text) {
    if (c != '\r') lf += c;
  }
  auto a = parse_sdp(lf + "\n\n");
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = parse_sdp(text);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(*a == *b);
}

TEST(SdpParser, UnknownAttributesKeptVerbatim) {
  const std::string text =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=x-session:  odd  value\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=x-flag\r\n"
      "a=framerate:30\r\na=rtpmap:96 VP8/90000\r\n";
  auto sd = parse_sdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  ASSERT_EQ(sd->other.size(), 1u);
  EXPECT_EQ(sd->other[0], (Attribute{"x-session", "  odd  value", true}));
  ASSERT_EQ(sd->media[0].other.size(), 2u);
  EXPECT_EQ(sd->media[0].other[0], (Attribute{"x-flag", "", false}));
  EXPECT_EQ(sd->media[0].other[1], (Attribute{"framerate", "30", true}));
  const std::string out = write_sdp(*sd);
  EXPECT_TRUE(absl::StrContains(out, "a=x-session:  odd  value\r\n"));
  EXPECT_TRUE(absl::StrContains(out, "a=x-flag\r\n"));
}

TEST(SdpParser, SimulcastAlternativesAndPaused) {
  const std::string text =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
      "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 VP9/90000\r\n"
      "a=rid:1 send pt=96,97;max-width=1280;max-height=720\r\n"
      "a=rid:2 send pt=96\r\na=rid:3 send max-fps=15\r\na=rid:r1 recv\r\n"
      "a=simulcast:send 1,~2;3 recv r1\r\n";
  auto sd = parse_sdp(text);
  ASSERT_TRUE(sd.ok()) << sd.status();
  const MediaSection& m = sd->media[0];
  ASSERT_EQ(m.rids.size(), 4u);
  EXPECT_EQ(m.rids[0].payload_types, (std::vector<uint8_t>{96, 97}));
  EXPECT_EQ(m.rids[0].restrictions, (std::vector<std::pair<std::string, std::string>>{
                                        {"max-width", "1280"}, {"max-height", "720"}}));
  EXPECT_FALSE(m.rids[3].send);
  ASSERT_EQ(m.simulcast.send.size(), 2u);
  ASSERT_EQ(m.simulcast.send[0].size(), 2u);
  EXPECT_EQ(m.simulcast.send[0][1], (SimulcastRid{"2", true}));
  EXPECT_EQ(m.simulcast.send[1][0], (SimulcastRid{"3", false}));
  ASSERT_EQ(m.simulcast.recv.size(), 1u);
  const std::string out = write_sdp(*sd);
  EXPECT_TRUE(absl::StrContains(out, "a=simulcast:send 1,~2;3 recv r1\r\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "a=rid:1 send pt=96,97;max-width=1280;max-height=720\r\n"));
  auto again = parse_sdp(out);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *sd);
}

// ---- errors: every one names the line and the field -------------------------

// Lines 1..7; the line under test is line 8.
constexpr const char* kHead =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n";

struct ErrorCase {
  const char* line;
  const char* message;
};

TEST(SdpParser, ErrorsNameLineAndField) {
  const ErrorCase cases[] = {
      {"a=rtpmap:300 VP8/90000", "line 8: a=rtpmap: payload type 300 out of range 0..127"},
      {"a=rtpmap:x VP8/90000", "line 8: a=rtpmap: payload type \"x\" is not a number"},
      {"a=rtpmap:96 VP8", "line 8: a=rtpmap: \"VP8\" is not <encoding>/<clock>[/<channels>]"},
      {"a=rtpmap:96 VP8/0", "line 8: a=rtpmap: clock rate \"0\" invalid"},
      {"a=rtpmap:96 opus/48000/0", "line 8: a=rtpmap: channels \"0\" not in 1..255"},
      {"a=rtpmap:96", "line 8: a=rtpmap: expected <pt> <encoding>/<clock>"},
      {"a=fmtp:128 apt=96", "line 8: a=fmtp: payload type 128 out of range 0..127"},
      {"a=fmtp:96", "line 8: a=fmtp: payload type 96 has no parameters"},
      {"a=rtcp-fb:96", "line 8: a=rtcp-fb: expected <pt> <feedback>"},
      {"a=extmap:0 urn:x", "line 8: a=extmap: id 0 out of range 1..255"},
      {"a=extmap:256 urn:x", "line 8: a=extmap: id 256 out of range 1..255"},
      {"a=extmap:1/sideways urn:x", "line 8: a=extmap: direction \"sideways\" invalid"},
      {"a=extmap:1", "line 8: a=extmap: expected <id>[/<direction>] <uri>"},
      {"a=ssrc:4294967296 cname:x", "line 8: a=ssrc: ssrc \"4294967296\" not in 0..4294967295"},
      {"a=ssrc:1", "line 8: a=ssrc: expected <ssrc> <attribute>[:<value>]"},
      {"a=ssrc-group:FID 1 x", "line 8: a=ssrc-group: ssrc \"x\" not in 0..4294967295"},
      {"a=setup:both", "line 8: a=setup: \"both\" is not actpass, active, passive or holdconn"},
      {"a=ice-ufrag:", "line 8: a=ice-ufrag: length not in 1..256"},
      {"a=ice-pwd:abc def", "line 8: a=ice-pwd: character ' ' is not an ice-char"},
      {"a=fingerprint:md5 00:11", "line 8: a=fingerprint: "},
      {"a=mid:a b", "line 8: a=mid: \"a b\" is not a token of 1..255 characters"},
      {"a=candidate:1 1 udp 100 1.2.3.4 70000 typ host",
       "line 8: a=candidate: port \"70000\" not in 0..65535"},
      {"a=candidate:1 0 udp 100 1.2.3.4 7 typ host",
       "line 8: a=candidate: component \"0\" not in 1..256"},
      {"a=candidate:1 1 udp 100 1.2.3.4 7 type host",
       "line 8: a=candidate: expected \"typ\", got \"type\""},
      {"a=candidate:1 1 udp 100 1.2.3.4 7 typ bogus",
       "line 8: a=candidate: type \"bogus\" is not host, srflx, prflx or relay"},
      {"a=candidate:1 1 udp 100 1.2.3.4 7 typ host generation",
       "line 8: a=candidate: extension \"generation\" has no value"},
      {"a=candidate:1 1 udp 100 1.2.3.4", "line 8: a=candidate: expected at least 8 fields, got 5"},
      {"a=rid:q* send", "line 8: a=rid: id \"q*\" is not 1..255 of [A-Za-z0-9_-]"},
      {"a=rid:q both", "line 8: a=rid: direction \"both\" is not send or recv"},
      {"a=rid:q send pt=99", "line 8: a=rid: pt=99 is not a format of the m= line"},
      {"a=simulcast:send",
       "line 8: a=simulcast: expected send|recv <streams> [recv|send <streams>]"},
      {"a=simulcast:sideways a", "line 8: a=simulcast: direction \"sideways\" is not send or recv"},
      {"a=simulcast:send a;;b", "line 8: a=simulcast: rid \"\" is not 1..255 of [A-Za-z0-9_-]"},
      {"a=simulcast:send a", "line 8: a=simulcast: rid a has no a=rid:a send line in this section"},
      {"a=sctp-port:65536", "line 8: a=sctp-port: port \"65536\" not in 0..65535"},
      {"a=max-message-size:-1", "line 8: a=max-message-size: \"-1\" is not a non-negative integer"},
      {"a=msid:", "line 8: a=msid: expected <stream-id> [<track-id>]"},
      {"m=video 70000 UDP/TLS/RTP/SAVPF 96", "line 8: m=: port \"70000\" not in 0..65535"},
      {"m=video 9 UDP/TLS/RTP/SAVPF 96 128", "line 8: m=: payload type 128 out of range 0..127"},
      {"m=video 9 UDP/TLS/RTP/SAVPF 96 96", "line 8: m=: payload type 96 listed twice"},
      {"m=video 9 UDP/TLS/RTP/SAVPF",
       "line 8: m=: expected <media> <port> <proto> <fmt>..., got 3 fields"},
      {"o=- 1 2 IN IP4 127.0.0.1", "line 8: o=: not allowed in a media section"},
      {"v=0", "line 8: v=: duplicate"},
      {"c=IN IP4", "line 8: c=: expected 3 fields, got 2"},
      {"b=AS", "line 8: b=: expected <bwtype>:<bandwidth>"},
      {"hello", "line 8: expected <letter>=<value>, got \"hello\""},
      {"A=1", "line 8: expected <letter>=<value>, got \"A=1\""},
      {"a=x\x01y", "line 8: control character 0x01"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.line);
    auto sd = parse_sdp(absl::StrCat(kHead, c.line, "\r\n"));
    ASSERT_FALSE(sd.ok());
    EXPECT_EQ(sd.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(sd.status().message(), c.message)) << sd.status().message();
  }
}

TEST(SdpParser, DuplicatesRejected) {
  const ErrorCase cases[] = {
      {"a=rtpmap:96 VP8/90000\r\na=rtpmap:96 VP9/90000",
       "line 9: a=rtpmap: payload type 96 mapped twice"},
      {"a=fmtp:96 a=1\r\na=fmtp:96 b=2", "line 9: a=fmtp: payload type 96 has two fmtp"},
      {"a=mid:0\r\na=mid:1", "line 9: a=mid: duplicate"},
      {"a=sendonly\r\na=recvonly", "line 9: a=recvonly: a second direction attribute"},
      {"a=extmap:1 urn:a\r\na=extmap:1 urn:b", "line 9: a=extmap: id 1 used twice"},
      {"a=rid:q send\r\na=rid:q recv", "line 9: a=rid: id q defined twice"},
      {"a=ice-ufrag:abcd\r\na=ice-ufrag:efgh", "line 9: a=ice-ufrag: duplicate"},
      {"a=mid:0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0",
       "line 10: a=mid: mid 0 used by two media sections"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.line);
    auto sd = parse_sdp(absl::StrCat(kHead, c.line, "\r\n"));
    ASSERT_FALSE(sd.ok());
    EXPECT_TRUE(absl::StartsWith(sd.status().message(), c.message)) << sd.status().message();
  }
}

TEST(SdpParser, SessionStructureErrors) {
  EXPECT_EQ(parse_sdp("").status().message(), "sdp: empty description (no v= line)");
  EXPECT_EQ(parse_sdp("o=- 1 2 IN IP4 0.0.0.0\r\n").status().message(),
            "line 1: v=: the first line must be v=0");
  EXPECT_EQ(parse_sdp("v=1\r\n").status().message(), "line 1: v=: version \"1\" is not 0");
  EXPECT_EQ(parse_sdp("v=0\r\ns=-\r\nt=0 0\r\n").status().message(),
            "sdp: o=: missing origin line");
  EXPECT_EQ(parse_sdp("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\nt=0 0\r\n").status().message(),
            "sdp: s=: missing session name line");
  EXPECT_EQ(parse_sdp("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\n").status().message(),
            "sdp: t=: missing timing line");
  EXPECT_EQ(parse_sdp("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n")
                .status()
                .message(),
            "line 4: m=: session-level o=, s= and t= must come before the first m=");
  EXPECT_EQ(parse_sdp("v=0\r\no=- 1 2 IN IP4\r\n").status().message(),
            "line 2: o=: expected 6 fields, got 5");
  EXPECT_EQ(parse_sdp("v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                      "a=group:BUNDLE 0\r\na=group:BUNDLE 1\r\n")
                .status()
                .message(),
            "line 6: a=group: a second BUNDLE group (tern supports one)");
}

// ---- limits --------------------------------------------------------------------

TEST(SdpParser, SizeLimit) {
  std::string text = kHead;
  while (text.size() <= 64 * 1024) text += "a=x-pad:0123456789012345678901234567890123456789\r\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(sd.status().message(), "more than the limit of 65536"))
      << sd.status();
  SdpLimits big;
  big.max_size = 1 << 20;
  big.max_lines = 100000;
  EXPECT_TRUE(parse_sdp(text, big).ok());
}

TEST(SdpParser, LineCountLimit) {
  std::string text = kHead;
  for (int i = 0; i < 2000; ++i) text += "a=x\r\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sd.status().message(), "line 2001: more than 2000 lines");
}

TEST(SdpParser, LineLengthLimit) {
  auto sd = parse_sdp(absl::StrCat(kHead, "a=x-long:", std::string(5000, 'x'), "\r\n"));
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sd.status().message(), "line 8: 5009 bytes, more than the limit of 4096");
}

TEST(SdpParser, MediaSectionLimit) {
  std::string text = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
  for (int i = 0; i < 64; ++i) text += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  ASSERT_TRUE(parse_sdp(text).ok());
  text += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(sd.status().message(), "line 69: m=: more than 64 media sections");
}

TEST(SdpParser, CandidateAndRidLimits) {
  std::string text = kHead;
  for (int i = 0; i < 65; ++i) text += "a=candidate:1 1 udp 100 1.2.3.4 7 typ host\r\n";
  auto sd = parse_sdp(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().message(), "line 72: a=candidate: more than 64 in one section");

  text = kHead;
  for (int i = 0; i < 17; ++i) text += absl::StrCat("a=rid:r", i, " send\r\n");
  sd = parse_sdp(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().message(), "line 24: a=rid: more than 16 in one section");

  text = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE";
  for (int i = 0; i < 65; ++i) text += absl::StrCat(" m", i);
  sd = parse_sdp(text + "\r\n");
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().message(), "line 5: a=group: more than 64 mids");
}

}  // namespace
}  // namespace tern::sdp
