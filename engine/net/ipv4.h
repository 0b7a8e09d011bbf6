// IPv4 header (RFC 791): parse with validation, write with checksum.
#pragma once

#include <cstdint>

#include "engine/net/counters.h"

namespace tern {

inline constexpr uint8_t kIpProtoHopByHop = 0;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoRouting = 43;
inline constexpr uint8_t kIpProtoFragment = 44;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint8_t kIpProtoNoNext = 59;
inline constexpr uint8_t kIpProtoDestOpts = 60;

inline constexpr uint32_t kIpv4HeaderLen = 20;  // without options
inline constexpr uint16_t kIpv4FlagDf = 0x4000;
inline constexpr uint16_t kIpv4FlagMf = 0x2000;
inline constexpr uint16_t kIpv4OffsetMask = 0x1fff;

struct Ipv4Header {
  uint8_t src[4]{};
  uint8_t dst[4]{};
  uint8_t protocol = 0;
  uint8_t ttl = 0;
  uint8_t tos = 0;
  uint16_t id = 0;
  uint16_t total_len = 0;   // header + payload; <= the buffer length
  uint16_t flags_frag = 0;  // flags (3 bits) + fragment offset (13 bits)
  uint32_t header_len = 0;  // IHL * 4, 20..60
  bool fragment = false;    // MF set or offset non-zero: part of a fragmented datagram
};

// Validates and parses the header at p; len is the bytes available (trailing
// link padding allowed). On false *why is kRuntFrame (shorter than 20 / than
// total length), kIpOptions (version != 4, IHL < 5, total length < IHL) or
// kBadChecksum. Fragments parse (out->fragment); the caller decides.
// verify_checksum = false skips the header checksum (the NIC checked it).
bool parse_ipv4(const uint8_t* p, uint32_t len, Ipv4Header* out, Drop* why,
                bool verify_checksum = true);

// Writes a 20-byte header (no options, DF set, ID `id`) for payload_len bytes
// of `protocol`. With `checksum` false the header checksum is left 0 (NIC
// offload).
void write_ipv4(uint8_t* p, const uint8_t src[4], const uint8_t dst[4], uint8_t protocol,
                uint8_t ttl, uint32_t payload_len, bool checksum, uint16_t id = 0);

// Recomputes the header checksum of the header at p (IHL from the header).
void ipv4_fill_checksum(uint8_t* p);

}  // namespace tern
