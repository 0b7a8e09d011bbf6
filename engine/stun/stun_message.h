// STUN messages (RFC 8489): a zero-copy reader and a writer into a caller
// buffer. Both run on the hot path: no allocation, exception or log line.
//
// Reader: StunMessage::parse() validates the header (§5: top two bits zero,
// magic cookie, length a multiple of 4 that matches the datagram exactly) and
// walks every attribute once (§14: each within the message, padded to 4).
// Attributes are then read in place; pointers stay valid while the buffer does.
// Attribute order rules of §14.5-14.7 are enforced: after MESSAGE-INTEGRITY
// only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count, after
// MESSAGE-INTEGRITY-SHA256 only FINGERPRINT; other attributes there are
// ignored (not iterated, not found, not reported as unknown). Anything after
// FINGERPRINT is malformed (FINGERPRINT must be last).
//
// Writer: StunWriter builds header and attributes into a buffer. Errors are
// sticky: chain the add_*() calls and check ok() once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/net/endpoint.h"
#include "engine/stun/message_integrity.h"

namespace tern {
namespace stun {

inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr uint32_t kFingerprintXor = 0x5354554E;
inline constexpr size_t kHeaderSize = 20;
inline constexpr size_t kTransactionIdSize = 12;

// Methods (12 bits).
inline constexpr uint16_t kMethodBinding = 0x001;

// The two class bits C1 C0.
enum class StunClass : uint8_t { kRequest = 0, kIndication = 1, kSuccess = 2, kError = 3 };

// Attribute types. Below 0x8000 comprehension-required, above optional (§14).
namespace attr {
// RFC 8489 §18.3
inline constexpr uint16_t kMappedAddress = 0x0001;
inline constexpr uint16_t kUsername = 0x0006;
inline constexpr uint16_t kMessageIntegrity = 0x0008;
inline constexpr uint16_t kErrorCode = 0x0009;
inline constexpr uint16_t kUnknownAttributes = 0x000A;
inline constexpr uint16_t kRealm = 0x0014;
inline constexpr uint16_t kNonce = 0x0015;
inline constexpr uint16_t kMessageIntegritySha256 = 0x001C;
inline constexpr uint16_t kPasswordAlgorithm = 0x001D;
inline constexpr uint16_t kUserhash = 0x001E;
inline constexpr uint16_t kXorMappedAddress = 0x0020;
inline constexpr uint16_t kPasswordAlgorithms = 0x8002;
inline constexpr uint16_t kAlternateDomain = 0x8003;
inline constexpr uint16_t kSoftware = 0x8022;
inline constexpr uint16_t kAlternateServer = 0x8023;
inline constexpr uint16_t kFingerprint = 0x8028;
// ICE, RFC 8445 §16.1
inline constexpr uint16_t kPriority = 0x0024;
inline constexpr uint16_t kUseCandidate = 0x0025;
inline constexpr uint16_t kIceControlled = 0x8029;
inline constexpr uint16_t kIceControlling = 0x802A;
}  // namespace attr

inline constexpr bool is_comprehension_required(uint16_t type) { return type < 0x8000; }
// The comprehension-required attributes this codec understands: RFC 8489's
// and ICE's (RFC 8445). A subsystem that understands more (TURN) passes its
// own predicate to StunMessage::parse().
bool is_known_attribute(uint16_t type);
using KnownAttributeFn = bool (*)(uint16_t type);

// Message type field (§5): M11..M7 C1 M6..M4 C0 M3..M0 in the low 14 bits.
inline constexpr uint16_t message_type(uint16_t method, StunClass cls) {
  const uint16_t c = static_cast<uint16_t>(cls);
  return uint16_t((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                  ((c & 1) << 4) | ((c & 2) << 7));
}
inline constexpr uint16_t method_of(uint16_t type) {
  return uint16_t((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}
inline constexpr StunClass class_of(uint16_t type) {
  return static_cast<StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
}

enum class ParseError : uint8_t {
  kOk = 0,
  kTooShort,            // fewer than 20 bytes
  kNotStun,             // top two bits not zero
  kBadLength,           // length not a multiple of 4 or not the datagram's
  kBadCookie,           // no magic cookie (also: RFC 3489 legacy messages)
  kAttributeOverrun,    // an attribute (with padding) runs past the end
  kBadIntegrityLength,  // MESSAGE-INTEGRITY not 20 bytes, -SHA256 not 16..32 by 4
  kBadFingerprint,      // FINGERPRINT not 4 bytes, or not last
};
const char* parse_error_name(ParseError e);

enum class IntegrityCheck : uint8_t { kOk = 0, kMissing, kMismatch, kError };

struct Attribute {
  uint16_t type = 0;
  uint16_t length = 0;             // value length, without padding
  const uint8_t* value = nullptr;  // in the message buffer
  uint32_t offset = 0;             // of the attribute header from message start
};

class StunMessage {
 public:
  static constexpr size_t kMaxUnknown = 16;

  // Validates data[0..len) as exactly one STUN message. On error the object
  // is left empty (valid() false).
  ParseError parse(const uint8_t* data, size_t len, KnownAttributeFn known = is_known_attribute);

  bool valid() const { return data_ != nullptr; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  uint16_t type() const { return type_; }
  uint16_t method() const { return method_of(type_); }
  StunClass cls() const { return class_of(type_); }
  const uint8_t* transaction_id() const { return data_ + 8; }

  // Attributes in force, in wire order (ignored ones skipped, see top).
  class Iterator {
   public:
    Attribute operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return pos_ == o.pos_; }
    bool operator!=(const Iterator& o) const { return pos_ != o.pos_; }

   private:
    friend class StunMessage;
    Iterator(const StunMessage* m, size_t pos) : m_(m), pos_(pos) { skip_ignored(); }
    void skip_ignored();
    const StunMessage* m_;
    size_t pos_;
  };
  Iterator begin() const { return Iterator(this, valid() ? kHeaderSize : 0); }
  Iterator end() const { return Iterator(this, size_); }

  // First attribute of the type in force; false if absent.
  bool find(uint16_t type, Attribute* out) const;
  bool has(uint16_t type) const {
    Attribute a;
    return find(type, &a);
  }

  // Comprehension-required attributes the `known` predicate rejected, each
  // type once, at most kMaxUnknown of them (enough for UNKNOWN-ATTRIBUTES).
  absl::Span<const uint16_t> unknown_required() const {
    return absl::Span<const uint16_t>(unknown_, unknown_count_);
  }

  bool has_fingerprint() const { return fp_off_ != 0; }
  // CRC-32 of everything before FINGERPRINT, XOR 0x5354554e (§14.7).
  bool verify_fingerprint() const;
  // Checks MESSAGE-INTEGRITY (SHA1 key) or MESSAGE-INTEGRITY-SHA256 (SHA256
  // key), computed with the length field patched as §14.5/§14.6 say.
  // Constant-time compare.
  IntegrityCheck verify_integrity(const MessageIntegrity& key) const;

  // XOR-MAPPED-ADDRESS / MAPPED-ADDRESS / any address attribute.
  bool xor_mapped_address(Endpoint* out) const;
  bool mapped_address(Endpoint* out) const;
  bool decode_address(const Attribute& a, bool xored, Endpoint* out) const;
  // ERROR-CODE: code 300..699 and reason phrase.
  bool error_code(int* code, absl::string_view* reason) const;

 private:
  bool in_force(size_t off) const;

  const uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
  uint16_t type_ = 0;
  uint32_t mi_off_ = 0;  // 0 = absent (offset 0 is the header)
  uint32_t mi256_off_ = 0;
  uint32_t fp_off_ = 0;
  // Attributes at or after this offset are ignored unless they are one of
  // mi_off_, mi256_off_, fp_off_ (the first integrity attribute sets it).
  uint32_t ignore_from_ = 0;
  uint16_t unknown_[kMaxUnknown];
  uint8_t unknown_count_ = 0;
};

class StunWriter {
 public:
  StunWriter(uint8_t* buf, size_t capacity) : buf_(buf), cap_(capacity) {}

  // Writes the 20-byte header (length 0 until attributes follow).
  bool begin(uint16_t method, StunClass cls, const uint8_t* transaction_id);
  // Padding bytes after values shorter than a multiple of 4. RFC 8489 lets
  // them be anything; 0 by default (RFC 5769's vectors use 0x20).
  void set_padding_byte(uint8_t b) { pad_ = b; }

  // Appends an attribute header and returns its value area (len bytes,
  // padding already written), or nullptr (sticky) if it does not fit.
  uint8_t* add(uint16_t type, size_t len);
  bool add_bytes(uint16_t type, const void* value, size_t len);
  bool add_string(uint16_t type, absl::string_view s) {
    return add_bytes(type, s.data(), s.size());
  }
  bool add_u32(uint16_t type, uint32_t v);
  bool add_u64(uint16_t type, uint64_t v);

  bool add_xor_mapped_address(const Endpoint& ep) {
    return add_address(attr::kXorMappedAddress, ep, true);
  }
  bool add_mapped_address(const Endpoint& ep) {
    return add_address(attr::kMappedAddress, ep, false);
  }
  bool add_address(uint16_t type, const Endpoint& ep, bool xored);
  bool add_software(absl::string_view s) { return add_string(attr::kSoftware, s); }
  bool add_username(absl::string_view s) { return add_string(attr::kUsername, s); }
  // code 300..699, reason UTF-8 (at most 763 bytes, §14.8).
  bool add_error_code(int code, absl::string_view reason);
  bool add_unknown_attributes(absl::Span<const uint16_t> types);
  // MESSAGE-INTEGRITY needs an HMAC-SHA1 key, -SHA256 an HMAC-SHA256 key.
  bool add_message_integrity(const MessageIntegrity& key);
  bool add_message_integrity_sha256(const MessageIntegrity& key);
  // Must be the last attribute.
  bool add_fingerprint();

  bool ok() const { return ok_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return buf_; }

 private:
  bool add_integrity(uint16_t type, const MessageIntegrity& key, IntegrityAlgorithm alg);
  bool fail() { return ok_ = false; }

  uint8_t* buf_;
  size_t cap_;
  size_t size_ = 0;
  uint8_t pad_ = 0;
  bool ok_ = true;
};

}  // namespace stun
}  // namespace tern
