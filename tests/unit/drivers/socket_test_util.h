// Helpers for the socket driver tests: a plain UDP peer socket, free ports.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "drivers/socket/socket_driver.h"
#include "engine/net/endpoint.h"

namespace tern::testing {

inline socklen_t make_sa(const Endpoint& e, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof(*ss));
  if (e.is_v4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(e.port);
    std::memcpy(&a->sin_addr, e.addr, 4);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(ss);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(e.port);
  std::memcpy(&a->sin6_addr, e.addr, 16);
  return sizeof(sockaddr_in6);
}

inline Endpoint from_sa(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    e.family = Family::kIpv4;
    e.port = ntohs(a->sin_port);
    std::memcpy(e.addr, &a->sin_addr, 4);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    e.family = Family::kIpv6;
    e.port = ntohs(a->sin6_port);
    std::memcpy(e.addr, &a->sin6_addr, 16);
  }
  return e;
}

inline Endpoint addr(const char* text, uint16_t port = 0) {
  Endpoint e = *Endpoint::parse(text);
  e.port = port;
  return e;
}

// A plain UDP socket bound to `where` (port 0: ephemeral).
class Peer {
 public:
  explicit Peer(Endpoint where) {
    fd_ = ::socket(where.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_storage ss;
    socklen_t len = make_sa(where, &ss);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    len = sizeof(ss);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    ep_ = from_sa(ss);
  }
  ~Peer() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const Endpoint& endpoint() const { return ep_; }

  bool send_to(const Endpoint& to, const void* data, size_t len) {
    sockaddr_storage ss;
    socklen_t sl = make_sa(to, &ss);
    return ::sendto(fd_, data, len, 0, reinterpret_cast<sockaddr*>(&ss), sl) ==
           static_cast<ssize_t>(len);
  }
  bool send_to(const Endpoint& to, const std::string& s) { return send_to(to, s.data(), s.size()); }

  // Receives one datagram within timeout_ms; false on timeout.
  bool recv(std::string* data, Endpoint* from, int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[70000];
    sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    const ssize_t r =
        ::recvfrom(fd_, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), &sl);
    if (r < 0) return false;
    data->assign(buf, static_cast<size_t>(r));
    if (from) *from = from_sa(ss);
    return true;
  }

 private:
  int fd_ = -1;
  Endpoint ep_;
};

inline bool v6_loopback_available() {
  Peer p(addr("::1"));
  return p.ok();
}

// A port that is free right now on both 127.0.0.1 and ::1 (and the next
// `count - 1` ports), so drivers under test do not collide with other runs.
inline uint16_t pick_free_base_port(uint16_t count = 1) {
  const bool v6 = v6_loopback_available();
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t base;
    {
      Peer probe(addr("0.0.0.0"));
      base = probe.endpoint().port;
    }
    if (base == 0 || uint32_t{base} + count > 65535) continue;
    bool free = true;
    for (uint16_t i = 0; i < count && free; ++i) {
      // A dual-stack "::" bind (the Linux default) checks v4 and v6 at once.
      Peer t(addr(v6 ? "::" : "0.0.0.0", static_cast<uint16_t>(base + i)));
      free = t.ok();
    }
    if (free) return base;
  }
  return 0;
}

// Creates a driver on a fresh free base port (retries on a bind race).
inline absl::StatusOr<std::unique_ptr<SocketDriver>> make_driver(SocketConfig cfg,
                                                                 uint16_t queues = 1) {
  absl::Status last = absl::UnknownError("no free port");
  for (int attempt = 0; attempt < 10; ++attempt) {
    DriverCommonConfig common;
    common.num_queues = queues;
    common.base_port = pick_free_base_port(queues);
    if (common.base_port == 0) continue;
    auto d = SocketDriver::create(cfg, common);
    if (d.ok()) return d;
    last = d.status();
  }
  return last;
}

// Polls queue q until `want` packets arrived or `timeout_ms` passed.
inline std::vector<Packet*> rx_until(SocketDriver& d, uint16_t q, size_t want,
                                     uint16_t burst = kMaxBurst, int timeout_ms = 3000) {
  std::vector<Packet*> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    Packet* pkts[kMaxBurst];
    const uint16_t n = d.rx_burst(q, pkts, burst);
    got.insert(got.end(), pkts, pkts + n);
    if (n == 0) d.wait_rx(q, 50 * kMillisecond);
  }
  return got;
}

}  // namespace tern::testing
