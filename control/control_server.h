// ControlServer: the JSON-RPC 2.0 control socket of ternd.
//
// Listens on a Unix stream socket (mode 0660) and, optionally, on TCP, where
// every client must first call `auth` with the bearer token. Each connection
// speaks newline-delimited JSON-RPC (control/jsonrpc_codec.h) handled by a
// MethodRegistry (control/jsonrpc_registry.h).
//
// Single-threaded and non-blocking: everything runs on ternd's main thread.
// The server owns one epoll fd (fd()); the caller polls it for readability
// together with its own fds (ternd: a signalfd) and calls service() when it
// is readable or when next_deadline() has passed. Nothing a client does can
// block the thread:
//  - input is read in bounded chunks; a line over max_line bytes gets a
//    -32600 error and the connection is closed;
//  - output is queued per client; a client whose queue passes
//    max_pending_output (it does not read its replies or events) is
//    disconnected;
//  - at most max_clients connections; the next one gets a -32004 error line
//    and is closed.
//
// Built-in methods (registered by start()): auth, server.ping,
// events.subscribe, events.unsubscribe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "control/jsonrpc_codec.h"
#include "control/jsonrpc_registry.h"
#include "engine/net/nanos.h"

namespace tern {

struct ControlServerConfig {
  std::string unix_path;  // "" = no Unix socket
  std::string tcp;        // "ADDR:PORT" ("127.0.0.1:7000", "[::1]:7000"); "" = no TCP
  std::string token;      // bearer token; required when tcp is set
  mode_t unix_mode = 0660;
  size_t max_clients = 64;
  size_t max_line = jsonrpc::kDefaultMaxLineBytes;
  size_t max_pending_output = size_t{4} << 20;  // per client
  size_t read_chunk = 64 * 1024;                // bytes read per client per service()
  // Event topics clients may subscribe to.
  std::vector<std::string> topics = {"stats", "server"};
};

// Counters about the server itself (server.info, tests).
struct ControlServerStats {
  uint64_t accepted = 0;
  uint64_t rejected_full = 0;  // over max_clients
  uint64_t closed_slow = 0;    // output queue over max_pending_output
  uint64_t closed_line_too_long = 0;
  uint64_t closed_auth_failed = 0;
  uint64_t requests = 0;  // lines handled
  uint64_t events_sent = 0;
};

class ControlServer {
 public:
  ControlServer(ControlServerConfig cfg, jsonrpc::MethodRegistry& registry);
  ~ControlServer();  // closes every socket; unlinks the Unix socket if still ours

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and listens, registers the built-in methods. Errors name the
  // setting: "control.socket: another ternd is listening on PATH", ...
  absl::Status start();

  // The epoll fd: readable when service() has something to do.
  int fd() const { return epoll_fd_; }
  // Accepts, reads, dispatches and writes whatever is ready, never blocks;
  // sends due periodic stats events. `now`: CLOCK_MONOTONIC.
  void service(Nanos now);
  // When service() must run next even without fd activity (a stats event is
  // due); kNever if none.
  Nanos next_deadline() const;

  // Sends {"method":"event","params":{"topic":topic,"seq":n,"data":data}}
  // to every client subscribed to `topic`.
  void publish(absl::string_view topic, const jsonrpc::json& data);
  // Produces the data of the periodic "stats" event (called once per tick in
  // which at least one subscriber is due).
  void set_stats_source(std::function<jsonrpc::json()> source) {
    stats_source_ = std::move(source);
  }

  // "unix:/run/tern/ternd.sock", "tcp:127.0.0.1:7000" (the bound port).
  std::vector<std::string> endpoints() const;
  size_t num_clients() const { return clients_.size(); }
  const ControlServerStats& stats() const { return stats_; }
  // The bound TCP port (useful with port 0 in tests); 0 if no TCP.
  uint16_t tcp_port() const { return tcp_port_; }

 private:
  struct Client;
  absl::Status listen_unix();
  absl::Status listen_tcp();
  absl::Status register_builtins();
  void accept_all(int listen_fd, bool tcp);
  void on_readable(Client& c);
  void on_writable(Client& c);
  void queue(Client& c, std::string bytes);
  void flush(Client& c);
  void close_client(uint64_t id);
  void begin_close(Client& c);
  bool doomed(uint64_t id) const;
  void update_interest(Client& c);
  void send_stats(Nanos now);

  ControlServerConfig cfg_;
  jsonrpc::MethodRegistry& registry_;
  int epoll_fd_ = -1;
  int unix_fd_ = -1;
  int tcp_fd_ = -1;
  uint16_t tcp_port_ = 0;
  std::string tcp_bound_;
  dev_t unix_dev_ = 0;
  ino_t unix_ino_ = 0;
  bool unix_bound_ = false;
  uint64_t next_id_ = 1;
  uint64_t event_seq_ = 0;
  std::map<uint64_t, std::unique_ptr<Client>> clients_;
  std::vector<uint64_t> to_close_;  // closed after the current service() pass
  std::function<jsonrpc::json()> stats_source_;
  Nanos now_ = 0;
  ControlServerStats stats_;
};

// Compares a presented token with the configured one in time independent of
// where they differ (and of their lengths: both are hashed first).
bool token_equal(absl::string_view presented, absl::string_view expected);

// The default control socket: /run/tern/ternd.sock for root;
// $XDG_RUNTIME_DIR/tern/ternd.sock when set; else /tmp/tern-<uid>/ternd.sock.
std::string default_control_socket();

}  // namespace tern
