// ICMPv4 echo (RFC 792), ICMPv6 echo (RFC 4443) and IPv6 neighbour discovery
// NS/NA (RFC 4861 §4.3, §4.4, §7.1).
#pragma once

#include <cstdint>

#include "engine/net/counters.h"
#include "engine/net/ethernet.h"

namespace tern {

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6RouterSolicit = 133;
inline constexpr uint8_t kIcmp6RouterAdvert = 134;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135;
inline constexpr uint8_t kIcmp6NeighborAdvert = 136;

inline constexpr uint32_t kIcmpHeaderLen = 8;   // type, code, checksum, id, sequence
inline constexpr uint32_t kNdMessageLen = 24;   // NS/NA without options
inline constexpr uint32_t kNdLlaOptionLen = 8;  // Ethernet link-layer address option
inline constexpr uint8_t kNdOptSourceLla = 1;
inline constexpr uint8_t kNdOptTargetLla = 2;
inline constexpr uint8_t kNdHopLimit = 255;
// NA flags (first byte of the reserved word).
inline constexpr uint8_t kNaFlagRouter = 0x80;
inline constexpr uint8_t kNaFlagSolicited = 0x40;
inline constexpr uint8_t kNaFlagOverride = 0x20;

// --- ICMPv4 ---
// Checksum over the whole ICMP message (len bytes) verifies.
bool icmp4_checksum_ok(const uint8_t* icmp, uint32_t len);
// Echo request -> echo reply in place (type 8 -> 0, RFC 1624 checksum update).
void icmp4_echo_to_reply(uint8_t* icmp);

// --- ICMPv6 (checksum covers the IPv6 pseudo-header) ---
bool icmp6_checksum_ok(const uint8_t* icmp, uint32_t len, const uint8_t src[16],
                       const uint8_t dst[16]);
// Computes and stores the checksum of the message for the given addresses.
void icmp6_fill_checksum(uint8_t* icmp, uint32_t len, const uint8_t src[16], const uint8_t dst[16]);
// Echo request -> echo reply in place (type 128 -> 129). The checksum is
// updated incrementally; that is valid as long as the reply's address pair is
// the request's swapped (the pseudo-header sum is symmetric). Otherwise call
// icmp6_fill_checksum afterwards.
void icmp6_echo_to_reply(uint8_t* icmp);

struct NeighborSolicit {
  uint8_t target[16]{};
  bool has_source_lla = false;
  MacAddr source_lla;
};

struct NeighborAdvert {
  uint8_t target[16]{};
  bool router = false;
  bool solicited = false;
  bool override_flag = false;
  bool has_target_lla = false;
  MacAddr target_lla;
};

// Validate (RFC 4861 §7.1.1 / §7.1.2) and parse an NS / NA, given the IPv6
// addresses and hop limit it arrived with. Checks: hop limit 255, code 0,
// checksum, length >= 24, target not multicast, every option length > 0 and
// inside the message; NS from :: must go to a solicited-node address and carry
// no source link-layer option; NA to a multicast address must not be
// solicited. On false *why is kBadChecksum, kRuntFrame or kUnsupportedL4.
bool parse_neighbor_solicit(const uint8_t* icmp, uint32_t len, const uint8_t src[16],
                            const uint8_t dst[16], uint8_t hop_limit, NeighborSolicit* out,
                            Drop* why);
bool parse_neighbor_advert(const uint8_t* icmp, uint32_t len, const uint8_t src[16],
                           const uint8_t dst[16], uint8_t hop_limit, NeighborAdvert* out,
                           Drop* why);

// Write an NS / NA (with the link-layer address option: 32 bytes) including
// its checksum for the IPv6 src/dst it will be sent with. Return the length.
uint32_t write_neighbor_solicit(uint8_t* icmp, const uint8_t src[16], const uint8_t dst[16],
                                const uint8_t target[16], const MacAddr& source_lla);
uint32_t write_neighbor_advert(uint8_t* icmp, const uint8_t src[16], const uint8_t dst[16],
                               const uint8_t target[16], const MacAddr& target_lla, uint8_t flags);

}  // namespace tern
