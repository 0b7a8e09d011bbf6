#include "engine/rtp/rtp_stats.h"

namespace tern {
namespace rtp {

// ---- NTP ----------------------------------------------------------------------------

uint64_t ntp_from_unix_nanos(int64_t unix_ns) {
  const uint64_t s = uint64_t(unix_ns / kSecond) + kNtpUnixOffset;
  const uint64_t frac = (uint64_t(unix_ns % kSecond) << 32) / kSecond;
  return (s << 32) | frac;
}

int64_t unix_nanos_from_ntp(uint64_t ntp) {
  uint64_t s = ntp >> 32;
  // Era 1 starts in 2036: small values are after the wrap, not before 1970.
  if (s < kNtpUnixOffset) s += uint64_t(1) << 32;
  const uint64_t frac = ((ntp & 0xFFFFFFFF) * uint64_t(kSecond)) >> 32;
  return int64_t((s - kNtpUnixOffset) * uint64_t(kSecond) + frac);
}

uint32_t compact_from_nanos(Nanos d) {
  if (d <= 0) return 0;
  const uint64_t s = uint64_t(d / kSecond), ns = uint64_t(d % kSecond);
  return uint32_t((s << 16) + (ns << 16) / kSecond);
}

Nanos nanos_from_compact(uint32_t c) { return Nanos((uint64_t(c) * kSecond) >> 16); }

Nanos rtt_from_report_block(const ReportBlock& b, uint64_t arrival_ntp) {
  if (b.last_sr == 0) return 0;
  const uint32_t rtt = ntp_compact(arrival_ntp) - b.last_sr - b.delay_since_last_sr;
  return int32_t(rtt) < 0 ? 0 : nanos_from_compact(rtt);
}

// ---- receive statistics ---------------------------------------------------------------

uint32_t ReceiveStatistics::rtp_units(Nanos t) const {
  const uint64_t s = uint64_t(t / kSecond), ns = uint64_t(t % kSecond);
  return uint32_t(s * clock_rate_ + ns * clock_rate_ / kSecond);
}

bool ReceiveStatistics::on_packet(uint16_t seq, uint32_t rtp_timestamp, Nanos arrival) {
  if (received_ == 0) {
    base_ext_ = max_ext_ = unwrap_.unwrap(seq);
  } else {
    const int64_t ext = unwrap_.peek(seq);
    const int64_t delta = ext - max_ext_;
    if (delta >= -kMaxMisorder && delta < kMaxDropout) {
      unwrap_.unwrap(seq);
      if (ext > max_ext_) max_ext_ = ext;
      if (ext < base_ext_) base_ext_ = ext;  // reordered from before the first
      bad_seq_ = -1;
    } else if (seq == bad_seq_) {
      // Two sequential packets after a jump: the sender restarted (A.1).
      unwrap_ = SeqUnwrapper();
      base_ext_ = max_ext_ = unwrap_.unwrap(seq);
      received_ = 0;
      expected_prior_ = 0;
      received_prior_ = 0;
      have_transit_ = false;
      bad_seq_ = -1;
    } else {
      bad_seq_ = uint16_t(seq + 1);
      return false;
    }
  }
  ++received_;

  // A.8: D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1}) = transit_i - transit_{i-1};
  // J += (|D| - J) / 16, kept x16 in integer form.
  const uint32_t transit = rtp_units(arrival) - rtp_timestamp;
  if (have_transit_) {
    int64_t d = int32_t(transit - last_transit_);
    if (d < 0) d = -d;
    jitter_q4_ += uint64_t(d) - ((jitter_q4_ + 8) >> 4);
  }
  last_transit_ = transit;
  have_transit_ = true;
  return true;
}

void ReceiveStatistics::on_sender_report(uint64_t sr_ntp, Nanos now) {
  last_sr_ = ntp_compact(sr_ntp);
  last_sr_arrival_ = now;
}

void ReceiveStatistics::fill_report_block(Nanos now, ReportBlock* out) {
  const int64_t exp = expected();
  const int64_t expected_interval = exp - expected_prior_;
  const int64_t received_interval = int64_t(received_ - received_prior_);
  const int64_t lost_interval = expected_interval - received_interval;
  expected_prior_ = exp;
  received_prior_ = received_;

  out->ssrc = ssrc_;
  out->fraction_lost = (expected_interval <= 0 || lost_interval <= 0)
                           ? 0
                           : uint8_t((lost_interval << 8) / expected_interval);
  const int64_t lost = cumulative_lost();
  out->cumulative_lost = lost > 0x7FFFFF ? 0x7FFFFF : lost < -0x800000 ? -0x800000 : int32_t(lost);
  out->extended_highest_seq = received_ == 0 ? 0 : uint32_t(extended_highest_seq());
  out->jitter = jitter();
  out->last_sr = last_sr_;
  out->delay_since_last_sr = last_sr_ == 0 ? 0 : compact_from_nanos(now - last_sr_arrival_);
}

// ---- sender statistics -------------------------------------------------------------------

void SenderStatistics::on_packet_sent(uint32_t rtp_timestamp, size_t payload_bytes, Nanos now) {
  ++packets_;
  octets_ += uint32_t(payload_bytes);
  last_rtp_ = rtp_timestamp;
  last_send_ = now;
  sent_ = true;
}

SenderInfo SenderStatistics::sender_info(Nanos now, uint64_t ntp_now) {
  SenderInfo info;
  info.ntp = ntp_now;
  uint32_t rtp = last_rtp_;
  if (sent_ && now > last_send_) {
    const Nanos d = now - last_send_;
    const uint64_t s = uint64_t(d / kSecond), ns = uint64_t(d % kSecond);
    rtp += uint32_t(s * clock_rate_ + ns * clock_rate_ / kSecond);
  }
  info.rtp_timestamp = rtp;
  info.packet_count = packets_;
  info.octet_count = octets_;
  last_sr_ = ntp_compact(ntp_now);
  return info;
}

}  // namespace rtp
}  // namespace tern
