// SocketWire: one connected, non-blocking kernel UDP socket per flow, all in
// one epoll set. A connected socket only reads what its remote sends, which
// is the flow's filter for free.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/wire.h"

namespace tern::loadgen {
namespace {

class SocketWire final : public Wire {
 public:
  SocketWire() : ep_(epoll_create1(EPOLL_CLOEXEC)) {}
  ~SocketWire() override {
    for (const Slot& s : slots_)
      if (s.fd >= 0) ::close(s.fd);
    ::close(ep_);
  }
  std::string name() const override { return "socket"; }

  absl::StatusOr<Flow> open(const Endpoint& to_ep, DatagramSink* sink) override {
    if (!to_ep.is_v4()) return absl::InvalidArgumentError("socket wire: IPv4 remotes only");
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket(): ", std::strerror(errno)));
    int sz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, to_ep.addr, 4);
    to.sin_port = htons(to_ep.port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
      const int e = errno;
      ::close(fd);
      return absl::UnavailableError(
          absl::StrCat("connect to ", to_ep.to_string(), " failed: ", std::strerror(e)));
    }
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    Flow f;
    f.local = Endpoint::v4(ntohl(local.sin_addr.s_addr), ntohs(local.sin_port));
    f.id = int(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].fd < 0) f.id = int(i);
    if (size_t(f.id) == slots_.size()) slots_.emplace_back();
    slots_[f.id] = {fd, sink};
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = uint32_t(f.id);
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    return f;
  }

  void close(Flow& f) override {
    if (!f.open() || size_t(f.id) >= slots_.size()) return;
    Slot& s = slots_[f.id];
    if (s.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, s.fd, nullptr);
      ::close(s.fd);
    }
    s = {};
    f.id = -1;
  }

  bool send(const Flow& f, const iovec* iov, int iovcnt) override {
    if (!f.open()) return false;
    const ssize_t r = iovcnt == 1 ? ::send(slots_[f.id].fd, iov[0].iov_base, iov[0].iov_len, 0)
                                  : ::writev(slots_[f.id].fd, iov, iovcnt);
    if (r < 0) return false;
    ++c_.tx_frames;
    return true;
  }

  void poll(Nanos timeout) override {
    epoll_event evs[64];
    const int n = epoll_wait(ep_, evs, 64, int((timeout + kMillisecond - 1) / kMillisecond));
    const Nanos now = mono_now();
    for (int i = 0; i < n; ++i) {
      const uint32_t id = evs[i].data.u32;
      for (int k = 0; k < 256 && id < slots_.size() && slots_[id].fd >= 0; ++k) {
        const ssize_t r = ::recv(slots_[id].fd, buf_, sizeof(buf_), 0);
        if (r <= 0) break;
        ++c_.rx_frames;
        slots_[id].sink->on_datagram(buf_, size_t(r), now);
      }
    }
  }

  WireCounters counters() const override { return c_; }

 private:
  struct Slot {
    int fd = -1;
    DatagramSink* sink = nullptr;
  };
  int ep_;
  std::vector<Slot> slots_;
  uint8_t buf_[2048];
  WireCounters c_;
};

}  // namespace

std::unique_ptr<Wire> make_socket_wire() { return std::make_unique<SocketWire>(); }

}  // namespace tern::loadgen
