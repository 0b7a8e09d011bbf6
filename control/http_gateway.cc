#include "control/http_gateway.h"

#include <httplib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "control/control_server.h"
#include "control/session.h"
#include "drivers/config_fields.h"
#include "engine/net/endpoint.h"

namespace tern {

absl::StatusOr<HttpConfig> parse_http_config(const toml::table& t, absl::string_view source) {
  ConfigSection sec(t, "http", std::string(source));
  HttpConfig c;
  for (absl::Status s : {sec.only_keys({"listen", "token", "cors_origin", "threads"}),
                         sec.read_string("listen", &c.listen), sec.read_string("token", &c.token),
                         sec.read_string("cors_origin", &c.cors_origin),
                         sec.read_int("threads", 1, 64, &c.threads)}) {
    if (!s.ok()) return s;
  }
  if (!c.listen.empty()) {
    auto ep = Endpoint::parse(c.listen);
    if (!ep.ok()) {
      return sec.error(*t.get("listen"), "listen",
                       absl::StrCat("\"", c.listen,
                                    "\" is not ADDR:PORT (\"127.0.0.1:8080\", "
                                    "\"[::1]:8080\")"));
    }
  }
  for (char ch : c.cors_origin) {
    if (ch < 0x20 || ch == 0x7f) {
      return sec.error(*t.get("cors_origin"), "cors_origin", "control characters not allowed");
    }
  }
  return c;
}

namespace {

HttpReply text(int status, absl::string_view msg) {
  HttpReply r;
  r.status = status;
  r.body = absl::StrCat(msg, "\n");
  return r;
}

HttpReply from_status(const absl::Status& s) {
  int code = 500;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      code = 400;
      break;
    case absl::StatusCode::kNotFound:
      code = 404;
      break;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      code = 409;
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kResourceExhausted:
      code = 503;
      break;
    default:
      break;
  }
  // Handler errors name the JSON-RPC field ("params.offer: line 3: ...");
  // over HTTP the offer is the body.
  absl::string_view msg = s.message();
  absl::ConsumePrefix(&msg, "params.");
  return text(code, msg);
}

// "application/sdp" or "application/sdp; charset=..." (case-insensitive).
bool is_sdp(const std::string& ct) {
  std::string v = absl::AsciiStrToLower(ct.substr(0, ct.find(';')));
  return absl::StripAsciiWhitespace(v) == "application/sdp";
}

}  // namespace

HttpReply execute_http_call(SessionManager& sessions, const HttpCall& c) {
  switch (c.kind) {
    case HttpCall::Kind::kPublish:
    case HttpCall::Kind::kSubscribe: {
      auto r = c.kind == HttpCall::Kind::kPublish ? sessions.publish(c.room, c.offer)
                                                  : sessions.subscribe(c.room, c.offer, "");
      if (!r.ok()) return from_status(r.status());
      HttpReply out;
      out.status = 201;
      out.content_type = "application/sdp";
      out.body = (*r)["answer"].get<std::string>();
      out.location =
          absl::StrCat("/", c.prefix, "/", c.room, "/", (*r)["session_id"].get<std::string>());
      return out;
    }
    case HttpCall::Kind::kClose: {
      if (!sessions.has(c.session) || sessions.room_of(c.session) != c.room) {
        return text(404, absl::StrCat("no session \"", c.session, "\" in room \"", c.room, "\""));
      }
      if (absl::Status s = sessions.close(c.session, absl::StrCat(c.prefix, " DELETE")); !s.ok()) {
        return from_status(s);
      }
      return text(200, "session closed");
    }
  }
  return text(500, "unknown call");
}

HttpGateway::HttpGateway(HttpConfig cfg) : cfg_(std::move(cfg)) {}

HttpGateway::~HttpGateway() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

std::string HttpGateway::endpoint() const {
  return host_.find(':') != std::string::npos ? absl::StrCat("http://[", host_, "]:", port_)
                                              : absl::StrCat("http://", host_, ":", port_);
}

absl::Status HttpGateway::start() {
  auto ep = Endpoint::parse(cfg_.listen);
  if (!ep.ok())
    return absl::InvalidArgumentError(absl::StrCat("http.listen: ", ep.status().message()));
  host_ = ep->addr_string();
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return absl::InternalError("http: eventfd failed");
  svr_ = std::make_unique<httplib::Server>();
  size_t threads = cfg_.threads;
  svr_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_->set_payload_max_length(64 * 1024);
  svr_->set_read_timeout(5, 0);
  svr_->set_write_timeout(5, 0);
  svr_->set_keep_alive_max_count(16);
  // An idle keep-alive connection holds an HTTP thread, and stop() waits
  // for it: keep both short.
  svr_->set_keep_alive_timeout(2);
  svr_->set_default_headers({
      {"Access-Control-Allow-Origin", cfg_.cors_origin},
      {"Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch"},
      {"Cache-Control", "no-store"},
  });
  routes();
  int port = ep->port;
  bool ok =
      port == 0 ? (port = svr_->bind_to_any_port(host_)) > 0 : svr_->bind_to_port(host_, port);
  if (!ok) {
    svr_.reset();
    return absl::InvalidArgumentError(absl::StrCat("http.listen: cannot listen on ", cfg_.listen,
                                                   " (address in use or not local?)"));
  }
  port_ = uint16_t(port);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tern-http");
    svr_->listen_after_bind();
  });
  // stop() before the loop runs would not stop it: wait (bounded) until it does.
  for (int i = 0; i < 2000 && !svr_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::OkStatus();
}

void HttpGateway::stop() {
  std::deque<std::shared_ptr<Pending>> left;
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  for (auto& p : left) p->reply.set_value(text(503, "ternd is stopping"));
  if (svr_) svr_->stop();
  if (thread_.joinable()) thread_.join();
  svr_.reset();
}

size_t HttpGateway::run_pending(const Executor& exec) {
  uint64_t v;
  if (wake_fd_ >= 0) (void)!read(wake_fd_, &v, sizeof(v));
  std::deque<std::shared_ptr<Pending>> todo;
  {
    std::lock_guard<std::mutex> lk(mu_);
    todo.swap(queue_);
  }
  for (auto& p : todo) p->reply.set_value(exec(p->call));
  return todo.size();
}

HttpReply HttpGateway::marshal(HttpCall call) {
  auto p = std::make_shared<Pending>();
  p->call = std::move(call);
  std::future<HttpReply> f = p->reply.get_future();
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_) return text(503, "ternd is stopping");
    queue_.push_back(p);
  }
  stats_.calls.fetch_add(1, std::memory_order_relaxed);
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (f.wait_for(cfg_.call_timeout) != std::future_status::ready) {
    stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
    // The call may still run later; a publish then leaves a session the
    // client never learns about, closed by room.close or session.close.
    return text(503, "ternd did not answer in time; retry");
  }
  return f.get();
}

void HttpGateway::routes() {
  auto authorized = [this](const httplib::Request& req, httplib::Response& res) {
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    if (cfg_.token.empty()) return true;
    std::string h = req.get_header_value("Authorization");
    constexpr absl::string_view kBearer = "Bearer ";
    if (h.size() > kBearer.size() && absl::StartsWithIgnoreCase(h, kBearer) &&
        token_equal(absl::string_view(h).substr(kBearer.size()), cfg_.token)) {
      return true;
    }
    stats_.unauthorized.fetch_add(1, std::memory_order_relaxed);
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content("missing or wrong bearer token (Authorization: Bearer <token>)\n",
                    "text/plain");
    return false;
  };
  auto send = [](httplib::Response& res, const HttpReply& r) {
    res.status = r.status;
    if (!r.location.empty()) res.set_header("Location", r.location);
    res.set_content(r.body, r.content_type.c_str());
  };
  auto not_allowed = [](const char* allow) {
    return [allow](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", allow);
      res.set_content(absl::StrCat("method not allowed; allowed: ", allow, "\n"), "text/plain");
    };
  };
  const std::string room = "([A-Za-z0-9._~-]{1,64})";
  const std::string sess = "([0-9a-f]{1,64})";
  for (const char* prefix : {"whip", "whep"}) {
    std::string ep = absl::StrCat("/", prefix, "/", room);
    std::string res_path = absl::StrCat(ep, "/", sess);
    bool whip = prefix[2] == 'i';
    svr_->Post(ep, [this, prefix, whip, authorized, send](const httplib::Request& req,
                                                          httplib::Response& res) {
      if (!authorized(req, res)) return;
      if (!is_sdp(req.get_header_value("Content-Type"))) {
        res.status = 415;
        res.set_header("Accept-Post", "application/sdp");
        res.set_content("Content-Type must be application/sdp\n", "text/plain");
        return;
      }
      HttpCall c;
      c.kind = whip ? HttpCall::Kind::kPublish : HttpCall::Kind::kSubscribe;
      c.prefix = prefix;
      c.room = req.matches[1];
      c.offer = req.body;
      send(res, marshal(std::move(c)));
    });
    svr_->Delete(res_path, [this, prefix, authorized, send](const httplib::Request& req,
                                                            httplib::Response& res) {
      if (!authorized(req, res)) return;
      HttpCall c;
      c.kind = HttpCall::Kind::kClose;
      c.prefix = prefix;
      c.room = req.matches[1];
      c.session = req.matches[2];
      send(res, marshal(std::move(c)));
    });
    // ICE-lite with every candidate in the answer: no trickle, no restart.
    svr_->Patch(res_path, not_allowed("DELETE, OPTIONS"));
    svr_->Get(res_path, not_allowed("DELETE, OPTIONS"));
    svr_->Post(res_path, not_allowed("DELETE, OPTIONS"));
    svr_->Put(res_path, not_allowed("DELETE, OPTIONS"));
    svr_->Get(ep, not_allowed("POST, OPTIONS"));
    svr_->Put(ep, not_allowed("POST, OPTIONS"));
    svr_->Delete(ep, not_allowed("POST, OPTIONS"));
    svr_->Patch(ep, not_allowed("POST, OPTIONS"));
  }
  // CORS preflight (no credentials are sent with it, so no token check).
  svr_->Options(".*", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match");
    res.set_header("Access-Control-Max-Age", "86400");
    res.set_header("Accept-Post", "application/sdp");
  });
}

}  // namespace tern
