// tern-loadgen: what a subscriber checks on every packet it receives.
//
// Loss, reordering and duplicates are counted per received SSRC on the RTP
// sequence number (extended to 32 bits, RFC 3550 A.1), which ternd rewrites
// into one continuous run per consumer: expected = highest - first + 1 over
// a measurement window, lost = expected - distinct received. A packet
// counts only after SRTP authenticated it (when sampled for decryption).
// Latency is now - the probe's send time (same host, CLOCK_MONOTONIC).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/net/nanos.h"

namespace tern::loadgen {

// Log-linear histogram of nanoseconds: exact below 64 ns, then 32 buckets
// per power of two (<= 3% relative error). Fixed size, no allocation.
class LatencyHistogram {
 public:
  void add(Nanos v);
  void merge(const LatencyHistogram& o);
  void clear() { *this = LatencyHistogram(); }
  uint64_t count() const { return count_; }
  // q in [0,1]: the value (ns, bucket midpoint) at that quantile; 0 if empty.
  Nanos quantile(double q) const;
  Nanos max() const { return max_; }

 private:
  static constexpr size_t kBuckets = 64 + 40 * 32;
  std::array<uint64_t, kBuckets> b_{};
  uint64_t count_ = 0;
  Nanos max_ = 0;
};

struct WindowCounts {
  uint64_t received = 0;  // distinct packets (authenticated)
  uint64_t expected = 0;
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  uint64_t bytes = 0;
  // Peer::window(): expected streams that delivered nothing in the window
  // (their loss is whatever the publisher sent).
  uint64_t silent_audio = 0, silent_video = 0;
  void add(const WindowCounts& o) {
    received += o.received, expected += o.expected, duplicates += o.duplicates,
        reordered += o.reordered, bytes += o.bytes, silent_audio += o.silent_audio,
        silent_video += o.silent_video;
  }
};

// One received SSRC.
class SeqTracker {
 public:
  // Returns the extended sequence; *dup / *late say what it was.
  uint32_t on_packet(uint16_t seq, size_t bytes, bool* dup, bool* late);
  // Starts a new window at the next packet.
  void reset_window() { window_open_ = false, w_ = {}; }
  WindowCounts window() const;
  bool started() const { return started_; }
  // The window's first extended sequence (valid when window_open()); with
  // highest() it bounds the run `expected` counts, so a test can count an
  // independent record of the packets (a bridge's drop log) over exactly it.
  bool window_open() const { return window_open_; }
  uint32_t window_first() const { return win_first_; }
  uint32_t highest() const { return max_ext_; }
  uint64_t total_received() const { return total_; }

 private:
  bool seen(uint32_t ext) const;
  void mark(uint32_t ext);
  bool started_ = false, window_open_ = false;
  uint32_t max_ext_ = 0, win_first_ = 0;
  uint64_t total_ = 0;
  WindowCounts w_;
  static constexpr uint32_t kWindow = 1024;  // duplicate detection span
  std::array<uint64_t, kWindow / 64> bits_{};
};

}  // namespace tern::loadgen
