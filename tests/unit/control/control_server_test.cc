#include "control/control_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/worker/worker.h"

namespace tern {
namespace {

using jsonrpc::json;

// A blocking test client with bounded waits.
class TestClient {
 public:
  ~TestClient() { close_fd(); }
  void close_fd() {
    if (fd >= 0) close(fd);
    fd = -1;
  }

  bool connect_unix(const std::string& path) {
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path.c_str());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  bool connect_tcp(uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  }
  void send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may have closed us: tests check the outcome
      off += static_cast<size_t>(n);
    }
  }
  void send_json(const json& j) { send_raw(j.dump() + "\n"); }

  // Reads one line while `pump` runs the server; false on EOF/timeout.
  bool read_line(std::string* line, const std::function<void()>& pump, int timeout_ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      size_t nl = buf.find('\n');
      if (nl != std::string::npos) {
        *line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return true;
      }
      if (eof || std::chrono::steady_clock::now() > deadline) return false;
      pump();
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5) > 0) {
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) eof = true;
        if (n > 0) buf.append(tmp, static_cast<size_t>(n));
      }
    }
  }

  int fd = -1;
  std::string buf;
  bool eof = false;
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tern_ctl_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ternd.sock";
    ASSERT_TRUE(registry_
                    .register_method({.name = "big"},
                                     [](const json&, jsonrpc::Session&) -> absl::StatusOr<json> {
                                       return std::string(100000, 'x');
                                     })
                    .ok());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(ControlServerConfig cfg) {
    if (cfg.unix_path.empty() && cfg.tcp.empty()) cfg.unix_path = path_;
    server_ = std::make_unique<ControlServer>(cfg, registry_);
    absl::Status s = server_->start();
    ASSERT_TRUE(s.ok()) << s;
  }
  void pump() { server_->service(now_); }

  json call(TestClient& c, const json& req) {
    c.send_json(req);
    std::string line;
    if (!c.read_line(&line, [&] { pump(); })) {
      ADD_FAILURE() << "no reply to " << req.dump();
      return json();
    }
    return json::parse(line);
  }
  static json req(const std::string& method, json params = nullptr, json id = 1) {
    json r{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
    if (!params.is_null()) r["params"] = params;
    return r;
  }
  // True if the server closes `c` within the timeout (reading and dropping
  // whatever arrives).
  bool closed_by_server(TestClient& c, int timeout_ms = 3000) {
    std::string line;
    while (c.read_line(
        &line, [&] { pump(); }, timeout_ms)) {
    }
    return c.eof;
  }

  std::string dir_, path_;
  jsonrpc::MethodRegistry registry_;
  std::unique_ptr<ControlServer> server_;
  Nanos now_ = 1000 * kSecond;
};

TEST_F(ControlServerTest, PingOverUnixSocketAndMode0660) {
  start({});
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(server_->endpoints(), std::vector<std::string>{"unix:" + path_});
  TestClient c;
  ASSERT_TRUE(c.connect_unix(path_));
  json r = call(c, req("server.ping"));
  EXPECT_EQ(r["result"]["pong"], true);
  EXPECT_EQ(r["id"], 1);
  EXPECT_EQ(server_->num_clients(), 1u);
}

TEST_F(ControlServerTest, StaleSocketRemovedLiveSocketRefused) {
  // A socket file nobody listens on, as a killed ternd leaves behind.
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path_.c_str());
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  close(s);
  start({});
  TestClient c;
  ASSERT_TRUE(c.connect_unix(path_));
  EXPECT_EQ(call(c, req("server.ping"))["result"]["pong"], true);

  jsonrpc::MethodRegistry other;
  ControlServer second({.unix_path = path_}, other);
  absl::Status st = second.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("another ternd is listening on " + path_), std::string::npos) << st;
  // The live socket still works and still exists.
  EXPECT_EQ(call(c, req("server.ping", nullptr, 2))["id"], 2);
}

TEST_F(ControlServerTest, RefusesNonSocketFileAndLongPath) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fclose(f);
  }
  jsonrpc::MethodRegistry reg;
  ControlServer a({.unix_path = path_}, reg);
  absl::Status st = a.start();
  EXPECT_NE(st.message().find("exists and is not a socket"), std::string::npos) << st;
  ControlServer b({.unix_path = dir_ + "/" + std::string(120, 'x')}, reg);
  st = b.start();
  EXPECT_NE(st.message().find("control.socket"), std::string::npos) << st;
}

TEST_F(ControlServerTest, DestructorRemovesSocketFile) {
  start({});
  EXPECT_TRUE(std::filesystem::exists(path_));
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// Scripts wait for the socket file and connect at once: the file must not
// exist before the socket listens (bound under a staging name, renamed into
// place). A watcher on the other core connects the instant the file shows
// up; over many starts a bind-then-listen server would get refused now and
// then.
TEST_F(ControlServerTest, SocketFileAppearsOnlyOnceItListens) {
  std::atomic<bool> done{false};
  std::atomic<int> seen{0}, refused{0};
  std::thread watcher([&] {
    while (!done.load()) {
      if (access(path_.c_str(), F_OK) != 0) continue;
      int s = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path_.c_str());
      if (connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0) {
        seen.fetch_add(1);
      } else if (errno == ECONNREFUSED && access(path_.c_str(), F_OK) == 0) {
        refused.fetch_add(1);  // the file was there and still is: nobody listened
      }
      close(s);
      while (!done.load() && access(path_.c_str(), F_OK) == 0) std::this_thread::yield();
    }
  });
  for (int i = 0; i < 300; ++i) {
    jsonrpc::MethodRegistry reg;
    ControlServer srv({.unix_path = path_}, reg);
    const int before = seen.load() + refused.load();
    ASSERT_TRUE(srv.start().ok());
    // Give the watcher its connect (a few ms at most) before the server goes.
    for (int k = 0; k < 200 && seen.load() + refused.load() == before; ++k) usleep(20);
  }
  done.store(true);
  watcher.join();
  EXPECT_EQ(refused.load(), 0) << "connects refused on a socket file that existed";
  EXPECT_GT(seen.load(), 0);
  // No staging name is left next to the socket.
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    ADD_FAILURE() << "left behind: " << e.path();
}

// A path with no room for the staging name is bound directly, and works.
TEST_F(ControlServerTest, LongPathWithoutRoomForStagingNameStillWorks) {
  std::string p = dir_ + "/";
  p += std::string(sizeof(sockaddr_un{}.sun_path) - 2 - p.size(), 's');  // 106 bytes + NUL
  start({.unix_path = p});
  TestClient c;
  ASSERT_TRUE(c.connect_unix(p));
  EXPECT_EQ(call(c, req("server.ping"))["result"]["pong"], true);
}

TEST_F(ControlServerTest, MalformedJsonThenStillServes) {
  start({});
  TestClient c;
  ASSERT_TRUE(c.connect_unix(path_));
  c.send_raw("{\"jsonrpc\":\"2.0\",\"method\":\n");
  std::string line;
  ASSERT_TRUE(c.read_line(&line, [&] { pump(); }));
  json r = json::parse(line);
  EXPECT_EQ(r["error"]["code"], jsonrpc::kParseError);
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_EQ(call(c, req("server.ping"))["result"]["pong"], true);
}

TEST_F(ControlServerTest, LineTooLongGetsErrorAndClose) {
  start({.max_line = 1024});
  TestClient c;
  ASSERT_TRUE(c.connect_unix(path_));
  c.send_raw(std::string(4096, 'a'));
  std::string line;
  ASSERT_TRUE(c.read_line(&line, [&] { pump(); }));
  json r = json::parse(line);
  EXPECT_EQ(r["error"]["code"], jsonrpc::kInvalidRequest);
  EXPECT_NE(r["error"]["data"]["reason"].get<std::string>().find("line longer than 1024"),
            std::string::npos);
  EXPECT_TRUE(closed_by_server(c));
  EXPECT_EQ(server_->stats().closed_line_too_long, 1u);
}

TEST_F(ControlServerTest, HalfClosedClientStillGetsItsReply) {
  start({});
  TestClient c;
  ASSERT_TRUE(c.connect_unix(path_));
  c.send_json(req("server.ping", nullptr, 7));
  shutdown(c.fd, SHUT_WR);
  std::string line;
  ASSERT_TRUE(c.read_line(&line, [&] { pump(); }));
  EXPECT_EQ(json::parse(line)["id"], 7);
  EXPECT_TRUE(closed_by_server(c));
  for (int i = 0; i < 10 && server_->num_clients(); ++i) pump();
  EXPECT_EQ(server_->num_clients(), 0u);
}

TEST_F(ControlServerTest, SlowReaderIsDisconnectedOthersUnaffected) {
  start({.max_pending_output = 256 * 1024});
  TestClient slow, fast;
  ASSERT_TRUE(slow.connect_unix(path_));
  ASSERT_TRUE(fast.connect_unix(path_));
  int small = 4096;
  setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  EXPECT_EQ(call(slow, req("events.subscribe", json{{"topics", {"server"}}}))["result"]["topics"],
            json({"server"}));
  // The slow client never reads again; events pile up.
  json data{{"blob", std::string(10000, 'e')}};
  for (int i = 0; i < 500 && server_->num_clients() == 2; ++i) {
    server_->publish("server", data);
    pump();
  }
  EXPECT_EQ(server_->num_clients(), 1u);
  EXPECT_EQ(server_->stats().closed_slow, 1u);
  EXPECT_EQ(call(fast, req("server.ping"))["result"]["pong"], true);
  // Pipelined requests whose replies are never read: same treatment.
  TestClient greedy;
  ASSERT_TRUE(greedy.connect_unix(path_));
  setsockopt(greedy.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::string many;
  for (int i = 0; i < 40; ++i) many += req("big", nullptr, i).dump() + "\n";
  greedy.send_raw(many);
  for (int i = 0; i < 200 && server_->stats().closed_slow < 2; ++i) {
    pump();
    usleep(1000);
  }
  EXPECT_EQ(server_->stats().closed_slow, 2u);
  EXPECT_EQ(call(fast, req("server.ping", nullptr, 3))["id"], 3);
}

TEST_F(ControlServerTest, ClientLimit) {
  start({.max_clients = 8});
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<TestClient>());
    ASSERT_TRUE(clients.back()->connect_unix(path_));
    EXPECT_EQ(call(*clients.back(), req("server.ping", nullptr, i))["id"], i);
  }
  TestClient extra;
  ASSERT_TRUE(extra.connect_unix(path_));
  std::string line;
  ASSERT_TRUE(extra.read_line(&line, [&] { pump(); }));
  EXPECT_EQ(json::parse(line)["error"]["code"], jsonrpc::kResourceExhausted);
  EXPECT_TRUE(closed_by_server(extra));
  EXPECT_EQ(server_->stats().rejected_full, 1u);
  // One leaves, another may come in.
  clients[0]->close_fd();
  for (int i = 0; i < 50 && server_->num_clients() == 8; ++i) {
    pump();
    usleep(1000);
  }
  TestClient later;
  ASSERT_TRUE(later.connect_unix(path_));
  EXPECT_EQ(call(later, req("server.ping", nullptr, 99))["id"], 99);
}

TEST_F(ControlServerTest, GarbageNeverCrashes) {
  start({.max_line = 4096});
  std::mt19937 rng(42);
  for (int conn = 0; conn < 20; ++conn) {
    TestClient c;
    ASSERT_TRUE(c.connect_unix(path_));
    std::string bytes;
    for (int i = 0; i < 6000; ++i) {
      // Mostly JSON-ish punctuation, some newlines, some raw bytes.
      static const char kAlphabet[] = "{}[]\":,0123456789.-eE truefalsnul\\u\n\n\xff\x00";
      bytes.push_back(rng() % 4 ? kAlphabet[rng() % (sizeof(kAlphabet) - 1)]
                                : static_cast<char>(rng()));
    }
    c.send_raw(bytes);
    for (int i = 0; i < 20; ++i) pump();
  }
  for (int i = 0; i < 50 && server_->num_clients() > 0; ++i) {
    pump();
    usleep(1000);
  }
  TestClient ok;
  ASSERT_TRUE(ok.connect_unix(path_));
  EXPECT_EQ(call(ok, req("server.ping"))["result"]["pong"], true);
}

TEST_F(ControlServerTest, TcpRequiresAuth) {
  start({.unix_path = path_, .tcp = "127.0.0.1:0", .token = "s3cret-token"});
  ASSERT_NE(server_->tcp_port(), 0);
  EXPECT_EQ(server_->endpoints().size(), 2u);
  TestClient c;
  ASSERT_TRUE(c.connect_tcp(server_->tcp_port()));
  json r = call(c, req("server.ping"));
  EXPECT_EQ(r["error"]["code"], jsonrpc::kUnauthorized);
  r = call(c, req("stats.get"));
  EXPECT_EQ(r["error"]["code"], jsonrpc::kUnauthorized);  // even unknown methods: no probing
  r = call(c, req("auth", json{{"token", "wrong"}}));
  EXPECT_EQ(r["error"]["code"], jsonrpc::kUnauthorized);
  EXPECT_TRUE(closed_by_server(c));  // one try per connection
  EXPECT_EQ(server_->stats().closed_auth_failed, 1u);

  TestClient good;
  ASSERT_TRUE(good.connect_tcp(server_->tcp_port()));
  r = call(good, req("auth", json{{"token", "s3cret-token"}}));
  EXPECT_EQ(r["result"]["authenticated"], true);
  EXPECT_EQ(call(good, req("server.ping"))["result"]["pong"], true);
  // Unix clients need no token.
  TestClient u;
  ASSERT_TRUE(u.connect_unix(path_));
  EXPECT_EQ(call(u, req("server.ping"))["result"]["pong"], true);
}

TEST_F(ControlServerTest, TcpClientThatNeverAuthenticatesIsClosed) {
  start({.tcp = "127.0.0.1:0", .token = "t"});
  TestClient c;
  ASSERT_TRUE(c.connect_tcp(server_->tcp_port()));
  for (int i = 0; i < 50 && server_->num_clients() == 0; ++i) {
    pump();
    usleep(1000);
  }
  ASSERT_EQ(server_->num_clients(), 1u);
  now_ += 11 * kSecond;
  std::string line;
  ASSERT_TRUE(c.read_line(&line, [&] { pump(); }));
  EXPECT_EQ(json::parse(line)["error"]["code"], jsonrpc::kUnauthorized);
  now_ += 2 * kSecond;
  EXPECT_TRUE(closed_by_server(c));
}

TEST(ControlServerConfig, TcpWithoutTokenIsAnError) {
  jsonrpc::MethodRegistry reg;
  ControlServer s({.tcp = "127.0.0.1:0"}, reg);
  absl::Status st = s.start();
  EXPECT_NE(st.message().find("control.token"), std::string::npos) << st;
  ControlServer bad({.tcp = "localhost", .token = "x"}, reg);
  st = bad.start();
  EXPECT_NE(st.message().find("control.tcp"), std::string::npos) << st;
}

TEST_F(ControlServerTest, EventsWithTopicFiltersAndPeriodicStats) {
  start({});
  int stats_calls = 0;
  server_->set_stats_source([&] { return json{{"n", ++stats_calls}}; });
  TestClient all, server_only;
  ASSERT_TRUE(all.connect_unix(path_));
  ASSERT_TRUE(server_only.connect_unix(path_));
  json r = call(all, req("events.subscribe", json{{"stats_interval_s", 2}}));
  EXPECT_EQ(r["result"]["topics"], json({"server", "stats"}));
  EXPECT_EQ(r["result"]["stats_interval_s"], 2);
  r = call(server_only, req("events.subscribe", json{{"topics", {"server"}}}));
  EXPECT_EQ(r["result"]["topics"], json({"server"}));
  r = call(server_only, req("events.subscribe", json{{"topics", {"bogus"}}}));
  EXPECT_EQ(r["error"]["data"]["field"], "params.topics[0]");

  EXPECT_EQ(server_->next_deadline(), now_ + 2 * kSecond);
  now_ += 2 * kSecond;
  std::string line;
  ASSERT_TRUE(all.read_line(&line, [&] { pump(); }));
  json ev = json::parse(line);
  EXPECT_EQ(ev["method"], "event");
  EXPECT_FALSE(ev.contains("id"));
  EXPECT_EQ(ev["params"]["topic"], "stats");
  EXPECT_EQ(ev["params"]["data"]["n"], 1);
  EXPECT_EQ(server_->next_deadline(), now_ + 2 * kSecond);

  server_->publish("server", json{{"state", "stopping"}});
  ASSERT_TRUE(all.read_line(&line, [&] { pump(); }));
  EXPECT_EQ(json::parse(line)["params"]["data"]["state"], "stopping");
  ASSERT_TRUE(server_only.read_line(&line, [&] { pump(); }));
  ev = json::parse(line);
  EXPECT_EQ(ev["params"]["topic"], "server");  // no stats event came before it
  EXPECT_GT(ev["params"]["seq"].get<uint64_t>(), 1u);

  r = call(all, req("events.unsubscribe", json{{"topics", {"stats"}}}));
  EXPECT_EQ(r["result"]["topics"], json({"server"}));
  EXPECT_EQ(server_->next_deadline(), kNever);
  now_ += 10 * kSecond;
  pump();
  EXPECT_EQ(stats_calls, 1);
}

// ternd's topics include the datachannel.* ones (19 bytes): a client can
// name them (a per-item limit of 16 bytes once refused them), and gets them.
TEST_F(ControlServerTest, LongTopicNamesSubscribeAndDeliver) {
  ControlServerConfig cfg;
  cfg.topics = {"server", "datachannel.message", "datachannel.close"};
  start(cfg);
  TestClient c;
  ASSERT_TRUE(c.connect_unix(path_));
  json r = call(c, req("events.subscribe", json{{"topics", {"datachannel.message"}}}));
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["topics"], json({"datachannel.message"}));
  server_->publish("datachannel.close", json{{"stream", 1}});  // not subscribed
  server_->publish("datachannel.message", json{{"text", "hi"}});
  std::string line;
  ASSERT_TRUE(c.read_line(&line, [&] { pump(); }));
  json ev = json::parse(line);
  EXPECT_EQ(ev["params"]["topic"], "datachannel.message");
  EXPECT_EQ(ev["params"]["data"]["text"], "hi");
  r = call(c, req("events.unsubscribe", json{{"topics", {"datachannel.message"}}}));
  EXPECT_EQ(r["result"]["topics"], json::array());
}

TEST(TokenEqual, ComparesWholeTokens) {
  EXPECT_TRUE(token_equal("abc", "abc"));
  EXPECT_FALSE(token_equal("abd", "abc"));
  EXPECT_FALSE(token_equal("ab", "abc"));
  EXPECT_FALSE(token_equal("abcd", "abc"));
  EXPECT_FALSE(token_equal("", ""));  // an empty token never authenticates
}

TEST(DefaultControlSocket, DependsOnUser) {
  std::string p = default_control_socket();
  if (geteuid() == 0) {
    EXPECT_EQ(p, "/run/tern/ternd.sock");
  } else {
    EXPECT_NE(p.find("/tern"), std::string::npos);
  }
}

}  // namespace
}  // namespace tern
