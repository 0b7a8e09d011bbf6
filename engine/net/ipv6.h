// IPv6 header (RFC 8200): parse (skipping a bounded chain of extension
// headers), write; solicited-node multicast (RFC 4291 §2.7.1) and IPv6
// multicast MAC mapping (RFC 2464 §7).
#pragma once

#include <cstdint>

#include "engine/net/counters.h"
#include "engine/net/ethernet.h"

namespace tern {

inline constexpr uint32_t kIpv6HeaderLen = 40;
// Extension headers skipped before giving up with kIpOptions. Real traffic to a
// media server carries none; this bounds the work an attacker can cause.
inline constexpr uint32_t kMaxIpv6ExtHeaders = 4;

struct Ipv6Header {
  uint8_t src[16]{};
  uint8_t dst[16]{};
  uint8_t next_header = 0;  // upper-layer protocol after the skipped extension headers
  uint8_t hop_limit = 0;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
  uint16_t payload_len = 0;  // from the fixed header: bytes after the 40-byte header
  uint32_t header_len = 0;   // 40 + extension headers: offset of the upper layer
  bool fragment = false;     // a Fragment header was found (next_header is then 44)
};

// Parses the header at p; len is the bytes available (link padding allowed).
// Skips hop-by-hop (only first, RFC 8200 §4.1), routing and destination
// options headers; stops at a Fragment header and flags it. On false *why is
// kRuntFrame (shorter than 40 / than 40 + payload length), kIpOptions (version
// != 6, jumbogram, extension chain too long or overrunning the payload,
// misplaced hop-by-hop, multicast source address).
bool parse_ipv6(const uint8_t* p, uint32_t len, Ipv6Header* out, Drop* why);

// Writes the 40-byte fixed header.
void write_ipv6(uint8_t* p, const uint8_t src[16], const uint8_t dst[16], uint8_t next_header,
                uint8_t hop_limit, uint32_t payload_len, uint8_t traffic_class = 0,
                uint32_t flow_label = 0);

// ff02::1:ffXX:XXXX from the low 24 bits of addr.
void solicited_node_multicast(const uint8_t addr[16], uint8_t out[16]);
// 33:33:XX:XX:XX:XX from the low 32 bits of a multicast address.
MacAddr ipv6_multicast_mac(const uint8_t addr[16]);

inline bool ipv6_is_multicast(const uint8_t a[16]) { return a[0] == 0xff; }
bool ipv6_is_unspecified(const uint8_t a[16]);
// True if a is ff02::1:ffXX:XXXX (any XX).
bool ipv6_is_solicited_node(const uint8_t a[16]);

inline constexpr uint8_t kIpv6AllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

}  // namespace tern
