// StreamFramer: TURN over TCP/TLS framing (RFC 8656 §3.1, §12.5).
#include "engine/turn/stream_framer.h"

#include <cstring>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "gtest/gtest.h"

namespace tern {
namespace {

using Bytes = std::vector<uint8_t>;

// A STUN message with `body` bytes of (fake) attributes.
Bytes stun_msg(uint16_t type, uint16_t body, uint8_t fill) {
  Bytes b(20 + body, fill);
  store_be16(b.data(), type);
  store_be16(b.data() + 2, body);
  store_be32(b.data() + 4, stun::kMagicCookie);
  for (int i = 0; i < 12; ++i) b[8 + i] = uint8_t(i + fill);
  return b;
}

// A ChannelData frame; `padded` adds the stream padding.
Bytes chan(uint16_t number, uint16_t length, uint8_t fill, bool padded) {
  Bytes b(4 + length, fill);
  store_be16(b.data(), number);
  store_be16(b.data() + 2, length);
  if (padded) b.resize(4 + ((length + 3u) & ~3u), 0);
  return b;
}

struct Got {
  StreamFrameKind kind;
  Bytes msg;
};

// Feeds `stream` in chunks of the given sizes (cycled), collecting frames.
StreamFrameStatus feed(StreamFramer& f, const Bytes& stream, const std::vector<size_t>& chunks,
                       std::vector<Got>* out) {
  size_t pos = 0, ci = 0;
  StreamFrameStatus last = StreamFrameStatus::kNeedMore;
  while (pos < stream.size()) {
    size_t n = std::min(chunks[ci++ % chunks.size()], stream.size() - pos);
    uint8_t* w = f.write_ptr();
    n = std::min(n, f.writable());
    EXPECT_GT(n, 0u) << "framer buffer full at " << pos;
    if (n == 0) return StreamFrameStatus::kError;
    std::memcpy(w, stream.data() + pos, n);
    f.commit(n);
    pos += n;
    StreamFrame fr;
    while ((last = f.peek(&fr)) == StreamFrameStatus::kFrame) {
      out->push_back({fr.kind, Bytes(fr.data, fr.data + fr.len)});
      f.consume();
    }
    if (last == StreamFrameStatus::kError) return last;
  }
  return last;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(StreamFramer, SplitAtEveryByteBoundary) {
  const Bytes a = stun_msg(0x0003, 24, 0x11);    // Allocate request
  const Bytes c1 = chan(0x4001, 5, 0xAB, true);  // 3 bytes of padding
  const Bytes c2 = chan(0x7FFF, 8, 0xCD, true);  // no padding needed
  const Bytes s = stun_msg(0x0016, 40, 0x22);    // Send indication
  const Bytes c3 = chan(0x4000, 0, 0x00, true);  // empty
  const Bytes stream = cat({a, c1, c2, s, c3});
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    StreamFramer f(4096);
    std::vector<Got> got;
    // Two reads: [0, cut) and [cut, end).
    feed(f, stream, {cut, stream.size()}, &got);
    ASSERT_EQ(got.size(), 5u) << "cut at " << cut;
    EXPECT_EQ(got[0].msg, a);
    EXPECT_EQ(got[0].kind, StreamFrameKind::kStun);
    EXPECT_EQ(got[1].kind, StreamFrameKind::kChannelData);
    EXPECT_EQ(got[1].msg, Bytes(c1.begin(), c1.begin() + 9)) << "padding is not handed on";
    EXPECT_EQ(got[2].msg, c2);
    EXPECT_EQ(got[3].msg, s);
    EXPECT_EQ(got[4].msg, Bytes(c3.begin(), c3.begin() + 4));
    EXPECT_EQ(f.buffered(), 0u);
  }
}

TEST(StreamFramer, OneByteAtATime) {
  const Bytes stream = cat({chan(0x4002, 1, 0x5A, true), stun_msg(0x0004, 8, 3)});
  StreamFramer f(4096);
  std::vector<Got> got;
  EXPECT_EQ(feed(f, stream, {1}, &got), StreamFrameStatus::kNeedMore);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].msg, Bytes({0x40, 0x02, 0x00, 0x01, 0x5A}));
  EXPECT_EQ(got[1].msg.size(), 28u);
}

TEST(StreamFramer, ManyMessagesInOneRead) {
  Bytes stream;
  for (int i = 0; i < 50; ++i) {
    const Bytes m = i % 2 ? chan(uint16_t(0x4000 + i), uint16_t(i), uint8_t(i), true)
                          : stun_msg(0x0008, uint16_t(4 * (i % 7)), uint8_t(i));
    stream.insert(stream.end(), m.begin(), m.end());
  }
  StreamFramer f(4096, 8192);
  std::vector<Got> got;
  feed(f, stream, {stream.size()}, &got);
  ASSERT_EQ(got.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    if (i % 2) {
      EXPECT_EQ(got[i].kind, StreamFrameKind::kChannelData);
      EXPECT_EQ(load_be16(got[i].msg.data()), 0x4000 + i);
      EXPECT_EQ(got[i].msg.size(), 4u + i);
    } else {
      EXPECT_EQ(got[i].kind, StreamFrameKind::kStun);
      EXPECT_EQ(got[i].msg.size(), 20u + 4 * (i % 7));
    }
  }
}

TEST(StreamFramer, PaddingOnlyComesWithTheFrame) {
  // A ChannelData of length 1 is complete only with its 3 padding bytes.
  const Bytes c = chan(0x4001, 1, 0x77, true);
  StreamFramer f(64);
  StreamFrame fr;
  std::memcpy(f.write_ptr(), c.data(), 5);
  f.commit(5);
  EXPECT_EQ(f.peek(&fr), StreamFrameStatus::kNeedMore);
  std::memcpy(f.write_ptr(), c.data() + 5, 3);
  f.commit(3);
  ASSERT_EQ(f.peek(&fr), StreamFrameStatus::kFrame);
  EXPECT_EQ(fr.len, 5u);
  EXPECT_EQ(fr.wire_len, 8u);
}

TEST(StreamFramer, Oversize) {
  StreamFramer f(1024);
  const Bytes big = stun_msg(0x0016, 1008, 1);  // 1028 bytes > 1024
  std::memcpy(f.write_ptr(), big.data(), 8);    // the header alone decides
  f.commit(8);
  StreamFrame fr;
  EXPECT_EQ(f.peek(&fr), StreamFrameStatus::kError);
  EXPECT_EQ(f.error(), StreamFrameError::kTooLarge);
  // ChannelData: 4 + 1021 rounds up to 1028 on the wire.
  StreamFramer g(1024);
  const Bytes c = chan(0x4000, 1021, 1, false);
  std::memcpy(g.write_ptr(), c.data(), 4);
  g.commit(4);
  EXPECT_EQ(g.peek(&fr), StreamFrameStatus::kError);
  EXPECT_EQ(g.error(), StreamFrameError::kTooLarge);
  // Exactly at the limit is fine.
  StreamFramer h(1024);
  const Bytes ok = stun_msg(0x0016, 1004, 1);
  std::memcpy(h.write_ptr(), ok.data(), ok.size());
  h.commit(ok.size());
  EXPECT_EQ(h.peek(&fr), StreamFrameStatus::kFrame);
  EXPECT_EQ(fr.len, 1024u);
}

TEST(StreamFramer, Garbage) {
  struct Case {
    Bytes bytes;
    StreamFrameError want;
  };
  Bytes no_cookie = stun_msg(0x0001, 0, 0);
  no_cookie[4] ^= 0xFF;
  Bytes odd_len = stun_msg(0x0001, 8, 0);
  store_be16(odd_len.data() + 2, 6);
  const Case cases[] = {
      // "GET " reads as ChannelData 0x4745 of length 0x5420: above 4096.
      {Bytes({'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P'}), StreamFrameError::kTooLarge},
      // A TLS ClientHello on the plain TCP port: STUN range, no cookie.
      {Bytes({0x16, 0x03, 0x01, 0x00, 0xA5, 0x01, 0x00, 0x00}), StreamFrameError::kBadMagicCookie},
      {Bytes({0x80, 0x00, 0x00, 0x00}), StreamFrameError::kBadFirstByte},
      {Bytes({0xFF}), StreamFrameError::kBadFirstByte},
      {no_cookie, StreamFrameError::kBadMagicCookie},
      {odd_len, StreamFrameError::kBadStunLength},
  };
  for (const Case& c : cases) {
    StreamFramer f(4096);
    std::vector<Got> got;
    // A good frame first: it is delivered, then the garbage stops the stream.
    const Bytes stream = cat({chan(0x4001, 4, 9, true), c.bytes});
    EXPECT_EQ(feed(f, stream, {stream.size()}, &got), StreamFrameStatus::kError);
    EXPECT_EQ(got.size(), 1u);
    EXPECT_EQ(f.error(), c.want) << stream_frame_error_name(f.error());
    StreamFrame fr;
    EXPECT_EQ(f.peek(&fr), StreamFrameStatus::kError) << "errors are sticky";
  }
}

TEST(StreamFramer, StunHeaderWaitsForCookie) {
  // 7 bytes of a STUN-looking header: not yet decidable.
  StreamFramer f(4096);
  const Bytes m = stun_msg(0x0003, 0, 0);
  std::memcpy(f.write_ptr(), m.data(), 7);
  f.commit(7);
  StreamFrame fr;
  EXPECT_EQ(f.peek(&fr), StreamFrameStatus::kNeedMore);
}

TEST(StreamFramer, BufferNeverOverflows) {
  // A partial max-size frame plus the compaction: writable() is exact.
  StreamFramer f(100, 100);
  const Bytes m = stun_msg(0x0016, 80, 5);  // exactly 100 bytes
  const Bytes stream = cat({m, m, m});
  std::vector<Got> got;
  feed(f, stream, {37}, &got);
  EXPECT_EQ(got.size(), 3u);
}

TEST(StreamWrite, PadsChannelDataOnly) {
  uint8_t out[64];
  const Bytes c = chan(0x4001, 5, 0xEE, false);
  ASSERT_EQ(stream_wire_size(c.data(), uint32_t(c.size())), 12u);
  ASSERT_EQ(write_stream_frame(c.data(), uint32_t(c.size()), out, sizeof(out)), 12u);
  EXPECT_EQ(Bytes(out, out + 9), c);
  EXPECT_EQ(Bytes(out + 9, out + 12), Bytes(3, 0));
  // Already padded by the TURN core: unchanged.
  const Bytes p = chan(0x4001, 5, 0xEE, true);
  EXPECT_EQ(write_stream_frame(p.data(), uint32_t(p.size()), out, sizeof(out)), 12u);
  // STUN goes out as is.
  const Bytes s = stun_msg(0x0103, 12, 1);
  EXPECT_EQ(write_stream_frame(s.data(), uint32_t(s.size()), out, sizeof(out)), 32u);
  EXPECT_EQ(Bytes(out, out + 32), s);
  // Not a frame / inconsistent lengths / no room.
  EXPECT_EQ(stream_wire_size(s.data(), uint32_t(s.size() - 4)), 0u);
  EXPECT_EQ(stream_wire_size(c.data(), 7), 0u);
  const uint8_t junk[4] = {0x90, 0, 0, 0};
  EXPECT_EQ(stream_wire_size(junk, 4), 0u);
  EXPECT_EQ(write_stream_frame(s.data(), uint32_t(s.size()), out, 31), 0u);
}

TEST(StreamWrite, RoundTripThroughTheFramer) {
  // What the server writes, a client-side framer reads back unchanged.
  std::vector<Bytes> msgs;
  for (uint16_t len = 0; len < 9; ++len) msgs.push_back(chan(0x4003, len, uint8_t(len), false));
  msgs.push_back(stun_msg(0x0117, 36, 4));  // Data indication
  Bytes stream(1024);
  size_t n = 0;
  for (const Bytes& m : msgs) {
    const uint32_t w =
        write_stream_frame(m.data(), uint32_t(m.size()), stream.data() + n, stream.size() - n);
    ASSERT_GT(w, 0u);
    EXPECT_EQ(w % 4, 0u);
    n += w;
  }
  stream.resize(n);
  StreamFramer f(256);
  std::vector<Got> got;
  feed(f, stream, {3, 5, 7}, &got);
  ASSERT_EQ(got.size(), msgs.size());
  for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(got[i].msg, msgs[i]);
}

}  // namespace
}  // namespace tern
