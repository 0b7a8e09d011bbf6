#include "engine/stun/message_integrity.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace tern {

struct MessageIntegrity::Ctx {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  ~Ctx() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
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
  ctx->mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
  if (ctx->mac == nullptr) return absl::InternalError("OpenSSL has no HMAC implementation");
  ctx->ctx = EVP_MAC_CTX_new(ctx->mac);
  if (ctx->ctx == nullptr) return absl::ResourceExhaustedError("EVP_MAC_CTX_new failed");
  char sha1[] = "SHA1";
  char sha256[] = "SHA256";
  char* digest = alg == IntegrityAlgorithm::kHmacSha1 ? sha1 : sha256;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  // HMAC accepts an empty key; OpenSSL wants a non-null pointer for it.
  static const uint8_t kEmpty = 0;
  if (EVP_MAC_init(ctx->ctx, key.empty() ? &kEmpty : key.data(), key.size(), params) != 1) {
    return absl::InternalError(absl::StrCat("EVP_MAC_init(HMAC-", digest, ") failed"));
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
                               uint8_t* out) {
  // Re-initialising with a null key keeps the key schedule set at create().
  if (EVP_MAC_init(ctx_->ctx, nullptr, 0, nullptr) != 1) return false;
  if (EVP_MAC_update(ctx_->ctx, a, a_len) != 1) return false;
  if (b_len != 0 && EVP_MAC_update(ctx_->ctx, b, b_len) != 1) return false;
  size_t n = 0;
  if (EVP_MAC_final(ctx_->ctx, out, &n, mac_size()) != 1) return false;
  return n == mac_size();
}

bool mac_equal(const uint8_t* a, const uint8_t* b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

}  // namespace tern
