#include "bench/loadgen/endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "engine/net/bytes.h"
#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/stun/stun_message.h"

namespace tern::loadgen {

namespace {
constexpr size_t kHistory = 512;
constexpr size_t kBuf = 2048;

std::string random_token(std::mt19937_64& r, size_t n) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[r() % (sizeof(kChars) - 1)];
  return s;
}
std::mt19937_64& rng() {
  static std::mt19937_64 r{std::random_device{}()};
  return r;
}
}  // namespace

Nanos mono_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos(ts.tv_sec) * kSecond + ts.tv_nsec;
}

Peer::Peer(PeerConfig cfg, std::shared_ptr<const DtlsContext> ctx)
    : cfg_(std::move(cfg)), ctx_(std::move(ctx)) {
  local_ufrag_ = random_token(rng(), 8);
  local_pwd_ = random_token(rng(), 24);
  rtcp_ssrc_ = uint32_t(rng()()) | 1;
  for (const StreamConfig& s : cfg_.streams) {
    gens_.emplace_back(s);
    history_.push_back(s.video ? std::make_unique<HistorySlot[]>(kHistory) : nullptr);
  }
}

Peer::~Peer() {
  if (cfg_.wire) cfg_.wire->close(flow_);
}

absl::StatusOr<std::unique_ptr<Peer>> Peer::create(PeerConfig cfg,
                                                   std::shared_ptr<const DtlsContext> ctx) {
  return std::unique_ptr<Peer>(new Peer(std::move(cfg), std::move(ctx)));
}

OfferParams Peer::offer_params() const {
  OfferParams p;
  p.publish = cfg_.publisher;
  p.audio = p.video = false;
  for (const StreamConfig& s : cfg_.streams) {
    (s.video ? p.video_ssrc : p.audio_ssrc) = s.ssrc;
    (s.video ? p.video : p.audio) = true;
  }
  if (!cfg_.publisher) p.audio = p.video = true;
  p.ice_ufrag = local_ufrag_;
  p.ice_pwd = local_pwd_;
  p.fingerprint = ctx_->certificate().sdp_fingerprint();
  p.cname = cfg_.name;
  return p;
}

void Peer::expect_ssrc(uint32_t ssrc, bool video) {
  Track t;
  t.ssrc = ssrc;
  t.video = video;
  tracks_.push_back(t);
}

void Peer::fail(std::string why) {
  if (state_ == State::kFailed) return;
  state_ = State::kFailed;
  failure_ = std::move(why);
}

absl::Status Peer::open_flow(const Endpoint& to) {
  if (cfg_.wire == nullptr) return absl::FailedPreconditionError(cfg_.name + ": no wire");
  auto f = cfg_.wire->open(to, this);
  if (!f.ok()) return absl::UnavailableError(absl::StrCat(cfg_.name, ": ", f.status().message()));
  flow_ = *f;
  return absl::OkStatus();
}

absl::Status Peer::start(const AnswerInfo& a, Nanos now) {
  if (auto st = open_flow(cfg_.turn ? cfg_.turn->server : a.server); !st.ok()) return st;
  if (cfg_.turn) {
    turn_.emplace(*cfg_.turn, a.server, rtcp_ssrc_);
    uint8_t buf[512];
    if (const size_t n = turn_->start(buf, sizeof(buf), now); n > 0) send_datagram(buf, n);
  }
  remote_ufrag_ = a.ice_ufrag;
  auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, a.ice_pwd);
  if (!mi.ok()) return mi.status();
  integrity_.emplace(std::move(*mi));
  auto lmi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, local_pwd_);
  if (!lmi.ok()) return lmi.status();
  local_integrity_.emplace(std::move(*lmi));
  server_ = a.server;
  DtlsEndpointConfig dc;
  dc.role = DtlsRole::kClient;
  dc.has_remote_fingerprint = true;
  dc.remote_fingerprint = a.fingerprint;
  dc.initial_retransmit = 100 * kMillisecond;
  dc.handshake_timeout = cfg_.connect_timeout;
  auto d = DtlsEndpoint::create(ctx_, dc);
  if (!d.ok()) return d.status();
  dtls_ = std::move(*d);
  state_ = State::kIce;
  started_ = now;
  next_check_ = now;
  return absl::OkStatus();
}

absl::Status Peer::start_keyed(const Endpoint& to, const SrtpKeyingMaterial& keys, Nanos now) {
  if (auto st = open_flow(to); !st.ok()) return st;
  started_ = now;
  return start_srtp(keys, now);
}

bool Peer::send(const uint8_t* d, size_t n) {
  if (!turn_) return send_datagram(d, n);
  if (!turn_->ready()) return false;  // nothing but TURN until the channel is bound
  uint8_t hdr[TurnLeg::kHeader];
  TurnLeg::write_header(hdr, n);
  const iovec iov[2] = {{hdr, sizeof(hdr)}, {const_cast<uint8_t*>(d), n}};
  return counted(cfg_.wire->send(flow_, iov, 2));
}

bool Peer::send_datagram(const uint8_t* d, size_t n) {
  const iovec iov{const_cast<uint8_t*>(d), n};
  return counted(cfg_.wire->send(flow_, &iov, 1));
}

bool Peer::counted(bool sent) {
  if (!sent) {
    ++c_.send_errors;
    return false;
  }
  ++c_.datagrams_out;
  return true;
}

void Peer::send_check(Nanos now) {
  uint8_t buf[512];
  uint8_t txid[12];
  std::memcpy(txid, "tlgc", 4);
  store_be32(txid + 4, rtcp_ssrc_);
  store_be32(txid + 8, ++check_serial_);
  stun::StunWriter w(buf, sizeof(buf));
  w.begin(stun::kMethodBinding, stun::StunClass::kRequest, txid);
  w.add_username(remote_ufrag_ + ":" + local_ufrag_);
  w.add_u32(stun::attr::kPriority, 0x6e7f00ff);
  w.add(stun::attr::kUseCandidate, 0);
  w.add_u64(stun::attr::kIceControlling, (uint64_t(rtcp_ssrc_) << 32) | 0x1234);
  w.add_message_integrity(*integrity_);
  w.add_fingerprint();
  if (w.ok()) send(buf, w.size());
  // Retried every 100 ms while connecting; then a consent check every 2 s.
  next_check_ = now + (state_ == State::kIce ? 100 * kMillisecond : 2 * kSecond);
}

void Peer::on_stun(const uint8_t* d, size_t n, Nanos now) {
  stun::StunMessage m;
  if (m.parse(d, n) != stun::ParseError::kOk) return;
  if (m.cls() == stun::StunClass::kError) {
    int code = 0;
    absl::string_view reason;
    m.error_code(&code, &reason);
    fail(absl::StrCat("ICE check answered ", code, " ", reason));
    return;
  }
  if (m.cls() == stun::StunClass::kRequest && m.method() == stun::kMethodBinding)
    return answer_check(m);
  if (m.cls() != stun::StunClass::kSuccess || std::memcmp(m.transaction_id(), "tlgc", 4) != 0)
    return;
  if (!integrity_ || m.verify_integrity(*integrity_) != stun::IntegrityCheck::kOk) return;
  if (state_ == State::kIce) {
    state_ = State::kDtls;
    next_check_ = now + 2 * kSecond;
    dtls_->start(now);
  }
}

std::string Peer::srtp_profile() const {
  if (state_ != State::kConnected) return "";
  return srtp_profile_info(profile_).name;
}

// A full-ICE server (Janus's libnice, even in lite mode) sends its own
// triggered check and nominates the pair only once we answer it, as a
// browser would (RFC 8445 7.3). Signed with our password; ternd never asks.
void Peer::answer_check(const stun::StunMessage& req) {
  if (!local_integrity_ || req.verify_integrity(*local_integrity_) != stun::IntegrityCheck::kOk)
    return;
  uint8_t buf[256];
  stun::StunWriter w(buf, sizeof(buf));
  w.begin(stun::kMethodBinding, stun::StunClass::kSuccess, req.transaction_id());
  w.add_xor_mapped_address(server_);
  w.add_message_integrity(*local_integrity_);
  w.add_fingerprint();
  if (w.ok()) send(buf, w.size());
  ++c_.checks_answered;
}

void Peer::on_connected(Nanos now) {
  if (auto st = start_srtp(dtls_->srtp_keys(), now); !st.ok()) fail(std::string(st.message()));
}

// Both SRTP directions, then media: the end of the DTLS handshake, or at
// once with the reflector target's static keys.
absl::Status Peer::start_srtp(SrtpKeyingMaterial km, Nanos now) {
  if (cfg_.corrupt_key) km.remote_key[0] ^= 0x01;
  SrtpOptions out_opt;
  out_opt.allow_repeat_tx = true;  // NACK answers are plain retransmissions
  auto o = SrtpSession::outbound(km, out_opt);
  auto i = SrtpSession::inbound(km);
  if (!o.ok()) return o.status();
  if (!i.ok()) return i.status();
  out_.emplace(std::move(*o));
  in_.emplace(std::move(*i));
  profile_ = km.profile;
  state_ = State::kConnected;
  connected_at_ = now;
  next_report_ = now + kSecond;
  for (StreamGen& g : gens_) g.start(now);
  return absl::OkStatus();
}

// The relay leg: retransmissions, and whether it still holds everything else.
bool Peer::turn_pending(Nanos now) {
  if (!turn_ || turn_->ready()) return false;
  uint8_t buf[512];
  if (const size_t n = turn_->tick(buf, sizeof(buf), now); n > 0) send_datagram(buf, n);
  if (turn_->failed()) fail(turn_->failure());
  return !turn_->ready();
}

void Peer::on_datagram(uint8_t* raw, size_t n, Nanos now) {
  ++c_.datagrams_in;
  uint8_t* buf = raw;
  if (turn_) {  // through the relay: the server's traffic arrives as ChannelData
    size_t len = 0;
    if (const uint8_t* p = TurnLeg::payload(raw, n, &len)) {
      buf = raw + (p - raw), n = len;
    } else {
      stun::StunMessage m;
      if (raw[0] <= 3 && m.parse(raw, n) == stun::ParseError::kOk) {
        uint8_t out[512];
        size_t out_len = 0;
        turn_->on_response(m, out, sizeof(out), &out_len);
        if (out_len > 0) send_datagram(out, out_len);
        if (turn_->failed()) fail(turn_->failure());
        if (turn_->ready()) next_check_ = now;
      }
      return;
    }
    if (n == 0) return;
  }
  const uint8_t b = buf[0];
  if (b <= 3) {
    on_stun(buf, n, now);
  } else if (b >= 20 && b <= 63) {
    if (dtls_) dtls_->feed(buf, n, now);
  } else if (b >= 128 && b <= 191 && n >= 12 && state_ == State::kConnected) {
    if (buf[1] >= 192 && buf[1] <= 223)
      on_rtcp(buf, n);
    else
      on_rtp(buf, n, now);
  }
}

Peer::Track* Peer::track(uint32_t ssrc) {
  for (Track& t : tracks_)
    if (t.ssrc == ssrc) return &t;
  if (tracks_.size() >= 64) return nullptr;
  expect_ssrc(ssrc, false);
  return &tracks_.back();
}

void Peer::on_rtp(uint8_t* d, size_t n, Nanos now) {
  ++c_.rtp_in;
  const uint32_t ssrc = load_be32(d + 8);
  const uint16_t seq = load_be16(d + 2);
  const size_t wire = n;
  if (rx_count_++ % cfg_.decrypt_every == 0) {
    if (in_->unprotect_rtp(d, &n) != SrtpStatus::kOk) {
      ++c_.auth_fail;  // not counted as received
      return;
    }
  } else {
    ++c_.undecrypted;
    d = nullptr;
  }
  Track* t = track(ssrc);
  if (t == nullptr) return;
  if (d != nullptr) {
    rtp::RtpView v;
    Probe pr;
    const bool ok = v.parse(d, n) == rtp::RtpError::kOk;
    const size_t off = probe_offset(t->video);
    if (ok && v.payload_size() > off &&
        read_probe(v.payload().data() + off, v.payload_size() - off, &pr))
      hist_.add(now - pr.sent);
    else
      ++c_.payload_errors;
  }
  const bool started = t->seq.started();
  const uint32_t prev = t->seq.highest();
  bool dup, late;
  const uint32_t ext = t->seq.on_packet(seq, wire, &dup, &late);
  if (cfg_.nack && cfg_.rtcp && started && t->video && ext > prev + 1) {
    // A gap: NACK it once (ternd answers from its cache with a plain copy).
    uint16_t lost[32];
    size_t k = 0;
    for (uint32_t s = prev + 1; s < ext && k < 32; ++s) lost[k++] = uint16_t(s);
    uint8_t fb[256];
    size_t len =
        rtp::write_nack(fb, sizeof(fb) - 32, rtcp_ssrc_, ssrc, absl::Span<const uint16_t>(lost, k));
    if (len > 0) {
      send_rtcp(fb, len);
      ++c_.nack_out;
    }
  }
}

void Peer::send_rtcp(uint8_t* d, size_t n) {
  if (out_->protect_rtcp(d, &n, n + out_->rtcp_overhead()) == SrtpStatus::kOk) send(d, n);
}

void Peer::on_rtcp(uint8_t* d, size_t n) {
  if (in_->unprotect_rtcp(d, &n) != SrtpStatus::kOk) {
    ++c_.auth_fail;
    return;
  }
  ++c_.rtcp_in;
  rtp::RtcpCompound comp;
  if (comp.parse(d, n) != rtp::RtcpError::kOk) return;
  for (rtp::RtcpPacket p : comp) {
    if (rtp::is_feedback(p, rtp::rtcp_type::kPsfb, 1) ||
        rtp::is_feedback(p, rtp::rtcp_type::kPsfb, 4)) {
      (p.count == 1 ? c_.pli_in : c_.fir_in)++;
      for (StreamGen& g : gens_)
        if (g.config().video) g.request_keyframe();
    } else if (rtp::is_feedback(p, rtp::rtcp_type::kRtpfb, 1)) {
      rtp::NackPacket nack;
      if (!nack.parse(p)) continue;
      ++c_.nack_in;
      uint16_t lost[64];
      const size_t k = std::min<size_t>(nack.lost(lost, 64), 64);
      for (size_t g = 0; g < gens_.size(); ++g) {
        if (!cfg_.retransmit || !history_[g] || gens_[g].config().ssrc != nack.media_ssrc())
          continue;
        for (size_t j = 0; j < k; ++j) {
          const HistorySlot& s = history_[g][lost[j] % kHistory];
          if (s.len == 0 || s.seq != lost[j]) continue;
          uint8_t buf[kBuf];
          std::memcpy(buf, s.data, s.len);
          size_t len = s.len;
          if (out_->protect_rtp(buf, &len, sizeof(buf)) == SrtpStatus::kOk) {
            if (send(buf, len)) ++c_.rtp_out;
            ++c_.retransmits;
          }
        }
      }
    }
  }
}

void Peer::send_media(Nanos now) {
  uint8_t buf[kBuf];
  for (size_t g = 0; g < gens_.size(); ++g) {
    StreamGen& gen = gens_[g];
    for (int frames = 0; frames < 4; ++frames) {
      if (!gen.frame_pending() && !gen.begin_frame(now)) break;
      for (size_t n; (n = gen.next_packet(buf, 1500, now)) > 0;) {
        if (history_[g]) {
          HistorySlot& s = history_[g][load_be16(buf + 2) % kHistory];
          s.seq = load_be16(buf + 2);
          s.len = uint16_t(n);
          std::memcpy(s.data, buf, n);
          if (cfg_.drop_every > 0 && ++video_sent_ % cfg_.drop_every == 0) {
            ++c_.withheld;
            continue;
          }
        }
        if (out_->protect_rtp(buf, &n, sizeof(buf)) == SrtpStatus::kOk) {
          if (send(buf, n)) ++c_.rtp_out;
        }
      }
      if (gen.frame_pending()) break;  // paced: the rest of the frame later
    }
  }
}

void Peer::send_reports(Nanos now) {
  next_report_ = now + kSecond;
  if (cfg_.publisher || tracks_.empty() || !cfg_.rtcp) return;
  uint8_t buf[1024];
  rtp::ReportBlock blocks[31];
  size_t k = 0;
  for (const Track& t : tracks_) {
    if (k == 31) break;
    if (!t.seq.started()) continue;
    const WindowCounts w = t.seq.window();
    rtp::ReportBlock& b = blocks[k++];
    b.ssrc = t.ssrc;
    b.extended_highest_seq = t.seq.highest();
    const int64_t lost = int64_t(w.expected) - int64_t(w.received);
    b.cumulative_lost = int32_t(std::clamp<int64_t>(lost, -(1 << 23), (1 << 23) - 1));
    b.fraction_lost =
        w.expected > 0 && lost > 0 ? uint8_t(std::min<int64_t>(255, lost * 256 / w.expected)) : 0;
  }
  size_t n = rtp::write_receiver_report(buf, sizeof(buf) - 64, rtcp_ssrc_,
                                        absl::Span<const rtp::ReportBlock>(blocks, k));
  if (n > 0) {
    send_rtcp(buf, n);
    ++c_.rr_out;
  }
  // A video stream that has not started a second after connecting: ask for a keyframe.
  if (now - connected_at_ < kSecond) return;
  for (const Track& t : tracks_) {
    if (!t.video || t.seq.started()) continue;
    size_t m = rtp::write_pli(buf, sizeof(buf) - 64, rtcp_ssrc_, t.ssrc);
    if (m > 0) {
      send_rtcp(buf, m);
      ++c_.pli_out;
    }
  }
}

void Peer::tick(Nanos now) {
  if (state_ == State::kNew || state_ == State::kFailed) return;
  if (state_ != State::kConnected && now - started_ > cfg_.connect_timeout) {
    fail(state_ == State::kIce ? "ICE: no answer to the connectivity checks"
                               : "DTLS: handshake did not complete");
    return;
  }
  if (turn_pending(now)) return;
  if (integrity_ && now >= next_check_) send_check(now);  // none with static keys
  if (dtls_ && dtls_->state() != DtlsState::kNew) {
    if (now >= dtls_->next_timeout()) dtls_->on_timeout(now);
    uint8_t buf[kBuf];
    for (size_t n; (n = dtls_->poll_output(buf, sizeof(buf))) > 0;) send(buf, n);
    if (dtls_->state() == DtlsState::kFailed) return fail("DTLS: " + dtls_->failure_reason());
    if (state_ == State::kDtls && dtls_->state() == DtlsState::kConnected) on_connected(now);
  }
  if (state_ != State::kConnected) return;
  if (!gens_.empty() && !media_stopped_) send_media(now);
  if (now >= next_report_) send_reports(now);
}

void Peer::close_dtls(Nanos now) {
  if (!dtls_ || !flow_.open() || dtls_->state() != DtlsState::kConnected) return;
  dtls_->close(now);
  uint8_t buf[kBuf];
  for (size_t n; (n = dtls_->poll_output(buf, sizeof(buf))) > 0;) send(buf, n);
}

void Peer::reset_window() {
  for (Track& t : tracks_) t.seq.reset_window();
  hist_.clear();
}

WindowCounts Peer::window() const {
  WindowCounts sum;
  for (const Track& t : tracks_) {
    const WindowCounts w = t.seq.window();
    sum.add(w);
    if (w.received == 0) ++(t.video ? sum.silent_video : sum.silent_audio);
  }
  return sum;
}

std::vector<StreamWindow> Peer::stream_windows() const {
  std::vector<StreamWindow> v;
  for (const Track& t : tracks_) {
    const WindowCounts w = t.seq.window();
    v.push_back({.ssrc = t.ssrc,
                 .video = t.video,
                 .open = t.seq.window_open(),
                 .first = t.seq.window_first(),
                 .highest = t.seq.highest(),
                 .received = w.received,
                 .expected = w.expected});
  }
  return v;
}

uint64_t Peer::total_received() const {
  uint64_t n = 0;
  for (const Track& t : tracks_) n += t.seq.total_received();
  return n;
}

bool Peer::all_streams_flowing() const {
  if (tracks_.empty()) return false;
  for (const Track& t : tracks_)
    if (!t.seq.started()) return false;
  return true;
}

}  // namespace tern::loadgen
