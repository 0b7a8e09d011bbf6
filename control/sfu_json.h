// JSON <-> the SFU contract (engine/sfu/sfu_params.h) for producer.* and
// consumer.* (docs/control-protocol.md), and SDP negotiation results ->
// the same structs for session.*.
//
// Every parse error is an InvalidArgument from jsonrpc::invalid_param naming
// the field as a path under params ("params.codecs[1].pt") and the value.
// Control plane only (allocates).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/jsonrpc_codec.h"
#include "control/sdp/sdp_negotiate.h"
#include "engine/sfu/sfu_params.h"

namespace tern {

// "opus", "VP8", "VP9", "H264", "AV1" (case-insensitive) -> CodecId; nullopt
// for anything else.
std::optional<sfu::CodecId> codec_id_from_name(absl::string_view name);
const char* codec_id_name(sfu::CodecId c);       // "opus", "VP8", ...
const char* sfu_kind_name(sfu::SfuMediaKind k);  // "audio" / "video"

// params.kind: "audio" / "video".
absl::StatusOr<sfu::SfuMediaKind> kind_from_json(const jsonrpc::json& p, absl::string_view field);

// codecs: [{name, pt, clock_rate?, rtx_pt?, rtcp_fb?: [..]}], 1..16 entries;
// names must fit `kind`, payload types 0..127 (rtx_pt too) and unique.
absl::StatusOr<std::vector<sfu::RtpCodecParams>> codecs_from_json(const jsonrpc::json& v,
                                                                  sfu::SfuMediaKind kind,
                                                                  absl::string_view field);
// extensions: [{id 1..255, uri}]; unknown URIs are ignored (not forwarded),
// duplicate ids are errors.
absl::StatusOr<sfu::RtpExtensionIds> extensions_from_json(const jsonrpc::json& v,
                                                          absl::string_view field);
// layers: [{rid?, ssrc?, rtx_ssrc?}], 0..4 (0 = one layer, learnt); with
// more than one, every rid is set and unique.
absl::StatusOr<std::vector<sfu::ProducerLayer>> layers_from_json(const jsonrpc::json& v,
                                                                 absl::string_view field);

jsonrpc::json codecs_to_json(const std::vector<sfu::RtpCodecParams>& codecs);
jsonrpc::json extensions_to_json(const sfu::RtpExtensionIds& ext);
jsonrpc::json layers_to_json(const std::vector<sfu::ProducerLayer>& layers);
jsonrpc::json producer_stats_json(const sfu::ProducerStats& s, size_t layers);
jsonrpc::json consumer_stats_json(const sfu::ConsumerStats& s);

// From a negotiated m-line: codecs we can forward (kOther ones skipped), and
// the extension ids by URI.
std::vector<sfu::RtpCodecParams> codecs_from_negotiated(const sdp::NegotiatedMedia& m);
sfu::RtpExtensionIds extensions_from_negotiated(const sdp::NegotiatedMedia& m);

}  // namespace tern
