#include "engine/dtls/certificate.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/dtls/openssl_error.h"

namespace tern {

namespace dtls_internal {

std::string take_openssl_errors(const char* fallback) {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    // The reason alone reads best ("sslv3 alert bad certificate"); keep the full
    // code string for unknown reasons.
    out += reason != nullptr ? reason : buf;
  }
  return out.empty() ? std::string(fallback) : out;
}

}  // namespace dtls_internal

using dtls_internal::take_openssl_errors;

namespace {

const EVP_MD* hash_md(FingerprintHash h) {
  switch (h) {
    case FingerprintHash::kSha1:
      return EVP_sha1();
    case FingerprintHash::kSha256:
      return EVP_sha256();
    case FingerprintHash::kSha384:
      return EVP_sha384();
    case FingerprintHash::kSha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string bio_to_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

absl::StatusOr<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat(path, ": read error"));
  return ss.str();
}

}  // namespace

const char* fingerprint_hash_name(FingerprintHash h) {
  switch (h) {
    case FingerprintHash::kSha1:
      return "sha-1";
    case FingerprintHash::kSha256:
      return "sha-256";
    case FingerprintHash::kSha384:
      return "sha-384";
    case FingerprintHash::kSha512:
      return "sha-512";
  }
  return "unknown";
}

size_t fingerprint_hash_size(FingerprintHash h) {
  switch (h) {
    case FingerprintHash::kSha1:
      return 20;
    case FingerprintHash::kSha256:
      return 32;
    case FingerprintHash::kSha384:
      return 48;
    case FingerprintHash::kSha512:
      return 64;
  }
  return 0;
}

std::string Fingerprint::hex() const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 3);
  for (size_t i = 0; i < len; ++i) {
    if (i != 0) out += ':';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xf];
  }
  return out;
}

std::string Fingerprint::to_sdp() const {
  return absl::StrCat(fingerprint_hash_name(hash), " ", hex());
}

absl::StatusOr<Fingerprint> parse_fingerprint(absl::string_view sdp_value) {
  absl::string_view v = absl::StripAsciiWhitespace(sdp_value);
  size_t sp = v.find_first_of(" \t");
  if (sp == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("fingerprint: expected '<hash> <hex>', got '", v, "'"));
  }
  absl::string_view name = v.substr(0, sp);
  absl::string_view hex = absl::StripLeadingAsciiWhitespace(v.substr(sp));
  Fingerprint fp;
  bool known = false;
  for (FingerprintHash h : {FingerprintHash::kSha1, FingerprintHash::kSha256,
                            FingerprintHash::kSha384, FingerprintHash::kSha512}) {
    if (absl::EqualsIgnoreCase(name, fingerprint_hash_name(h))) {
      fp.hash = h;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat("fingerprint: unsupported hash function '", name, "'"));
  }
  const size_t want = fingerprint_hash_size(fp.hash);
  // "XX" then ":XX" per further byte.
  if (hex.size() != want * 3 - 1) {
    return absl::InvalidArgumentError(absl::StrCat("fingerprint: '", hex, "' is not ", want,
                                                   " colon-separated hex bytes for ", name));
  }
  for (size_t i = 0; i < want; ++i) {
    const size_t at = i * 3;
    int hi = hex_value(hex[at]);
    int lo = hex_value(hex[at + 1]);
    if (hi < 0 || lo < 0 || (i + 1 < want && hex[at + 2] != ':')) {
      return absl::InvalidArgumentError(
          absl::StrCat("fingerprint: bad hex byte at offset ", at, " in '", hex, "'"));
    }
    fp.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  fp.len = static_cast<uint8_t>(want);
  return fp;
}

absl::StatusOr<Fingerprint> certificate_fingerprint(X509* cert, FingerprintHash hash) {
  if (cert == nullptr) return absl::InvalidArgumentError("fingerprint: no certificate");
  Fingerprint fp;
  fp.hash = hash;
  unsigned int n = 0;
  if (X509_digest(cert, hash_md(hash), fp.bytes, &n) != 1 || n != fingerprint_hash_size(hash)) {
    return absl::InternalError(
        absl::StrCat("fingerprint: X509_digest failed: ", take_openssl_errors()));
  }
  fp.len = static_cast<uint8_t>(n);
  return fp;
}

bool fingerprint_equal(const Fingerprint& a, const Fingerprint& b) {
  // Hash and length are public (they come from SDP); only the bytes need constant time.
  if (a.hash != b.hash || a.len != b.len || a.len > Fingerprint::kMaxSize) return false;
  return CRYPTO_memcmp(a.bytes, b.bytes, a.len) == 0;
}

DtlsCertificate::DtlsCertificate(X509* cert, EVP_PKEY* key) : cert_(cert), key_(key) {}

DtlsCertificate::~DtlsCertificate() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
}

absl::StatusOr<std::shared_ptr<const DtlsCertificate>> DtlsCertificate::generate(
    const GenerateOptions& options) {
  ERR_clear_error();
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) {
    return absl::InternalError(
        absl::StrCat("certificate: P-256 key generation failed: ", take_openssl_errors()));
  }
  X509* x = X509_new();
  auto fail = [&](const char* step) {
    X509_free(x);
    EVP_PKEY_free(key);
    return absl::InternalError(
        absl::StrCat("certificate: ", step, " failed: ", take_openssl_errors()));
  };
  if (x == nullptr) return fail("X509_new");
  if (X509_set_version(x, X509_VERSION_3) != 1) return fail("X509_set_version");

  // Random positive 63-bit serial: two self-signed certs from one node must differ.
  uint8_t serial_bytes[8];
  if (RAND_bytes(serial_bytes, sizeof(serial_bytes)) != 1) return fail("RAND_bytes");
  serial_bytes[0] &= 0x7f;
  serial_bytes[0] |= 0x01;  // never zero
  BIGNUM* bn = BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr);
  bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
  BN_free(bn);
  if (!serial_ok) return fail("serial number");

  if (X509_gmtime_adj(X509_getm_notBefore(x), options.not_before_offset_seconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(x), options.not_after_offset_seconds) == nullptr) {
    return fail("validity");
  }
  X509_NAME* name = X509_get_subject_name(x);
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, name) != 1) {
    return fail(absl::StrCat("common name '", options.common_name, "'").c_str());
  }
  if (X509_set_pubkey(x, key) != 1) return fail("X509_set_pubkey");
  if (X509_sign(x, key, EVP_sha256()) <= 0) return fail("X509_sign");

  std::shared_ptr<DtlsCertificate> c(new DtlsCertificate(x, key));
  auto fp = certificate_fingerprint(x, FingerprintHash::kSha256);
  if (!fp.ok()) return fp.status();
  c->fingerprint_ = *fp;
  c->sdp_fingerprint_ = fp->to_sdp();
  return std::shared_ptr<const DtlsCertificate>(std::move(c));
}

absl::StatusOr<std::shared_ptr<const DtlsCertificate>> DtlsCertificate::from_pem(
    absl::string_view cert_pem, absl::string_view key_pem, absl::string_view what) {
  ERR_clear_error();
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* x = cb != nullptr ? PEM_read_bio_X509(cb, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(cb);
  if (x == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no PEM certificate: ", take_openssl_errors()));
  }
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = kb != nullptr ? PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(kb);
  if (key == nullptr) {
    X509_free(x);
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": no PEM private key: ", take_openssl_errors()));
  }
  if (X509_check_private_key(x, key) != 1) {
    X509_free(x);
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": private key does not match the certificate: ", take_openssl_errors()));
  }
  std::shared_ptr<DtlsCertificate> c(new DtlsCertificate(x, key));
  auto fp = certificate_fingerprint(x, FingerprintHash::kSha256);
  if (!fp.ok()) return fp.status();
  c->fingerprint_ = *fp;
  c->sdp_fingerprint_ = fp->to_sdp();
  return std::shared_ptr<const DtlsCertificate>(std::move(c));
}

absl::StatusOr<std::shared_ptr<const DtlsCertificate>> DtlsCertificate::load_pem_files(
    const std::string& cert_path, const std::string& key_path) {
  auto cert = read_file(cert_path);
  if (!cert.ok()) return cert.status();
  auto key = read_file(key_path);
  if (!key.ok()) return key.status();
  // Parse separately so the error names the file that is wrong.
  {
    BIO* b = BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size()));
    X509* x = b != nullptr ? PEM_read_bio_X509(b, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(b);
    if (x == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(cert_path, ": no PEM certificate: ", take_openssl_errors()));
    }
    X509_free(x);
  }
  {
    BIO* b = BIO_new_mem_buf(key->data(), static_cast<int>(key->size()));
    EVP_PKEY* k = b != nullptr ? PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(b);
    if (k == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(key_path, ": no PEM private key: ", take_openssl_errors()));
    }
    EVP_PKEY_free(k);
  }
  return from_pem(*cert, *key, absl::StrCat(cert_path, " + ", key_path));
}

std::string DtlsCertificate::certificate_pem() const {
  BIO* b = BIO_new(BIO_s_mem());
  if (b == nullptr) return {};
  std::string out = PEM_write_bio_X509(b, cert_) == 1 ? bio_to_string(b) : std::string();
  BIO_free(b);
  return out;
}

std::string DtlsCertificate::private_key_pem() const {
  BIO* b = BIO_new(BIO_s_mem());
  if (b == nullptr) return {};
  std::string out = PEM_write_bio_PrivateKey(b, key_, nullptr, nullptr, 0, nullptr, nullptr) == 1
                        ? bio_to_string(b)
                        : std::string();
  BIO_free(b);
  return out;
}

}  // namespace tern
