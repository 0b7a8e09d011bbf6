#include "engine/net/endpoint.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tern {

Endpoint Endpoint::v4(uint32_t a, uint16_t port) {
  Endpoint e;
  e.family = Family::kIpv4;
  e.port = port;
  e.addr[0] = uint8_t(a >> 24);
  e.addr[1] = uint8_t(a >> 16);
  e.addr[2] = uint8_t(a >> 8);
  e.addr[3] = uint8_t(a);
  return e;
}

Endpoint Endpoint::v6(const uint8_t a[16], uint16_t port) {
  Endpoint e;
  e.family = Family::kIpv6;
  e.port = port;
  std::memcpy(e.addr, a, 16);
  return e;
}

absl::StatusOr<Endpoint> Endpoint::parse(absl::string_view text) {
  std::string host;
  absl::string_view port_text;
  bool has_port = false;  // a ':' introduced a port, so it must not be empty
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("missing ']' in address '", text, "'"));
    }
    host = std::string(text.substr(1, close - 1));
    absl::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat("expected ':port' after ']' in '", text, "'"));
      }
      port_text = rest.substr(1);
      has_port = true;
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != absl::string_view::npos && text.find(':') == colon) {
      host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
      has_port = true;
    } else {
      host = std::string(text);  // bare IPv4 or bare IPv6 without brackets
    }
  }
  Endpoint e;
  if (has_port) {
    uint32_t port = 0;
    if (!absl::SimpleAtoi(port_text, &port) || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("bad port in address '", text, "'"));
    }
    e.port = uint16_t(port);
  }
  if (inet_pton(AF_INET, host.c_str(), e.addr) == 1) {
    e.family = Family::kIpv4;
  } else if (inet_pton(AF_INET6, host.c_str(), e.addr) == 1) {
    e.family = Family::kIpv6;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 or IPv6 address: '", host, "'"));
  }
  return e;
}

std::string Endpoint::addr_string() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (is_v4()) {
    inet_ntop(AF_INET, addr, buf, sizeof(buf));
  } else if (is_v6()) {
    inet_ntop(AF_INET6, addr, buf, sizeof(buf));
  } else {
    return "none";
  }
  return buf;
}

std::string Endpoint::to_string() const {
  if (is_v6()) return absl::StrCat("[", addr_string(), "]:", port);
  return absl::StrCat(addr_string(), ":", port);
}

}  // namespace tern
