// MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and MESSAGE-INTEGRITY-SHA256
// (HMAC-SHA256, §14.6) keys.
//
// A MessageIntegrity holds one key, prepared once at create() (control plane:
// allocates): the HMAC inner and outer hash states after the key block. A MAC
// then copies those states and hashes the message: no allocation, no key
// schedule per packet, so an ICE agent keeps one object per credential and
// reuses it for every check. compute() is const and touches only the stack,
// so one object may be read by several threads.
//
// Keys (RFC 8489 §9): short-term = OpaqueString(password); long-term =
// MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)) (see
// long_term_key_md5). tern does not implement the PRECIS/SASLprep profile: the
// caller passes already prepared strings. ICE passwords (RFC 8445 ice-chars)
// are printable ASCII, for which the profile is the identity.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tern {

enum class IntegrityAlgorithm : uint8_t { kHmacSha1, kHmacSha256 };

class MessageIntegrity {
 public:
  static constexpr size_t kSha1Size = 20;
  static constexpr size_t kSha256Size = 32;

  static absl::StatusOr<MessageIntegrity> create(IntegrityAlgorithm alg,
                                                 absl::Span<const uint8_t> key);
  static absl::StatusOr<MessageIntegrity> create(IntegrityAlgorithm alg, absl::string_view key);

  // Long-term credential key, RFC 8489 §9.2.2 (MD5 variant), inputs already
  // prepared (see above).
  static std::array<uint8_t, 16> long_term_key_md5(absl::string_view username,
                                                   absl::string_view realm,
                                                   absl::string_view password);

  MessageIntegrity(MessageIntegrity&&) noexcept;
  MessageIntegrity& operator=(MessageIntegrity&&) noexcept;
  ~MessageIntegrity();

  IntegrityAlgorithm algorithm() const { return alg_; }
  size_t mac_size() const {
    return alg_ == IntegrityAlgorithm::kHmacSha1 ? kSha1Size : kSha256Size;
  }

  // HMAC over a ++ b into out (mac_size() bytes). Two pieces because STUN
  // hashes a patched copy of the header followed by the message body. False
  // only if OpenSSL's hash fails.
  bool compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t* out) const;

 private:
  struct Ctx;
  MessageIntegrity(IntegrityAlgorithm alg, std::unique_ptr<Ctx> ctx);
  IntegrityAlgorithm alg_;
  std::unique_ptr<Ctx> ctx_;
};

// Constant-time equality of two n-byte MACs.
bool mac_equal(const uint8_t* a, const uint8_t* b, size_t n);

}  // namespace tern
