// DTLS 1.2 endpoint (RFC 6347) for one WebRTC transport, with DTLS-SRTP keying
// (RFC 5763/5764) and application data for SCTP (RFC 8261). Sans-IO: the caller
// feeds received datagrams and the current time, collects the datagrams to send
// and arms a timer at next_timeout(). No sockets, no threads, no exceptions.
//
// OpenSSL runs behind a private datagram BIO: each datagram fed in is handed to
// OpenSSL as one read (records inside it are parsed in place, no copy); records
// OpenSSL writes are packed into datagrams of at most `mtu` bytes, one flush per
// flight, and queued until poll_output() copies them into the caller's buffer.
//
// Timers. OpenSSL 3.0 runs the DTLS retransmission timer on its own wall clock
// (gettimeofday); it cannot be driven by `now`. We set the backoff schedule with
// DTLS_set_timer_cb (initial_retransmit, doubling, capped at max_retransmit) and
// translate OpenSSL's remaining time into the caller's clock after every call:
// next_timeout() = now + DTLSv1_get_timeout(). on_timeout(now) asks OpenSSL to
// retransmit; if OpenSSL's clock says it is not yet time (clocks disagree), it
// does nothing and the deadline is recomputed. OpenSSL treats a timer with less
// than 15 ms left as expired. Tests therefore drive `now` from a real monotonic
// clock and wait for real time to pass before on_timeout (see docs/dtls.md).
//
// Threading: one endpoint is used by one thread (its worker). DtlsContext is shared
// read-only by all endpoints of a node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/dtls/certificate.h"
#include "engine/dtls/srtp_profile.h"
#include "engine/net/nanos.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;

namespace tern {

// Node-wide TLS configuration: the certificate, DTLS 1.2 only, ECDHE cipher suites
// (ECDSA + AES-GCM first), no session resumption or renegotiation. Create once,
// share between endpoints (the SSL_CTX is reference counted and thread-safe).
class DtlsContext {
 public:
  static absl::StatusOr<std::shared_ptr<DtlsContext>> create(
      std::shared_ptr<const DtlsCertificate> certificate);
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

  const DtlsCertificate& certificate() const { return *certificate_; }
  SSL_CTX* ssl_ctx() const { return ctx_; }

 private:
  DtlsContext(std::shared_ptr<const DtlsCertificate> cert, SSL_CTX* ctx)
      : certificate_(std::move(cert)), ctx_(ctx) {}
  std::shared_ptr<const DtlsCertificate> certificate_;
  SSL_CTX* ctx_;
};

// RFC 5763 §5: a=setup:active -> we are the DTLS client, a=setup:passive -> server.
enum class DtlsRole : uint8_t { kClient, kServer };

enum class DtlsState : uint8_t {
  kNew,         // created; start() not called, nothing received
  kConnecting,  // handshake in progress
  kConnected,   // handshake done, peer fingerprint verified, SRTP keys available
  kFailed,      // fatal error; failure_reason() says why. Terminal.
  kClosed,      // close_notify sent or received. Terminal.
};
const char* dtls_state_name(DtlsState s);

std::vector<SrtpProfile> default_srtp_profiles();

struct DtlsEndpointConfig {
  DtlsRole role = DtlsRole::kServer;
  // use_srtp profiles in preference order. As server, OpenSSL picks the first entry
  // of THIS list that the client offered, whatever the client's order (docs/dtls.md).
  // Empty: no use_srtp extension (data-channel-only transport).
  // Default: AEAD_AES_128_GCM, AEAD_AES_256_GCM, AES128_CM_SHA1_80, AES128_CM_SHA1_32.
  std::vector<SrtpProfile> srtp_profiles = default_srtp_profiles();
  // Fail the handshake when use_srtp was offered but no profile was negotiated.
  bool require_srtp = true;
  // Largest datagram we send (the UDP payload): handshake flights are fragmented
  // to fit. 1200 keeps us under any path MTU WebRTC meets (incl. TURN overhead).
  size_t mtu = 1200;
  Nanos initial_retransmit = 400 * kMillisecond;  // >= 50 ms (OpenSSL's 15 ms slack)
  Nanos max_retransmit = 8 * kSecond;
  // Give up (state failed, "handshake timeout") this long after start.
  Nanos handshake_timeout = 30 * kSecond;
  // Expected peer certificate fingerprint from the remote SDP. May instead be set
  // later with set_remote_fingerprint(), but before the peer's Certificate arrives.
  bool has_remote_fingerprint = false;
  Fingerprint remote_fingerprint;
};

struct DtlsStats {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t dropped_in = 0;   // not a DTLS record (RFC 7983 first byte) or too short
  uint64_t dropped_out = 0;  // output queue full (caller not polling)
  uint64_t retransmits = 0;  // flight retransmissions (timer expiries)
  uint64_t app_bytes_in = 0;
  uint64_t app_bytes_out = 0;
};

class DtlsEndpoint {
 public:
  // Called with each decrypted application-data record (one SCTP packet), during
  // feed(). The pointer is valid only during the call.
  using AppDataHandler = absl::AnyInvocable<void(const uint8_t* data, size_t len)>;

  static absl::StatusOr<std::unique_ptr<DtlsEndpoint>> create(
      std::shared_ptr<const DtlsContext> context, const DtlsEndpointConfig& config);
  ~DtlsEndpoint();
  DtlsEndpoint(const DtlsEndpoint&) = delete;
  DtlsEndpoint& operator=(const DtlsEndpoint&) = delete;

  // Sets/replaces the expected peer fingerprint (SDP). Error once the peer's
  // certificate was already checked.
  absl::Status set_remote_fingerprint(const Fingerprint& fp);
  void set_app_data_handler(AppDataHandler handler) { app_handler_ = std::move(handler); }

  // Client: sends the ClientHello. Server: starts waiting (a ClientHello fed while
  // kNew starts the server implicitly). No-op unless kNew.
  void start(Nanos now);

  // One received datagram (one UDP payload, possibly several DTLS records).
  // Non-DTLS bytes are counted in stats().dropped_in and ignored.
  void feed(const uint8_t* data, size_t len, Nanos now);

  // Copies the next queued datagram into buf and returns its length; 0 if none is
  // queued or `cap` < next_output_size() (then nothing is consumed).
  size_t poll_output(uint8_t* buf, size_t cap);
  size_t next_output_size() const;
  size_t output_count() const { return out_.size() - out_head_; }

  // When on_timeout() must next be called; kNever if no timer runs.
  Nanos next_timeout() const { return deadline_; }
  void on_timeout(Nanos now);

  // Encrypts one application-data record (one SCTP packet). Only when connected;
  // len must not exceed max_app_data_size() (no fragmentation in DTLS).
  absl::Status send_application_data(const uint8_t* data, size_t len, Nanos now);
  size_t max_app_data_size() const;

  // Sends close_notify (queued for poll_output) and moves to kClosed.
  void close(Nanos now);

  DtlsState state() const { return state_; }
  DtlsRole role() const { return config_.role; }
  const std::string& failure_reason() const { return failure_reason_; }
  const DtlsStats& stats() const { return stats_; }

  // Valid when connected with a negotiated use_srtp profile.
  bool has_srtp_keys() const { return has_srtp_keys_; }
  const SrtpKeyingMaterial& srtp_keys() const { return srtp_keys_; }
  // Negotiated TLS cipher suite name ("ECDHE-ECDSA-AES128-GCM-SHA256"), "" before.
  std::string cipher_name() const;
  // SHA-256 fingerprint of the peer's certificate (after it was received).
  const Fingerprint& peer_fingerprint() const { return peer_fingerprint_; }
  // RFC 5705 exporter, e.g. "EXTRACTOR-dtls_srtp" (tests compare with other stacks).
  absl::Status export_keying_material(absl::string_view label, uint8_t* out, size_t len) const;

 private:
  struct Bio;
  friend struct Bio;
  friend struct DtlsCallbacks;

  DtlsEndpoint(std::shared_ptr<const DtlsContext> ctx, const DtlsEndpointConfig& config);
  absl::Status init();

  void drive(Nanos now);       // handshake / read loop after any input
  void after_call(Nanos now);  // close the open datagram, recompute deadline
  void on_handshake_done();
  void fail(std::string reason);
  int verify_peer(X509* cert);  // verify callback body, 1 = accept
  // BIO side.
  int bio_write(const uint8_t* data, size_t len);
  int bio_read(uint8_t* buf, size_t cap);
  void close_datagram();

  std::shared_ptr<const DtlsContext> ctx_;
  DtlsEndpointConfig config_;
  SSL* ssl_ = nullptr;
  DtlsState state_ = DtlsState::kNew;
  std::string failure_reason_;
  AppDataHandler app_handler_;
  Nanos started_at_ = 0;
  Nanos deadline_ = kNever;
  bool peer_verified_ = false;
  std::string verify_failure_;  // set by verify_peer() when it rejects
  Fingerprint peer_fingerprint_;
  bool has_srtp_keys_ = false;
  SrtpKeyingMaterial srtp_keys_{};
  DtlsStats stats_;

  // Input: the datagram being fed (borrowed for the duration of feed()).
  const uint8_t* in_data_ = nullptr;
  size_t in_len_ = 0;
  // Output: datagrams packed back to back in out_bytes_; out_[i] = {offset, len}.
  // The last one is "open" (still accepting records) until close_datagram().
  struct Span {
    size_t offset;
    size_t len;
  };
  std::vector<uint8_t> out_bytes_;
  std::vector<Span> out_;
  size_t out_head_ = 0;
  bool out_open_ = false;
  std::vector<uint8_t> app_buf_;  // SSL_read scratch, one record
};

}  // namespace tern
