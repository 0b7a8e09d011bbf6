#include "engine/dtls/certificate.h"

#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

namespace tern {
namespace {

std::string temp_path(const char* tag) {
  return std::string(::testing::TempDir()) + "tern_dtls_" + tag + "_" + std::to_string(getpid());
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(Certificate, GenerateEcdsaP256SelfSigned) {
  auto c = DtlsCertificate::generate();
  ASSERT_TRUE(c.ok()) << c.status();
  X509* x = (*c)->x509();
  EXPECT_EQ(EVP_PKEY_get_base_id((*c)->private_key()), EVP_PKEY_EC);
  char group[64] = {};
  size_t glen = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name((*c)->private_key(), group, sizeof(group), &glen), 1);
  EXPECT_STREQ(group, "prime256v1");
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "tern");
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  EXPECT_EQ(X509_verify(x, (*c)->private_key()), 1);  // self-signed with its own key
  // Valid now, from ~30 days ago to ~1 year ahead.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(x)), 0);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
  EXPECT_EQ(days, 395);

  auto d = DtlsCertificate::generate();
  ASSERT_TRUE(d.ok());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get_serialNumber(x), X509_get_serialNumber((*d)->x509())), 0);
  EXPECT_NE((*c)->sdp_fingerprint(), (*d)->sdp_fingerprint());
}

TEST(Certificate, SdpFingerprintFormat) {
  auto c = DtlsCertificate::generate();
  ASSERT_TRUE(c.ok());
  const std::string& s = (*c)->sdp_fingerprint();
  EXPECT_TRUE(std::regex_match(s, std::regex("sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}"))) << s;
  // Independent computation: digest of the DER.
  unsigned char* der = nullptr;
  int n = i2d_X509((*c)->x509(), &der);
  ASSERT_GT(n, 0);
  unsigned char md[32];
  unsigned int mdlen = 0;
  ASSERT_EQ(EVP_Digest(der, n, md, &mdlen, EVP_sha256(), nullptr), 1);
  OPENSSL_free(der);
  char first[3];
  std::snprintf(first, sizeof(first), "%02X", md[0]);
  EXPECT_EQ(s.substr(8, 2), first);
  EXPECT_EQ(0, std::memcmp((*c)->fingerprint().bytes, md, 32));
  auto parsed = parse_fingerprint(s);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(fingerprint_equal(*parsed, (*c)->fingerprint()));
}

// Cross-check against the openssl command line (a tool we did not write).
TEST(Certificate, FingerprintMatchesOpensslCli) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  auto c = DtlsCertificate::generate();
  ASSERT_TRUE(c.ok());
  std::string path = temp_path("cli.pem");
  write_file(path, (*c)->certificate_pem());
  std::string cmd = "openssl x509 -noout -fingerprint -sha256 -in " + path;
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char line[512] = {};
  ASSERT_NE(fgets(line, sizeof(line), f), nullptr);
  pclose(f);
  std::remove(path.c_str());
  std::string out(line);
  // "sha256 Fingerprint=AB:CD:...\n" (the prefix varies between versions).
  auto eq = out.find('=');
  ASSERT_NE(eq, std::string::npos) << out;
  std::string hex = out.substr(eq + 1, 95);
  EXPECT_EQ(hex, (*c)->fingerprint().hex());
}

TEST(Certificate, PemRoundTripAndFiles) {
  auto c = DtlsCertificate::generate();
  ASSERT_TRUE(c.ok());
  std::string cert_path = temp_path("cert.pem"), key_path = temp_path("key.pem");
  write_file(cert_path, (*c)->certificate_pem());
  write_file(key_path, (*c)->private_key_pem());
  auto loaded = DtlsCertificate::load_pem_files(cert_path, key_path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->sdp_fingerprint(), (*c)->sdp_fingerprint());

  // Missing file: the error names it.
  auto missing = DtlsCertificate::load_pem_files(cert_path + ".nope", key_path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(cert_path + ".nope"), std::string::npos);

  // Garbage key file: named, with OpenSSL's reason.
  std::string bad_key = temp_path("badkey.pem");
  write_file(bad_key, "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n");
  auto garbage = DtlsCertificate::load_pem_files(cert_path, bad_key);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find(bad_key), std::string::npos) << garbage.status();
  EXPECT_NE(garbage.status().message().find("no PEM private key: "), std::string::npos);
  EXPECT_GT(garbage.status().message().size(), bad_key.size() + 22);

  // Key of another certificate.
  auto other = DtlsCertificate::generate();
  ASSERT_TRUE(other.ok());
  write_file(bad_key, (*other)->private_key_pem());
  auto mismatch = DtlsCertificate::load_pem_files(cert_path, bad_key);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("does not match"), std::string::npos);
  EXPECT_NE(mismatch.status().message().find(cert_path), std::string::npos);

  // Certificate file holding a key.
  auto swapped = DtlsCertificate::load_pem_files(key_path, key_path);
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find("no PEM certificate"), std::string::npos);

  std::remove(cert_path.c_str());
  std::remove(key_path.c_str());
  std::remove(bad_key.c_str());
}

TEST(Fingerprint, ParseAcceptsAllHashes) {
  struct Case {
    const char* name;
    FingerprintHash hash;
    size_t len;
  };
  for (Case k :
       {Case{"sha-1", FingerprintHash::kSha1, 20}, Case{"SHA-256", FingerprintHash::kSha256, 32},
        Case{"sha-384", FingerprintHash::kSha384, 48},
        Case{"sha-512", FingerprintHash::kSha512, 64}}) {
    std::string hex;
    for (size_t i = 0; i < k.len; ++i) {
      char b[4];
      std::snprintf(b, sizeof(b), i ? ":%02x" : "%02x", static_cast<unsigned>(i * 7 + 0xa0) & 0xff);
      hex += b;
    }
    auto fp = parse_fingerprint(std::string("  ") + k.name + " " + hex + "\r\n");
    ASSERT_TRUE(fp.ok()) << k.name << ": " << fp.status();
    EXPECT_EQ(fp->hash, k.hash);
    EXPECT_EQ(fp->len, k.len);
    EXPECT_EQ(fp->bytes[1], 0xa7);
    // Canonical output is lower-case hash name, upper-case hex.
    auto again = parse_fingerprint(fp->to_sdp());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(fingerprint_equal(*fp, *again));
    EXPECT_EQ(fp->to_sdp().substr(0, fp->to_sdp().find(' ')), fingerprint_hash_name(k.hash));
  }
}

TEST(Fingerprint, ParseRejects) {
  const std::string ok32 =
      "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:"
      "67:89";
  ASSERT_TRUE(parse_fingerprint("sha-256 " + ok32).ok());
  EXPECT_FALSE(parse_fingerprint("").ok());
  EXPECT_FALSE(parse_fingerprint("sha-256").ok());
  auto md5 = parse_fingerprint("md5 AB:CD");
  ASSERT_FALSE(md5.ok());
  EXPECT_NE(md5.status().message().find("md5"), std::string::npos);
  EXPECT_FALSE(parse_fingerprint("sha-1 " + ok32).ok());            // wrong length
  EXPECT_FALSE(parse_fingerprint("sha-256 " + ok32 + ":00").ok());  // too long
  std::string bad = ok32;
  bad[4] = 'G';
  EXPECT_FALSE(parse_fingerprint("sha-256 " + bad).ok());
  bad = ok32;
  bad[2] = '-';
  EXPECT_FALSE(parse_fingerprint("sha-256 " + bad).ok());
}

TEST(Fingerprint, EqualComparesHashAndBytes) {
  auto a = parse_fingerprint(
      "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:"
      "BB:CC:DD:EE:FF");
  ASSERT_TRUE(a.ok());
  Fingerprint b = *a;
  EXPECT_TRUE(fingerprint_equal(*a, b));
  b.bytes[31] ^= 0x80;
  EXPECT_FALSE(fingerprint_equal(*a, b));
  b = *a;
  b.hash = FingerprintHash::kSha1;
  EXPECT_FALSE(fingerprint_equal(*a, b));
}

}  // namespace
}  // namespace tern
