// Fuzzes parse_frame() and, for frames it accepts, the in-place reply
// builders and write_udp_headers(), checking that every answer we build
// parses back as what it should be.
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/net/frame.h"

namespace {

using namespace tern;

const MacAddr kOurMac{{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};
const uint8_t kOurIp6[16] = {0xfd, 0x54, 0x74, 0x65, 0x72, 0x6e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Parses `f` and traps unless it is accepted as `want`.
FrameInfo reparse(const uint8_t* f, uint32_t len, FrameKind want) {
  FrameInfo fi;
  Drop why;
  check(parse_frame(f, len, &fi, &why));
  check(fi.kind == want);
  return fi;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 9000) return 0;  // jumbo frames at most
  FrameInfo info;
  Drop why = Drop::kCount;
  const uint32_t len = uint32_t(size);
  // The NIC-verified variant skips checksums only: it accepts a superset.
  FrameInfo hw_info;
  Drop hw_why = Drop::kCount;
  const bool hw_ok = parse_frame(data, len, RxVerified{true, true}, &hw_info, &hw_why);
  if (!parse_frame(data, len, &info, &why)) {
    check(why < Drop::kCount);
    check(hw_ok || hw_why == why || why == Drop::kBadChecksum);
    return 0;
  }
  check(hw_ok && hw_info.kind == info.kind && hw_info.payload_len == info.payload_len);
  // Offsets stay inside the frame.
  check(info.l3_offset + info.l3_len <= len);
  check(info.payload_offset + info.payload_len <= len || info.kind != FrameKind::kUdp);

  // Room for an NA longer than the NS it answers.
  std::vector<uint8_t> buf(size + 128);
  std::memcpy(buf.data(), data, size);
  const uint32_t cap = uint32_t(buf.size());
  switch (info.kind) {
    case FrameKind::kArp: {
      const uint32_t n = build_arp_reply(buf.data(), info, kOurMac);
      if (info.arp_op == 1) {
        check(n == info.l3_offset + 28u);
        FrameInfo r = reparse(buf.data(), n, FrameKind::kArp);
        check(r.arp_op == 2 && r.lla == kOurMac && r.src.same_addr(info.dst));
      } else {
        check(n == 0);
      }
      break;
    }
    case FrameKind::kIcmpEchoV4:
    case FrameKind::kIcmpEchoV6: {
      const uint32_t n = build_icmp_echo_reply(buf.data(), info, kOurMac, kOurIp6);
      check(n != 0 && n <= size);
      FrameInfo r = reparse(buf.data(), n, FrameKind::kOther);
      check(r.dst.same_addr(info.src) && r.dst_mac == info.src_mac);
      break;
    }
    case FrameKind::kNeighborSolicit: {
      const uint32_t n = build_neighbor_advert(buf.data(), cap, info, kOurMac);
      check(n == info.l3_offset + 72u);
      FrameInfo r = reparse(buf.data(), n, FrameKind::kNeighborAdvert);
      check(r.lla == kOurMac && std::memcmp(r.nd_target, info.nd_target, 16) == 0);
      break;
    }
    case FrameKind::kUdp: {
      // Re-wrap the payload with fresh headers, both checksum modes.
      const uint32_t h = udp_headers_len(info.dst.family);
      std::vector<uint8_t> out(h + info.payload_len);
      std::memcpy(out.data() + h, data + info.payload_offset, info.payload_len);
      check(write_udp_headers(out.data(), kOurMac, info.src_mac, info.dst, info.src,
                              info.payload_len, TxChecksum::kSoftware));
      FrameInfo r = reparse(out.data(), uint32_t(out.size()), FrameKind::kUdp);
      check(r.src == info.dst && r.dst == info.src && r.payload_len == info.payload_len);
      check(write_udp_headers(out.data(), kOurMac, info.src_mac, info.dst, info.src,
                              info.payload_len, TxChecksum::kOffload));
      break;
    }
    default:
      break;
  }
  return 0;
}
