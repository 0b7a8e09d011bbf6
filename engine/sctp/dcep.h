// Data Channel Establishment Protocol (RFC 8832) and the WebRTC data-channel
// payload protocol identifiers (RFC 8831 §8). A pure codec: no state, no I/O.
//
// RFC 8832 §5.1, DATA_CHANNEL_OPEN (all fields big-endian):
//   0                   1                   2                   3
//   | Message Type=3 | Channel Type  |            Priority            |
//   |                    Reliability Parameter                        |
//   |         Label Length          |        Protocol Length          |
//   | Label (Label Length bytes) ... | Protocol (Protocol Length) ... |
// RFC 8832 §5.2, DATA_CHANNEL_ACK: a single byte, Message Type=2.
//
// Parsing is strict: the length must be exactly what the header says, the
// channel type must be one of the six RFC 8832 §8.2.2 values and label and
// protocol must be valid UTF-8 (§5.1). Errors name the field and the value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tern::sctp {

// RFC 8831 §8 / IANA SCTP PPIDs used by WebRTC data channels.
inline constexpr uint32_t kPpidDcep = 50;
inline constexpr uint32_t kPpidString = 51;
inline constexpr uint32_t kPpidBinaryPartial = 52;  // deprecated, never sent
inline constexpr uint32_t kPpidBinary = 53;
inline constexpr uint32_t kPpidStringPartial = 54;  // deprecated, never sent
inline constexpr uint32_t kPpidStringEmpty = 56;    // payload: one 0x00 byte (RFC 8831 §6.6)
inline constexpr uint32_t kPpidBinaryEmpty = 57;

enum class DcepMessageType : uint8_t { kAck = 0x02, kOpen = 0x03 };

// RFC 8832 §5.1 channel types. The high bit means unordered.
enum class DcepChannelType : uint8_t {
  kReliable = 0x00,
  kReliableUnordered = 0x80,
  kPartialReliableRexmit = 0x01,
  kPartialReliableRexmitUnordered = 0x81,
  kPartialReliableTimed = 0x02,
  kPartialReliableTimedUnordered = 0x82,
};
bool dcep_channel_type_known(uint8_t v);
inline bool dcep_unordered(DcepChannelType t) { return (static_cast<uint8_t>(t) & 0x80) != 0; }
// The reliability policy without the ordering bit: 0 reliable, 1 max retransmits,
// 2 max lifetime (ms).
inline uint8_t dcep_policy(DcepChannelType t) { return static_cast<uint8_t>(t) & 0x7f; }
const char* dcep_channel_type_name(DcepChannelType t);

// RFC 8832 §5.1 / RFC 8831 §6.4 priorities (informative values).
inline constexpr uint16_t kDcepPriorityBelowNormal = 128;
inline constexpr uint16_t kDcepPriorityNormal = 256;
inline constexpr uint16_t kDcepPriorityHigh = 512;
inline constexpr uint16_t kDcepPriorityExtraHigh = 1024;

inline constexpr size_t kDcepOpenHeaderSize = 12;

struct DcepOpen {
  DcepChannelType channel_type = DcepChannelType::kReliable;
  uint16_t priority = kDcepPriorityNormal;
  // Max retransmissions (kPartialReliableRexmit*) or lifetime in ms
  // (kPartialReliableTimed*). Sent as 0 and ignored on receipt for reliable types.
  uint32_t reliability = 0;
  std::string label;
  std::string protocol;

  bool operator==(const DcepOpen&) const = default;
};

// The message type of a DCEP message (PPID 50), checked to be OPEN or ACK.
absl::StatusOr<DcepMessageType> dcep_message_type(const uint8_t* data, size_t len);

absl::StatusOr<DcepOpen> parse_dcep_open(const uint8_t* data, size_t len);
// OK only for exactly one byte 0x02.
absl::Status parse_dcep_ack(const uint8_t* data, size_t len);

// Encoders. Label and protocol longer than 65535 bytes or not UTF-8, or an
// unknown channel type, are errors. Reliable types are encoded with reliability 0.
absl::StatusOr<std::vector<uint8_t>> encode_dcep_open(const DcepOpen& open);
// Writes the one-byte ACK into out (cap >= 1); returns 1, or 0 if cap is 0.
size_t encode_dcep_ack(uint8_t* out, size_t cap);

// Well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
bool valid_utf8(const uint8_t* data, size_t len);

}  // namespace tern::sctp
