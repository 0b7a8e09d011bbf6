#include "control/sdp/sdp_writer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tern {
namespace sdp {
namespace {

void add(std::string* out, absl::string_view a, absl::string_view b = {}, absl::string_view c = {},
         absl::string_view d = {}) {
  absl::StrAppend(out, a, b, c, d, "\r\n");
}

void write_transport(std::string* out, const TransportAttrs& t) {
  if (!t.ice_ufrag.empty()) add(out, "a=ice-ufrag:", t.ice_ufrag);
  if (!t.ice_pwd.empty()) add(out, "a=ice-pwd:", t.ice_pwd);
  if (!t.ice_options.empty()) add(out, "a=ice-options:", absl::StrJoin(t.ice_options, " "));
  for (const SdpFingerprint& f : t.fingerprints) add(out, "a=fingerprint:", f.fp.to_sdp());
  if (t.setup != Setup::kNone) add(out, "a=setup:", setup_name(t.setup));
}

void write_attributes(std::string* out, const std::vector<Attribute>& attrs) {
  for (const Attribute& a : attrs) {
    if (a.has_value) {
      add(out, "a=", a.name, ":", a.value);
    } else {
      add(out, "a=", a.name);
    }
  }
}

std::string candidate_value(const Candidate& c) {
  std::string s = absl::StrCat(c.foundation, " ", c.component, " ", c.transport, " ", c.priority,
                               " ", c.address, " ", c.port, " typ ", c.type);
  if (!c.rel_addr.empty()) absl::StrAppend(&s, " raddr ", c.rel_addr);
  if (c.rel_port >= 0) absl::StrAppend(&s, " rport ", c.rel_port);
  if (!c.tcptype.empty()) absl::StrAppend(&s, " tcptype ", c.tcptype);
  for (const auto& [k, v] : c.extensions) absl::StrAppend(&s, " ", k, " ", v);
  return s;
}

std::string streams(const std::vector<std::vector<SimulcastRid>>& list) {
  return absl::StrJoin(list, ";", [](std::string* o, const std::vector<SimulcastRid>& alts) {
    absl::StrAppend(o, absl::StrJoin(alts, ",", [](std::string* o2, const SimulcastRid& r) {
                      absl::StrAppend(o2, r.paused ? "~" : "", r.rid);
                    }));
  });
}

}  // namespace

std::string write_media(const MediaSection& m) {
  std::string out;
  std::string port = absl::StrCat(m.port);
  if (m.port_count != 0) absl::StrAppend(&port, "/", m.port_count);
  add(&out, "m=", m.media, " ",
      absl::StrCat(port, " ", m.proto, " ", absl::StrJoin(m.formats, " ")));
  if (!m.connection.empty()) add(&out, "c=", m.connection);
  for (const std::string& b : m.bandwidths) add(&out, "b=", b);
  if (!m.rtcp.empty()) add(&out, "a=rtcp:", m.rtcp);
  for (const Candidate& c : m.candidates) add(&out, "a=candidate:", candidate_value(c));
  if (m.end_of_candidates) add(&out, "a=end-of-candidates");
  write_transport(&out, m.transport);
  if (!m.mid.empty()) add(&out, "a=mid:", m.mid);
  if (m.extmap_allow_mixed) add(&out, "a=extmap-allow-mixed");
  for (const Extmap& e : m.extmaps) {
    std::string v = absl::StrCat(e.id);
    if (e.has_direction) absl::StrAppend(&v, "/", direction_name(e.direction));
    absl::StrAppend(&v, " ", e.uri);
    if (!e.attributes.empty()) absl::StrAppend(&v, " ", e.attributes);
    add(&out, "a=extmap:", v);
  }
  if (m.has_direction) add(&out, "a=", direction_name(m.direction));
  for (const Msid& id : m.msids) {
    add(&out, "a=msid:", id.stream_id, id.track_id.empty() ? "" : " ", id.track_id);
  }
  if (m.rtcp_mux) add(&out, "a=rtcp-mux");
  if (m.rtcp_mux_only) add(&out, "a=rtcp-mux-only");
  if (m.rtcp_rsize) add(&out, "a=rtcp-rsize");
  for (const std::string& fb : m.rtcp_fb_all) add(&out, "a=rtcp-fb:* ", fb);
  for (const Codec& c : m.codecs) {
    const std::string pt = absl::StrCat(c.pt);
    if (c.has_rtpmap) {
      std::string v = absl::StrCat(pt, " ", c.name, "/", c.clock_rate);
      if (c.channels != 0) absl::StrAppend(&v, "/", c.channels);
      add(&out, "a=rtpmap:", v);
    }
    for (const std::string& fb : c.rtcp_fb) add(&out, "a=rtcp-fb:", pt, " ", fb);
    if (!c.fmtp.empty()) add(&out, "a=fmtp:", pt, " ", c.fmtp);
  }
  for (const SsrcGroup& g : m.ssrc_groups) {
    add(&out, "a=ssrc-group:", g.semantics, " ", absl::StrJoin(g.ssrcs, " "));
  }
  for (const SsrcAttr& s : m.ssrcs) {
    std::string v = absl::StrCat(s.ssrc, " ", s.attribute);
    if (!s.value.empty()) absl::StrAppend(&v, ":", s.value);
    add(&out, "a=ssrc:", v);
  }
  for (const Rid& r : m.rids) {
    std::string v = absl::StrCat(r.id, r.send ? " send" : " recv");
    std::vector<std::string> parts;
    if (!r.payload_types.empty()) {
      parts.push_back(absl::StrCat(
          "pt=", absl::StrJoin(r.payload_types, ",",
                               [](std::string* o, uint8_t p) { absl::StrAppend(o, int(p)); })));
    }
    for (const auto& [k, val] : r.restrictions) {
      parts.push_back(val.empty() ? k : absl::StrCat(k, "=", val));
    }
    if (!parts.empty()) absl::StrAppend(&v, " ", absl::StrJoin(parts, ";"));
    add(&out, "a=rid:", v);
  }
  if (!m.simulcast.empty()) {
    std::string v;
    if (!m.simulcast.send.empty()) absl::StrAppend(&v, "send ", streams(m.simulcast.send));
    if (!m.simulcast.recv.empty()) {
      absl::StrAppend(&v, v.empty() ? "" : " ", "recv ", streams(m.simulcast.recv));
    }
    add(&out, "a=simulcast:", v);
  }
  if (m.sctp_port >= 0) add(&out, "a=sctp-port:", absl::StrCat(m.sctp_port));
  if (m.has_max_message_size) add(&out, "a=max-message-size:", absl::StrCat(m.max_message_size));
  write_attributes(&out, m.other);
  return out;
}

std::string write_sdp(const SessionDescription& sd) {
  std::string out;
  out.reserve(1024 + 2048 * sd.media.size());
  add(&out, "v=0");
  const Origin& o = sd.origin;
  add(&out, "o=",
      absl::StrCat(o.username, " ", o.session_id, " ", o.session_version, " ", o.nettype, " ",
                   o.addrtype, " ", o.address));
  add(&out, "s=", sd.session_name);
  if (!sd.connection.empty()) add(&out, "c=", sd.connection);
  for (const std::string& b : sd.bandwidths) add(&out, "b=", b);
  add(&out, "t=", sd.timing);
  if (sd.ice_lite) add(&out, "a=ice-lite");
  write_transport(&out, sd.transport);
  for (const Group& g : sd.groups) {
    add(&out, "a=group:", g.semantics, g.mids.empty() ? "" : " ", absl::StrJoin(g.mids, " "));
  }
  if (sd.extmap_allow_mixed) add(&out, "a=extmap-allow-mixed");
  if (sd.has_direction) add(&out, "a=", direction_name(sd.direction));
  write_attributes(&out, sd.other);
  for (const MediaSection& m : sd.media) out += write_media(m);
  return out;
}

}  // namespace sdp
}  // namespace tern
