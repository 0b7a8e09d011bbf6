#include "engine/net/arp.h"

#include <cstring>

#include "engine/net/bytes.h"

namespace tern {

bool parse_arp(const uint8_t* p, uint32_t len, ArpPacket* out) {
  if (len < kArpLen) return false;
  if (load_be16(p) != 1 || load_be16(p + 2) != kEtherTypeIpv4 || p[4] != 6 || p[5] != 4) {
    return false;
  }
  out->op = load_be16(p + 6);
  if (out->op != kArpOpRequest && out->op != kArpOpReply) return false;
  out->sha = MacAddr::load(p + 8);
  std::memcpy(out->spa, p + 14, 4);
  out->tha = MacAddr::load(p + 18);
  std::memcpy(out->tpa, p + 24, 4);
  return true;
}

void write_arp(uint8_t* p, uint16_t op, const MacAddr& sha, const uint8_t spa[4],
               const MacAddr& tha, const uint8_t tpa[4]) {
  store_be16(p, 1);
  store_be16(p + 2, kEtherTypeIpv4);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, op);
  sha.store(p + 8);
  std::memcpy(p + 14, spa, 4);
  tha.store(p + 18);
  std::memcpy(p + 24, tpa, 4);
}

void arp_reply_in_place(uint8_t* p, const MacAddr& our_mac) {
  uint8_t requested[4];
  std::memcpy(requested, p + 24, 4);
  store_be16(p + 6, kArpOpReply);
  std::memcpy(p + 18, p + 8, 10);  // tha,tpa <- sha,spa
  our_mac.store(p + 8);
  std::memcpy(p + 14, requested, 4);
}

}  // namespace tern
