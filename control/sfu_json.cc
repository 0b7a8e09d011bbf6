#include "control/sfu_json.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "control/jsonrpc_methods.h"
#include "control/jsonrpc_registry.h"
#include "engine/rtp/rtp_extensions.h"

namespace tern {

using jsonrpc::invalid_param;
using jsonrpc::json;

namespace {

std::string at(absl::string_view field, size_t i, absl::string_view member = "") {
  std::string f = absl::StrCat(field, "[", i, "]");
  if (!member.empty()) absl::StrAppend(&f, ".", member);
  return f;
}

// An integer member in [min, max]; nullopt when absent (or null).
absl::StatusOr<std::optional<int64_t>> int_member(const json& o, const char* key, int64_t min,
                                                  int64_t max, const std::string& field) {
  if (!o.contains(key) || o[key].is_null()) return std::optional<int64_t>();
  const json& v = o[key];
  if (!v.is_number_integer()) return invalid_param(field, "must be an integer");
  int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX
                                                                                : v.get<int64_t>();
  if (x < min || x > max) {
    return invalid_param(field, absl::StrCat("must be ", min, "..", max, ", got ", v.dump()));
  }
  return std::optional<int64_t>(x);
}

absl::Status only_members(const json& o, std::initializer_list<const char*> keys,
                          const std::string& field) {
  if (!o.is_object()) return invalid_param(field, "must be an object");
  for (const auto& [k, v] : o.items()) {
    if (std::find_if(keys.begin(), keys.end(), [&](const char* x) { return k == x; }) ==
        keys.end()) {
      return invalid_param(absl::StrCat(field, ".", k), "unknown member");
    }
  }
  return absl::OkStatus();
}

bool has_fb(const std::vector<std::string>& fb, absl::string_view v) {
  return std::find(fb.begin(), fb.end(), v) != fb.end();
}

// The feedback the SFU acts on, from a=rtcp-fb style values.
void set_rtcp_fb(sfu::RtpCodecParams& r, const std::vector<std::string>& fb) {
  r.nack = has_fb(fb, "nack");
  r.pli = has_fb(fb, "nack pli");
  r.fir = has_fb(fb, "ccm fir");
}

// The extensions the SFU forwards, in extensions_to_json order, and where
// their ids go.
constexpr std::pair<rtp::ExtensionKind, uint8_t sfu::RtpExtensionIds::*> kForwarded[] = {
    {rtp::ExtensionKind::kMid, &sfu::RtpExtensionIds::mid},
    {rtp::ExtensionKind::kRid, &sfu::RtpExtensionIds::rid},
    {rtp::ExtensionKind::kRepairedRid, &sfu::RtpExtensionIds::repaired_rid},
    {rtp::ExtensionKind::kAbsSendTime, &sfu::RtpExtensionIds::abs_send_time},
    {rtp::ExtensionKind::kTransportWideCc, &sfu::RtpExtensionIds::transport_cc},
    {rtp::ExtensionKind::kAudioLevel, &sfu::RtpExtensionIds::audio_level},
};

// Files extension id `id` under its kind; kinds the SFU does not forward are
// ignored.
void set_extension(sfu::RtpExtensionIds& ext, rtp::ExtensionKind kind, uint8_t id) {
  for (const auto& [k, member] : kForwarded) {
    if (k == kind) ext.*member = id;
  }
}

}  // namespace

std::optional<sfu::CodecId> codec_id_from_name(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "opus") return sfu::CodecId::kOpus;
  if (n == "vp8") return sfu::CodecId::kVp8;
  if (n == "vp9") return sfu::CodecId::kVp9;
  if (n == "h264") return sfu::CodecId::kH264;
  if (n == "av1") return sfu::CodecId::kAv1;
  return std::nullopt;
}

const char* codec_id_name(sfu::CodecId c) {
  switch (c) {
    case sfu::CodecId::kOpus:
      return "opus";
    case sfu::CodecId::kVp8:
      return "VP8";
    case sfu::CodecId::kVp9:
      return "VP9";
    case sfu::CodecId::kH264:
      return "H264";
    case sfu::CodecId::kAv1:
      return "AV1";
    case sfu::CodecId::kOther:
      break;
  }
  return "other";
}

const char* sfu_kind_name(sfu::SfuMediaKind k) {
  return k == sfu::SfuMediaKind::kAudio ? "audio" : "video";
}

absl::StatusOr<sfu::SfuMediaKind> kind_from_json(const json& p, absl::string_view field) {
  const std::string& k = p.get_ref<const std::string&>();
  if (k == "audio") return sfu::SfuMediaKind::kAudio;
  if (k == "video") return sfu::SfuMediaKind::kVideo;
  return invalid_param(field, absl::StrCat("must be \"audio\" or \"video\", got \"", k, "\""));
}

absl::StatusOr<std::vector<sfu::RtpCodecParams>> codecs_from_json(const json& v,
                                                                  sfu::SfuMediaKind kind,
                                                                  absl::string_view field) {
  if (!v.is_array()) return invalid_param(field, "must be an array of codec objects");
  if (v.empty() || v.size() > 16) {
    return invalid_param(field, absl::StrCat("must hold 1..16 codecs, got ", v.size()));
  }
  std::vector<sfu::RtpCodecParams> out;
  std::set<int64_t> pts;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& c = v[i];
    if (auto s = only_members(c, {"name", "pt", "clock_rate", "rtx_pt", "rtcp_fb"}, at(field, i));
        !s.ok())
      return s;
    if (!c.contains("name") || !c["name"].is_string()) {
      return invalid_param(at(field, i, "name"), "required string (opus, VP8, VP9, H264, AV1)");
    }
    const std::string& name = c["name"].get_ref<const std::string&>();
    auto id = codec_id_from_name(name);
    if (!id) {
      return invalid_param(at(field, i, "name"), absl::StrCat("unknown codec \"", name,
                                                              "\" (opus, VP8, VP9, H264, AV1)"));
    }
    bool audio = *id == sfu::CodecId::kOpus;
    if (audio != (kind == sfu::SfuMediaKind::kAudio)) {
      return invalid_param(at(field, i, "name"),
                           absl::StrCat("\"", name, "\" is not a ", sfu_kind_name(kind), " codec"));
    }
    if (!c.contains("pt")) return invalid_param(at(field, i, "pt"), "required (0..127)");
    auto pt = int_member(c, "pt", 0, 127, at(field, i, "pt"));
    if (!pt.ok()) return pt.status();
    auto rate = int_member(c, "clock_rate", 1000, 192000, at(field, i, "clock_rate"));
    if (!rate.ok()) return rate.status();
    auto rtx = int_member(c, "rtx_pt", -1, 127, at(field, i, "rtx_pt"));
    if (!rtx.ok()) return rtx.status();
    sfu::RtpCodecParams r;
    r.codec = *id;
    r.pt = uint8_t(**pt);
    r.clock_rate = *rate ? uint32_t(**rate) : (audio ? 48000 : 90000);
    r.rtx_pt = *rtx ? int16_t(**rtx) : int16_t(-1);
    if (!pts.insert(r.pt).second) {
      return invalid_param(at(field, i, "pt"), absl::StrCat("payload type ", r.pt, " used twice"));
    }
    if (r.rtx_pt >= 0 && !pts.insert(r.rtx_pt).second) {
      return invalid_param(at(field, i, "rtx_pt"),
                           absl::StrCat("payload type ", r.rtx_pt, " used twice"));
    }
    if (c.contains("rtcp_fb")) {
      const json& fb = c["rtcp_fb"];
      if (!fb.is_array()) return invalid_param(at(field, i, "rtcp_fb"), "must be an array");
      std::vector<std::string> v2;
      for (size_t j = 0; j < fb.size(); ++j) {
        if (!fb[j].is_string()) {
          return invalid_param(absl::StrCat(at(field, i, "rtcp_fb"), "[", j, "]"),
                               "must be a string such as \"nack\", \"nack pli\", \"ccm fir\"");
        }
        v2.push_back(fb[j].get<std::string>());
      }
      set_rtcp_fb(r, v2);
    }
    out.push_back(r);
  }
  return out;
}

absl::StatusOr<sfu::RtpExtensionIds> extensions_from_json(const json& v, absl::string_view field) {
  if (!v.is_array()) return invalid_param(field, "must be an array of {id, uri}");
  if (v.size() > 32) return invalid_param(field, "at most 32 extensions");
  sfu::RtpExtensionIds ext;
  std::set<int64_t> ids;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    if (auto s = only_members(e, {"id", "uri"}, at(field, i)); !s.ok()) return s;
    if (!e.contains("id")) return invalid_param(at(field, i, "id"), "required (1..255)");
    auto id = int_member(e, "id", 1, 255, at(field, i, "id"));
    if (!id.ok()) return id.status();
    if (!e.contains("uri") || !e["uri"].is_string()) {
      return invalid_param(at(field, i, "uri"), "required string (an a=extmap URI)");
    }
    if (!ids.insert(**id).second) {
      return invalid_param(at(field, i, "id"), absl::StrCat("id ", **id, " used twice"));
    }
    set_extension(ext, rtp::extension_kind_from_uri(e["uri"].get<std::string>()), uint8_t(**id));
  }
  return ext;
}

absl::StatusOr<std::vector<sfu::ProducerLayer>> layers_from_json(const json& v,
                                                                 absl::string_view field) {
  if (!v.is_array()) return invalid_param(field, "must be an array of {rid, ssrc, rtx_ssrc}");
  if (v.size() > 4) return invalid_param(field, absl::StrCat("at most 4 layers, got ", v.size()));
  std::vector<sfu::ProducerLayer> out;
  std::set<std::string> rids;
  std::set<int64_t> ssrcs;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& l = v[i];
    if (auto s = only_members(l, {"rid", "ssrc", "rtx_ssrc"}, at(field, i)); !s.ok()) return s;
    sfu::ProducerLayer pl;
    if (l.contains("rid")) {
      if (!l["rid"].is_string()) return invalid_param(at(field, i, "rid"), "must be a string");
      pl.rid = l["rid"].get<std::string>();
      if (pl.rid.size() > 16 || !std::all_of(pl.rid.begin(), pl.rid.end(), [](char c) {
            return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
          })) {
        return invalid_param(at(field, i, "rid"),
                             absl::StrCat("\"", pl.rid, "\": 1..16 of A-Z a-z 0-9 - _"));
      }
    }
    if (v.size() > 1 && pl.rid.empty()) {
      return invalid_param(at(field, i, "rid"), "required with more than one layer");
    }
    if (!pl.rid.empty() && !rids.insert(pl.rid).second) {
      return invalid_param(at(field, i, "rid"), absl::StrCat("rid \"", pl.rid, "\" used twice"));
    }
    auto ssrc = int_member(l, "ssrc", 0, 0xffffffffLL, at(field, i, "ssrc"));
    if (!ssrc.ok()) return ssrc.status();
    auto rtx = int_member(l, "rtx_ssrc", 0, 0xffffffffLL, at(field, i, "rtx_ssrc"));
    if (!rtx.ok()) return rtx.status();
    pl.ssrc = *ssrc ? uint32_t(**ssrc) : 0;
    pl.rtx_ssrc = *rtx ? uint32_t(**rtx) : 0;
    for (auto [x, m] : {std::pair{pl.ssrc, "ssrc"}, std::pair{pl.rtx_ssrc, "rtx_ssrc"}}) {
      if (x != 0 && !ssrcs.insert(x).second) {
        return invalid_param(at(field, i, m), absl::StrCat("ssrc ", x, " used twice"));
      }
    }
    out.push_back(std::move(pl));
  }
  if (out.empty()) out.emplace_back();
  return out;
}

json codecs_to_json(const std::vector<sfu::RtpCodecParams>& codecs) {
  json a = json::array();
  for (const sfu::RtpCodecParams& c : codecs) {
    json fb = json::array();
    if (c.nack) fb.push_back("nack");
    if (c.pli) fb.push_back("nack pli");
    if (c.fir) fb.push_back("ccm fir");
    json o{{"name", codec_id_name(c.codec)}, {"pt", c.pt}, {"clock_rate", c.clock_rate}};
    if (c.rtx_pt >= 0) o["rtx_pt"] = c.rtx_pt;
    o["rtcp_fb"] = std::move(fb);
    a.push_back(std::move(o));
  }
  return a;
}

json extensions_to_json(const sfu::RtpExtensionIds& e) {
  json a = json::array();
  for (const auto& [k, member] : kForwarded) {
    uint8_t id = e.*member;
    if (id != 0) a.push_back({{"id", id}, {"uri", std::string(rtp::extension_uri(k))}});
  }
  return a;
}

json layers_to_json(const std::vector<sfu::ProducerLayer>& layers) {
  json a = json::array();
  for (const sfu::ProducerLayer& l : layers) {
    a.push_back({{"rid", l.rid}, {"ssrc", l.ssrc}, {"rtx_ssrc", l.rtx_ssrc}});
  }
  return a;
}

json producer_stats_json(const sfu::ProducerStats& s, size_t layers) {
  json lp = json::array();
  for (size_t i = 0; i < std::min(layers, s.layer_packets.size()); ++i) {
    lp.push_back(s.layer_packets[i].get());
  }
  return json{{"rtp_in", s.rtp_in.get()},     {"bytes_in", s.bytes_in.get()},
              {"rtx_in", s.rtx_in.get()},     {"keyframes_in", s.keyframes_in.get()},
              {"nack_out", s.nack_out.get()}, {"pli_out", s.pli_out.get()},
              {"fir_out", s.fir_out.get()},   {"rr_out", s.rr_out.get()},
              {"sr_in", s.sr_in.get()},       {"layer_packets", std::move(lp)},
              {"drops", drops_json(s.drops)}};
}

json consumer_stats_json(const sfu::ConsumerStats& s) {
  return json{{"rtp_out", s.rtp_out.get()},
              {"bytes_out", s.bytes_out.get()},
              {"rtx_out", s.rtx_out.get()},
              {"nack_in", s.nack_in.get()},
              {"nack_missed", s.nack_missed.get()},
              {"pli_in", s.pli_in.get()},
              {"fir_in", s.fir_in.get()},
              {"sr_out", s.sr_out.get()},
              {"rr_in", s.rr_in.get()},
              {"layer_switches", s.layer_switches.get()},
              {"current_layer", s.current_layer.load(std::memory_order_relaxed)},
              {"paused", s.paused.load(std::memory_order_relaxed)},
              {"drops", drops_json(s.drops)}};
}

std::vector<sfu::RtpCodecParams> codecs_from_negotiated(const sdp::NegotiatedMedia& m) {
  std::vector<sfu::RtpCodecParams> out;
  for (const sdp::NegotiatedCodec& c : m.codecs) {
    auto id = codec_id_from_name(c.name);
    if (!id) continue;
    sfu::RtpCodecParams r;
    r.codec = *id;
    r.pt = c.pt;
    r.clock_rate = c.clock_rate;
    r.rtx_pt = c.rtx_pt >= 0 ? int16_t(c.rtx_pt) : int16_t(-1);
    set_rtcp_fb(r, c.rtcp_fb);
    out.push_back(r);
  }
  return out;
}

sfu::RtpExtensionIds extensions_from_negotiated(const sdp::NegotiatedMedia& m) {
  sfu::RtpExtensionIds ext;
  for (const sdp::NegotiatedExtension& e : m.extensions) {
    if (e.id == 0 || e.id > 255) continue;
    set_extension(ext, e.kind, uint8_t(e.id));
  }
  return ext;
}

}  // namespace tern
