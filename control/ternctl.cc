// ternctl: command-line client of ternd's JSON-RPC control socket
// (docs/control-protocol.md).
//
//   ternctl [--socket PATH | --tcp ADDR:PORT --token T] METHOD [JSON | key=value ...]
//   ternctl events [TOPIC ...] [--interval S] [--count N]
//
// Prints the result as pretty JSON on stdout and exits 0; on a JSON-RPC error
// prints the message (and data) on stderr and exits 1; on a usage or
// connection error exits 2.
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/control_server.h"
#include "control/jsonrpc_codec.h"
#include "engine/net/endpoint.h"

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

namespace tern {
namespace {

using jsonrpc::json;

constexpr int kExitRpcError = 1;
constexpr int kExitUsage = 2;

const char kUsage[] = R"(Usage: ternctl [OPTIONS] METHOD [PARAMS]
       ternctl [OPTIONS] events [TOPIC ...] [--interval S] [--count N]

Calls METHOD on ternd's JSON-RPC 2.0 control socket and prints the result as
pretty JSON. PARAMS is either one JSON object ('{"worker":0}') or key=value
pairs (worker=0); a value that parses as JSON (numbers, true, [..], {..},
"..") is used as such, anything else as a string.

`events` subscribes to TOPICs (default: all; known: stats, server,
transport.state, producer.closed, consumer.closed, consumer.layer, session,
datachannel.open, datachannel.close, datachannel.message, datachannel.error) and prints
each event as one line of JSON until interrupted (or N events).

Options:
  --socket PATH       Unix socket (default: $TERN_CONTROL_SOCKET, else
                      /run/tern/ternd.sock as root, $XDG_RUNTIME_DIR/tern/ternd.sock
                      or /tmp/tern-UID/ternd.sock otherwise)
  --tcp ADDR:PORT     connect over TCP instead (127.0.0.1:7000, [::1]:7000)
  --token T           bearer token for --tcp (default: $TERN_CONTROL_TOKEN)
  --timeout S         seconds to wait for the reply (default 10)
  --interval S        events: period of the stats event (default 5)
  --count N           events: exit after N events
  --compact           print results as one line
  --help, --version

Methods: server.info, server.ping, stats.get [worker=N], turn.credentials,
transport.*, room.*, producer.*, consumer.*, session.*, events.subscribe,
events.unsubscribe, auth. See docs/control-protocol.md.
Example: ternctl session.publish room=demo offer="<the SDP text>"
Exit status: 0 ok, 1 the server answered with an error, 2 usage or connection error.
)";

struct Options {
  std::string socket_path;
  std::string tcp;
  std::string token;
  int timeout_s = 10;
  int interval_s = 0;
  long count = -1;
  bool compact = false;
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ternctl: %s (ternctl --help)\n", msg.c_str());
  return kExitUsage;
}

class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) close(fd_);
  }

  std::string connect_to(const Options& o) {
    if (!o.tcp.empty()) {
      auto ep = Endpoint::parse(o.tcp);
      if (!ep.ok() || ep->port == 0) {
        return absl::StrCat("--tcp: expected ADDR:PORT, got \"", o.tcp, "\"");
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
      fd_ = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        return absl::StrCat("cannot connect to ", o.tcp, ": ", std::strerror(errno));
      }
      return "";
    }
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (o.socket_path.size() >= sizeof(sa.sun_path)) {
      return absl::StrCat("--socket: path too long: ", o.socket_path);
    }
    std::memcpy(sa.sun_path, o.socket_path.c_str(), o.socket_path.size() + 1);
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      int e = errno;
      std::string hint = (e == ENOENT || e == ECONNREFUSED)
                             ? " (is ternd running? ternd --control-socket PATH sets the path)"
                             : "";
      return absl::StrCat("cannot connect to ", o.socket_path, ": ", std::strerror(e), hint);
    }
    return "";
  }

  std::string send_line(const json& msg) {
    std::string line = jsonrpc::encode(msg);
    size_t off = 0;
    while (off < line.size()) {
      ssize_t n = send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return absl::StrCat("send: ", std::strerror(errno));
      off += static_cast<size_t>(n);
    }
    return "";
  }

  // Reads the next message; timeout_s < 0 waits forever. Error text or "".
  std::string read_message(json* out, int timeout_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    std::string line;
    for (;;) {
      auto next = splitter_.next(&line);
      if (next == jsonrpc::LineSplitter::Next::kTooLong) return "reply line too long";
      if (next == jsonrpc::LineSplitter::Next::kLine) {
        if (line.empty()) continue;
        jsonrpc::Parsed p = jsonrpc::parse_line(line);
        if (p.error != 0) return absl::StrCat("malformed reply from ternd: ", p.message);
        *out = std::move(p.value);
        return "";
      }
      int wait_ms = -1;
      if (timeout_s >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) return absl::StrCat("no reply within ", timeout_s, " s");
        wait_ms = static_cast<int>(left);
      }
      pollfd pfd{fd_, POLLIN, 0};
      int rc = poll(&pfd, 1, wait_ms);
      if (rc < 0 && errno == EINTR) continue;
      if (rc == 0) continue;  // re-check the deadline
      char buf[64 * 1024];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return "ternd closed the connection";
      if (n < 0) return absl::StrCat("recv: ", std::strerror(errno));
      splitter_.append(absl::string_view(buf, static_cast<size_t>(n)));
    }
  }

  // Sends a request and waits for the response with the same id (events in
  // between are skipped). Error text or "".
  std::string call(const std::string& method, const json& params, const json& id, int timeout_s,
                   json* response) {
    json req{{"jsonrpc", "2.0"}, {"method", method}, {"id", id}};
    if (!params.is_null()) req["params"] = params;
    if (auto e = send_line(req); !e.empty()) return e;
    for (;;) {
      if (auto e = read_message(response, timeout_s); !e.empty()) return e;
      if (response->is_object() && response->contains("id") && (*response)["id"] == id) return "";
    }
  }

 private:
  int fd_ = -1;
  jsonrpc::LineSplitter splitter_;
};

// Prints a JSON-RPC error on stderr; returns the exit code.
int print_rpc_error(const json& response) {
  const json& err = response["error"];
  std::string msg = err.value("message", std::string("error"));
  std::fprintf(stderr, "ternctl: %s (code %lld)\n", msg.c_str(),
               static_cast<long long>(err.value("code", 0)));
  if (err.contains("data")) {
    const json& d = err["data"];
    if (d.is_object() && d.contains("field")) {
      std::fprintf(stderr, "  %s: %s\n", d.value("field", "").c_str(),
                   d.value("reason", "").c_str());
    } else if (d.is_object() && d.contains("reason")) {
      std::fprintf(stderr, "  %s\n", d.value("reason", "").c_str());
    } else {
      std::fprintf(stderr, "  %s\n", jsonrpc::encode(d).c_str());
    }
  }
  return kExitRpcError;
}

// Parses "{...}" or key=value pairs into a params object.
std::string parse_params(const std::vector<std::string>& args, json* params) {
  if (args.empty()) return "";
  if (args.size() == 1 && !args[0].empty() && (args[0][0] == '{' || args[0][0] == '[')) {
    jsonrpc::Parsed p = jsonrpc::parse_line(args[0]);
    if (p.error != 0) return absl::StrCat("params: not valid JSON: ", p.message);
    *params = std::move(p.value);
    return "";
  }
  *params = json::object();
  for (const std::string& a : args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::StrCat("params: expected key=value or one JSON object, got \"", a, "\"");
    }
    std::string key = a.substr(0, eq), text = a.substr(eq + 1);
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;
    (*params)[key] = std::move(value);
  }
  return "";
}

std::string authenticate(Connection& c, const Options& o) {
  if (o.tcp.empty()) return "";
  if (o.token.empty()) return "--tcp needs --token (or $TERN_CONTROL_TOKEN)";
  json r;
  if (auto e = c.call("auth", json{{"token", o.token}}, "auth", o.timeout_s, &r); !e.empty()) {
    return e;
  }
  if (r.contains("error")) {
    return absl::StrCat("auth failed: ", r["error"].value("message", std::string("?")));
  }
  return "";
}

int run_events(Connection& c, const Options& o, const std::vector<std::string>& topics) {
  json params = json::object();
  if (!topics.empty()) params["topics"] = topics;
  if (o.interval_s > 0) params["stats_interval_s"] = o.interval_s;
  json r;
  if (auto e = c.call("events.subscribe", params, 1, o.timeout_s, &r); !e.empty()) {
    return usage_error(e);
  }
  if (r.contains("error")) return print_rpc_error(r);
  bool stopping = false;
  for (long n = 0; o.count < 0 || n < o.count;) {
    json m;
    if (auto e = c.read_message(&m, -1); !e.empty()) {
      if (stopping) return 0;  // ternd said goodbye
      std::fprintf(stderr, "ternctl: %s\n", e.c_str());
      return kExitUsage;
    }
    if (m.value("method", "") != "event") continue;
    const json& p = m["params"];
    stopping = p.value("topic", "") == "server" && p.contains("data") && p["data"].is_object() &&
               p["data"].value("state", "") == "stopping";
    std::string out = jsonrpc::encode(m["params"]);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    ++n;
  }
  return 0;
}

int run(int argc, char** argv) {
  enum : int {
    kSocket = 1000,
    kTcp,
    kToken,
    kTimeout,
    kInterval,
    kCount,
    kCompact,
    kHelp,
    kVersion
  };
  static const option kOptions[] = {
      {"socket", required_argument, nullptr, kSocket},
      {"tcp", required_argument, nullptr, kTcp},
      {"token", required_argument, nullptr, kToken},
      {"timeout", required_argument, nullptr, kTimeout},
      {"interval", required_argument, nullptr, kInterval},
      {"count", required_argument, nullptr, kCount},
      {"compact", no_argument, nullptr, kCompact},
      {"help", no_argument, nullptr, kHelp},
      {"version", no_argument, nullptr, kVersion},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  if (const char* s = std::getenv("TERN_CONTROL_SOCKET")) o.socket_path = s;
  if (const char* t = std::getenv("TERN_CONTROL_TOKEN")) o.token = t;
  std::vector<std::string> positional;
  opterr = 0;
  // "+-": options may follow the method (ternctl events --count 3); keep
  // order so JSON/key=value arguments pass through.
  for (;;) {
    int c = getopt_long(argc, argv, "-:", kOptions, nullptr);
    if (c == -1) break;
    auto number = [&](const char* name, long lo, long hi, long* out) {
      if (!absl::SimpleAtoi(optarg, out) || *out < lo || *out > hi) {
        std::fprintf(stderr, "ternctl: %s: must be %ld..%ld, got \"%s\"\n", name, lo, hi, optarg);
        return false;
      }
      return true;
    };
    long v = 0;
    switch (c) {
      case 1:
        positional.push_back(optarg);
        break;
      case kSocket:
        o.socket_path = optarg;
        break;
      case kTcp:
        o.tcp = optarg;
        break;
      case kToken:
        o.token = optarg;
        break;
      case kTimeout:
        if (!number("--timeout", 1, 3600, &v)) return kExitUsage;
        o.timeout_s = static_cast<int>(v);
        break;
      case kInterval:
        if (!number("--interval", 1, 3600, &v)) return kExitUsage;
        o.interval_s = static_cast<int>(v);
        break;
      case kCount:
        if (!number("--count", 1, 1L << 40, &v)) return kExitUsage;
        o.count = v;
        break;
      case kCompact:
        o.compact = true;
        break;
      case kHelp:
        std::fputs(kUsage, stdout);
        return 0;
      case kVersion:
        std::printf("ternctl %s\n", TERN_VERSION);
        return 0;
      case ':':
        return usage_error(absl::StrCat(argv[optind - 1], ": needs a value"));
      default:
        return usage_error(absl::StrCat("unknown option ", argv[optind - 1]));
    }
  }
  if (positional.empty()) return usage_error("no method given");
  if (o.socket_path.empty()) o.socket_path = default_control_socket();

  std::string method = positional[0];
  std::vector<std::string> rest(positional.begin() + 1, positional.end());
  Connection conn;
  if (auto e = conn.connect_to(o); !e.empty()) {
    std::fprintf(stderr, "ternctl: %s\n", e.c_str());
    return kExitUsage;
  }
  if (auto e = authenticate(conn, o); !e.empty()) {
    std::fprintf(stderr, "ternctl: %s\n", e.c_str());
    return kExitRpcError;
  }
  if (method == "events") return run_events(conn, o, rest);

  json params;
  if (auto e = parse_params(rest, &params); !e.empty()) return usage_error(e);
  json r;
  if (auto e = conn.call(method, params, 1, o.timeout_s, &r); !e.empty()) {
    std::fprintf(stderr, "ternctl: %s\n", e.c_str());
    return kExitUsage;
  }
  if (r.contains("error")) return print_rpc_error(r);
  std::string out = o.compact
                        ? jsonrpc::encode(r["result"])
                        : r["result"].dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace
}  // namespace tern

int main(int argc, char** argv) { return tern::run(argc, argv); }
