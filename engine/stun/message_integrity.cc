#include "engine/stun/message_integrity.h"

// HMAC is built here from OpenSSL's low-level SHA1_*/SHA256_* functions,
// deprecated in OpenSSL 3 but present in every Debian build. Why: the HMAC
// state after hashing key^ipad and key^opad can then be kept per key as plain
// structs and copied per message, which is allocation-free and 2.3x faster
// than re-initialising a keyed EVP_MAC_CTX (that path makes two heap
// allocations per MAC: the provider duplicates its digest contexts; see
// bench/bench_stun.cc). If these functions go away, an own SHA-1/SHA-256
// compression function slots in behind the same interface.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace tern {
namespace {

constexpr size_t kBlock = 64;  // SHA-1 and SHA-256 block size

// One digest's init/update/final over a state type S.
template <typename S, int (*Init)(S*), int (*Update)(S*, const void*, size_t),
          int (*Final)(unsigned char*, S*), size_t kOut>
struct Hmac {
  S inner, outer;  // after key^ipad / key^opad

  bool prepare(const uint8_t* key, size_t len) {
    uint8_t k[kBlock] = {};
    if (len > kBlock) {  // RFC 2104: long keys are hashed first
      S s;
      if (!Init(&s) || !Update(&s, key, len) || !Final(k, &s)) return false;
    } else if (len != 0) {
      std::memcpy(k, key, len);
    }
    uint8_t pad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
    if (!Init(&inner) || !Update(&inner, pad, kBlock)) return false;
    for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
    if (!Init(&outer) || !Update(&outer, pad, kBlock)) return false;
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    return true;
  }

  bool compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len, uint8_t* out) const {
    uint8_t md[kOut];
    S s = inner;
    if (!Update(&s, a, a_len) || (b_len != 0 && !Update(&s, b, b_len)) || !Final(md, &s)) {
      return false;
    }
    s = outer;
    return Update(&s, md, kOut) && Final(out, &s);
  }
};

using HmacSha1 = Hmac<SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final, 20>;
using HmacSha256 = Hmac<SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final, 32>;

}  // namespace

struct MessageIntegrity::Ctx {
  HmacSha1 sha1;
  HmacSha256 sha256;
  ~Ctx() { OPENSSL_cleanse(this, sizeof(*this)); }
};

MessageIntegrity::MessageIntegrity(IntegrityAlgorithm alg, std::unique_ptr<Ctx> ctx)
    : alg_(alg), ctx_(std::move(ctx)) {}
MessageIntegrity::MessageIntegrity(MessageIntegrity&&) noexcept = default;
MessageIntegrity& MessageIntegrity::operator=(MessageIntegrity&&) noexcept = default;
MessageIntegrity::~MessageIntegrity() = default;

absl::StatusOr<MessageIntegrity> MessageIntegrity::create(IntegrityAlgorithm alg,
                                                          absl::string_view key) {
  return create(
      alg, absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

absl::StatusOr<MessageIntegrity> MessageIntegrity::create(IntegrityAlgorithm alg,
                                                          absl::Span<const uint8_t> key) {
  auto ctx = std::make_unique<Ctx>();
  const bool ok = alg == IntegrityAlgorithm::kHmacSha1
                      ? ctx->sha1.prepare(key.data(), key.size())
                      : ctx->sha256.prepare(key.data(), key.size());
  if (!ok) {
    return absl::InternalError(
        absl::StrCat("OpenSSL ", alg == IntegrityAlgorithm::kHmacSha1 ? "SHA1" : "SHA256",
                     " failed while preparing an HMAC key"));
  }
  return MessageIntegrity(alg, std::move(ctx));
}

std::array<uint8_t, 16> MessageIntegrity::long_term_key_md5(absl::string_view username,
                                                            absl::string_view realm,
                                                            absl::string_view password) {
  std::string input = absl::StrCat(username, ":", realm, ":", password);
  std::array<uint8_t, 16> out{};
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), out.data(), &n, EVP_md5(), nullptr);
  return out;
}

bool MessageIntegrity::compute(const uint8_t* a, size_t a_len, const uint8_t* b, size_t b_len,
                               uint8_t* out) const {
  return alg_ == IntegrityAlgorithm::kHmacSha1 ? ctx_->sha1.compute(a, a_len, b, b_len, out)
                                               : ctx_->sha256.compute(a, a_len, b, b_len, out);
}

bool mac_equal(const uint8_t* a, const uint8_t* b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

}  // namespace tern
