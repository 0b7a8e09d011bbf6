// Internals of the SDP parser shared by sdp_parser.cc and sdp_attributes.cc:
// the Parser class and its small lexical helpers. Not for other files.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "control/sdp/sdp_parser.h"

namespace tern {
namespace sdp {
namespace parser_internal {

using Words = std::vector<absl::string_view>;

inline Words split_words(absl::string_view v) { return absl::StrSplit(v, ' ', absl::SkipEmpty()); }

// Unsigned decimal, digits only (no sign, no spaces), at most `max`.
inline bool parse_uint(absl::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = uint64_t(c - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

inline bool is_token_char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains("!#$%&'*+-.^_`{|}~", c);
}
inline bool is_token(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}
inline bool is_rid_id(absl::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}
inline bool is_ice_char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

inline bool parse_direction(absl::string_view name, Direction* d) {
  if (name == "sendrecv")
    *d = Direction::kSendRecv;
  else if (name == "sendonly")
    *d = Direction::kSendOnly;
  else if (name == "recvonly")
    *d = Direction::kRecvOnly;
  else if (name == "inactive")
    *d = Direction::kInactive;
  else
    return false;
  return true;
}

class Parser {
 public:
  explicit Parser(const SdpLimits& limits) : limits_(limits) {}

  absl::StatusOr<SessionDescription> run(absl::string_view text);

 private:
  // Error for the current line.
  absl::Status err(absl::string_view field, absl::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrFormat("line %d: %s: %s", line_no_, field, msg));
  }
  absl::Status line(char type, absl::string_view value);
  absl::Status media_line(absl::string_view value);
  absl::Status attribute(absl::string_view name, bool has_value, absl::string_view value);
  absl::Status transport_attr(TransportAttrs& t, absl::string_view name, absl::string_view value,
                              bool* handled);
  absl::Status rtpmap(absl::string_view v);
  absl::Status fmtp(absl::string_view v);
  absl::Status rtcp_fb(absl::string_view v);
  absl::Status extmap(absl::string_view v);
  absl::Status ssrc(absl::string_view v);
  absl::Status ssrc_group(absl::string_view v);
  absl::Status candidate(absl::string_view v);
  absl::Status rid(absl::string_view v);
  absl::Status simulcast(absl::string_view v);
  absl::Status finish_media();
  // The payload type in an rtpmap/fmtp/rtcp-fb value.
  absl::Status payload_type(absl::string_view field, absl::string_view s, uint8_t* pt) const;
  Codec& codec_for(uint8_t pt);

  const SdpLimits& limits_;
  SessionDescription sd_;
  MediaSection* m_ = nullptr;  // current section, nullptr at session level
  int line_no_ = 0;
  // Per-level "seen once" flags; reset on every m=.
  bool seen_v_ = false, seen_o_ = false, seen_s_ = false, seen_t_ = false;
  bool seen_mid_ = false, seen_dir_ = false, seen_ufrag_ = false, seen_pwd_ = false;
  bool seen_setup_ = false, seen_sctp_port_ = false, seen_mms_ = false, seen_simulcast_ = false;
  int simulcast_line_ = 0;
  int m_line_ = 0;
};

}  // namespace parser_internal
}  // namespace sdp
}  // namespace tern
