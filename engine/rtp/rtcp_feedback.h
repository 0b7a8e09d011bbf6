// RTCP feedback messages: generic NACK and transport-cc (RTPFB, PT 205),
// PLI, FIR and REMB (PSFB, PT 206). Readers view the packet in place;
// writers fill a caller buffer and return the bytes written (0 if it does not
// fit). No allocation.
//
// Common feedback header (RFC 4585 §6.1): after the RTCP header,
//   SSRC of packet sender, SSRC of media source, then the FCI.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "engine/net/bytes.h"
#include "engine/net/nanos.h"
#include "engine/rtp/rtcp.h"

namespace tern {
namespace rtp {

namespace fb_fmt {
inline constexpr uint8_t kNack = 1;  // RTPFB, RFC 4585 §6.2.1
inline constexpr uint8_t kTransportCc =
    15;                              // RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions
inline constexpr uint8_t kPli = 1;   // PSFB, RFC 4585 §6.3.1
inline constexpr uint8_t kFir = 4;   // PSFB, RFC 5104 §4.3.1
inline constexpr uint8_t kAfb = 15;  // PSFB application layer (REMB)
}  // namespace fb_fmt

inline bool is_feedback(const RtcpPacket& p, uint8_t type, uint8_t fmt) {
  return p.type == type && p.count == fmt && p.body_size >= 8;
}
inline uint32_t feedback_sender_ssrc(const RtcpPacket& p) { return load_be32(p.body); }
inline uint32_t feedback_media_ssrc(const RtcpPacket& p) { return load_be32(p.body + 4); }

// ---- generic NACK ---------------------------------------------------------------
// FCI items: PID (16) + BLP (16); bit i of BLP set = PID + i + 1 lost.

class NackPacket {
 public:
  bool parse(const RtcpPacket& p);
  uint32_t sender_ssrc() const { return sender_; }
  uint32_t media_ssrc() const { return media_; }
  size_t item_count() const { return items_; }
  uint16_t pid(size_t i) const { return load_be16(fci_ + 4 * i); }
  uint16_t blp(size_t i) const { return load_be16(fci_ + 4 * i + 2); }
  // Expands every item into sequence numbers, in wire order; writes at most
  // cap of them and returns how many the packet reports in total.
  size_t lost(uint16_t* out, size_t cap) const;

 private:
  const uint8_t* fci_ = nullptr;
  uint32_t sender_ = 0, media_ = 0;
  uint32_t items_ = 0;
};

// Packs `lost` (ascending in wrap-around order; duplicates ignored; a
// sequence number behind the current item starts a new one) into PID/BLP
// items.
size_t write_nack(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                  absl::Span<const uint16_t> lost);

// ---- PLI ------------------------------------------------------------------------

size_t write_pli(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);

// ---- FIR ------------------------------------------------------------------------
// FCI entries: SSRC (32), seq nr (8), reserved (24). The header's media SSRC
// is 0 (RFC 5104 §4.3.1.2).

struct FirEntry {
  uint32_t ssrc = 0;
  uint8_t seq_nr = 0;
};
class FirPacket {
 public:
  bool parse(const RtcpPacket& p);  // at least one entry
  uint32_t sender_ssrc() const { return sender_; }
  size_t entry_count() const { return entries_; }
  FirEntry entry(size_t i) const { return {load_be32(fci_ + 8 * i), fci_[8 * i + 4]}; }

 private:
  const uint8_t* fci_ = nullptr;
  uint32_t sender_ = 0;
  uint32_t entries_ = 0;
};
size_t write_fir(uint8_t* buf, size_t cap, uint32_t sender_ssrc,
                 absl::Span<const FirEntry> entries);

// ---- REMB (draft-alvestrand-rmcat-remb) -----------------------------------------
// PSFB FMT 15, media SSRC 0, FCI: 'R' 'E' 'M' 'B', num SSRC (8),
// BR exp (6), BR mantissa (18), SSRC list. Bitrate = mantissa << exp bps.

class RembPacket {
 public:
  bool parse(const RtcpPacket& p);
  uint32_t sender_ssrc() const { return sender_; }
  uint64_t bitrate_bps() const { return bitrate_; }  // saturates at UINT64_MAX
  size_t ssrc_count() const { return count_; }
  uint32_t ssrc(size_t i) const { return load_be32(ssrcs_ + 4 * i); }

 private:
  const uint8_t* ssrcs_ = nullptr;
  uint64_t bitrate_ = 0;
  uint32_t sender_ = 0;
  uint8_t count_ = 0;
};
// The bitrate is rounded down to what an 18-bit mantissa carries. At most
// 255 SSRCs.
size_t write_remb(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  absl::Span<const uint32_t> ssrcs);

// ---- transport-cc feedback -----------------------------------------------------
//   base seq (16) | status count (16) | reference time (24, signed, x64 ms) |
//   fb pkt count (8) | packet chunks (16 each) | recv deltas | zero padding
// Chunks: run length (0 | symbol(2) | run(13)) or status vector
// (1 | size | 14 x 1-bit or 7 x 2-bit symbols). Deltas: 1 byte unsigned
// (small) or 2 bytes signed (large), in 250 us ticks, each relative to the
// previous received packet (the first to the reference time).

enum class TccStatus : uint8_t {
  kNotReceived = 0,
  kSmallDelta = 1,
  kLargeDelta = 2,
  kReserved = 3,  // "11" in the draft; read as received without a delta
};
inline constexpr Nanos kTccTick = 250 * kMicrosecond;
inline constexpr Nanos kTccReferenceUnit = 64 * kMillisecond;

struct TccPacketStatus {
  uint16_t seq = 0;
  TccStatus status = TccStatus::kNotReceived;
  // Receive time on the feedback sender's clock: reference time plus the
  // deltas so far, in 250 us ticks (meaningful for small/large delta only).
  int64_t arrival_ticks = 0;
  bool received() const { return status != TccStatus::kNotReceived; }
  Nanos arrival() const { return arrival_ticks * kTccTick; }
};

class TransportCcPacket {
 public:
  // Validates: the chunks describe status count statuses and the deltas
  // they need fit in the body (trailing bytes are padding).
  bool parse(const RtcpPacket& p);
  uint32_t sender_ssrc() const { return sender_; }
  uint32_t media_ssrc() const { return media_; }
  uint16_t base_seq() const { return base_; }
  uint16_t status_count() const { return count_; }
  int32_t reference_time() const { return ref_; }  // 64 ms units, sign-extended
  uint8_t fb_count() const { return fb_count_; }
  size_t chunk_count() const { return chunks_; }
  uint16_t chunk(size_t i) const { return load_be16(body_ + 16 + 2 * i); }

  // Statuses in sequence order:
  //   TransportCcPacket::Reader r(pkt); TccPacketStatus s; while (r.next(&s)) ...
  class Reader {
   public:
    explicit Reader(const TransportCcPacket& p);
    bool next(TccPacketStatus* out);

   private:
    const TransportCcPacket& p_;
    uint32_t index_ = 0;     // status index
    uint32_t chunk_ = 0;     // current chunk
    uint32_t in_chunk_ = 0;  // symbols of the current chunk consumed
    uint32_t delta_pos_;     // next delta byte (body offset)
    int64_t ticks_;
  };

 private:
  const uint8_t* body_ = nullptr;
  uint32_t sender_ = 0, media_ = 0;
  uint32_t chunks_ = 0;
  int32_t ref_ = 0;
  uint16_t base_ = 0, count_ = 0;
  uint8_t fb_count_ = 0;
};

struct TccArrival {
  uint16_t seq = 0;   // transport-wide sequence number
  Nanos arrival = 0;  // receive time, >= 0 (the worker's clock)
};
// At most this many statuses (received or not) per feedback message.
inline constexpr size_t kTccMaxStatuses = 8192;
// Feedback for `packets` (ascending transport seq in wrap-around order; gaps
// are reported as not received; a seq between the base and the previous one
// is skipped). Stops early when the next packet does not fit (buffer, more
// than kTccMaxStatuses past the base, a delta beyond 16 bits signed);
// *consumed tells how many inputs were covered (skipped ones included): send
// the rest in the next message. Returns bytes written, 0 if none fit.
size_t write_transport_cc(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint8_t fb_count, absl::Span<const TccArrival> packets, size_t* consumed);

}  // namespace rtp
}  // namespace tern
