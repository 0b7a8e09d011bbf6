#include "engine/rtp/rtcp_feedback.h"

#include <cstring>

namespace tern {
namespace rtp {

namespace {
void write_feedback_header(uint8_t* buf, uint8_t fmt, uint8_t type, size_t size, uint32_t sender,
                           uint32_t media) {
  write_rtcp_header(buf, fmt, type, size);
  store_be32(buf + 4, sender);
  store_be32(buf + 8, media);
}
}  // namespace

// ---- NACK -------------------------------------------------------------------------

bool NackPacket::parse(const RtcpPacket& p) {
  if (!is_feedback(p, rtcp_type::kRtpfb, fb_fmt::kNack)) return false;
  const uint32_t fci = p.body_size - 8;
  if (fci == 0 || fci % 4 != 0) return false;
  sender_ = feedback_sender_ssrc(p);
  media_ = feedback_media_ssrc(p);
  fci_ = p.body + 8;
  items_ = fci / 4;
  return true;
}

size_t NackPacket::lost(uint16_t* out, size_t cap) const {
  size_t n = 0;
  auto put = [&](uint16_t s) {
    if (n < cap) out[n] = s;
    ++n;
  };
  for (size_t i = 0; i < items_; ++i) {
    const uint16_t p = pid(i), b = blp(i);
    put(p);
    for (int bit = 0; bit < 16; ++bit) {
      if (b & (1u << bit)) put(uint16_t(p + bit + 1));
    }
  }
  return n;
}

size_t write_nack(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                  absl::Span<const uint16_t> lost) {
  if (lost.empty() || cap < 12) return 0;
  size_t size = 12;
  uint16_t pid = 0, blp = 0;
  bool open = false;
  auto flush = [&]() -> bool {
    if (size + 4 > cap || size + 4 > 4 * 65536) return false;
    store_be16(buf + size, pid);
    store_be16(buf + size + 2, blp);
    size += 4;
    return true;
  };
  for (uint16_t s : lost) {
    if (open) {
      const uint16_t d = uint16_t(s - pid);
      if (d == 0) continue;
      if (d <= 16) {
        blp = uint16_t(blp | 1u << (d - 1));
        continue;
      }
      if (!flush()) return 0;
    }
    pid = s;
    blp = 0;
    open = true;
  }
  if (!flush()) return 0;
  write_feedback_header(buf, fb_fmt::kNack, rtcp_type::kRtpfb, size, sender_ssrc, media_ssrc);
  return size;
}

// ---- PLI / FIR ------------------------------------------------------------------

size_t write_pli(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc) {
  if (cap < 12) return 0;
  write_feedback_header(buf, fb_fmt::kPli, rtcp_type::kPsfb, 12, sender_ssrc, media_ssrc);
  return 12;
}

bool FirPacket::parse(const RtcpPacket& p) {
  if (!is_feedback(p, rtcp_type::kPsfb, fb_fmt::kFir)) return false;
  const uint32_t fci = p.body_size - 8;
  if (fci == 0 || fci % 8 != 0) return false;
  sender_ = feedback_sender_ssrc(p);
  fci_ = p.body + 8;
  entries_ = fci / 8;
  return true;
}

size_t write_fir(uint8_t* buf, size_t cap, uint32_t sender_ssrc,
                 absl::Span<const FirEntry> entries) {
  const size_t size = 12 + 8 * entries.size();
  if (entries.empty() || size > cap || size > 4 * 65536) return 0;
  write_feedback_header(buf, fb_fmt::kFir, rtcp_type::kPsfb, size, sender_ssrc, 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    uint8_t* e = buf + 12 + 8 * i;
    store_be32(e, entries[i].ssrc);
    store_be32(e + 4, uint32_t(entries[i].seq_nr) << 24);
  }
  return size;
}

// ---- REMB ---------------------------------------------------------------------------

bool RembPacket::parse(const RtcpPacket& p) {
  if (!is_feedback(p, rtcp_type::kPsfb, fb_fmt::kAfb) || p.body_size < 16) return false;
  const uint8_t* f = p.body + 8;
  if (std::memcmp(f, "REMB", 4) != 0) return false;
  const uint8_t n = f[4];
  if (16u + 4u * n > p.body_size) return false;
  const uint32_t exp = f[5] >> 2;
  const uint64_t mantissa = uint64_t(f[5] & 0x03) << 16 | uint64_t(f[6]) << 8 | f[7];
  // An 18-bit mantissa shifted by up to 63: saturate rather than wrap.
  bitrate_ = (exp > 46 && (mantissa >> (64 - exp)) != 0) ? UINT64_MAX : mantissa << exp;
  sender_ = feedback_sender_ssrc(p);
  count_ = n;
  ssrcs_ = f + 8;
  return true;
}

size_t write_remb(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                  absl::Span<const uint32_t> ssrcs) {
  const size_t size = 20 + 4 * ssrcs.size();
  if (ssrcs.size() > 255 || size > cap) return 0;
  uint32_t exp = 0;
  while ((bitrate_bps >> exp) > 0x3FFFF) ++exp;
  const uint32_t mantissa = uint32_t(bitrate_bps >> exp);
  write_feedback_header(buf, fb_fmt::kAfb, rtcp_type::kPsfb, size, sender_ssrc, 0);
  std::memcpy(buf + 12, "REMB", 4);
  buf[16] = uint8_t(ssrcs.size());
  buf[17] = uint8_t(exp << 2 | mantissa >> 16);
  store_be16(buf + 18, uint16_t(mantissa));
  for (size_t i = 0; i < ssrcs.size(); ++i) store_be32(buf + 20 + 4 * i, ssrcs[i]);
  return size;
}

// ---- transport-cc -------------------------------------------------------------------

namespace {

// Symbols a chunk carries (before clipping to the status count).
uint32_t chunk_symbols(uint16_t c) {
  if (!(c & 0x8000)) return c & 0x1FFF;  // run length
  return (c & 0x4000) ? 7 : 14;
}
uint8_t chunk_symbol(uint16_t c, uint32_t i) {
  if (!(c & 0x8000)) return (c >> 13) & 3;
  if (c & 0x4000) return (c >> (12 - 2 * i)) & 3;
  return (c >> (13 - i)) & 1;
}
uint32_t delta_bytes(uint8_t symbol) { return symbol == 1 ? 1 : symbol == 2 ? 2 : 0; }

}  // namespace

bool TransportCcPacket::parse(const RtcpPacket& p) {
  if (!is_feedback(p, rtcp_type::kRtpfb, fb_fmt::kTransportCc) || p.body_size < 16) return false;
  const uint8_t* b = p.body;
  const uint16_t count = load_be16(b + 10);
  uint32_t pos = 16, covered = 0, deltas = 0, chunks = 0;
  while (covered < count) {
    if (pos + 2 > p.body_size) return false;
    const uint16_t c = load_be16(b + pos);
    pos += 2;
    ++chunks;
    uint32_t n = chunk_symbols(c);
    if (n > count - covered) n = count - covered;
    if (!(c & 0x8000)) {
      deltas += n * delta_bytes(chunk_symbol(c, 0));
    } else {
      for (uint32_t i = 0; i < n; ++i) deltas += delta_bytes(chunk_symbol(c, i));
    }
    covered += n;
  }
  if (pos + deltas > p.body_size) return false;
  body_ = b;
  sender_ = feedback_sender_ssrc(p);
  media_ = feedback_media_ssrc(p);
  base_ = load_be16(b + 8);
  count_ = count;
  const uint32_t ref = uint32_t(b[12]) << 16 | uint32_t(b[13]) << 8 | b[14];
  ref_ = int32_t(ref << 8) >> 8;
  fb_count_ = b[15];
  chunks_ = chunks;
  return true;
}

TransportCcPacket::Reader::Reader(const TransportCcPacket& p)
    : p_(p), delta_pos_(16 + 2 * uint32_t(p.chunks_)), ticks_(int64_t(p.ref_) * 256) {}

bool TransportCcPacket::Reader::next(TccPacketStatus* out) {
  if (p_.body_ == nullptr || index_ >= p_.count_) return false;
  uint16_t c = p_.chunk(chunk_);
  while (in_chunk_ >= chunk_symbols(c)) {  // parse() guarantees a later chunk
    ++chunk_;
    in_chunk_ = 0;
    c = p_.chunk(chunk_);
  }
  const uint8_t sym = chunk_symbol(c, in_chunk_);
  ++in_chunk_;
  out->seq = uint16_t(p_.base_ + index_);
  out->status = static_cast<TccStatus>(sym);
  if (sym == 1) {
    ticks_ += p_.body_[delta_pos_];
    delta_pos_ += 1;
  } else if (sym == 2) {
    ticks_ += int16_t(load_be16(p_.body_ + delta_pos_));
    delta_pos_ += 2;
  }
  out->arrival_ticks = ticks_;
  ++index_;
  return true;
}

size_t write_transport_cc(uint8_t* buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint8_t fb_count, absl::Span<const TccArrival> packets,
                          size_t* consumed) {
  *consumed = 0;
  if (packets.empty() || cap < 20 + 2 + 4) return 0;
  // 1. Symbols per status, and how many inputs they can carry.
  uint8_t sym[kTccMaxStatuses];
  const uint16_t base = packets[0].seq;
  const int64_t ref = packets[0].arrival / kTccReferenceUnit;
  int64_t prev_tick = ref * 256;
  uint32_t n = 0;  // statuses
  size_t inputs = 0;
  for (const TccArrival& a : packets) {
    const uint32_t off = uint16_t(a.seq - base);
    if (inputs != 0 && off < n) {  // not above the previous: skip
      ++inputs;
      continue;
    }
    // Too far ahead (or behind the base): left for the next message, where
    // it can be the base.
    if (off >= kTccMaxStatuses) break;
    const int64_t tick = a.arrival / kTccTick;
    const int64_t d = tick - prev_tick;
    uint8_t s;
    if (d >= 0 && d <= 255) {
      s = 1;
    } else if (d >= -32768 && d <= 32767) {
      s = 2;
    } else {
      break;
    }
    std::memset(sym + n, 0, off - n);
    sym[off] = s;
    n = off + 1;
    prev_tick = tick;
    ++inputs;
  }
  if (n == 0) return 0;

  // 2. Chunks, greedy, written straight into the packet; stop at the last
  // chunk whose deltas still fit.
  uint32_t pos = 20, covered = 0, deltas = 0;
  while (covered < n) {
    const uint32_t left = n - covered;
    uint32_t run = 1;
    while (run < left && run < 0x1FFF && sym[covered + run] == sym[covered]) ++run;
    uint16_t c;
    uint32_t take, cost = 0;
    bool one_bit = true;
    for (uint32_t i = 0; i < 14 && i < left; ++i) one_bit &= sym[covered + i] <= 1;
    if (run >= 14 || run == left || (run >= 7 && !one_bit)) {
      take = run;
      c = uint16_t(sym[covered] << 13 | run);
      cost = run * delta_bytes(sym[covered]);
    } else if (one_bit) {
      take = left < 14 ? left : 14;
      c = 0x8000;
      for (uint32_t i = 0; i < take; ++i) {
        c = uint16_t(c | sym[covered + i] << (13 - i));
        cost += sym[covered + i];
      }
    } else {
      take = left < 7 ? left : 7;
      c = 0xC000;
      for (uint32_t i = 0; i < take; ++i) {
        c = uint16_t(c | sym[covered + i] << (12 - 2 * i));
        cost += delta_bytes(sym[covered + i]);
      }
    }
    if (((pos + 2 + deltas + cost + 3) & ~3u) > cap) {
      // A long run of received packets may still fit in part.
      const uint32_t per = (c & 0x8000) ? 0 : delta_bytes(sym[covered]);
      const uint32_t room = uint32_t(cap & ~size_t(3));
      if (per == 0 || pos + 2 + deltas + per > room) break;
      take = (room - pos - 2 - deltas) / per;
      c = uint16_t(sym[covered] << 13 | take);
      cost = take * per;
    }
    store_be16(buf + pos, c);
    pos += 2;
    deltas += cost;
    covered += take;
  }
  if (covered == 0) return 0;

  // 3. Deltas for the covered statuses, recomputed from the inputs.
  prev_tick = ref * 256;
  size_t used = 0;
  uint32_t last = 0;
  for (const TccArrival& a : packets) {
    const uint32_t off = uint16_t(a.seq - base);
    if (used != 0 && off <= last) {
      ++used;
      continue;
    }
    if (off >= covered) break;
    const int64_t tick = a.arrival / kTccTick;
    const int64_t d = tick - prev_tick;
    if (sym[off] == 1) {
      buf[pos++] = uint8_t(d);
    } else {
      store_be16(buf + pos, uint16_t(int16_t(d)));
      pos += 2;
    }
    prev_tick = tick;
    last = off;
    ++used;
  }
  const size_t size = (pos + 3) & ~size_t(3);
  std::memset(buf + pos, 0, size - pos);
  write_feedback_header(buf, fb_fmt::kTransportCc, rtcp_type::kRtpfb, size, sender_ssrc,
                        media_ssrc);
  store_be16(buf + 12, base);
  store_be16(buf + 14, uint16_t(covered));
  buf[16] = uint8_t(ref >> 16);
  buf[17] = uint8_t(ref >> 8);
  buf[18] = uint8_t(ref);
  buf[19] = fb_count;
  *consumed = used;
  return size;
}

}  // namespace rtp
}  // namespace tern
