// SDP parser (RFC 8866) for offers from browsers and WHIP/WHEP clients.
//
// Lenient where browsers are: unknown attributes are kept verbatim, LF-only line
// endings and blank lines are accepted, unknown b=/i=/u=/e=/p=/k=/z=/r= lines are
// skipped. Strict where it matters: every value tern uses is checked, and every
// error names the line number and the field, e.g.
//   "line 14: a=rtpmap: payload type 300 out of range 0..127".
// Hostile input is bounded: total size, line count, line length and media
// sections are capped before anything is allocated per line (SdpLimits), so
// memory and time are O(input size) with small constants.
//
// Control plane only (allocates).
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/sdp/sdp_model.h"

namespace tern {
namespace sdp {

struct SdpLimits {
  size_t max_size = 64 * 1024;    // bytes of SDP text
  size_t max_lines = 2000;        // lines (Chrome's 3-layer simulcast offer: ~120)
  size_t max_line_length = 4096;  // bytes per line, without the line ending
  size_t max_media = 64;          // m= sections
  size_t max_candidates = 64;     // a=candidate per section
  size_t max_rids = 16;           // a=rid per section
};

// Parses `text`. Errors are InvalidArgument with "line N: <field>: <problem>" (or,
// for whole-description problems, the field alone), or ResourceExhausted when a
// limit is hit.
absl::StatusOr<SessionDescription> parse_sdp(absl::string_view text,
                                             const SdpLimits& limits = SdpLimits{});

}  // namespace sdp
}  // namespace tern
