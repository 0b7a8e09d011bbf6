// Demultiplexing by first byte, RFC 7983 §7 (updating RFC 5764 §5.1.2), with
// TURN ChannelData per RFC 8656 §12:
//
//   [0..3]     STUN
//   [16..19]   ZRTP (dropped: not served)
//   [20..63]   DTLS
//   [64..79]   TURN ChannelData
//   [128..191] RTP / RTCP
//
// Anything else is unclassified. Branch-free table lookup: this runs once per
// packet on every worker.
#pragma once

#include <array>
#include <cstdint>

namespace tern {

enum class PacketClass : uint8_t { kUnknown = 0, kStun, kZrtp, kDtls, kChannelData, kRtp, kRtcp };

namespace detail {
constexpr std::array<PacketClass, 256> make_first_byte_table() {
  std::array<PacketClass, 256> t{};
  for (int b = 0; b < 256; ++b) {
    PacketClass c = PacketClass::kUnknown;
    if (b <= 3)
      c = PacketClass::kStun;
    else if (b >= 16 && b <= 19)
      c = PacketClass::kZrtp;
    else if (b >= 20 && b <= 63)
      c = PacketClass::kDtls;
    else if (b >= 64 && b <= 79)
      c = PacketClass::kChannelData;
    else if (b >= 128 && b <= 191)
      c = PacketClass::kRtp;
    t[b] = c;
  }
  return t;
}
inline constexpr std::array<PacketClass, 256> kFirstByteClass = make_first_byte_table();
}  // namespace detail

// RTCP vs RTP when multiplexed (RFC 5761 §4): RTCP packet types 192..223 sit in
// the second byte where RTP carries marker + payload type.
inline PacketClass classify(const uint8_t* data, uint32_t len) {
  if (len == 0) return PacketClass::kUnknown;
  PacketClass c = detail::kFirstByteClass[data[0]];
  if (c == PacketClass::kRtp && len >= 2 && data[1] >= 192 && data[1] <= 223) {
    c = PacketClass::kRtcp;
  }
  return c;
}

const char* packet_class_name(PacketClass c);

}  // namespace tern
