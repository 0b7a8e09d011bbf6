// TURN over a byte stream (TCP, TLS over TCP; RFC 8656 §3.1, §12.5): splits
// the client's stream into STUN messages and ChannelData frames, and frames
// the server's messages for the stream. Sans-IO: bytes in, frames out.
//
// On a stream every message is self-delimiting:
//   STUN         first byte 0x00-0x3F: 20-byte header, 16-bit length at
//                offset 2 (a multiple of 4), magic cookie at offset 4.
//                Frame = 20 + length bytes.
//   ChannelData  first byte 0x40-0x7F (channel 0x4000-0x7FFF; RFC 5766's
//                range, the TURN core decides which numbers it accepts):
//                4-byte header, 16-bit length at offset 2. On a stream the
//                frame is padded with zeros to a multiple of 4 (§12.5), so it
//                occupies 4 + round_up(length, 4) bytes; the padding is not
//                part of the message handed on.
// Anything else (first byte 0x80-0xFF, a STUN header without the magic
// cookie or with a length not a multiple of 4, a frame above the size limit)
// is garbage: the stream has lost its framing and cannot be resynchronised,
// so the caller closes the connection (the error says why).
//
// StreamFramer owns one fixed buffer (allocated at construction, never
// grown): the caller reads from its socket straight into write_ptr(), then
// takes complete frames with peek()/consume(). Frames point into the buffer
// and stay valid until the next consume() or write_ptr().
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tern {

enum class StreamFrameKind : uint8_t { kStun, kChannelData };

enum class StreamFrameError : uint8_t {
  kNone = 0,
  kBadFirstByte,    // 0x80-0xFF: neither STUN nor ChannelData
  kBadMagicCookie,  // STUN header without 0x2112A442
  kBadStunLength,   // STUN length not a multiple of 4
  kTooLarge,        // frame above the framer's max_frame
};
const char* stream_frame_error_name(StreamFrameError e);  // "bad_first_byte", ...

enum class StreamFrameStatus : uint8_t { kNeedMore, kFrame, kError };

struct StreamFrame {
  StreamFrameKind kind = StreamFrameKind::kStun;
  const uint8_t* data = nullptr;
  uint32_t len = 0;       // the message: STUN 20 + length, ChannelData 4 + length
  uint32_t wire_len = 0;  // bytes it occupies on the stream (ChannelData padding included)
};

// Largest frame the 16-bit length fields allow: ChannelData 4 + 65535 + 1.
inline constexpr uint32_t kMaxStreamFrame = 4 + 65536;

// Looks at the start of a stream: kFrame (complete frame in *out), kNeedMore
// (the header or body is not all there yet), or kError (*err says why). A
// frame whose wire size exceeds max_frame is an error as soon as its header
// is readable.
StreamFrameStatus parse_stream_frame(const uint8_t* data, size_t avail, uint32_t max_frame,
                                     StreamFrame* out, StreamFrameError* err);

// The reverse direction. Bytes the message data[0..len) occupies on a stream
// (ChannelData padded to 4), or 0 if it is not one well-formed STUN message
// or ChannelData frame. `len` may already include ChannelData padding (the
// TURN core pads towards TCP clients itself).
uint32_t stream_wire_size(const uint8_t* data, uint32_t len);
// Writes the message to out[0..cap) as it goes on the stream, padding
// included. Returns the bytes written, 0 if it is not a frame or cap is short.
uint32_t write_stream_frame(const uint8_t* data, uint32_t len, uint8_t* out, size_t cap);

class StreamFramer {
 public:
  // max_frame: largest accepted wire frame (<= kMaxStreamFrame). buffer:
  // total buffer size, at least max_frame (default 2 * max_frame, so a full
  // frame plus a read's worth of the next ones fit).
  explicit StreamFramer(uint32_t max_frame, uint32_t buffer = 0);

  // Where the next read() may write, and how much. Compacts first (moves
  // the unconsumed tail to the front) when that makes more room.
  uint8_t* write_ptr();
  size_t writable() const { return buf_.size() - end_; }
  size_t writable_after_compact() const { return buf_.size() - (end_ - start_); }
  void commit(size_t n) { end_ += n; }

  // The next complete frame, not consumed. kError is sticky.
  StreamFrameStatus peek(StreamFrame* out);
  // Drops the frame last returned by peek().
  void consume();

  size_t buffered() const { return end_ - start_; }
  uint32_t max_frame() const { return max_frame_; }
  StreamFrameError error() const { return error_; }

 private:
  std::vector<uint8_t> buf_;
  size_t start_ = 0, end_ = 0;
  uint32_t max_frame_;
  uint32_t pending_ = 0;  // wire_len of the frame peek() returned, 0 = none
  StreamFrameError error_ = StreamFrameError::kNone;
};

}  // namespace tern
