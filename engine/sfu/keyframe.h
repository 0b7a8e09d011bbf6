// Keyframe detection from one RTP payload, per codec. The SFU starts a
// consumer, resumes it, and switches simulcast layers only at a keyframe.
//
//   VP8  (RFC 7741 §4.2-4.3): payload descriptor (X, I/L/T/K extensions),
//        then on the first partition of a frame (S=1, PID=0) the P bit of the
//        VP8 payload header: 0 = key frame.
//   VP9  (draft-ietf-payload-vp9 §4.2): P=0 (not inter-predicted) on the
//        packet that starts a frame (B=1) of spatial layer 0.
//   H264 (RFC 6184 §5.6-5.8): an IDR slice (5) or SPS (7) in a single NAL
//        unit, in a STAP-A aggregate, or at the start (S=1) of an FU-A.
//   AV1  (AV1 RTP spec §4.4): the aggregation header's N bit (first packet
//        of a new coded video sequence).
// Anything else (audio, unknown codecs) never reports a keyframe: callers
// treat such producers as needing none.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/sfu/sfu_params.h"

namespace tern::sfu {

bool is_keyframe(CodecId codec, const uint8_t* payload, size_t len);
// Codecs whose streams can only be joined at a keyframe.
inline bool codec_needs_keyframe(CodecId c) {
  return c == CodecId::kVp8 || c == CodecId::kVp9 || c == CodecId::kH264 || c == CodecId::kAv1;
}

}  // namespace tern::sfu
