#include "engine/srtp/srtp_session.h"

#include <srtp2/srtp.h>

#include <climits>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/str_format.h"
#include "engine/srtp/hmac_sha1_auth.h"

namespace tern {

absl::Status srtp_library_init() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_fail;
  static srtp_err_status_t auth_status = srtp_err_status_fail;
  std::call_once(once, [] {
    status = srtp_init();
    // Our allocation-free HMAC-SHA1 replaces libsrtp's (see hmac_sha1_auth.h)
    // before any session exists; libsrtp self-tests it first.
    if (status == srtp_err_status_ok) {
      auth_status = srtp_replace_auth_type(&tern_hmac_sha1_auth_type(), SRTP_HMAC_SHA1);
    }
  });
  if (status != srtp_err_status_ok) {
    return absl::InternalError(absl::StrFormat("srtp_init failed: libsrtp error %d", int(status)));
  }
  if (auth_status != srtp_err_status_ok) {
    return absl::InternalError(absl::StrFormat(
        "srtp_replace_auth_type(SRTP_HMAC_SHA1) failed: libsrtp error %d", int(auth_status)));
  }
  return absl::OkStatus();
}

const char* srtp_status_name(SrtpStatus s) {
  switch (s) {
    case SrtpStatus::kOk:
      return "ok";
    case SrtpStatus::kAuthFail:
      return "auth_fail";
    case SrtpStatus::kReplayOld:
      return "replay_old";
    case SrtpStatus::kReplayDuplicate:
      return "replay_duplicate";
    case SrtpStatus::kBadLength:
      return "bad_length";
    case SrtpStatus::kNoTailroom:
      return "no_tailroom";
    case SrtpStatus::kError:
      return "error";
    case SrtpStatus::kCount:
      break;
  }
  return "unknown";
}

namespace {

bool to_libsrtp(SrtpProfile p, srtp_profile_t* out) {
  switch (p) {
    case SrtpProfile::kAes128CmSha1_80:
      *out = srtp_profile_aes128_cm_sha1_80;
      return true;
    case SrtpProfile::kAes128CmSha1_32:
      *out = srtp_profile_aes128_cm_sha1_32;
      return true;
    case SrtpProfile::kAeadAes128Gcm:
      *out = srtp_profile_aead_aes_128_gcm;
      return true;
    case SrtpProfile::kAeadAes256Gcm:
      *out = srtp_profile_aead_aes_256_gcm;
      return true;
  }
  return false;
}

SrtpStatus map_status(srtp_err_status_t e) {
  switch (e) {
    case srtp_err_status_ok:
      return SrtpStatus::kOk;
    case srtp_err_status_auth_fail:
      return SrtpStatus::kAuthFail;
    case srtp_err_status_replay_old:
      return SrtpStatus::kReplayOld;
    case srtp_err_status_replay_fail:
      return SrtpStatus::kReplayDuplicate;
    case srtp_err_status_bad_param:  // header fields past the end (srtp_validate_rtp_header)
    case srtp_err_status_parse_err:
      return SrtpStatus::kBadLength;
    default:
      return SrtpStatus::kError;
  }
}

constexpr size_t kRtpHeader = 12;
constexpr size_t kRtcpHeader = 8;  // header + sender SSRC: never encrypted

}  // namespace

absl::StatusOr<SrtpSession> SrtpSession::create(SrtpProfile profile, Direction dir,
                                                absl::Span<const uint8_t> key,
                                                absl::Span<const uint8_t> salt, Options opt) {
  srtp_profile_t p;
  if (!to_libsrtp(profile, &p)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("srtp profile %d is not supported", int(profile)));
  }
  const size_t key_len = srtp_profile_get_master_key_length(p);
  const size_t salt_len = srtp_profile_get_master_salt_length(p);
  if (key.size() != key_len) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "srtp master key is %d bytes, profile %d needs %d", key.size(), int(profile), key_len));
  }
  if (salt.size() != salt_len) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "srtp master salt is %d bytes, profile %d needs %d", salt.size(), int(profile), salt_len));
  }
  if (opt.replay_window < 64 || opt.replay_window > 0x8000) {
    return absl::InvalidArgumentError(
        absl::StrFormat("srtp replay_window %d is outside 64..32768", opt.replay_window));
  }

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, p) != srtp_err_status_ok ||
      srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, p) != srtp_err_status_ok) {
    return absl::InternalError(
        absl::StrFormat("libsrtp has no crypto policy for srtp profile %d", int(profile)));
  }
  // libsrtp reads key || salt from one buffer during srtp_create (it derives
  // the session keys there and keeps no pointer).
  uint8_t master[SRTP_MAX_KEY_LEN] = {};
  std::memcpy(master, key.data(), key_len);
  std::memcpy(master + key_len, salt.data(), salt_len);
  policy.key = master;
  policy.ssrc.type = dir == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.window_size = opt.replay_window;
  policy.allow_repeat_tx = opt.allow_repeat_tx ? 1 : 0;
  policy.next = nullptr;

  srtp_t ctx = nullptr;
  const srtp_err_status_t st = srtp_create(&ctx, &policy);
  explicit_bzero(master, sizeof(master));
  if (st != srtp_err_status_ok) {
    return absl::InternalError(absl::StrFormat(
        "srtp_create failed for profile %d: libsrtp error %d (srtp_library_init() called?)",
        int(profile), int(st)));
  }
  SrtpSession s;
  s.ctx_ = ctx;
  s.counters_ = std::make_unique<SrtpCounters>();
  s.profile_ = profile;
  s.dir_ = dir;
  s.rtp_tag_ = uint8_t(policy.rtp.auth_tag_len);
  s.rtcp_tag_ = uint8_t(policy.rtcp.auth_tag_len);
  return s;
}

absl::StatusOr<SrtpSession> SrtpSession::outbound(const SrtpKeyingMaterial& km, Options opt) {
  srtp_profile_t p;
  if (!to_libsrtp(km.profile, &p)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("srtp profile %d is not supported", int(km.profile)));
  }
  return create(km.profile, Direction::kOutbound,
                {km.local_key, srtp_profile_get_master_key_length(p)},
                {km.local_salt, srtp_profile_get_master_salt_length(p)}, opt);
}

absl::StatusOr<SrtpSession> SrtpSession::inbound(const SrtpKeyingMaterial& km, Options opt) {
  srtp_profile_t p;
  if (!to_libsrtp(km.profile, &p)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("srtp profile %d is not supported", int(km.profile)));
  }
  return create(km.profile, Direction::kInbound,
                {km.remote_key, srtp_profile_get_master_key_length(p)},
                {km.remote_salt, srtp_profile_get_master_salt_length(p)}, opt);
}

SrtpSession::SrtpSession(SrtpSession&& o) noexcept
    : ctx_(std::exchange(o.ctx_, nullptr)),
      counters_(std::move(o.counters_)),
      profile_(o.profile_),
      dir_(o.dir_),
      rtp_tag_(o.rtp_tag_),
      rtcp_tag_(o.rtcp_tag_) {}

SrtpSession& SrtpSession::operator=(SrtpSession&& o) noexcept {
  if (this != &o) {
    if (ctx_ != nullptr) srtp_dealloc(ctx_);
    ctx_ = std::exchange(o.ctx_, nullptr);
    counters_ = std::move(o.counters_);
    profile_ = o.profile_;
    dir_ = o.dir_;
    rtp_tag_ = o.rtp_tag_;
    rtcp_tag_ = o.rtcp_tag_;
  }
  return *this;
}

SrtpSession::~SrtpSession() {
  if (ctx_ != nullptr) srtp_dealloc(ctx_);
}

SrtpStatus SrtpSession::protect_rtp(uint8_t* data, size_t* len, size_t capacity) {
  if (*len < kRtpHeader || *len > INT_MAX - 64) return count(SrtpStatus::kBadLength);
  if (capacity < *len || capacity - *len < rtp_tag_) return count(SrtpStatus::kNoTailroom);
  int n = int(*len);
  const SrtpStatus s = map_status(srtp_protect(ctx_, data, &n));
  if (s == SrtpStatus::kOk) *len = size_t(n);
  return count(s);
}

SrtpStatus SrtpSession::unprotect_rtp(uint8_t* data, size_t* len) {
  if (*len < kRtpHeader + rtp_tag_ || *len > INT_MAX) return count(SrtpStatus::kBadLength);
  int n = int(*len);
  const SrtpStatus s = map_status(srtp_unprotect(ctx_, data, &n));
  if (s == SrtpStatus::kOk) *len = size_t(n);
  return count(s);
}

SrtpStatus SrtpSession::protect_rtcp(uint8_t* data, size_t* len, size_t capacity) {
  if (*len < kRtcpHeader || *len > INT_MAX - 64) return count(SrtpStatus::kBadLength);
  if (capacity < *len || capacity - *len < rtcp_overhead()) return count(SrtpStatus::kNoTailroom);
  int n = int(*len);
  const SrtpStatus s = map_status(srtp_protect_rtcp(ctx_, data, &n));
  if (s == SrtpStatus::kOk) *len = size_t(n);
  return count(s);
}

SrtpStatus SrtpSession::unprotect_rtcp(uint8_t* data, size_t* len) {
  if (*len < kRtcpHeader + rtcp_overhead() || *len > INT_MAX) {
    return count(SrtpStatus::kBadLength);
  }
  int n = int(*len);
  const SrtpStatus s = map_status(srtp_unprotect_rtcp(ctx_, data, &n));
  if (s == SrtpStatus::kOk) *len = size_t(n);
  return count(s);
}

}  // namespace tern
