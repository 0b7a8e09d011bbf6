#include "engine/sfu/keyframe.h"

namespace tern::sfu {
namespace {

bool vp8_keyframe(const uint8_t* p, size_t len) {
  if (len < 1) return false;
  const uint8_t b0 = p[0];
  const bool x = b0 & 0x80, s = b0 & 0x10;
  const uint8_t pid = b0 & 0x07;
  size_t i = 1;
  if (x) {
    if (len <= i) return false;
    const uint8_t xb = p[i++];
    if (xb & 0x80) {  // I: picture id, 7 or 15 bits (M)
      if (len <= i) return false;
      i += (p[i] & 0x80) ? 2 : 1;
    }
    if (xb & 0x40) ++i;  // L: TL0PICIDX
    if (xb & 0x30) ++i;  // T or K: TID/Y/KEYIDX
  }
  if (!s || pid != 0 || len <= i) return false;
  return (p[i] & 0x01) == 0;  // P bit of the VP8 frame tag: 0 = key frame
}

bool vp9_keyframe(const uint8_t* p, size_t len) {
  if (len < 1) return false;
  const uint8_t b0 = p[0];
  const bool i_bit = b0 & 0x80, p_bit = b0 & 0x40, l_bit = b0 & 0x20, b_bit = b0 & 0x08;
  if (p_bit || !b_bit) return false;
  if (l_bit) {
    size_t i = 1;
    if (i_bit) {
      if (len <= i) return false;
      i += (p[i] & 0x80) ? 2 : 1;
    }
    if (len <= i) return false;
    const uint8_t sid = (p[i] >> 1) & 0x07;  // TID(3) U(1) SID(3) D(1)
    return sid == 0;
  }
  return true;
}

bool h264_nal_key(uint8_t nal_type) { return nal_type == 5 || nal_type == 7; }

bool h264_keyframe(const uint8_t* p, size_t len) {
  if (len < 1) return false;
  const uint8_t type = p[0] & 0x1F;
  if (type >= 1 && type <= 23) return h264_nal_key(type);
  if (type == 24) {  // STAP-A: (16-bit size, NAL unit)*
    size_t i = 1;
    for (int n = 0; n < 64 && i + 2 < len; ++n) {
      const size_t sz = (size_t(p[i]) << 8) | p[i + 1];
      i += 2;
      if (sz == 0 || i + sz > len) return false;
      if (h264_nal_key(p[i] & 0x1F)) return true;
      i += sz;
    }
    return false;
  }
  if (type == 28) {  // FU-A: indicator, header S|E|R|type
    if (len < 2) return false;
    return (p[1] & 0x80) && h264_nal_key(p[1] & 0x1F);
  }
  return false;
}

}  // namespace

bool is_keyframe(CodecId codec, const uint8_t* payload, size_t len) {
  switch (codec) {
    case CodecId::kVp8:
      return vp8_keyframe(payload, len);
    case CodecId::kVp9:
      return vp9_keyframe(payload, len);
    case CodecId::kH264:
      return h264_keyframe(payload, len);
    case CodecId::kAv1:
      return len >= 1 && (payload[0] & 0x08);  // Z Y W W N - - -
    default:
      return false;
  }
}

}  // namespace tern::sfu
