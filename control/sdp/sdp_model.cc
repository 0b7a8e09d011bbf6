#include "control/sdp/sdp_model.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace tern {
namespace sdp {

const char* media_kind_name(MediaKind k) {
  switch (k) {
    case MediaKind::kAudio:
      return "audio";
    case MediaKind::kVideo:
      return "video";
    case MediaKind::kApplication:
      return "application";
    case MediaKind::kOther:
      break;
  }
  return "other";
}

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      break;
  }
  return "inactive";
}

Direction reverse(Direction d) {
  switch (d) {
    case Direction::kSendOnly:
      return Direction::kRecvOnly;
    case Direction::kRecvOnly:
      return Direction::kSendOnly;
    default:
      return d;
  }
}

const char* setup_name(Setup s) {
  switch (s) {
    case Setup::kActPass:
      return "actpass";
    case Setup::kActive:
      return "active";
    case Setup::kPassive:
      return "passive";
    case Setup::kHoldConn:
      return "holdconn";
    case Setup::kNone:
      break;
  }
  return "";
}

bool SdpFingerprint::operator==(const SdpFingerprint& o) const {
  return fp.hash == o.fp.hash && fp.len == o.fp.len &&
         std::equal(fp.bytes, fp.bytes + fp.len, o.fp.bytes);
}

bool MediaSection::is_rtp() const { return absl::StrContains(proto, "RTP/"); }
bool MediaSection::is_sctp() const { return proto == "UDP/DTLS/SCTP" || proto == "TCP/DTLS/SCTP"; }

Codec* MediaSection::find_codec(uint8_t pt) {
  for (Codec& c : codecs) {
    if (c.pt == pt) return &c;
  }
  return nullptr;
}
const Codec* MediaSection::find_codec(uint8_t pt) const {
  for (const Codec& c : codecs) {
    if (c.pt == pt) return &c;
  }
  return nullptr;
}

const Group* SessionDescription::bundle_group() const {
  for (const Group& g : groups) {
    if (g.semantics == "BUNDLE") return &g;
  }
  return nullptr;
}

int SessionDescription::find_mid(absl::string_view mid) const {
  for (size_t i = 0; i < media.size(); ++i) {
    if (media[i].mid == mid) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace sdp
}  // namespace tern
