#include "bench/loadgen/checker.h"

#include <algorithm>

namespace tern::loadgen {

namespace {
size_t bucket_of(uint64_t v) {
  if (v < 64) return size_t(v);
  const int msb = 63 - __builtin_clzll(v);
  const int e = msb - 5;  // v >> e in [32, 64)
  return 64 + size_t(e - 1) * 32 + size_t((v >> e) - 32);
}
// Midpoint of a bucket.
uint64_t value_of(size_t i) {
  if (i < 64) return i;
  const size_t e = (i - 64) / 32 + 1, m = (i - 64) % 32 + 32;
  return (uint64_t(m) << e) + (uint64_t(1) << e) / 2;
}
}  // namespace

void LatencyHistogram::add(Nanos v) {
  if (v < 0) v = 0;
  b_[std::min(bucket_of(uint64_t(v)), kBuckets - 1)]++;
  ++count_;
  max_ = std::max(max_, v);
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
  for (size_t i = 0; i < kBuckets; ++i) b_[i] += o.b_[i];
  count_ += o.count_;
  max_ = std::max(max_, o.max_);
}

Nanos LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(1, uint64_t(q * double(count_) + 0.5));
  uint64_t acc = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    acc += b_[i];
    if (acc >= rank) return std::min<Nanos>(Nanos(value_of(i)), max_);
  }
  return max_;
}

bool SeqTracker::seen(uint32_t ext) const {
  if (ext > max_ext_ || max_ext_ - ext >= kWindow) return false;
  return bits_[(ext / 64) % bits_.size()] >> (ext % 64) & 1;
}

void SeqTracker::mark(uint32_t ext) {
  if (ext > max_ext_) {
    // Clear the slots that slide into the window.
    for (uint32_t s = max_ext_ + 1; s <= ext && s - max_ext_ <= kWindow; ++s)
      bits_[(s / 64) % bits_.size()] &= ~(uint64_t(1) << (s % 64));
    max_ext_ = ext;
  }
  if (max_ext_ - ext < kWindow) bits_[(ext / 64) % bits_.size()] |= uint64_t(1) << (ext % 64);
}

uint32_t SeqTracker::on_packet(uint16_t seq, size_t bytes, bool* dup, bool* late) {
  *dup = *late = false;
  uint32_t ext;
  if (!started_) {
    started_ = true;
    ext = (uint32_t(1) << 16) + seq;  // room below for early reordering
    max_ext_ = ext - 1;
  } else {
    // Pick the candidate closest to the highest seen (RFC 3550 A.1).
    const uint32_t hi = max_ext_;
    ext = (hi & 0xFFFF0000u) | seq;
    if (ext + 0x8000u < hi)
      ext += 0x10000u;
    else if (ext > hi + 0x8000u && ext >= 0x10000u)
      ext -= 0x10000u;
  }
  if (seen(ext)) {
    *dup = true;
    ++w_.duplicates;
    return ext;
  }
  if (started_ && ext < max_ext_) *late = true;
  if (!window_open_) {
    window_open_ = true;
    win_first_ = ext;
  }
  if (*late) ++w_.reordered;
  if (ext >= win_first_) {
    ++w_.received;
    w_.bytes += bytes;
  }
  mark(ext);
  ++total_;
  return ext;
}

WindowCounts SeqTracker::window() const {
  WindowCounts c = w_;
  c.expected = window_open_ ? max_ext_ - win_first_ + 1 : 0;
  return c;
}

}  // namespace tern::loadgen
