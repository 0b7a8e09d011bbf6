// An allocation-free HMAC-SHA1 for libsrtp's AES-CM profiles.
//
// libsrtp 2.5's OpenSSL backend authenticates each packet through an
// EVP_MAC context it re-initialises per packet; with OpenSSL 3 that makes two
// heap allocations per packet (the provider duplicates its digest contexts),
// measured by tests/unit/srtp_ctx/hot_path_alloc_test.cc. This auth type
// keeps the SHA-1 states after key^ipad and key^opad as plain structs,
// prepared once per session key, and copies them per packet: no allocation,
// and less work per packet. Installed into libsrtp's crypto kernel by
// srtp_library_init() (srtp_replace_auth_type, which self-tests it against
// RFC 2202 and libsrtp's own HMAC vectors first).
#pragma once

#include <srtp2/auth.h>

namespace tern {

// The auth type (id SRTP_HMAC_SHA1) to hand to srtp_replace_auth_type().
const srtp_auth_type_t& tern_hmac_sha1_auth_type();

}  // namespace tern
