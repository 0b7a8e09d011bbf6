#include "engine/dtls/srtp_profile.h"

namespace tern {
namespace {

// RFC 5764 §4.1.2 (AES-CM + HMAC-SHA1: 80-bit tag, or 32-bit for RTP only; SRTCP keeps
// 80 bits, RFC 3711 §4.2 / RFC 5764 §4.1.2) and RFC 7714 §12/§14.2 (AEAD: 16-byte tag,
// 12-byte salt).
constexpr SrtpProfileInfo kAes128CmSha1_80{"SRTP_AES128_CM_SHA1_80", 16, 14, 10, 10};
constexpr SrtpProfileInfo kAes128CmSha1_32{"SRTP_AES128_CM_SHA1_32", 16, 14, 4, 10};
constexpr SrtpProfileInfo kAeadAes128Gcm{"SRTP_AEAD_AES_128_GCM", 16, 12, 16, 16};
constexpr SrtpProfileInfo kAeadAes256Gcm{"SRTP_AEAD_AES_256_GCM", 32, 12, 16, 16};
constexpr SrtpProfileInfo kUnknown{"unknown", 0, 0, 0, 0};

}  // namespace

const SrtpProfileInfo& srtp_profile_info(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      return kAes128CmSha1_80;
    case SrtpProfile::kAes128CmSha1_32:
      return kAes128CmSha1_32;
    case SrtpProfile::kAeadAes128Gcm:
      return kAeadAes128Gcm;
    case SrtpProfile::kAeadAes256Gcm:
      return kAeadAes256Gcm;
  }
  return kUnknown;
}

bool srtp_profile_known(uint16_t id) { return id == 1 || id == 2 || id == 7 || id == 8; }

bool srtp_profile_from_name(std::string_view name, SrtpProfile* out) {
  for (SrtpProfile p : {SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAes128CmSha1_32,
                        SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm}) {
    if (name == srtp_profile_info(p).name) {
      *out = p;
      return true;
    }
  }
  return false;
}

}  // namespace tern
