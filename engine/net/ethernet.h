// Ethernet II framing (IEEE 802.3 with EtherType) and 802.1Q / 802.1ad VLAN tags.
//
// Parse in place: nothing here copies a frame or allocates. MacAddr is a plain
// 6-byte value.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tern {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q C-tag
inline constexpr uint16_t kEtherTypeQinQ = 0x88A8;  // 802.1ad S-tag
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;

inline constexpr uint32_t kEthernetHeaderLen = 14;
inline constexpr uint32_t kVlanTagLen = 4;
// Tags skipped on parse (QinQ: S-tag + C-tag). More is malformed for us.
inline constexpr uint32_t kMaxVlanTags = 2;
// Shortest frame on the wire without FCS. Short frames we build are padded by
// the NIC (every DPDK PMD and the kernel do); builders return the unpadded length.
inline constexpr uint32_t kEthernetMinFrame = 60;

struct MacAddr {
  uint8_t b[6]{};

  static MacAddr load(const uint8_t* p) {
    MacAddr m;
    std::memcpy(m.b, p, 6);
    return m;
  }
  void store(uint8_t* p) const { std::memcpy(p, b, 6); }

  static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  // Parses "02:00:00:aa:bb:cc" (also '-' separated, any hex case).
  static absl::StatusOr<MacAddr> parse(absl::string_view text);

  bool is_broadcast() const { return (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xff; }
  // Group bit (I/G) set: multicast, including broadcast.
  bool is_multicast() const { return (b[0] & 0x01) != 0; }
  bool is_zero() const { return (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) == 0; }
  bool is_locally_administered() const { return (b[0] & 0x02) != 0; }

  bool operator==(const MacAddr& o) const { return std::memcmp(b, o.b, 6) == 0; }
  bool operator!=(const MacAddr& o) const { return !(*this == o); }

  // "02:00:00:aa:bb:cc", lower case.
  std::string to_string() const;
};

// Ethernet header as parsed. `ethertype` is the inner one after any VLAN tags.
struct EthernetHeader {
  MacAddr dst;
  MacAddr src;
  uint16_t ethertype = 0;
  uint16_t vlan_tci = 0;    // innermost tag's TCI (PCP/DEI/VID); 0 if untagged
  uint8_t vlan_tags = 0;    // tags skipped
  uint32_t header_len = 0;  // 14 + 4 * vlan_tags: offset of the L3 header
};

// Parses the Ethernet header, skipping up to kMaxVlanTags 802.1Q/802.1ad tags.
// False if the frame is shorter than the header it claims or carries more tags.
bool parse_ethernet(const uint8_t* frame, uint32_t len, EthernetHeader* out);

// Writes an untagged 14-byte Ethernet II header.
inline void write_ethernet(uint8_t* p, const MacAddr& dst, const MacAddr& src, uint16_t ethertype) {
  dst.store(p);
  src.store(p + 6);
  p[12] = uint8_t(ethertype >> 8);
  p[13] = uint8_t(ethertype);
}

// Swaps destination and source MAC in place (reply to sender) and sets the
// source to `ours`.
inline void ethernet_reply_in_place(uint8_t* frame, const MacAddr& ours) {
  std::memcpy(frame, frame + 6, 6);
  ours.store(frame + 6);
}

}  // namespace tern
