// An independent SRTP/SRTCP implementation for the tests, written from RFC
// 3711 (AES-CM key derivation, AES-CM + HMAC-SHA1) and RFC 7714 (AES-GCM),
// on OpenSSL EVP. It is checked against the RFCs' own test vectors, then
// SrtpSession (libsrtp) is checked byte for byte against it: libsrtp takes a
// master key and derives session keys internally, so the RFC 7714 vectors
// (given as session keys) cannot be fed to it directly.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tern {
namespace srtp_ref {

using Bytes = std::vector<uint8_t>;

inline Bytes hex(const std::string& s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(uint8_t(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

inline Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// AES-CTR over `data` with a 16-byte initial counter block.
inline Bytes aes_ctr(const Bytes& key, const uint8_t iv[16], const Bytes& data) {
  Bytes out(data.size());
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, key.size() == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr(), nullptr,
                     key.data(), iv);
  int n = 0;
  if (!data.empty()) EVP_EncryptUpdate(c, out.data(), &n, data.data(), int(data.size()));
  EVP_CIPHER_CTX_free(c);
  return out;
}

// RFC 3711 §4.3.1 with key_derivation_rate 0: x = salt XOR (label << 48),
// keystream of AES-CM(master key, x * 2^16). A 12-byte (RFC 7714) salt is
// padded with zeros on the right to 14.
inline Bytes kdf(const Bytes& master_key, const Bytes& master_salt, uint8_t label, size_t n) {
  uint8_t iv[16] = {};
  std::memcpy(iv, master_salt.data(), master_salt.size());
  iv[7] ^= label;
  return aes_ctr(master_key, iv, Bytes(n, 0));
}

struct SessionKeys {
  Bytes enc, salt, auth;
};
// RTP labels 0/1/2, RTCP 3/4/5. GCM: 12-byte salt, no auth key.
inline SessionKeys derive(const Bytes& key, const Bytes& salt, bool gcm, bool rtcp) {
  const uint8_t base = rtcp ? 3 : 0;
  SessionKeys k;
  k.enc = kdf(key, salt, base, key.size());
  if (!gcm) k.auth = kdf(key, salt, base + 1, 20);
  k.salt = kdf(key, salt, base + 2, gcm ? 12 : 14);
  return k;
}

inline Bytes hmac_sha1(const Bytes& key, const Bytes& data) {
  uint8_t md[20];
  unsigned len = 0;
  HMAC(EVP_sha1(), key.data(), int(key.size()), data.data(), data.size(), md, &len);
  return Bytes(md, md + len);
}

inline Bytes gcm_seal(const Bytes& key, const uint8_t iv[12], const Bytes& aad,
                      const Bytes& plain) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(c, key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, nullptr,
                     nullptr);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
  EVP_EncryptInit_ex(c, nullptr, nullptr, key.data(), iv);
  int n = 0;
  EVP_EncryptUpdate(c, nullptr, &n, aad.data(), int(aad.size()));
  Bytes out(plain.size() + 16);
  if (!plain.empty()) EVP_EncryptUpdate(c, out.data(), &n, plain.data(), int(plain.size()));
  EVP_EncryptFinal_ex(c, out.data() + plain.size(), &n);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plain.size());
  EVP_CIPHER_CTX_free(c);
  return out;
}

inline uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void put32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

inline size_t rtp_header_size(const Bytes& p) {
  size_t n = 12 + 4 * (p[0] & 0x0F);
  if (p[0] & 0x10) n += 4 + 4 * (size_t(p[n + 2]) << 8 | p[n + 3]);
  return n;
}

// SRTP with session keys; `tag_len` 10 or 4 for AES-CM, ignored for GCM.
inline Bytes protect_rtp(const SessionKeys& k, bool gcm, size_t tag_len, const Bytes& pkt,
                         uint32_t roc) {
  const size_t h = rtp_header_size(pkt);
  const uint32_t ssrc = be32(&pkt[8]);
  const uint16_t seq = uint16_t(pkt[2] << 8 | pkt[3]);
  const Bytes header(pkt.begin(), pkt.begin() + h), payload(pkt.begin() + h, pkt.end());
  if (gcm) {  // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt
    uint8_t iv[12] = {};
    put32(iv + 2, ssrc);
    put32(iv + 6, roc);
    iv[10] = uint8_t(seq >> 8);
    iv[11] = uint8_t(seq);
    for (int i = 0; i < 12; ++i) iv[i] ^= k.salt[i];
    return cat(header, gcm_seal(k.enc, iv, header, payload));
  }
  // RFC 3711 §4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16)
  uint8_t iv[16] = {};
  std::memcpy(iv, k.salt.data(), 14);
  uint8_t s[4];
  put32(s, ssrc);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= s[i];
  const uint64_t index = uint64_t(roc) << 16 | seq;
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= uint8_t(index >> (40 - 8 * i));
  Bytes out = cat(header, aes_ctr(k.enc, iv, payload));
  uint8_t r[4];
  put32(r, roc);
  const Bytes tag = hmac_sha1(k.auth, cat(out, Bytes(r, r + 4)));
  return cat(out, Bytes(tag.begin(), tag.begin() + tag_len));
}

// SRTCP with session keys, E=1, the given 31-bit index.
inline Bytes protect_rtcp(const SessionKeys& k, bool gcm, const Bytes& pkt, uint32_t index) {
  const uint32_t ssrc = be32(&pkt[4]);
  const Bytes header(pkt.begin(), pkt.begin() + 8), body(pkt.begin() + 8, pkt.end());
  uint8_t e_index[4];
  put32(e_index, 0x80000000u | index);
  const Bytes trailer(e_index, e_index + 4);
  if (gcm) {  // RFC 7714 §9.1: IV = (0x0000 || SSRC || 0x0000 || index) XOR salt
    uint8_t iv[12] = {};
    put32(iv + 2, ssrc);
    put32(iv + 8, index);
    for (int i = 0; i < 12; ++i) iv[i] ^= k.salt[i];
    return cat(cat(header, gcm_seal(k.enc, iv, cat(header, trailer), body)), trailer);
  }
  uint8_t iv[16] = {};
  std::memcpy(iv, k.salt.data(), 14);
  uint8_t s[4];
  put32(s, ssrc);
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= s[i];
  for (int i = 0; i < 4; ++i) iv[10 + i] ^= uint8_t(index >> (24 - 8 * i));
  const Bytes out = cat(cat(header, aes_ctr(k.enc, iv, body)), trailer);
  const Bytes tag = hmac_sha1(k.auth, out);
  return cat(out, Bytes(tag.begin(), tag.begin() + 10));
}

}  // namespace srtp_ref
}  // namespace tern
