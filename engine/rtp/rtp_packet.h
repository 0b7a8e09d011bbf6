// RTP packets (RFC 3550 §5.1): a zero-copy view over a datagram with explicit
// byte accessors, and in-place setters for the fields an SFU rewrites per
// consumer (SSRC, sequence number, timestamp, payload type, marker).
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//   |                           timestamp                           |
//   |           synchronization source (SSRC) identifier            |
//   |            contributing source (CSRC) identifiers  (CC x 4)   |
//   |      defined by profile       |        length (words)         |  if X
//   |                        header extension                       |
//   |                payload ...     | padding ... | pad count      |  if P
//
// parse() validates once (version 2, CSRCs, extension block and padding all
// within the datagram, padding count >= 1 and not reaching into the header);
// accessors then read bytes in place. Per packet: no allocation, no copy.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "engine/net/bytes.h"

namespace tern {
namespace rtp {

inline constexpr size_t kRtpHeaderSize = 12;
inline constexpr int kRtpVersion = 2;

enum class RtpError : uint8_t {
  kOk = 0,
  kTooShort,          // fewer than 12 bytes
  kBadVersion,        // version != 2
  kCsrcOverrun,       // CSRC list runs past the end
  kExtensionOverrun,  // extension header or block runs past the end
  kBadPadding,        // P set with a count of 0 or larger than the payload
};
const char* rtp_error_name(RtpError e);

// Read-only view. Pointers stay valid while the buffer does.
class RtpView {
 public:
  RtpView() = default;

  RtpError parse(const uint8_t* data, size_t len);
  bool valid() const { return data_ != nullptr; }

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  int version() const { return data_[0] >> 6; }
  bool has_padding() const { return data_[0] & 0x20; }
  bool has_extension() const { return data_[0] & 0x10; }
  int csrc_count() const { return data_[0] & 0x0F; }
  bool marker() const { return data_[1] & 0x80; }
  uint8_t payload_type() const { return data_[1] & 0x7F; }
  uint16_t sequence() const { return load_be16(data_ + 2); }
  uint32_t timestamp() const { return load_be32(data_ + 4); }
  uint32_t ssrc() const { return load_be32(data_ + 8); }
  uint32_t csrc(int i) const { return load_be32(data_ + kRtpHeaderSize + 4 * i); }

  // Header extension (RFC 3550 §5.3.1): the 16-bit profile field and the
  // block after the 4-byte extension header (length x 4 bytes). Both 0/empty
  // without X.
  uint16_t extension_profile() const { return ext_profile_; }
  size_t extension_offset() const { return ext_off_; }  // of the block (after its header)
  absl::Span<const uint8_t> extension_block() const {
    return absl::Span<const uint8_t>(data_ + ext_off_, ext_size_);
  }

  // Everything after the header, extension included.
  size_t header_size() const { return payload_off_; }
  size_t payload_offset() const { return payload_off_; }
  size_t payload_size() const { return payload_size_; }
  absl::Span<const uint8_t> payload() const {
    return absl::Span<const uint8_t>(data_ + payload_off_, payload_size_);
  }
  // Padding bytes at the end, count byte included (0 without P).
  size_t padding_size() const { return padding_; }

 protected:
  const uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t ext_off_ = 0;
  uint32_t ext_size_ = 0;
  uint32_t payload_off_ = 0;
  uint32_t payload_size_ = 0;
  uint16_t ext_profile_ = 0;
  uint8_t padding_ = 0;
};

// A view over a writable buffer: the setters rewrite the header in place.
class RtpPacket : public RtpView {
 public:
  RtpError parse(uint8_t* data, size_t len) { return RtpView::parse(data, len); }

  uint8_t* mutable_data() const { return const_cast<uint8_t*>(data_); }
  void set_marker(bool m) {
    uint8_t* d = mutable_data();
    d[1] = uint8_t((d[1] & 0x7F) | (m ? 0x80 : 0));
  }
  void set_payload_type(uint8_t pt) {
    uint8_t* d = mutable_data();
    d[1] = uint8_t((d[1] & 0x80) | (pt & 0x7F));
  }
  void set_sequence(uint16_t seq) { store_be16(mutable_data() + 2, seq); }
  void set_timestamp(uint32_t ts) { store_be32(mutable_data() + 4, ts); }
  void set_ssrc(uint32_t ssrc) { store_be32(mutable_data() + 8, ssrc); }
  absl::Span<uint8_t> mutable_extension_block() const {
    return absl::Span<uint8_t>(mutable_data() + ext_off_, ext_size_);
  }
  absl::Span<uint8_t> mutable_payload() const {
    return absl::Span<uint8_t>(mutable_data() + payload_off_, payload_size_);
  }
};

// Writes a 12-byte header plus CSRCs into buf (no extension, no padding).
// Returns the bytes written, 0 if capacity is short or more than 15 CSRCs.
struct RtpHeaderFields {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  absl::Span<const uint32_t> csrcs;
};
size_t write_rtp_header(uint8_t* buf, size_t capacity, const RtpHeaderFields& h);

}  // namespace rtp
}  // namespace tern
