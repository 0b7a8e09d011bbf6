#include "control/jsonrpc_methods.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tern {
namespace {

using jsonrpc::json;

// Two queues, no traffic; counters set by the test.
class FakeDriver : public PacketDriver {
 public:
  const char* name() const override { return "fake"; }
  DriverCaps caps() const override { return {.link_layer = true}; }
  uint16_t num_queues() const override { return 2; }
  std::vector<Endpoint> local_endpoints(uint16_t q) const override {
    return {Endpoint::v4(0x7f000001, static_cast<uint16_t>(4000 + q))};
  }
  uint16_t rx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t tx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t alloc_bulk(uint16_t, Packet**, uint16_t) override { return 0; }
  void free_bulk(uint16_t, Packet**, uint16_t) override {}
  void wait_rx(uint16_t, Nanos) override {}
  const DriverQueueStats& stats(uint16_t q) const override { return stats_[q]; }
  DriverQueueStats stats_[2];
};

class MethodsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint16_t i = 0; i < 2; ++i) {
      WorkerConfig wc;
      wc.index = i;
      workers_.push_back(std::make_unique<Worker>(driver_, wc));
      view_.workers.push_back(workers_.back().get());
    }
    view_.version = "9.9.9";
    view_.pid = 1234;
    view_.started = Worker::now();
    view_.driver = &driver_;
    view_.config_source = "test.toml";
    view_.features = {"stun"};
    view_.control_endpoints = [] { return std::vector<std::string>{"unix:/tmp/x.sock"}; };
    ASSERT_TRUE(register_engine_methods(registry_, view_).ok());
  }
  json call(const std::string& line) {
    auto out = registry_.handle_line(line, session_);
    return out ? json::parse(*out) : json();
  }

  FakeDriver driver_;
  std::vector<std::unique_ptr<Worker>> workers_;
  EngineView view_;
  jsonrpc::MethodRegistry registry_;
  jsonrpc::Session session_;
};

TEST_F(MethodsTest, ServerInfo) {
  json r = call(R"({"jsonrpc":"2.0","method":"server.info","id":1})")["result"];
  EXPECT_EQ(r["version"], "9.9.9");
  EXPECT_EQ(r["pid"], 1234);
  EXPECT_GE(r["uptime_s"].get<double>(), 0.0);
  EXPECT_EQ(r["driver"]["name"], "fake");
  EXPECT_EQ(r["driver"]["queues"], 2);
  EXPECT_EQ(r["driver"]["caps"]["link_layer"], true);
  ASSERT_EQ(r["workers"].size(), 2u);
  EXPECT_EQ(r["workers"][1]["endpoints"][0], "udp:127.0.0.1:4001");
  EXPECT_EQ(r["workers"][0]["running"], false);
  EXPECT_EQ(r["control"]["endpoints"][0], "unix:/tmp/x.sock");
  EXPECT_EQ(r["features"], json({"stun"}));
  EXPECT_EQ(r["config"], "test.toml");
}

TEST_F(MethodsTest, StatsAllWorkersAndOne) {
  driver_.stats_[1].rx_packets.add(5);
  driver_.stats_[1].arp_replies.add(2);
  driver_.stats_[1].drops.add(Drop::kBadChecksum, 3);
  json r = call(R"({"jsonrpc":"2.0","method":"stats.get","id":1})")["result"];
  ASSERT_EQ(r["workers"].size(), 2u);
  const json& w1 = r["workers"][1];
  EXPECT_EQ(w1["index"], 1);
  EXPECT_EQ(w1["rx_packets"], 0);
  EXPECT_EQ(w1["classes"]["stun"], 0);
  EXPECT_EQ(w1["stun"]["requests"], 0);
  EXPECT_EQ(w1["drops"], json({{"total", 0}}));
  EXPECT_EQ(w1["driver"]["rx_packets"], 5);
  EXPECT_EQ(w1["driver"]["arp_replies"], 2);
  EXPECT_EQ(w1["driver"]["drops"]["bad_checksum"], 3);
  EXPECT_EQ(w1["driver"]["drops"]["total"], 3);
  EXPECT_EQ(r["totals"]["drops"], 3);

  r = call(R"({"jsonrpc":"2.0","method":"stats.get","params":{"worker":1},"id":2})")["result"];
  ASSERT_EQ(r["workers"].size(), 1u);
  EXPECT_EQ(r["workers"][0]["index"], 1);
}

TEST_F(MethodsTest, StatsBadWorkerNamesTheField) {
  json r = call(R"({"jsonrpc":"2.0","method":"stats.get","params":{"worker":2},"id":1})");
  EXPECT_EQ(r["error"]["code"], jsonrpc::kInvalidParams);
  EXPECT_EQ(r["error"]["data"]["field"], "params.worker");
  EXPECT_EQ(r["error"]["data"]["reason"], "no worker 2; this ternd runs 2 (0..1)");
  r = call(R"({"jsonrpc":"2.0","method":"stats.get","params":{"worker":"0"},"id":1})");
  EXPECT_EQ(r["error"]["data"]["field"], "params.worker");
  r = call(R"({"jsonrpc":"2.0","method":"stats.get","params":{"wrker":0},"id":1})");
  EXPECT_EQ(r["error"]["data"]["field"], "params.wrker");
}

TEST(DropsJson, OnlyNonZeroPlusTotal) {
  DropCounters d;
  EXPECT_EQ(drops_json(d), json({{"total", 0}}));
  d.add(Drop::kTxFull, 2);
  d.add(Drop::kRuntFrame);
  json j = drops_json(d);
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j.size(), 3u);
}

}  // namespace
}  // namespace tern
