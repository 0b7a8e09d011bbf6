// room.*, producer.*, consumer.*: placement, validation (every bad field
// named), worker events, cascades and counts after close (no leaks).
#include "control/room_methods.h"

#include <gtest/gtest.h>

#include "tests/unit/control/sfu_fixture.h"

namespace tern {
namespace {

using jsonrpc::json;
using testing_sfu::SfuFixture;

class RoomTest : public SfuFixture {};

TEST_F(RoomTest, RoomsArePlacedOnTheLeastLoadedWorker) {
  json a = call("room.create", {{"room", "a"}});
  json b = call("room.create", {{"room", "b"}});
  ASSERT_FALSE(is_error(a)) << a;
  EXPECT_EQ(a["worker"], 0);
  EXPECT_EQ(b["worker"], 1);
  json c = call("room.create", {{"room", "c"}, {"worker", 1}});
  EXPECT_EQ(c["worker"], 1);
  // Transports of a room go on its worker, whatever the load.
  for (int i = 0; i < 3; ++i) {
    json t = call("transport.create", {{"room", "b"}});
    ASSERT_FALSE(is_error(t)) << t;
    EXPECT_EQ(t["worker"], 1);
    EXPECT_EQ(t["room"], "b");
  }
  json t = call("transport.create", {{"room", "b"}, {"worker", 0}});
  EXPECT_EQ(field(t), "params.worker") << t;
  EXPECT_EQ(call("room.create", {{"room", "d"}})["worker"], 0);
  json list = call("room.list", json::object());
  ASSERT_EQ(list["rooms"].size(), 4u);
  EXPECT_EQ(list["rooms"][1]["room"], "b");
  EXPECT_EQ(list["rooms"][1]["transports"], 3);
}

TEST_F(RoomTest, RoomErrors) {
  EXPECT_EQ(field(call("room.create", {{"room", ""}})), "params.room");
  EXPECT_EQ(field(call("room.create", {{"room", "a/b"}})), "params.room");
  EXPECT_EQ(field(call("room.create", {{"room", "x"}, {"worker", 2}})), "params.worker");
  EXPECT_EQ(field(call("room.create", {{"worker", 0}})), "params.room");
  ASSERT_FALSE(is_error(call("room.create", {{"room", "x"}})));
  EXPECT_EQ(call("room.create", {{"room", "x"}})["code"], -32003);  // exists
  EXPECT_EQ(call("room.get", {{"room", "nope"}})["code"], -32002);
  EXPECT_EQ(call("room.close", {{"room", "nope"}})["code"], -32002);
  EXPECT_EQ(call("transport.create", {{"room", "nope"}})["code"], -32002);
}

TEST_F(RoomTest, ProducerValidationNamesTheField) {
  json t = make_room_transport("r");
  json plain = call("transport.create", json::object());  // in no room
  json good{{"transport_id", t["id"]}, {"kind", "video"}, {"mid", "0"}, {"codecs", vp8_codecs()}};
  struct Case {
    const char* key;
    json value;
    const char* field;
  } cases[] = {
      {"transport_id", plain["id"], "params.transport_id"},
      {"kind", "data", "params.kind"},
      {"mid", "", "params.mid"},
      {"mid", "0123456789abcdefg", "params.mid"},
      {"codecs", json::array(), "params.codecs"},
      {"codecs", json::array({{{"name", "VP8"}}}), "params.codecs[0].pt"},
      {"codecs", json::array({{{"name", "opus"}, {"pt", 111}}}), "params.codecs[0].name"},
      {"codecs", json::array({{{"name", "G711"}, {"pt", 0}}}), "params.codecs[0].name"},
      {"codecs", json::array({{{"name", "VP8"}, {"pt", 128}}}), "params.codecs[0].pt"},
      {"codecs", json::array({{{"name", "VP8"}, {"pt", 96}, {"rtx_pt", 96}}}),
       "params.codecs[0].rtx_pt"},
      {"codecs", json::array({{{"name", "VP8"}, {"pt", 96}}, {{"name", "VP9"}, {"pt", 96}}}),
       "params.codecs[1].pt"},
      {"codecs", json::array({{{"name", "VP8"}, {"pt", 96}, {"bogus", 1}}}),
       "params.codecs[0].bogus"},
      {"codecs", json::array({{{"name", "VP8"}, {"pt", 96}, {"rtcp_fb", {1}}}}),
       "params.codecs[0].rtcp_fb[0]"},
      {"extensions", json::array({{{"id", 0}, {"uri", "urn:x"}}}), "params.extensions[0].id"},
      {"extensions", json::array({{{"id", 3}}}), "params.extensions[0].uri"},
      {"extensions", json::array({{{"id", 3}, {"uri", "urn:a"}}, {{"id", 3}, {"uri", "urn:b"}}}),
       "params.extensions[1].id"},
      {"layers",
       json::array(
           {{{"rid", "a"}}, {{"rid", "b"}}, {{"rid", "c"}}, {{"rid", "d"}}, {{"rid", "e"}}}),
       "params.layers"},
      {"layers", json::array({{{"rid", "a"}}, {{"ssrc", 5}}}), "params.layers[1].rid"},
      {"layers", json::array({{{"rid", "a"}}, {{"rid", "a"}}}), "params.layers[1].rid"},
      {"layers", json::array({{{"rid", "a b"}}}), "params.layers[0].rid"},
      {"layers", json::array({{{"ssrc", 5}, {"rtx_ssrc", 5}}}), "params.layers[0].rtx_ssrc"},
      {"layers", json::array({{{"ssrc", -1}}}), "params.layers[0].ssrc"},
      // Simulcast without the rid extension: the layers cannot be told apart.
      {"layers", json::array({{{"rid", "a"}}, {{"rid", "b"}}}), "params.extensions"},
  };
  for (const Case& c : cases) {
    json p = good;
    p[c.key] = c.value;
    json r = call("producer.create", p);
    EXPECT_TRUE(is_error(r)) << c.key << " " << c.value;
    EXPECT_EQ(field(r), c.field) << c.key << " = " << c.value << ": " << r;
  }
  json missing = good;
  missing.erase("codecs");
  EXPECT_EQ(field(call("producer.create", missing)), "params.codecs");
  json unknown = good;
  unknown["transport_id"] = 999;
  EXPECT_EQ(call("producer.create", unknown)["code"], -32002);
  EXPECT_EQ(sfu_->num_producers(), 0u);

  json ok = call("producer.create", good);
  ASSERT_FALSE(is_error(ok)) << ok;
  EXPECT_EQ(ok["layers"].size(), 1u);
  EXPECT_EQ(field(call("producer.create", good)), "params.mid");  // mid taken
}

TEST_F(RoomTest, ProducerAndConsumerLifecycle) {
  json tp = make_room_transport("r");
  json ts = call("transport.create", {{"room", "r"}});
  json pr = call("producer.create",
                 {{"transport_id", tp["id"]},
                  {"kind", "video"},
                  {"mid", "1"},
                  {"codecs", vp8_codecs()},
                  {"extensions",
                   {{{"id", 4}, {"uri", "urn:ietf:params:rtp-hdrext:sdes:mid"}},
                    {{"id", 10}, {"uri", "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"}},
                    {{"id", 14}, {"uri", "urn:ietf:params:rtp-hdrext:toffset"}}}},
                  {"layers", {{{"rid", "q"}}, {{"rid", "h"}}, {{"rid", "f"}, {"ssrc", 1234}}}}});
  ASSERT_FALSE(is_error(pr)) << pr;
  EXPECT_EQ(pr["extensions"].size(), 2u);  // toffset is not forwarded
  EXPECT_EQ(pr["layers"][2]["ssrc"], 1234);

  json cbase{{"transport_id", ts["id"]},
             {"producer_id", pr["id"]},
             {"mid", "0"},
             {"codecs", json::array({{{"name", "VP8"}, {"pt", 100}, {"rtx_pt", 101}}})}};
  // Consumer validation.
  json bad = cbase;
  bad["codecs"] = json::array({{{"name", "H264"}, {"pt", 102}}});
  EXPECT_EQ(field(call("consumer.create", bad)), "params.codecs");
  bad = cbase;
  bad["codecs"] = json::array({{{"name", "opus"}, {"pt", 111}}});
  EXPECT_EQ(field(call("consumer.create", bad)), "params.codecs[0].name");
  bad = cbase;
  bad["layer"] = 3;
  EXPECT_EQ(field(call("consumer.create", bad)), "params.layer");
  bad = cbase;
  bad["ssrc"] = 0;
  EXPECT_EQ(field(call("consumer.create", bad)), "params.ssrc");
  bad = cbase;
  bad["ssrc"] = 77;
  bad["rtx_ssrc"] = 77;
  EXPECT_EQ(field(call("consumer.create", bad)), "params.rtx_ssrc");
  bad = cbase;
  bad["producer_id"] = 42;
  EXPECT_EQ(call("consumer.create", bad)["code"], -32002);
  json other_room = make_room_transport("other");
  bad = cbase;
  bad["transport_id"] = other_room["id"];
  EXPECT_EQ(field(call("consumer.create", bad)), "params.transport_id");

  json c = call("consumer.create", cbase);
  ASSERT_FALSE(is_error(c)) << c;
  EXPECT_NE(c["ssrc"], 0);
  EXPECT_NE(c["rtx_ssrc"], 0);  // generated: the subscriber has RTX
  EXPECT_NE(c["ssrc"], c["rtx_ssrc"]);
  EXPECT_EQ(c["rtp_parameters"]["codecs"][0]["pt"], 100);
  EXPECT_EQ(field(call("consumer.create", cbase)), "params.mid");  // mid taken

  json fixed = cbase;
  fixed["mid"] = "2";
  fixed["ssrc"] = 5555;
  fixed["codecs"] = json::array({{{"name", "VP8"}, {"pt", 100}}});
  json c2 = call("consumer.create", fixed);
  ASSERT_FALSE(is_error(c2)) << c2;
  EXPECT_EQ(c2["ssrc"], 5555);
  EXPECT_EQ(c2["rtx_ssrc"], 0);  // no RTX negotiated: none

  // pause / resume / set_layer / get.
  EXPECT_EQ(call("consumer.pause", {{"id", c["id"]}})["paused"], true);
  EXPECT_EQ(call("consumer.get", {{"id", c["id"]}})["paused"], true);
  EXPECT_EQ(call("consumer.resume", {{"id", c["id"]}})["paused"], false);
  EXPECT_EQ(call("consumer.set_layer", {{"id", c["id"]}, {"layer", 1}})["layer"], 1);
  EXPECT_EQ(field(call("consumer.set_layer", {{"id", c["id"]}, {"layer", 4}})), "params.layer");
  EXPECT_EQ(field(call("consumer.set_layer", {{"id", c2["id"]}, {"layer", 3}})), "params.layer");
  EXPECT_EQ(call("consumer.set_layer", {{"id", 999}, {"layer", 0}})["code"], -32002);
  json g = call("consumer.get", {{"id", c["id"]}});
  EXPECT_EQ(g["layer"], 1);
  EXPECT_EQ(g["stats"]["rtp_out"], 0);
  json pg = call("producer.get", {{"id", pr["id"]}});
  EXPECT_EQ(pg["stats"]["layer_packets"].size(), 3u);
  EXPECT_EQ(call("producer.get", {{"id", 999}})["code"], -32002);

  // Worker events: the layer now forwarded, a consumer closed by the worker.
  sfu::TransportEvent ev;
  ev.type = sfu::TransportEventType::kConsumerLayerChanged;
  ev.object_id = c["id"].get<uint64_t>();
  ev.layer = 2;
  sfu_->sfu_event(0, ev);
  EXPECT_EQ(call("consumer.get", {{"id", c["id"]}})["current_layer"], 2);
  EXPECT_EQ(count_events("consumer.layer"), 1u);
  ev.type = sfu::TransportEventType::kConsumerClosed;
  ev.object_id = c2["id"].get<uint64_t>();
  ev.set_reason("no codec in common");
  sfu_->sfu_event(0, ev);
  EXPECT_EQ(call("consumer.get", {{"id", c2["id"]}})["code"], -32002);
  ASSERT_EQ(count_events("consumer.closed"), 1u);
  EXPECT_EQ(events_.back().second["reason"], "no codec in common");
  sfu_->sfu_event(0, ev);  // again: the id is gone, ignored
  EXPECT_EQ(count_events("consumer.closed"), 1u);

  // Closing the producer closes its consumer.
  EXPECT_EQ(call("producer.close", {{"id", pr["id"]}})["closed"], true);
  EXPECT_EQ(sfu_->num_producers(), 0u);
  EXPECT_EQ(sfu_->num_consumers(), 0u);
  EXPECT_EQ(count_events("consumer.closed"), 2u);
  EXPECT_EQ(count_events("producer.closed"), 1u);
  EXPECT_EQ(call("producer.close", {{"id", pr["id"]}})["code"], -32002);
}

TEST_F(RoomTest, WorkerRefusedProducerIsRemoved) {
  json t = make_room_transport("r");
  json p = call("producer.create", {{"transport_id", t["id"]},
                                    {"kind", "audio"},
                                    {"mid", "0"},
                                    {"codecs", {{{"name", "opus"}, {"pt", 111}}}}});
  ASSERT_FALSE(is_error(p)) << p;
  EXPECT_EQ(p["codecs"][0]["clock_rate"], 48000);
  sfu::TransportEvent ev;
  ev.type = sfu::TransportEventType::kProducerClosed;
  ev.object_id = p["id"].get<uint64_t>();
  ev.transport_id = t["id"].get<uint64_t>();
  ev.set_reason("refused: no router");
  sfu_->sfu_event(0, ev);
  EXPECT_EQ(sfu_->num_producers(), 0u);
  ASSERT_EQ(count_events("producer.closed"), 1u);
  EXPECT_EQ(events_.back().second["reason"], "refused: no router");
}

TEST_F(RoomTest, ClosingARoomLeavesNothing) {
  for (const char* room : {"a", "b"}) {
    json tp = make_room_transport(room);
    json ts = call("transport.create", {{"room", room}});
    for (int i = 0; i < 3; ++i) {
      json p = call("producer.create", {{"transport_id", tp["id"]},
                                        {"kind", "video"},
                                        {"mid", std::to_string(i)},
                                        {"codecs", vp8_codecs()}});
      ASSERT_FALSE(is_error(p)) << p;
      json c = call("consumer.create", {{"transport_id", ts["id"]},
                                        {"producer_id", p["id"]},
                                        {"mid", std::to_string(i)},
                                        {"codecs", vp8_codecs()}});
      ASSERT_FALSE(is_error(c)) << c;
    }
  }
  json plain = call("transport.create", json::object());
  EXPECT_EQ(transports_->size(), 5u);
  EXPECT_EQ(sfu_->num_producers(), 6u);
  EXPECT_EQ(sfu_->num_consumers(), 6u);
  // transport.close of the subscriber's transport closes its consumers only.
  json ra = call("room.get", {{"room", "a"}});
  ASSERT_EQ(ra["transports"].size(), 2u);
  EXPECT_EQ(ra["producers"].size(), 3u);
  call("transport.close", {{"id", ra["transports"][1]}});
  EXPECT_EQ(sfu_->num_consumers(), 3u);
  EXPECT_EQ(sfu_->num_producers(), 6u);
  EXPECT_EQ(call("room.close", {{"room", "a"}})["closed"], true);
  EXPECT_EQ(call("room.close", {{"room", "b"}})["closed"], true);
  EXPECT_EQ(sfu_->num_rooms(), 0u);
  EXPECT_EQ(sfu_->num_producers(), 0u);
  EXPECT_EQ(sfu_->num_consumers(), 0u);
  EXPECT_EQ(transports_->size(), 1u);  // the one in no room stays
  EXPECT_EQ(count_events("producer.closed"), 6u);
  EXPECT_EQ(count_events("consumer.closed"), 6u);
  EXPECT_EQ(call("room.list", json::object())["rooms"].size(), 0u);
}

}  // namespace
}  // namespace tern
