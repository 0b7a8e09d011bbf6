#include "control/control_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/net/endpoint.h"

namespace tern {

using jsonrpc::json;
using jsonrpc::ParamType;
using jsonrpc::Session;

namespace {

constexpr uint64_t kUnixListener = UINT64_MAX;
constexpr uint64_t kTcpListener = UINT64_MAX - 1;
constexpr Nanos kAuthTimeout = 10 * kSecond;   // TCP client must auth within this
constexpr Nanos kLingerTimeout = 1 * kSecond;  // closing client: time to read our last words
constexpr uint32_t kDefaultStatsInterval = 5;

std::string errno_text(int e) { return std::strerror(e); }

int64_t unix_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ControlServer::Client {
  uint64_t id = 0;
  int fd = -1;
  bool tcp = false;
  Session session;
  jsonrpc::LineSplitter splitter;
  std::string out;  // queued output; out_pos bytes of it already sent
  size_t out_pos = 0;
  uint32_t interest = 0;          // current epoll events
  bool closing = false;           // no more requests; flush, shut down writes, wait for EOF
  bool shut_wr = false;           // closing and everything sent: write side shut down
  bool eof = false;               // the client half-closed; close once our output is sent
  Nanos close_deadline = kNever;  // closing: closed at this time at the latest
  Nanos auth_deadline = kNever;

  explicit Client(size_t max_line) : splitter(max_line) {}
  size_t pending() const { return out.size() - out_pos; }
};

bool token_equal(absl::string_view presented, absl::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof(a)) == 0 && !expected.empty();
}

std::string default_control_socket() {
  if (geteuid() == 0) return "/run/tern/ternd.sock";
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && xdg[0] == '/') return absl::StrCat(xdg, "/tern/ternd.sock");
  return absl::StrCat("/tmp/tern-", geteuid(), "/ternd.sock");
}

ControlServer::ControlServer(ControlServerConfig cfg, jsonrpc::MethodRegistry& registry)
    : cfg_(std::move(cfg)), registry_(registry) {}

ControlServer::~ControlServer() {
  for (auto& [id, c] : clients_) close(c->fd);
  clients_.clear();
  if (unix_fd_ >= 0) close(unix_fd_);
  if (tcp_fd_ >= 0) close(tcp_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  // Remove the socket file only if it is still the one we bound (a newer
  // ternd may have replaced it).
  struct stat st;
  if (unix_bound_ && lstat(cfg_.unix_path.c_str(), &st) == 0 && st.st_dev == unix_dev_ &&
      st.st_ino == unix_ino_) {
    unlink(cfg_.unix_path.c_str());
  }
}

absl::Status ControlServer::start() {
  if (cfg_.unix_path.empty() && cfg_.tcp.empty()) {
    return absl::InvalidArgumentError("control: neither socket nor tcp is set");
  }
  if (!cfg_.tcp.empty() && cfg_.token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("control.token: required when control.tcp is set (tcp = \"", cfg_.tcp, "\")"));
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", errno_text(errno)));
  if (!cfg_.unix_path.empty()) {
    if (auto s = listen_unix(); !s.ok()) return s;
  }
  if (!cfg_.tcp.empty()) {
    if (auto s = listen_tcp(); !s.ok()) return s;
  }
  return register_builtins();
}

absl::Status ControlServer::listen_unix() {
  const std::string& path = cfg_.unix_path;
  auto err = [&](absl::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat("control.socket (--control-socket): ", what));
  };
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof(sa.sun_path)) {
    return err(absl::StrCat(path, " is ", path.size(), " bytes; a Unix socket path must be under ",
                            sizeof(sa.sun_path)));
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);

  // The directory: created (one level, 0750) if missing.
  std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) {
    if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      return err(absl::StrCat("cannot create directory ", dir, ": ", errno_text(errno)));
    }
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return err(absl::StrCat(dir, " is not a directory"));
    }
  }

  // An existing file: a live ternd (connect succeeds) is an error; a stale
  // socket from a dead one is removed; anything else is left alone.
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return err(absl::StrCat(path, " exists and is not a socket"));
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return err(absl::StrCat("socket: ", errno_text(errno)));
    int rc = connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    int e = errno;
    close(probe);
    if (rc == 0 || e == EAGAIN) {
      return err(absl::StrCat("another ternd is listening on ", path,
                              " (stop it, or give this one another --control-socket)"));
    }
    if (e != ECONNREFUSED) return err(absl::StrCat("cannot probe ", path, ": ", errno_text(e)));
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return err(absl::StrCat("cannot remove stale socket ", path, ": ", errno_text(errno)));
    }
  }

  unix_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (unix_fd_ < 0) return err(absl::StrCat("socket: ", errno_text(errno)));
  // The socket appears at `path` only once it listens: whoever waits for the
  // file (scripts, supervisors) may connect as soon as they see it. So bind
  // a name of our own next to it, listen, then rename() it into place (the
  // socket keeps its inode). A path too long for the temporary name is bound
  // directly (a connect in the instant before listen() is then refused).
  const std::string tmp = absl::StrCat(path, ".", getpid(), ".tmp");
  const bool staged = tmp.size() < sizeof(sa.sun_path);
  sockaddr_un bind_sa = sa;
  if (staged) {
    std::memcpy(bind_sa.sun_path, tmp.c_str(), tmp.size() + 1);
    unlink(tmp.c_str());  // left by a ternd with our pid that died here
  }
  const std::string& bound = staged ? tmp : path;
  // Bind with a umask that yields the wanted mode, so the socket is never
  // reachable with wider permissions, then chmod for good measure.
  mode_t old_mask = umask(0777 & ~cfg_.unix_mode);
  int rc = bind(unix_fd_, reinterpret_cast<sockaddr*>(&bind_sa), sizeof(bind_sa));
  int e = errno;
  umask(old_mask);
  if (rc != 0) return err(absl::StrCat("bind ", bound, ": ", errno_text(e)));
  auto unbind_tmp = [&](absl::Status s) {
    if (staged) unlink(tmp.c_str());
    return s;
  };
  if (chmod(bound.c_str(), cfg_.unix_mode) != 0) {
    return unbind_tmp(err(absl::StrCat("chmod ", bound, ": ", errno_text(errno))));
  }
  if (listen(unix_fd_, 64) != 0) {
    return unbind_tmp(err(absl::StrCat("listen: ", errno_text(errno))));
  }
  if (staged && rename(tmp.c_str(), path.c_str()) != 0) {
    return unbind_tmp(err(absl::StrCat("rename ", tmp, " to ", path, ": ", errno_text(errno))));
  }
  unix_bound_ = true;
  if (lstat(path.c_str(), &st) == 0) {
    unix_dev_ = st.st_dev;
    unix_ino_ = st.st_ino;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kUnixListener;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, unix_fd_, &ev) != 0) {
    return err(absl::StrCat("epoll_ctl: ", errno_text(errno)));
  }
  return absl::OkStatus();
}

absl::Status ControlServer::listen_tcp() {
  auto err = [&](absl::string_view what) {
    return absl::FailedPreconditionError(absl::StrCat("control.tcp: ", what));
  };
  auto ep = Endpoint::parse(cfg_.tcp);
  if (!ep.ok() || (!cfg_.tcp.empty() && cfg_.tcp.find(':') == std::string::npos)) {
    return absl::InvalidArgumentError(
        absl::StrCat("control.tcp: expected ADDR:PORT like 127.0.0.1:7000 or [::1]:7000, got \"",
                     cfg_.tcp, "\""));
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (ep->is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(ep->port);
    std::memcpy(&sin->sin_addr, ep->addr, 4);
    len = sizeof(*sin);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(ep->port);
    std::memcpy(&sin6->sin6_addr, ep->addr, 16);
    len = sizeof(*sin6);
  }
  tcp_fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (tcp_fd_ < 0) return err(absl::StrCat("socket: ", errno_text(errno)));
  int one = 1;
  setsockopt(tcp_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(tcp_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return err(absl::StrCat("bind ", cfg_.tcp, ": ", errno_text(errno)));
  }
  if (listen(tcp_fd_, 64) != 0) return err(absl::StrCat("listen: ", errno_text(errno)));
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  getsockname(tcp_fd_, reinterpret_cast<sockaddr*>(&bound), &blen);
  tcp_port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                            : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  Endpoint b = *ep;
  b.port = tcp_port_;
  tcp_bound_ = b.to_string();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTcpListener;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tcp_fd_, &ev) != 0) {
    return err(absl::StrCat("epoll_ctl: ", errno_text(errno)));
  }
  return absl::OkStatus();
}

absl::Status ControlServer::register_builtins() {
  absl::Status s = registry_.register_method(
      {.name = "auth",
       .params = {{.name = "token",
                   .type = ParamType::kString,
                   .required = true,
                   .doc = "the bearer token of [control] token"}},
       .allow_unauthenticated = true,
       .summary = "authenticate a TCP connection"},
      [this](const json& p, Session& session) -> absl::StatusOr<json> {
        if (session.authenticated) return json{{"authenticated", true}};
        if (!token_equal(p["token"].get_ref<const std::string&>(), cfg_.token)) {
          // One try per connection: a guesser must reconnect every time.
          session.close_after_reply = true;
          ++stats_.closed_auth_failed;
          return absl::PermissionDeniedError("auth: wrong token; closing the connection");
        }
        session.authenticated = true;
        return json{{"authenticated", true}};
      });
  if (!s.ok()) return s;

  s = registry_.register_method({.name = "server.ping", .summary = "liveness check"},
                                [](const json&, Session&) -> absl::StatusOr<json> {
                                  return json{{"pong", true}, {"time_ms", unix_time_ms()}};
                                });
  if (!s.ok()) return s;

  s = registry_.register_method(
      {.name = "events.subscribe",
       .params = {{.name = "topics",
                   .type = ParamType::kStringArray,
                   .max_length = 64,  // items and bytes of each (datachannel.message)
                   .one_of = cfg_.topics,
                   .doc = "topics to add (default: all)"},
                  {.name = "stats_interval_s",
                   .type = ParamType::kInteger,
                   .min = 1,
                   .max = 3600,
                   .doc = "period of the stats event (default 5)"}},
       .summary = "receive events on this connection"},
      [this](const json& p, Session& session) -> absl::StatusOr<json> {
        std::vector<std::string> topics = cfg_.topics;
        if (p.contains("topics")) topics = p["topics"].get<std::vector<std::string>>();
        for (const std::string& t : topics) session.topics.insert(t);
        if (p.contains("stats_interval_s")) {
          session.stats_interval_s = p["stats_interval_s"].get<uint32_t>();
        } else if (session.stats_interval_s == 0) {
          session.stats_interval_s = kDefaultStatsInterval;
        }
        if (session.topics.count("stats")) {
          session.next_stats_ns = now_ + Nanos{session.stats_interval_s} * kSecond;
        }
        return json{{"topics", session.topics}, {"stats_interval_s", session.stats_interval_s}};
      });
  if (!s.ok()) return s;

  return registry_.register_method({.name = "events.unsubscribe",
                                    .params = {{.name = "topics",
                                                .type = ParamType::kStringArray,
                                                .max_length = 64,
                                                .one_of = cfg_.topics,
                                                .doc = "topics to drop (default: all)"}},
                                    .summary = "stop events on this connection"},
                                   [](const json& p, Session& session) -> absl::StatusOr<json> {
                                     if (p.contains("topics")) {
                                       for (const auto& t : p["topics"])
                                         session.topics.erase(t.get<std::string>());
                                     } else {
                                       session.topics.clear();
                                     }
                                     return json{{"topics", session.topics}};
                                   });
}

std::vector<std::string> ControlServer::endpoints() const {
  std::vector<std::string> out;
  if (unix_fd_ >= 0) out.push_back(absl::StrCat("unix:", cfg_.unix_path));
  if (tcp_fd_ >= 0) out.push_back(absl::StrCat("tcp:", tcp_bound_));
  return out;
}

void ControlServer::accept_all(int listen_fd, bool tcp) {
  for (int i = 0; i < 64; ++i) {  // bounded per pass; level-triggered epoll brings us back
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd =
        accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE...): try again next pass
    if (clients_.size() >= cfg_.max_clients) {
      ++stats_.rejected_full;
      std::string msg = jsonrpc::encode(jsonrpc::make_error(
          nullptr, jsonrpc::kResourceExhausted,
          absl::StrCat("too many control clients (max ", cfg_.max_clients, ")")));
      (void)!send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      close(fd);
      continue;
    }
    auto c = std::make_unique<Client>(cfg_.max_line);
    c->id = next_id_++;
    c->fd = fd;
    c->tcp = tcp;
    c->session.id = c->id;
    if (tcp) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      Endpoint peer;
      if (ss.ss_family == AF_INET) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        peer = Endpoint::v4(ntohl(sin->sin_addr.s_addr), ntohs(sin->sin_port));
      } else if (ss.ss_family == AF_INET6) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        peer = Endpoint::v6(sin6->sin6_addr.s6_addr, ntohs(sin6->sin6_port));
      }
      c->session.peer = absl::StrCat("tcp ", peer.to_string());
      c->session.authenticated = false;
      c->auth_deadline = now_ + kAuthTimeout;
    } else {
      c->session.peer = "unix";
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = c->id;
    c->interest = ev.events;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    ++stats_.accepted;
    clients_.emplace(c->id, std::move(c));
  }
}

void ControlServer::begin_close(Client& c) {
  if (c.closing) return;
  c.closing = true;
  c.close_deadline = now_ + kLingerTimeout;
}

bool ControlServer::doomed(uint64_t id) const {
  return std::find(to_close_.begin(), to_close_.end(), id) != to_close_.end();
}

void ControlServer::queue(Client& c, std::string bytes) {
  if (c.shut_wr || doomed(c.id)) return;
  if (c.pending() + bytes.size() > cfg_.max_pending_output) {
    // It does not read what we send: never let it grow ternd's memory.
    ++stats_.closed_slow;
    close_client(c.id);
    return;
  }
  if (c.out_pos > 0 && c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  }
  c.out += bytes;
}

void ControlServer::flush(Client& c) {
  while (c.pending() > 0) {
    ssize_t n = send(c.fd, c.out.data() + c.out_pos, c.pending(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    close_client(c.id);  // EPIPE, ECONNRESET: gone
    return;
  }
  if (c.pending() == 0) {
    c.out.clear();
    c.out_pos = 0;
    if (c.eof) {
      close_client(c.id);
      return;
    }
    if (c.closing && !c.shut_wr) {
      // Last words sent: stop writing, let the client read them and hang up.
      shutdown(c.fd, SHUT_WR);
      c.shut_wr = true;
    }
  }
  update_interest(c);
}

void ControlServer::update_interest(Client& c) {
  // After EOF, level-triggered EPOLLIN would fire forever: only wait to write.
  uint32_t want =
      (c.eof ? 0u : uint32_t{EPOLLIN | EPOLLRDHUP}) | (c.pending() > 0 ? uint32_t{EPOLLOUT} : 0u);
  if (want == c.interest) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) == 0) c.interest = want;
}

void ControlServer::close_client(uint64_t id) {
  if (!doomed(id)) to_close_.push_back(id);
}

void ControlServer::on_readable(Client& c) {
  char buf[16 * 1024];
  size_t budget = cfg_.read_chunk;
  while (budget > 0) {
    ssize_t n = recv(c.fd, buf, std::min(sizeof(buf), budget), MSG_DONTWAIT);
    if (n == 0) {
      // EOF. A client may half-close after its last request: send the
      // replies still queued, then close.
      c.eof = true;
      begin_close(c);
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) close_client(c.id);
      break;
    }
    budget -= static_cast<size_t>(n);
    if (c.closing) continue;  // discard: we are only waiting for the EOF
    c.splitter.append(absl::string_view(buf, static_cast<size_t>(n)));
    std::string line;
    for (;;) {
      auto next = c.splitter.next(&line);
      if (next == jsonrpc::LineSplitter::Next::kNeedMore) break;
      if (next == jsonrpc::LineSplitter::Next::kTooLong) {
        ++stats_.closed_line_too_long;
        queue(c, jsonrpc::encode(jsonrpc::make_field_error(
                     nullptr, jsonrpc::kInvalidRequest, "Invalid Request", "",
                     absl::StrCat("line longer than ", cfg_.max_line,
                                  " bytes; closing the connection"))));
        begin_close(c);
        break;
      }
      ++stats_.requests;
      std::optional<std::string> reply = registry_.handle_line(line, c.session);
      if (reply) queue(c, *std::move(reply));
      if (c.session.authenticated) c.auth_deadline = kNever;
      if (c.session.close_after_reply) {
        begin_close(c);
        break;
      }
      if (doomed(c.id)) return;
    }
  }
  flush(c);
}

void ControlServer::on_writable(Client& c) { flush(c); }

void ControlServer::publish(absl::string_view topic, const json& data) {
  std::string line;
  for (auto& [id, c] : clients_) {
    if (c->closing || !c->session.topics.count(std::string(topic))) continue;
    if (line.empty()) {
      line = jsonrpc::encode(jsonrpc::make_event(json{{"topic", std::string(topic)},
                                                      {"seq", ++event_seq_},
                                                      {"time_ms", unix_time_ms()},
                                                      {"data", data}}));
    }
    ++stats_.events_sent;
    queue(*c, line);
    flush(*c);
  }
}

void ControlServer::send_stats(Nanos now) {
  if (!stats_source_) return;
  std::string line;
  for (auto& [id, c] : clients_) {
    Session& s = c->session;
    if (c->closing || !s.topics.count("stats") || s.next_stats_ns > now) continue;
    if (line.empty()) {
      line = jsonrpc::encode(jsonrpc::make_event(json{{"topic", "stats"},
                                                      {"seq", ++event_seq_},
                                                      {"time_ms", unix_time_ms()},
                                                      {"data", stats_source_()}}));
    }
    Nanos period = Nanos{std::max<uint32_t>(s.stats_interval_s, 1)} * kSecond;
    s.next_stats_ns += period;
    if (s.next_stats_ns <= now) s.next_stats_ns = now + period;  // fell behind: skip, no burst
    ++stats_.events_sent;
    queue(*c, line);
    flush(*c);
  }
}

void ControlServer::service(Nanos now) {
  now_ = now;
  if (epoll_fd_ < 0) return;
  epoll_event events[64];
  for (int round = 0; round < 4; ++round) {
    int n = epoll_wait(epoll_fd_, events, 64, 0);
    if (n <= 0) break;
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == kUnixListener) {
        accept_all(unix_fd_, false);
        continue;
      }
      if (id == kTcpListener) {
        accept_all(tcp_fd_, true);
        continue;
      }
      auto it = clients_.find(id);
      if (it == clients_.end()) continue;
      Client& c = *it->second;
      if (events[i].events & EPOLLOUT) on_writable(c);
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
    }
    for (uint64_t cid : to_close_) {
      auto it = clients_.find(cid);
      if (it == clients_.end()) continue;
      close(it->second->fd);  // closing the fd removes it from the epoll set
      clients_.erase(it);
    }
    to_close_.clear();
    if (n < 64) break;
  }
  // Deadlines: unauthenticated too long, or done lingering.
  for (auto& [id, c] : clients_) {
    if (c->auth_deadline <= now && !c->closing) {
      queue(*c, jsonrpc::encode(jsonrpc::make_error(nullptr, jsonrpc::kUnauthorized,
                                                    "Unauthorized: no auth within 10 s")));
      c->auth_deadline = kNever;
      begin_close(*c);
      flush(*c);
    } else if (c->close_deadline <= now) {
      close_client(id);
    }
  }
  send_stats(now);
  for (uint64_t cid : to_close_) {
    auto it = clients_.find(cid);
    if (it == clients_.end()) continue;
    close(it->second->fd);
    clients_.erase(it);
  }
  to_close_.clear();
}

Nanos ControlServer::next_deadline() const {
  Nanos next = kNever;
  for (const auto& [id, c] : clients_) {
    next = std::min({next, c->auth_deadline, c->close_deadline});
    if (!c->closing && c->session.topics.count("stats") && stats_source_) {
      next = std::min(next, c->session.next_stats_ns);
    }
  }
  return next;
}

}  // namespace tern
