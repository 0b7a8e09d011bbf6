// TURN (RFC 8656) wire constants shared by the server core, its tests, the
// fuzz target and later the TCP framing layer and the load generator.
#pragma once

#include <cstdint>

#include "engine/stun/stun_message.h"

namespace tern {
namespace turn {

// Methods, RFC 8656 §18.
inline constexpr uint16_t kMethodAllocate = 0x003;
inline constexpr uint16_t kMethodRefresh = 0x004;
inline constexpr uint16_t kMethodSend = 0x006;
inline constexpr uint16_t kMethodData = 0x007;
inline constexpr uint16_t kMethodCreatePermission = 0x008;
inline constexpr uint16_t kMethodChannelBind = 0x009;

inline constexpr bool is_turn_method(uint16_t m) {
  return m == kMethodAllocate || m == kMethodRefresh || m == kMethodSend || m == kMethodData ||
         m == kMethodCreatePermission || m == kMethodChannelBind;
}

// Attributes, RFC 8656 §18 and RFC 8489.
namespace attr {
inline constexpr uint16_t kChannelNumber = 0x000C;
inline constexpr uint16_t kLifetime = 0x000D;
inline constexpr uint16_t kXorPeerAddress = 0x0012;
inline constexpr uint16_t kData = 0x0013;
inline constexpr uint16_t kXorRelayedAddress = 0x0016;
inline constexpr uint16_t kRequestedAddressFamily = 0x0017;
inline constexpr uint16_t kEvenPort = 0x0018;
inline constexpr uint16_t kRequestedTransport = 0x0019;
inline constexpr uint16_t kDontFragment = 0x001A;
inline constexpr uint16_t kReservationToken = 0x0022;
inline constexpr uint16_t kAdditionalAddressFamily = 0x8000;
inline constexpr uint16_t kAddressErrorCode = 0x8001;
inline constexpr uint16_t kIcmp = 0x8004;
}  // namespace attr

// REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY values (§18.9).
inline constexpr uint8_t kFamilyIpv4 = 0x01;
inline constexpr uint8_t kFamilyIpv6 = 0x02;
inline constexpr uint8_t kProtocolUdp = 17;

// ChannelData (§12.4): 2-byte channel number, 2-byte length, data.
inline constexpr uint32_t kChannelDataHeader = 4;
inline constexpr uint16_t kChannelMin = 0x4000;
inline constexpr uint16_t kChannelMax = 0x4FFF;         // RFC 8656
inline constexpr uint16_t kChannelMaxRfc5766 = 0x7FFF;  // RFC 5766 (legacy clients)

// Error codes this server sends.
inline constexpr int kBadRequest = 400;
inline constexpr int kUnauthorized = 401;
inline constexpr int kForbidden = 403;
inline constexpr int kUnknownAttribute = 420;
inline constexpr int kAllocationMismatch = 437;
inline constexpr int kStaleNonce = 438;
inline constexpr int kAddressFamilyNotSupported = 440;
inline constexpr int kWrongCredentials = 441;
inline constexpr int kUnsupportedTransport = 442;
inline constexpr int kPeerAddressFamilyMismatch = 443;
inline constexpr int kAllocationQuotaReached = 486;
inline constexpr int kInsufficientCapacity = 508;

// The comprehension-required attributes a TURN server understands: STUN's
// (stun::is_known_attribute) plus TURN's.
bool is_known_attribute(uint16_t type);

// True if data[0..len) looks like a STUN message of a TURN method (first two
// bits zero, method in the table above). Cheap: reads the first two bytes;
// the worker uses it to route STUN to TurnServer or StunBindingService.
inline bool is_turn_stun(const uint8_t* data, uint32_t len) {
  if (len < stun::kHeaderSize) return false;
  const uint16_t type = uint16_t((data[0] << 8 | data[1]) & 0x3FFF);
  return is_turn_method(stun::method_of(type));
}

}  // namespace turn
}  // namespace tern
