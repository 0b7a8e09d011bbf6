// control/datachannel_methods: SDP -> SCTP config, room groups, event JSON.
#include "control/datachannel_methods.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tern {
namespace {

TEST(DataChannelMethods, SctpConfigFromAcceptedSection) {
  sdp::NegotiationResult r;
  sdp::NegotiatedMedia audio;
  audio.accepted = true;
  r.media.push_back(audio);
  EXPECT_FALSE(sctp_config(r).has_value());
  sdp::NegotiatedMedia dc;
  dc.data_channel = true;
  dc.accepted = false;
  r.media.push_back(dc);
  EXPECT_FALSE(sctp_config(r).has_value()) << "a refused section gives no SCTP";
  r.media.back().accepted = true;
  r.media.back().local_sctp_port = 5000;
  r.media.back().remote_sctp_port = 5001;
  r.media.back().local_max_message_size = 262144;
  r.media.back().remote_max_message_size = 0;
  auto c = sctp_config(r);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->local_port, 5000);
  EXPECT_EQ(c->remote_port, 5001);
  EXPECT_EQ(c->max_message_size, 262144u);
  EXPECT_EQ(c->remote_max_message_size, 65536u) << "absent: RFC 8841 64 KiB";
  r.media.back().remote_max_message_size = 1 << 20;
  EXPECT_EQ(sctp_config(r)->remote_max_message_size, size_t(1) << 20);
}

TEST(DataChannelMethods, RoomGroupsAreStableAndDistinct) {
  EXPECT_EQ(data_group_of("room1"), data_group_of("room1"));
  EXPECT_NE(data_group_of("room1"), data_group_of("room2"));
  EXPECT_NE(data_group_of(""), 0u);
}

TEST(DataChannelMethods, EventJson) {
  sfu::DataEvent open;
  open.type = sfu::DataEvent::Type::kOpen;
  open.transport_id = 3;
  open.stream = 1;
  open.remote = true;
  open.ordered = false;
  open.policy = 1;
  open.reliability = 5;
  open.set_label("chat");
  open.set_protocol("json");
  EXPECT_EQ(DataChannelManager::topic_of(open), "datachannel.open");
  auto j = DataChannelManager::event_json(open);
  EXPECT_EQ(j["label"], "chat");
  EXPECT_EQ(j["protocol"], "json");
  EXPECT_EQ(j["ordered"], false);
  EXPECT_EQ(j["max_retransmits"], 5);
  EXPECT_EQ(j["transport_id"], 3);

  sfu::DataEvent m;
  m.type = sfu::DataEvent::Type::kMessage;
  m.binary = true;
  m.data = new uint8_t[3]{0, 1, 255};
  m.len = 3;
  m.size = 3;
  EXPECT_EQ(DataChannelManager::topic_of(m), "datachannel.message");
  j = DataChannelManager::event_json(m);
  EXPECT_EQ(j["binary_b64"], "AAH/");
  EXPECT_EQ(j["size"], 3);
  EXPECT_EQ(j["truncated"], false);
  m.free_payload();
  EXPECT_EQ(m.data, nullptr);

  sfu::DataEvent t;
  t.type = sfu::DataEvent::Type::kMessage;
  t.data = new uint8_t[2]{'h', 'i'};
  t.len = 2;
  t.size = 70000;
  t.truncated = true;
  j = DataChannelManager::event_json(t);
  EXPECT_EQ(j["text"], "hi");
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["size"], 70000);
  t.free_payload();

  sfu::DataEvent c;
  c.type = sfu::DataEvent::Type::kClosed;
  EXPECT_EQ(DataChannelManager::topic_of(c), "datachannel.close");
  sfu::DataEvent e;
  e.type = sfu::DataEvent::Type::kSendFailed;
  e.set_label("params.label: no open channel");
  EXPECT_EQ(DataChannelManager::topic_of(e), "datachannel.error");
  EXPECT_EQ(DataChannelManager::event_json(e)["reason"], "params.label: no open channel");
}

}  // namespace
}  // namespace tern
