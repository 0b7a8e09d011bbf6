#include "engine/turn/stream_framer.h"

#include <algorithm>
#include <cstring>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"

namespace tern {

const char* stream_frame_error_name(StreamFrameError e) {
  switch (e) {
    case StreamFrameError::kNone:
      return "none";
    case StreamFrameError::kBadFirstByte:
      return "bad_first_byte";
    case StreamFrameError::kBadMagicCookie:
      return "bad_magic_cookie";
    case StreamFrameError::kBadStunLength:
      return "bad_stun_length";
    case StreamFrameError::kTooLarge:
      return "too_large";
  }
  return "?";
}

StreamFrameStatus parse_stream_frame(const uint8_t* data, size_t avail, uint32_t max_frame,
                                     StreamFrame* out, StreamFrameError* err) {
  if (avail == 0) return StreamFrameStatus::kNeedMore;
  const uint8_t b0 = data[0];
  uint32_t len = 0, wire = 0;
  StreamFrameKind kind;
  if (b0 < 0x40) {
    // STUN: the first 8 bytes decide (type, length, cookie); wait for them
    // so garbage is caught before we wait for a body that never comes.
    if (avail < 8) return StreamFrameStatus::kNeedMore;
    const uint16_t length = load_be16(data + 2);
    if (load_be32(data + 4) != stun::kMagicCookie) {
      *err = StreamFrameError::kBadMagicCookie;
      return StreamFrameStatus::kError;
    }
    if (length & 3) {
      *err = StreamFrameError::kBadStunLength;
      return StreamFrameStatus::kError;
    }
    kind = StreamFrameKind::kStun;
    len = wire = uint32_t(stun::kHeaderSize) + length;
  } else if (b0 < 0x80) {
    if (avail < turn::kChannelDataHeader) return StreamFrameStatus::kNeedMore;
    const uint16_t length = load_be16(data + 2);
    kind = StreamFrameKind::kChannelData;
    len = turn::kChannelDataHeader + length;
    wire = turn::kChannelDataHeader + ((uint32_t(length) + 3) & ~3u);
  } else {
    *err = StreamFrameError::kBadFirstByte;
    return StreamFrameStatus::kError;
  }
  if (wire > max_frame) {
    *err = StreamFrameError::kTooLarge;
    return StreamFrameStatus::kError;
  }
  if (avail < wire) return StreamFrameStatus::kNeedMore;
  out->kind = kind;
  out->data = data;
  out->len = len;
  out->wire_len = wire;
  return StreamFrameStatus::kFrame;
}

uint32_t stream_wire_size(const uint8_t* data, uint32_t len) {
  if (len < turn::kChannelDataHeader) return 0;
  const uint32_t length = load_be16(data + 2);
  if (data[0] < 0x40) {
    if (len < stun::kHeaderSize || (length & 3) || len != stun::kHeaderSize + length) return 0;
    return len;
  }
  if (data[0] < 0x80) {
    const uint32_t wire = turn::kChannelDataHeader + ((length + 3) & ~3u);
    // Unpadded (4 + length) or already padded (wire); anything else is not
    // one frame.
    if (len != turn::kChannelDataHeader + length && len != wire) return 0;
    return wire;
  }
  return 0;
}

uint32_t write_stream_frame(const uint8_t* data, uint32_t len, uint8_t* out, size_t cap) {
  const uint32_t wire = stream_wire_size(data, len);
  if (wire == 0 || wire > cap) return 0;
  std::memcpy(out, data, len);
  if (wire > len) std::memset(out + len, 0, wire - len);
  return wire;
}

StreamFramer::StreamFramer(uint32_t max_frame, uint32_t buffer)
    : max_frame_(std::clamp<uint32_t>(max_frame, stun::kHeaderSize, kMaxStreamFrame)) {
  buf_.resize(std::max<size_t>(buffer ? buffer : 2 * size_t{max_frame_}, max_frame_));
}

uint8_t* StreamFramer::write_ptr() {
  if (start_ == end_) {
    start_ = end_ = 0;
  } else if (start_ > 0) {
    // At most one partial frame (< max_frame) moves per read.
    std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  pending_ = 0;
  return buf_.data() + end_;
}

StreamFrameStatus StreamFramer::peek(StreamFrame* out) {
  if (error_ != StreamFrameError::kNone) return StreamFrameStatus::kError;
  const StreamFrameStatus st =
      parse_stream_frame(buf_.data() + start_, end_ - start_, max_frame_, out, &error_);
  pending_ = st == StreamFrameStatus::kFrame ? out->wire_len : 0;
  return st;
}

void StreamFramer::consume() {
  start_ += pending_;
  pending_ = 0;
}

}  // namespace tern
