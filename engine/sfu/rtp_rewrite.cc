#include "engine/sfu/rtp_rewrite.h"

#include <cstring>

#include "engine/net/bytes.h"

namespace tern::sfu {

rtp::ExtensionIdTable make_passthrough_table(const RtpExtensionIds& producer,
                                             const RtpExtensionIds& consumer) {
  rtp::ExtensionIdTable t{};
  if (producer.audio_level != 0) t[producer.audio_level] = consumer.audio_level;
  return t;
}

namespace {

struct Element {
  uint8_t id;
  uint8_t len;
  const uint8_t* value;  // null: write `scratch`
  uint8_t scratch[4];
};

}  // namespace

size_t write_rewritten(uint8_t* out, size_t cap, const rtp::RtpView& in, const RewriteSpec& s) {
  Element el[kMaxElements];
  int n = 0;
  if (s.ext_table != nullptr && in.has_extension()) {
    rtp::ExtensionReader r(in);
    rtp::Extension e;
    while (n < kMaxElements - 3 && r.next(&e)) {
      const uint8_t to = (*s.ext_table)[e.id];
      if (to != 0) el[n++] = Element{to, e.size, e.value, {}};
    }
  }
  if (s.mid_id != 0 && s.mid_len >= 1 && s.mid_len <= 16) {
    el[n++] = Element{s.mid_id, s.mid_len, reinterpret_cast<const uint8_t*>(s.mid), {}};
  }
  if (s.abs_send_time_id != 0) {
    Element& a = el[n++];
    a = Element{s.abs_send_time_id, 3, nullptr, {}};
    a.scratch[0] = uint8_t(s.abs_send_time >> 16);
    a.scratch[1] = uint8_t(s.abs_send_time >> 8);
    a.scratch[2] = uint8_t(s.abs_send_time);
  }
  if (s.transport_cc_id != 0) {
    Element& a = el[n++];
    a = Element{s.transport_cc_id, 2, nullptr, {}};
    store_be16(a.scratch, s.transport_cc_seq);
  }
  bool one_byte = true;
  size_t ext_bytes = 0;
  for (int i = 0; i < n; ++i) {
    if (el[i].id > rtp::kOneByteMaxId || el[i].len < 1 || el[i].len > 16) one_byte = false;
  }
  for (int i = 0; i < n; ++i) ext_bytes += el[i].len + (one_byte ? 1 : 2);
  const size_t ext_words = (ext_bytes + 3) / 4;

  const size_t csrc_bytes = 4 * size_t(in.csrc_count());
  const size_t hdr = rtp::kRtpHeaderSize + csrc_bytes + (n ? 4 + 4 * ext_words : 0);
  const uint8_t* body = in.data() + in.payload_offset();
  const size_t body_len = in.size() - in.payload_offset();  // payload + padding
  const size_t osn_len = s.osn >= 0 ? 2 : 0;
  const size_t total = hdr + osn_len + body_len;
  if (total > cap) return 0;

  const uint8_t* src = in.data();
  out[0] = uint8_t((src[0] & 0xEF) | (n ? 0x10 : 0));  // V, P, CC kept; X ours
  out[1] = uint8_t((src[1] & 0x80) | (s.pt & 0x7F));
  store_be16(out + 2, s.seq);
  store_be32(out + 4, s.timestamp);
  store_be32(out + 8, s.ssrc);
  if (csrc_bytes) std::memcpy(out + 12, src + 12, csrc_bytes);
  size_t pos = 12 + csrc_bytes;
  if (n) {
    store_be16(out + pos, one_byte ? rtp::kOneByteProfile : rtp::kTwoByteProfile);
    store_be16(out + pos + 2, uint16_t(ext_words));
    pos += 4;
    const size_t end = pos + 4 * ext_words;
    for (int i = 0; i < n; ++i) {
      const Element& e = el[i];
      if (one_byte) {
        out[pos++] = uint8_t((e.id << 4) | (e.len - 1));
      } else {
        out[pos++] = e.id;
        out[pos++] = e.len;
      }
      std::memcpy(out + pos, e.value != nullptr ? e.value : e.scratch, e.len);
      pos += e.len;
    }
    while (pos < end) out[pos++] = 0;  // padding bytes (RFC 8285 §4.1)
  }
  if (osn_len) {
    store_be16(out + pos, uint16_t(s.osn));
    pos += 2;
  }
  std::memcpy(out + pos, body, body_len);
  return pos + body_len;
}

}  // namespace tern::sfu
