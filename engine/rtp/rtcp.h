// RTCP (RFC 3550 §6): compound packet walk with validation, and parse/build
// of SR, RR, SDES and BYE. Feedback messages (NACK, PLI, FIR, REMB,
// transport-cc) are in rtcp_feedback.h. Readers are zero-copy views; writers
// fill a caller buffer and return the bytes written (0 if it does not fit).
//
//    0                   1                   2                   3
//   |V=2|P|  count  |      PT       |        length (words - 1)     |
//
// Compound validation (RFC 3550 A.2, relaxed for RFC 5506 reduced-size
// RTCP): every packet has version 2 and a length inside the datagram, the
// lengths add up to the datagram exactly, and only the last packet may carry
// padding (count >= 1, within its packet, a multiple of 4 as the 32-bit
// length demands). The first packet is not required to be SR/RR: browsers
// send reduced-size feedback (RFC 5506) when rtcp-rsize is negotiated.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/net/bytes.h"

namespace tern {
namespace rtp {

inline constexpr size_t kRtcpHeaderSize = 4;

namespace rtcp_type {
inline constexpr uint8_t kSr = 200;
inline constexpr uint8_t kRr = 201;
inline constexpr uint8_t kSdes = 202;
inline constexpr uint8_t kBye = 203;
inline constexpr uint8_t kApp = 204;
inline constexpr uint8_t kRtpfb = 205;  // transport-layer feedback (RFC 4585)
inline constexpr uint8_t kPsfb = 206;   // payload-specific feedback (RFC 4585)
inline constexpr uint8_t kXr = 207;
}  // namespace rtcp_type

enum class RtcpError : uint8_t {
  kOk = 0,
  kTooShort,    // datagram shorter than a header, or a packet past the end
  kBadVersion,  // version != 2
  kBadPadding,  // padding count 0, larger than the packet, or not on the last
  kBadLength,   // length field does not fit the body it must carry
};
const char* rtcp_error_name(RtcpError e);

// One RTCP packet inside a compound: header fields plus the body after the
// 4-byte header, padding excluded.
struct RtcpPacket {
  uint8_t count = 0;  // RC / SC / FMT (5 bits)
  uint8_t type = 0;
  const uint8_t* data = nullptr;  // the header
  uint32_t size = 0;              // header + body + padding (length field)
  const uint8_t* body = nullptr;
  uint32_t body_size = 0;  // without padding
};

// Validates a whole compound datagram (see top), then iterates its packets.
class RtcpCompound {
 public:
  RtcpError parse(const uint8_t* data, size_t len);
  bool valid() const { return data_ != nullptr; }
  size_t packet_count() const { return count_; }

  class Iterator {
   public:
    RtcpPacket operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return pos_ == o.pos_; }
    bool operator!=(const Iterator& o) const { return pos_ != o.pos_; }

   private:
    friend class RtcpCompound;
    Iterator(const RtcpCompound* c, size_t pos) : c_(c), pos_(pos) {}
    const RtcpCompound* c_;
    size_t pos_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, valid() ? size_ : 0); }

 private:
  const uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t count_ = 0;
  uint32_t last_padding_ = 0;  // padding of the last packet
};

// Writes the common header. `size` is the whole packet (a multiple of 4).
void write_rtcp_header(uint8_t* p, uint8_t count, uint8_t type, size_t size);

// ---- report blocks ----------------------------------------------------------

inline constexpr size_t kReportBlockSize = 24;
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;    // 8-bit fixed point (lost/expected * 256)
  int32_t cumulative_lost = 0;  // signed 24 bits (duplicates make it negative)
  uint32_t extended_highest_seq = 0;
  uint32_t jitter = 0;               // RTP timestamp units
  uint32_t last_sr = 0;              // middle 32 bits of the SR's NTP time
  uint32_t delay_since_last_sr = 0;  // 1/65536 s
};
ReportBlock read_report_block(const uint8_t* p);
void write_report_block(uint8_t* p, const ReportBlock& b);

// ---- SR / RR ----------------------------------------------------------------

struct SenderInfo {
  uint64_t ntp = 0;  // NTP timestamp, 32.32
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

// SR (PT 200) and RR (PT 201). Report blocks are read in place; profile
// extensions after them are ignored.
class ReportPacket {
 public:
  bool parse(const RtcpPacket& p);
  bool is_sender_report() const { return sr_; }
  uint32_t ssrc() const { return ssrc_; }
  const SenderInfo& sender_info() const { return info_; }  // SR only
  size_t block_count() const { return count_; }
  ReportBlock block(size_t i) const { return read_report_block(blocks_ + kReportBlockSize * i); }

 private:
  const uint8_t* blocks_ = nullptr;
  uint32_t ssrc_ = 0;
  SenderInfo info_;
  uint8_t count_ = 0;
  bool sr_ = false;
};

// At most 31 blocks. Returns the bytes written or 0.
size_t write_sender_report(uint8_t* buf, size_t cap, uint32_t ssrc, const SenderInfo& info,
                           absl::Span<const ReportBlock> blocks);
size_t write_receiver_report(uint8_t* buf, size_t cap, uint32_t ssrc,
                             absl::Span<const ReportBlock> blocks);

// ---- SDES -------------------------------------------------------------------

namespace sdes {
inline constexpr uint8_t kEnd = 0;
inline constexpr uint8_t kCname = 1;
}  // namespace sdes

struct SdesItem {
  uint32_t ssrc = 0;  // of the chunk
  uint8_t type = 0;
  absl::string_view text;
};

// Walks items chunk by chunk. Each chunk is SSRC, items, an END (0) item and
// zero padding to a 32-bit boundary; a chunk that breaks that stops the walk
// and sets malformed().
class SdesReader {
 public:
  explicit SdesReader(const RtcpPacket& p);
  bool next(SdesItem* out);
  bool malformed() const { return malformed_; }

 private:
  bool start_chunk();
  const uint8_t* body_;
  uint32_t end_;
  uint32_t pos_ = 0;
  uint32_t chunks_left_;
  uint32_t ssrc_ = 0;
  bool in_chunk_ = false;
  bool malformed_ = false;
};

// First CNAME in the packet.
bool read_sdes_cname(const RtcpPacket& p, uint32_t* ssrc, absl::string_view* cname);
// One chunk with one CNAME item (at most 255 bytes).
size_t write_sdes_cname(uint8_t* buf, size_t cap, uint32_t ssrc, absl::string_view cname);

// ---- BYE --------------------------------------------------------------------

class ByePacket {
 public:
  bool parse(const RtcpPacket& p);
  size_t ssrc_count() const { return count_; }
  uint32_t ssrc(size_t i) const { return load_be32(ssrcs_ + 4 * i); }
  absl::string_view reason() const { return reason_; }

 private:
  const uint8_t* ssrcs_ = nullptr;
  uint8_t count_ = 0;
  absl::string_view reason_;
};

// At most 31 SSRCs, reason at most 255 bytes (may be empty).
size_t write_bye(uint8_t* buf, size_t cap, absl::Span<const uint32_t> ssrcs,
                 absl::string_view reason = {});

}  // namespace rtp
}  // namespace tern
