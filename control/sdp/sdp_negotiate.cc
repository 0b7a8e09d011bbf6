#include "control/sdp/sdp_negotiate.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/sdp/sdp_writer.h"

namespace tern {
namespace sdp {

Capabilities Capabilities::defaults() {
  Capabilities c;
  const std::vector<std::string> video_fb = {"goog-remb", "transport-cc", "ccm fir", "nack",
                                             "nack pli"};
  c.codecs.push_back(CodecCapability{.kind = MediaKind::kAudio,
                                     .name = "opus",
                                     .clock_rate = 48000,
                                     .channels = 2,
                                     .rtcp_fb = {"transport-cc"}});
  for (const char* name : {"VP8", "VP9", "H264", "AV1"}) {
    CodecCapability v{.kind = MediaKind::kVideo, .name = name, .rtx = true, .rtcp_fb = video_fb};
    if (v.name == "H264") v.h264_profiles = {"42e0", "4d00"};
    c.codecs.push_back(std::move(v));
  }
  using rtp::ExtensionKind;
  for (ExtensionKind k : {ExtensionKind::kMid, ExtensionKind::kAbsSendTime,
                          ExtensionKind::kTransportWideCc, ExtensionKind::kAudioLevel}) {
    c.audio_extensions.emplace_back(rtp::extension_uri(k));
  }
  for (ExtensionKind k : {ExtensionKind::kMid, ExtensionKind::kRid, ExtensionKind::kRepairedRid,
                          ExtensionKind::kAbsSendTime, ExtensionKind::kTransportWideCc}) {
    c.video_extensions.emplace_back(rtp::extension_uri(k));
  }
  return c;
}

namespace {

// fmtp "a=b;c=d" -> value of `key` (keys case-insensitive, RFC 4566 leaves it to
// the codec; every codec tern knows uses lower-case keys).
bool fmtp_param(absl::string_view fmtp, absl::string_view key, absl::string_view* out) {
  for (absl::string_view kv : absl::StrSplit(fmtp, ';', absl::SkipEmpty())) {
    kv = absl::StripAsciiWhitespace(kv);
    const size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(kv.substr(0, eq)), key)) {
      *out = absl::StripAsciiWhitespace(kv.substr(eq + 1));
      return true;
    }
  }
  return false;
}

int fmtp_int(absl::string_view fmtp, absl::string_view key, int dflt) {
  absl::string_view v;
  int n;
  if (!fmtp_param(fmtp, key, &v)) return dflt;
  if (!absl::SimpleAtoi(v, &n)) return -1;  // present but not a number: matches nothing
  return n;
}

bool codec_matches(const CodecCapability& cap, const Codec& c) {
  if (!c.has_rtpmap || !absl::EqualsIgnoreCase(cap.name, c.name)) return false;
  if (cap.clock_rate != c.clock_rate) return false;
  if (cap.channels != 0 && (c.channels == 0 ? 1 : c.channels) != cap.channels) return false;
  if (absl::EqualsIgnoreCase(cap.name, "H264")) {
    if (fmtp_int(c.fmtp, "packetization-mode", 0) != cap.h264_packetization_mode) return false;
    absl::string_view plid = "42000a";  // RFC 6184 §8.1 default
    fmtp_param(c.fmtp, "profile-level-id", &plid);
    if (plid.size() != 6) return false;
    const std::string profile = absl::AsciiStrToLower(plid.substr(0, 4));
    return std::find(cap.h264_profiles.begin(), cap.h264_profiles.end(), profile) !=
           cap.h264_profiles.end();
  }
  if (absl::EqualsIgnoreCase(cap.name, "VP9")) {
    const int p = fmtp_int(c.fmtp, "profile-id", 0);
    return std::find(cap.vp9_profiles.begin(), cap.vp9_profiles.end(), p) != cap.vp9_profiles.end();
  }
  if (absl::EqualsIgnoreCase(cap.name, "AV1")) {
    const int p = fmtp_int(c.fmtp, "profile", 0);
    return std::find(cap.av1_profiles.begin(), cap.av1_profiles.end(), p) != cap.av1_profiles.end();
  }
  return true;
}

std::string where(size_t index, const MediaSection& m) {
  return m.mid.empty() ? absl::StrFormat("m-line %d", index)
                       : absl::StrFormat("m-line %d (mid %s)", index, m.mid);
}

Direction offered_direction(const SessionDescription& o, const MediaSection& m) {
  if (m.has_direction) return m.direction;
  return o.has_direction ? o.direction : Direction::kSendRecv;
}

bool has_attr(const std::vector<Attribute>& attrs, absl::string_view name) {
  for (const Attribute& a : attrs) {
    if (a.name == name) return true;
  }
  return false;
}

bool is_rtp_proto(const std::string& p) { return p == "UDP/TLS/RTP/SAVPF"; }

MediaSection rejected_section(const MediaSection& o) {
  MediaSection r;
  r.kind = o.kind;
  r.media = o.media;
  r.port = 0;
  r.proto = o.proto;
  r.formats = o.formats;
  if (r.formats.size() > 1) r.formats.resize(1);
  r.connection = "IN IP4 0.0.0.0";
  r.mid = o.mid;
  if (o.is_rtp()) {
    r.has_direction = true;
    r.direction = Direction::kInactive;
  }
  return r;
}

class Negotiator {
 public:
  Negotiator(const SessionDescription& offer, const Capabilities& caps,
             const LocalParameters& local)
      : offer_(offer), caps_(caps), local_(local) {}

  absl::StatusOr<NegotiationResult> run();

 private:
  absl::Status transport();
  // Fills `a` (the answer section) and `n`; returns a reject reason or "".
  std::string rtp_section(const MediaSection& o, MediaSection& a, NegotiatedMedia& n);
  std::string sctp_section(const MediaSection& o, MediaSection& a, NegotiatedMedia& n);
  void fill_transport(MediaSection& a) const;

  const SessionDescription& offer_;
  const Capabilities& caps_;
  const LocalParameters& local_;
  NegotiationResult r_;
  const Group* bundle_ = nullptr;
  bool have_data_channel_ = false;
};

absl::Status Negotiator::transport() {
  // The offerer-tagged section (first mid of the BUNDLE group) carries the
  // transport's ICE and DTLS parameters; session-level values are the fallback.
  const MediaSection* tag = nullptr;
  for (const std::string& mid : bundle_->mids) {
    const int i = offer_.find_mid(mid);
    if (i >= 0) {
      tag = &offer_.media[i];
      break;
    }
  }
  if (tag == nullptr) {
    return absl::InvalidArgumentError(
        "a=group:BUNDLE: none of its mids names a media section of the offer");
  }
  const TransportAttrs& s = offer_.transport;
  const TransportAttrs& t = tag->transport;
  const std::string at = absl::StrCat("BUNDLE section mid ", tag->mid);
  r_.remote_ice.ufrag = !t.ice_ufrag.empty() ? t.ice_ufrag : s.ice_ufrag;
  r_.remote_ice.pwd = !t.ice_pwd.empty() ? t.ice_pwd : s.ice_pwd;
  if (r_.remote_ice.ufrag.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a=ice-ufrag: missing in the offer (", at, " and session level)"));
  }
  if (r_.remote_ice.pwd.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a=ice-pwd: missing in the offer (", at, " and session level)"));
  }
  if (absl::Status st = r_.remote_ice.validate(); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("offer ICE credentials: ", st.message()));
  }
  r_.remote_fingerprints = !t.fingerprints.empty() ? t.fingerprints : s.fingerprints;
  if (r_.remote_fingerprints.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a=fingerprint: missing in the offer (", at,
        " and session level); DTLS-SRTP needs the peer's certificate fingerprint (RFC 8827)"));
  }
  const Setup setup = t.setup != Setup::kNone ? t.setup : s.setup;
  switch (setup) {
    case Setup::kNone:  // lenient: treat as actpass (RFC 5763 requires it in offers)
    case Setup::kActPass:
    case Setup::kActive:
      r_.local_setup = Setup::kPassive;
      break;
    case Setup::kPassive:
      r_.local_setup = Setup::kActive;
      break;
    case Setup::kHoldConn:
      return absl::InvalidArgumentError(
          absl::StrCat("a=setup: holdconn in the offer (", at, "): no DTLS connection to answer"));
  }
  r_.remote_candidates = tag->candidates;
  r_.remote_ice_lite = offer_.ice_lite;
  for (const auto* opts : {&t.ice_options, &s.ice_options}) {
    for (const std::string& o : *opts) r_.remote_trickle |= o == "trickle";
  }
  return absl::OkStatus();
}

void Negotiator::fill_transport(MediaSection& a) const {
  if (!local_.candidates.empty()) {
    const Endpoint& e = local_.candidates[0].announced;
    a.port = e.port;
    a.connection = absl::StrCat("IN ", e.is_v6() ? "IP6 " : "IP4 ", e.addr_string());
  } else {
    a.port = 9;  // RFC 8840 §4.1.1: "discard" port when there is no candidate yet
    a.connection = "IN IP4 0.0.0.0";
  }
  for (const ice::IceCandidate& c : local_.candidates) {
    Candidate sc;
    sc.foundation = c.foundation;
    sc.component = c.component;
    sc.transport = "udp";
    sc.priority = c.priority;
    sc.address = c.announced.addr_string();
    sc.port = c.announced.port;
    sc.type = "host";
    a.candidates.push_back(std::move(sc));
  }
  a.end_of_candidates = true;  // ICE-lite: every candidate is known now
  a.transport.ice_ufrag = local_.ice.ufrag;
  a.transport.ice_pwd = local_.ice.pwd;
  a.transport.fingerprints = {SdpFingerprint{local_.fingerprint}};
  a.transport.setup = r_.local_setup;
}

std::string Negotiator::rtp_section(const MediaSection& o, MediaSection& a, NegotiatedMedia& n) {
  // Codecs: ours in preference order, each matched against the offer in its order.
  std::vector<std::pair<const CodecCapability*, const Codec*>> chosen;
  for (const CodecCapability& cap : caps_.codecs) {
    if (cap.kind != o.kind) continue;
    for (const std::string& f : o.formats) {
      int pt;
      if (!absl::SimpleAtoi(f, &pt)) continue;
      const Codec* c = o.find_codec(uint8_t(pt));
      if (c == nullptr || !codec_matches(cap, *c)) continue;
      bool dup = false;
      for (const auto& e : chosen) dup |= e.second->pt == c->pt;
      if (!dup) chosen.emplace_back(&cap, c);
    }
  }
  if (chosen.empty()) {
    std::vector<std::string> names;
    for (const Codec& c : o.codecs) {
      if (c.has_rtpmap && !absl::EqualsIgnoreCase(c.name, "rtx")) {
        names.push_back(absl::StrCat(c.name, "/", c.clock_rate));
      }
    }
    return absl::StrCat(
        "no common codec (offered: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")");
  }
  for (const auto& [cap, c] : chosen) {
    std::vector<std::string> offered_fb = c->rtcp_fb;
    offered_fb.insert(offered_fb.end(), o.rtcp_fb_all.begin(), o.rtcp_fb_all.end());
    Codec ac{.pt = c->pt,
             .has_rtpmap = true,
             .name = c->name,
             .clock_rate = c->clock_rate,
             .channels = c->channels,
             .fmtp = c->fmtp};
    for (const std::string& fb : cap->rtcp_fb) {
      if (std::find(offered_fb.begin(), offered_fb.end(), fb) != offered_fb.end()) {
        ac.rtcp_fb.push_back(fb);
      }
    }
    NegotiatedCodec nc{.name = c->name,
                       .pt = c->pt,
                       .clock_rate = c->clock_rate,
                       .channels = c->channels,
                       .fmtp = c->fmtp,
                       .rtcp_fb = ac.rtcp_fb};
    a.formats.push_back(absl::StrCat(c->pt));
    a.codecs.push_back(std::move(ac));
    if (cap->rtx) {
      for (const Codec& x : o.codecs) {
        absl::string_view apt;
        int apt_pt;
        if (!x.has_rtpmap || !absl::EqualsIgnoreCase(x.name, "rtx") ||
            x.clock_rate != c->clock_rate || !fmtp_param(x.fmtp, "apt", &apt) ||
            !absl::SimpleAtoi(apt, &apt_pt) || apt_pt != c->pt) {
          continue;
        }
        bool listed = false;
        for (const std::string& f : o.formats) listed |= f == absl::StrCat(x.pt);
        if (!listed) continue;
        nc.rtx_pt = x.pt;
        a.formats.push_back(absl::StrCat(x.pt));
        a.codecs.push_back(Codec{.pt = x.pt,
                                 .has_rtpmap = true,
                                 .name = x.name,
                                 .clock_rate = x.clock_rate,
                                 .fmtp = x.fmtp});
        break;
      }
    }
    n.codecs.push_back(std::move(nc));
  }

  // Header extensions: the offered id for every URI we know for this kind.
  const std::vector<std::string>& uris =
      o.kind == MediaKind::kAudio ? caps_.audio_extensions : caps_.video_extensions;
  for (const Extmap& e : o.extmaps) {
    if (std::find(uris.begin(), uris.end(), e.uri) == uris.end()) continue;
    if (e.has_direction && e.direction == Direction::kInactive) continue;
    if (!n.extension_map.add_uri(uint8_t(e.id), e.uri).ok()) continue;  // a kind twice
    Extmap ae{.id = e.id,
              .has_direction = e.has_direction,
              .direction = reverse(e.direction),
              .uri = e.uri};
    a.extmaps.push_back(std::move(ae));
    n.extensions.push_back(NegotiatedExtension{e.id, e.uri, rtp::extension_kind_from_uri(e.uri)});
  }
  a.extmap_allow_mixed = o.extmap_allow_mixed;

  // Direction.
  n.remote_direction = offered_direction(offer_, o);
  switch (n.remote_direction) {
    case Direction::kSendRecv:
      n.direction = local_.answer_to_sendrecv;
      break;
    default:
      n.direction = reverse(n.remote_direction);
      break;
  }
  a.has_direction = true;
  a.direction = n.direction;
  a.rtcp_mux = true;
  a.rtcp_rsize = o.rtcp_rsize;
  const bool we_receive =
      n.direction == Direction::kRecvOnly || n.direction == Direction::kSendRecv;
  const bool we_send = n.direction == Direction::kSendOnly || n.direction == Direction::kSendRecv;

  // Simulcast the browser sends (RFC 8853): needs the rid header extension.
  if (we_receive && !o.simulcast.send.empty() &&
      n.extension_map.id(rtp::ExtensionKind::kRid) != 0) {
    for (const auto& stream : o.simulcast.send) {
      if (a.simulcast.recv.size() >= caps_.max_simulcast_layers) break;
      // Several alternatives: keep the first whose pt restriction we can honour.
      for (const SimulcastRid& alt : stream) {
        const Rid* rid = nullptr;
        for (const Rid& r : o.rids) {
          if (r.id == alt.rid && r.send) rid = &r;
        }
        if (rid == nullptr) continue;
        bool pt_ok = rid->payload_types.empty();
        for (uint8_t pt : rid->payload_types) {
          for (const NegotiatedCodec& c : n.codecs) pt_ok |= c.pt == pt;
        }
        if (!pt_ok) continue;
        a.rids.push_back(Rid{.id = alt.rid, .send = false});
        a.simulcast.recv.push_back({alt});
        n.simulcast_rids.push_back(alt);
        break;
      }
    }
  }

  // The browser's streams.
  for (const SsrcAttr& s : o.ssrcs) {
    if (std::find(n.remote_ssrcs.begin(), n.remote_ssrcs.end(), s.ssrc) == n.remote_ssrcs.end()) {
      n.remote_ssrcs.push_back(s.ssrc);
    }
    if (s.attribute == "cname" && n.remote_cname.empty()) n.remote_cname = s.value;
    if (s.attribute == "msid" && n.remote_msid.stream_id.empty()) {
      std::vector<std::string> w = absl::StrSplit(s.value, ' ', absl::SkipEmpty());
      if (!w.empty()) n.remote_msid.stream_id = w[0];
      if (w.size() > 1) n.remote_msid.track_id = w[1];
    }
  }
  n.remote_ssrc_groups = o.ssrc_groups;
  if (!o.msids.empty()) n.remote_msid = o.msids[0];

  // Our stream, when we send (WHEP).
  if (we_send) {
    for (const SendStream& s : local_.send_streams) {
      if (s.mid != o.mid) continue;
      a.msids.push_back(Msid{s.stream_id, s.track_id});
      if (s.ssrc != 0) {
        const bool rtx = s.rtx_ssrc != 0 && n.codecs[0].rtx_pt >= 0;
        if (rtx) a.ssrc_groups.push_back(SsrcGroup{"FID", {s.ssrc, s.rtx_ssrc}});
        for (uint32_t ssrc : {s.ssrc, rtx ? s.rtx_ssrc : 0u}) {
          if (ssrc == 0) continue;
          a.ssrcs.push_back(SsrcAttr{ssrc, "cname", s.cname});
          a.ssrcs.push_back(SsrcAttr{ssrc, "msid", absl::StrCat(s.stream_id, " ", s.track_id)});
        }
      }
      break;
    }
  }
  return "";
}

std::string Negotiator::sctp_section(const MediaSection& o, MediaSection& a, NegotiatedMedia& n) {
  if (!caps_.data_channel) return "data channels disabled";
  if (std::find(o.formats.begin(), o.formats.end(), "webrtc-datachannel") == o.formats.end()) {
    return "SCTP section without the webrtc-datachannel format";
  }
  if (have_data_channel_)
    return "a second data channel section (one SCTP association per transport)";
  have_data_channel_ = true;
  a.formats = {"webrtc-datachannel"};
  a.sctp_port = caps_.sctp_port;
  a.has_max_message_size = true;
  a.max_message_size = caps_.max_message_size;
  n.data_channel = true;
  n.direction = n.remote_direction = Direction::kSendRecv;
  n.remote_sctp_port = o.sctp_port >= 0 ? uint16_t(o.sctp_port) : 5000;  // RFC 8841 §5 default
  // RFC 8841 §6: absent means 64 KiB; 0 means "no limit".
  n.remote_max_message_size = o.has_max_message_size ? o.max_message_size : 65536;
  n.local_sctp_port = caps_.sctp_port;
  n.local_max_message_size = caps_.max_message_size;
  return "";
}

absl::StatusOr<NegotiationResult> Negotiator::run() {
  bundle_ = offer_.bundle_group();
  if (bundle_ == nullptr || bundle_->mids.empty()) {
    return absl::InvalidArgumentError(
        "a=group:BUNDLE: missing in the offer; tern requires BUNDLE (RFC 8843), "
        "all media on one transport");
  }
  if (absl::Status st = transport(); !st.ok()) return st;

  SessionDescription& ans = r_.answer;
  ans.origin.session_id = absl::StrCat(local_.session_id);
  ans.origin.session_version = absl::StrCat(local_.session_version);
  ans.ice_lite = true;
  ans.extmap_allow_mixed = offer_.extmap_allow_mixed;
  ans.other.push_back(Attribute{"msid-semantic", "WMS *", true});

  for (size_t i = 0; i < offer_.media.size(); ++i) {
    const MediaSection& o = offer_.media[i];
    NegotiatedMedia n;
    n.index = i;
    n.mid = o.mid;
    n.kind = o.kind;
    MediaSection a;
    a.kind = o.kind;
    a.media = o.media;
    a.proto = o.proto;
    a.mid = o.mid;

    std::string reason;
    const bool in_bundle =
        std::find(bundle_->mids.begin(), bundle_->mids.end(), o.mid) != bundle_->mids.end();
    if (o.mid.empty()) {
      reason = "no a=mid (required with BUNDLE)";
    } else if (o.port == 0 && !has_attr(o.other, "bundle-only")) {
      reason = "port 0 in the offer (rejected by the offerer)";
    } else if (!in_bundle) {
      reason = "not in the BUNDLE group (tern carries everything on one transport)";
    } else if (o.kind == MediaKind::kAudio || o.kind == MediaKind::kVideo) {
      if (!is_rtp_proto(o.proto)) {
        reason = absl::StrCat("proto ", o.proto, " not supported (need UDP/TLS/RTP/SAVPF)");
      } else if (!o.rtcp_mux) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(i, o),
                         ": a=rtcp-mux missing; tern requires RTP and RTCP on one port "
                         "(RFC 5761, RFC 8843 §9)"));
      } else {
        reason = rtp_section(o, a, n);
      }
    } else if (o.kind == MediaKind::kApplication && o.is_sctp()) {
      reason = sctp_section(o, a, n);
    } else {
      reason = absl::StrCat("media ", o.media, " with proto ", o.proto, " not supported");
    }

    if (!reason.empty()) {
      n.accepted = false;
      n.reject_reason = absl::StrCat(where(i, o), ": ", reason);
      n.direction = Direction::kInactive;
      n.codecs.clear();
      n.extensions.clear();
      n.extension_map.clear();
      n.simulcast_rids.clear();
      n.data_channel = false;
      ans.media.push_back(rejected_section(o));
    } else {
      n.accepted = true;
      fill_transport(a);
      ans.media.push_back(std::move(a));
    }
    r_.media.push_back(std::move(n));
  }

  // BUNDLE group of the answer: accepted mids in the offer's group order, so the
  // offerer's tag stays the tag when it was accepted (RFC 8843 §7.3.1).
  for (const std::string& mid : bundle_->mids) {
    const int i = offer_.find_mid(mid);
    if (i >= 0 && r_.media[i].accepted) r_.bundle_mids.push_back(mid);
  }
  if (r_.bundle_mids.empty()) {
    std::vector<std::string> reasons;
    for (const NegotiatedMedia& n : r_.media) reasons.push_back(n.reject_reason);
    return absl::InvalidArgumentError(
        absl::StrCat("offer: no BUNDLE-able media section could be accepted: ",
                     reasons.empty() ? "no m-lines" : absl::StrJoin(reasons, "; ")));
  }
  ans.groups.push_back(Group{"BUNDLE", r_.bundle_mids});
  r_.answer_sdp = write_sdp(ans);
  return std::move(r_);
}

}  // namespace

absl::StatusOr<NegotiationResult> negotiate_answer(const SessionDescription& offer,
                                                   const Capabilities& caps,
                                                   const LocalParameters& local) {
  if (absl::Status st = local.ice.validate(); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("local ICE credentials: ", st.message()));
  }
  if (local.fingerprint.len == 0) {
    return absl::InvalidArgumentError("local fingerprint: not set");
  }
  Negotiator n(offer, caps, local);
  return n.run();
}

}  // namespace sdp
}  // namespace tern
