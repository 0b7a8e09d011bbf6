// turn.credentials: REST credentials minted over JSON-RPC, checked against
// what a TurnServer's CredentialStore would accept (same secret, same
// HMAC), plus TTL bounds, param errors and the not-configured cases.
#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "control/jsonrpc_methods.h"
#include "engine/turn/turn_auth.h"

namespace tern {
namespace {

using jsonrpc::json;

Endpoint ep(const char* text) {
  auto e = Endpoint::parse(text);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? *e : Endpoint{};
}

class TurnCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No workers or driver: turn.credentials reads only view_.turn.
    view_.turn.enabled = true;
    view_.turn.rest_secrets = {"current-secret", "previous-secret"};
    view_.turn.uris = {"turn:127.0.0.1:3478?transport=udp"};
    ASSERT_TRUE(register_engine_methods(registry_, view_).ok());
  }
  json call(const std::string& params) {
    auto out = registry_.handle_line(
        R"({"jsonrpc":"2.0","method":"turn.credentials","params":)" + params + R"(,"id":7})",
        session_);
    return out ? json::parse(*out) : json();
  }

  EngineView view_;
  jsonrpc::MethodRegistry registry_;
  jsonrpc::Session session_;
};

TEST_F(TurnCredentialsTest, MintsWithTheFirstSecretAndDefaultTtl) {
  int64_t before = std::time(nullptr);
  json r = call(R"({"user":"alice"})");
  int64_t after = std::time(nullptr);
  ASSERT_TRUE(r.contains("result")) << r.dump();
  json res = r["result"];
  EXPECT_EQ(res["ttl_s"], 86400);
  EXPECT_EQ(res["uris"], json({"turn:127.0.0.1:3478?transport=udp"}));
  std::string username = res["username"].get<std::string>();
  int64_t expiry = 0;
  ASSERT_TRUE(rest_username_expiry(username, &expiry)) << username;
  EXPECT_GE(expiry, before + 86400);
  EXPECT_LE(expiry, after + 86400);
  EXPECT_EQ(username.substr(username.find(':')), ":alice");
  // The password is what ternd derives from the *first* secret.
  EXPECT_EQ(res["password"], rest_password("current-secret", username));
  EXPECT_NE(res["password"], rest_password("previous-secret", username));
}

TEST_F(TurnCredentialsTest, ExplicitTtlAndBounds) {
  int64_t before = std::time(nullptr);
  json r = call(R"({"user":"bob","ttl_s":60})");
  ASSERT_TRUE(r.contains("result")) << r.dump();
  int64_t expiry = 0;
  ASSERT_TRUE(rest_username_expiry(r["result"]["username"].get<std::string>(), &expiry));
  EXPECT_GE(expiry, before + 60);
  EXPECT_LE(expiry, before + 62);
  EXPECT_EQ(r["result"]["ttl_s"], 60);
  EXPECT_TRUE(call(R"({"user":"bob","ttl_s":604800})").contains("result"));
  for (const char* bad : {R"({"user":"bob","ttl_s":59})", R"({"user":"bob","ttl_s":604801})",
                          R"({"user":"bob","ttl_s":"3600"})"}) {
    json e = call(bad);
    EXPECT_EQ(e["error"]["code"], jsonrpc::kInvalidParams) << bad;
    EXPECT_EQ(e["error"]["data"]["field"], "params.ttl_s") << bad;
  }
}

TEST_F(TurnCredentialsTest, UserValidation) {
  for (const char* bad : {R"({"user":""})", R"({"user":"a:b"})", R"({"user":7})", R"({})"}) {
    json e = call(bad);
    EXPECT_EQ(e["error"]["code"], jsonrpc::kInvalidParams) << bad;
    EXPECT_EQ(e["error"]["data"]["field"], "params.user") << bad << " " << e.dump();
  }
  std::string max(128, 'u');
  EXPECT_TRUE(call(R"({"user":")" + max + R"("})").contains("result"));
  json e = call(R"({"user":")" + max + R"(u"})");
  EXPECT_EQ(e["error"]["code"], jsonrpc::kInvalidParams);
  EXPECT_EQ(e["error"]["data"]["field"], "params.user");
}

TEST_F(TurnCredentialsTest, FailedPreconditionWithoutTurnOrSecrets) {
  view_.turn.rest_secrets.clear();
  json e = call(R"({"user":"alice"})");
  EXPECT_EQ(e["error"]["code"], jsonrpc::kFailedPrecondition) << e.dump();
  EXPECT_NE(e["error"].dump().find("rest_secrets"), std::string::npos) << e.dump();
  view_.turn.enabled = false;
  e = call(R"({"user":"alice"})");
  EXPECT_EQ(e["error"]["code"], jsonrpc::kFailedPrecondition) << e.dump();
  EXPECT_NE(e["error"].dump().find("not enabled"), std::string::npos) << e.dump();
}

TEST(TurnUris, ConcreteWildcardV6AndDedup) {
  std::vector<Endpoint> listen = {ep("127.0.0.1:3478"), ep("[::1]:3478"), ep("127.0.0.1:3478"),
                                  ep("0.0.0.0:3479"), ep("[::]:3479")};
  std::vector<Endpoint> relay = {ep("198.18.0.1:0"), ep("198.18.0.2:0")};
  EXPECT_EQ(turn_uris(listen, relay),
            (std::vector<std::string>{
                "turn:127.0.0.1:3478?transport=udp", "turn:[::1]:3478?transport=udp",
                "turn:198.18.0.1:3479?transport=udp", "turn:198.18.0.2:3479?transport=udp"}));
  EXPECT_TRUE(turn_uris({ep("0.0.0.0:3478")}, {}).empty());
}

}  // namespace
}  // namespace tern
