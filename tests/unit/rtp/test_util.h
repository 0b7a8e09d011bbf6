// Helpers for the RTP/RTCP tests: packets are written out by hand as hex
// from the RFC layouts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tern {
namespace rtp {
namespace testing {

// "80 e0 12 34" -> bytes; spaces and '|' ignored.
inline std::vector<uint8_t> hex(const std::string& s) {
  std::vector<uint8_t> out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

}  // namespace testing
}  // namespace rtp
}  // namespace tern
