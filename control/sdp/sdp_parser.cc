// SDP parser (RFC 8866 and the attributes WebRTC uses): the line
// grammar, m= sections and session/transport attributes. The media-level
// attribute values (rtpmap, fmtp, rtcp-fb, extmap, ssrc, candidate, rid,
// simulcast) are parsed in sdp_attributes.cc.
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
#include "control/sdp/sdp_parser_internal.h"

namespace tern {
namespace sdp {
namespace parser_internal {

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

}  // namespace parser_internal

absl::StatusOr<SessionDescription> parse_sdp(absl::string_view text, const SdpLimits& limits) {
  parser_internal::Parser p(limits);
  return p.run(text);
}

}  // namespace sdp
}  // namespace tern
