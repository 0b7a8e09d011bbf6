// WHIP/WHEP gateway: a real server on 127.0.0.1 (port 0) and cpp-httplib's
// client on another thread; the test thread plays ternd's main loop
// (poll(wake_fd) -> run_pending). Status codes, headers, token, CORS, and
// that the managers only ever run on the main thread.
#include "control/http_gateway.h"

#include <httplib.h>
#include <poll.h>

#include <atomic>
#include <functional>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "control/sdp/sdp_parser.h"
#include "tests/unit/control/sfu_fixture.h"

namespace tern {
namespace {

using jsonrpc::json;
using testing_sfu::read_offer;
using testing_sfu::SfuFixture;

class HttpTest : public SfuFixture {
 protected:
  void start(std::string token = "") {
    HttpConfig c;
    c.listen = "127.0.0.1:0";
    c.token = std::move(token);
    gw_ = std::make_unique<HttpGateway>(c);
    absl::Status s = gw_->start();
    if (!s.ok()) GTEST_SKIP() << "cannot listen on 127.0.0.1: " << s;
    main_ = std::this_thread::get_id();
  }
  void TearDown() override {
    if (gw_) gw_->stop();
    SfuFixture::TearDown();
  }
  // Runs `request` on a client thread while this thread serves the queue,
  // as ternd's main loop does. Bounded: 10 s.
  httplib::Result run(std::function<httplib::Result(httplib::Client&)> request) {
    httplib::Client cli("127.0.0.1", gw_->port());
    cli.set_read_timeout(10, 0);
    auto fut = std::async(std::launch::async, [&] { return request(cli); });
    for (int i = 0; i < 1000; ++i) {
      if (fut.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready) break;
      pollfd p{gw_->wake_fd(), POLLIN, 0};
      if (poll(&p, 1, 10) > 0) {
        gw_->run_pending([this](const HttpCall& c) {
          EXPECT_EQ(std::this_thread::get_id(), main_);
          return execute_http_call(*sessions_, c);
        });
      }
    }
    return fut.get();
  }
  httplib::Result post(const std::string& path, const std::string& body,
                       const char* type = "application/sdp", httplib::Headers h = {}) {
    return run([&](httplib::Client& c) { return c.Post(path.c_str(), h, body, type); });
  }

  std::unique_ptr<HttpGateway> gw_;
  std::thread::id main_;
};

TEST_F(HttpTest, WhipWhepRoundTrip) {
  start();
  auto r = post("/whip/live", read_offer("chrome_whip_simulcast.sdp"));
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/sdp");
  std::string loc = r->get_header_value("Location");
  EXPECT_TRUE(absl::StartsWith(loc, "/whip/live/")) << loc;
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "*");
  auto answer = sdp::parse_sdp(r->body);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->ice_lite);
  EXPECT_EQ(sessions_->size(), 1u);

  auto w = post("/whep/live", read_offer("chrome_whep_recvonly.sdp"));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->status, 201) << w->body;
  std::string wloc = w->get_header_value("Location");
  EXPECT_TRUE(absl::StartsWith(wloc, "/whep/live/")) << wloc;
  EXPECT_TRUE(absl::StrContains(w->body, "a=sendonly"));
  EXPECT_EQ(sfu_->num_consumers(), 2u);

  // DELETE: 200, then 404; a session under another room is not found.
  auto d = run([&](httplib::Client& c) { return c.Delete(wloc.c_str()); });
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 200);
  d = run([&](httplib::Client& c) { return c.Delete(wloc.c_str()); });
  EXPECT_EQ(d->status, 404);
  std::string other = "/whip/other/" + loc.substr(loc.rfind('/') + 1);
  d = run([&](httplib::Client& c) { return c.Delete(other.c_str()); });
  EXPECT_EQ(d->status, 404);
  d = run([&](httplib::Client& c) { return c.Delete(loc.c_str()); });
  EXPECT_EQ(d->status, 200);
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(sfu_->num_rooms(), 0u);
  EXPECT_EQ(transports_->size(), 0u);
}

TEST_F(HttpTest, Errors) {
  start();
  auto r = post("/whip/live", "v=0\r\nbogus\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(absl::StartsWith(r->body, "offer: line 2")) << r->body;
  r = post("/whip/live", read_offer("chrome_whip_simulcast.sdp"), "application/json");
  EXPECT_EQ(r->status, 415);
  r = post("/whep/nope", read_offer("chrome_whep_recvonly.sdp"));
  EXPECT_EQ(r->status, 404) << r->body;
  r = post("/whip/a%20b", read_offer("chrome_whip_simulcast.sdp"));
  EXPECT_EQ(r->status, 404);  // not a room path
  r = post(std::string("/whip/") + std::string(65, 'a'), "x");
  EXPECT_EQ(r->status, 404);
  r = post("/whip/live", std::string(70 * 1024, 'a'));
  EXPECT_EQ(r->status, 413);
  auto g = run([](httplib::Client& c) { return c.Get("/whip/live"); });
  EXPECT_EQ(g->status, 405);
  EXPECT_EQ(g->get_header_value("Allow"), "POST, OPTIONS");
  auto p = run([](httplib::Client& c) {
    return c.Patch("/whip/live/abcdef", "a=end-of-candidates\r\n",
                   "application/trickle-ice-sdpfrag");
  });
  EXPECT_EQ(p->status, 405);
  auto o = run([](httplib::Client& c) { return c.Options("/whip/live"); });
  EXPECT_EQ(o->status, 204);
  EXPECT_TRUE(absl::StrContains(o->get_header_value("Access-Control-Allow-Methods"), "DELETE"));
  EXPECT_TRUE(
      absl::StrContains(o->get_header_value("Access-Control-Allow-Headers"), "Authorization"));
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(sfu_->num_rooms(), 0u);
}

TEST_F(HttpTest, BearerToken) {
  start("s3cret");
  std::string offer = read_offer("chrome_whip_simulcast.sdp");
  auto r = post("/whip/live", offer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  r = post("/whip/live", offer, "application/sdp", {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(sessions_->size(), 0u);
  r = post("/whip/live", offer, "application/sdp", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(r->status, 201);
  auto d =
      run([&](httplib::Client& c) { return c.Delete(r->get_header_value("Location").c_str()); });
  EXPECT_EQ(d->status, 401);  // DELETE needs the token too
  EXPECT_EQ(gw_->stats().unauthorized.load(), 3u);
}

TEST_F(HttpTest, StopAnswersPendingWith503) {
  start();
  httplib::Client cli("127.0.0.1", gw_->port());
  cli.set_read_timeout(10, 0);
  std::string offer = read_offer("chrome_whip_simulcast.sdp");
  auto fut = std::async(std::launch::async,
                        [&] { return cli.Post("/whip/live", offer, "application/sdp"); });
  // Wait until the call is queued, never serve it, then stop.
  pollfd p{gw_->wake_fd(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 5000), 1);
  gw_->stop();
  auto r = fut.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(sessions_->size(), 0u);
}

}  // namespace
}  // namespace tern

namespace tern {
namespace {

absl::StatusOr<HttpConfig> parse(const char* text) {
  toml::table t = toml::parse(text);
  const toml::table* h = t["http"].as_table();
  return parse_http_config(h ? *h : toml::table{}, "test.toml");
}

TEST(HttpConfigTest, Keys) {
  auto c = parse("[http]\nlisten = \"127.0.0.1:8080\"\ntoken = \"x\"\nthreads = 4\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen, "127.0.0.1:8080");
  EXPECT_EQ(c->token, "x");
  EXPECT_EQ(c->threads, 4u);
  EXPECT_EQ(c->cors_origin, "*");
  auto off = parse("");
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->listen.empty());  // no listener
  for (const char* bad : {"[http]\nlisten = \"localhost\"\n", "[http]\nlisten = 8080\n",
                          "[http]\nthreads = 0\n", "[http]\nport = 1\n"}) {
    auto r = parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(absl::StrContains(r.status().message(), "http.")) << r.status();
  }
}

}  // namespace
}  // namespace tern
