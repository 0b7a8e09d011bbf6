// Sequence number unwrapping, per-stream receive statistics (RFC 3550 A.1,
// A.3, A.8) that fill an RTCP report block, sender-side counters that fill an
// SR, and NTP time helpers. Sans-IO: every call takes the time in.
#pragma once

#include <cstdint>

#include "engine/net/nanos.h"
#include "engine/rtp/rtcp.h"

namespace tern {
namespace rtp {

// ---- sequence numbers -------------------------------------------------------------

// 16-bit sequence numbers -> 64-bit extended ones. A number within half the
// space (32768) of the highest seen is taken as the nearest one, so both
// wrap-around and reordering map right. The first number maps to itself
// (plus 2^16, so a reordered packet from just before it stays positive).
class SeqUnwrapper {
 public:
  int64_t unwrap(uint16_t seq) {
    if (!started_) {
      started_ = true;
      highest_ = int64_t(seq) + 65536;
      return highest_;
    }
    const int64_t ext = highest_ + int16_t(uint16_t(seq - uint16_t(highest_)));
    if (ext > highest_) highest_ = ext;
    return ext;
  }
  // Without updating the state.
  int64_t peek(uint16_t seq) const {
    return started_ ? highest_ + int16_t(uint16_t(seq - uint16_t(highest_))) : seq + 65536;
  }
  bool started() const { return started_; }
  int64_t highest() const { return highest_; }

 private:
  int64_t highest_ = 0;
  bool started_ = false;
};

// ---- NTP time -------------------------------------------------------------------------

// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch).
inline constexpr uint64_t kNtpUnixOffset = 2208988800ull;

// NTP 32.32 fixed point from Unix-epoch nanoseconds (wall clock; the caller
// reads the clock and passes it in).
uint64_t ntp_from_unix_nanos(int64_t unix_ns);
int64_t unix_nanos_from_ntp(uint64_t ntp);
// The middle 32 bits (16.16), as in LSR; and a duration in 1/65536 s (DLSR).
inline uint32_t ntp_compact(uint64_t ntp) { return uint32_t(ntp >> 16); }
uint32_t compact_from_nanos(Nanos d);
Nanos nanos_from_compact(uint32_t c);
// Round-trip time from a report block received at `arrival_ntp` (RFC 3550
// §6.4.1: A - LSR - DLSR). 0 when the block carries no LSR.
Nanos rtt_from_report_block(const ReportBlock& b, uint64_t arrival_ntp);

// ---- receive statistics -----------------------------------------------------------------

// One per received SSRC. Every packet counts from the first one (no
// probation: packets reaching here passed SRTP authentication, which is what
// A.1's probation guards against by other means). A jump of more than
// kMaxDropout ahead or kMaxMisorder behind is ignored unless the next packet
// follows it, in which case the source is taken to have restarted (A.1).
class ReceiveStatistics {
 public:
  static constexpr int kMaxDropout = 3000;
  static constexpr int kMaxMisorder = 100;

  ReceiveStatistics(uint32_t ssrc, uint32_t clock_rate) : ssrc_(ssrc), clock_rate_(clock_rate) {}

  // A packet of this stream (after SRTP unprotect). `arrival` on the
  // worker's clock. Returns false when the packet was ignored as a jump.
  bool on_packet(uint16_t seq, uint32_t rtp_timestamp, Nanos arrival);
  // An SR from the stream's sender arrived at `now`: remembered for LSR/DLSR.
  void on_sender_report(uint64_t sr_ntp, Nanos now);

  // Fills a report block for `now`. The fraction lost covers the interval
  // since the previous call (A.3), so call it once per report sent.
  void fill_report_block(Nanos now, ReportBlock* out);

  uint32_t ssrc() const { return ssrc_; }
  uint64_t received() const { return received_; }
  int64_t extended_highest_seq() const { return max_ext_ - 65536; }
  int64_t expected() const { return received_ == 0 ? 0 : max_ext_ - base_ext_ + 1; }
  int64_t cumulative_lost() const { return expected() - int64_t(received_); }
  // Interarrival jitter in RTP timestamp units (A.8, integer form).
  uint32_t jitter() const {
    return jitter_q4_ >> 4 > UINT32_MAX ? UINT32_MAX : uint32_t(jitter_q4_ >> 4);
  }

 private:
  uint32_t rtp_units(Nanos t) const;

  uint32_t ssrc_;
  uint32_t clock_rate_;
  SeqUnwrapper unwrap_;
  int64_t base_ext_ = 0;
  int64_t max_ext_ = 0;
  uint64_t received_ = 0;
  int64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  int64_t bad_seq_ = -1;  // A.1: the seq that would confirm a restart
  // Jitter (A.8): transit of the previous packet and jitter x16.
  uint32_t last_transit_ = 0;
  bool have_transit_ = false;
  uint64_t jitter_q4_ = 0;
  uint32_t last_sr_ = 0;
  Nanos last_sr_arrival_ = 0;
};

// ---- sender statistics ----------------------------------------------------------------------

// One per sent SSRC: what an SR carries.
class SenderStatistics {
 public:
  SenderStatistics(uint32_t ssrc, uint32_t clock_rate) : ssrc_(ssrc), clock_rate_(clock_rate) {}

  // A packet went out at `now` (monotonic) with this RTP timestamp and
  // payload size (RFC 3550 §6.4.1: octets count payload only).
  void on_packet_sent(uint32_t rtp_timestamp, size_t payload_bytes, Nanos now);
  // Sender info for an SR at `now` (monotonic) / `ntp_now` (wall clock):
  // the RTP timestamp is the last one sent, advanced by the elapsed time at
  // the clock rate, so receivers can line it up with the NTP time.
  SenderInfo sender_info(Nanos now, uint64_t ntp_now);
  // Remembered for RTT: the compact NTP time of the last SR sent.
  uint32_t last_sr_compact() const { return last_sr_; }

  uint32_t ssrc() const { return ssrc_; }
  uint32_t packets() const { return packets_; }
  uint32_t octets() const { return octets_; }
  bool has_sent() const { return sent_; }

 private:
  uint32_t ssrc_;
  uint32_t clock_rate_;
  uint32_t packets_ = 0;
  uint32_t octets_ = 0;  // wraps as RFC 3550 says
  uint32_t last_rtp_ = 0;
  Nanos last_send_ = 0;
  uint32_t last_sr_ = 0;
  bool sent_ = false;
};

}  // namespace rtp
}  // namespace tern
