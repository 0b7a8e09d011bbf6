#include "bench/loadgen/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tern::loadgen {

ControlClient::~ControlClient() {
  if (fd_ >= 0) close(fd_);
}

absl::Status ControlClient::connect(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path))
    return absl::InvalidArgumentError(absl::StrCat("--control-socket: bad path \"", path, "\""));
  std::memcpy(sa.sun_path, path.data(), path.size());
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return absl::InternalError("socket(AF_UNIX) failed");
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
    return absl::UnavailableError(
        absl::StrCat("--control-socket: cannot connect to ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> ControlClient::call(const std::string& method,
                                                   const nlohmann::json& params, int timeout_ms) {
  if (fd_ < 0) return absl::FailedPreconditionError("control socket not connected");
  const long id = next_id_++;
  nlohmann::json req = {{"jsonrpc", "2.0"}, {"method", method}, {"params", params}, {"id", id}};
  std::string line = req.dump() + "\n";
  for (size_t off = 0; off < line.size();) {
    ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return absl::UnavailableError(absl::StrCat(method, ": send failed"));
    off += size_t(n);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char tmp[65536];
  for (;;) {
    for (size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
      std::string one = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      auto msg = nlohmann::json::parse(one, nullptr, false);
      if (msg.is_discarded() || !msg.is_object() || !msg.contains("id")) continue;  // event
      if (!msg["id"].is_number_integer() || msg["id"].get<long>() != id) continue;
      if (msg.contains("error")) {
        const auto& e = msg["error"];
        return absl::UnknownError(absl::StrCat(method, ": error ", e.value("code", 0), " ",
                                               e.value("message", std::string()), " ",
                                               e.contains("data") ? e["data"].dump() : ""));
      }
      return msg["result"];
    }
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(
                       deadline - std::chrono::steady_clock::now())
                       .count());
    if (left <= 0) return absl::DeadlineExceededError(absl::StrCat(method, ": no answer"));
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) continue;
    ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return absl::UnavailableError(absl::StrCat(method, ": ternd closed the socket"));
    buf_.append(tmp, size_t(n));
  }
}

}  // namespace tern::loadgen
