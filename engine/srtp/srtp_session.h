// SRTP/SRTCP contexts (RFC 3711, RFC 7714) over libsrtp 2.5 (OpenSSL build).
//
// One SrtpSession per direction per transport: outbound sessions protect what
// we send with our DTLS-exported key, inbound sessions unprotect what the
// peer sends with theirs. Each session covers every SSRC of its transport
// (libsrtp's ssrc_any_outbound / ssrc_any_inbound templates), so SSRCs need
// not be known in advance — BUNDLE carries many.
//
// Per packet: in place in the caller's buffer, no allocation, no lock, no
// log line; the result is a status and a counter. One exception, from
// libsrtp: the first packet of each new SSRC clones the template stream
// (srtp_stream_clone: one allocation of a few hundred bytes and a key
// schedule). Inbound, libsrtp clones only after the packet authenticated, so
// a peer without the key cannot make us allocate. Streams live until the
// session is destroyed.
//
// AES-CM profiles authenticate with tern's own HMAC-SHA1 (hmac_sha1_auth.h),
// installed into libsrtp by srtp_library_init(): libsrtp's OpenSSL 3 HMAC
// allocates twice per packet. tests/unit/srtp_ctx/hot_path_alloc_test.cc
// checks all of the above.
//
// Threading: a session belongs to one worker (libsrtp contexts are not
// thread-safe). srtp_library_init() must have run once, on the control
// thread, before any session is created.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/dtls/srtp_profile.h"
#include "engine/net/counters.h"

struct srtp_ctx_t_;  // libsrtp's session (srtp_t); its header stays out of ours

namespace tern {

// Initialises libsrtp once per process (srtp_init, then installs the
// allocation-free HMAC-SHA1); tern calls srtp_init nowhere else. Thread-safe;
// every call returns the first call's result.
absl::Status srtp_library_init();

enum class SrtpStatus : uint8_t {
  kOk = 0,
  kAuthFail,         // tag did not verify (wrong key, tampered, or not SRTP)
  kReplayOld,        // index older than the replay window
  kReplayDuplicate,  // index already seen (or, outbound, already protected)
  kBadLength,        // shorter than a header plus tag, or a malformed header
  kNoTailroom,       // protect: capacity - len < overhead
  kError,            // anything else libsrtp reports (cipher failure, ...)
  kCount
};
const char* srtp_status_name(SrtpStatus s);

// One writer (the worker that owns the session), any reader.
struct SrtpCounters {
  Counter by_status[static_cast<size_t>(SrtpStatus::kCount)];
  void add(SrtpStatus s) { by_status[static_cast<size_t>(s)].add(); }
  uint64_t get(SrtpStatus s) const { return by_status[static_cast<size_t>(s)].get(); }
};

struct SrtpOptions {
  // Replay window in packets (libsrtp accepts 64..32768).
  uint32_t replay_window = 1024;
  // Outbound: allow protecting the same (SSRC, seq) twice. Off: a NACK
  // retransmission of the same packet must resend the stored SRTP bytes or
  // go out as RTX (RFC 4588) with its own sequence numbers.
  bool allow_repeat_tx = false;
};

class SrtpSession {
 public:
  enum class Direction : uint8_t { kInbound, kOutbound };
  using Options = SrtpOptions;

  // key/salt lengths must match the profile (16/32 key, 14 or 12 salt).
  // Control plane: allocates; errors name the field and value.
  static absl::StatusOr<SrtpSession> create(SrtpProfile profile, Direction dir,
                                            absl::Span<const uint8_t> key,
                                            absl::Span<const uint8_t> salt, Options opt);
  static absl::StatusOr<SrtpSession> create(SrtpProfile profile, Direction dir,
                                            absl::Span<const uint8_t> key,
                                            absl::Span<const uint8_t> salt) {
    return create(profile, dir, key, salt, Options());
  }
  // From DTLS keying material (RFC 5764 §4.2): outbound uses the local
  // key/salt, inbound the remote ones.
  static absl::StatusOr<SrtpSession> outbound(const SrtpKeyingMaterial& km,
                                              Options opt = Options());
  static absl::StatusOr<SrtpSession> inbound(const SrtpKeyingMaterial& km, Options opt = Options());

  SrtpSession(SrtpSession&& o) noexcept;
  SrtpSession& operator=(SrtpSession&& o) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;
  ~SrtpSession();

  // Hot path. `data` holds the packet in its first *len bytes; protect may
  // write up to `capacity` bytes from `data` (the packet plus tailroom of at
  // least rtp_overhead()/rtcp_overhead()). On success *len is the new length;
  // on failure the buffer content is unspecified for unprotect (libsrtp may
  // have decrypted in place before a replay check) and unchanged for the
  // length/tailroom checks.
  SrtpStatus protect_rtp(uint8_t* data, size_t* len, size_t capacity);
  SrtpStatus unprotect_rtp(uint8_t* data, size_t* len);
  SrtpStatus protect_rtcp(uint8_t* data, size_t* len, size_t capacity);
  SrtpStatus unprotect_rtcp(uint8_t* data, size_t* len);

  // Bytes protect adds: the RTP tag; the SRTCP E+index word plus its tag.
  size_t rtp_overhead() const { return rtp_tag_; }
  size_t rtcp_overhead() const { return 4 + rtcp_tag_; }
  SrtpProfile profile() const { return profile_; }
  Direction direction() const { return dir_; }
  const SrtpCounters& counters() const { return *counters_; }

 private:
  SrtpSession() = default;
  SrtpStatus count(SrtpStatus s) {
    counters_->add(s);
    return s;
  }

  ::srtp_ctx_t_* ctx_ = nullptr;
  // Heap-held: atomics do not move, and readers keep a stable reference.
  std::unique_ptr<SrtpCounters> counters_;
  SrtpProfile profile_ = SrtpProfile::kAes128CmSha1_80;
  Direction dir_ = Direction::kOutbound;
  uint8_t rtp_tag_ = 0;
  uint8_t rtcp_tag_ = 0;
};

}  // namespace tern
