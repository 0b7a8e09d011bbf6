#include "engine/stun/stun_message.h"

#include <cstring>

#include "engine/net/bytes.h"
#include "engine/stun/crc32.h"

namespace tern {
namespace stun {
namespace {

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }
constexpr uint8_t kFamilyV4 = 0x01;
constexpr uint8_t kFamilyV6 = 0x02;
constexpr size_t kMaxMessageBody = 0xFFFF & ~size_t{3};  // 16-bit length, multiple of 4
constexpr size_t kMaxReasonBytes = 763;                  // §14.8

}  // namespace

bool is_known_attribute(uint16_t type) {
  switch (type) {
    case attr::kMappedAddress:
    case attr::kUsername:
    case attr::kMessageIntegrity:
    case attr::kErrorCode:
    case attr::kUnknownAttributes:
    case attr::kRealm:
    case attr::kNonce:
    case attr::kMessageIntegritySha256:
    case attr::kPasswordAlgorithm:
    case attr::kUserhash:
    case attr::kXorMappedAddress:
    case attr::kPriority:
    case attr::kUseCandidate:
      return true;
    default:
      return !is_comprehension_required(type);
  }
}

const char* parse_error_name(ParseError e) {
  switch (e) {
    case ParseError::kOk:
      return "ok";
    case ParseError::kTooShort:
      return "too_short";
    case ParseError::kNotStun:
      return "not_stun";
    case ParseError::kBadLength:
      return "bad_length";
    case ParseError::kBadCookie:
      return "bad_cookie";
    case ParseError::kAttributeOverrun:
      return "attribute_overrun";
    case ParseError::kBadIntegrityLength:
      return "bad_integrity_length";
    case ParseError::kBadFingerprint:
      return "bad_fingerprint";
  }
  return "unknown";
}

// ---------------------------------------------------------------- reader

ParseError StunMessage::parse(const uint8_t* data, size_t len, KnownAttributeFn known) {
  *this = StunMessage();
  if (len < kHeaderSize) return ParseError::kTooShort;
  if (data[0] & 0xC0) return ParseError::kNotStun;
  const size_t body = load_be16(data + 2);
  if ((body & 3) != 0 || kHeaderSize + body != len) return ParseError::kBadLength;
  if (load_be32(data + 4) != kMagicCookie) return ParseError::kBadCookie;

  // Walk once: bounds, padding, integrity/fingerprint placement, unknowns.
  enum { kBody, kAfterMi, kAfterMi256, kAfterFp } state = kBody;
  uint32_t mi = 0, mi256 = 0, fp = 0, ignore_from = uint32_t(len);
  uint16_t unknown[kMaxUnknown];
  uint8_t unknown_count = 0;
  size_t pos = kHeaderSize;
  while (pos < len) {
    if (len - pos < 4) return ParseError::kAttributeOverrun;
    const uint16_t type = load_be16(data + pos);
    const uint16_t alen = load_be16(data + pos + 2);
    if (padded(alen) > len - pos - 4) return ParseError::kAttributeOverrun;
    if (state == kAfterFp) return ParseError::kBadFingerprint;  // FINGERPRINT not last
    if (type == attr::kFingerprint) {
      if (alen != 4) return ParseError::kBadFingerprint;
      fp = uint32_t(pos);
      state = kAfterFp;
    } else if (type == attr::kMessageIntegrity && state == kBody) {
      if (alen != MessageIntegrity::kSha1Size) return ParseError::kBadIntegrityLength;
      mi = uint32_t(pos);
      ignore_from = uint32_t(pos);
      state = kAfterMi;
    } else if (type == attr::kMessageIntegritySha256 && (state == kBody || state == kAfterMi)) {
      // §14.6: at least 16 bytes, a multiple of 4, at most the full 32.
      if (alen < 16 || alen > 32 || (alen & 3) != 0) return ParseError::kBadIntegrityLength;
      mi256 = uint32_t(pos);
      if (state == kBody) ignore_from = uint32_t(pos);
      state = kAfterMi256;
    } else if (state == kBody && !known(type)) {
      bool seen = false;
      for (uint8_t i = 0; i < unknown_count; ++i) seen |= unknown[i] == type;
      if (!seen && unknown_count < kMaxUnknown) unknown[unknown_count++] = type;
    }
    pos += 4 + padded(alen);
  }

  data_ = data;
  size_ = uint32_t(len);
  type_ = load_be16(data) & 0x3FFF;
  mi_off_ = mi;
  mi256_off_ = mi256;
  fp_off_ = fp;
  ignore_from_ = ignore_from;
  std::memcpy(unknown_, unknown, unknown_count * sizeof(uint16_t));
  unknown_count_ = unknown_count;
  return ParseError::kOk;
}

bool StunMessage::in_force(size_t off) const {
  return off < ignore_from_ || off == mi_off_ || off == mi256_off_ || off == fp_off_;
}

Attribute StunMessage::Iterator::operator*() const {
  Attribute a;
  a.type = load_be16(m_->data_ + pos_);
  a.length = load_be16(m_->data_ + pos_ + 2);
  a.value = m_->data_ + pos_ + 4;
  a.offset = uint32_t(pos_);
  return a;
}

StunMessage::Iterator& StunMessage::Iterator::operator++() {
  pos_ += 4 + padded(load_be16(m_->data_ + pos_ + 2));
  skip_ignored();
  return *this;
}

void StunMessage::Iterator::skip_ignored() {
  while (pos_ < m_->size_ && !m_->in_force(pos_)) {
    pos_ += 4 + padded(load_be16(m_->data_ + pos_ + 2));
  }
}

bool StunMessage::find(uint16_t type, Attribute* out) const {
  for (Attribute a : *this) {
    if (a.type == type) {
      *out = a;
      return true;
    }
  }
  return false;
}

bool StunMessage::verify_fingerprint() const {
  if (fp_off_ == 0) return false;
  const uint32_t want = crc32(data_, fp_off_) ^ kFingerprintXor;
  return load_be32(data_ + fp_off_ + 4) == want;
}

IntegrityCheck StunMessage::verify_integrity(const MessageIntegrity& key) const {
  const uint32_t off = key.algorithm() == IntegrityAlgorithm::kHmacSha1 ? mi_off_ : mi256_off_;
  if (off == 0) return IntegrityCheck::kMissing;
  const uint16_t mac_len = load_be16(data_ + off + 2);  // checked by parse()
  // The HMAC covers the message up to the attribute, with the header length
  // set as if the attribute were the last one.
  uint8_t header[kHeaderSize];
  std::memcpy(header, data_, kHeaderSize);
  store_be16(header + 2, uint16_t(off + 4 + mac_len - kHeaderSize));
  uint8_t mac[MessageIntegrity::kSha256Size];
  if (!key.compute(header, kHeaderSize, data_ + kHeaderSize, off - kHeaderSize, mac)) {
    return IntegrityCheck::kError;
  }
  return mac_equal(mac, data_ + off + 4, mac_len) ? IntegrityCheck::kOk : IntegrityCheck::kMismatch;
}

bool StunMessage::decode_address(const Attribute& a, bool xored, Endpoint* out) const {
  if (a.length < 4) return false;
  const uint8_t family = a.value[1];
  uint16_t port = load_be16(a.value + 2);
  if (xored) port ^= uint16_t(kMagicCookie >> 16);
  if (family == kFamilyV4 && a.length == 8) {
    uint32_t addr = load_be32(a.value + 4);
    if (xored) addr ^= kMagicCookie;
    *out = Endpoint::v4(addr, port);
    return true;
  }
  if (family == kFamilyV6 && a.length == 20) {
    uint8_t addr[16];
    std::memcpy(addr, a.value + 4, 16);
    if (xored) {
      // XOR with magic cookie followed by the transaction id (§14.2).
      const uint8_t* key = data_ + 4;
      for (int i = 0; i < 16; ++i) addr[i] ^= key[i];
    }
    *out = Endpoint::v6(addr, port);
    return true;
  }
  return false;
}

bool StunMessage::xor_mapped_address(Endpoint* out) const {
  Attribute a;
  return find(attr::kXorMappedAddress, &a) && decode_address(a, true, out);
}

bool StunMessage::mapped_address(Endpoint* out) const {
  Attribute a;
  return find(attr::kMappedAddress, &a) && decode_address(a, false, out);
}

bool StunMessage::error_code(int* code, absl::string_view* reason) const {
  Attribute a;
  if (!find(attr::kErrorCode, &a) || a.length < 4) return false;
  const int cls = a.value[2] & 0x07;
  const int number = a.value[3];
  if (cls < 3 || cls > 6 || number > 99) return false;
  *code = cls * 100 + number;
  *reason = absl::string_view(reinterpret_cast<const char*>(a.value + 4), a.length - 4);
  return true;
}

// ---------------------------------------------------------------- writer

bool StunWriter::begin(uint16_t method, StunClass cls, const uint8_t* transaction_id) {
  size_ = 0;
  ok_ = true;
  if (cap_ < kHeaderSize || method > 0x0FFF) return fail();
  store_be16(buf_, message_type(method, cls));
  store_be16(buf_ + 2, 0);
  store_be32(buf_ + 4, kMagicCookie);
  std::memcpy(buf_ + 8, transaction_id, kTransactionIdSize);
  size_ = kHeaderSize;
  return true;
}

uint8_t* StunWriter::add(uint16_t type, size_t len) {
  if (!ok_ || size_ < kHeaderSize) return fail(), nullptr;
  const size_t total = 4 + padded(len);
  if (len > 0xFFFF || total > cap_ - size_ || size_ - kHeaderSize + total > kMaxMessageBody) {
    return fail(), nullptr;
  }
  uint8_t* p = buf_ + size_;
  store_be16(p, type);
  store_be16(p + 2, uint16_t(len));
  std::memset(p + 4 + len, pad_, padded(len) - len);
  size_ += total;
  store_be16(buf_ + 2, uint16_t(size_ - kHeaderSize));
  return p + 4;
}

bool StunWriter::add_bytes(uint16_t type, const void* value, size_t len) {
  uint8_t* p = add(type, len);
  if (p == nullptr) return false;
  if (len != 0) std::memcpy(p, value, len);
  return true;
}

bool StunWriter::add_u32(uint16_t type, uint32_t v) {
  uint8_t* p = add(type, 4);
  if (p == nullptr) return false;
  store_be32(p, v);
  return true;
}

bool StunWriter::add_u64(uint16_t type, uint64_t v) {
  uint8_t* p = add(type, 8);
  if (p == nullptr) return false;
  store_be64(p, v);
  return true;
}

bool StunWriter::add_address(uint16_t type, const Endpoint& ep, bool xored) {
  if (!ep.is_v4() && !ep.is_v6()) return fail();
  uint8_t* p = add(type, ep.is_v4() ? 8 : 20);
  if (p == nullptr) return false;
  p[0] = 0;
  p[1] = ep.is_v4() ? kFamilyV4 : kFamilyV6;
  store_be16(p + 2, xored ? uint16_t(ep.port ^ (kMagicCookie >> 16)) : ep.port);
  std::memcpy(p + 4, ep.addr, ep.addr_len());
  if (xored) {
    const uint8_t* key = buf_ + 4;  // magic cookie, then transaction id
    for (size_t i = 0; i < ep.addr_len(); ++i) p[4 + i] ^= key[i];
  }
  return true;
}

bool StunWriter::add_error_code(int code, absl::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kMaxReasonBytes) return fail();
  uint8_t* p = add(attr::kErrorCode, 4 + reason.size());
  if (p == nullptr) return false;
  p[0] = 0;
  p[1] = 0;
  p[2] = uint8_t(code / 100);
  p[3] = uint8_t(code % 100);
  if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
  return true;
}

bool StunWriter::add_unknown_attributes(absl::Span<const uint16_t> types) {
  uint8_t* p = add(attr::kUnknownAttributes, types.size() * 2);
  if (p == nullptr) return false;
  for (size_t i = 0; i < types.size(); ++i) store_be16(p + 2 * i, types[i]);
  return true;
}

bool StunWriter::add_integrity(uint16_t type, const MessageIntegrity& key, IntegrityAlgorithm alg) {
  if (key.algorithm() != alg) return fail();
  const size_t mac_len = key.mac_size();
  uint8_t* p = add(type, mac_len);  // also sets the header length to cover it
  if (p == nullptr) return false;
  const size_t covered = size_t(p - 4 - buf_);
  if (!key.compute(buf_, covered, nullptr, 0, p)) return fail();
  return true;
}

bool StunWriter::add_message_integrity(const MessageIntegrity& key) {
  return add_integrity(attr::kMessageIntegrity, key, IntegrityAlgorithm::kHmacSha1);
}

bool StunWriter::add_message_integrity_sha256(const MessageIntegrity& key) {
  return add_integrity(attr::kMessageIntegritySha256, key, IntegrityAlgorithm::kHmacSha256);
}

bool StunWriter::add_fingerprint() {
  uint8_t* p = add(attr::kFingerprint, 4);  // header length now covers it
  if (p == nullptr) return false;
  store_be32(p, crc32(buf_, size_t(p - 4 - buf_)) ^ kFingerprintXor);
  return true;
}

}  // namespace stun
}  // namespace tern
