#include "control/sdp/sdp_negotiate.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "control/sdp/sdp_parser.h"
#include "control/sdp/sdp_writer.h"
#include "gtest/gtest.h"
#include "tests/unit/sdp/sdp_test_util.h"

namespace tern::sdp {
namespace {

using rtp::ExtensionKind;
using testing::drop_lines;
using testing::load_offer;
using testing::replace_once;

const char* kOurFingerprint =
    "sha-256 77:D1:EE:FA:F7:E6:E9:1B:0F:4D:16:B7:7F:AD:6B:48:3E:7B:A5:F6:6F:03:AD:5A:08:E6:4A:BC:"
    "78:3F:BC:14";

LocalParameters local_params() {
  LocalParameters l;
  l.ice = ice::IceCredentials{"tErN", "0123456789abcdefABCDEF+/"};
  auto cands = ice::host_candidates(std::vector<ice::HostAddress>{
      {*Endpoint::parse("198.18.0.1:40000"), {}}, {*Endpoint::parse("[2001:2::1]:40000"), {}}});
  EXPECT_TRUE(cands.ok());
  l.candidates = *cands;
  l.fingerprint = *parse_fingerprint(kOurFingerprint);
  l.session_id = 42;
  l.session_version = 2;
  return l;
}

absl::StatusOr<NegotiationResult> negotiate_text(
    const std::string& offer, const LocalParameters& l = local_params(),
    const Capabilities& caps = Capabilities::defaults()) {
  auto sd = parse_sdp(offer);
  if (!sd.ok()) return sd.status();
  return negotiate_answer(*sd, caps, l);
}

// Checks the transport part every accepted answer section carries.
void expect_our_transport(const MediaSection& m) {
  EXPECT_EQ(m.port, 40000);
  EXPECT_EQ(m.connection, "IN IP4 198.18.0.1");
  EXPECT_EQ(m.transport.ice_ufrag, "tErN");
  EXPECT_EQ(m.transport.ice_pwd, "0123456789abcdefABCDEF+/");
  ASSERT_EQ(m.transport.fingerprints.size(), 1u);
  EXPECT_EQ(m.transport.fingerprints[0].fp.to_sdp(), kOurFingerprint);
  EXPECT_EQ(m.transport.setup, Setup::kPassive);
  ASSERT_EQ(m.candidates.size(), 2u);
  EXPECT_EQ(m.candidates[0].address, "198.18.0.1");
  EXPECT_EQ(m.candidates[0].port, 40000);
  EXPECT_EQ(m.candidates[0].type, "host");
  EXPECT_EQ(m.candidates[0].transport, "udp");
  EXPECT_EQ(m.candidates[1].address, "2001:2::1");
  EXPECT_GT(m.candidates[0].priority, m.candidates[1].priority);
  EXPECT_TRUE(m.end_of_candidates);
}

TEST(SdpNegotiate, ChromeWhipSimulcast) {
  auto r = negotiate_text(load_offer("chrome_whip_simulcast"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->remote_ice.ufrag, "EsAw");
  EXPECT_EQ(r->remote_ice.pwd, "bP+XJMM09aR8AiX1jdukzR6Y");
  ASSERT_EQ(r->remote_fingerprints.size(), 1u);
  EXPECT_EQ(r->remote_fingerprints[0].fp.bytes[0], 0x93);
  EXPECT_EQ(r->local_setup, Setup::kPassive);
  EXPECT_TRUE(r->remote_trickle);
  EXPECT_EQ(r->bundle_mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(r->media.size(), 2u);

  const NegotiatedMedia& a = r->media[0];
  EXPECT_TRUE(a.accepted);
  EXPECT_EQ(a.mid, "0");
  EXPECT_EQ(a.remote_direction, Direction::kSendOnly);
  EXPECT_EQ(a.direction, Direction::kRecvOnly);
  ASSERT_EQ(a.codecs.size(), 1u);
  EXPECT_EQ(a.codecs[0].name, "opus");
  EXPECT_EQ(a.codecs[0].pt, 111);
  EXPECT_EQ(a.codecs[0].channels, 2);
  EXPECT_EQ(a.codecs[0].fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(a.codecs[0].rtcp_fb, std::vector<std::string>{"transport-cc"});
  EXPECT_EQ(a.codecs[0].rtx_pt, -1);
  EXPECT_EQ(a.extension_map.id(ExtensionKind::kAudioLevel), 1);
  EXPECT_EQ(a.extension_map.id(ExtensionKind::kAbsSendTime), 2);
  EXPECT_EQ(a.extension_map.id(ExtensionKind::kTransportWideCc), 3);
  EXPECT_EQ(a.extension_map.id(ExtensionKind::kMid), 4);
  EXPECT_EQ(a.extensions.size(), 4u);
  EXPECT_EQ(a.remote_ssrcs, std::vector<uint32_t>{3570614608u});
  EXPECT_EQ(a.remote_cname, "4TOk42mSjXCkVIa6");
  EXPECT_EQ(a.remote_msid.track_id, "0c8f8a0e-2f55-4a3c-bd4e-5c1c2b8a9e11");

  const NegotiatedMedia& v = r->media[1];
  EXPECT_TRUE(v.accepted);
  EXPECT_EQ(v.direction, Direction::kRecvOnly);
  // Our preference order: VP8, VP9 (profile 0 only), H264 42e0/4d00 with
  // packetization-mode=1, AV1. Each with its RTX.
  ASSERT_EQ(v.codecs.size(), 5u);
  EXPECT_EQ(v.codecs[0].name, "VP8");
  EXPECT_EQ(v.codecs[0].pt, 96);
  EXPECT_EQ(v.codecs[0].rtx_pt, 97);
  EXPECT_EQ(v.codecs[1].name, "VP9");
  EXPECT_EQ(v.codecs[1].pt, 98);
  EXPECT_EQ(v.codecs[1].rtx_pt, 99);
  EXPECT_EQ(v.codecs[2].pt, 106);
  EXPECT_EQ(v.codecs[2].rtx_pt, 107);
  EXPECT_EQ(v.codecs[2].fmtp,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(v.codecs[3].pt, 127);
  EXPECT_EQ(v.codecs[3].rtx_pt, 125);
  EXPECT_EQ(v.codecs[4].name, "AV1");
  EXPECT_EQ(v.codecs[4].pt, 45);
  EXPECT_EQ(v.codecs[4].rtx_pt, 46);
  EXPECT_EQ(v.codecs[0].rtcp_fb,
            (std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}));
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kMid), 4);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kRid), 10);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kRepairedRid), 11);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kAbsSendTime), 2);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kTransportWideCc), 3);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kTransmissionOffset), 0);  // not ours
  EXPECT_EQ(v.extensions.size(), 5u);
  ASSERT_EQ(v.simulcast_rids.size(), 3u);
  EXPECT_EQ(v.simulcast_rids[0].rid, "q");
  EXPECT_EQ(v.simulcast_rids[1].rid, "h");
  EXPECT_EQ(v.simulcast_rids[2].rid, "f");
  EXPECT_TRUE(v.remote_ssrcs.empty());

  // The answer text, re-parsed and checked field by field.
  const std::string& text = r->answer_sdp;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') ASSERT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
  }
  auto ans = parse_sdp(text);
  ASSERT_TRUE(ans.ok()) << ans.status() << "\n" << text;
  EXPECT_TRUE(*ans == r->answer);
  EXPECT_TRUE(ans->ice_lite);
  EXPECT_EQ(ans->origin.session_id, "42");
  EXPECT_EQ(ans->origin.session_version, "2");
  ASSERT_NE(ans->bundle_group(), nullptr);
  EXPECT_EQ(ans->bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(ans->extmap_allow_mixed);
  ASSERT_EQ(ans->media.size(), 2u);
  const MediaSection& aa = ans->media[0];
  expect_our_transport(aa);
  EXPECT_EQ(aa.mid, "0");
  EXPECT_EQ(aa.direction, Direction::kRecvOnly);
  EXPECT_TRUE(aa.rtcp_mux);
  EXPECT_TRUE(aa.rtcp_rsize);
  EXPECT_EQ(aa.formats, std::vector<std::string>{"111"});
  ASSERT_EQ(aa.codecs.size(), 1u);
  EXPECT_EQ(aa.codecs[0].name, "opus");
  EXPECT_EQ(aa.codecs[0].channels, 2);
  EXPECT_TRUE(aa.ssrcs.empty());
  EXPECT_TRUE(aa.msids.empty());
  const MediaSection& av = ans->media[1];
  expect_our_transport(av);
  EXPECT_EQ(av.formats, (std::vector<std::string>{"96", "97", "98", "99", "106", "107", "127",
                                                  "125", "45", "46"}));
  EXPECT_EQ(av.find_codec(97)->name, "rtx");
  EXPECT_EQ(av.find_codec(97)->fmtp, "apt=96");
  EXPECT_TRUE(av.find_codec(97)->rtcp_fb.empty());
  ASSERT_EQ(av.extmaps.size(), 5u);
  EXPECT_EQ(av.extmaps[0].id, 2);
  EXPECT_EQ(av.extmaps[0].uri, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
  ASSERT_EQ(av.rids.size(), 3u);
  for (const Rid& rid : av.rids) EXPECT_FALSE(rid.send);
  ASSERT_EQ(av.simulcast.recv.size(), 3u);
  EXPECT_TRUE(av.simulcast.send.empty());
  EXPECT_TRUE(absl::StrContains(text, "a=simulcast:recv q;h;f\r\n"));
  EXPECT_TRUE(absl::StrContains(text, "a=rid:q recv\r\n"));
  EXPECT_TRUE(absl::StartsWith(text,
                               "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                               "a=ice-lite\r\na=group:BUNDLE 0 1\r\n"))
      << text;
}

TEST(SdpNegotiate, ChromeWhepRecvonlyWithOurStreams) {
  LocalParameters l = local_params();
  l.send_streams.push_back(SendStream{
      .mid = "0", .stream_id = "room1", .track_id = "a1", .cname = "tern-cn", .ssrc = 1111});
  l.send_streams.push_back(SendStream{.mid = "1",
                                      .stream_id = "room1",
                                      .track_id = "v1",
                                      .cname = "tern-cn",
                                      .ssrc = 2222,
                                      .rtx_ssrc = 3333});
  auto r = negotiate_text(load_offer("chrome_whep_recvonly"), l);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->media.size(), 2u);
  for (const NegotiatedMedia& m : r->media) {
    EXPECT_TRUE(m.accepted);
    EXPECT_EQ(m.remote_direction, Direction::kRecvOnly);
    EXPECT_EQ(m.direction, Direction::kSendOnly);
    EXPECT_TRUE(m.simulcast_rids.empty());
  }
  auto ans = parse_sdp(r->answer_sdp);
  ASSERT_TRUE(ans.ok()) << ans.status();
  const MediaSection& a = ans->media[0];
  EXPECT_EQ(a.direction, Direction::kSendOnly);
  ASSERT_EQ(a.msids.size(), 1u);
  EXPECT_EQ(a.msids[0], (Msid{"room1", "a1"}));
  ASSERT_EQ(a.ssrcs.size(), 2u);
  EXPECT_EQ(a.ssrcs[0], (SsrcAttr{1111, "cname", "tern-cn"}));
  EXPECT_EQ(a.ssrcs[1], (SsrcAttr{1111, "msid", "room1 a1"}));
  EXPECT_TRUE(a.ssrc_groups.empty());
  const MediaSection& v = ans->media[1];
  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0], (SsrcGroup{"FID", {2222, 3333}}));
  EXPECT_EQ(v.ssrcs.size(), 4u);
  EXPECT_TRUE(v.rids.empty());
  EXPECT_TRUE(v.simulcast.empty());
}

TEST(SdpNegotiate, DataChannelOnly) {
  auto r = negotiate_text(load_offer("chrome_datachannel"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->media.size(), 1u);
  const NegotiatedMedia& n = r->media[0];
  EXPECT_TRUE(n.accepted);
  EXPECT_TRUE(n.data_channel);
  EXPECT_EQ(n.remote_sctp_port, 5000);
  EXPECT_EQ(n.remote_max_message_size, 262144u);
  EXPECT_EQ(n.local_sctp_port, 5000);
  EXPECT_EQ(n.local_max_message_size, 262144u);
  ASSERT_EQ(r->remote_candidates.size(), 2u);
  EXPECT_EQ(r->remote_candidates[0].address, "8f3c7a64-1d2e-4c5b-9a8f-7e6d5c4b3a21.local");
  auto ans = parse_sdp(r->answer_sdp);
  ASSERT_TRUE(ans.ok()) << ans.status();
  const MediaSection& m = ans->media[0];
  expect_our_transport(m);
  EXPECT_EQ(m.media, "application");
  EXPECT_EQ(m.proto, "UDP/DTLS/SCTP");
  EXPECT_EQ(m.formats, std::vector<std::string>{"webrtc-datachannel"});
  EXPECT_EQ(m.sctp_port, 5000);
  EXPECT_EQ(m.max_message_size, 262144u);
  EXPECT_FALSE(m.has_direction);
  EXPECT_TRUE(m.codecs.empty());
}

TEST(SdpNegotiate, FirefoxOffer) {
  auto r = negotiate_text(load_offer("firefox_sendonly"));
  ASSERT_TRUE(r.ok()) << r.status();
  // Session-level fingerprint, media-level credentials.
  EXPECT_EQ(r->remote_fingerprints[0].fp.bytes[0], 0x16);
  EXPECT_EQ(r->remote_ice.ufrag, "8a9b0c1d");
  EXPECT_TRUE(r->remote_trickle);
  const NegotiatedMedia& a = r->media[0];
  ASSERT_EQ(a.codecs.size(), 1u);
  EXPECT_EQ(a.codecs[0].pt, 109);
  EXPECT_EQ(a.codecs[0].fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  EXPECT_EQ(a.extension_map.id(ExtensionKind::kAudioLevel), 1);
  EXPECT_EQ(a.extension_map.id(ExtensionKind::kMid), 3);
  EXPECT_EQ(a.extensions.size(), 2u);  // csrc-audio-level is not ours
  const NegotiatedMedia& v = r->media[1];
  // 97 is H264 packetization-mode 0 (absent): not accepted.
  ASSERT_EQ(v.codecs.size(), 3u);
  EXPECT_EQ(v.codecs[0],
            (NegotiatedCodec{"VP8",
                             120,
                             90000,
                             0,
                             "max-fs=12288;max-fr=60",
                             {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"},
                             124}));
  EXPECT_EQ(v.codecs[1].pt, 121);
  EXPECT_EQ(v.codecs[1].rtx_pt, 125);
  EXPECT_EQ(v.codecs[2].pt, 126);
  EXPECT_EQ(v.codecs[2].rtx_pt, 127);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kAbsSendTime), 4);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kTransportWideCc), 7);
  EXPECT_EQ(v.extension_map.id(ExtensionKind::kPlayoutDelay), 0);
  EXPECT_EQ(v.remote_ssrcs, (std::vector<uint32_t>{3108238318u, 1950185497u}));
  ASSERT_EQ(v.remote_ssrc_groups.size(), 1u);
  EXPECT_EQ(v.remote_ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(v.remote_cname, "{a1b2c3d4-e5f6-4789-abcd-ef0123456789}");
  auto ans = parse_sdp(r->answer_sdp);
  ASSERT_TRUE(ans.ok()) << ans.status();
  EXPECT_TRUE(*ans == r->answer);
  EXPECT_EQ(ans->media[1].formats,
            (std::vector<std::string>{"120", "124", "121", "125", "126", "127"}));
}

TEST(SdpNegotiate, ExtmapDirectionReversed) {
  std::string offer = replace_once(
      load_offer("firefox_sendonly"), "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
      "a=extmap:1/sendonly urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  auto r = negotiate_text(offer);
  ASSERT_TRUE(r.ok()) << r.status();
  const Extmap& e = r->answer.media[0].extmaps[0];
  EXPECT_TRUE(e.has_direction);
  EXPECT_EQ(e.direction, Direction::kRecvOnly);
  EXPECT_TRUE(absl::StrContains(
      r->answer_sdp, "a=extmap:1/recvonly urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"));
}

TEST(SdpNegotiate, SetupRoles) {
  const std::string base = load_offer("chrome_datachannel");
  auto r = negotiate_text(replace_once(base, "a=setup:actpass", "a=setup:active"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->local_setup, Setup::kPassive);
  r = negotiate_text(replace_once(base, "a=setup:actpass", "a=setup:passive"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->local_setup, Setup::kActive);
  EXPECT_TRUE(absl::StrContains(r->answer_sdp, "a=setup:active\r\n"));
  r = negotiate_text(drop_lines(base, "a=setup:"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->local_setup, Setup::kPassive);
  r = negotiate_text(replace_once(base, "a=setup:actpass", "a=setup:holdconn"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "a=setup: holdconn in the offer (BUNDLE section mid 0): no DTLS connection to answer");
}

// ---- whole-offer rejections ---------------------------------------------------

TEST(SdpNegotiate, RejectsMissingBundle) {
  auto r = negotiate_text(drop_lines(load_offer("chrome_whip_simulcast"), "a=group:"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "a=group:BUNDLE: missing in the offer; tern requires BUNDLE (RFC 8843), all media on "
            "one transport");
  r = negotiate_text(
      replace_once(load_offer("chrome_datachannel"), "a=group:BUNDLE 0", "a=group:BUNDLE 7"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "a=group:BUNDLE: none of its mids names a media section of the offer");
}

TEST(SdpNegotiate, RejectsMissingFingerprint) {
  auto r = negotiate_text(drop_lines(load_offer("chrome_whip_simulcast"), "a=fingerprint:"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(r.status().message(),
                               "a=fingerprint: missing in the offer (BUNDLE section mid 0 and "
                               "session level)"))
      << r.status();
}

TEST(SdpNegotiate, RejectsMissingIceCredentials) {
  auto r = negotiate_text(drop_lines(load_offer("chrome_whip_simulcast"), "a=ice-ufrag:"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "a=ice-ufrag: missing in the offer (BUNDLE section mid 0 and session level)");
  r = negotiate_text(drop_lines(load_offer("chrome_whip_simulcast"), "a=ice-pwd:"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "a=ice-pwd: missing in the offer (BUNDLE section mid 0 and session level)");
  // Present but too short for RFC 8839 (pwd >= 22 chars).
  r = negotiate_text(replace_once(load_offer("chrome_datachannel"),
                                  "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y", "a=ice-pwd:short"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "offer ICE credentials: ")) << r.status();
}

TEST(SdpNegotiate, RejectsNonRtcpMux) {
  std::string offer = load_offer("chrome_whip_simulcast");
  // Drop only the video section's a=rtcp-mux (the second one).
  const size_t first = offer.find("a=rtcp-mux\r\n");
  const size_t second = offer.find("a=rtcp-mux\r\n", first + 1);
  ASSERT_NE(second, std::string::npos);
  offer.erase(second, 12);
  auto r = negotiate_text(offer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "m-line 1 (mid 1): a=rtcp-mux missing; tern requires RTP and RTCP on one port "
            "(RFC 5761, RFC 8843 §9)");
}

TEST(SdpNegotiate, RejectsWhenNothingCanBeAccepted) {
  Capabilities caps = Capabilities::defaults();
  caps.data_channel = false;
  auto r = negotiate_text(load_offer("chrome_datachannel"), local_params(), caps);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "offer: no BUNDLE-able media section could be accepted: m-line 0 (mid 0): data "
            "channels disabled");
}

TEST(SdpNegotiate, RejectsBadLocalParameters) {
  LocalParameters l = local_params();
  l.ice.pwd = "x";
  auto r = negotiate_text(load_offer("chrome_datachannel"), l);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "local ICE credentials: ")) << r.status();
  l = local_params();
  l.fingerprint = Fingerprint{};
  r = negotiate_text(load_offer("chrome_datachannel"), l);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "local fingerprint: not set");
}

// ---- per-m-line rejections (port 0, the rest goes on) ----------------------------

TEST(SdpNegotiate, NoCommonCodecRejectsOnlyThatSection) {
  Capabilities caps = Capabilities::defaults();
  caps.codecs.erase(caps.codecs.begin());  // no opus
  auto r = negotiate_text(load_offer("chrome_whip_simulcast"), local_params(), caps);
  ASSERT_TRUE(r.ok()) << r.status();
  const NegotiatedMedia& a = r->media[0];
  EXPECT_FALSE(a.accepted);
  EXPECT_EQ(a.reject_reason,
            "m-line 0 (mid 0): no common codec (offered: opus/48000, red/48000, G722/8000, "
            "PCMU/8000, PCMA/8000, CN/8000, telephone-event/48000, telephone-event/8000)");
  EXPECT_TRUE(a.codecs.empty());
  EXPECT_TRUE(r->media[1].accepted);
  EXPECT_EQ(r->bundle_mids, std::vector<std::string>{"1"});
  auto ans = parse_sdp(r->answer_sdp);
  ASSERT_TRUE(ans.ok()) << ans.status();
  EXPECT_EQ(ans->media[0].port, 0);
  EXPECT_EQ(ans->media[0].mid, "0");
  EXPECT_EQ(ans->media[0].direction, Direction::kInactive);
  EXPECT_TRUE(ans->media[0].candidates.empty());
  EXPECT_TRUE(ans->media[0].transport.ice_ufrag.empty());
  EXPECT_EQ(ans->bundle_group()->mids, std::vector<std::string>{"1"});
  EXPECT_EQ(ans->media[1].port, 40000);
}

TEST(SdpNegotiate, SectionOutsideBundleRejected) {
  std::string offer =
      replace_once(load_offer("chrome_whip_simulcast"), "a=group:BUNDLE 0 1", "a=group:BUNDLE 1");
  auto r = negotiate_text(offer);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->media[0].accepted);
  EXPECT_EQ(r->media[0].reject_reason,
            "m-line 0 (mid 0): not in the BUNDLE group (tern carries everything on one "
            "transport)");
  EXPECT_TRUE(r->media[1].accepted);
}

TEST(SdpNegotiate, PortZeroAndBundleOnly) {
  std::string offer = load_offer("chrome_whip_simulcast");
  const size_t v = offer.find("m=video 9 ");
  offer.replace(v, 10, "m=video 0 ");
  auto r = negotiate_text(offer);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->media[1].accepted);
  EXPECT_EQ(r->media[1].reject_reason,
            "m-line 1 (mid 1): port 0 in the offer (rejected by the offerer)");
  // With a=bundle-only (JSEP max-bundle offers) port 0 is not a rejection.
  offer = replace_once(offer, "a=mid:1\r\n", "a=mid:1\r\na=bundle-only\r\n");
  r = negotiate_text(offer);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->media[1].accepted);
}

TEST(SdpNegotiate, UnsupportedProtoAndSecondDataChannel) {
  std::string offer = load_offer("chrome_whip_simulcast");
  offer = replace_once(offer, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 RTP/AVP");
  auto r = negotiate_text(offer);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->media[0].reject_reason,
            "m-line 0 (mid 0): proto RTP/AVP not supported (need UDP/TLS/RTP/SAVPF)");

  std::string dc = load_offer("chrome_datachannel");
  const size_t m = dc.find("m=application");
  std::string second = dc.substr(m);
  second = replace_once(second, "a=mid:0", "a=mid:1");
  dc = replace_once(dc, "a=group:BUNDLE 0", "a=group:BUNDLE 0 1") + second;
  r = negotiate_text(dc);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->media[0].accepted);
  EXPECT_FALSE(r->media[1].accepted);
  EXPECT_EQ(r->media[1].reject_reason,
            "m-line 1 (mid 1): a second data channel section (one SCTP association per "
            "transport)");
  auto ans = parse_sdp(r->answer_sdp);
  ASSERT_TRUE(ans.ok()) << ans.status();
  EXPECT_EQ(ans->media[1].port, 0);
  EXPECT_EQ(ans->media[1].formats, std::vector<std::string>{"webrtc-datachannel"});
}

TEST(SdpNegotiate, SimulcastNeedsRidExtensionAndHonoursLimits) {
  std::string offer = load_offer("chrome_whip_simulcast");
  auto r = negotiate_text(drop_lines(offer, "a=extmap:10 "));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->media[1].simulcast_rids.empty());
  EXPECT_TRUE(r->answer.media[1].simulcast.empty());

  Capabilities caps = Capabilities::defaults();
  caps.max_simulcast_layers = 2;
  r = negotiate_text(offer, local_params(), caps);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->media[1].simulcast_rids.size(), 2u);
  EXPECT_TRUE(absl::StrContains(r->answer_sdp, "a=simulcast:recv q;h\r\n"));

  // Alternatives and paused streams; a rid restricted to a pt we did not accept
  // (100 = VP9 profile 2) is skipped in favour of the next alternative.
  offer = replace_once(offer, "a=rid:q send\r\n", "a=rid:q send pt=100\r\na=rid:q2 send\r\n");
  offer = replace_once(offer, "a=simulcast:send q;h;f", "a=simulcast:send q,q2;~h;f");
  r = negotiate_text(offer);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->media[1].simulcast_rids.size(), 3u);
  EXPECT_EQ(r->media[1].simulcast_rids[0].rid, "q2");
  EXPECT_TRUE(r->media[1].simulcast_rids[1].paused);
  EXPECT_TRUE(absl::StrContains(r->answer_sdp, "a=simulcast:recv q2;~h;f\r\n")) << r->answer_sdp;
}

TEST(SdpNegotiate, SendrecvOfferAnswer) {
  std::string offer = load_offer("chrome_whip_simulcast");
  offer = replace_once(offer, "a=sendonly", "a=sendrecv");
  auto r = negotiate_text(offer);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->media[0].remote_direction, Direction::kSendRecv);
  EXPECT_EQ(r->media[0].direction, Direction::kRecvOnly);
  LocalParameters l = local_params();
  l.answer_to_sendrecv = Direction::kSendRecv;
  r = negotiate_text(offer, l);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->media[0].direction, Direction::kSendRecv);
  // Inactive stays inactive.
  offer = replace_once(offer, "a=sendrecv", "a=inactive");
  r = negotiate_text(offer);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->media[0].direction, Direction::kInactive);
}

TEST(SdpNegotiate, NoCandidatesUsesDiscardPort) {
  LocalParameters l = local_params();
  l.candidates.clear();
  auto r = negotiate_text(load_offer("chrome_datachannel"), l);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->answer.media[0].port, 9);
  EXPECT_EQ(r->answer.media[0].connection, "IN IP4 0.0.0.0");
}

TEST(SdpNegotiate, AnswerIsStableAcrossRoundTrip) {
  for (const char* name : testing::kOffers) {
    SCOPED_TRACE(name);
    auto r = negotiate_text(load_offer(name));
    ASSERT_TRUE(r.ok()) << r.status();
    auto a = parse_sdp(r->answer_sdp);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_TRUE(*a == r->answer);
    EXPECT_EQ(write_sdp(*a), r->answer_sdp);
  }
}

}  // namespace
}  // namespace tern::sdp
