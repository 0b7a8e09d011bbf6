// SDP parser, media-level attribute values: rtpmap, fmtp, rtcp-fb (RFC
// 4585), extmap (RFC 8285), ssrc and ssrc-group (RFC 5576), candidate
// (RFC 8839), rid (RFC 8851) and simulcast (RFC 8853). The line grammar is
// in sdp_parser.cc.
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

}  // namespace parser_internal
}  // namespace sdp
}  // namespace tern
