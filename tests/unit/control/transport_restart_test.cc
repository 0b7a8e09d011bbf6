// transport.restart_ice on the control socket: new local credentials come
// back at once (generated on the control thread), the command waits in an
// unstarted worker's ring (~Worker frees it), and every bad parameter is a
// -32602 naming its field; an unknown id is -32002.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "control/jsonrpc_registry.h"
#include "control/transport_methods.h"
#include "drivers/driver.h"
#include "engine/stun/ice_candidate.h"
#include "engine/worker/worker.h"

namespace tern {
namespace {

using jsonrpc::json;

class IdleDriver : public PacketDriver {
 public:
  const char* name() const override { return "idle"; }
  DriverCaps caps() const override { return {}; }
  uint16_t num_queues() const override { return 1; }
  std::vector<Endpoint> local_endpoints(uint16_t q) const override {
    return {Endpoint::v4(0xC6120001, static_cast<uint16_t>(40000 + q))};  // 198.18.0.1
  }
  uint16_t rx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t tx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t alloc_bulk(uint16_t, Packet**, uint16_t) override { return 0; }
  void free_bulk(uint16_t, Packet**, uint16_t) override {}
  void wait_rx(uint16_t, Nanos) override {}
  const DriverQueueStats& stats(uint16_t) const override { return stats_; }
  DriverQueueStats stats_;
};

class TransportRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    worker_ = std::make_unique<Worker>(driver_, WorkerConfig{});
    auto ctx = make_dtls_context(DtlsNodeConfig{});
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    transports_ =
        std::make_unique<TransportManager>(std::vector<Worker*>{worker_.get()}, &driver_, *ctx);
    ASSERT_TRUE(transports_->register_methods(registry_).ok());
  }
  void TearDown() override {
    transports_.reset();
    worker_.reset();  // frees the commands never run (kAddTransport, kRestartIce)
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
  static std::string field(const json& r) {
    return r.contains("data") && r["data"].contains("field") ? r["data"]["field"].get<std::string>()
                                                             : std::string();
  }
  static bool all_ice_chars(const std::string& s) {
    for (char c : s)
      if (!ice::is_ice_char(c)) return false;
    return true;
  }

  IdleDriver driver_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<TransportManager> transports_;
  jsonrpc::MethodRegistry registry_;
  jsonrpc::Session session_;
};

const json kRemote = {{"remote_ice_ufrag", "peerGen2"},
                      {"remote_ice_pwd", "PeerPasswordGeneration2xx"}};

TEST_F(TransportRestartTest, ReturnsFreshLocalCredentials) {
  json c = call("transport.create", {{"remote_ice_ufrag", "peerGen1"},
                                     {"remote_ice_pwd", "PeerPasswordGeneration1xx"}});
  ASSERT_FALSE(is_error(c)) << c;
  const uint64_t id = c["id"].get<uint64_t>();
  const std::string ufrag1 = c["ice"]["ufrag"], pwd1 = c["ice"]["pwd"];

  json p = kRemote;
  p["id"] = id;
  json r = call("transport.restart_ice", p);
  ASSERT_FALSE(is_error(r)) << r;
  EXPECT_EQ(r["id"].get<uint64_t>(), id);
  const std::string ufrag2 = r["ice_ufrag"], pwd2 = r["ice_pwd"];
  EXPECT_NE(ufrag2, ufrag1);
  EXPECT_NE(pwd2, pwd1);
  // RFC 8445 §5.3: ufrag >= 24 bits (4 chars), pwd >= 128 bits (22 chars).
  EXPECT_GE(ufrag2.size(), 4u);
  EXPECT_GE(pwd2.size(), 22u);
  EXPECT_TRUE(all_ice_chars(ufrag2)) << ufrag2;
  EXPECT_TRUE(all_ice_chars(pwd2)) << pwd2;
  // transport.get reports the new ufrag.
  json g = call("transport.get", {{"id", id}});
  ASSERT_FALSE(is_error(g)) << g;
  EXPECT_EQ(g["ice"]["ufrag"], ufrag2);

  // Again: another generation, different from both.
  json r2 = call("transport.restart_ice", p);
  ASSERT_FALSE(is_error(r2)) << r2;
  EXPECT_NE(r2["ice_ufrag"], ufrag2);
  EXPECT_NE(r2["ice_ufrag"], ufrag1);
  EXPECT_NE(r2["ice_pwd"], pwd2);
}

TEST_F(TransportRestartTest, BadParamsNameTheField) {
  json c = call("transport.create", json::object());
  ASSERT_FALSE(is_error(c)) << c;
  const uint64_t id = c["id"].get<uint64_t>();
  struct Case {
    json params;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"remote_ice_ufrag", "peerGen2"}, {"remote_ice_pwd", "PeerPasswordGeneration2xx"}},
       "params.id"},
      {{{"id", id}, {"remote_ice_pwd", "PeerPasswordGeneration2xx"}}, "params.remote_ice_ufrag"},
      {{{"id", id}, {"remote_ice_ufrag", "peerGen2"}}, "params.remote_ice_pwd"},
      {{{"id", id}, {"remote_ice_ufrag", "pe"}, {"remote_ice_pwd", "PeerPasswordGeneration2xx"}},
       "params.remote_ice_ufrag"},
      {{{"id", id},
        {"remote_ice_ufrag", "peer:Gen2"},
        {"remote_ice_pwd", "PeerPasswordGen2xxxxxx"}},
       "params.remote_ice_ufrag"},
      {{{"id", id}, {"remote_ice_ufrag", "peerGen2"}, {"remote_ice_pwd", "tooshort"}},
       "params.remote_ice_pwd"},
      {{{"id", id}, {"remote_ice_ufrag", "peerGen2"}, {"remote_ice_pwd", 12345}},
       "params.remote_ice_pwd"},
      {{{"id", 0}, {"remote_ice_ufrag", "peerGen2"}, {"remote_ice_pwd", "PeerPasswordGen2xxxxxx"}},
       "params.id"},
      // DTLS is kept across an ICE restart: no fingerprint here.
      {{{"id", id},
        {"remote_ice_ufrag", "peerGen2"},
        {"remote_ice_pwd", "PeerPasswordGen2xxxxxx"},
        {"remote_fingerprint", "sha-256 00"}},
       "params.remote_fingerprint"},
  };
  for (const Case& k : cases) {
    json r = call("transport.restart_ice", k.params);
    ASSERT_TRUE(is_error(r)) << k.params << " -> " << r;
    EXPECT_EQ(r["code"], -32602) << k.params << " -> " << r;
    EXPECT_EQ(field(r), k.field) << k.params << " -> " << r;
  }
  // Nothing changed.
  json g = call("transport.get", {{"id", id}});
  EXPECT_EQ(g["ice"]["ufrag"], c["ice"]["ufrag"]);
}

TEST_F(TransportRestartTest, UnknownOrClosedIdIsNotFound) {
  json p = kRemote;
  p["id"] = 4242;
  json r = call("transport.restart_ice", p);
  ASSERT_TRUE(is_error(r)) << r;
  EXPECT_EQ(r["code"], -32002) << r;

  json c = call("transport.create", json::object());
  ASSERT_FALSE(is_error(c)) << c;
  p["id"] = c["id"];
  ASSERT_FALSE(is_error(call("transport.close", {{"id", c["id"]}})));
  r = call("transport.restart_ice", p);
  ASSERT_TRUE(is_error(r)) << r;
  EXPECT_EQ(r["code"], -32002) << r;
}

}  // namespace
}  // namespace tern
