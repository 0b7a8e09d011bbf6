// [turn] keys of TURN over TCP/TLS (control/turn_config.h).
#include <toml++/toml.h>

#include "control/turn_config.h"
#include "gtest/gtest.h"

namespace tern {
namespace {

absl::StatusOr<TurnConfig> parse(const char* text) {
  toml::table t = toml::parse(text);
  return parse_turn_config(*t["turn"].as_table(), "t.toml");
}

TEST(TurnTcpConfig, Defaults) {
  auto c = parse("[turn]\nenabled = true\nusers = [\"u:p\"]\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tcp_listen.empty());
  EXPECT_TRUE(c->tls_listen.empty());
  EXPECT_EQ(c->tcp_max_connections, 1024u);
  EXPECT_EQ(c->tcp_idle_timeout_s, 300u);
}

TEST(TurnTcpConfig, AllKeys) {
  auto c = parse(R"([turn]
enabled = true
users = ["u:p"]
tcp_listen = ["127.0.0.1:3478", "[::1]:3478"]
tls_listen = ["0.0.0.0:443"]
tls_cert = "/etc/c.pem"
tls_key = "/etc/k.pem"
tcp_max_connections = 10
tcp_idle_timeout_s = 60
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->tcp_listen.size(), 2u);
  EXPECT_EQ(c->tcp_listen[0].to_string(), "127.0.0.1:3478");
  EXPECT_EQ(c->tcp_listen[1].to_string(), "[::1]:3478");
  ASSERT_EQ(c->tls_listen.size(), 1u);
  EXPECT_EQ(c->tls_listen[0].port, 443);
  EXPECT_EQ(c->tls_cert, "/etc/c.pem");
  EXPECT_EQ(c->tls_key, "/etc/k.pem");
  EXPECT_EQ(c->tcp_max_connections, 10u);
  EXPECT_EQ(c->tcp_idle_timeout_s, 60u);
}

TEST(TurnTcpConfig, Errors) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"tcp_listen = [\"127.0.0.1\"]", "turn.tcp_listen"},   // no port
      {"tls_listen = [\"nonsense:1\"]", "turn.tls_listen"},  // not an address
      {"tcp_listen = [\"127.0.0.1:1\"]\ntls_listen = [\"127.0.0.1:1\"]", "listed twice"},
      {"tls_cert = \"/c.pem\"", "turn.tls_cert"},  // key missing
      {"tls_key = \"/k.pem\"", "turn.tls_key"},    // cert missing
      {"tcp_max_connections = 0", "turn.tcp_max_connections"},
      {"tcp_idle_timeout_s = 1", "turn.tcp_idle_timeout_s"},
      {"tcp_listen = \"127.0.0.1:1\"", "turn.tcp_listen"},  // not an array
  };
  for (const Case& k : cases) {
    std::string text = std::string("[turn]\nusers = [\"u:p\"]\n") + k.text + "\n";
    auto c = parse(text.c_str());
    ASSERT_FALSE(c.ok()) << k.text;
    EXPECT_NE(c.status().message().find(k.want), std::string::npos)
        << k.text << " -> " << c.status().message();
  }
}

}  // namespace
}  // namespace tern
