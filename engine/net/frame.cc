#include "engine/net/frame.h"

#include <cstring>

#include "engine/net/arp.h"
#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/net/icmp.h"
#include "engine/net/ipv4.h"
#include "engine/net/ipv6.h"
#include "engine/net/udp.h"

namespace tern {

const char* frame_kind_name(FrameKind k) {
  switch (k) {
    case FrameKind::kUdp:
      return "udp";
    case FrameKind::kArp:
      return "arp";
    case FrameKind::kIcmpEchoV4:
      return "icmp_echo_v4";
    case FrameKind::kIcmpEchoV6:
      return "icmp_echo_v6";
    case FrameKind::kNeighborSolicit:
      return "neighbor_solicit";
    case FrameKind::kNeighborAdvert:
      return "neighbor_advert";
    case FrameKind::kOther:
      return "other";
  }
  return "other";
}

namespace {

inline void set_endpoint(Endpoint* e, Family f, const uint8_t* addr, uint16_t port) {
  e->family = f;
  e->port = port;
  if (f == Family::kIpv4) {
    std::memcpy(e->addr, addr, 4);
    std::memset(e->addr + 4, 0, 12);
  } else {
    std::memcpy(e->addr, addr, 16);
  }
}

inline bool fail(Drop* why, Drop d) {
  *why = d;
  return false;
}

bool parse_arp_frame(const uint8_t* frame, uint32_t len, FrameInfo* out, Drop* why) {
  const uint32_t l3 = out->l3_offset;
  ArpPacket arp;
  if (len - l3 < kArpLen) return fail(why, Drop::kRuntFrame);
  if (!parse_arp(frame + l3, len - l3, &arp)) return fail(why, Drop::kUnsupportedL3);
  out->kind = FrameKind::kArp;
  out->arp_op = arp.op;
  out->l3_len = kArpLen;
  out->payload_offset = uint16_t(l3 + kArpLen);
  set_endpoint(&out->src, Family::kIpv4, arp.spa, 0);
  set_endpoint(&out->dst, Family::kIpv4, arp.tpa, 0);
  out->lla = arp.sha;
  out->has_lla = true;
  return true;
}

// UDP at l4 (l4_len bytes as the IP layer says); addresses already in out.
template <bool kV6>
bool parse_udp_frame(const uint8_t* frame, uint32_t l4_len, const RxVerified& hw, FrameInfo* out,
                     Drop* why) {
  const uint32_t l4 = out->l4_offset;
  UdpHeader udp;
  if (!parse_udp(frame + l4, l4_len, &udp, why)) return false;
  const uint8_t* u = frame + l4;
  if (kV6 && udp.checksum == 0) return fail(why, Drop::kBadChecksum);  // mandatory over IPv6
  out->payload_sum = kV6 ? udp_payload_claim_v6(u, udp.length, out->src.addr, out->dst.addr)
                         : udp_payload_claim_v4(u, udp.length, out->src.addr, out->dst.addr);
  out->l4_verified = hw.l4_checksum || out->payload_sum == kNoSum;
  if (!out->l4_verified && !hw.defer_l4) {
    if (!checksum_matches(u + kUdpHeaderLen, udp.length - kUdpHeaderLen, out->payload_sum))
      return fail(why, Drop::kBadChecksum);
    out->l4_verified = true;
  }
  out->kind = FrameKind::kUdp;
  out->src.port = udp.src_port;
  out->dst.port = udp.dst_port;
  out->payload_offset = uint16_t(l4 + kUdpHeaderLen);
  out->payload_len = udp.length - kUdpHeaderLen;
  return true;
}

bool parse_ipv4_frame(const uint8_t* frame, uint32_t len, const RxVerified& hw, FrameInfo* out,
                      Drop* why) {
  const uint32_t l3 = out->l3_offset;
  Ipv4Header ip;
  if (!parse_ipv4(frame + l3, len - l3, &ip, why, !hw.ip_checksum)) return false;
  if (ip.fragment) return fail(why, Drop::kIpFragment);
  out->l3_len = ip.total_len;
  out->hop_limit = ip.ttl;
  out->ip_proto = ip.protocol;
  out->l4_offset = uint16_t(l3 + ip.header_len);
  set_endpoint(&out->src, Family::kIpv4, ip.src, 0);
  set_endpoint(&out->dst, Family::kIpv4, ip.dst, 0);
  const uint32_t l4_len = ip.total_len - ip.header_len;
  const uint8_t* l4p = frame + out->l4_offset;
  switch (ip.protocol) {
    case kIpProtoUdp:
      return parse_udp_frame<false>(frame, l4_len, hw, out, why);
    case kIpProtoIcmp:
      if (l4_len < kIcmpHeaderLen) return fail(why, Drop::kRuntFrame);
      if (!icmp4_checksum_ok(l4p, l4_len)) return fail(why, Drop::kBadChecksum);
      out->kind =
          (l4p[0] == kIcmpEchoRequest && l4p[1] == 0) ? FrameKind::kIcmpEchoV4 : FrameKind::kOther;
      out->payload_offset = uint16_t(out->l4_offset + kIcmpHeaderLen);
      out->payload_len = l4_len - kIcmpHeaderLen;
      return true;
    default:
      return fail(why, Drop::kUnsupportedL4);
  }
}

bool parse_icmp6_frame(const uint8_t* frame, uint32_t l4_len, FrameInfo* out, Drop* why) {
  const uint8_t* icmp = frame + out->l4_offset;
  const uint8_t* src = out->src.addr;
  const uint8_t* dst = out->dst.addr;
  if (l4_len < 4) return fail(why, Drop::kRuntFrame);
  out->payload_offset = uint16_t(out->l4_offset + kIcmpHeaderLen);
  out->payload_len = l4_len >= kIcmpHeaderLen ? l4_len - kIcmpHeaderLen : 0;
  switch (icmp[0]) {
    case kIcmp6NeighborSolicit: {
      NeighborSolicit ns;
      if (!parse_neighbor_solicit(icmp, l4_len, src, dst, out->hop_limit, &ns, why)) return false;
      out->kind = FrameKind::kNeighborSolicit;
      std::memcpy(out->nd_target, ns.target, 16);
      out->has_lla = ns.has_source_lla;
      out->lla = ns.source_lla;
      return true;
    }
    case kIcmp6NeighborAdvert: {
      NeighborAdvert na;
      if (!parse_neighbor_advert(icmp, l4_len, src, dst, out->hop_limit, &na, why)) return false;
      out->kind = FrameKind::kNeighborAdvert;
      std::memcpy(out->nd_target, na.target, 16);
      out->has_lla = na.has_target_lla;
      out->lla = na.target_lla;
      out->na_router = na.router;
      out->na_solicited = na.solicited;
      out->na_override = na.override_flag;
      return true;
    }
    default:
      if (!icmp6_checksum_ok(icmp, l4_len, src, dst)) return fail(why, Drop::kBadChecksum);
      if (icmp[0] == kIcmp6EchoRequest && icmp[1] == 0 && l4_len >= kIcmpHeaderLen) {
        out->kind = FrameKind::kIcmpEchoV6;
      } else {
        out->kind = FrameKind::kOther;
      }
      return true;
  }
}

bool parse_ipv6_frame(const uint8_t* frame, uint32_t len, const RxVerified& hw, FrameInfo* out,
                      Drop* why) {
  const uint32_t l3 = out->l3_offset;
  Ipv6Header ip;
  if (!parse_ipv6(frame + l3, len - l3, &ip, why)) return false;
  if (ip.fragment) return fail(why, Drop::kIpFragment);
  out->l3_len = kIpv6HeaderLen + ip.payload_len;
  out->hop_limit = ip.hop_limit;
  out->ip_proto = ip.next_header;
  out->l4_offset = uint16_t(l3 + ip.header_len);
  set_endpoint(&out->src, Family::kIpv6, ip.src, 0);
  set_endpoint(&out->dst, Family::kIpv6, ip.dst, 0);
  const uint32_t l4_len = out->l3_len - ip.header_len;
  switch (ip.next_header) {
    case kIpProtoUdp:
      return parse_udp_frame<true>(frame, l4_len, hw, out, why);
    case kIpProtoIcmpv6:
      return parse_icmp6_frame(frame, l4_len, out, why);
    default:
      return fail(why, Drop::kUnsupportedL4);
  }
}

}  // namespace

bool parse_frame(const uint8_t* frame, uint32_t len, FrameInfo* out, Drop* why) {
  return parse_frame(frame, len, RxVerified{}, out, why);
}

bool parse_frame(const uint8_t* frame, uint32_t len, const RxVerified& hw, FrameInfo* out,
                 Drop* why) {
  EthernetHeader eth;
  if (!parse_ethernet(frame, len, &eth)) {
    // parse_ethernet fails either on a short frame or on a third VLAN tag; the
    // latter is only reached once 22 bytes (two tags + type) were readable.
    return fail(why, len >= kEthernetHeaderLen + kMaxVlanTags * kVlanTagLen ? Drop::kUnsupportedL3
                                                                            : Drop::kRuntFrame);
  }
  // Offsets are 16-bit: frames beyond 64 KiB are not Ethernet.
  if (len > 0xffff) len = 0xffff;
  out->kind = FrameKind::kOther;
  out->src_mac = eth.src;
  out->dst_mac = eth.dst;
  out->ethertype = eth.ethertype;
  out->vlan_tci = eth.vlan_tci;
  out->vlan_tags = eth.vlan_tags;
  out->ip_proto = 0;
  out->hop_limit = 0;
  out->arp_op = 0;
  out->l3_offset = uint16_t(eth.header_len);
  out->l4_offset = 0;
  out->payload_offset = 0;
  out->payload_len = 0;
  out->l3_len = 0;
  out->has_lla = false;
  out->na_router = out->na_solicited = out->na_override = false;
  switch (eth.ethertype) {
    case kEtherTypeIpv4:
      return parse_ipv4_frame(frame, len, hw, out, why);
    case kEtherTypeIpv6:
      return parse_ipv6_frame(frame, len, hw, out, why);
    case kEtherTypeArp:
      return parse_arp_frame(frame, len, out, why);
    default:
      return fail(why, Drop::kUnsupportedL3);
  }
}

namespace {
// The UDP checksum field of a datagram being sent (header written, payload in
// place): the pseudo-header sum for the NIC to finish (offload), else the
// checksum, from the payload's carried sum when there is one.
uint16_t udp_checksum_field(const uint8_t* udp, uint32_t len, const Endpoint& local,
                            const Endpoint& remote, bool sw, uint32_t payload_sum) {
  const bool v4 = local.family == Family::kIpv4;
  const uint8_t* s = local.addr;
  const uint8_t* d = remote.addr;
  if (!sw) {
    return checksum_fold(v4 ? pseudo_header_sum_v4(s, d, kIpProtoUdp, len)
                            : pseudo_header_sum_v6(s, d, kIpProtoUdp, len));
  }
  if (payload_sum != kNoSum) {
    return v4 ? udp_checksum_from_sum_v4(udp, len, s, d, payload_sum)
              : udp_checksum_from_sum_v6(udp, len, s, d, payload_sum);
  }
  return v4 ? udp_checksum_v4(udp, len, s, d) : udp_checksum_v6(udp, len, s, d);
}
}  // namespace

bool write_udp_headers(uint8_t* hdr, const MacAddr& src_mac, const MacAddr& dst_mac,
                       const Endpoint& local, const Endpoint& remote, uint32_t payload_len,
                       TxChecksum csum, uint8_t ttl, uint32_t payload_sum) {
  if (local.family != remote.family || payload_len > udp_max_payload(local.family)) {
    return false;
  }
  const uint32_t udp_len = kUdpHeaderLen + payload_len;
  const bool sw = csum == TxChecksum::kSoftware;
  if (local.family == Family::kIpv4) {
    write_ethernet(hdr, dst_mac, src_mac, kEtherTypeIpv4);
    uint8_t* udp = hdr + kEthernetHeaderLen + kIpv4HeaderLen;
    write_ipv4(hdr + kEthernetHeaderLen, local.addr, remote.addr, kIpProtoUdp, ttl, udp_len, sw);
    write_udp(udp, local.port, remote.port, udp_len);
    store_be16(udp + 6, udp_checksum_field(udp, udp_len, local, remote, sw, payload_sum));
    return true;
  }
  if (local.family == Family::kIpv6) {
    write_ethernet(hdr, dst_mac, src_mac, kEtherTypeIpv6);
    uint8_t* udp = hdr + kEthernetHeaderLen + kIpv6HeaderLen;
    write_ipv6(hdr + kEthernetHeaderLen, local.addr, remote.addr, kIpProtoUdp, ttl, udp_len);
    write_udp(udp, local.port, remote.port, udp_len);
    store_be16(udp + 6, udp_checksum_field(udp, udp_len, local, remote, sw, payload_sum));
    return true;
  }
  return false;
}

bool prepend_udp_headers(Packet* pkt, const MacAddr& src_mac, const MacAddr& dst_mac,
                         TxChecksum csum, uint8_t ttl) {
  const uint32_t n = udp_headers_len(pkt->local.family);
  if (n == 0 || n > pkt->off) return false;
  if (!write_udp_headers(pkt->data() - n, src_mac, dst_mac, pkt->local, pkt->remote, pkt->len, csum,
                         ttl, pkt->tx_sum)) {
    return false;
  }
  pkt->prepend(n);
  return true;
}

uint32_t build_arp_reply(uint8_t* frame, const FrameInfo& info, const MacAddr& our_mac) {
  if (info.kind != FrameKind::kArp || info.arp_op != kArpOpRequest) return 0;
  ethernet_reply_in_place(frame, our_mac);
  arp_reply_in_place(frame + info.l3_offset, our_mac);
  return info.l3_offset + kArpLen;
}

namespace {
constexpr uint8_t kReplyHopLimit = 64;

void swap_bytes(uint8_t* a, uint8_t* b, uint32_t n) {
  uint8_t t[16];
  std::memcpy(t, a, n);
  std::memcpy(a, b, n);
  std::memcpy(b, t, n);
}
}  // namespace

uint32_t build_icmp_echo_reply(uint8_t* frame, const FrameInfo& info, const MacAddr& our_mac,
                               const uint8_t* our_ip6) {
  const uint32_t l3 = info.l3_offset;
  uint8_t* ip = frame + l3;
  if (info.kind == FrameKind::kIcmpEchoV4) {
    const uint32_t icmp_len = info.l3_len - (info.l4_offset - l3);
    // Options (record route, source route) are not echoed: move the ICMP
    // message up behind a plain 20-byte header.
    if (info.l4_offset != l3 + kIpv4HeaderLen) {
      std::memmove(ip + kIpv4HeaderLen, frame + info.l4_offset, icmp_len);
    }
    ethernet_reply_in_place(frame, our_mac);
    ip[0] = 0x45;
    store_be16(ip + 2, uint16_t(kIpv4HeaderLen + icmp_len));
    swap_bytes(ip + 12, ip + 16, 4);
    ip[8] = kReplyHopLimit;
    ipv4_fill_checksum(ip);
    icmp4_echo_to_reply(ip + kIpv4HeaderLen);
    return l3 + kIpv4HeaderLen + icmp_len;
  }
  if (info.kind == FrameKind::kIcmpEchoV6) {
    const uint32_t icmp_len = info.l3_len - (info.l4_offset - l3);
    uint8_t* icmp = ip + kIpv6HeaderLen;
    // Extension headers (a routing header above all) are not echoed.
    if (info.l4_offset != l3 + kIpv6HeaderLen) {
      std::memmove(icmp, frame + info.l4_offset, icmp_len);
    }
    ethernet_reply_in_place(frame, our_mac);
    store_be16(ip + 4, uint16_t(icmp_len));
    ip[6] = kIpProtoIcmpv6;
    ip[7] = kReplyHopLimit;
    swap_bytes(ip + 8, ip + 24, 16);
    if (ipv6_is_multicast(ip + 8) && our_ip6 != nullptr) {
      std::memcpy(ip + 8, our_ip6, 16);
      icmp[0] = kIcmp6EchoReply;
      icmp6_fill_checksum(icmp, icmp_len, ip + 8, ip + 24);
    } else {
      icmp6_echo_to_reply(icmp);  // swapped pseudo-header sums the same
    }
    return l3 + kIpv6HeaderLen + icmp_len;
  }
  return 0;
}

uint32_t build_neighbor_advert(uint8_t* frame, uint32_t capacity, const FrameInfo& info,
                               const MacAddr& our_mac) {
  if (info.kind != FrameKind::kNeighborSolicit) return 0;
  const uint32_t l3 = info.l3_offset;
  const uint32_t na_len = kNdMessageLen + kNdLlaOptionLen;
  if (capacity < l3 + kIpv6HeaderLen + na_len) return 0;
  // RFC 4861 §7.2.4: to the solicitor, or to all-nodes if it was doing DAD
  // from the unspecified address (then not solicited).
  const bool dad = ipv6_is_unspecified(info.src.addr);
  uint8_t dst_ip[16];
  std::memcpy(dst_ip, dad ? kIpv6AllNodes : info.src.addr, 16);
  const MacAddr dst_mac =
      dad ? ipv6_multicast_mac(kIpv6AllNodes) : (info.has_lla ? info.lla : info.src_mac);
  const uint8_t flags = uint8_t(kNaFlagOverride | (dad ? 0 : kNaFlagSolicited));
  // Only the MACs change: the NS was IPv6, so the ethertype after any VLAN
  // tags already is, and the tags are kept.
  dst_mac.store(frame);
  our_mac.store(frame + 6);
  uint8_t* ip = frame + l3;
  write_ipv6(ip, info.nd_target, dst_ip, kIpProtoIcmpv6, kNdHopLimit, na_len);
  write_neighbor_advert(ip + kIpv6HeaderLen, info.nd_target, dst_ip, info.nd_target, our_mac,
                        flags);
  return l3 + kIpv6HeaderLen + na_len;
}

uint32_t build_arp_request(uint8_t* frame, uint32_t capacity, const MacAddr& our_mac,
                           const uint8_t our_ip[4], const uint8_t target_ip[4]) {
  if (capacity < kEthernetHeaderLen + kArpLen) return 0;
  write_ethernet(frame, MacAddr::broadcast(), our_mac, kEtherTypeArp);
  write_arp_request(frame + kEthernetHeaderLen, our_mac, our_ip, target_ip);
  return kEthernetHeaderLen + kArpLen;
}

uint32_t build_neighbor_solicit(uint8_t* frame, uint32_t capacity, const MacAddr& our_mac,
                                const uint8_t our_ip[16], const uint8_t target[16]) {
  const uint32_t ns_len = kNdMessageLen + kNdLlaOptionLen;
  if (capacity < kEthernetHeaderLen + kIpv6HeaderLen + ns_len) return 0;
  uint8_t dst_ip[16];
  solicited_node_multicast(target, dst_ip);
  write_ethernet(frame, ipv6_multicast_mac(dst_ip), our_mac, kEtherTypeIpv6);
  uint8_t* ip = frame + kEthernetHeaderLen;
  write_ipv6(ip, our_ip, dst_ip, kIpProtoIcmpv6, kNdHopLimit, ns_len);
  write_neighbor_solicit(ip + kIpv6HeaderLen, our_ip, dst_ip, target, our_mac);
  return kEthernetHeaderLen + kIpv6HeaderLen + ns_len;
}

}  // namespace tern
