#include "engine/rtp/rtp_packet.h"

namespace tern {
namespace rtp {

const char* rtp_error_name(RtpError e) {
  switch (e) {
    case RtpError::kOk:
      return "ok";
    case RtpError::kTooShort:
      return "too_short";
    case RtpError::kBadVersion:
      return "bad_version";
    case RtpError::kCsrcOverrun:
      return "csrc_overrun";
    case RtpError::kExtensionOverrun:
      return "extension_overrun";
    case RtpError::kBadPadding:
      return "bad_padding";
  }
  return "unknown";
}

RtpError RtpView::parse(const uint8_t* data, size_t len) {
  data_ = nullptr;
  if (len < kRtpHeaderSize || len > UINT32_MAX) return RtpError::kTooShort;
  if ((data[0] >> 6) != kRtpVersion) return RtpError::kBadVersion;
  size_t off = kRtpHeaderSize + 4 * size_t(data[0] & 0x0F);
  if (off > len) return RtpError::kCsrcOverrun;
  ext_profile_ = 0;
  ext_off_ = uint32_t(off);
  ext_size_ = 0;
  if (data[0] & 0x10) {
    if (off + 4 > len) return RtpError::kExtensionOverrun;
    ext_profile_ = load_be16(data + off);
    const size_t words = load_be16(data + off + 2);
    off += 4;
    if (off + 4 * words > len) return RtpError::kExtensionOverrun;
    ext_off_ = uint32_t(off);
    ext_size_ = uint32_t(4 * words);
    off += 4 * words;
  }
  padding_ = 0;
  if (data[0] & 0x20) {
    // The count includes itself, so 0 is invalid; it may take the whole
    // payload (RFC 3550 §5.1) but not reach into the header.
    const uint8_t pad = data[len - 1];
    if (pad == 0 || pad > len - off) return RtpError::kBadPadding;
    padding_ = pad;
  }
  data_ = data;
  size_ = uint32_t(len);
  payload_off_ = uint32_t(off);
  payload_size_ = uint32_t(len - off - padding_);
  return RtpError::kOk;
}

size_t write_rtp_header(uint8_t* buf, size_t capacity, const RtpHeaderFields& h) {
  const size_t n = kRtpHeaderSize + 4 * h.csrcs.size();
  if (h.csrcs.size() > 15 || n > capacity) return 0;
  buf[0] = uint8_t(kRtpVersion << 6 | h.csrcs.size());
  buf[1] = uint8_t((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F));
  store_be16(buf + 2, h.sequence);
  store_be32(buf + 4, h.timestamp);
  store_be32(buf + 8, h.ssrc);
  for (size_t i = 0; i < h.csrcs.size(); ++i) store_be32(buf + 12 + 4 * i, h.csrcs[i]);
  return n;
}

}  // namespace rtp
}  // namespace tern
