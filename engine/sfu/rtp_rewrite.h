// The per-consumer copy of a forwarded RTP packet: the one pass that writes
// the egress buffer (then SRTP protects it in place).
//
// Header: SSRC, sequence number, timestamp and payload type replaced; marker,
// CSRCs and padding kept. Header extensions (RFC 8285): every element whose
// producer id maps to a consumer id (ExtensionIdTable, built at control rate
// from the two RtpExtensionIds) is copied under the new id; everything else
// (rid, repaired-rid, ids the consumer did not negotiate) is dropped. The
// SFU then writes its own values for what is per hop: mid (the consumer's
// m-line), abs-send-time (our send time) and transport-cc (the consumer
// transport's sequence). The block is written in the one-byte form when
// every id is 1..14 and every value 1..16 bytes, else in the two-byte form.
//
// RTX (RFC 4588 §4): `osn` >= 0 prefixes the payload with the original
// sequence number (2 bytes, network order).
//
// Per packet: no allocation; at most kMaxElements elements are carried.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/sfu/sfu_params.h"

namespace tern::sfu {

struct RewriteSpec {
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint8_t pt = 0;
  int32_t osn = -1;                                  // RTX: original sequence number; -1 = not RTX
  const rtp::ExtensionIdTable* ext_table = nullptr;  // producer id -> consumer id (0 = drop)
  uint8_t mid_id = 0;  // consumer's ids for the per-hop extensions (0 = not negotiated)
  const char* mid = nullptr;
  uint8_t mid_len = 0;  // 1..16 (longer mids are not written)
  uint8_t abs_send_time_id = 0;
  uint32_t abs_send_time = 0;
  uint8_t transport_cc_id = 0;
  uint16_t transport_cc_seq = 0;
};

// Builds the translation table for the pass-through extensions (audio
// level today): producer id -> consumer id. mid, rid, repaired-rid,
// abs-send-time and transport-cc map to 0: dropped or rewritten per hop.
rtp::ExtensionIdTable make_passthrough_table(const RtpExtensionIds& producer,
                                             const RtpExtensionIds& consumer);

inline constexpr int kMaxElements = 16;

// Writes the rewritten packet into out[0..cap). Returns its size, or 0 if it
// does not fit (counted by the caller as kSfuTooLarge).
size_t write_rewritten(uint8_t* out, size_t cap, const rtp::RtpView& in, const RewriteSpec& s);

}  // namespace tern::sfu
