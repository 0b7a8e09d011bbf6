// UDP header (RFC 768) and checksum over IPv4 (zero = none) and IPv6
// (mandatory, RFC 8200 §8.1).
#pragma once

#include <cstdint>

#include "engine/net/counters.h"

namespace tern {

inline constexpr uint32_t kUdpHeaderLen = 8;

struct UdpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t length = 0;  // header + payload, 8..len
  uint16_t checksum = 0;
};

// Parses the header at p; len is the bytes the IP layer says follow (the UDP
// length field must fit in it). On false *why is kRuntFrame (len < 8 or
// length > len) or kIpOptions (length field < 8). Bytes past `length` are
// ignored (IP may carry trailing data).
bool parse_udp(const uint8_t* p, uint32_t len, UdpHeader* out, Drop* why);

// Writes the header with checksum field 0.
void write_udp(uint8_t* p, uint16_t src_port, uint16_t dst_port, uint32_t length);

// The checksum field value for the datagram at udp (header + payload, len
// bytes, checksum field treated as zero whatever it holds). A computed 0 is
// sent as 0xffff (RFC 768).
uint16_t udp_checksum_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                         const uint8_t dst[4]);
uint16_t udp_checksum_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                         const uint8_t dst[16]);

// The same, from the payload's one's-complement sum (a partial, checksum.h)
// instead of reading it: for a payload whose sum is carried from the
// datagram it arrived in (a relay that only moved headers).
uint16_t udp_checksum_from_sum_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                                  const uint8_t dst[4], uint32_t payload_sum);
uint16_t udp_checksum_from_sum_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                                  const uint8_t dst[16], uint32_t payload_sum);

// The sum the payload of a received datagram must have for its checksum to
// hold, from the 8-byte header and the pseudo-header alone (no pass over the
// payload): checking it later is checksum_matches(payload, claim). kNoSum
// for an IPv4 datagram sent without a checksum (field 0).
uint32_t udp_payload_claim_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                              const uint8_t dst[4]);
uint32_t udp_payload_claim_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                              const uint8_t dst[16]);

// Verify a received datagram (checksum field included in the sum). IPv4
// accepts a zero field (sender did not compute one); IPv6 does not.
bool udp_checksum_ok_v4(const uint8_t* udp, uint32_t len, const uint8_t src[4],
                        const uint8_t dst[4]);
bool udp_checksum_ok_v6(const uint8_t* udp, uint32_t len, const uint8_t src[16],
                        const uint8_t dst[16]);

}  // namespace tern
