// DTLS certificates and fingerprints for WebRTC (RFC 8122 fingerprints, RFC 8827 §6.5).
//
// WebRTC peers use self-signed certificates; trust comes from the fingerprint carried
// in the (authenticated) signalling, not from a CA. A node generates one ECDSA P-256
// certificate at startup (or loads one from PEM files) and shares it, read-only, with
// every DtlsEndpoint on every worker: DtlsCertificate is immutable after creation and
// OpenSSL's X509/EVP_PKEY are reference counted and safe to read from several threads.
//
// Control plane only: these functions allocate and may be slow (key generation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace tern {

// Hash functions allowed in a=fingerprint (RFC 8122 §5, those WebRTC peers use).
enum class FingerprintHash : uint8_t { kSha1, kSha256, kSha384, kSha512 };

const char* fingerprint_hash_name(FingerprintHash h);  // "sha-256", ...
size_t fingerprint_hash_size(FingerprintHash h);       // 20, 32, 48, 64

struct Fingerprint {
  static constexpr size_t kMaxSize = 64;
  FingerprintHash hash = FingerprintHash::kSha256;
  uint8_t len = 0;  // == fingerprint_hash_size(hash) once set
  uint8_t bytes[kMaxSize] = {};

  // The SDP attribute value: "sha-256 AB:CD:..." (upper-case hex, RFC 8122 §5).
  std::string to_sdp() const;
  // Only the hex part: "AB:CD:...".
  std::string hex() const;
};

// Parses an a=fingerprint attribute value "<hash-func> <hex:hex:...>" (the part after
// "a=fingerprint:"). The hash name is matched case-insensitively (sha-1, sha-256,
// sha-384, sha-512); hex digits may be either case; the byte count must match the hash.
// Leading/trailing whitespace is ignored. Errors name the offending token.
absl::StatusOr<Fingerprint> parse_fingerprint(absl::string_view sdp_value);

// Digest of a certificate's DER encoding with `hash`.
absl::StatusOr<Fingerprint> certificate_fingerprint(X509* cert, FingerprintHash hash);

// Constant-time comparison (hash, length and bytes). Used on peer certificates: the
// time taken must not tell an attacker how many leading bytes matched.
bool fingerprint_equal(const Fingerprint& a, const Fingerprint& b);

class DtlsCertificate {
 public:
  struct GenerateOptions {
    std::string common_name = "tern";
    int64_t not_before_offset_seconds = -30 * 24 * 3600;  // tolerate peer clock skew
    int64_t not_after_offset_seconds = 365 * 24 * 3600;
  };

  // New ECDSA P-256 key and a self-signed X.509v3 certificate with a random 64-bit
  // serial, signed with ECDSA-SHA256.
  static absl::StatusOr<std::shared_ptr<const DtlsCertificate>> generate(
      const GenerateOptions& options);
  static absl::StatusOr<std::shared_ptr<const DtlsCertificate>> generate() {
    return generate(GenerateOptions{});
  }

  // Loads a PEM certificate and its PEM private key (any key type OpenSSL supports;
  // ECDSA P-256 recommended). Errors name the file and carry OpenSSL's reason; a key
  // that does not match the certificate is an error.
  static absl::StatusOr<std::shared_ptr<const DtlsCertificate>> load_pem_files(
      const std::string& cert_path, const std::string& key_path);
  // Same from in-memory PEM text; `what` names the source in errors.
  static absl::StatusOr<std::shared_ptr<const DtlsCertificate>> from_pem(
      absl::string_view cert_pem, absl::string_view key_pem, absl::string_view what = "pem");

  ~DtlsCertificate();
  DtlsCertificate(const DtlsCertificate&) = delete;
  DtlsCertificate& operator=(const DtlsCertificate&) = delete;

  // SHA-256 fingerprint, computed once at creation.
  const Fingerprint& fingerprint() const { return fingerprint_; }
  // "sha-256 AB:CD:..." for a=fingerprint.
  const std::string& sdp_fingerprint() const { return sdp_fingerprint_; }

  std::string certificate_pem() const;
  std::string private_key_pem() const;  // unencrypted PKCS#8; handle with care

  // Borrowed pointers, valid for the lifetime of this object (never modified).
  X509* x509() const { return cert_; }
  EVP_PKEY* private_key() const { return key_; }

 private:
  DtlsCertificate(X509* cert, EVP_PKEY* key);  // takes ownership
  X509* cert_;
  EVP_PKEY* key_;
  Fingerprint fingerprint_;
  std::string sdp_fingerprint_;
};

}  // namespace tern
