// Shared by the room/session/http tests: two unstarted workers on a fake
// driver (commands wait in their rings; ~Worker frees them), the node's DTLS
// context, the three managers and a registry with every method, and the
// events they published.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "control/jsonrpc_registry.h"
#include "control/room_methods.h"
#include "control/session.h"
#include "control/transport_methods.h"
#include "drivers/driver.h"
#include "engine/worker/worker.h"

namespace tern {
namespace testing_sfu {

using jsonrpc::json;

class FakeDriver : public PacketDriver {
 public:
  const char* name() const override { return "fake"; }
  DriverCaps caps() const override { return {}; }
  uint16_t num_queues() const override { return 2; }
  std::vector<Endpoint> local_endpoints(uint16_t q) const override {
    return {Endpoint::v4(0xC6120001, static_cast<uint16_t>(40000 + q))};  // 198.18.0.1
  }
  uint16_t rx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t tx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t alloc_bulk(uint16_t, Packet**, uint16_t) override { return 0; }
  void free_bulk(uint16_t, Packet**, uint16_t) override {}
  void wait_rx(uint16_t, Nanos) override {}
  const DriverQueueStats& stats(uint16_t q) const override { return stats_[q]; }
  DriverQueueStats stats_[2];
};

inline std::string read_offer(const std::string& name) {
  std::ifstream f(std::string(TERN_SDP_OFFERS_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class SfuFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint16_t i = 0; i < 2; ++i) {
      WorkerConfig wc;
      wc.index = i;
      workers_.push_back(std::make_unique<Worker>(driver_, wc));
    }
    auto ctx = make_dtls_context(DtlsNodeConfig{});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    std::vector<Worker*> ws;
    for (auto& w : workers_) ws.push_back(w.get());
    transports_ = std::make_unique<TransportManager>(ws, &driver_, *ctx);
    sfu_ = std::make_unique<SfuManager>(*transports_);
    sessions_ = std::make_unique<SessionManager>(*transports_, *sfu_);
    auto pub = [this](absl::string_view topic, const json& d) {
      events_.emplace_back(std::string(topic), d);
    };
    sfu_->set_publish(pub);
    sessions_->set_publish(pub);
    ASSERT_TRUE(transports_->register_methods(registry_).ok());
    ASSERT_TRUE(sfu_->register_methods(registry_).ok());
    ASSERT_TRUE(sessions_->register_methods(registry_).ok());
  }
  void TearDown() override {
    sessions_.reset();
    sfu_.reset();
    transports_.reset();
  }

  // The result, or the error object.
  json call(const std::string& method, const json& params) {
    json req{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", 1}};
    auto out = registry_.handle_line(req.dump(), session_);
    if (!out) return json();
    json r = json::parse(*out);
    return r.contains("result") ? r["result"] : r["error"];
  }
  static bool is_error(const json& r) { return r.contains("code") && r.contains("message"); }
  // The field an error names ("" if none).
  static std::string field(const json& r) {
    return r.contains("data") && r["data"].contains("field") ? r["data"]["field"].get<std::string>()
                                                             : std::string();
  }
  size_t count_events(const std::string& topic) const {
    size_t n = 0;
    for (const auto& [t, d] : events_) n += t == topic;
    return n;
  }
  json make_room_transport(const std::string& room) {
    if (!sfu_->room(room)) {
      EXPECT_FALSE(is_error(call("room.create", {{"room", room}})));
    }
    return call("transport.create", {{"room", room}});
  }
  static json vp8_codecs() {
    return json::array(
        {{{"name", "VP8"}, {"pt", 96}, {"rtx_pt", 97}, {"rtcp_fb", {"nack", "nack pli"}}}});
  }

  FakeDriver driver_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<TransportManager> transports_;
  std::unique_ptr<SfuManager> sfu_;
  std::unique_ptr<SessionManager> sessions_;
  jsonrpc::MethodRegistry registry_;
  jsonrpc::Session session_;
  std::vector<std::pair<std::string, json>> events_;
};

}  // namespace testing_sfu
}  // namespace tern
