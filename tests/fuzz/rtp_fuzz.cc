// Fuzz target for RTP: the view, RFC 8285 extension walk and typed readers,
// in-place rewriting (setters, id remap, erase) on a copy, rebuilding with
// RtpWriter, and the receive statistics. Invariants trap so libFuzzer and
// replay_main both report them.
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/rtp/rtp_stats.h"

namespace {

using namespace tern;
using namespace tern::rtp;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Ext {
  uint8_t id, size;
  std::vector<uint8_t> value;
  bool operator==(const Ext& o) const { return id == o.id && size == o.size && value == o.value; }
};

std::vector<Ext> walk(const RtpView& v, bool* malformed) {
  std::vector<Ext> out;
  ExtensionReader r(v);
  Extension e;
  while (r.next(&e)) {
    check(e.id != 0 && e.offset >= v.extension_offset() &&
          e.offset + e.size <= v.extension_offset() + v.extension_block().size());
    check(e.value == v.data() + e.offset);
    if (r.form() == ExtensionForm::kOneByte) check(e.id <= 14 && e.size >= 1 && e.size <= 16);
    out.push_back({e.id, e.size, std::vector<uint8_t>(e.value, e.value + e.size)});
    absl::string_view sv;
    uint32_t u32;
    uint16_t u16;
    bool voice;
    uint8_t level;
    (void)read_string_extension(e, &sv);
    if (read_abs_send_time(e, &u32)) check(u32 <= 0xFFFFFF);
    (void)read_transport_cc_seq(e, &u16);
    if (read_audio_level(e, &voice, &level)) check(level <= 127);
  }
  *malformed = r.malformed();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  RtpView v;
  if (v.parse(data, size) != RtpError::kOk) {
    check(!v.valid());
    return 0;
  }
  check(v.version() == 2 && v.size() == size);
  check(v.header_size() + v.payload_size() + v.padding_size() == size);
  check(v.header_size() >= kRtpHeaderSize + 4u * v.csrc_count());
  bool malformed = false;
  const std::vector<Ext> ext = walk(v, &malformed);
  for (const Ext& e : ext) {
    Extension f;
    check(find_extension(v, e.id, &f));  // first with that id
  }

  // In-place rewriting on a copy: the packet stays valid with the same
  // layout, and only the touched fields change.
  std::vector<uint8_t> copy(data, data + size);
  RtpPacket p;
  check(p.parse(copy.data(), copy.size()) == RtpError::kOk);
  const uint32_t salt = size >= 4 ? uint32_t(data[size - 1]) * 0x01010101u : 7;
  p.set_ssrc(v.ssrc() ^ salt);
  p.set_sequence(uint16_t(v.sequence() + salt));
  p.set_timestamp(v.timestamp() + salt);
  p.set_payload_type(uint8_t(salt & 0x7F));
  p.set_marker(!v.marker());
  ExtensionIdTable table;
  for (int i = 0; i < 256; ++i)
    table[i] = uint8_t(i * 7 + salt);  // some erase (0), some do not fit
  const RemapResult rr = remap_extension_ids(p, table);
  {
    RtpView again;
    check(again.parse(copy.data(), copy.size()) == RtpError::kOk);
    check(again.header_size() == v.header_size() && again.payload_size() == v.payload_size());
    check(again.ssrc() == (v.ssrc() ^ salt) && again.marker() != v.marker());
    check(std::memcmp(again.payload().data(), v.payload().data(), v.payload_size()) == 0);
    bool m2 = false;
    const std::vector<Ext> after = walk(again, &m2);
    if (!malformed) {
      check(!m2);
      check(after.size() + size_t(rr.erased) == ext.size());
      check(size_t(rr.rewritten + rr.erased) <= ext.size());
    }
  }
  if (!ext.empty()) {
    (void)rewrite_extension_id(p, table[ext[0].id], uint8_t(salt | 1));
    (void)erase_extension(p, uint8_t(salt | 1));
    RtpView again;
    check(again.parse(copy.data(), copy.size()) == RtpError::kOk);
  }

  // Rebuild with the writer: same header fields, extensions, payload.
  if (!malformed && ext.size() <= 64) {
    std::vector<uint8_t> out(size + 4 * ext.size() + 64);
    RtpWriter w(out.data(), out.size());
    std::vector<uint32_t> csrcs;
    for (int i = 0; i < v.csrc_count(); ++i) csrcs.push_back(v.csrc(i));
    RtpHeaderFields h;
    h.marker = v.marker();
    h.payload_type = v.payload_type();
    h.sequence = v.sequence();
    h.timestamp = v.timestamp();
    h.ssrc = v.ssrc();
    h.csrcs = csrcs;
    check(w.begin(h));
    for (const Ext& e : ext) check(w.add_extension(e.id, e.value.data(), e.size));
    const size_t n = w.finish(v.payload(), uint8_t(v.padding_size()));
    check(n != 0);
    RtpView r;
    check(r.parse(out.data(), n) == RtpError::kOk);
    check(r.sequence() == v.sequence() && r.ssrc() == v.ssrc() && r.csrc_count() == v.csrc_count());
    check(r.payload_size() == v.payload_size() && r.padding_size() == v.padding_size());
    bool m3 = true;
    check(walk(r, &m3) == ext && !m3);
  }

  // Statistics over a synthetic stream derived from the input.
  ReceiveStatistics stats(v.ssrc(), 90000);
  SeqUnwrapper u;
  int64_t prev = 0;
  for (size_t i = 0; i + 1 < size && i < 64; i += 2) {
    const uint16_t seq = uint16_t(v.sequence() + int8_t(data[i]));
    const int64_t e = u.unwrap(seq);
    check(uint16_t(e) == seq);
    if (i != 0) check(u.highest() >= prev);
    prev = u.highest();
    stats.on_packet(seq, v.timestamp() + data[i + 1] * 90u, Nanos(i) * kMillisecond);
  }
  ReportBlock b;
  stats.fill_report_block(kSecond, &b);
  check(b.ssrc == v.ssrc());
  return 0;
}
