#include "bench/loadgen/offer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "control/sdp/sdp_model.h"
#include "control/sdp/sdp_parser.h"
#include "control/sdp/sdp_writer.h"

namespace tern::loadgen {

namespace {

constexpr char kMidUri[] = "urn:ietf:params:rtp-hdrext:sdes:mid";

// What every m-line of ours carries: BUNDLE-able ICE/DTLS transport and
// rtcp-mux; the caller fills in kind, codecs and direction.
sdp::MediaSection transport_section(const OfferParams& p, const std::string& mid,
                                    sdp::Direction dir, sdp::Setup setup) {
  sdp::MediaSection m;
  m.port = 9;
  m.proto = "UDP/TLS/RTP/SAVPF";
  m.connection = "IN IP4 0.0.0.0";
  m.mid = mid;
  m.has_direction = true;
  m.direction = dir;
  m.transport.ice_ufrag = p.ice_ufrag;
  m.transport.ice_pwd = p.ice_pwd;
  sdp::SdpFingerprint fp;
  fp.fp = *parse_fingerprint(p.fingerprint);
  m.transport.fingerprints.push_back(fp);
  m.transport.setup = setup;
  m.rtcp_mux = true;
  m.rtcp_rsize = true;
  return m;
}

sdp::SessionDescription with_bundle(std::vector<sdp::MediaSection> media) {
  sdp::SessionDescription sd;
  sd.origin.session_id = "4611731400430051336";
  sd.origin.session_version = "2";
  sdp::Group bundle{"BUNDLE", {}};
  for (const sdp::MediaSection& m : media)
    if (m.port != 0) bundle.mids.push_back(m.mid);
  sd.media = std::move(media);
  sd.groups.push_back(bundle);
  return sd;
}

sdp::MediaSection section(const OfferParams& p, bool video, const std::string& mid) {
  sdp::MediaSection m =
      transport_section(p, mid, p.publish ? sdp::Direction::kSendOnly : sdp::Direction::kRecvOnly,
                        p.setup_active ? sdp::Setup::kActive : sdp::Setup::kActPass);
  m.kind = video ? sdp::MediaKind::kVideo : sdp::MediaKind::kAudio;
  m.media = video ? "video" : "audio";
  sdp::Codec c;
  c.has_rtpmap = true;
  if (video) {
    c.pt = kVp8Pt, c.name = "VP8", c.clock_rate = 90000;
    c.rtcp_fb = {"nack", "nack pli", "ccm fir"};
  } else {
    c.pt = kOpusPt, c.name = "opus", c.clock_rate = 48000, c.channels = 2;
    c.fmtp = "minptime=10;useinbandfec=1";
  }
  m.formats.push_back(std::to_string(c.pt));
  m.codecs.push_back(c);
  sdp::Extmap e;
  e.id = kMidExtId;
  e.uri = kMidUri;
  m.extmaps.push_back(e);
  if (p.publish) {
    const uint32_t ssrc = video ? p.video_ssrc : p.audio_ssrc;
    m.ssrcs.push_back({ssrc, "cname", p.cname});
    m.msids.push_back({"loadgen-" + p.cname, std::string(video ? "video" : "audio")});
  }
  return m;
}

}  // namespace

std::string build_offer(const OfferParams& p) {
  // Publisher: mid 0 audio, 1 video (the streams' mid extension values).
  // Subscriber: audio lines first, then video, mids counting up.
  const uint32_t na = p.audio ? (p.publish ? 1 : p.audio_lines) : 0;
  const uint32_t nv = p.video ? (p.publish ? 1 : p.video_lines) : 0;
  std::vector<sdp::MediaSection> media;
  for (uint32_t i = 0; i < na + nv; ++i) {
    const bool video = i >= na;
    media.push_back(section(p, video, p.publish ? (video ? "1" : "0") : std::to_string(i)));
  }
  return sdp::write_sdp(with_bundle(std::move(media)));
}

std::string build_answer(const sdp::SessionDescription& offer, const OfferParams& op) {
  std::vector<sdp::MediaSection> media;
  for (const sdp::MediaSection& o : offer.media) {
    sdp::MediaSection m =
        transport_section(op, o.mid, sdp::Direction::kRecvOnly, sdp::Setup::kActive);
    m.kind = o.kind;
    m.media = o.media;
    m.proto = o.proto;
    m.rtcp_rsize = o.rtcp_rsize;
    if (o.port == 0 || o.codecs.empty()) {
      m.port = 0;  // rejected, as offered
      m.formats = o.formats;
    } else {
      sdp::Codec c = o.codecs.front();
      std::erase_if(c.rtcp_fb, [](const std::string& f) {
        return f != "nack" && f != "nack pli" && f != "ccm fir";
      });
      m.codecs.push_back(c);
      m.formats.push_back(std::to_string(c.pt));
    }
    for (const sdp::Extmap& e : o.extmaps)
      if (e.uri == kMidUri) m.extmaps.push_back(e);
    media.push_back(std::move(m));
  }
  return sdp::write_sdp(with_bundle(std::move(media)));
}

std::vector<OfferedStream> offered_streams(const sdp::SessionDescription& offer) {
  std::vector<OfferedStream> out;
  for (const sdp::MediaSection& m : offer.media) {
    if (m.port == 0) continue;
    std::vector<uint32_t> rtx;
    for (const sdp::SsrcGroup& g : m.ssrc_groups)
      if (g.semantics == "FID" && g.ssrcs.size() == 2) rtx.push_back(g.ssrcs[1]);
    std::vector<uint32_t> seen;
    for (const sdp::SsrcAttr& a : m.ssrcs) {
      if (std::find(rtx.begin(), rtx.end(), a.ssrc) != rtx.end()) continue;
      if (std::find(seen.begin(), seen.end(), a.ssrc) != seen.end()) continue;
      seen.push_back(a.ssrc);
      out.push_back({a.ssrc, m.kind == sdp::MediaKind::kVideo});
    }
  }
  return out;
}

absl::StatusOr<AnswerInfo> read_answer(const std::string& text) {
  auto sd = sdp::parse_sdp(text);
  if (!sd.ok()) return absl::InvalidArgumentError(absl::StrCat("answer: ", sd.status().message()));
  AnswerInfo a;
  for (const sdp::MediaSection& m : sd->media) {
    if (m.port == 0) continue;
    const sdp::TransportAttrs& t = !m.transport.ice_ufrag.empty() ? m.transport : sd->transport;
    if (a.ice_ufrag.empty()) {
      a.ice_ufrag = t.ice_ufrag;
      a.ice_pwd = t.ice_pwd;
    }
    if (a.fingerprint.len == 0) {
      const auto& fps =
          !m.transport.fingerprints.empty() ? m.transport.fingerprints : sd->transport.fingerprints;
      if (!fps.empty()) a.fingerprint = fps[0].fp;
    }
    for (const sdp::Candidate& c : m.candidates) {
      if (a.server.port != 0 || (c.transport != "udp" && c.transport != "UDP")) continue;
      auto ep = Endpoint::parse(absl::StrCat(c.address, ":", c.port));
      if (ep.ok() && ep->is_v4()) a.server = *ep;
    }
  }
  if (a.ice_ufrag.empty() || a.ice_pwd.empty())
    return absl::InvalidArgumentError("answer: no a=ice-ufrag/a=ice-pwd");
  if (a.fingerprint.len == 0) return absl::InvalidArgumentError("answer: no a=fingerprint");
  if (a.server.port == 0) return absl::InvalidArgumentError("answer: no IPv4 UDP host candidate");
  return a;
}

}  // namespace tern::loadgen
