#include "engine/rtp/rtcp.h"

#include <cstring>

namespace tern {
namespace rtp {

const char* rtcp_error_name(RtcpError e) {
  switch (e) {
    case RtcpError::kOk:
      return "ok";
    case RtcpError::kTooShort:
      return "too_short";
    case RtcpError::kBadVersion:
      return "bad_version";
    case RtcpError::kBadPadding:
      return "bad_padding";
    case RtcpError::kBadLength:
      return "bad_length";
  }
  return "unknown";
}

RtcpError RtcpCompound::parse(const uint8_t* data, size_t len) {
  data_ = nullptr;
  count_ = 0;
  if (len < kRtcpHeaderSize || len > UINT32_MAX) return RtcpError::kTooShort;
  size_t pos = 0;
  uint32_t count = 0;
  while (pos < len) {
    if (len - pos < kRtcpHeaderSize) return RtcpError::kTooShort;
    const uint8_t* p = data + pos;
    if ((p[0] >> 6) != 2) return RtcpError::kBadVersion;
    const size_t size = (size_t(load_be16(p + 2)) + 1) * 4;
    if (size > len - pos) return RtcpError::kTooShort;
    if (p[0] & 0x20) {
      if (pos + size != len) return RtcpError::kBadPadding;  // only the last
      const uint8_t pad = p[size - 1];
      if (pad == 0 || pad > size - kRtcpHeaderSize) return RtcpError::kBadPadding;
    }
    pos += size;
    ++count;
  }
  data_ = data;
  size_ = uint32_t(len);
  count_ = count;
  return RtcpError::kOk;
}

RtcpPacket RtcpCompound::Iterator::operator*() const {
  const uint8_t* p = c_->data_ + pos_;
  RtcpPacket r;
  r.count = p[0] & 0x1F;
  r.type = p[1];
  r.data = p;
  r.size = (uint32_t(load_be16(p + 2)) + 1) * 4;
  r.body = p + kRtcpHeaderSize;
  r.body_size = r.size - uint32_t(kRtcpHeaderSize) - ((p[0] & 0x20) ? p[r.size - 1] : 0);
  return r;
}

RtcpCompound::Iterator& RtcpCompound::Iterator::operator++() {
  pos_ += (size_t(load_be16(c_->data_ + pos_ + 2)) + 1) * 4;
  return *this;
}

void write_rtcp_header(uint8_t* p, uint8_t count, uint8_t type, size_t size) {
  p[0] = uint8_t(0x80 | (count & 0x1F));
  p[1] = type;
  store_be16(p + 2, uint16_t(size / 4 - 1));
}

// ---- report blocks ------------------------------------------------------------

ReportBlock read_report_block(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = load_be32(p);
  b.fraction_lost = p[4];
  // Sign-extend the 24-bit cumulative loss.
  const uint32_t lost = uint32_t(p[5]) << 16 | uint32_t(p[6]) << 8 | p[7];
  b.cumulative_lost = int32_t(lost << 8) >> 8;
  b.extended_highest_seq = load_be32(p + 8);
  b.jitter = load_be32(p + 12);
  b.last_sr = load_be32(p + 16);
  b.delay_since_last_sr = load_be32(p + 20);
  return b;
}

void write_report_block(uint8_t* p, const ReportBlock& b) {
  store_be32(p, b.ssrc);
  // Clamp to the 24-bit signed range (RFC 3550 §6.4.1).
  int32_t lost = b.cumulative_lost;
  if (lost > 0x7FFFFF) lost = 0x7FFFFF;
  if (lost < -0x800000) lost = -0x800000;
  store_be32(p + 4, uint32_t(b.fraction_lost) << 24 | (uint32_t(lost) & 0xFFFFFF));
  store_be32(p + 8, b.extended_highest_seq);
  store_be32(p + 12, b.jitter);
  store_be32(p + 16, b.last_sr);
  store_be32(p + 20, b.delay_since_last_sr);
}

// ---- SR / RR ------------------------------------------------------------------

bool ReportPacket::parse(const RtcpPacket& p) {
  if (p.type != rtcp_type::kSr && p.type != rtcp_type::kRr) return false;
  sr_ = p.type == rtcp_type::kSr;
  const size_t fixed = sr_ ? 24 : 4;
  if (p.body_size < fixed + kReportBlockSize * p.count) return false;
  ssrc_ = load_be32(p.body);
  info_ = SenderInfo{};
  if (sr_) {
    info_.ntp = load_be64(p.body + 4);
    info_.rtp_timestamp = load_be32(p.body + 12);
    info_.packet_count = load_be32(p.body + 16);
    info_.octet_count = load_be32(p.body + 20);
  }
  count_ = p.count;
  blocks_ = p.body + fixed;
  return true;
}

namespace {
size_t write_report(uint8_t* buf, size_t cap, uint32_t ssrc, const SenderInfo* info,
                    absl::Span<const ReportBlock> blocks) {
  const size_t fixed = info ? 28 : 8;
  const size_t size = fixed + kReportBlockSize * blocks.size();
  if (blocks.size() > 31 || size > cap) return 0;
  write_rtcp_header(buf, uint8_t(blocks.size()), info ? rtcp_type::kSr : rtcp_type::kRr, size);
  store_be32(buf + 4, ssrc);
  if (info) {
    store_be64(buf + 8, info->ntp);
    store_be32(buf + 16, info->rtp_timestamp);
    store_be32(buf + 20, info->packet_count);
    store_be32(buf + 24, info->octet_count);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    write_report_block(buf + fixed + kReportBlockSize * i, blocks[i]);
  }
  return size;
}
}  // namespace

size_t write_sender_report(uint8_t* buf, size_t cap, uint32_t ssrc, const SenderInfo& info,
                           absl::Span<const ReportBlock> blocks) {
  return write_report(buf, cap, ssrc, &info, blocks);
}

size_t write_receiver_report(uint8_t* buf, size_t cap, uint32_t ssrc,
                             absl::Span<const ReportBlock> blocks) {
  return write_report(buf, cap, ssrc, nullptr, blocks);
}

// ---- SDES -----------------------------------------------------------------------

SdesReader::SdesReader(const RtcpPacket& p)
    : body_(p.body), end_(p.type == rtcp_type::kSdes ? p.body_size : 0), chunks_left_(p.count) {
  if (p.type != rtcp_type::kSdes) chunks_left_ = 0;
}

bool SdesReader::start_chunk() {
  if (chunks_left_ == 0) return false;
  if (pos_ + 4 > end_) {
    malformed_ = true;
    return false;
  }
  ssrc_ = load_be32(body_ + pos_);
  pos_ += 4;
  --chunks_left_;
  in_chunk_ = true;
  return true;
}

bool SdesReader::next(SdesItem* out) {
  while (!malformed_) {
    if (!in_chunk_ && !start_chunk()) return false;
    if (pos_ >= end_) {  // no END item
      malformed_ = true;
      return false;
    }
    const uint8_t type = body_[pos_];
    if (type == sdes::kEnd) {
      // Null octet(s), then padding to the next 32-bit boundary.
      pos_ = (pos_ + 4) & ~3u;
      if (pos_ > end_) pos_ = end_;
      in_chunk_ = false;
      continue;
    }
    if (pos_ + 2 > end_ || pos_ + 2 + body_[pos_ + 1] > end_) {
      malformed_ = true;
      return false;
    }
    const uint8_t len = body_[pos_ + 1];
    out->ssrc = ssrc_;
    out->type = type;
    out->text = absl::string_view(reinterpret_cast<const char*>(body_ + pos_ + 2), len);
    pos_ += 2 + len;
    return true;
  }
  return false;
}

bool read_sdes_cname(const RtcpPacket& p, uint32_t* ssrc, absl::string_view* cname) {
  SdesReader r(p);
  SdesItem item;
  while (r.next(&item)) {
    if (item.type == sdes::kCname) {
      *ssrc = item.ssrc;
      *cname = item.text;
      return true;
    }
  }
  return false;
}

size_t write_sdes_cname(uint8_t* buf, size_t cap, uint32_t ssrc, absl::string_view cname) {
  if (cname.size() > 255) return 0;
  const size_t chunk = (4 + 2 + cname.size() + 1 + 3) & ~size_t(3);
  const size_t size = kRtcpHeaderSize + chunk;
  if (size > cap) return 0;
  write_rtcp_header(buf, 1, rtcp_type::kSdes, size);
  store_be32(buf + 4, ssrc);
  buf[8] = sdes::kCname;
  buf[9] = uint8_t(cname.size());
  if (!cname.empty()) std::memcpy(buf + 10, cname.data(), cname.size());
  std::memset(buf + 10 + cname.size(), 0, size - 10 - cname.size());  // END + padding
  return size;
}

// ---- BYE --------------------------------------------------------------------------

bool ByePacket::parse(const RtcpPacket& p) {
  if (p.type != rtcp_type::kBye || p.body_size < 4u * p.count) return false;
  ssrcs_ = p.body;
  count_ = p.count;
  reason_ = {};
  const uint32_t off = 4u * p.count;
  if (p.body_size > off) {
    const uint8_t len = p.body[off];
    if (off + 1 + len > p.body_size) return false;
    reason_ = absl::string_view(reinterpret_cast<const char*>(p.body + off + 1), len);
  }
  return true;
}

size_t write_bye(uint8_t* buf, size_t cap, absl::Span<const uint32_t> ssrcs,
                 absl::string_view reason) {
  if (ssrcs.size() > 31 || reason.size() > 255) return 0;
  const size_t reason_size = reason.empty() ? 0 : (1 + reason.size() + 3) & ~size_t(3);
  const size_t size = kRtcpHeaderSize + 4 * ssrcs.size() + reason_size;
  if (size > cap) return 0;
  write_rtcp_header(buf, uint8_t(ssrcs.size()), rtcp_type::kBye, size);
  for (size_t i = 0; i < ssrcs.size(); ++i) store_be32(buf + 4 + 4 * i, ssrcs[i]);
  if (!reason.empty()) {
    uint8_t* r = buf + 4 + 4 * ssrcs.size();
    r[0] = uint8_t(reason.size());
    std::memcpy(r + 1, reason.data(), reason.size());
    std::memset(r + 1 + reason.size(), 0, reason_size - 1 - reason.size());
  }
  return size;
}

}  // namespace rtp
}  // namespace tern
