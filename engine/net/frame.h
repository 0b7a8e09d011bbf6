// Whole-frame parse and build: the API a link-layer driver (drivers/dpdk) uses.
//
// RX: parse_frame() walks Ethernet -> (802.1Q tags) -> ARP | IPv4 | IPv6 ->
// UDP | ICMP | ICMPv6 in one pass over the frame, validating lengths and
// checksums, and says what the frame is. It never writes the frame and is
// stateless: whether the frame is addressed to us (MAC, IP, port) is the
// driver's decision (Drop::kNotForUs is its to count).
//
// TX: write_udp_headers() puts Ethernet + IPv4/IPv6 + UDP headers in front of
// a UDP payload. The reply builders turn a parsed ARP request, ICMP echo
// request or Neighbour Solicitation into its answer in place, in the same
// buffer, so answering costs no allocation.
//
// All functions are hot-path safe: no allocation, no exceptions, no logging.
#pragma once

#include <cstdint>

#include "engine/net/checksum.h"
#include "engine/net/counters.h"
#include "engine/net/endpoint.h"
#include "engine/net/ethernet.h"
#include "engine/net/packet.h"

namespace tern {

enum class FrameKind : uint8_t {
  kUdp,              // UDP over IPv4/IPv6, checksum verified; payload_* = UDP payload
  kArp,              // ARP request or reply (see arp_op)
  kIcmpEchoV4,       // ICMP echo request (type 8), checksum verified
  kIcmpEchoV6,       // ICMPv6 echo request (type 128), checksum verified
  kNeighborSolicit,  // ICMPv6 NS passing RFC 4861 §7.1.1 validation
  kNeighborAdvert,   // ICMPv6 NA passing RFC 4861 §7.1.2 validation
  kOther,            // well-formed ICMP/ICMPv6 we do not answer (echo reply, RA, MLD...)
};

const char* frame_kind_name(FrameKind k);

// What parse_frame() found. Written only by parse_frame(); offsets are from
// the first byte of the frame.
struct FrameInfo {
  FrameKind kind = FrameKind::kOther;
  MacAddr src_mac;
  MacAddr dst_mac;
  uint16_t ethertype = 0;       // after VLAN tags: 0x0800, 0x0806 or 0x86DD
  uint16_t vlan_tci = 0;        // innermost VLAN tag's TCI; 0 when untagged
  uint8_t vlan_tags = 0;        // number of VLAN tags skipped
  uint8_t ip_proto = 0;         // 17 UDP, 1 ICMP, 58 ICMPv6 (upper layer after IPv6 ext headers)
  uint8_t hop_limit = 0;        // IPv4 TTL or IPv6 hop limit
  uint16_t arp_op = 0;          // kArp only: 1 request, 2 reply
  uint16_t l3_offset = 0;       // ARP / IP header
  uint16_t l4_offset = 0;       // UDP / ICMP / ICMPv6 header (0 for ARP)
  uint16_t payload_offset = 0;  // UDP payload; ICMP: first byte after the 8-byte ICMP header
  uint32_t payload_len = 0;     // UDP payload bytes (excludes Ethernet padding)
  uint32_t l3_len = 0;          // IP total length (IPv6: 40 + payload length), ARP: 28.
                                // Bytes past l3_offset + l3_len are link-layer padding.
  // IP source / destination, with UDP ports for kUdp (port 0 otherwise).
  // kArp: src = sender protocol address, dst = target protocol address.
  Endpoint src;
  Endpoint dst;
  // kUdp: the sum the payload must have for the UDP checksum to hold
  // (udp_payload_claim_v4/v6; kNoSum if IPv4 and sent without one), and
  // whether that was checked (false only with RxVerified::defer_l4).
  uint32_t payload_sum = kNoSum;
  bool l4_verified = true;
  // kArp: sender hardware address. kNeighborSolicit: source link-layer address
  // option. kNeighborAdvert: target link-layer address option.
  MacAddr lla;
  bool has_lla = false;
  // kNeighborSolicit / kNeighborAdvert: the target address.
  uint8_t nd_target[16]{};
  // kNeighborAdvert: flags from the message.
  bool na_router = false;
  bool na_solicited = false;
  bool na_override = false;
};

// Parses one frame. On success fills *out and returns true. On false, *why is
// the reason to count:
//   kRuntFrame      frame shorter than a header or a length field claims
//   kUnsupportedL3  ethertype other than IPv4 / IPv6 / ARP (also non-Ethernet/IPv4 ARP)
//   kIpOptions      bad IP version / IHL / total length / extension header chain
//   kBadChecksum    IPv4 header, UDP, ICMP or ICMPv6 checksum wrong (UDP zero ok on IPv4)
//   kIpFragment     IPv4 MF or offset set, or IPv6 fragment header
//   kUnsupportedL4  IP protocol other than UDP / ICMP / ICMPv6, or an
//                   ICMPv6 ND message failing RFC 4861 validation (hop limit,
//                   code, length, options)
// TTL / hop limit 0 is accepted: we are the destination, not a router.
bool parse_frame(const uint8_t* frame, uint32_t len, FrameInfo* out, Drop* why);

// Checksums the NIC already verified, so parse_frame need not read the
// payload again. DPDK: ip_checksum = (ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK)
// == RTE_MBUF_F_RX_IP_CKSUM_GOOD, l4_checksum likewise with
// RTE_MBUF_F_RX_L4_CKSUM_*. (Frames the NIC flags BAD the driver drops as
// kBadChecksum itself; UNKNOWN / NONE leave the flag false.) l4_checksum
// applies to UDP only; ICMP / ICMPv6 are always verified here.
//
// defer_l4 is the caller's choice, not the NIC's: the UDP checksum is not
// read here (except that IPv6 forbids a zero field); FrameInfo says what the
// payload must sum to, and the engine checks it only for traffic it
// terminates. A relay carries it instead (Packet::rx_sum), as a NAT would:
// a corrupted datagram leaves with a checksum that is wrong the same way.
struct RxVerified {
  bool ip_checksum = false;  // IPv4 header checksum
  bool l4_checksum = false;  // UDP checksum
  bool defer_l4 = false;     // leave the UDP checksum to the engine (above)
};
bool parse_frame(const uint8_t* frame, uint32_t len, const RxVerified& hw, FrameInfo* out,
                 Drop* why);

// --- TX: UDP datagrams ----------------------------------------------------

// Ethernet (14, untagged) + IPv4 (20) or IPv6 (40) + UDP (8) header bytes:
// 42 for kIpv4, 62 for kIpv6, 0 for kNone.
constexpr uint32_t udp_headers_len(Family f) {
  return f == Family::kIpv4 ? 42u : (f == Family::kIpv6 ? 62u : 0u);
}
// Largest UDP payload write_udp_headers() accepts (IP length fields are 16 bits).
constexpr uint32_t udp_max_payload(Family f) {
  return f == Family::kIpv4 ? 65535u - 28u : (f == Family::kIpv6 ? 65535u - 8u : 0u);
}

enum class TxChecksum : uint8_t {
  // Both checksums computed here: IPv4 header checksum and the full UDP
  // checksum (which reads the payload, so the payload must already be in place).
  kSoftware,
  // For NIC offload, the way DPDK expects with RTE_MBUF_F_TX_IPV4 |
  // RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM (or TX_IPV6 |
  // TX_UDP_CKSUM): the IPv4 header checksum is 0 and the UDP checksum field
  // holds the folded, NOT complemented, pseudo-header sum (what
  // rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum return). The payload is not read.
  // The driver sets l2_len = 14, l3_len = 20 or 40 in the mbuf.
  kOffload,
};

// Writes Ethernet + IP + UDP headers into the udp_headers_len(local.family)
// bytes at `hdr`, which the payload_len payload bytes must directly follow.
// local = source address/port, remote = destination (as in Packet). IPv4 is
// sent with DF set and ID 0 (RFC 6864 atomic datagram), TTL / hop limit
// `ttl`. False (nothing written) if the families differ or are kNone, or the
// payload is longer than udp_max_payload().
// kSoftware with payload_sum != kNoSum: the UDP checksum from that sum of the
// payload (Packet::tx_sum) instead of reading the payload.
bool write_udp_headers(uint8_t* hdr, const MacAddr& src_mac, const MacAddr& dst_mac,
                       const Endpoint& local, const Endpoint& remote, uint32_t payload_len,
                       TxChecksum csum, uint8_t ttl = 64, uint32_t payload_sum = kNoSum);

// Packet convenience: prepends the headers to pkt's UDP payload using
// pkt->local / pkt->remote and pkt->tx_sum. False if headroom is short or write_udp_headers
// refuses (then pkt is unchanged).
bool prepend_udp_headers(Packet* pkt, const MacAddr& src_mac, const MacAddr& dst_mac,
                         TxChecksum csum, uint8_t ttl = 64);

// --- In-place replies to a frame parse_frame() accepted ---------------------
// Each takes the same frame buffer and its FrameInfo, rewrites the frame into
// the answer (VLAN tags are kept), and returns the reply frame length to
// transmit (unpadded; the NIC pads to 60), or 0 if `info` is not of the right
// kind. The caller checks first that the request is for one of our addresses.

// ARP request (info.arp_op == 1) -> ARP reply: we (our_mac) own info.dst.
uint32_t build_arp_reply(uint8_t* frame, const FrameInfo& info, const MacAddr& our_mac);

// ICMP echo request (kIcmpEchoV4 or kIcmpEchoV6) -> echo reply to the sender.
// The reply's source IP is info.dst; for an IPv6 echo sent to a multicast
// address pass our unicast address as `our_ip6` (else it may be nullptr).
// TTL / hop limit is set to 64; checksums are fixed up.
uint32_t build_icmp_echo_reply(uint8_t* frame, const FrameInfo& info, const MacAddr& our_mac,
                               const uint8_t* our_ip6 = nullptr);

// Neighbour Solicitation (kNeighborSolicit) for info.nd_target -> Neighbour
// Advertisement from info.nd_target with our_mac as target link-layer address,
// override flag set; solicited flag set unless the NS came from :: (DAD), in
// which case the NA goes to all-nodes ff02::1 (RFC 4861 §7.2.4). The NA
// (86 bytes untagged) can be longer than an NS without source link-layer
// option (78): `capacity` is the buffer size from `frame`; 0 if too small.
uint32_t build_neighbor_advert(uint8_t* frame, uint32_t capacity, const FrameInfo& info,
                               const MacAddr& our_mac);

// --- Frames we originate to resolve a neighbour ----------------------------

// Broadcast ARP request "who has target_ip, tell our_ip". Returns the frame
// length (42), 0 if capacity is short.
uint32_t build_arp_request(uint8_t* frame, uint32_t capacity, const MacAddr& our_mac,
                           const uint8_t our_ip[4], const uint8_t target_ip[4]);

// Neighbour Solicitation for `target` from our_ip (with source link-layer
// option), to the target's solicited-node multicast address and MAC.
// Returns the frame length (86), 0 if capacity is short.
uint32_t build_neighbor_solicit(uint8_t* frame, uint32_t capacity, const MacAddr& our_mac,
                                const uint8_t our_ip[16], const uint8_t target[16]);

}  // namespace tern
