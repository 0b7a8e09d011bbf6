// Offer/answer for an SFU answering a browser offer (JSEP, RFC 9429 §5.3;
// RFC 3264): WHIP publish (the browser sends: sendonly/sendrecv) and WHEP
// subscribe (the browser receives: recvonly).
//
//   offer (parsed) + our capabilities + our ICE/DTLS parameters
//     -> the answer (model and text) + a per-m-line summary the SFU uses.
//
// tern is ICE-lite, BUNDLE-only (max-bundle) and rtcp-mux-only. The whole offer
// is refused (InvalidArgument naming the m-line and field) when:
//   - there is no a=group:BUNDLE, or no section of it can be accepted;
//   - the BUNDLE transport has no a=ice-ufrag / a=ice-pwd (or they are invalid);
//   - it has no a=fingerprint;
//   - an accepted RTP section lacks a=rtcp-mux;
//   - a=setup is holdconn.
// A single m-line we cannot serve (no common codec, unsupported proto, not in
// the BUNDLE group, data channel disabled, port 0 in the offer) is answered with
// port 0 per JSEP §5.3.1 and reported with a reason; the rest goes on.
//
// Control plane only (allocates).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/sdp/sdp_model.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/stun/ice_candidate.h"
#include "engine/stun/ice_credentials.h"

namespace tern {
namespace sdp {

// One codec we can forward. Matching an offered payload type (RFC 3264 §6.1,
// codec-specific rules): name (case-insensitive), clock rate, channels, and
//   - H264: packetization-mode equal (absent = 0) and the profile (first 4 hex
//     digits of profile-level-id: profile_idc + constraint flags) in h264_profiles;
//     any level (the answer echoes the offered level);
//   - VP9: profile-id (absent = 0) in vp9_profiles;
//   - AV1: profile (absent = 0) in av1_profiles.
// The answer echoes the offered fmtp of the matched payload type.
struct CodecCapability {
  MediaKind kind = MediaKind::kVideo;
  std::string name;  // "opus", "VP8", "VP9", "H264", "AV1"
  uint32_t clock_rate = 90000;
  uint16_t channels = 0;                   // audio: 2 for opus; 0 for video
  int h264_packetization_mode = 1;         // H264 only
  std::vector<std::string> h264_profiles;  // "42e0", "4d00" (lower case hex)
  std::vector<int> vp9_profiles = {0};
  std::vector<int> av1_profiles = {0};
  bool rtx = false;  // accept an RTX pt (RFC 4588) whose apt is this codec
  // Feedback we honour; the answer keeps the intersection with the offer.
  std::vector<std::string> rtcp_fb;
};

struct Capabilities {
  // Preference order: the answer lists accepted codecs in this order (the
  // browser sends with the first one).
  std::vector<CodecCapability> codecs;
  // Header extension URIs we accept, per kind.
  std::vector<std::string> audio_extensions;
  std::vector<std::string> video_extensions;
  bool data_channel = true;
  uint16_t sctp_port = 5000;
  uint64_t max_message_size = 262144;
  size_t max_simulcast_layers = 4;  // more send streams -> the extra ones are dropped

  // Opus/48000/2; VP8, VP9 (profile 0), H264 (packetization-mode=1, 42e0 and
  // 4d00), AV1, all video with RTX and nack, nack pli, ccm fir, goog-remb,
  // transport-cc; extensions mid, rid, repaired-rid, abs-send-time,
  // transport-wide-cc-01 and (audio) ssrc-audio-level; data channels.
  static Capabilities defaults();
};

// A stream tern sends in a section it answers sendonly/sendrecv (WHEP): written
// as a=msid and a=ssrc lines so the browser knows the track before media.
struct SendStream {
  std::string mid;  // which section
  std::string stream_id = "tern";
  std::string track_id;
  std::string cname = "tern";
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: none
};

struct LocalParameters {
  ice::IceCredentials ice;
  std::vector<ice::IceCandidate> candidates;
  Fingerprint fingerprint;  // our certificate's (DtlsCertificate::fingerprint())
  uint64_t session_id = 1;
  uint64_t session_version = 2;
  // What we answer to an offered sendrecv section: kRecvOnly (WHIP: we only
  // take the publisher's media) or kSendRecv (we also send, e.g. a conference).
  Direction answer_to_sendrecv = Direction::kRecvOnly;
  std::vector<SendStream> send_streams;
};

struct NegotiatedCodec {
  std::string name;
  uint8_t pt = 0;
  uint32_t clock_rate = 0;
  uint16_t channels = 0;
  std::string fmtp;
  std::vector<std::string> rtcp_fb;
  int rtx_pt = -1;  // -1: no RTX
  bool operator==(const NegotiatedCodec&) const = default;
};

struct NegotiatedExtension {
  uint16_t id = 0;
  std::string uri;
  rtp::ExtensionKind kind = rtp::ExtensionKind::kUnknown;
  bool operator==(const NegotiatedExtension&) const = default;
};

struct NegotiatedMedia {
  size_t index = 0;  // m-line index in offer and answer
  std::string mid;
  MediaKind kind = MediaKind::kOther;
  bool accepted = false;
  std::string reject_reason;                   // why port 0, when !accepted
  Direction direction = Direction::kInactive;  // ours, as written in the answer
  Direction remote_direction = Direction::kInactive;
  // RTP: accepted codecs in answer order; codecs[0] is what the browser sends.
  std::vector<NegotiatedCodec> codecs;
  std::vector<NegotiatedExtension> extensions;
  rtp::ExtensionMap extension_map;  // the same, for the hot path
  // Simulcast the browser sends (RFC 8853), one rid per layer in its order
  // (Chrome: highest first as offered). Empty without simulcast.
  std::vector<SimulcastRid> simulcast_rids;
  // The browser's SSRCs (a=ssrc) and groups (FID = media + RTX, SIM), cname and msid.
  std::vector<uint32_t> remote_ssrcs;
  std::vector<SsrcGroup> remote_ssrc_groups;
  std::string remote_cname;
  Msid remote_msid;
  // Data channel (m=application UDP/DTLS/SCTP webrtc-datachannel).
  bool data_channel = false;
  uint16_t remote_sctp_port = 0;
  uint64_t remote_max_message_size = 0;  // 0: not given or unlimited
  uint16_t local_sctp_port = 0;
  uint64_t local_max_message_size = 0;
};

struct NegotiationResult {
  SessionDescription answer;
  std::string answer_sdp;
  std::vector<NegotiatedMedia> media;    // one per offered m-line
  std::vector<std::string> bundle_mids;  // accepted, answer order; [0] is the tag
  ice::IceCredentials remote_ice;
  std::vector<Candidate> remote_candidates;
  std::vector<SdpFingerprint> remote_fingerprints;
  Setup local_setup = Setup::kPassive;  // passive: we are the DTLS server
  bool remote_ice_lite = false;
  bool remote_trickle = false;
};

absl::StatusOr<NegotiationResult> negotiate_answer(const SessionDescription& offer,
                                                   const Capabilities& caps,
                                                   const LocalParameters& local);

}  // namespace sdp
}  // namespace tern
