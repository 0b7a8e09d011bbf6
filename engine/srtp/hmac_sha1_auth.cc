#include "engine/srtp/hmac_sha1_auth.h"

// SHA1_* are deprecated in OpenSSL 3 but present in every build; see
// engine/stun/message_integrity.cc for the same choice and its measurements.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <srtp2/crypto_types.h>

#include <cstdlib>
#include <cstring>

namespace tern {
namespace {

constexpr int kBlock = 64;
constexpr int kDigest = 20;

struct State {
  SHA_CTX inner;  // after key ^ ipad
  SHA_CTX outer;  // after key ^ opad
  SHA_CTX ctx;    // the message in progress
};

srtp_err_status_t alloc(srtp_auth_pointer_t* ap, int key_len, int out_len) {
  if (key_len < 0 || key_len > kBlock || out_len < 0 || out_len > kDigest) {
    return srtp_err_status_bad_param;
  }
  // One block: the auth object, then its state (control plane: session setup
  // and libsrtp's per-SSRC stream clone).
  void* mem = std::calloc(1, sizeof(srtp_auth_t) + sizeof(State));
  if (mem == nullptr) return srtp_err_status_alloc_fail;
  auto* a = static_cast<srtp_auth_t*>(mem);
  a->type = &tern_hmac_sha1_auth_type();
  a->state = static_cast<uint8_t*>(mem) + sizeof(srtp_auth_t);
  a->out_len = out_len;
  a->key_len = key_len;
  a->prefix_len = 0;
  *ap = a;
  return srtp_err_status_ok;
}

srtp_err_status_t dealloc(srtp_auth_pointer_t a) {
  // Wipe the keyed states before giving the memory back.
  volatile uint8_t* p = static_cast<uint8_t*>(a->state);
  for (size_t i = 0; i < sizeof(State); ++i) p[i] = 0;
  std::free(a);
  return srtp_err_status_ok;
}

srtp_err_status_t init(void* state, const uint8_t* key, int key_len) {
  if (key_len < 0 || key_len > kBlock) return srtp_err_status_bad_param;
  auto* s = static_cast<State*>(state);
  uint8_t ipad[kBlock], opad[kBlock];
  for (int i = 0; i < kBlock; ++i) {
    const uint8_t k = i < key_len ? key[i] : 0;
    ipad[i] = k ^ 0x36;
    opad[i] = k ^ 0x5c;
  }
  if (!SHA1_Init(&s->inner) || !SHA1_Update(&s->inner, ipad, kBlock) || !SHA1_Init(&s->outer) ||
      !SHA1_Update(&s->outer, opad, kBlock)) {
    return srtp_err_status_auth_fail;
  }
  s->ctx = s->inner;
  return srtp_err_status_ok;
}

srtp_err_status_t start(void* state) {
  auto* s = static_cast<State*>(state);
  s->ctx = s->inner;
  return srtp_err_status_ok;
}

srtp_err_status_t update(void* state, const uint8_t* buf, int len) {
  if (len < 0) return srtp_err_status_bad_param;
  SHA1_Update(&static_cast<State*>(state)->ctx, buf, size_t(len));
  return srtp_err_status_ok;
}

srtp_err_status_t compute(void* state, const uint8_t* buf, int len, int tag_len, uint8_t* tag) {
  if (len < 0 || tag_len < 0 || tag_len > kDigest) return srtp_err_status_bad_param;
  auto* s = static_cast<State*>(state);
  uint8_t inner[kDigest], outer[kDigest];
  SHA1_Update(&s->ctx, buf, size_t(len));
  SHA1_Final(inner, &s->ctx);
  SHA_CTX o = s->outer;
  SHA1_Update(&o, inner, kDigest);
  SHA1_Final(outer, &o);
  std::memcpy(tag, outer, size_t(tag_len));
  return srtp_err_status_ok;
}

// RFC 2202 §3, test case 1 (libsrtp runs it when the type is installed).
const uint8_t kTestKey[20] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                              0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
const uint8_t kTestData[8] = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
const uint8_t kTestTag[20] = {0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
                              0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
const srtp_auth_test_case_t kTestCase = {20, kTestKey, 8, kTestData, 20, kTestTag, nullptr};

const srtp_auth_type_t kType = {alloc,
                                dealloc,
                                init,
                                compute,
                                update,
                                start,
                                "tern hmac sha-1 (prepared SHA1 states, allocation-free)",
                                &kTestCase,
                                SRTP_HMAC_SHA1};

}  // namespace

const srtp_auth_type_t& tern_hmac_sha1_auth_type() { return kType; }

}  // namespace tern
