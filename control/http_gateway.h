// WHIP (RFC 9725) and WHEP ingest/egress over HTTP, on cpp-httplib.
//
//   POST   /whip/{room}            application/sdp offer -> 201, Location, answer
//   POST   /whep/{room}            (recvonly offer)      -> 201, Location, answer
//   DELETE /whip/{room}/{session}  (and /whep/...)       -> 200, session closed
//   PATCH  on a session            -> 405 (ICE-lite: every candidate is in the
//                                     answer; no trickle, no ICE restart)
//   OPTIONS anything               -> 204 with CORS headers
// Errors are text/plain with the reason: 400 bad SDP or room name, 401 bad or
// missing bearer token, 404 unknown room (WHEP) or session, 405 wrong method,
// 409 nothing in the room for a WHEP offer, 415 not application/sdp, 413 body
// over 64 KiB, 503 ternd busy or stopping. docs/control-protocol.md has the
// details.
//
// Threads: cpp-httplib serves on its own threads (a small pool). They never
// touch the managers or the workers: each request becomes an HttpCall queued
// under a mutex, the eventfd wake_fd() wakes ternd's main poll loop, and the
// main thread runs run_pending(), which executes the calls one by one
// (SessionManager is single-threaded) and hands each reply back. The HTTP
// thread waits for it at most call_timeout.
#pragma once

#include <toml++/toml.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace tern {

class SessionManager;

// [http] (docs/configuration.md). No [http] section (or listen = ""): no
// HTTP listener.
struct HttpConfig {
  std::string listen;             // "127.0.0.1:8080", "[::1]:8080"; port 0 = any
  std::string token;              // bearer token; "" = no authentication
  std::string cors_origin = "*";  // Access-Control-Allow-Origin
  uint32_t threads = 4;           // HTTP threads (one per open connection)
  std::chrono::milliseconds call_timeout{10000};
};
absl::StatusOr<HttpConfig> parse_http_config(const toml::table& t, absl::string_view source);

// One WHIP/WHEP operation, executed on the main thread.
struct HttpCall {
  enum class Kind : uint8_t { kPublish, kSubscribe, kClose };
  Kind kind = Kind::kPublish;
  std::string prefix;  // "whip" / "whep": the Location's first segment
  std::string room;
  std::string offer;    // publish / subscribe
  std::string session;  // close
};

struct HttpReply {
  int status = 500;
  std::string content_type = "text/plain";
  std::string body;
  std::string location;  // 201 only
};

// What a call does, given the sessions (main thread). Pure mapping from
// SessionManager results to HTTP; unit-tested without sockets.
HttpReply execute_http_call(SessionManager& sessions, const HttpCall& call);

struct HttpGatewayStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> calls{0};         // marshalled to the main thread
  std::atomic<uint64_t> unauthorized{0};  // 401
  std::atomic<uint64_t> timeouts{0};      // main thread did not answer in time
};

class HttpGateway {
 public:
  using Executor = std::function<HttpReply(const HttpCall&)>;

  explicit HttpGateway(HttpConfig cfg);
  ~HttpGateway();  // stop()
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  // Binds (errors name http.listen) and starts serving on its own thread.
  absl::Status start();
  // Fails queued and future calls with 503, stops the server, joins.
  void stop();

  // Readable (eventfd) when calls wait for run_pending().
  int wake_fd() const { return wake_fd_; }
  // Main thread: executes every queued call. Returns how many.
  size_t run_pending(const Executor& exec);

  // "http://127.0.0.1:8080" (the bound port).
  std::string endpoint() const;
  uint16_t port() const { return port_; }
  const HttpGatewayStats& stats() const { return stats_; }

 private:
  struct Pending {
    HttpCall call;
    std::promise<HttpReply> reply;
  };
  // HTTP threads: queue the call, wake the main thread, wait for the reply.
  HttpReply marshal(HttpCall call);
  void routes();

  HttpConfig cfg_;
  std::unique_ptr<httplib::Server> svr_;
  std::thread thread_;
  int wake_fd_ = -1;
  std::string host_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::deque<std::shared_ptr<Pending>> queue_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  HttpGatewayStats stats_;
};

}  // namespace tern
