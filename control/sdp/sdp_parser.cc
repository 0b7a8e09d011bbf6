#include "control/sdp/sdp_parser.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace tern {
namespace sdp {

// ---- parser -------------------------------------------------------------------

namespace {

using Words = std::vector<absl::string_view>;

Words split_words(absl::string_view v) { return absl::StrSplit(v, ' ', absl::SkipEmpty()); }

// Unsigned decimal, digits only (no sign, no spaces), at most `max`.
bool parse_uint(absl::string_view s, uint64_t max, uint64_t* out) {
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

bool is_token_char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::StrContains("!#$%&'*+-.^_`{|}~", c);
}
bool is_token(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}
bool is_rid_id(absl::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}
bool is_ice_char(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

bool parse_direction(absl::string_view name, Direction* d) {
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

absl::StatusOr<SessionDescription> Parser::run(absl::string_view text) {
  if (text.size() > limits_.max_size) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("sdp: %d bytes, more than the limit of %d", text.size(), limits_.max_size));
  }
  size_t pos = 0;
  size_t lines = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    absl::string_view l = text.substr(pos, nl == absl::string_view::npos ? text.npos : nl - pos);
    pos = nl == absl::string_view::npos ? text.size() : nl + 1;
    ++line_no_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;  // lenient: blank lines (a trailing CRLF CRLF from HTTP bodies)
    if (++lines > limits_.max_lines) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("line %d: more than %d lines", line_no_, limits_.max_lines));
    }
    if (l.size() > limits_.max_line_length) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("line %d: %d bytes, more than the limit of %d", line_no_, l.size(),
                          limits_.max_line_length));
    }
    for (char c : l) {
      const unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7F) {
        return absl::InvalidArgumentError(
            absl::StrFormat("line %d: control character 0x%02x", line_no_, u));
      }
    }
    if (l.size() < 2 || l[1] != '=' || l[0] < 'a' || l[0] > 'z') {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: expected <letter>=<value>, got \"%s\"", line_no_,
                          absl::CHexEscape(l.substr(0, 40))));
    }
    if (!seen_v_ && l[0] != 'v') {
      return absl::InvalidArgumentError(
          absl::StrFormat("line %d: v=: the first line must be v=0", line_no_));
    }
    absl::Status st = line(l[0], l.substr(2));
    if (!st.ok()) return st;
  }
  if (!seen_v_) return absl::InvalidArgumentError("sdp: empty description (no v= line)");
  if (m_ != nullptr) {
    absl::Status st = finish_media();
    if (!st.ok()) return st;
  }
  if (!seen_o_) return absl::InvalidArgumentError("sdp: o=: missing origin line");
  if (!seen_s_) return absl::InvalidArgumentError("sdp: s=: missing session name line");
  if (!seen_t_) return absl::InvalidArgumentError("sdp: t=: missing timing line");
  return std::move(sd_);
}

absl::Status Parser::line(char type, absl::string_view value) {
  switch (type) {
    case 'v':
      if (seen_v_) return err("v=", "duplicate");
      if (value != "0") return err("v=", absl::StrCat("version \"", value, "\" is not 0"));
      seen_v_ = true;
      return absl::OkStatus();
    case 'o': {
      if (m_ != nullptr) return err("o=", "not allowed in a media section");
      if (seen_o_) return err("o=", "duplicate");
      Words w = split_words(value);
      if (w.size() != 6) return err("o=", absl::StrFormat("expected 6 fields, got %d", w.size()));
      // Lenient on the id's syntax (some clients send non-numeric ids); bounded in length.
      if (w[1].size() > 64 || w[2].size() > 64) return err("o=", "session id/version too long");
      sd_.origin = Origin{std::string(w[0]), std::string(w[1]), std::string(w[2]),
                          std::string(w[3]), std::string(w[4]), std::string(w[5])};
      seen_o_ = true;
      return absl::OkStatus();
    }
    case 's':
      if (m_ != nullptr) return err("s=", "not allowed in a media section");
      if (seen_s_) return err("s=", "duplicate");
      sd_.session_name = std::string(value);
      seen_s_ = true;
      return absl::OkStatus();
    case 't':
      if (m_ != nullptr) return err("t=", "not allowed in a media section");
      if (seen_t_) return absl::OkStatus();  // several t= are legal; keep the first
      sd_.timing = std::string(value);
      seen_t_ = true;
      return absl::OkStatus();
    case 'c': {
      Words w = split_words(value);
      if (w.size() != 3) return err("c=", absl::StrFormat("expected 3 fields, got %d", w.size()));
      std::string& c = m_ != nullptr ? m_->connection : sd_.connection;
      c = std::string(value);
      return absl::OkStatus();
    }
    case 'b':
      if (value.find(':') == absl::string_view::npos) {
        return err("b=", "expected <bwtype>:<bandwidth>");
      }
      (m_ != nullptr ? m_->bandwidths : sd_.bandwidths).emplace_back(value);
      return absl::OkStatus();
    case 'm':
      return media_line(value);
    case 'a': {
      const size_t colon = value.find(':');
      if (colon == absl::string_view::npos) return attribute(value, false, {});
      return attribute(value.substr(0, colon), true, value.substr(colon + 1));
    }
    default:
      // i= u= e= p= r= z= k=: informational, not used by WebRTC. Skipped.
      return absl::OkStatus();
  }
}

absl::Status Parser::media_line(absl::string_view value) {
  if (!seen_o_ || !seen_s_ || !seen_t_) {
    return err("m=", "session-level o=, s= and t= must come before the first m=");
  }
  if (m_ != nullptr) {
    absl::Status st = finish_media();
    if (!st.ok()) return st;
  }
  if (sd_.media.size() >= limits_.max_media) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("line %d: m=: more than %d media sections", line_no_, limits_.max_media));
  }
  Words w = split_words(value);
  if (w.size() < 4) {
    return err(
        "m=", absl::StrFormat("expected <media> <port> <proto> <fmt>..., got %d fields", w.size()));
  }
  MediaSection m;
  m.media = std::string(w[0]);
  if (w[0] == "audio")
    m.kind = MediaKind::kAudio;
  else if (w[0] == "video")
    m.kind = MediaKind::kVideo;
  else if (w[0] == "application")
    m.kind = MediaKind::kApplication;
  absl::string_view port = w[1];
  const size_t slash = port.find('/');
  uint64_t v;
  if (slash != absl::string_view::npos) {
    if (!parse_uint(port.substr(slash + 1), 65535, &v) || v == 0) {
      return err("m=", absl::StrCat("port count \"", port.substr(slash + 1), "\" invalid"));
    }
    m.port_count = uint16_t(v);
    port = port.substr(0, slash);
  }
  if (!parse_uint(port, 65535, &v)) {
    return err("m=", absl::StrCat("port \"", port, "\" not in 0..65535"));
  }
  m.port = uint16_t(v);
  m.proto = std::string(w[2]);
  for (size_t i = 3; i < w.size(); ++i) {
    if (m.is_rtp()) {
      if (!parse_uint(w[i], UINT32_MAX, &v) || v > 127) {
        return err("m=", absl::StrCat("payload type ", w[i], " out of range 0..127"));
      }
      for (size_t j = 3; j < i; ++j) {
        if (w[j] == w[i]) return err("m=", absl::StrCat("payload type ", w[i], " listed twice"));
      }
    }
    m.formats.emplace_back(w[i]);
  }
  sd_.media.push_back(std::move(m));
  m_ = &sd_.media.back();
  m_line_ = line_no_;
  seen_mid_ = seen_dir_ = seen_ufrag_ = seen_pwd_ = seen_setup_ = false;
  seen_sctp_port_ = seen_mms_ = seen_simulcast_ = false;
  return absl::OkStatus();
}

absl::Status Parser::transport_attr(TransportAttrs& t, absl::string_view name,
                                    absl::string_view value, bool* handled) {
  *handled = true;
  if (name == "ice-ufrag" || name == "ice-pwd") {
    const bool ufrag = name == "ice-ufrag";
    bool& seen = ufrag ? seen_ufrag_ : seen_pwd_;
    const std::string field = absl::StrCat("a=", name);
    if (seen) return err(field, "duplicate");
    if (value.empty() || value.size() > 256) return err(field, "length not in 1..256");
    for (char c : value) {
      if (!is_ice_char(c)) {
        return err(field, absl::StrFormat("character '%s' is not an ice-char",
                                          absl::CHexEscape(absl::string_view(&c, 1))));
      }
    }
    (ufrag ? t.ice_ufrag : t.ice_pwd) = std::string(value);
    seen = true;
  } else if (name == "ice-options") {
    for (absl::string_view o : split_words(value)) t.ice_options.emplace_back(o);
  } else if (name == "fingerprint") {
    absl::StatusOr<Fingerprint> fp = parse_fingerprint(value);
    if (!fp.ok()) return err("a=fingerprint", fp.status().message());
    if (t.fingerprints.size() >= 8) return err("a=fingerprint", "more than 8");
    t.fingerprints.push_back(SdpFingerprint{*fp});
  } else if (name == "setup") {
    if (seen_setup_) return err("a=setup", "duplicate");
    if (value == "actpass")
      t.setup = Setup::kActPass;
    else if (value == "active")
      t.setup = Setup::kActive;
    else if (value == "passive")
      t.setup = Setup::kPassive;
    else if (value == "holdconn")
      t.setup = Setup::kHoldConn;
    else {
      return err("a=setup",
                 absl::StrCat("\"", value, "\" is not actpass, active, passive or holdconn"));
    }
    seen_setup_ = true;
  } else {
    *handled = false;
  }
  return absl::OkStatus();
}

absl::Status Parser::attribute(absl::string_view name, bool has_value, absl::string_view value) {
  const std::string field = absl::StrCat("a=", name);
  Direction d;
  if (parse_direction(name, &d)) {
    if (seen_dir_) return err(field, "a second direction attribute in the same section");
    seen_dir_ = true;
    if (m_ != nullptr) {
      m_->has_direction = true;
      m_->direction = d;
    } else {
      sd_.has_direction = true;
      sd_.direction = d;
    }
    return absl::OkStatus();
  }
  bool handled = false;
  absl::Status st =
      transport_attr(m_ != nullptr ? m_->transport : sd_.transport, name, value, &handled);
  if (!st.ok() || handled) return st;
  if (name == "extmap-allow-mixed") {
    (m_ != nullptr ? m_->extmap_allow_mixed : sd_.extmap_allow_mixed) = true;
    return absl::OkStatus();
  }
  if (m_ == nullptr) {
    if (name == "ice-lite") {
      sd_.ice_lite = true;
      return absl::OkStatus();
    }
    if (name == "group") {
      Words w = split_words(value);
      if (w.empty()) return err(field, "missing semantics");
      Group g;
      g.semantics = std::string(w[0]);
      for (size_t i = 1; i < w.size(); ++i) {
        if (!is_token(w[i])) return err(field, absl::StrCat("mid \"", w[i], "\" is not a token"));
        if (g.mids.size() >= limits_.max_media) {
          return err(field, absl::StrFormat("more than %d mids", limits_.max_media));
        }
        for (const std::string& e : g.mids) {
          if (e == w[i]) return err(field, absl::StrCat("mid ", w[i], " listed twice"));
        }
        g.mids.emplace_back(w[i]);
      }
      if (g.semantics == "BUNDLE" && sd_.bundle_group() != nullptr) {
        return err(field, "a second BUNDLE group (tern supports one)");
      }
      sd_.groups.push_back(std::move(g));
      return absl::OkStatus();
    }
    sd_.other.push_back(Attribute{std::string(name), std::string(value), has_value});
    return absl::OkStatus();
  }
  MediaSection& m = *m_;
  if (name == "mid") {
    if (seen_mid_) return err(field, "duplicate");
    if (!is_token(value) || value.size() > 255) {
      return err(field, absl::StrCat("\"", value, "\" is not a token of 1..255 characters"));
    }
    for (const MediaSection& o : sd_.media) {
      if (&o != m_ && o.mid == value) {
        return err(field, absl::StrCat("mid ", value, " used by two media sections"));
      }
    }
    m.mid = std::string(value);
    seen_mid_ = true;
  } else if (name == "candidate") {
    return candidate(value);
  } else if (name == "end-of-candidates") {
    m.end_of_candidates = true;
  } else if (name == "rtcp") {
    m.rtcp = std::string(value);
  } else if (name == "rtcp-mux") {
    m.rtcp_mux = true;
  } else if (name == "rtcp-mux-only") {
    m.rtcp_mux_only = true;
  } else if (name == "rtcp-rsize") {
    m.rtcp_rsize = true;
  } else if (name == "rtpmap" && m.is_rtp()) {
    return rtpmap(value);
  } else if (name == "fmtp" && m.is_rtp()) {
    return fmtp(value);
  } else if (name == "rtcp-fb" && m.is_rtp()) {
    return rtcp_fb(value);
  } else if (name == "extmap") {
    return extmap(value);
  } else if (name == "ssrc") {
    return ssrc(value);
  } else if (name == "ssrc-group") {
    return ssrc_group(value);
  } else if (name == "msid") {
    Words w = split_words(value);
    if (w.empty() || w.size() > 2) return err(field, "expected <stream-id> [<track-id>]");
    m.msids.push_back(Msid{std::string(w[0]), w.size() > 1 ? std::string(w[1]) : std::string()});
  } else if (name == "rid") {
    return rid(value);
  } else if (name == "simulcast") {
    return simulcast(value);
  } else if (name == "sctp-port") {
    uint64_t v;
    if (seen_sctp_port_) return err(field, "duplicate");
    if (!parse_uint(value, 65535, &v)) {
      return err(field, absl::StrCat("port \"", value, "\" not in 0..65535"));
    }
    m.sctp_port = int32_t(v);
    seen_sctp_port_ = true;
  } else if (name == "max-message-size") {
    uint64_t v;
    if (seen_mms_) return err(field, "duplicate");
    if (!parse_uint(value, UINT64_MAX, &v)) {
      return err(field, absl::StrCat("\"", value, "\" is not a non-negative integer"));
    }
    m.has_max_message_size = true;
    m.max_message_size = v;
    seen_mms_ = true;
  } else {
    m.other.push_back(Attribute{std::string(name), std::string(value), has_value});
  }
  return absl::OkStatus();
}

absl::Status Parser::payload_type(absl::string_view field, absl::string_view s, uint8_t* pt) const {
  uint64_t v;
  if (!parse_uint(s, UINT32_MAX, &v)) {
    return err(field, absl::StrCat("payload type \"", s, "\" is not a number"));
  }
  if (v > 127) return err(field, absl::StrFormat("payload type %d out of range 0..127", v));
  *pt = uint8_t(v);
  return absl::OkStatus();
}

Codec& Parser::codec_for(uint8_t pt) {
  if (Codec* c = m_->find_codec(pt)) return *c;
  m_->codecs.push_back(Codec{.pt = pt});
  return m_->codecs.back();
}

absl::Status Parser::rtpmap(absl::string_view v) {
  // <pt> <encoding>/<clock>[/<channels>]
  const size_t sp = v.find(' ');
  if (sp == absl::string_view::npos) return err("a=rtpmap", "expected <pt> <encoding>/<clock>");
  uint8_t pt;
  absl::Status st = payload_type("a=rtpmap", v.substr(0, sp), &pt);
  if (!st.ok()) return st;
  std::vector<absl::string_view> parts = absl::StrSplit(v.substr(sp + 1), '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) {
    return err("a=rtpmap",
               absl::StrCat("\"", v.substr(sp + 1), "\" is not <encoding>/<clock>[/<channels>]"));
  }
  uint64_t clock, channels = 0;
  if (!parse_uint(parts[1], UINT32_MAX, &clock) || clock == 0) {
    return err("a=rtpmap", absl::StrCat("clock rate \"", parts[1], "\" invalid"));
  }
  if (parts.size() == 3 && (!parse_uint(parts[2], 255, &channels) || channels == 0)) {
    return err("a=rtpmap", absl::StrCat("channels \"", parts[2], "\" not in 1..255"));
  }
  Codec& c = codec_for(pt);
  if (c.has_rtpmap) return err("a=rtpmap", absl::StrFormat("payload type %d mapped twice", pt));
  c.has_rtpmap = true;
  c.name = std::string(parts[0]);
  c.clock_rate = uint32_t(clock);
  c.channels = uint16_t(channels);
  return absl::OkStatus();
}

absl::Status Parser::fmtp(absl::string_view v) {
  const size_t sp = v.find(' ');
  uint8_t pt;
  absl::Status st = payload_type("a=fmtp", v.substr(0, sp), &pt);
  if (!st.ok()) return st;
  absl::string_view params = sp == absl::string_view::npos
                                 ? absl::string_view()
                                 : absl::StripAsciiWhitespace(v.substr(sp + 1));
  if (params.empty())
    return err("a=fmtp", absl::StrFormat("payload type %d has no parameters", pt));
  Codec& c = codec_for(pt);
  if (!c.fmtp.empty()) return err("a=fmtp", absl::StrFormat("payload type %d has two fmtp", pt));
  c.fmtp = std::string(params);
  return absl::OkStatus();
}

absl::Status Parser::rtcp_fb(absl::string_view v) {
  const size_t sp = v.find(' ');
  if (sp == absl::string_view::npos || sp + 1 == v.size()) {
    return err("a=rtcp-fb", "expected <pt> <feedback>");
  }
  absl::string_view fb = absl::StripAsciiWhitespace(v.substr(sp + 1));
  if (fb.empty()) return err("a=rtcp-fb", "expected <pt> <feedback>");
  if (v.substr(0, sp) == "*") {
    m_->rtcp_fb_all.emplace_back(fb);
    return absl::OkStatus();
  }
  uint8_t pt;
  absl::Status st = payload_type("a=rtcp-fb", v.substr(0, sp), &pt);
  if (!st.ok()) return st;
  codec_for(pt).rtcp_fb.emplace_back(fb);
  return absl::OkStatus();
}

absl::Status Parser::extmap(absl::string_view v) {
  // <id>[/<direction>] <uri> [<extensionattributes>]
  Words w = split_words(v);
  if (w.size() < 2) return err("a=extmap", "expected <id>[/<direction>] <uri>");
  Extmap e;
  absl::string_view id = w[0];
  const size_t slash = id.find('/');
  if (slash != absl::string_view::npos) {
    if (!parse_direction(id.substr(slash + 1), &e.direction)) {
      return err("a=extmap", absl::StrCat("direction \"", id.substr(slash + 1), "\" invalid"));
    }
    e.has_direction = true;
    id = id.substr(0, slash);
  }
  uint64_t n;
  if (!parse_uint(id, UINT32_MAX, &n) || n < 1 || n > 255) {
    return err("a=extmap", absl::StrCat("id ", id, " out of range 1..255"));
  }
  e.id = uint16_t(n);
  for (const Extmap& o : m_->extmaps) {
    if (o.id == e.id) return err("a=extmap", absl::StrFormat("id %d used twice", n));
  }
  e.uri = std::string(w[1]);
  for (size_t i = 2; i < w.size(); ++i) {
    if (i > 2) e.attributes += ' ';
    absl::StrAppend(&e.attributes, w[i]);
  }
  m_->extmaps.push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status Parser::ssrc(absl::string_view v) {
  // <ssrc> <attribute>[:<value>]
  const size_t sp = v.find(' ');
  uint64_t n;
  if (!parse_uint(v.substr(0, sp), UINT32_MAX, &n)) {
    return err("a=ssrc", absl::StrCat("ssrc \"", v.substr(0, sp), "\" not in 0..4294967295"));
  }
  if (sp == absl::string_view::npos || sp + 1 == v.size()) {
    return err("a=ssrc", "expected <ssrc> <attribute>[:<value>]");
  }
  if (m_->ssrcs.size() >= 256) return err("a=ssrc", "more than 256 in one section");
  absl::string_view a = v.substr(sp + 1);
  const size_t colon = a.find(':');
  SsrcAttr s{uint32_t(n), std::string(a.substr(0, colon)),
             colon == absl::string_view::npos ? std::string() : std::string(a.substr(colon + 1))};
  m_->ssrcs.push_back(std::move(s));
  return absl::OkStatus();
}

absl::Status Parser::ssrc_group(absl::string_view v) {
  Words w = split_words(v);
  if (w.size() < 2) return err("a=ssrc-group", "expected <semantics> <ssrc>...");
  SsrcGroup g;
  g.semantics = std::string(w[0]);
  for (size_t i = 1; i < w.size(); ++i) {
    uint64_t n;
    if (!parse_uint(w[i], UINT32_MAX, &n)) {
      return err("a=ssrc-group", absl::StrCat("ssrc \"", w[i], "\" not in 0..4294967295"));
    }
    g.ssrcs.push_back(uint32_t(n));
  }
  m_->ssrc_groups.push_back(std::move(g));
  return absl::OkStatus();
}

absl::Status Parser::candidate(absl::string_view v) {
  // <foundation> <component> <transport> <priority> <address> <port> typ <type>
  // [raddr <a>] [rport <p>] *(<name> <value>)
  if (m_->candidates.size() >= limits_.max_candidates) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "line %d: a=candidate: more than %d in one section", line_no_, limits_.max_candidates));
  }
  Words w = split_words(v);
  if (w.size() < 8)
    return err("a=candidate", absl::StrFormat("expected at least 8 fields, got %d", w.size()));
  Candidate c;
  if (w[0].size() > 32) return err("a=candidate", "foundation longer than 32 characters");
  for (char ch : w[0]) {
    if (!is_ice_char(ch))
      return err("a=candidate", absl::StrCat("foundation \"", w[0], "\" has a non-ice-char"));
  }
  c.foundation = std::string(w[0]);
  uint64_t n;
  if (!parse_uint(w[1], 256, &n) || n == 0) {
    return err("a=candidate", absl::StrCat("component \"", w[1], "\" not in 1..256"));
  }
  c.component = uint32_t(n);
  c.transport = std::string(w[2]);
  if (!parse_uint(w[3], UINT32_MAX, &n) || n == 0) {
    return err("a=candidate", absl::StrCat("priority \"", w[3], "\" not in 1..4294967295"));
  }
  c.priority = uint32_t(n);
  if (w[4].empty() || w[4].size() > 255) return err("a=candidate", "address empty or too long");
  c.address = std::string(w[4]);
  if (!parse_uint(w[5], 65535, &n)) {
    return err("a=candidate", absl::StrCat("port \"", w[5], "\" not in 0..65535"));
  }
  c.port = uint16_t(n);
  if (w[6] != "typ")
    return err("a=candidate", absl::StrCat("expected \"typ\", got \"", w[6], "\""));
  if (w[7] != "host" && w[7] != "srflx" && w[7] != "prflx" && w[7] != "relay") {
    return err("a=candidate",
               absl::StrCat("type \"", w[7], "\" is not host, srflx, prflx or relay"));
  }
  c.type = std::string(w[7]);
  for (size_t i = 8; i < w.size(); i += 2) {
    if (i + 1 >= w.size()) {
      return err("a=candidate", absl::StrCat("extension \"", w[i], "\" has no value"));
    }
    if (w[i] == "raddr") {
      c.rel_addr = std::string(w[i + 1]);
    } else if (w[i] == "rport") {
      if (!parse_uint(w[i + 1], 65535, &n)) {
        return err("a=candidate", absl::StrCat("rport \"", w[i + 1], "\" not in 0..65535"));
      }
      c.rel_port = int32_t(n);
    } else if (w[i] == "tcptype") {
      c.tcptype = std::string(w[i + 1]);
    } else {
      c.extensions.emplace_back(std::string(w[i]), std::string(w[i + 1]));
    }
  }
  m_->candidates.push_back(std::move(c));
  return absl::OkStatus();
}

absl::Status Parser::rid(absl::string_view v) {
  // <rid-id> send|recv [pt=<fmt>,...;<restriction>=<value>;...]
  if (m_->rids.size() >= limits_.max_rids) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("line %d: a=rid: more than %d in one section", line_no_, limits_.max_rids));
  }
  Words w = split_words(v);
  if (w.size() < 2 || w.size() > 3)
    return err("a=rid", "expected <rid-id> send|recv [<restrictions>]");
  Rid r;
  if (!is_rid_id(w[0])) {
    return err("a=rid", absl::StrCat("id \"", w[0], "\" is not 1..255 of [A-Za-z0-9_-]"));
  }
  for (const Rid& o : m_->rids) {
    if (o.id == w[0]) return err("a=rid", absl::StrCat("id ", w[0], " defined twice"));
  }
  r.id = std::string(w[0]);
  if (w[1] == "send")
    r.send = true;
  else if (w[1] == "recv")
    r.send = false;
  else
    return err("a=rid", absl::StrCat("direction \"", w[1], "\" is not send or recv"));
  if (w.size() == 3) {
    for (absl::string_view kv : absl::StrSplit(w[2], ';', absl::SkipEmpty())) {
      const size_t eq = kv.find('=');
      absl::string_view key = kv.substr(0, eq);
      absl::string_view val =
          eq == absl::string_view::npos ? absl::string_view() : kv.substr(eq + 1);
      if (key == "pt") {
        for (absl::string_view p : absl::StrSplit(val, ',')) {
          uint8_t pt;
          absl::Status st = payload_type("a=rid", p, &pt);
          if (!st.ok()) return st;
          bool listed = false;
          for (const std::string& f : m_->formats) listed |= f == p;
          if (!listed) {
            return err("a=rid", absl::StrFormat("pt=%d is not a format of the m= line", pt));
          }
          r.payload_types.push_back(pt);
        }
      } else {
        if (key.empty()) return err("a=rid", "empty restriction name");
        r.restrictions.emplace_back(std::string(key), std::string(val));
      }
    }
  }
  m_->rids.push_back(std::move(r));
  return absl::OkStatus();
}

absl::Status Parser::simulcast(absl::string_view v) {
  // send <streams> [recv <streams>] | recv <streams> [send <streams>]
  // streams = stream *(";" stream); stream = ["~"]rid *("," ["~"]rid)
  if (seen_simulcast_) return err("a=simulcast", "duplicate");
  seen_simulcast_ = true;
  simulcast_line_ = line_no_;
  Words w = split_words(v);
  if (w.size() != 2 && w.size() != 4) {
    return err("a=simulcast", "expected send|recv <streams> [recv|send <streams>]");
  }
  for (size_t i = 0; i < w.size(); i += 2) {
    std::vector<std::vector<SimulcastRid>>* list;
    if (w[i] == "send")
      list = &m_->simulcast.send;
    else if (w[i] == "recv")
      list = &m_->simulcast.recv;
    else
      return err("a=simulcast", absl::StrCat("direction \"", w[i], "\" is not send or recv"));
    if (!list->empty()) return err("a=simulcast", absl::StrCat(w[i], " given twice"));
    for (absl::string_view stream : absl::StrSplit(w[i + 1], ';')) {
      std::vector<SimulcastRid> alts;
      for (absl::string_view a : absl::StrSplit(stream, ',')) {
        SimulcastRid r;
        if (absl::ConsumePrefix(&a, "~")) r.paused = true;
        if (!is_rid_id(a)) {
          return err("a=simulcast", absl::StrCat("rid \"", a, "\" is not 1..255 of [A-Za-z0-9_-]"));
        }
        r.rid = std::string(a);
        alts.push_back(std::move(r));
      }
      list->push_back(std::move(alts));
      if (list->size() > limits_.max_rids) {
        return err("a=simulcast", absl::StrFormat("more than %d streams", limits_.max_rids));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Parser::finish_media() {
  MediaSection& m = *m_;
  // RFC 8853 §5.1: every rid in a=simulcast is defined by an a=rid with the same direction.
  for (int dir = 0; dir < 2; ++dir) {
    const bool send = dir == 0;
    for (const auto& stream : send ? m.simulcast.send : m.simulcast.recv) {
      for (const SimulcastRid& r : stream) {
        bool found = false;
        for (const Rid& d : m.rids) found |= d.id == r.rid && d.send == send;
        if (!found) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "line %d: a=simulcast: rid %s has no a=rid:%s %s line in this section",
              simulcast_line_, r.rid, r.rid, send ? "send" : "recv"));
        }
      }
    }
  }
  (void)m_line_;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SessionDescription> parse_sdp(absl::string_view text, const SdpLimits& limits) {
  Parser p(limits);
  return p.run(text);
}

}  // namespace sdp
}  // namespace tern
