#include "engine/dtls/dtls_endpoint.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/dtls/openssl_error.h"

namespace tern {

using dtls_internal::take_openssl_errors;

namespace {

constexpr char kSrtpExporterLabel[] = "EXTRACTOR-dtls_srtp";
// ECDHE only (forward secrecy), AEAD only. ECDSA first: our generated certificate is
// P-256; RSA suites remain for operators who load an RSA certificate.
constexpr char kCipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kGroups[] = "X25519:P-256:P-384";
// Bound on queued output if the caller stops polling (a flight is a few KB).
constexpr size_t kMaxQueuedBytes = 256 * 1024;
constexpr size_t kMaxRecordPlaintext = 16384;
// OpenSSL considers a DTLS timer with < 15 ms left expired; a shorter schedule would
// make it retransmit on every read.
constexpr Nanos kMinRetransmit = 50 * kMillisecond;
// Bound on records handled per feed() (a datagram holds at most a few dozen).
constexpr int kMaxReadsPerFeed = 64;

bool is_dtls_first_byte(uint8_t b) { return b >= 20 && b <= 63; }  // RFC 7983 §7

}  // namespace

std::vector<SrtpProfile> default_srtp_profiles() {
  std::vector<SrtpProfile> v;
  v.reserve(4);
  v.push_back(SrtpProfile::kAeadAes128Gcm);
  v.push_back(SrtpProfile::kAeadAes256Gcm);
  v.push_back(SrtpProfile::kAes128CmSha1_80);
  v.push_back(SrtpProfile::kAes128CmSha1_32);
  return v;
}

const char* dtls_state_name(DtlsState s) {
  switch (s) {
    case DtlsState::kNew:
      return "new";
    case DtlsState::kConnecting:
      return "connecting";
    case DtlsState::kConnected:
      return "connected";
    case DtlsState::kFailed:
      return "failed";
    case DtlsState::kClosed:
      return "closed";
  }
  return "unknown";
}

// OpenSSL C callbacks. Everything reaches the endpoint through SSL_get_app_data /
// BIO_get_data, set before the first OpenSSL call that can invoke them.
struct DtlsCallbacks {
  static int verify(int /*preverify_ok*/, X509_STORE_CTX* store) {
    // preverify_ok is 0 for every self-signed certificate: WebRTC trusts the
    // fingerprint from signalling instead of a CA (RFC 8827 §6.5). Only the leaf
    // (the certificate the peer proves possession of) is compared.
    SSL* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* ep = ssl != nullptr ? static_cast<DtlsEndpoint*>(SSL_get_app_data(ssl)) : nullptr;
    X509* leaf = X509_STORE_CTX_get0_cert(store);
    if (ep == nullptr || leaf == nullptr) return 0;
    int ok = ep->verify_peer(leaf);
    if (!ok) X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);  // -> bad_certificate
    return ok;
  }

  static unsigned int timer(SSL* ssl, unsigned int previous_us) {
    auto* ep = static_cast<DtlsEndpoint*>(SSL_get_app_data(ssl));
    const auto initial = static_cast<unsigned int>(ep->config_.initial_retransmit / kMicrosecond);
    const auto max = static_cast<unsigned int>(ep->config_.max_retransmit / kMicrosecond);
    if (previous_us == 0) return initial;  // a new flight
    // Called by OpenSSL right before it retransmits the buffered flight.
    ++ep->stats_.retransmits;
    return previous_us >= max / 2 ? max : previous_us * 2;
  }
};

// A datagram BIO over the endpoint's buffers: reads hand over the datagram being
// fed (once); writes append records to the open output datagram, which a flush (end
// of flight, or OpenSSL finding it full via BIO_wpending) closes.
struct DtlsEndpoint::Bio {
  static DtlsEndpoint* ep(BIO* b) { return static_cast<DtlsEndpoint*>(BIO_get_data(b)); }

  static int write(BIO* b, const char* data, int len) {
    BIO_clear_retry_flags(b);
    DtlsEndpoint* e = ep(b);
    if (e == nullptr || len < 0) return -1;
    return e->bio_write(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
  }

  static int read(BIO* b, char* buf, int cap) {
    BIO_clear_retry_flags(b);
    DtlsEndpoint* e = ep(b);
    if (e == nullptr || cap < 0) return -1;
    int n = e->bio_read(reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(cap));
    if (n < 0) BIO_set_retry_read(b);
    return n;
  }

  static long ctrl(BIO* b, int cmd, long /*num*/, void* /*ptr*/) {
    DtlsEndpoint* e = ep(b);
    if (e == nullptr) return 0;
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        e->close_datagram();
        return 1;
      case BIO_CTRL_WPENDING:  // bytes already in the open datagram (OpenSSL packs)
        return e->out_open_ ? static_cast<long>(e->out_.back().len) : 0;
      case BIO_CTRL_PENDING:
        return e->in_data_ != nullptr ? static_cast<long>(e->in_len_) : 0;
      case BIO_CTRL_DGRAM_QUERY_MTU:
        return static_cast<long>(e->config_.mtu);
      case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:  // we count the UDP payload only
      case BIO_CTRL_DGRAM_MTU_EXCEEDED:
      case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:  // OpenSSL's wall-clock deadline: unused
      default:
        return 0;
    }
  }

  static int create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }
  static int destroy(BIO* /*b*/) { return 1; }

  static BIO_METHOD* method() {
    static BIO_METHOD* m = [] {
      BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tern dtls");
      if (bm == nullptr) return bm;
      BIO_meth_set_write(bm, &Bio::write);
      BIO_meth_set_read(bm, &Bio::read);
      BIO_meth_set_ctrl(bm, &Bio::ctrl);
      BIO_meth_set_create(bm, &Bio::create);
      BIO_meth_set_destroy(bm, &Bio::destroy);
      return bm;
    }();
    return m;
  }
};

// ---------------------------------------------------------------------------
// DtlsContext

absl::StatusOr<std::shared_ptr<DtlsContext>> DtlsContext::create(
    std::shared_ptr<const DtlsCertificate> certificate) {
  if (certificate == nullptr) return absl::InvalidArgumentError("dtls context: no certificate");
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
  auto fail = [&](const char* step) {
    SSL_CTX_free(ctx);
    return absl::InternalError(
        absl::StrCat("dtls context: ", step, " failed: ", take_openssl_errors()));
  };
  if (ctx == nullptr) return fail("SSL_CTX_new");
  // DTLS 1.2 only for now (1.3 is a later step, docs/dtls.md).
  if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) != 1) {
    return fail("set DTLS 1.2");
  }
  if (SSL_CTX_use_certificate(ctx, certificate->x509()) != 1) return fail("use_certificate");
  if (SSL_CTX_use_PrivateKey(ctx, certificate->private_key()) != 1) return fail("use_PrivateKey");
  if (SSL_CTX_check_private_key(ctx) != 1) return fail("check_private_key");
  if (SSL_CTX_set_cipher_list(ctx, kCipherList) != 1) return fail("set_cipher_list");
  if (SSL_CTX_set1_groups_list(ctx, kGroups) != 1) return fail("set1_groups_list");
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Both roles demand the peer's certificate: its fingerprint is the authentication.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     &DtlsCallbacks::verify);
  return std::shared_ptr<DtlsContext>(new DtlsContext(std::move(certificate), ctx));
}

DtlsContext::~DtlsContext() { SSL_CTX_free(ctx_); }

// ---------------------------------------------------------------------------
// DtlsEndpoint: setup

absl::StatusOr<std::unique_ptr<DtlsEndpoint>> DtlsEndpoint::create(
    std::shared_ptr<const DtlsContext> context, const DtlsEndpointConfig& config) {
  if (context == nullptr) return absl::InvalidArgumentError("dtls: no context");
  if (config.mtu < 256 || config.mtu > 65507) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtls: mtu ", config.mtu, " not in [256, 65507]"));
  }
  if (config.initial_retransmit < kMinRetransmit) {
    return absl::InvalidArgumentError(absl::StrCat("dtls: initial_retransmit ",
                                                   config.initial_retransmit / kMillisecond,
                                                   " ms is below 50 ms"));
  }
  if (config.max_retransmit < config.initial_retransmit || config.max_retransmit > 60 * kSecond) {
    return absl::InvalidArgumentError(absl::StrCat("dtls: max_retransmit ",
                                                   config.max_retransmit / kMillisecond,
                                                   " ms not in [initial_retransmit, 60 s]"));
  }
  if (config.handshake_timeout <= 0) {
    return absl::InvalidArgumentError("dtls: handshake_timeout must be positive");
  }
  for (SrtpProfile p : config.srtp_profiles) {
    if (!srtp_profile_known(static_cast<uint16_t>(p))) {
      return absl::InvalidArgumentError(
          absl::StrCat("dtls: srtp_profiles: unknown profile id ", static_cast<int>(p)));
    }
  }
  std::unique_ptr<DtlsEndpoint> ep(new DtlsEndpoint(std::move(context), config));
  absl::Status st = ep->init();
  if (!st.ok()) return st;
  return ep;
}

DtlsEndpoint::DtlsEndpoint(std::shared_ptr<const DtlsContext> ctx, const DtlsEndpointConfig& config)
    : ctx_(std::move(ctx)), config_(config) {}

absl::Status DtlsEndpoint::init() {
  ERR_clear_error();
  ssl_ = SSL_new(ctx_->ssl_ctx());
  if (ssl_ == nullptr) {
    return absl::InternalError(absl::StrCat("dtls: SSL_new failed: ", take_openssl_errors()));
  }
  SSL_set_app_data(ssl_, this);
  BIO_METHOD* method = Bio::method();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    return absl::InternalError(absl::StrCat("dtls: BIO_new failed: ", take_openssl_errors()));
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, used for both directions
  SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
  // Returns the new MTU on success, 0 below DTLS1 minimum.
  if (SSL_set_mtu(ssl_, static_cast<long>(config_.mtu)) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtls: mtu ", config_.mtu, " rejected: ", take_openssl_errors()));
  }
  DTLS_set_timer_cb(ssl_, &DtlsCallbacks::timer);
  if (!config_.srtp_profiles.empty()) {
    std::vector<const char*> names;
    for (SrtpProfile p : config_.srtp_profiles) names.push_back(srtp_profile_info(p).name);
    std::string list = absl::StrJoin(names, ":");
    // Note the inverted convention: 0 is success.
    if (SSL_set_tlsext_use_srtp(ssl_, list.c_str()) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("dtls: srtp_profiles '", list, "' rejected: ", take_openssl_errors()));
    }
  }
  if (config_.role == DtlsRole::kClient) {
    SSL_set_connect_state(ssl_);
  } else {
    SSL_set_accept_state(ssl_);
  }
  return absl::OkStatus();
}

DtlsEndpoint::~DtlsEndpoint() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees the BIO
  OPENSSL_cleanse(&srtp_keys_, sizeof(srtp_keys_));
}

absl::Status DtlsEndpoint::set_remote_fingerprint(const Fingerprint& fp) {
  if (fp.len != fingerprint_hash_size(fp.hash)) {
    return absl::InvalidArgumentError("dtls: remote fingerprint has the wrong length");
  }
  if (peer_verified_) {
    return absl::FailedPreconditionError("dtls: peer certificate already verified");
  }
  config_.remote_fingerprint = fp;
  config_.has_remote_fingerprint = true;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// DtlsEndpoint: driving the handshake

void DtlsEndpoint::start(Nanos now) {
  if (state_ != DtlsState::kNew) return;
  started_at_ = now;
  state_ = DtlsState::kConnecting;
  if (config_.role == DtlsRole::kClient) drive(now);  // ClientHello
  after_call(now);
}

void DtlsEndpoint::feed(const uint8_t* data, size_t len, Nanos now) {
  // 13 = DTLS record header. Anything else on this 5-tuple is not ours to parse.
  if (data == nullptr || len < 13 || !is_dtls_first_byte(data[0])) {
    ++stats_.dropped_in;
    return;
  }
  if (state_ == DtlsState::kNew) start(now);
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) {
    ++stats_.dropped_in;
    return;
  }
  ++stats_.datagrams_in;
  in_data_ = data;
  in_len_ = len;
  drive(now);
  in_data_ = nullptr;
  in_len_ = 0;
  after_call(now);
}

void DtlsEndpoint::drive(Nanos /*now*/) {
  if (state_ == DtlsState::kConnecting) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      on_handshake_done();
    } else {
      int err = SSL_get_error(ssl_, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        fail(verify_failure_.empty()
                 ? absl::StrCat("handshake failed: ", take_openssl_errors("no reason"))
                 : verify_failure_);
        return;
      }
    }
  }
  if (state_ != DtlsState::kConnected) return;
  // Application data, alerts, and (server) the peer's retransmitted Finished, which
  // makes OpenSSL resend our last flight.
  for (int i = 0; i < kMaxReadsPerFeed; ++i) {
    if (app_buf_.empty()) app_buf_.resize(kMaxRecordPlaintext);
    ERR_clear_error();
    int r = SSL_read(ssl_, app_buf_.data(), static_cast<int>(app_buf_.size()));
    if (r > 0) {
      stats_.app_bytes_in += static_cast<uint64_t>(r);
      if (app_handler_) app_handler_(app_buf_.data(), static_cast<size_t>(r));
      if (state_ != DtlsState::kConnected) return;  // handler closed us
      continue;
    }
    int err = SSL_get_error(ssl_, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
    if (err == SSL_ERROR_ZERO_RETURN) {  // close_notify: answer with ours
      SSL_shutdown(ssl_);
      state_ = DtlsState::kClosed;
      return;
    }
    fail(absl::StrCat("read failed: ", take_openssl_errors("no reason")));
    return;
  }
}

int DtlsEndpoint::verify_peer(X509* cert) {
  if (!config_.has_remote_fingerprint) {
    verify_failure_ = "no remote fingerprint";
    return 0;
  }
  auto fp = certificate_fingerprint(cert, config_.remote_fingerprint.hash);
  if (!fp.ok() || !fingerprint_equal(*fp, config_.remote_fingerprint)) {
    verify_failure_ = "fingerprint mismatch";
    return 0;
  }
  auto sha256 = certificate_fingerprint(cert, FingerprintHash::kSha256);
  if (sha256.ok()) peer_fingerprint_ = *sha256;
  peer_verified_ = true;
  return 1;
}

void DtlsEndpoint::on_handshake_done() {
  // Defence in depth: the verify callback ran, and the certificate OpenSSL kept is
  // the one it accepted.
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (!peer_verified_ || peer == nullptr) {
    fail(verify_failure_.empty() ? "peer certificate not verified" : verify_failure_);
    return;
  }
  auto fp = certificate_fingerprint(peer, config_.remote_fingerprint.hash);
  if (!fp.ok() || !fingerprint_equal(*fp, config_.remote_fingerprint)) {
    fail("fingerprint mismatch");
    return;
  }
  if (!config_.srtp_profiles.empty()) {
    const SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_);
    if (p == nullptr || !srtp_profile_known(static_cast<uint16_t>(p->id))) {
      if (config_.require_srtp) {
        fail("no SRTP profile negotiated");
        return;
      }
    } else {
      const auto profile = static_cast<SrtpProfile>(p->id);
      const SrtpProfileInfo& info = srtp_profile_info(profile);
      const size_t k = info.key_len, s = info.salt_len;
      uint8_t block[2 * (kSrtpMaxKeyLen + kSrtpMaxSaltLen)];
      if (SSL_export_keying_material(ssl_, block, 2 * (k + s), kSrtpExporterLabel,
                                     sizeof(kSrtpExporterLabel) - 1, nullptr, 0, 0) != 1) {
        fail(absl::StrCat("SRTP key export failed: ", take_openssl_errors()));
        return;
      }
      // RFC 5764 §4.2: client_write_key | server_write_key | client_salt | server_salt.
      const uint8_t* client_key = block;
      const uint8_t* server_key = block + k;
      const uint8_t* client_salt = block + 2 * k;
      const uint8_t* server_salt = block + 2 * k + s;
      const bool client = config_.role == DtlsRole::kClient;
      srtp_keys_ = SrtpKeyingMaterial{};
      srtp_keys_.profile = profile;
      std::memcpy(srtp_keys_.local_key, client ? client_key : server_key, k);
      std::memcpy(srtp_keys_.remote_key, client ? server_key : client_key, k);
      std::memcpy(srtp_keys_.local_salt, client ? client_salt : server_salt, s);
      std::memcpy(srtp_keys_.remote_salt, client ? server_salt : client_salt, s);
      OPENSSL_cleanse(block, sizeof(block));
      has_srtp_keys_ = true;
    }
  }
  state_ = DtlsState::kConnected;
}

void DtlsEndpoint::fail(std::string reason) {
  state_ = DtlsState::kFailed;
  failure_reason_ = std::move(reason);
  deadline_ = kNever;
}

void DtlsEndpoint::after_call(Nanos now) {
  close_datagram();
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) {
    deadline_ = kNever;
    return;
  }
  Nanos deadline = kNever;
  struct timeval tv = {};
  if (DTLSv1_get_timeout(ssl_, &tv) == 1) {
    deadline = now + static_cast<Nanos>(tv.tv_sec) * kSecond +
               static_cast<Nanos>(tv.tv_usec) * kMicrosecond;
  }
  if (state_ == DtlsState::kConnecting) {
    deadline = std::min(deadline, started_at_ + config_.handshake_timeout);
  }
  deadline_ = deadline;
}

void DtlsEndpoint::on_timeout(Nanos now) {
  if (state_ != DtlsState::kConnecting && state_ != DtlsState::kConnected) return;
  if (now < deadline_) return;
  if (state_ == DtlsState::kConnecting && now - started_at_ >= config_.handshake_timeout) {
    fail("handshake timeout");
    return;
  }
  ERR_clear_error();
  // Retransmits the last flight if OpenSSL's own clock agrees the timer expired;
  // returns 0 (nothing done) otherwise, and after_call() re-reads its remaining time.
  if (DTLSv1_handle_timeout(ssl_) < 0) {
    fail(absl::StrCat("handshake timeout: ", take_openssl_errors("retransmit failed")));
  }
  after_call(now);
}

// ---------------------------------------------------------------------------
// Application data and close

size_t DtlsEndpoint::max_app_data_size() const {
  if (state_ != DtlsState::kConnected) return 0;
  return DTLS_get_data_mtu(ssl_);
}

absl::Status DtlsEndpoint::send_application_data(const uint8_t* data, size_t len, Nanos now) {
  if (state_ != DtlsState::kConnected) {
    return absl::FailedPreconditionError(
        absl::StrCat("dtls: send in state ", dtls_state_name(state_)));
  }
  const size_t max = max_app_data_size();
  if (len == 0 || len > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("dtls: application data of ", len, " bytes not in [1, ", max, "]"));
  }
  ERR_clear_error();
  int r = SSL_write(ssl_, data, static_cast<int>(len));
  if (r <= 0) {
    std::string why = take_openssl_errors("SSL_write failed");
    if (SSL_get_error(ssl_, r) == SSL_ERROR_SSL) fail(absl::StrCat("write failed: ", why));
    after_call(now);
    return absl::InternalError(absl::StrCat("dtls: ", why));
  }
  stats_.app_bytes_out += len;
  after_call(now);
  return absl::OkStatus();
}

void DtlsEndpoint::close(Nanos now) {
  if (state_ == DtlsState::kConnecting || state_ == DtlsState::kConnected) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify; we do not wait for the peer's
    ERR_clear_error();
  }
  if (state_ != DtlsState::kFailed) state_ = DtlsState::kClosed;
  after_call(now);
}

std::string DtlsEndpoint::cipher_name() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return c != nullptr ? SSL_CIPHER_get_name(c) : "";
}

absl::Status DtlsEndpoint::export_keying_material(absl::string_view label, uint8_t* out,
                                                  size_t len) const {
  if (state_ != DtlsState::kConnected) {
    return absl::FailedPreconditionError("dtls: exporter needs a connected endpoint");
  }
  ERR_clear_error();
  if (SSL_export_keying_material(ssl_, out, len, label.data(), label.size(), nullptr, 0, 0) != 1) {
    return absl::InternalError(
        absl::StrCat("dtls: export '", label, "' failed: ", take_openssl_errors()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Datagram plumbing

int DtlsEndpoint::bio_read(uint8_t* buf, size_t cap) {
  if (in_data_ == nullptr) return -1;  // would block
  // Datagram semantics: one read takes the whole datagram; excess is truncated.
  const size_t n = std::min(cap, in_len_);
  std::memcpy(buf, in_data_, n);
  in_data_ = nullptr;
  in_len_ = 0;
  return static_cast<int>(n);
}

int DtlsEndpoint::bio_write(const uint8_t* data, size_t len) {
  if (out_open_ && out_.back().len + len > config_.mtu) close_datagram();
  if (!out_open_) {
    if (out_bytes_.size() - (out_head_ < out_.size() ? out_[out_head_].offset : out_bytes_.size()) +
            len >
        kMaxQueuedBytes) {
      ++stats_.dropped_out;  // pretend it was sent: DTLS recovers by retransmission
      return static_cast<int>(len);
    }
    out_.push_back(Span{out_bytes_.size(), 0});
    out_open_ = true;
  }
  out_bytes_.insert(out_bytes_.end(), data, data + len);
  out_.back().len += len;
  return static_cast<int>(len);
}

void DtlsEndpoint::close_datagram() {
  if (!out_open_) return;
  out_open_ = false;
  ++stats_.datagrams_out;
}

size_t DtlsEndpoint::next_output_size() const {
  if (out_head_ >= out_.size() || (out_open_ && out_head_ + 1 == out_.size())) return 0;
  return out_[out_head_].len;
}

size_t DtlsEndpoint::poll_output(uint8_t* buf, size_t cap) {
  const size_t n = next_output_size();
  if (n == 0 || n > cap) return 0;
  std::memcpy(buf, out_bytes_.data() + out_[out_head_].offset, n);
  ++out_head_;
  if (out_head_ == out_.size()) {  // drained: reuse the storage from the start
    out_.clear();
    out_bytes_.clear();
    out_head_ = 0;
  }
  return n;
}

}  // namespace tern
