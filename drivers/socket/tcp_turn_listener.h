// TURN over TCP and TLS (RFC 8656 §3.1, §6.2): kernel TCP sockets feeding a
// worker's TurnServer, for clients behind firewalls that only let TCP (often
// only port 443) out.
//
// Ownership: one TcpTurnListener per worker. Each worker binds its own
// listening sockets on the same address:port with SO_REUSEPORT, so the kernel
// spreads new connections over the workers and a connection lives start to
// finish on the worker that accepted it: its allocation, relayed port and
// buffers are that worker's (shared nothing, as for UDP). Consequence: any
// process of the same user may join the port with SO_REUSEPORT too; port 0
// gives each worker its own ephemeral port (tests only).
//
// Loop: the worker calls poll(now) (StreamTransport, engine/worker/worker.h)
// at most every stream_poll_interval while busy and after every wake-up; the
// listener's epoll fd (wake_fd()) is added to the socket driver's wait set,
// so a readable connection wakes an idle worker at once (other drivers: within
// idle_max_sleep). poll() makes one epoll_wait, then accepts, reads and writes
// non-blocking, with bounded work per call; nothing ever blocks the worker.
//
// Not the zero-copy path: each complete frame (engine/turn/stream_framer.h) is
// copied into a buffer from the worker's driver pool and handed to the TURN
// core with Transport::kTcp (TLS is TCP to the core); answers for the client
// are copied into the connection's write buffer, relayed data goes to the
// driver's tx_burst. Peer -> client data for an allocation whose client is on
// TCP/TLS (TurnServer::handle_peer says kTcp) comes in through send().
// Writes are deferred to the next poll() so a burst goes out in one send().
//
// Limits (every one closes the connection, counted by reason):
//   max_connections    per worker; beyond, new connections are closed at once
//   write_buffer_limit bytes queued for a client that does not read
//   max_frame          larger frames (min(config, the driver's data room))
//   garbage            a byte stream that is not STUN/ChannelData
//   first_frame_timeout  no complete frame (TLS handshake included) in time
//   idle_timeout       nothing received for that long, unless the connection
//                      carries a live allocation (whose lifetime governs)
// Closing a connection deletes its allocation (TurnServer::close_client).
//
// TLS: OpenSSL over memory BIOs (the socket I/O and buffer limits are the
// same code as plain TCP), TLS 1.2 and 1.3 only, no renegotiation, no
// compression. Certificate chain + key from PEM files, or a self-signed
// ECDSA P-256 certificate generated at startup (ternd logs its SHA-256
// fingerprint so a client can pin it).
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "drivers/driver.h"
#include "engine/net/counters.h"
#include "engine/net/endpoint.h"
#include "engine/turn/stream_framer.h"
#include "engine/worker/worker.h"

namespace tern {

struct TcpTurnConfig {
  std::vector<Endpoint> tcp_listen;  // address:port, plain TCP
  std::vector<Endpoint> tls_listen;  // address:port, TLS over TCP
  uint32_t max_connections = 1024;   // per worker, TCP and TLS together
  Nanos idle_timeout = 300 * kSecond;
  Nanos first_frame_timeout = 10 * kSecond;
  uint32_t write_buffer_limit = 256 * 1024;  // per connection
  uint32_t max_frame = kMaxStreamFrame;      // capped by the driver's buffers
};

// One per process, shared by every worker's listener (SSL_CTX is safe to
// share once set up).
class TlsServerContext {
 public:
  // cert_file (PEM chain) and key_file (PEM): both or neither; neither
  // generates a self-signed certificate. Errors name turn.tls_cert /
  // turn.tls_key and carry OpenSSL's reason.
  static absl::StatusOr<std::shared_ptr<TlsServerContext>> create(const std::string& cert_file,
                                                                  const std::string& key_file);
  ~TlsServerContext();
  SSL_CTX* ctx() const { return ctx_; }
  // "sha-256 AB:CD:..." of the leaf certificate.
  const std::string& fingerprint() const { return fingerprint_; }
  bool self_signed() const { return self_signed_; }

 private:
  explicit TlsServerContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
  std::string fingerprint_;
  bool self_signed_ = false;
};

// Written by the owning worker; read by anyone.
struct TcpTurnStats {
  Counter accepted_tcp, accepted_tls;
  Counter rejected_full;  // closed at accept: max_connections reached
  Counter closed_by_client, closed_idle, closed_garbage, closed_slow_reader, closed_tls_error,
      closed_io_error, closed_shutdown;
  Counter tls_handshakes;
  Counter frames_in, bytes_in;    // frames from clients, payload bytes read (after TLS)
  Counter frames_out, bytes_out;  // frames to clients (responses + relayed data)
  Counter to_peers;               // frames relayed to peers through the driver
  Counter no_buffer;              // frame dropped: driver pool empty
  Counter no_connection;          // send() for a 5-tuple with no connection
};

class TcpTurnListener final : public StreamTransport {
 public:
  // Binds and listens on every endpoint (SO_REUSEPORT). `tls` is needed when
  // cfg.tls_listen is not empty. Errors name the endpoint.
  static absl::StatusOr<std::unique_ptr<TcpTurnListener>> create(
      const TcpTurnConfig& cfg, std::shared_ptr<TlsServerContext> tls, uint16_t worker);
  ~TcpTurnListener() override;

  // The epoll set over listeners and connections (for SocketDriver::add_wake_fd).
  int wake_fd() const { return epfd_; }
  // "tcp 127.0.0.1:3478", "tls 127.0.0.1:5349" (real ports when bound to 0).
  std::vector<std::string> endpoints() const;
  const TcpTurnStats& stats() const { return stats_; }
  // ternd's final counters: "turn tcp/tls: accepted tcp N tls N, ..." (one line).
  std::string counters_line() const;
  size_t connections() const { return nconns_.load(std::memory_order_relaxed); }

  // StreamTransport (worker thread).
  void attach(PacketDriver& driver, uint16_t q, TurnServer* turn,
              StunBindingService* stun) override;
  Nanos poll(Nanos now) override;
  bool send(const Packet& pkt, Nanos now) override;
  void detach() override;

  struct Conn;

 private:
  enum class Close : uint8_t { kClient, kIdle, kGarbage, kSlow, kTls, kIo, kShutdown };
  TcpTurnListener(const TcpTurnConfig& cfg, std::shared_ptr<TlsServerContext> tls);
  void accept_all(size_t li, Nanos now);
  void on_readable(uint32_t idx, Nanos now);
  bool tls_pump(Conn& c, Nanos now);  // false: closed
  void handle_frames(Conn& c, Nanos now);
  bool queue_out(Conn& c, const uint8_t* data, uint32_t len);  // false: over the limit
  void flush(uint32_t idx);
  void set_want_write(Conn& c, bool on);
  void close_conn(uint32_t idx, Close why);
  void flush_tx();

  struct Listener {
    int fd = -1;
    bool tls = false;
    Endpoint local;
  };
  struct Key {
    Endpoint remote, local;
    bool operator==(const Key& o) const { return remote == o.remote && local == o.local; }
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.remote, k.local);
    }
  };

  TcpTurnConfig cfg_;
  std::shared_ptr<TlsServerContext> tls_;
  int epfd_ = -1;
  std::vector<Listener> listeners_;
  std::vector<std::unique_ptr<Conn>> conns_;  // slot per connection, null = free
  std::vector<uint32_t> free_slots_;
  absl::flat_hash_map<Key, uint32_t> by_key_;
  std::vector<uint32_t> dirty_;  // connections with bytes queued since the last flush
  std::atomic<size_t> nconns_{0};
  PacketDriver* driver_ = nullptr;
  uint16_t q_ = 0;
  TurnServer* turn_ = nullptr;
  StunBindingService* stun_ = nullptr;
  uint32_t max_frame_ = 0;
  PacketBatch tx_;
  Nanos next_sweep_ = 0;
  uint32_t gen_counter_ = 0;
  TcpTurnStats stats_;
};

}  // namespace tern
