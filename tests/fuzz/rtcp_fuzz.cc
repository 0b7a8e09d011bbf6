// Fuzz target for RTCP: compound validation and every parser (SR/RR, SDES,
// BYE, NACK, PLI, FIR, REMB, transport-cc), with re-encoding round trips
// where the codec can rebuild what it read. Invariants trap.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtcp_feedback.h"

namespace {

using namespace tern;
using namespace tern::rtp;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

RtcpPacket single(const std::vector<uint8_t>& buf, size_t n) {
  RtcpCompound c;
  check(c.parse(buf.data(), n) == RtcpError::kOk && c.packet_count() == 1);
  return *c.begin();
}

void reports(const RtcpPacket& p) {
  ReportPacket r;
  if (!r.parse(p)) return;
  std::vector<ReportBlock> blocks;
  for (size_t i = 0; i < r.block_count(); ++i) blocks.push_back(r.block(i));
  std::vector<uint8_t> out(1024);
  const size_t n =
      r.is_sender_report()
          ? write_sender_report(out.data(), out.size(), r.ssrc(), r.sender_info(), blocks)
          : write_receiver_report(out.data(), out.size(), r.ssrc(), blocks);
  check(n != 0);
  // Byte-identical up to the blocks (profile extensions and padding are not rebuilt).
  check(n <= p.body_size + kRtcpHeaderSize);
  check(std::memcmp(out.data() + 4, p.body, n - 4) == 0);
}

void sdes_items(const RtcpPacket& p) {
  SdesReader r(p);
  SdesItem item;
  int items = 0;
  while (r.next(&item) && items < 1000) {
    check(item.text.data() >= reinterpret_cast<const char*>(p.body) &&
          item.text.data() + item.text.size() <=
              reinterpret_cast<const char*>(p.body) + p.body_size);
    ++items;
  }
  uint32_t ssrc;
  absl::string_view cname;
  if (read_sdes_cname(p, &ssrc, &cname)) {
    std::vector<uint8_t> out(300);
    const size_t n = write_sdes_cname(out.data(), out.size(), ssrc, cname);
    check(n != 0);
    uint32_t s2;
    absl::string_view c2;
    check(read_sdes_cname(single(out, n), &s2, &c2) && s2 == ssrc && c2 == cname);
  }
}

void bye(const RtcpPacket& p) {
  ByePacket b;
  if (!b.parse(p)) return;
  std::vector<uint32_t> ssrcs;
  for (size_t i = 0; i < b.ssrc_count(); ++i) ssrcs.push_back(b.ssrc(i));
  std::vector<uint8_t> out(512);
  const size_t n = write_bye(out.data(), out.size(), ssrcs, b.reason());
  check(n != 0);
  ByePacket b2;
  check(b2.parse(single(out, n)) && b2.ssrc_count() == ssrcs.size() && b2.reason() == b.reason());
}

void nack(const RtcpPacket& p) {
  NackPacket n;
  if (!n.parse(p)) return;
  std::vector<uint16_t> lost(17 * n.item_count());
  check(n.lost(lost.data(), lost.size()) == lost.size() - [&] {
    size_t missing = 0;
    for (size_t i = 0; i < n.item_count(); ++i) missing += 16 - __builtin_popcount(n.blp(i));
    return missing;
  }());
  lost.resize(n.lost(lost.data(), lost.size()));
  std::vector<uint8_t> out(4 * lost.size() + 16);
  const size_t len = write_nack(out.data(), out.size(), n.sender_ssrc(), n.media_ssrc(), lost);
  check(len != 0);
  NackPacket n2;
  check(n2.parse(single(out, len)));
  std::vector<uint16_t> again(17 * n2.item_count());
  again.resize(n2.lost(again.data(), again.size()));
  // Same set of sequence numbers.
  std::sort(lost.begin(), lost.end());
  lost.erase(std::unique(lost.begin(), lost.end()), lost.end());
  std::sort(again.begin(), again.end());
  again.erase(std::unique(again.begin(), again.end()), again.end());
  check(again == lost);
}

void psfb(const RtcpPacket& p) {
  FirPacket f;
  if (f.parse(p)) {
    std::vector<FirEntry> e;
    for (size_t i = 0; i < f.entry_count(); ++i) e.push_back(f.entry(i));
    std::vector<uint8_t> out(12 + 8 * e.size());
    const size_t n = write_fir(out.data(), out.size(), f.sender_ssrc(), e);
    check(n == out.size());
    FirPacket f2;
    check(f2.parse(single(out, n)) && f2.entry_count() == e.size());
  }
  RembPacket r;
  if (r.parse(p)) {
    std::vector<uint32_t> ssrcs;
    for (size_t i = 0; i < r.ssrc_count(); ++i) ssrcs.push_back(r.ssrc(i));
    std::vector<uint8_t> out(20 + 4 * ssrcs.size());
    const size_t n = write_remb(out.data(), out.size(), r.sender_ssrc(), r.bitrate_bps(), ssrcs);
    check(n == out.size());
    RembPacket r2;
    check(r2.parse(single(out, n)) && r2.ssrc_count() == ssrcs.size());
    // Re-encoding an exactly representable value is exact; a saturated
    // one rounds down.
    check(r2.bitrate_bps() <= r.bitrate_bps());
    if (r.bitrate_bps() != UINT64_MAX) check(r2.bitrate_bps() == r.bitrate_bps());
  }
}

void tcc(const RtcpPacket& p) {
  TransportCcPacket t;
  if (!t.parse(p)) return;
  TransportCcPacket::Reader r(t);
  TccPacketStatus s;
  std::vector<TccArrival> received;
  bool negative = false;
  size_t count = 0;
  while (r.next(&s)) {
    check(s.seq == uint16_t(t.base_seq() + count));
    ++count;
    if (s.status == TccStatus::kSmallDelta || s.status == TccStatus::kLargeDelta) {
      if (s.arrival_ticks < 0) negative = true;
      received.push_back({s.seq, s.arrival()});
    }
  }
  check(count == t.status_count());
  if (negative || received.empty()) return;
  // Deltas may go backwards (large negative); the builder handles that too
  // but only within 16 bits of the previous, as the source had to.
  std::vector<uint8_t> out(2048);
  size_t consumed = 0;
  const size_t n = write_transport_cc(out.data(), out.size(), t.sender_ssrc(), t.media_ssrc(),
                                      t.fb_count(), received, &consumed);
  check(n != 0 && consumed >= 1 && consumed <= received.size());
  TransportCcPacket t2;
  check(t2.parse(single(out, n)));
  TransportCcPacket::Reader r2(t2);
  size_t k = 0;
  while (r2.next(&s)) {
    if (!s.received()) continue;
    check(k < consumed && s.seq == received[k].seq && s.arrival() == received[k].arrival);
    ++k;
  }
  check(k == consumed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RtcpCompound c;
  if (c.parse(data, size) != RtcpError::kOk) {
    check(!c.valid());
    return 0;
  }
  size_t total = 0, count = 0;
  for (RtcpPacket p : c) {
    check(p.size >= kRtcpHeaderSize && p.size % 4 == 0 && p.body_size + 4 <= p.size);
    total += p.size;
    ++count;
    reports(p);
    sdes_items(p);
    bye(p);
    if (p.type == rtcp_type::kRtpfb) {
      nack(p);
      tcc(p);
    }
    if (p.type == rtcp_type::kPsfb) psfb(p);
  }
  check(total == size && count == c.packet_count());
  return 0;
}
