// tern-loadgen: synthetic media streams and the payload format the checker
// reads back.
//
// Every RTP payload carries, at a fixed offset, a 20-byte probe:
//   magic "TLG1" (32) | stream id (32) | stream sequence (32) | send time (64,
//   CLOCK_MONOTONIC ns)
// at offset 0 for audio and 2 for video, after a 1-byte VP8 payload
// descriptor (S=1, PID 0 on the first packet of a frame) and the first byte of
// the VP8 frame tag (P=0 on a keyframe), so ternd's keyframe detector sees a
// real keyframe and starts its video consumers.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/net/nanos.h"

namespace tern::loadgen {

inline constexpr uint32_t kProbeMagic = 0x544C4731;  // "TLG1"
inline constexpr size_t kProbeSize = 20;

struct Probe {
  uint32_t stream_id = 0;
  uint32_t seq = 0;
  Nanos sent = 0;
};
void write_probe(uint8_t* p, const Probe& pr);
bool read_probe(const uint8_t* p, size_t len, Probe* out);  // false: bad magic or short
inline size_t probe_offset(bool video) { return video ? 2 : 0; }

struct StreamConfig {
  bool video = false;
  uint32_t stream_id = 0;
  uint32_t ssrc = 0;
  uint8_t pt = 0;
  std::string mid;  // written into the mid extension
  uint32_t kbps = 0;
  uint32_t fps = 30;                // video
  uint32_t keyframe_interval = 60;  // video: frames between keyframes
  size_t max_payload = 1160;        // video packet payload (~1200 B on the wire)
  // Video: send a frame's packets no faster than pacing x kbps (a browser's
  // pacer runs at 2.5x the target rate), so a keyframe is not one burst;
  // 0 = the whole frame at once.
  double pacing = 0;
};

// Produces the packets due at `now`, paced on a fixed frame clock (20 ms
// audio, 1/fps video) and, with `pacing`, within a frame too. Plain RTP into
// a caller buffer; the endpoint protects and sends each one. Never produces
// more than one frame per call and skips frames missed by more than 200 ms
// (the loop was stalled) rather than bursting to catch up. The probe's send
// time is when next_packet() produced the packet, so pacing is not counted
// as latency.
class StreamGen {
 public:
  explicit StreamGen(const StreamConfig& c);
  const StreamConfig& config() const { return c_; }
  void start(Nanos now);
  Nanos next_due() const { return next_; }
  // Begins the frame due now (false while the previous one is still being
  // paced out); then call next_packet() until it returns 0.
  bool begin_frame(Nanos now);
  bool frame_pending() const { return frame_left_ > 0; }
  size_t next_packet(uint8_t* buf, size_t cap, Nanos now);
  void request_keyframe() { force_key_ = true; }

  uint64_t packets() const { return packets_; }
  uint64_t bytes() const { return bytes_; }
  uint64_t keyframes() const { return keyframes_; }
  uint64_t frames_skipped() const { return skipped_; }
  uint32_t last_seq() const { return probe_seq_; }  // next probe sequence

 private:
  StreamConfig c_;
  Nanos period_ = 0, next_ = 0;
  uint16_t rtp_seq_;
  uint32_t rtp_ts_;
  uint32_t probe_seq_ = 0;
  uint64_t frame_ = 0;
  bool force_key_ = true;
  // Current frame.
  size_t frame_left_ = 0, pkt_index_ = 0;
  bool key_ = false;
  Nanos pace_at_ = 0;  // pacing: the next packet may go at this time
  uint64_t rng_;
  uint64_t packets_ = 0, bytes_ = 0, keyframes_ = 0, skipped_ = 0;
};

}  // namespace tern::loadgen
