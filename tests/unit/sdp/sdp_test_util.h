// Test helpers: the sample offers under tests/unit/sdp/offers/.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_replace.h"

namespace tern::sdp::testing {

inline std::string load_offer(const std::string& name) {
  std::ifstream in(std::string(TERN_SDP_OFFERS_DIR) + "/" + name + ".sdp", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Replaces the first occurrence of `from` (must exist) in `s`.
inline std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t p = s.find(from);
  if (p == std::string::npos) return "<<replace_once: '" + from + "' not found>>";
  s.replace(p, from.size(), to);
  return s;
}

// Removes every line that starts with `prefix` (CRLF lines).
inline std::string drop_lines(const std::string& s, const std::string& prefix) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find("\r\n", pos);
    e = e == std::string::npos ? s.size() : e + 2;
    if (s.compare(pos, prefix.size(), prefix) != 0) out.append(s, pos, e - pos);
    pos = e;
  }
  return out;
}

inline const char* kOffers[] = {"chrome_whip_simulcast", "chrome_whep_recvonly",
                                "chrome_datachannel", "firefox_sendonly"};

}  // namespace tern::sdp::testing
