// ARP for IPv4 over Ethernet (RFC 826). Fixed 28-byte body:
//   htype(2)=1 ptype(2)=0x0800 hlen(1)=6 plen(1)=4 op(2)
//   sha(6) spa(4) tha(6) tpa(4)
#pragma once

#include <cstdint>

#include "engine/net/ethernet.h"

namespace tern {

inline constexpr uint32_t kArpLen = 28;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

struct ArpPacket {
  uint16_t op = 0;
  MacAddr sha;       // sender hardware address
  uint8_t spa[4]{};  // sender protocol (IPv4) address
  MacAddr tha;       // target hardware address (zero in requests)
  uint8_t tpa[4]{};  // target protocol address
};

// Parses an ARP body (after the Ethernet header). False unless it is Ethernet /
// IPv4 ARP with op request or reply and len >= 28 (extra bytes are padding).
bool parse_arp(const uint8_t* p, uint32_t len, ArpPacket* out);

// Writes a 28-byte ARP body.
void write_arp(uint8_t* p, uint16_t op, const MacAddr& sha, const uint8_t spa[4],
               const MacAddr& tha, const uint8_t tpa[4]);

// Turns the request at p (parse_arp accepted it) into our reply in place: the
// requester becomes the target, we (our_mac, the requested address) the sender.
void arp_reply_in_place(uint8_t* p, const MacAddr& our_mac);

// Gratuitous / resolving request body: "who has target_ip? tell our_ip".
inline void write_arp_request(uint8_t* p, const MacAddr& our_mac, const uint8_t our_ip[4],
                              const uint8_t target_ip[4]) {
  write_arp(p, kArpOpRequest, our_mac, our_ip, MacAddr{}, target_ip);
}

}  // namespace tern
