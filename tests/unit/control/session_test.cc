// session.publish / subscribe / close on Chrome's and Firefox's offers:
// answers re-parsed, producers and consumers built from the negotiation,
// unmatched m-lines rejected, failures and closes clean everything.
#include "control/session.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "control/sdp/sdp_parser.h"
#include "tests/unit/control/sfu_fixture.h"

namespace tern {
namespace {

using jsonrpc::json;
using testing_sfu::read_offer;
using testing_sfu::SfuFixture;

class SessionTest : public SfuFixture {};

TEST_F(SessionTest, PublishChromeSimulcast) {
  std::string offer = read_offer("chrome_whip_simulcast.sdp");
  ASSERT_FALSE(offer.empty());
  json r = call("session.publish", {{"room", "live"}, {"offer", offer}});
  ASSERT_FALSE(is_error(r)) << r;
  EXPECT_EQ(r["room"], "live");
  EXPECT_EQ(r["session_id"].get<std::string>().size(), 24u);
  ASSERT_NE(sfu_->room("live"), nullptr);  // made on demand
  auto answer = sdp::parse_sdp(r["answer"].get<std::string>());
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->media.size(), 2u);
  // Our transport: ICE-lite credentials and the worker's address.
  json t = call("transport.get", {{"id", r["transport_id"]}});
  EXPECT_EQ(answer->media[0].transport.ice_ufrag, t["ice"]["ufrag"]);
  ASSERT_EQ(answer->media[0].candidates.size(), 1u);
  EXPECT_EQ(answer->media[0].candidates[0].address, "198.18.0.1");
  EXPECT_EQ(answer->media[0].candidates[0].port, 40000 + r["worker"].get<int>());
  EXPECT_EQ(answer->media[1].direction, sdp::Direction::kRecvOnly);
  EXPECT_EQ(t["room"], "live");
  EXPECT_EQ(t["dtls"]["remote_fingerprint_set"], true);
  EXPECT_EQ(t["dtls"]["role"], "server");

  ASSERT_EQ(r["producers"].size(), 2u);
  const SfuManager::Producer* audio = sfu_->producer(r["producers"][0]["id"]);
  const SfuManager::Producer* video = sfu_->producer(r["producers"][1]["id"]);
  ASSERT_TRUE(audio && video);
  EXPECT_EQ(audio->spec.kind, sfu::SfuMediaKind::kAudio);
  EXPECT_EQ(audio->spec.mid, "0");
  ASSERT_EQ(audio->spec.codecs.size(), 1u);
  EXPECT_EQ(audio->spec.codecs[0].codec, sfu::CodecId::kOpus);
  EXPECT_EQ(audio->spec.codecs[0].pt, 111);
  EXPECT_EQ(audio->spec.ext.audio_level, 1);
  EXPECT_EQ(audio->spec.ext.mid, 4);
  ASSERT_EQ(audio->spec.layers.size(), 1u);
  EXPECT_EQ(audio->spec.layers[0].ssrc, 3570614608u);  // a=ssrc in the offer
  EXPECT_EQ(video->spec.kind, sfu::SfuMediaKind::kVideo);
  ASSERT_GE(video->spec.codecs.size(), 4u);
  EXPECT_EQ(video->spec.codecs[0].codec, sfu::CodecId::kVp8);
  EXPECT_EQ(video->spec.codecs[0].pt, 96);
  EXPECT_EQ(video->spec.codecs[0].rtx_pt, 97);
  EXPECT_TRUE(video->spec.codecs[0].nack && video->spec.codecs[0].pli && video->spec.codecs[0].fir);
  EXPECT_EQ(video->spec.ext.rid, 10);
  EXPECT_EQ(video->spec.ext.repaired_rid, 11);
  EXPECT_EQ(video->spec.ext.transport_cc, 3);
  ASSERT_EQ(video->spec.layers.size(), 3u);
  EXPECT_EQ(video->spec.layers[0].rid, "q");
  EXPECT_EQ(video->spec.layers[2].rid, "f");
  EXPECT_EQ(r["producers"][1]["rids"], json({"q", "h", "f"}));
}

TEST_F(SessionTest, PublishFirefoxUsesSsrcAndFid) {
  json r = call("session.publish", {{"room", "ff"}, {"offer", read_offer("firefox_sendonly.sdp")}});
  ASSERT_FALSE(is_error(r)) << r;
  ASSERT_EQ(r["producers"].size(), 2u);
  const SfuManager::Producer* video = sfu_->producer(r["producers"][1]["id"]);
  ASSERT_NE(video, nullptr);
  ASSERT_EQ(video->spec.layers.size(), 1u);
  EXPECT_EQ(video->spec.layers[0].ssrc, 3108238318u);
  EXPECT_EQ(video->spec.layers[0].rtx_ssrc, 1950185497u);
}

TEST_F(SessionTest, SubscribeMatchesProducersByKindInOrder) {
  json pub = call("session.publish",
                  {{"room", "live"}, {"offer", read_offer("chrome_whip_simulcast.sdp")}});
  ASSERT_FALSE(is_error(pub)) << pub;
  json sub = call("session.subscribe",
                  {{"room", "live"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}});
  ASSERT_FALSE(is_error(sub)) << sub;
  EXPECT_EQ(sub["worker"], pub["worker"]);  // same room, same worker
  ASSERT_EQ(sub["consumers"].size(), 2u);
  EXPECT_EQ(sub["consumers"][0]["producer_id"], pub["producers"][0]["id"]);
  EXPECT_EQ(sub["consumers"][1]["producer_id"], pub["producers"][1]["id"]);
  auto answer = sdp::parse_sdp(sub["answer"].get<std::string>());
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->media.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const sdp::MediaSection& m = answer->media[i];
    EXPECT_EQ(m.direction, sdp::Direction::kSendOnly);
    ASSERT_FALSE(m.ssrcs.empty());
    EXPECT_EQ(m.ssrcs[0].ssrc, sub["consumers"][i]["ssrc"].get<uint32_t>());
    ASSERT_EQ(m.msids.size(), 1u);
    EXPECT_EQ(m.msids[0].stream_id, pub["session_id"]);  // one stream per publisher
  }
  // Video: RTX negotiated -> an FID group with the consumer's rtx ssrc.
  ASSERT_EQ(answer->media[1].ssrc_groups.size(), 1u);
  EXPECT_EQ(answer->media[1].ssrc_groups[0].ssrcs[1],
            sub["consumers"][1]["rtx_ssrc"].get<uint32_t>());
  const SfuManager::Consumer* cv = sfu_->consumer(sub["consumers"][1]["id"]);
  ASSERT_NE(cv, nullptr);
  EXPECT_EQ(cv->spec.mid, "1");
  EXPECT_EQ(cv->spec.codecs[0].codec, sfu::CodecId::kVp8);
  EXPECT_EQ(cv->spec.codecs[0].pt, 96);  // the subscriber's payload type
  EXPECT_EQ(cv->spec.ext.mid, 4);
  EXPECT_EQ(cv->spec.ext.abs_send_time, 2);

  // Excluding the publisher's own session leaves nothing to receive.
  json none = call("session.subscribe", {{"room", "live"},
                                         {"offer", read_offer("chrome_whep_recvonly.sdp")},
                                         {"exclude_session", pub["session_id"]}});
  EXPECT_EQ(none["code"], -32003) << none;
  EXPECT_EQ(call("session.subscribe",
                 {{"room", "nope"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}})["code"],
            -32002);
}

TEST_F(SessionTest, UnmatchedMlinesAreRejectedWithPortZero) {
  // An audio-only publisher; the subscriber offers audio + video.
  sfu::RtpCodecParams opus;
  opus.codec = sfu::CodecId::kOpus;
  opus.pt = 111;
  opus.clock_rate = 48000;
  ASSERT_FALSE(is_error(call("room.create", {{"room", "r"}})));
  json t = call("transport.create", {{"room", "r"}});
  ASSERT_FALSE(is_error(call("producer.create", {{"transport_id", t["id"]},
                                                 {"kind", "audio"},
                                                 {"mid", "a"},
                                                 {"codecs", {{{"name", "opus"}, {"pt", 109}}}}})));
  json sub =
      call("session.subscribe", {{"room", "r"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}});
  ASSERT_FALSE(is_error(sub)) << sub;
  ASSERT_EQ(sub["consumers"].size(), 1u);
  EXPECT_EQ(sub["consumers"][0]["kind"], "audio");
  auto answer = sdp::parse_sdp(sub["answer"].get<std::string>());
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_NE(answer->media[0].port, 0);
  EXPECT_EQ(answer->media[1].port, 0);
  ASSERT_FALSE(answer->groups.empty());
  EXPECT_EQ(answer->groups[0].mids, std::vector<std::string>({"0"}));
  EXPECT_EQ(answer->media[0].msids[0].stream_id, "tern-p1");  // not from a session
}

TEST_F(SessionTest, BadOffersNameTheField) {
  json r = call("session.publish", {{"room", "x"}, {"offer", "v=1\r\n"}});
  EXPECT_EQ(field(r), "params.offer") << r;
  EXPECT_EQ(sfu_->num_rooms(), 0u);  // nothing made
  std::string no_bundle = read_offer("chrome_whip_simulcast.sdp");
  size_t at = no_bundle.find("a=group:BUNDLE");
  ASSERT_NE(at, std::string::npos);
  no_bundle.erase(at, no_bundle.find('\n', at) + 1 - at);
  r = call("session.publish", {{"room", "x"}, {"offer", no_bundle}});
  EXPECT_EQ(field(r), "params.offer") << r;
  EXPECT_TRUE(absl::StrContains(r["data"]["reason"].get<std::string>(), "BUNDLE")) << r;
  EXPECT_EQ(sfu_->num_rooms(), 0u);
  EXPECT_EQ(transports_->size(), 0u);
  EXPECT_EQ(field(call("session.publish", {{"room", "a b"}, {"offer", no_bundle}})), "params.room");
  EXPECT_EQ(field(call("session.publish", {{"room", "x"}})), "params.offer");
  EXPECT_EQ(call("session.close", {{"session_id", "abc"}})["code"], -32002);
}

TEST_F(SessionTest, CloseAndFailureCleanEverything) {
  json pub = call("session.publish",
                  {{"room", "live"}, {"offer", read_offer("chrome_whip_simulcast.sdp")}});
  json sub1 = call("session.subscribe",
                   {{"room", "live"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}});
  json sub2 = call("session.subscribe",
                   {{"room", "live"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}});
  ASSERT_FALSE(is_error(sub2)) << sub2;
  EXPECT_EQ(sessions_->size(), 3u);
  EXPECT_EQ(transports_->size(), 3u);
  EXPECT_EQ(sfu_->num_consumers(), 4u);
  json g = call("session.get", {{"session_id", sub1["session_id"]}});
  EXPECT_EQ(g["kind"], "subscribe");
  EXPECT_EQ(g["consumers"].size(), 2u);

  // sub1's DTLS fails: the session closes with its transport and consumers.
  sfu::TransportEvent ev;
  ev.type = sfu::TransportEventType::kDtlsFailed;
  ev.transport_id = sub1["transport_id"].get<uint64_t>();
  ev.set_reason("fingerprint mismatch");
  sfu_->transport_event(ev, true);
  EXPECT_FALSE(sessions_->has(sub1["session_id"]));
  EXPECT_EQ(transports_->size(), 2u);
  EXPECT_EQ(sfu_->num_consumers(), 2u);
  ASSERT_EQ(count_events("session"), 1u);
  EXPECT_EQ(events_.back().second["reason"], "dtls failed: fingerprint mismatch");

  // transport.close on a session's transport ends the session too.
  json sub3 = call("session.subscribe",
                   {{"room", "live"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}});
  ASSERT_FALSE(is_error(sub3)) << sub3;
  EXPECT_EQ(call("transport.close", {{"id", sub3["transport_id"]}})["closed"], true);
  EXPECT_FALSE(sessions_->has(sub3["session_id"]));
  EXPECT_EQ(events_.back().first, "session");
  EXPECT_EQ(events_.back().second["reason"], "transport closed");
  EXPECT_EQ(sfu_->num_consumers(), 2u);

  // The worker closes one of sub2's consumers: session.get lists the rest.
  sfu::TransportEvent cev;
  cev.type = sfu::TransportEventType::kConsumerClosed;
  cev.object_id = sub2["consumers"][0]["id"].get<uint64_t>();
  sfu_->sfu_event(0, cev);
  json g2 = call("session.get", {{"session_id", sub2["session_id"]}});
  EXPECT_EQ(g2["consumers"], json::array({sub2["consumers"][1]["id"]}));

  // The publisher leaves: its producers close, and sub2's consumers with them.
  EXPECT_EQ(call("session.close", {{"session_id", pub["session_id"]}})["closed"], true);
  EXPECT_EQ(sfu_->num_producers(), 0u);
  EXPECT_EQ(call("session.get", {{"session_id", sub2["session_id"]}})["consumers"].size(), 0u);
  EXPECT_EQ(sfu_->num_consumers(), 0u);
  EXPECT_EQ(sessions_->size(), 1u);
  ASSERT_NE(sfu_->room("live"), nullptr);  // sub2 still in it
  EXPECT_EQ(call("session.close", {{"session_id", sub2["session_id"]}})["closed"], true);
  // Made by the publish: gone with its last session. Nothing left anywhere.
  EXPECT_EQ(sfu_->num_rooms(), 0u);
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(transports_->size(), 0u);
}

TEST_F(SessionTest, SessionLimit) {
  sessions_->set_max_sessions(1);
  std::string offer = read_offer("chrome_whip_simulcast.sdp");
  ASSERT_FALSE(is_error(call("session.publish", {{"room", "a"}, {"offer", offer}})));
  EXPECT_EQ(call("session.publish", {{"room", "b"}, {"offer", offer}})["code"], -32004);
  EXPECT_EQ(call("session.subscribe",
                 {{"room", "a"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}})["code"],
            -32004);
  EXPECT_EQ(sfu_->num_rooms(), 1u);
  EXPECT_EQ(transports_->size(), 1u);
}

TEST_F(SessionTest, RoomCloseClosesSessions) {
  ASSERT_FALSE(is_error(call("room.create", {{"room", "r"}})));
  json pub =
      call("session.publish", {{"room", "r"}, {"offer", read_offer("chrome_whip_simulcast.sdp")}});
  json sub =
      call("session.subscribe", {{"room", "r"}, {"offer", read_offer("chrome_whep_recvonly.sdp")}});
  ASSERT_FALSE(is_error(sub)) << sub;
  json t = call("transport.create", {{"room", "r"}});
  EXPECT_EQ(call("room.get", {{"room", "r"}})["sessions"].size(), 2u);
  // A peer close_notify ends the subscriber's session.
  sfu::TransportEvent ev;
  ev.type = sfu::TransportEventType::kClosed;
  ev.transport_id = sub["transport_id"].get<uint64_t>();
  sfu_->transport_event(ev, false);
  EXPECT_EQ(sessions_->size(), 1u);
  ASSERT_NE(sfu_->room("r"), nullptr);  // made by room.create: stays
  EXPECT_EQ(call("room.close", {{"room", "r"}})["closed"], true);
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(transports_->size(), 0u);
  EXPECT_EQ(sfu_->num_producers(), 0u);
  EXPECT_EQ(sfu_->num_rooms(), 0u);
  EXPECT_EQ(count_events("session"), 2u);
}

}  // namespace
}  // namespace tern
