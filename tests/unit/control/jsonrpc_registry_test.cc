#include "control/jsonrpc_registry.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace tern::jsonrpc {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(reg_.register_method(
                        {.name = "echo", .params = {{.name = "value", .type = ParamType::kAny}}},
                        [](const json& p, Session&) -> absl::StatusOr<json> {
                          return p.value("value", json(nullptr));
                        })
                    .ok());
    ASSERT_TRUE(reg_.register_method(
                        {.name = "typed",
                         .params = {{.name = "n",
                                     .type = ParamType::kInteger,
                                     .required = true,
                                     .min = 0,
                                     .max = 10},
                                    {.name = "s", .type = ParamType::kString, .one_of = {"a", "b"}},
                                    {.name = "b", .type = ParamType::kBoolean},
                                    {.name = "o", .type = ParamType::kObject},
                                    {.name = "t",
                                     .type = ParamType::kStringArray,
                                     .max_length = 3,
                                     .one_of = {"x", "y"}}}},
                        [](const json& p, Session&) -> absl::StatusOr<json> { return p; })
                    .ok());
    ASSERT_TRUE(reg_.register_method({.name = "fails"},
                                     [](const json&, Session&) -> absl::StatusOr<json> {
                                       return invalid_param("params.room", "no such room \"r1\"");
                                     })
                    .ok());
    ASSERT_TRUE(reg_.register_method({.name = "notfound"},
                                     [](const json&, Session&) -> absl::StatusOr<json> {
                                       return absl::NotFoundError("room r1 not found");
                                     })
                    .ok());
    ASSERT_TRUE(reg_.register_method({.name = "broken"},
                                     [](const json&, Session&) -> absl::StatusOr<json> {
                                       return absl::InternalError("disk on fire");
                                     })
                    .ok());
    ASSERT_TRUE(reg_.register_method({.name = "throws"},
                                     [](const json&, Session&) -> absl::StatusOr<json> {
                                       throw std::runtime_error("boom");
                                     })
                    .ok());
    ASSERT_TRUE(reg_.register_method({.name = "open", .allow_unauthenticated = true},
                                     [](const json&, Session& s) -> absl::StatusOr<json> {
                                       s.authenticated = true;
                                       return "welcome";
                                     })
                    .ok());
    ASSERT_TRUE(reg_.register_method(
                        {.name = "count"},
                        [this](const json&, Session&) -> absl::StatusOr<json> { return ++calls_; })
                    .ok());
  }

  // Sends one line, expects one response line, returns it parsed.
  json call(const std::string& line) {
    std::optional<std::string> out = reg_.handle_line(line, session_);
    if (!out) {
      ADD_FAILURE() << "no response to " << line;
      return json();
    }
    EXPECT_EQ(out->back(), '\n');
    EXPECT_EQ(out->find('\n'), out->size() - 1) << "response is not one line";
    return json::parse(*out);
  }

  MethodRegistry reg_;
  Session session_;
  int calls_ = 0;
};

TEST_F(RegistryTest, Result) {
  json r = call(R"({"jsonrpc":"2.0","method":"echo","params":{"value":[1,"x"]},"id":1})");
  EXPECT_EQ(r, json::parse(R"({"jsonrpc":"2.0","result":[1,"x"],"id":1})"));
  r = call(R"({"jsonrpc":"2.0","method":"echo","id":"abc"})");
  EXPECT_EQ(r["id"], "abc");
  EXPECT_TRUE(r["result"].is_null());
  r = call(R"({"jsonrpc":"2.0","method":"echo","id":null})");
  EXPECT_TRUE(r.contains("result"));
  EXPECT_TRUE(r["id"].is_null());
}

TEST_F(RegistryTest, ParseError) {
  json r = call("{\"jsonrpc\":\"2.0\",\"method\":");
  EXPECT_EQ(r["error"]["code"], kParseError);
  EXPECT_EQ(r["error"]["message"], "Parse error");
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_TRUE(r["error"]["data"]["reason"].is_string());
}

TEST_F(RegistryTest, InvalidRequestNamesTheMember) {
  struct Case {
    const char* line;
    const char* field;
    json id;
  };
  for (const Case& c : {
           Case{R"({"method":"echo","id":1})", "jsonrpc", 1},
           Case{R"({"jsonrpc":"1.0","method":"echo","id":1})", "jsonrpc", 1},
           Case{R"({"jsonrpc":"2.0","id":2})", "method", 2},
           Case{R"({"jsonrpc":"2.0","method":5,"id":3})", "method", 3},
           Case{R"({"jsonrpc":"2.0","method":"echo","params":"x","id":4})", "params", 4},
           Case{R"({"jsonrpc":"2.0","method":"echo","id":{"a":1}})", "id", nullptr},
           Case{R"({"jsonrpc":"2.0","method":"echo","id":[1]})", "id", nullptr},
           Case{R"({"jsonrpc":"2.0","method":"echo","id":5,"extra":1})", "extra", 5},
       }) {
    json r = call(c.line);
    EXPECT_EQ(r["error"]["code"], kInvalidRequest) << c.line;
    EXPECT_EQ(r["error"]["message"], "Invalid Request") << c.line;
    EXPECT_EQ(r["error"]["data"]["field"], c.field) << c.line;
    EXPECT_EQ(r["id"], c.id) << c.line;
  }
  for (const char* line : {"1", "\"x\"", "null", "true"}) {
    json r = call(line);
    EXPECT_EQ(r["error"]["code"], kInvalidRequest) << line;
  }
}

TEST_F(RegistryTest, MethodNotFound) {
  json r = call(R"({"jsonrpc":"2.0","method":"nope","id":9})");
  EXPECT_EQ(r["error"]["code"], kMethodNotFound);
  EXPECT_EQ(r["error"]["data"]["field"], "method");
  EXPECT_EQ(r["id"], 9);
}

TEST_F(RegistryTest, InvalidParamsNameTheField) {
  struct Case {
    const char* params;
    const char* field;
    const char* reason_part;
  };
  for (const Case& c : {
           Case{"{}", "params.n", "required"},
           Case{R"({"n":"5"})", "params.n", "must be an integer, got string \"5\""},
           Case{R"({"n":11})", "params.n", "must be 0..10, got 11"},
           Case{R"({"n":-1})", "params.n", "must be 0..10"},
           Case{R"({"n":1.5})", "params.n", "must be an integer, got number"},
           Case{R"({"n":18446744073709551615})", "params.n", "must be 0..10"},
           Case{R"({"n":1,"s":"c"})", "params.s", "must be one of a, b"},
           Case{R"({"n":1,"b":1})", "params.b", "must be a boolean"},
           Case{R"({"n":1,"o":[]})", "params.o", "must be an object"},
           Case{R"({"n":1,"t":["x",3]})", "params.t[1]", "must be a string"},
           Case{R"({"n":1,"t":["x","z"]})", "params.t[1]", "must be one of x, y"},
           Case{R"({"n":1,"t":["x","x","x","x"]})", "params.t", "more than 3 items"},
           Case{R"({"n":1,"zz":0})", "params.zz", "unknown parameter (known: n, s, b, o, t)"},
           Case{"[1]", "params", "positional params are not supported"},
       }) {
    std::string line =
        std::string(R"({"jsonrpc":"2.0","method":"typed","id":1,"params":)") + c.params + "}";
    json r = call(line);
    EXPECT_EQ(r["error"]["code"], kInvalidParams) << line;
    EXPECT_EQ(r["error"]["message"], "Invalid params") << line;
    EXPECT_EQ(r["error"]["data"]["field"], c.field) << line;
    EXPECT_NE(r["error"]["data"]["reason"].get<std::string>().find(c.reason_part),
              std::string::npos)
        << line << " -> " << r.dump();
  }
  // Missing params entirely: "required" for the required one.
  json r = call(R"({"jsonrpc":"2.0","method":"typed","id":1})");
  EXPECT_EQ(r["error"]["data"]["field"], "params.n");
  // Valid.
  r = call(R"({"jsonrpc":"2.0","method":"typed","id":1,"params":{"n":10,"s":"a","t":["y"]}})");
  EXPECT_EQ(r["result"]["n"], 10);
}

TEST_F(RegistryTest, HandlerStatusMapsToErrors) {
  json r = call(R"({"jsonrpc":"2.0","method":"fails","id":1})");
  EXPECT_EQ(r["error"]["code"], kInvalidParams);
  EXPECT_EQ(r["error"]["data"]["field"], "params.room");
  EXPECT_EQ(r["error"]["data"]["reason"], "no such room \"r1\"");
  r = call(R"({"jsonrpc":"2.0","method":"notfound","id":1})");
  EXPECT_EQ(r["error"]["code"], kNotFound);
  EXPECT_EQ(r["error"]["message"], "room r1 not found");
  r = call(R"({"jsonrpc":"2.0","method":"broken","id":1})");
  EXPECT_EQ(r["error"]["code"], kInternalError);
  EXPECT_EQ(r["error"]["message"], "disk on fire");
  r = call(R"({"jsonrpc":"2.0","method":"throws","id":1})");
  EXPECT_EQ(r["error"]["code"], kInternalError);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("boom"), std::string::npos);
}

TEST(StatusToError, PlainInvalidArgumentKeepsMessage) {
  json r = status_to_error(1, absl::InvalidArgumentError("worker 9 does not exist"));
  EXPECT_EQ(r["error"]["code"], kInvalidParams);
  EXPECT_EQ(r["error"]["data"]["reason"], "worker 9 does not exist");
  EXPECT_FALSE(r["error"]["data"].contains("field"));
  EXPECT_EQ(status_to_error(1, absl::ResourceExhaustedError("x"))["error"]["code"],
            kResourceExhausted);
  EXPECT_EQ(status_to_error(1, absl::UnavailableError("x"))["error"]["code"], kUnavailable);
  EXPECT_EQ(status_to_error(1, absl::PermissionDeniedError("x"))["error"]["code"], kUnauthorized);
  EXPECT_EQ(status_to_error(1, absl::FailedPreconditionError("x"))["error"]["code"],
            kFailedPrecondition);
}

TEST_F(RegistryTest, NotificationsGetNoResponseButRun) {
  EXPECT_FALSE(reg_.handle_line(R"({"jsonrpc":"2.0","method":"count"})", session_));
  EXPECT_EQ(calls_, 1);
  // Even errors are not answered for notifications (§4.1).
  EXPECT_FALSE(reg_.handle_line(R"({"jsonrpc":"2.0","method":"nope"})", session_));
  EXPECT_FALSE(reg_.handle_line(R"({"jsonrpc":"2.0","method":"typed","params":{}})", session_));
  // Blank lines are ignored.
  EXPECT_FALSE(reg_.handle_line("", session_));
  EXPECT_FALSE(reg_.handle_line("  \r", session_));
}

TEST_F(RegistryTest, Batch) {
  json r = call(R"([
    {"jsonrpc":"2.0","method":"echo","params":{"value":1},"id":"1"},
    {"jsonrpc":"2.0","method":"count"},
    {"jsonrpc":"2.0","method":"nope","id":"2"},
    {"foo":"boo"},
    [1],
    {"jsonrpc":"2.0","method":"typed","params":{"n":99},"id":"3"}
  ])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 5u);  // the notification has no entry
  EXPECT_EQ(r[0]["result"], 1);
  EXPECT_EQ(r[1]["error"]["code"], kMethodNotFound);
  EXPECT_EQ(r[2]["error"]["code"], kInvalidRequest);
  EXPECT_EQ(r[3]["error"]["code"], kInvalidRequest);
  EXPECT_EQ(r[4]["error"]["code"], kInvalidParams);
  EXPECT_EQ(r[4]["id"], "3");
  EXPECT_EQ(calls_, 1);
}

TEST_F(RegistryTest, BatchEdgeCases) {
  json r = call("[]");
  EXPECT_TRUE(r.is_object());
  EXPECT_EQ(r["error"]["code"], kInvalidRequest);
  r = call("[1,2,3]");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 3u);
  for (const json& e : r) EXPECT_EQ(e["error"]["code"], kInvalidRequest);
  // All notifications: nothing at all.
  EXPECT_FALSE(reg_.handle_line(
      R"([{"jsonrpc":"2.0","method":"count"},{"jsonrpc":"2.0","method":"count"}])", session_));
  EXPECT_EQ(calls_, 2);
  // Too many.
  std::string big = "[";
  for (size_t i = 0; i <= kMaxBatch; ++i) {
    big += std::string(i ? "," : "") + R"({"jsonrpc":"2.0","method":"count","id":1})";
  }
  big += "]";
  r = call(big);
  EXPECT_EQ(r["error"]["code"], kInvalidRequest);
  EXPECT_EQ(calls_, 2);  // none ran
}

TEST_F(RegistryTest, UnauthenticatedSessionsMayCallOnlyOpenMethods) {
  session_.authenticated = false;
  json r = call(R"({"jsonrpc":"2.0","method":"echo","id":1})");
  EXPECT_EQ(r["error"]["code"], kUnauthorized);
  r = call(R"({"jsonrpc":"2.0","method":"open","id":2})");
  EXPECT_EQ(r["result"], "welcome");
  r = call(R"({"jsonrpc":"2.0","method":"echo","params":{"value":3},"id":3})");
  EXPECT_EQ(r["result"], 3);
}

TEST_F(RegistryTest, DeepNestingAndUnicode) {
  std::string deep = R"({"jsonrpc":"2.0","method":"echo","id":1,"params":{"value":)" +
                     std::string(200, '[') + std::string(200, ']') + "}}";
  json r = call(deep);
  EXPECT_EQ(r["error"]["code"], kInvalidRequest);
  r = call(R"({"jsonrpc":"2.0","method":"echo","id":"\u00e9","params":{"value":"\ud83d\ude00"}})");
  EXPECT_EQ(r["result"], "\xf0\x9f\x98\x80");
  EXPECT_EQ(r["id"], "\xc3\xa9");
}

TEST(Registry, RegistrationErrors) {
  MethodRegistry reg;
  auto h = [](const json&, Session&) -> absl::StatusOr<json> { return 1; };
  EXPECT_TRUE(reg.register_method({.name = "a"}, h).ok());
  EXPECT_EQ(reg.register_method({.name = "a"}, h).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(reg.register_method({.name = ""}, h).ok());
  EXPECT_FALSE(reg.register_method({.name = "rpc.x"}, h).ok());
  EXPECT_FALSE(
      reg.register_method({.name = "b", .params = {{.name = "x"}, {.name = "x"}}}, h).ok());
  EXPECT_TRUE(reg.has_method("a"));
  EXPECT_EQ(reg.method_names(), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace tern::jsonrpc
