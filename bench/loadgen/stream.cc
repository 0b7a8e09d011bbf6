#include "bench/loadgen/stream.h"

#include <algorithm>
#include <cstring>

#include "bench/loadgen/offer.h"
#include "engine/net/bytes.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_packet.h"

namespace tern::loadgen {

void write_probe(uint8_t* p, const Probe& pr) {
  store_be32(p, kProbeMagic);
  store_be32(p + 4, pr.stream_id);
  store_be32(p + 8, pr.seq);
  store_be32(p + 12, uint32_t(uint64_t(pr.sent) >> 32));
  store_be32(p + 16, uint32_t(uint64_t(pr.sent)));
}

bool read_probe(const uint8_t* p, size_t len, Probe* out) {
  if (len < kProbeSize || load_be32(p) != kProbeMagic) return false;
  out->stream_id = load_be32(p + 4);
  out->seq = load_be32(p + 8);
  out->sent = Nanos((uint64_t(load_be32(p + 12)) << 32) | load_be32(p + 16));
  return true;
}

StreamGen::StreamGen(const StreamConfig& c) : c_(c) {
  rng_ = 0x9E3779B97F4A7C15ull ^ (uint64_t(c.ssrc) << 17) ^ c.stream_id;
  rtp_seq_ = uint16_t(rng_ >> 7);
  rtp_ts_ = uint32_t(rng_ >> 23);
  period_ = c.video ? kSecond / std::max<uint32_t>(1, c.fps) : 20 * kMillisecond;
}

void StreamGen::start(Nanos now) { next_ = now; }

bool StreamGen::begin_frame(Nanos now) {
  if (now < next_ || frame_left_ > 0) return false;
  if (now - next_ > 200 * kMillisecond) {  // stalled: drop the backlog, keep the clock
    const Nanos missed = (now - next_) / period_;
    skipped_ += uint64_t(missed);
    next_ += missed * period_;
    rtp_ts_ += uint32_t(missed * (c_.video ? 90000 / std::max<uint32_t>(1, c_.fps) : 960));
  }
  rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
  const uint64_t r = rng_ >> 33;
  if (c_.video) {
    // Keyframes are 3x a delta frame; scale deltas so the average is kbps.
    const uint64_t n = std::max<uint32_t>(1, c_.keyframe_interval);
    const uint64_t avg = uint64_t(c_.kbps) * 1000 / 8 / std::max<uint32_t>(1, c_.fps);
    const uint64_t delta = avg * n / (n + 2);
    key_ = force_key_ || frame_ % n == 0;
    if (key_) frame_ = 0;  // a requested keyframe restarts the interval
    force_key_ = false;
    frame_left_ = std::max<uint64_t>(kProbeSize + 2, key_ ? 3 * delta : delta);
    if (key_) ++keyframes_;
  } else {
    // Opus-like: 20 ms frames, 60..160 bytes around kbps.
    const size_t base = size_t(c_.kbps) * 1000 / 8 / 50;
    frame_left_ = std::clamp<size_t>(base - 10 + r % 21, 60, 160);
    key_ = false;
  }
  ++frame_;
  pkt_index_ = 0;
  next_ += period_;
  return true;
}

size_t StreamGen::next_packet(uint8_t* buf, size_t cap, Nanos now) {
  if (frame_left_ == 0) return 0;
  const bool paced = c_.video && c_.pacing > 0 && c_.kbps > 0;
  if (paced && now < pace_at_) return 0;
  size_t payload = frame_left_;
  if (c_.video && payload > c_.max_payload) {
    // Spread the frame evenly over its packets (as a packetizer would).
    const size_t pkts = (frame_left_ + c_.max_payload - 1) / c_.max_payload;
    payload = (frame_left_ + pkts - 1) / pkts;
  }
  payload = std::max(payload, probe_offset(c_.video) + kProbeSize);
  frame_left_ = frame_left_ > payload ? frame_left_ - payload : 0;
  rtp::RtpHeaderFields h;
  h.marker = frame_left_ == 0 && c_.video;
  h.payload_type = c_.pt;
  h.sequence = rtp_seq_;
  h.timestamp = rtp_ts_;
  h.ssrc = c_.ssrc;
  rtp::RtpWriter w(buf, cap);
  w.begin(h);
  w.add_string_extension(kMidExtId, c_.mid);
  uint8_t pl[1500];
  payload = std::min(payload, sizeof(pl));
  std::memset(pl, 0xA5, payload);
  if (c_.video) {
    pl[0] = pkt_index_ == 0 ? 0x10 : 0x00;          // VP8 descriptor: S, PID 0
    pl[1] = pkt_index_ == 0 && key_ ? 0x00 : 0x01;  // frame tag: P bit
  }
  write_probe(pl + probe_offset(c_.video), {c_.stream_id, probe_seq_++, now});
  const size_t n = w.finish(absl::Span<const uint8_t>(pl, payload));
  if (n == 0) return 0;
  if (paced) {
    // Up to 1 ms of credit: a loop that ticks every few hundred us still
    // reaches the pacing rate, and no more than a small burst goes at once.
    const Nanos gap = Nanos(double(n) * 8e6 / (c_.pacing * c_.kbps));
    pace_at_ = std::max(pace_at_, now - kMillisecond) + gap;
  }
  ++rtp_seq_;
  ++pkt_index_;
  ++packets_;
  bytes_ += n;
  if (frame_left_ == 0) rtp_ts_ += c_.video ? 90000 / std::max<uint32_t>(1, c_.fps) : 960;
  return n;
}

}  // namespace tern::loadgen
