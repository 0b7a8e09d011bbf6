// What the control plane tells a worker about producers and consumers: the
// contract between control/ (which builds these from SDP or JSON-RPC) and
// engine/sfu (which forwards with them).
//
// A producer is one track a participant sends (one m-line of a WHIP offer):
// one source stream, or up to 4 simulcast layers told apart by rid. A
// consumer is one participant's copy of one producer, on the subscriber's
// transport, with its own SSRC, payload types and header extension ids.
// Both live on the worker that owns their transports: a room lives on one
// worker, so the control plane places every transport of a room there.
//
// Built and owned by the control thread (allocation is fine here); handed to
// the worker through the command ring (WorkerCommand, ownership passes); the
// worker builds its hot-path state from them once and never reads them again
// per packet. Stats objects are shared: the worker writes (relaxed atomics,
// one writer), the control thread reads without a round trip.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/net/counters.h"

namespace tern::sfu {

enum class SfuMediaKind : uint8_t { kAudio, kVideo };

// The codecs an SFU must understand (keyframe detection, simulcast switching).
enum class CodecId : uint8_t { kOpus, kVp8, kVp9, kH264, kAv1, kOther };

struct RtpCodecParams {
  CodecId codec = CodecId::kOther;
  uint8_t pt = 0;           // payload type on this side (producer's or consumer's)
  uint32_t clock_rate = 0;  // 48000 Opus, 90000 video
  int16_t rtx_pt = -1;      // RFC 4588 RTX payload type for this codec; -1 = none
  bool nack = false;        // a=rtcp-fb nack negotiated
  bool pli = false;         // a=rtcp-fb nack pli
  bool fir = false;         // a=rtcp-fb ccm fir
};

// RFC 8285 ids negotiated on one side; 0 = not negotiated. A consumer's
// packets carry only the extensions its side negotiated, renumbered.
struct RtpExtensionIds {
  uint8_t mid = 0;
  uint8_t rid = 0;
  uint8_t repaired_rid = 0;
  uint8_t abs_send_time = 0;
  uint8_t transport_cc = 0;
  uint8_t audio_level = 0;
};

// One simulcast layer (or the only stream). ssrc 0: learnt from the first
// packet that carries this rid (rid extension), or, with one layer and no
// rid, from the first packet carrying this producer's mid.
struct ProducerLayer {
  std::string rid;  // "" without simulcast
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0 = unknown/none (learnt from repaired-rid)
};

// Counters the worker keeps per producer (relaxed atomics, one writer).
struct ProducerStats {
  Counter rtp_in, bytes_in;
  Counter rtx_in;                        // RTX packets from the publisher (repairs)
  Counter keyframes_in;                  // keyframes seen (any layer)
  Counter nack_out;                      // NACKs we sent to the publisher
  Counter pli_out, fir_out;              // keyframe requests we sent (after throttling)
  Counter rr_out;                        // receiver reports we sent
  Counter sr_in;                         // sender reports received
  std::array<Counter, 4> layer_packets;  // rtp_in per simulcast layer
  DropCounters drops;                    // unknown ssrc/pt, malformed, ...
};

struct ProducerParams {
  uint64_t id = 0;  // node-unique (control plane)
  uint64_t transport_id = 0;
  SfuMediaKind kind = SfuMediaKind::kVideo;
  std::string mid;
  std::vector<RtpCodecParams> codecs;  // every payload type the publisher may send
  RtpExtensionIds ext;
  std::vector<ProducerLayer> layers;  // 1..4; simulcast order as in the SDP (a=simulcast)
  std::shared_ptr<ProducerStats> stats;
};

// Counters the worker keeps per consumer (relaxed atomics, one writer).
struct ConsumerStats {
  Counter rtp_out, bytes_out;
  Counter rtx_out;         // retransmissions sent (RTX or plain)
  Counter nack_in;         // NACK requests (sequence numbers) from the subscriber
  Counter nack_missed;     // asked for, no longer (or never) in the cache
  Counter pli_in, fir_in;  // keyframe requests from the subscriber
  Counter sr_out, rr_in;   // our sender reports / the subscriber's receiver reports
  Counter layer_switches;
  std::atomic<int8_t> current_layer{-1};  // -1 = nothing forwarded yet
  std::atomic<bool> paused{false};
  DropCounters drops;  // kNoBuffer, ...
};

struct ConsumerParams {
  uint64_t id = 0;            // node-unique (control plane)
  uint64_t transport_id = 0;  // the subscriber's transport (same worker as the producer)
  uint64_t producer_id = 0;
  SfuMediaKind kind = SfuMediaKind::kVideo;
  std::string mid;  // the subscriber's m-line (mid extension value it expects)
  // The subscriber's payload types. Each producer codec is forwarded as the
  // consumer codec with the same CodecId (and clock rate); a producer codec
  // with no match is dropped (counted).
  std::vector<RtpCodecParams> codecs;
  RtpExtensionIds ext;
  uint32_t ssrc = 0;            // what the subscriber sees (a=ssrc in our answer)
  uint32_t rtx_ssrc = 0;        // 0 = no RTX: retransmissions are plain copies on ssrc
  int8_t preferred_layer = -1;  // simulcast layer index to forward; -1 = highest present
  bool paused = false;
  std::shared_ptr<ConsumerStats> stats;
};

}  // namespace tern::sfu
