#include "engine/rtp/rtp_extensions.h"

#include <cstring>

#include "absl/strings/str_format.h"

namespace tern {
namespace rtp {

ExtensionForm extension_form(const RtpView& v) {
  if (!v.valid() || !v.has_extension()) return ExtensionForm::kNone;
  const uint16_t p = v.extension_profile();
  if (p == kOneByteProfile) return ExtensionForm::kOneByte;
  if ((p & 0xFFF0) == kTwoByteProfile) return ExtensionForm::kTwoByte;
  return ExtensionForm::kNone;
}

ExtensionReader::ExtensionReader(const RtpView& v)
    : packet_(v.data()),
      pos_(uint32_t(v.extension_offset())),
      end_(uint32_t(v.extension_offset() + v.extension_block().size())),
      form_(extension_form(v)) {
  if (form_ == ExtensionForm::kNone) pos_ = end_;
}

bool ExtensionReader::next(Extension* out) {
  while (pos_ < end_) {
    const uint8_t b = packet_[pos_];
    if (b == 0) {  // padding byte (either form)
      ++pos_;
      continue;
    }
    uint32_t value_off, len;
    uint8_t id;
    if (form_ == ExtensionForm::kOneByte) {
      id = b >> 4;
      if (id == 0) {  // ID 0 with L != 0: RFC 8285 §4.2 says padding; skip the byte
        ++pos_;
        continue;
      }
      if (id == 15) {  // reserved: stop, keep what came before (§4.2)
        pos_ = end_;
        return false;
      }
      len = (b & 0x0F) + 1u;
      value_off = pos_ + 1;
    } else {
      if (pos_ + 2 > end_) {
        malformed_ = true;
        pos_ = end_;
        return false;
      }
      id = b;
      len = packet_[pos_ + 1];
      value_off = pos_ + 2;
    }
    if (value_off + len > end_) {
      malformed_ = true;
      pos_ = end_;
      return false;
    }
    out->id = id;
    out->size = uint8_t(len);
    out->offset = value_off;
    out->value = packet_ + value_off;
    pos_ = value_off + len;
    return true;
  }
  return false;
}

bool find_extension(const RtpView& v, uint8_t id, Extension* out) {
  if (id == 0) return false;
  ExtensionReader r(v);
  Extension e;
  while (r.next(&e)) {
    if (e.id == id) {
      *out = e;
      return true;
    }
  }
  return false;
}

namespace {

// Offset of an element's header from its value offset.
uint32_t element_header(ExtensionForm f, const Extension& e) {
  return e.offset - (f == ExtensionForm::kOneByte ? 1 : 2);
}

bool id_fits(ExtensionForm f, uint8_t id) {
  return id != 0 && (f == ExtensionForm::kTwoByte || id <= kOneByteMaxId);
}

void write_id(uint8_t* hdr, ExtensionForm f, uint8_t id) {
  if (f == ExtensionForm::kOneByte) {
    *hdr = uint8_t(id << 4 | (*hdr & 0x0F));
  } else {
    *hdr = id;
  }
}

void erase_element(uint8_t* packet, ExtensionForm f, const Extension& e) {
  const uint32_t h = element_header(f, e);
  std::memset(packet + h, 0, e.offset + e.size - h);
}

}  // namespace

bool rewrite_extension_id(RtpPacket& p, uint8_t from, uint8_t to) {
  const ExtensionForm f = extension_form(p);
  if (from == 0 || !id_fits(f, to)) return false;
  uint8_t* d = p.mutable_data();
  bool found = false;
  ExtensionReader r(p);
  Extension e;
  while (r.next(&e)) {
    if (e.id != from) continue;
    write_id(d + element_header(f, e), f, to);
    found = true;
  }
  return found;
}

RemapResult remap_extension_ids(RtpPacket& p, const ExtensionIdTable& table) {
  RemapResult res;
  const ExtensionForm f = extension_form(p);
  uint8_t* d = p.mutable_data();
  ExtensionReader r(p);
  Extension e;
  while (r.next(&e)) {
    const uint8_t to = table[e.id];
    if (to == e.id) continue;
    if (!id_fits(f, to)) {
      erase_element(d, f, e);
      ++res.erased;
    } else {
      write_id(d + element_header(f, e), f, to);
      ++res.rewritten;
    }
  }
  return res;
}

bool erase_extension(RtpPacket& p, uint8_t id) {
  const ExtensionForm f = extension_form(p);
  bool found = false;
  ExtensionReader r(p);
  Extension e;
  while (r.next(&e)) {
    if (e.id != id) continue;
    erase_element(p.mutable_data(), f, e);
    found = true;
  }
  return id != 0 && found;
}

absl::Span<uint8_t> mutable_extension(RtpPacket& p, uint8_t id) {
  Extension e;
  if (!find_extension(p, id, &e)) return {};
  return absl::Span<uint8_t>(p.mutable_data() + e.offset, e.size);
}

// ---- typed values ----------------------------------------------------------

bool read_string_extension(const Extension& e, absl::string_view* out) {
  if (e.size == 0) return false;
  *out = absl::string_view(reinterpret_cast<const char*>(e.value), e.size);
  return true;
}

bool read_abs_send_time(const Extension& e, uint32_t* out) {
  if (e.size != 3) return false;
  *out = uint32_t(e.value[0]) << 16 | uint32_t(e.value[1]) << 8 | e.value[2];
  return true;
}

uint32_t abs_send_time_from_nanos(Nanos t) {
  // 6.18 fixed point seconds, mod 64 s; split to avoid overflowing t << 18.
  const uint64_t s = uint64_t(t / kSecond), ns = uint64_t(t % kSecond);
  return uint32_t(((s << 18) + ((ns << 18) + kSecond / 2) / kSecond) & 0xFFFFFF);
}

Nanos abs_send_time_to_nanos(uint32_t v) { return Nanos((uint64_t(v & 0xFFFFFF) * kSecond) >> 18); }

bool read_transport_cc_seq(const Extension& e, uint16_t* out) {
  if (e.size != 2) return false;
  *out = load_be16(e.value);
  return true;
}

bool read_audio_level(const Extension& e, bool* voice, uint8_t* level) {
  // RFC 6464 §3: one byte (the two-byte form may pad it, so accept more).
  if (e.size < 1) return false;
  *voice = e.value[0] & 0x80;
  *level = e.value[0] & 0x7F;
  return true;
}

bool set_transport_cc_seq(RtpPacket& p, uint8_t id, uint16_t seq) {
  absl::Span<uint8_t> v = mutable_extension(p, id);
  if (v.size() != 2) return false;
  store_be16(v.data(), seq);
  return true;
}

bool set_abs_send_time(RtpPacket& p, uint8_t id, uint32_t t) {
  absl::Span<uint8_t> v = mutable_extension(p, id);
  if (v.size() != 3) return false;
  v[0] = uint8_t(t >> 16);
  v[1] = uint8_t(t >> 8);
  v[2] = uint8_t(t);
  return true;
}

// ---- negotiated ids ----------------------------------------------------------

namespace {
constexpr absl::string_view kUris[] = {
    "",
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:3gpp:video-orientation",
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
};
static_assert(sizeof(kUris) / sizeof(kUris[0]) == static_cast<size_t>(ExtensionKind::kCount));
}  // namespace

absl::string_view extension_uri(ExtensionKind k) {
  const size_t i = static_cast<size_t>(k);
  return i < static_cast<size_t>(ExtensionKind::kCount) ? kUris[i] : "";
}

ExtensionKind extension_kind_from_uri(absl::string_view uri) {
  for (size_t i = 1; i < static_cast<size_t>(ExtensionKind::kCount); ++i) {
    if (kUris[i] == uri) return static_cast<ExtensionKind>(i);
  }
  return ExtensionKind::kUnknown;
}

absl::Status ExtensionMap::add(uint8_t id, ExtensionKind kind) {
  if (id == 0) return absl::InvalidArgumentError("extmap id 0 is not allowed (1..255)");
  const size_t k = static_cast<size_t>(kind);
  if (kind == ExtensionKind::kUnknown || k >= id_.size()) {
    return absl::InvalidArgumentError(absl::StrFormat("extmap id %d: no known kind", id));
  }
  if (kind_[id] != ExtensionKind::kUnknown && kind_[id] != kind) {
    return absl::InvalidArgumentError(
        absl::StrFormat("extmap id %d already maps to %s", id, extension_uri(kind_[id])));
  }
  if (id_[k] != 0 && id_[k] != id) {
    return absl::InvalidArgumentError(
        absl::StrFormat("extmap %s already has id %d (not %d)", extension_uri(kind), id_[k], id));
  }
  kind_[id] = kind;
  id_[k] = id;
  return absl::OkStatus();
}

absl::Status ExtensionMap::add_uri(uint8_t id, absl::string_view uri) {
  const ExtensionKind k = extension_kind_from_uri(uri);
  if (k == ExtensionKind::kUnknown) {
    if (id == 0) return absl::InvalidArgumentError("extmap id 0 is not allowed (1..255)");
    return absl::OkStatus();
  }
  return add(id, k);
}

void ExtensionMap::clear() {
  kind_.fill(ExtensionKind::kUnknown);
  id_.fill(0);
}

ExtensionIdTable make_id_table(const ExtensionMap& from, const ExtensionMap& to) {
  ExtensionIdTable t{};
  for (int id = 1; id < 256; ++id) {
    const ExtensionKind k = from.kind(uint8_t(id));
    t[id] = k == ExtensionKind::kUnknown ? 0 : to.id(k);
  }
  return t;
}

// ---- RtpWriter ---------------------------------------------------------------

bool RtpWriter::begin(const RtpHeaderFields& h) {
  size_ = write_rtp_header(buf_, cap_, h);
  ext_hdr_ = 0;
  packable_ = true;
  ok_ = size_ != 0;
  return ok_;
}

uint8_t* RtpWriter::add_extension(uint8_t id, size_t len) {
  if (!ok_) return nullptr;
  if (id == 0 || len > 255) return fail(), nullptr;
  if (ext_hdr_ == 0) {
    if (size_ + 4 > cap_) return fail(), nullptr;
    ext_hdr_ = size_;
    size_ += 4;
  }
  if (size_ + 2 + len > cap_) return fail(), nullptr;
  if (id > kOneByteMaxId || len == 0 || len > kOneByteMaxSize) packable_ = false;
  buf_[size_] = id;
  buf_[size_ + 1] = uint8_t(len);
  size_ += 2;
  uint8_t* v = buf_ + size_;
  size_ += len;
  return v;
}

bool RtpWriter::add_extension(uint8_t id, const void* value, size_t len) {
  uint8_t* v = add_extension(id, len);
  if (v == nullptr) return false;
  if (len != 0) std::memcpy(v, value, len);
  return true;
}

bool RtpWriter::add_abs_send_time(uint8_t id, uint32_t t) {
  uint8_t* v = add_extension(id, 3);
  if (v == nullptr) return false;
  v[0] = uint8_t(t >> 16);
  v[1] = uint8_t(t >> 8);
  v[2] = uint8_t(t);
  return true;
}

bool RtpWriter::add_transport_cc_seq(uint8_t id, uint16_t seq) {
  uint8_t* v = add_extension(id, 2);
  if (v == nullptr) return false;
  store_be16(v, seq);
  return true;
}

bool RtpWriter::add_audio_level(uint8_t id, bool voice, uint8_t level) {
  uint8_t* v = add_extension(id, 1);
  if (v == nullptr) return false;
  v[0] = audio_level_byte(voice, level);
  return true;
}

size_t RtpWriter::finish(absl::Span<const uint8_t> payload, uint8_t padding) {
  if (!ok_) return 0;
  if (ext_hdr_ != 0) {
    const size_t start = ext_hdr_ + 4;
    uint16_t profile = kTwoByteProfile;
    if (packable_ && !force_two_byte_) {
      // Repack in place: one-byte headers are shorter, so the write position
      // never passes the read position.
      size_t r = start, w = start;
      while (r < size_) {
        const uint8_t id = buf_[r], len = buf_[r + 1];
        buf_[w] = uint8_t(id << 4 | (len - 1));
        std::memmove(buf_ + w + 1, buf_ + r + 2, len);
        r += 2 + len;
        w += 1 + len;
      }
      size_ = w;
      profile = kOneByteProfile;
    }
    const size_t block = (size_ - start + 3) & ~size_t(3);
    if (start + block > cap_) return fail(), 0;
    std::memset(buf_ + size_, 0, start + block - size_);
    size_ = start + block;
    store_be16(buf_ + ext_hdr_, profile);
    store_be16(buf_ + ext_hdr_ + 2, uint16_t(block / 4));
    buf_[0] |= 0x10;
  }
  if (size_ + payload.size() + padding > cap_) return fail(), 0;
  if (!payload.empty()) std::memcpy(buf_ + size_, payload.data(), payload.size());
  size_ += payload.size();
  if (padding != 0) {
    std::memset(buf_ + size_, 0, padding - 1);
    buf_[size_ + padding - 1] = padding;
    size_ += padding;
    buf_[0] |= 0x20;
  }
  ok_ = false;  // one packet per begin()
  return size_;
}

}  // namespace rtp
}  // namespace tern
