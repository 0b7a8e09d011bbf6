// DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2) and the keying
// material a DtlsEndpoint hands to the SRTP layer after the handshake.
//
// Shared contract: engine/dtls produces SrtpKeyingMaterial, engine/srtp consumes it.
// The enum values are the IANA "DTLS-SRTP Protection Profiles" ids, so they can be
// compared directly with the id OpenSSL reports (SRTP_PROTECTION_PROFILE::id).
#pragma once

#include <cstdint>
#include <string_view>

namespace tern {

enum class SrtpProfile : uint8_t {
  kAes128CmSha1_80 = 1,  // SRTP_AES128_CM_HMAC_SHA1_80
  kAes128CmSha1_32 = 2,  // SRTP_AES128_CM_HMAC_SHA1_32
  kAeadAes128Gcm = 7,    // SRTP_AEAD_AES_128_GCM
  kAeadAes256Gcm = 8,    // SRTP_AEAD_AES_256_GCM
};

struct SrtpProfileInfo {
  const char* name;           // OpenSSL / RFC name, e.g. "SRTP_AES128_CM_SHA1_80"
  uint8_t key_len;            // master key bytes: 16 or 32
  uint8_t salt_len;           // master salt bytes: 14 (AES-CM) or 12 (AEAD, RFC 7714)
  uint8_t rtp_auth_tag_len;   // bytes appended to each SRTP packet (HMAC tag or GCM tag)
  uint8_t rtcp_auth_tag_len;  // bytes appended to each SRTCP packet (excl. the 4-byte index)
};

// Largest key_len / salt_len over all profiles: sizes of the arrays below.
inline constexpr size_t kSrtpMaxKeyLen = 32;
inline constexpr size_t kSrtpMaxSaltLen = 14;

// Table lookup; every enumerator above has an entry. Values outside the enum map to a
// static "unknown" entry with zero lengths (never crashes).
const SrtpProfileInfo& srtp_profile_info(SrtpProfile profile);

// True if `id` (an IANA protection profile id) is one of the enumerators above.
bool srtp_profile_known(uint16_t id);

// Parses an OpenSSL profile name ("SRTP_AEAD_AES_128_GCM", ...). False if unknown.
bool srtp_profile_from_name(std::string_view name, SrtpProfile* out);

// Keys derived from the DTLS exporter (label "EXTRACTOR-dtls_srtp") split per RFC 5764
// §4.2: client_key | server_key | client_salt | server_salt. "local" is what this side
// protects (encrypts) with: the client's half when our DTLS role is client, the server's
// half when we are the server. Only the first key_len / salt_len bytes of each array are
// meaningful (srtp_profile_info(profile)); the rest are zero.
// Owner: written once by DtlsEndpoint::srtp_keys(); read by engine/srtp.
struct SrtpKeyingMaterial {
  SrtpProfile profile;
  uint8_t local_key[kSrtpMaxKeyLen];
  uint8_t local_salt[kSrtpMaxSaltLen];
  uint8_t remote_key[kSrtpMaxKeyLen];
  uint8_t remote_salt[kSrtpMaxSaltLen];
};

}  // namespace tern
