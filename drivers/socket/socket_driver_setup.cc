// SocketDriver setup: sockets, pools, prebuilt header arrays. Control plane
// code: errors are absl::Status naming the address, port and errno text.
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/socket/socket_driver_internal.h"

namespace tern {
namespace {

constexpr int kSockBufBytes = 4 << 20;  // best effort; capped by net.core.[rw]mem_max

std::string errno_text(int err) { return std::strerror(err); }

absl::Status sock_error(const char* what, const Endpoint& e, uint16_t q, int err) {
  return absl::UnavailableError(
      absl::StrCat("socket: ", what, " ", e.to_string(), " (queue ", q, "): ", errno_text(err)));
}

// Opens, configures and binds one socket. On failure *err_no holds errno.
absl::StatusOr<SocketInfo> open_socket(const Endpoint& addr, uint16_t q, const SocketConfig& cfg,
                                       int* err_no) {
  SocketInfo s;
  s.bound = addr;
  s.wildcard = addr_is_unspecified(addr);
  const int family = addr.is_v4() ? AF_INET : AF_INET6;
  s.fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (s.fd < 0) {
    *err_no = errno;
    return sock_error("socket() for", addr, q, errno);
  }
  auto fail = [&](const char* what) {
    const int err = errno;
    *err_no = err;
    ::close(s.fd);
    return sock_error(what, addr, q, err);
  };
  const int one = 1;
  if (addr.is_v6() && setsockopt(s.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return fail("IPV6_V6ONLY on");
  }
  if (s.wildcard) {
    const int rc = addr.is_v4()
                       ? setsockopt(s.fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))
                       : setsockopt(s.fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    if (rc != 0) return fail("enabling pktinfo on");
  }
  // Media bursts: larger socket buffers absorb them. Best effort.
  setsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &kSockBufBytes, sizeof(kSockBufBytes));
  setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &kSockBufBytes, sizeof(kSockBufBytes));
  if (cfg.gro) s.gro = setsockopt(s.fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
  if (cfg.gso) {
    // Probe: kernels with UDP_SEGMENT accept a socket-wide size of 0 (= per-message only).
    const int zero = 0;
    s.gso = setsockopt(s.fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
  }
  SockAddr sa;
  const socklen_t len = to_sockaddr(addr, &sa);
  if (::bind(s.fd, &sa.sa, len) != 0) return fail("bind");
  SockAddr got;
  socklen_t got_len = sizeof(got);
  if (getsockname(s.fd, &got.sa, &got_len) != 0) return fail("getsockname on");
  from_sockaddr(got, &s.bound);
  return s;
}

void init_queue_arrays(SocketDriver::Queue& Q) {
  std::memset(Q.rx_msgs, 0, sizeof(Q.rx_msgs));
  std::memset(Q.tx_msgs, 0, sizeof(Q.tx_msgs));
  for (uint16_t j = 0; j < kMaxBurst; ++j) {
    msghdr& h = Q.rx_msgs[j].msg_hdr;
    h.msg_name = &Q.rx_names[j];
    h.msg_iov = Q.rx_iov[j];
    h.msg_control = Q.rx_ctrl[j];
    Q.rx_iov[j][0] = iovec{nullptr, kSocketDataRoom};
    Q.rx_iov[j][1] = iovec{nullptr, 0};
    if (Q.gro_stage) {
      Q.rx_iov[j][1].iov_base = Q.gro_stage.get() + size_t{j} * kGroStage + kSocketDataRoom;
      Q.rx_iov[j][1].iov_len = kGroStage - kSocketDataRoom;
    }
    Q.tx_msgs[j].msg_hdr.msg_name = &Q.tx_names[j];
    Q.tx_msgs[j].msg_hdr.msg_control = Q.tx_ctrl[j];
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SocketDriver>> SocketDriver::create(
    const SocketConfig& cfg, const DriverCommonConfig& common) {
  if (common.num_queues == 0) {
    return absl::InvalidArgumentError("engine.workers: must be at least 1");
  }
  if (common.base_port != 0 && uint32_t{common.base_port} + common.num_queues - 1 > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("udp.base_port: ", common.base_port, " + ",
                                                   common.num_queues,
                                                   " workers runs past port 65535"));
  }
  if (cfg.addresses.empty()) return absl::InvalidArgumentError("socket.addresses: empty");
  std::unique_ptr<SocketDriver> d(new SocketDriver());
  bool all_gro = true, all_gso = true;
  for (uint16_t q = 0; q < common.num_queues; ++q) {
    auto Q = std::make_unique<Queue>();
    Q->id = q;
    const uint16_t port = common.base_port == 0 ? 0 : static_cast<uint16_t>(common.base_port + q);
    for (const Endpoint& a : cfg.addresses) {
      Endpoint e = a;
      e.port = port;
      int err = 0;
      absl::StatusOr<SocketInfo> s = open_socket(e, q, cfg, &err);
      if (!s.ok()) {
        // The default ::1 is optional: hosts with IPv6 disabled still start.
        if (cfg.addresses_defaulted && e.is_v6() && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT)) {
          continue;
        }
        for (const SocketInfo& si : Q->socks) ::close(si.fd);
        return s.status();
      }
      all_gro = all_gro && s->gro;
      all_gso = all_gso && s->gso;
      Q->socks.push_back(*s);
      Q->pfds.push_back(pollfd{s->fd, POLLIN, 0});
    }
    if (Q->socks.empty()) {
      return absl::UnavailableError("socket.addresses: no address could be bound");
    }
    Q->nmain = static_cast<uint16_t>(Q->socks.size());
    bool any_gro = false;
    for (const SocketInfo& s : Q->socks) any_gro = any_gro || s.gro;
    if (any_gro) Q->gro_stage.reset(new uint8_t[size_t{kMaxBurst} * kGroStage]);
    Q->pool = std::make_unique<BufferPool>(q, cfg.buffers, kSocketDataRoom);
    init_queue_arrays(*Q);
    d->queues_.push_back(std::move(Q));
  }
  d->cfg_ = cfg;
  d->caps_.link_layer = false;
  // wait_rx is a ppoll over the queue's sockets: it returns when a datagram
  // arrives, so a worker may sleep until traffic instead of polling a timer.
  d->caps_.rx_interrupts = true;
  d->caps_.gro = cfg.gro && all_gro;
  d->caps_.gso = cfg.gso && all_gso;
  return d;
}

SocketDriver::~SocketDriver() {
  for (auto& Q : queues_) {
    for (const SocketInfo& s : Q->socks) {
      if (s.fd >= 0) ::close(s.fd);
    }
    if (Q->epfd >= 0) ::close(Q->epfd);
  }
}

std::vector<Endpoint> SocketDriver::local_endpoints(uint16_t q) const {
  std::vector<Endpoint> out;
  if (q >= queues_.size()) return out;
  for (uint16_t i = 0; i < queues_[q]->nmain; ++i) out.push_back(queues_[q]->socks[i].bound);
  return out;
}

absl::Status SocketDriver::open_port(uint16_t q, const Endpoint& local) {
  if (q >= queues_.size()) return absl::InvalidArgumentError(absl::StrCat("socket: no queue ", q));
  Queue& Q = *queues_[q];
  if ((!local.is_v4() && !local.is_v6()) || local.port == 0 || addr_is_unspecified(local)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "socket: open_port needs a concrete address and port, got ", local.to_string()));
  }
  if (Q.extra_by_port.contains(extra_port_key(local))) {
    return absl::AlreadyExistsError(
        absl::StrCat("socket: port ", local.to_string(), " already open on queue ", q));
  }
  if (Q.socks.size() >= 32000) {
    return absl::ResourceExhaustedError(absl::StrCat("socket: queue ", q, " has 32000 sockets"));
  }
  if (Q.epfd < 0) {
    Q.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (Q.epfd < 0) return sock_error("epoll_create1 for", local, q, errno);
    Q.pfds.push_back(pollfd{Q.epfd, POLLIN, 0});
  }
  SocketConfig cfg = cfg_;
  cfg.gro = false;  // extra ports receive into their slot only (no staging)
  int err = 0;
  absl::StatusOr<SocketInfo> si = open_socket(local, q, cfg, &err);
  if (!si.ok()) return si.status();
  uint16_t idx = Q.nmain;
  while (idx < Q.socks.size() && Q.socks[idx].fd >= 0) ++idx;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = idx;
  if (epoll_ctl(Q.epfd, EPOLL_CTL_ADD, si->fd, &ev) != 0) {
    const int e = errno;
    ::close(si->fd);
    return sock_error("epoll_ctl ADD", local, q, e);
  }
  if (idx == Q.socks.size()) {
    Q.socks.push_back(*si);
  } else {
    Q.socks[idx] = *si;
  }
  Q.extra_by_port[extra_port_key(local)] = idx;
  return absl::OkStatus();
}

void SocketDriver::close_port(uint16_t q, const Endpoint& local) {
  if (q >= queues_.size()) return;
  Queue& Q = *queues_[q];
  auto it = Q.extra_by_port.find(extra_port_key(local));
  if (it == Q.extra_by_port.end()) return;
  const uint16_t idx = it->second;
  Q.extra_by_port.erase(it);
  // Datagrams of this socket still waiting in the cursor go back to the pool
  // (a message already partly handed out keeps its slot with the engine).
  if (Q.cur.pending() && Q.cur.sock == idx) {
    for (uint16_t j = Q.cur.msg; j < Q.cur.got; ++j) {
      if (j == Q.cur.msg && Q.cur.seg_off != 0) continue;
      Q.pool->push(Q.rx_slots[j]);
    }
    Q.cur.got = Q.cur.msg = 0;
    Q.cur.seg_off = 0;
  }
  SocketInfo& s = Q.socks[idx];
  epoll_ctl(Q.epfd, EPOLL_CTL_DEL, s.fd, nullptr);
  ::close(s.fd);
  s = SocketInfo{};
  while (Q.socks.size() > Q.nmain && Q.socks.back().fd < 0) Q.socks.pop_back();
}

size_t SocketDriver::open_ports(uint16_t q) const { return queues_[q]->extra_by_port.size(); }

bool SocketDriver::add_wake_fd(uint16_t q, int fd) {
  if (q >= queues_.size() || fd < 0) return false;
  queues_[q]->pfds.push_back(pollfd{fd, POLLIN, 0});
  return true;
}

const DriverQueueStats& SocketDriver::stats(uint16_t q) const { return queues_[q]->stats; }
uint32_t SocketDriver::pool_available(uint16_t q) const { return queues_[q]->pool->available(); }
uint32_t SocketDriver::pool_size(uint16_t q) const { return queues_[q]->pool->size(); }

absl::StatusOr<std::unique_ptr<PacketDriver>> make_socket_driver(const toml::table& section,
                                                                 const DriverCommonConfig& common) {
  absl::StatusOr<SocketConfig> cfg = parse_socket_config(section);
  if (!cfg.ok()) return cfg.status();
  absl::StatusOr<std::unique_ptr<SocketDriver>> d = SocketDriver::create(*cfg, common);
  if (!d.ok()) return d.status();
  return std::unique_ptr<PacketDriver>(std::move(*d));
}

}  // namespace tern
