#include "drivers/socket/tcp_turn_listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/socket/socket_driver_internal.h"
#include "engine/dtls/certificate.h"
#include "engine/turn/turn_protocol.h"

namespace tern {

namespace {

constexpr uint64_t kListenerTag = 1ull << 63;
constexpr int kMaxEvents = 64;
constexpr int kAcceptsPerPoll = 32;       // per listener
constexpr int kReadsPerEvent = 4;         // per readable connection and poll
constexpr size_t kReadChunk = 16 * 1024;  // TLS ciphertext per read
constexpr Nanos kSweepInterval = kSecond;

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

uint64_t conn_tag(uint32_t idx, uint32_t gen) { return uint64_t{gen} << 32 | idx; }

}  // namespace

// ------------------------------------------------------------------ TLS

absl::StatusOr<std::shared_ptr<TlsServerContext>> TlsServerContext::create(
    const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "turn.tls_cert / turn.tls_key: give both (PEM files) or neither (self-signed)");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("TLS: SSL_CTX_new: " + openssl_errors());
  std::shared_ptr<TlsServerContext> t(new TlsServerContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Memory BIOs: the write BIO grows, so SSL_write never wants to write.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (cert_file.empty()) {
    auto cert = DtlsCertificate::generate();
    if (!cert.ok()) {
      return absl::InternalError(
          absl::StrCat("TLS: generating a self-signed certificate: ", cert.status().message()));
    }
    if (SSL_CTX_use_certificate(ctx, (*cert)->x509()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, (*cert)->private_key()) != 1) {
      return absl::InternalError("TLS: installing the self-signed certificate: " +
                                 openssl_errors());
    }
    t->self_signed_ = true;
  } else {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("turn.tls_cert: \"", cert_file, "\": ", openssl_errors()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("turn.tls_key: \"", key_file, "\": ", openssl_errors()));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "turn.tls_key: \"", key_file, "\" does not match turn.tls_cert \"", cert_file, "\""));
    }
  }
  auto fp = certificate_fingerprint(SSL_CTX_get0_certificate(ctx), FingerprintHash::kSha256);
  if (!fp.ok()) return fp.status();
  t->fingerprint_ = fp->to_sdp();
  return t;
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

// ------------------------------------------------------------------ connection

struct TcpTurnListener::Conn {
  Conn(uint32_t max_frame) : framer(max_frame) {}
  ~Conn() {
    if (ssl != nullptr) SSL_free(ssl);  // frees both BIOs
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
  uint32_t idx = 0;  // slot in conns_
  uint32_t gen = 0;  // tells a reused slot's events from its predecessor's
  bool tls = false;
  bool handshaken = false;
  bool want_write = false;
  bool dirty = false;
  bool closing = false;
  Close close_why = Close::kClient;
  SSL* ssl = nullptr;
  BIO* rbio = nullptr;  // ciphertext from the socket -> OpenSSL
  BIO* wbio = nullptr;  // OpenSSL -> ciphertext for the socket
  Endpoint remote, local;
  StreamFramer framer;
  std::vector<uint8_t> out;  // bytes for the socket (ciphertext under TLS)
  size_t out_off = 0;
  Nanos opened = 0, last_rx = 0;
  bool got_frame = false;
};

TcpTurnListener::TcpTurnListener(const TcpTurnConfig& cfg, std::shared_ptr<TlsServerContext> tls)
    : cfg_(cfg), tls_(std::move(tls)) {}

TcpTurnListener::~TcpTurnListener() {
  conns_.clear();
  for (Listener& l : listeners_) ::close(l.fd);
  if (epfd_ >= 0) ::close(epfd_);
}

absl::StatusOr<std::unique_ptr<TcpTurnListener>> TcpTurnListener::create(
    const TcpTurnConfig& cfg, std::shared_ptr<TlsServerContext> tls, uint16_t worker) {
  if (!cfg.tls_listen.empty() && tls == nullptr) {
    return absl::InvalidArgumentError("turn.tls_listen: no TLS context");
  }
  std::unique_ptr<TcpTurnListener> l(new TcpTurnListener(cfg, std::move(tls)));
  l->epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (l->epfd_ < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", strerror(errno)));
  for (int pass = 0; pass < 2; ++pass) {
    for (const Endpoint& ep : pass ? cfg.tls_listen : cfg.tcp_listen) {
      const char* key = pass ? "turn.tls_listen" : "turn.tcp_listen";
      auto err = [&](const char* what, int e) {
        return absl::InvalidArgumentError(absl::StrCat(key, ": ", ep.to_string(), " (worker ",
                                                       worker, "): ", what, ": ", strerror(e)));
      };
      SockAddr sa;
      const socklen_t salen = to_sockaddr(ep, &sa);
      const int fd =
          ::socket(ep.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) return err("socket", errno);
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
      if (ep.is_v6()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      if (::bind(fd, &sa.sa, salen) != 0 || ::listen(fd, 512) != 0) {
        const int e = errno;
        ::close(fd);
        return err("bind/listen", e);
      }
      SockAddr bound;
      socklen_t blen = sizeof(bound);
      getsockname(fd, &bound.sa, &blen);
      Listener li{fd, pass == 1, ep};
      from_sockaddr(bound, &li.local);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenerTag | l->listeners_.size();
      if (epoll_ctl(l->epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        const int e = errno;
        ::close(fd);
        return err("epoll_ctl", e);
      }
      l->listeners_.push_back(li);
    }
  }
  return l;
}

std::vector<std::string> TcpTurnListener::endpoints() const {
  std::vector<std::string> out;
  for (const Listener& l : listeners_) {
    out.push_back(absl::StrCat(l.tls ? "tls " : "tcp ", l.local.to_string()));
  }
  return out;
}

std::string TcpTurnListener::counters_line() const {
  const TcpTurnStats& s = stats_;
  return absl::StrCat("turn tcp/tls: accepted tcp ", s.accepted_tcp.get(), " tls ",
                      s.accepted_tls.get(), " (tls handshakes ", s.tls_handshakes.get(),
                      "), rejected full ", s.rejected_full.get(), ", open ", connections(),
                      "; closed by client ", s.closed_by_client.get(), " idle ",
                      s.closed_idle.get(), " garbage ", s.closed_garbage.get(), " slow reader ",
                      s.closed_slow_reader.get(), " tls error ", s.closed_tls_error.get(),
                      " io error ", s.closed_io_error.get(), " shutdown ", s.closed_shutdown.get(),
                      "; frames in ", s.frames_in.get(), " out ", s.frames_out.get(), ", bytes in ",
                      s.bytes_in.get(), " out ", s.bytes_out.get(), ", to peers ", s.to_peers.get(),
                      ", no buffer ", s.no_buffer.get(), ", no connection ", s.no_connection.get());
}

void TcpTurnListener::attach(PacketDriver& driver, uint16_t q, TurnServer* turn,
                             StunBindingService* stun) {
  driver_ = &driver;
  q_ = q;
  turn_ = turn;
  stun_ = stun;
  // Frames are copied into driver buffers: the largest frame is what one
  // buffer holds behind the default headroom.
  max_frame_ = std::min(cfg_.max_frame, kMaxStreamFrame);
  Packet* p = nullptr;
  if (driver.alloc_bulk(q, &p, 1) == 1) {
    p->reset(kDefaultHeadroom);
    max_frame_ = std::min<uint32_t>(max_frame_, p->tailroom());
    driver.free_bulk(q, &p, 1);
  }
  conns_.reserve(cfg_.max_connections);
  by_key_.reserve(cfg_.max_connections);
}

void TcpTurnListener::detach() {
  for (uint32_t i = 0; i < conns_.size(); ++i) {
    if (conns_[i]) close_conn(i, Close::kShutdown);
  }
  flush_tx();
}

// ------------------------------------------------------------------ poll

Nanos TcpTurnListener::poll(Nanos now) {
  epoll_event evs[kMaxEvents];
  const int n = epoll_wait(epfd_, evs, kMaxEvents, 0);
  for (int i = 0; i < n; ++i) {
    const uint64_t tag = evs[i].data.u64;
    if (tag & kListenerTag) {
      accept_all(size_t(tag & ~kListenerTag), now);
      continue;
    }
    const uint32_t idx = uint32_t(tag);
    if (idx >= conns_.size() || !conns_[idx] || conns_[idx]->gen != uint32_t(tag >> 32)) continue;
    if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) on_readable(idx, now);
    if (conns_[idx] && (evs[i].events & EPOLLOUT)) flush(idx);
  }
  if (now >= next_sweep_) {
    next_sweep_ = now + kSweepInterval;
    for (uint32_t i = 0; i < conns_.size(); ++i) {
      Conn* c = conns_[i].get();
      if (c == nullptr) continue;
      if (!c->got_frame && now - c->opened >= cfg_.first_frame_timeout) {
        close_conn(i, Close::kIdle);
      } else if (now - c->last_rx >= cfg_.idle_timeout &&
                 !turn_->has_allocation(c->remote, c->local, Transport::kTcp, now)) {
        close_conn(i, Close::kIdle);
      }
    }
  }
  // Deferred writes: everything queued since the last poll (responses and
  // peer data), one send() per connection.
  for (uint32_t idx : dirty_) {
    if (idx < conns_.size() && conns_[idx] && conns_[idx]->dirty) flush(idx);
  }
  dirty_.clear();
  flush_tx();
  return next_sweep_;
}

void TcpTurnListener::accept_all(size_t li, Nanos now) {
  const Listener& L = listeners_[li];
  for (int k = 0; k < kAcceptsPerPoll; ++k) {
    SockAddr peer;
    socklen_t plen = sizeof(peer);
    const int fd = accept4(L.fd, &peer.sa, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE, ...): next poll
    if (nconns_.load(std::memory_order_relaxed) >= cfg_.max_connections) {
      ::close(fd);
      stats_.rejected_full.add();
      continue;
    }
    auto c = std::make_unique<Conn>(max_frame_);
    c->fd = fd;
    c->tls = L.tls;
    from_sockaddr(peer, &c->remote);
    SockAddr self;
    socklen_t slen = sizeof(self);
    getsockname(fd, &self.sa, &slen);
    from_sockaddr(self, &c->local);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->opened = c->last_rx = now;
    if (c->tls) {
      c->ssl = SSL_new(tls_->ctx());
      c->rbio = BIO_new(BIO_s_mem());
      c->wbio = BIO_new(BIO_s_mem());
      if (c->ssl == nullptr || c->rbio == nullptr || c->wbio == nullptr) {
        if (c->ssl == nullptr) {
          BIO_free(c->rbio);
          BIO_free(c->wbio);
        } else {
          SSL_set_bio(c->ssl, c->rbio, c->wbio);
        }
        ERR_clear_error();
        stats_.closed_tls_error.add();
        continue;  // ~Conn closes fd
      }
      SSL_set_bio(c->ssl, c->rbio, c->wbio);
      SSL_set_accept_state(c->ssl);
    }
    uint32_t idx;
    if (!free_slots_.empty()) {
      idx = free_slots_.back();
      free_slots_.pop_back();
    } else {
      idx = uint32_t(conns_.size());
      conns_.emplace_back();
    }
    c->idx = idx;
    c->gen = ++gen_counter_;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = conn_tag(idx, c->gen);
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      free_slots_.push_back(idx);
      stats_.closed_io_error.add();
      continue;
    }
    (c->tls ? stats_.accepted_tls : stats_.accepted_tcp).add();
    by_key_[Key{c->remote, c->local}] = idx;
    conns_[idx] = std::move(c);
    nconns_.fetch_add(1, std::memory_order_relaxed);
  }
}

void TcpTurnListener::on_readable(uint32_t idx, Nanos now) {
  Conn& c = *conns_[idx];
  for (int k = 0; k < kReadsPerEvent && !c.closing; ++k) {
    ssize_t n;
    size_t asked;
    if (c.tls) {
      uint8_t buf[kReadChunk];
      asked = sizeof(buf);
      n = ::read(c.fd, buf, asked);
      if (n > 0 && BIO_write(c.rbio, buf, int(n)) != int(n)) {
        c.closing = true, c.close_why = Close::kTls;
        break;
      }
    } else {
      uint8_t* w = c.framer.write_ptr();
      asked = c.framer.writable();
      n = ::read(c.fd, w, asked);
      if (n > 0) c.framer.commit(size_t(n));
    }
    if (n == 0) {
      c.closing = true, c.close_why = Close::kClient;
      break;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      c.closing = true, c.close_why = errno == ECONNRESET ? Close::kClient : Close::kIo;
      break;
    }
    c.last_rx = now;
    if (c.tls) {
      if (!tls_pump(c, now)) break;
    } else {
      stats_.bytes_in.add(uint64_t(n));
      handle_frames(c, now);
    }
    if (size_t(n) < asked) break;  // the socket is drained
  }
  if (c.closing) close_conn(idx, c.close_why);
}

// Feeds buffered ciphertext through OpenSSL: handshake, then plaintext into
// the framer. Handshake and alert output goes to the write buffer.
bool TcpTurnListener::tls_pump(Conn& c, Nanos now) {
  if (!c.handshaken) {
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
      c.handshaken = true;
      stats_.tls_handshakes.add();
    } else {
      const int e = SSL_get_error(c.ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        c.closing = true, c.close_why = Close::kTls;
      }
    }
  }
  while (c.handshaken && !c.closing) {
    uint8_t* w = c.framer.write_ptr();
    const int n = SSL_read(c.ssl, w, int(std::min<size_t>(c.framer.writable(), 1 << 30)));
    if (n <= 0) {
      const int e = SSL_get_error(c.ssl, n);
      if (e == SSL_ERROR_WANT_READ) break;
      ERR_clear_error();
      c.closing = true;
      c.close_why = e == SSL_ERROR_ZERO_RETURN ? Close::kClient : Close::kTls;
      break;
    }
    c.framer.commit(size_t(n));
    stats_.bytes_in.add(uint64_t(n));
    handle_frames(c, now);
  }
  // Whatever OpenSSL wants to say (handshake flights, alerts, session tickets).
  while (BIO_ctrl_pending(c.wbio) > 0) {
    const size_t pend = BIO_ctrl_pending(c.wbio);
    const size_t at = c.out.size();
    c.out.resize(at + pend);
    const int got = BIO_read(c.wbio, c.out.data() + at, int(pend));
    c.out.resize(at + size_t(std::max(got, 0)));
    if (got <= 0) break;
  }
  if (c.out.size() > c.out_off && !c.dirty) {
    c.dirty = true;
    dirty_.push_back(c.idx);
  }
  return !c.closing;
}

void TcpTurnListener::handle_frames(Conn& c, Nanos now) {
  StreamFrame f;
  StreamFrameStatus st;
  while (!c.closing && (st = c.framer.peek(&f)) == StreamFrameStatus::kFrame) {
    c.got_frame = true;
    stats_.frames_in.add();
    Packet* p = nullptr;
    if (driver_->alloc_bulk(q_, &p, 1) != 1) {
      // Pool empty (overload): the frame is dropped like a lost datagram.
      stats_.no_buffer.add();
      c.framer.consume();
      continue;
    }
    p->reset(kDefaultHeadroom);
    std::memcpy(p->data(), f.data, f.len);  // f.len <= max_frame_ <= tailroom
    p->len = f.len;
    p->remote = c.remote;
    p->local = c.local;
    c.framer.consume();
    bool out;
    if (f.kind == StreamFrameKind::kChannelData) {
      out = turn_->handle_channel_data(p, now, Transport::kTcp);
    } else if (turn::is_turn_stun(p->data(), p->len)) {
      out = turn_->handle_stun(p, now, Transport::kTcp);
    } else {
      out = stun_->handle(p, now);  // Binding over TCP (RFC 8489 §6.2.2)
    }
    if (!out) {
      driver_->free_bulk(q_, &p, 1);
    } else if (p->remote == c.remote && p->local == c.local) {
      // An answer for this client.
      if (!queue_out(c, p->data(), p->len)) c.closing = true, c.close_why = Close::kSlow;
      driver_->free_bulk(q_, &p, 1);
    } else {
      // Relayed to a peer from this worker's relayed port.
      stats_.to_peers.add();
      if (tx_.full()) flush_tx();
      tx_.push(p);
    }
  }
  if (!c.closing && c.framer.error() != StreamFrameError::kNone) {
    c.closing = true, c.close_why = Close::kGarbage;
  }
}

bool TcpTurnListener::queue_out(Conn& c, const uint8_t* data, uint32_t len) {
  const uint32_t wire = stream_wire_size(data, len);
  if (wire == 0) return true;  // not a frame: never produced by the core
  if (c.out.size() - c.out_off + wire > cfg_.write_buffer_limit) return false;
  if (c.out_off > 0 && c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  }
  if (c.tls) {
    uint8_t frame[kMaxStreamFrame];
    const uint32_t w = write_stream_frame(data, len, frame, sizeof(frame));
    if (SSL_write(c.ssl, frame, int(w)) != int(w)) {
      ERR_clear_error();
      c.closing = true, c.close_why = Close::kTls;
      return true;
    }
    const size_t pend = BIO_ctrl_pending(c.wbio);
    const size_t at = c.out.size();
    c.out.resize(at + pend);
    const int got = BIO_read(c.wbio, c.out.data() + at, int(pend));
    c.out.resize(at + size_t(std::max(got, 0)));
  } else {
    const size_t at = c.out.size();
    c.out.resize(at + wire);
    write_stream_frame(data, len, c.out.data() + at, wire);
  }
  stats_.frames_out.add();
  stats_.bytes_out.add(wire);
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(c.idx);
  }
  return true;
}

bool TcpTurnListener::send(const Packet& pkt, Nanos now) {
  (void)now;
  auto it = by_key_.find(Key{pkt.remote, pkt.local});
  if (it == by_key_.end()) {
    stats_.no_connection.add();
    return false;
  }
  Conn& c = *conns_[it->second];
  if (c.closing) return false;
  if (!queue_out(c, pkt.data(), pkt.len)) {
    close_conn(it->second, Close::kSlow);
    return false;
  }
  if (c.closing) {
    close_conn(it->second, c.close_why);
    return false;
  }
  return true;
}

void TcpTurnListener::flush(uint32_t idx) {
  Conn& c = *conns_[idx];
  c.dirty = false;
  while (c.out_off < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += size_t(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    close_conn(idx, errno == EPIPE || errno == ECONNRESET ? Close::kClient : Close::kIo);
    return;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off > c.out.size() / 2) {
    c.out.erase(c.out.begin(), c.out.begin() + long(c.out_off));
    c.out_off = 0;
  }
  set_want_write(c, c.out_off < c.out.size());
  if (c.closing) close_conn(idx, c.close_why);
}

void TcpTurnListener::set_want_write(Conn& c, bool on) {
  if (c.want_write == on) return;
  c.want_write = on;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (on ? uint32_t{EPOLLOUT} : 0u);
  ev.data.u64 = conn_tag(c.idx, c.gen);
  epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void TcpTurnListener::close_conn(uint32_t idx, Close why) {
  std::unique_ptr<Conn> c = std::move(conns_[idx]);
  if (!c) return;
  switch (why) {
    case Close::kClient:
      stats_.closed_by_client.add();
      break;
    case Close::kIdle:
      stats_.closed_idle.add();
      break;
    case Close::kGarbage:
      stats_.closed_garbage.add();
      break;
    case Close::kSlow:
      stats_.closed_slow_reader.add();
      break;
    case Close::kTls:
      stats_.closed_tls_error.add();
      break;
    case Close::kIo:
      stats_.closed_io_error.add();
      break;
    case Close::kShutdown:
      stats_.closed_shutdown.add();
      break;
  }
  if (c->tls && c->handshaken && why != Close::kTls) {
    // Best effort close_notify; the socket may not take it.
    SSL_shutdown(c->ssl);
    uint8_t buf[256];
    const int got = BIO_read(c->wbio, buf, sizeof(buf));
    if (got > 0) (void)::send(c->fd, buf, size_t(got), MSG_NOSIGNAL | MSG_DONTWAIT);
    ERR_clear_error();
  }
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  by_key_.erase(Key{c->remote, c->local});
  // The connection's 5-tuple is gone for good: so is its allocation.
  if (turn_ != nullptr) turn_->close_client(c->remote, c->local, Transport::kTcp);
  free_slots_.push_back(idx);
  nconns_.fetch_sub(1, std::memory_order_relaxed);
  // ~Conn closes the socket and frees the SSL.
}

void TcpTurnListener::flush_tx() {
  if (tx_.empty()) return;
  driver_->tx_burst(q_, tx_.pkts, tx_.count);
  tx_.clear();
}

}  // namespace tern
