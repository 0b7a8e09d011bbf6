// ternd's [control] section and --control-socket (control/config.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/config.h"

namespace tern {
namespace {

TEST(ControlConfig, DefaultsAndKeys) {
  auto c = parse_config("", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->control_socket.has_value());  // the default path
  EXPECT_TRUE(c->control_tcp.empty());
  c = parse_config(
      "[control]\nsocket = \"/tmp/x.sock\"\ntcp = \"127.0.0.1:7000\"\ntoken = \"abc\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->control_socket, "/tmp/x.sock");
  EXPECT_EQ(c->control_tcp, "127.0.0.1:7000");
  EXPECT_EQ(c->control_token, "abc");
  c = parse_config("[control]\nsocket = \"\"\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->control_socket, "");  // disabled
}

TEST(ControlConfig, ErrorsNameTheKey) {
  struct Case {
    const char* toml;
    const char* want;
  };
  for (const Case& k : std::vector<Case>{
           {"[control]\ntcp = \"127.0.0.1:7000\"\n", "t.toml:2: control.tcp: needs control.token"},
           {"[control]\ntcp = \"localhost\"\ntoken = \"x\"\n", "control.tcp: expected ADDR:PORT"},
           {"[control]\nsocket = 5\n", "control.socket"},
           {"[control]\nsokcet = \"/x\"\n", "control.sokcet"},
       }) {
    auto c = parse_config(k.toml, "t.toml");
    ASSERT_FALSE(c.ok()) << k.toml;
    EXPECT_NE(c.status().message().find(k.want), std::string::npos)
        << k.toml << " -> " << c.status();
  }
}

TEST(ControlConfig, Flag) {
  const char* argv[] = {"ternd", "--control-socket", "/tmp/y.sock"};
  auto cl = parse_command_line(3, const_cast<char* const*>(argv));
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config.control_socket, "/tmp/y.sock");
  EXPECT_NE(usage_text().find("--control-socket"), std::string::npos);
}

}  // namespace
}  // namespace tern
