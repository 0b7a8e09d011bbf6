// SDP writer: SessionDescription -> text that Chromium and Firefox accept.
//
// CRLF line endings; session lines in RFC 8866 §5 order (v o s c b t, then
// attributes), media lines m c b then attributes. Attribute order follows what
// Chromium itself writes (transport, mid, extmap, direction, msid, rtcp, codecs,
// ssrc, rid, simulcast, sctp), then the verbatim attributes the model did not
// know. Writing never fails: the model's values are written as they are, so
// callers build models from parsed or validated values only.
#pragma once

#include <string>

#include "control/sdp/sdp_model.h"

namespace tern {
namespace sdp {

std::string write_sdp(const SessionDescription& sd);

// One media section (m= line and everything below it), CRLF terminated.
std::string write_media(const MediaSection& m);

}  // namespace sdp
}  // namespace tern
