// tern-loadgen: SDP offers as a browser would send them (built on the
// control/sdp model and writer), and what the loadgen needs from answers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/sdp/sdp_model.h"
#include "engine/dtls/certificate.h"
#include "engine/net/endpoint.h"

namespace tern::loadgen {

inline constexpr uint8_t kOpusPt = 111;
inline constexpr uint8_t kVp8Pt = 96;
inline constexpr uint8_t kMidExtId = 1;

struct OfferParams {
  bool publish = true;  // sendonly audio+video with a=ssrc; false: recvonly
  bool audio = true;
  bool video = true;
  // Subscriber: recvonly m-lines per kind when audio/video (one each by
  // default; an audio conference subscriber has one per other participant).
  uint32_t audio_lines = 1, video_lines = 1;
  uint32_t audio_ssrc = 0;  // publisher only
  uint32_t video_ssrc = 0;
  std::string ice_ufrag, ice_pwd;
  std::string fingerprint;  // "sha-256 AB:CD:..."
  std::string cname;
  // a=setup:active instead of actpass (the loadgen is the DTLS client either
  // way; Janus, as answerer, would otherwise take the client role itself).
  bool setup_active = false;
};

// BUNDLE, rtcp-mux, a=setup:actpass (or active), mid extension, opus/48000/2 and
// VP8/90000 with nack, nack pli, ccm fir (no RTX: retransmissions are plain).
std::string build_offer(const OfferParams& p);

// From ternd's answer: the ICE credentials, DTLS fingerprint and the first
// UDP IPv4 host candidate of the BUNDLE transport.
// When the server offers (a Janus subscriber): the answer receives every
// offered m-line (recvonly) with its first codec, keeps the mid extension,
// a=setup:active, and carries op's ICE credentials and fingerprint.
std::string build_answer(const sdp::SessionDescription& offer, const OfferParams& op);
struct OfferedStream {
  uint32_t ssrc = 0;
  bool video = false;
};
// The SSRCs such an offer will send: each active m-line's a=ssrc, without
// the retransmission SSRC of an a=ssrc-group:FID.
std::vector<OfferedStream> offered_streams(const sdp::SessionDescription& offer);

struct AnswerInfo {
  std::string ice_ufrag, ice_pwd;
  Fingerprint fingerprint;
  Endpoint server;
};
absl::StatusOr<AnswerInfo> read_answer(const std::string& sdp);

}  // namespace tern::loadgen
