#include "engine/sfu/webrtc_transport.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/srtp/srtp_session.h"

namespace tern::sfu {

const char* transport_event_name(TransportEventType t) {
  switch (t) {
    case TransportEventType::kIceConnected:
      return "ice_connected";
    case TransportEventType::kIceDisconnected:
      return "ice_disconnected";
    case TransportEventType::kIceFailed:
      return "ice_failed";
    case TransportEventType::kDtlsConnected:
      return "dtls_connected";
    case TransportEventType::kDtlsFailed:
      return "dtls_failed";
    case TransportEventType::kClosed:
      return "closed";
    case TransportEventType::kAttachFailed:
      return "attach_failed";
    case TransportEventType::kProducerClosed:
      return "producer_closed";
    case TransportEventType::kConsumerClosed:
      return "consumer_closed";
    case TransportEventType::kConsumerLayerChanged:
      return "consumer_layer_changed";
  }
  return "unknown";
}

void TransportEvent::set_reason(const char* r) {
  size_t n = r == nullptr ? 0 : std::strlen(r);
  if (n >= sizeof(reason)) n = sizeof(reason) - 1;
  if (n) std::memcpy(reason, r, n);
  reason[n] = '\0';
}

WebRtcTransport::WebRtcTransport(WebRtcTransportConfig cfg)
    : cfg_(std::move(cfg)), stats_(std::make_shared<WebRtcTransportStats>()) {}

WebRtcTransport::~WebRtcTransport() = default;

absl::StatusOr<std::unique_ptr<WebRtcTransport>> WebRtcTransport::create(
    WebRtcTransportConfig cfg, std::shared_ptr<const DtlsContext> dtls_ctx, Nanos now) {
  if (dtls_ctx == nullptr) return absl::InvalidArgumentError("dtls context: null");
#ifdef TERN_NO_SRTP
  return absl::UnimplementedError("webrtc transport: this build has no libsrtp");
#endif
  std::unique_ptr<WebRtcTransport> t(new WebRtcTransport(std::move(cfg)));
  if (t->cfg_.local_ice.empty()) {
    auto c = ice::IceCredentials::generate();
    if (!c.ok()) return c.status();
    t->local_ice_ = *std::move(c);
  } else {
    t->local_ice_ = t->cfg_.local_ice;
  }
  auto agent = ice::IceLiteAgent::create(t->local_ice_, t->cfg_.remote_ice, t->cfg_.ice, now);
  if (!agent.ok()) return agent.status();
  t->agent_ = *std::move(agent);
  t->agent_->user_data = t.get();
  auto dtls = DtlsEndpoint::create(std::move(dtls_ctx), t->cfg_.dtls);
  if (!dtls.ok()) return dtls.status();
  t->dtls_ = *std::move(dtls);
  if (t->cfg_.sctp) {
    if (absl::Status s = t->init_sctp(); !s.ok()) return s;
  }
  t->cfg_.local_ice = ice::IceCredentials{};  // the copy in local_ice_ is the one used
  return t;
}

ice::IceState WebRtcTransport::ice_state() const { return last_ice_; }
DtlsState WebRtcTransport::dtls_state() const { return last_dtls_; }

absl::Status WebRtcTransport::set_remote_ice(const ice::IceCredentials& remote) {
  if (released_) return absl::FailedPreconditionError("transport is failed or closed");
  return agent_->set_remote_credentials(remote);
}

absl::Status WebRtcTransport::set_remote_fingerprint(const Fingerprint& fp) {
  if (released_) return absl::FailedPreconditionError("transport is failed or closed");
  return dtls_->set_remote_fingerprint(fp);
}

absl::Status WebRtcTransport::restart_ice(ice::IceCredentials new_local,
                                          ice::IceCredentials new_remote, Nanos now) {
  if (released_ || agent_ == nullptr) {
    return absl::FailedPreconditionError("transport is failed or closed");
  }
  if (new_local.empty()) {
    auto c = ice::IceCredentials::generate();
    if (!c.ok()) return c.status();
    new_local = *std::move(c);
  }
  // The agent checks both credentials and the demux before changing anything.
  if (absl::Status s = agent_->restart(new_local, std::move(new_remote), now); !s.ok()) return s;
  local_ice_ = std::move(new_local);
  publish_states();
  return absl::OkStatus();
}

void WebRtcTransport::on_attached(Nanos now) {
  // DTLS starts when ICE connects (on_ice_event): a client needs a path to
  // send its ClientHello on, and a server's handshake timeout should not run
  // out while the peer is still checking (ICE has its own connect timeout).
  // A ClientHello that races the nominating check starts a server anyway.
  (void)now;
  publish_states();
}

void WebRtcTransport::publish_states() {
  if (agent_ != nullptr && !released_) last_ice_ = agent_->state();
  if (dtls_ != nullptr && !released_) last_dtls_ = dtls_->state();
  stats_->ice_state.store(static_cast<uint8_t>(last_ice_), std::memory_order_relaxed);
  stats_->dtls_state.store(static_cast<uint8_t>(last_dtls_), std::memory_order_relaxed);
}

void WebRtcTransport::emit(TransportEventSink& events, TransportEventType type,
                           const char* reason) {
  TransportEvent ev;
  ev.transport_id = cfg_.id;
  ev.type = type;
  ev.set_reason(reason);
  events.on_transport_event(ev);
}

void WebRtcTransport::release() {
  if (released_) return;
  publish_states();
  released_ = true;
  // The agent object stays (the host may still hold its events this call)
  // but close() has removed every demux entry and pair.
  if (agent_ != nullptr) agent_->close();
  release_sctp();  // before DTLS: the association sends through it
  dtls_.reset();
  srtp_in_.reset();
  srtp_out_.reset();
  dtls_dest_.reset();
}

void WebRtcTransport::on_ice_event(const ice::IceEvent& ev, Nanos now, PacketSink& sink,
                                   TransportEventSink& events) {
  if (released_) return;
  switch (ev.type) {
    case ice::IceEventType::kSelectedPairChanged:
      dtls_dest_ = ev.pair;
      break;
    case ice::IceEventType::kConnected:
      dtls_dest_ = ev.pair;
      publish_states();
      emit(events, TransportEventType::kIceConnected, "");
      if (dtls_->state() == DtlsState::kNew) {
        dtls_->start(now);  // client: ClientHello; server: starts waiting
        after_dtls(now, sink, events);
      }
      break;
    case ice::IceEventType::kDisconnected:
      publish_states();
      emit(events, TransportEventType::kIceDisconnected, "");
      break;
    case ice::IceEventType::kFailed: {
      const char* reason =
          ev.pair.remote.family == Family::kNone ? "no nomination" : "consent lost";
      failure_reason_ = absl::StrCat("ice: ", reason);
      last_ice_ = ice::IceState::kFailed;
      release();
      stats_->ice_state.store(static_cast<uint8_t>(last_ice_), std::memory_order_relaxed);
      emit(events, TransportEventType::kIceFailed, reason);
      break;
    }
  }
}

void WebRtcTransport::flush_dtls(PacketSink& sink) {
  if (dtls_ == nullptr) return;
  // At most what the endpoint has queued; each is one datagram.
  for (size_t n = dtls_->output_count(); n > 0; --n) {
    if (!dtls_dest_) {
      // No path yet: stays queued (OpenSSL retransmits the flight later).
      return;
    }
    Packet* p = sink.alloc();
    if (p == nullptr) {
      stats_->drops.add(Drop::kNoBuffer);
      return;
    }
    size_t len = dtls_->poll_output(p->data(), p->capacity - p->off);
    if (len == 0) {  // larger than the buffer: cannot happen with mtu <= 1200
      p->len = 0;
      p->remote = dtls_dest_->remote;
      p->local = dtls_dest_->local;
      sink.send(p);  // an empty datagram is harmless (the sink owns p)
      stats_->drops.add(Drop::kNoBuffer);
      return;
    }
    p->len = static_cast<uint32_t>(len);
    p->remote = dtls_dest_->remote;
    p->local = dtls_dest_->local;
    stats_->dtls_out.add();
    sink.send(p);
  }
}

void WebRtcTransport::after_dtls(Nanos now, PacketSink& sink, TransportEventSink& events) {
  (void)now;
  flush_dtls(sink);
  DtlsState s = dtls_->state();
  if (s == last_dtls_) return;
  last_dtls_ = s;
  publish_states();
  switch (s) {
    case DtlsState::kConnected: {
      const bool srtp = dtls_->has_srtp_keys();
      if (!srtp && !cfg_.sctp) {
        failure_reason_ = "dtls: no SRTP profile negotiated";
        last_dtls_ = DtlsState::kFailed;
        release();
        publish_states();
        emit(events, TransportEventType::kDtlsFailed, "no SRTP profile negotiated");
        return;
      }
#ifndef TERN_NO_SRTP
      if (srtp) {
        // Once per transport (allocates: a libsrtp context per direction).
        auto in = SrtpSession::inbound(dtls_->srtp_keys());
        // Outbound repeats allowed: a NACKed packet resent without RTX keeps its
        // (SSRC, seq) and bytes, so the same keystream covers the same plaintext.
        SrtpOptions out_opt;
        out_opt.allow_repeat_tx = true;
        auto out = SrtpSession::outbound(dtls_->srtp_keys(), out_opt);
        if (!in.ok() || !out.ok()) {
          failure_reason_ =
              absl::StrCat("srtp: ", (!in.ok() ? in.status() : out.status()).message());
          last_dtls_ = DtlsState::kFailed;
          release();
          publish_states();
          emit(events, TransportEventType::kDtlsFailed, failure_reason_.c_str());
          return;
        }
        srtp_in_ = std::make_unique<SrtpSession>(*std::move(in));
        srtp_out_ = std::make_unique<SrtpSession>(*std::move(out));
      }
#endif
      emit(events, TransportEventType::kDtlsConnected,
           srtp ? srtp_profile_info(dtls_->srtp_keys().profile).name : "no srtp (data only)");
      if (cfg_.sctp && !released_) start_sctp(now, sink);
      break;
    }
    case DtlsState::kFailed: {
      std::string reason = dtls_->failure_reason();
      failure_reason_ = absl::StrCat("dtls: ", reason);
      release();
      emit(events, TransportEventType::kDtlsFailed, reason.c_str());
      break;
    }
    case DtlsState::kClosed:
      failure_reason_ = "dtls: close_notify from the peer";
      release();
      emit(events, TransportEventType::kClosed, "close_notify from the peer");
      break;
    default:
      break;
  }
}

void WebRtcTransport::handle_dtls(const Packet& p, Nanos now, PacketSink& sink,
                                  TransportEventSink& events) {
  if (released_) return;
  stats_->dtls_in.add();
  // Until ICE selects a pair (a ClientHello may race the nominating check),
  // answer where the datagram came from: it is a validated pair.
  if (!dtls_dest_ || agent_->selected_pair() == nullptr) {
    dtls_dest_ = ice::CandidatePair{p.remote, p.local};
  }
  io_sink_ = &sink;  // application data (SCTP) may arrive and be answered
  io_now_ = now;
  dtls_->feed(p.data(), p.len, now);
  after_dtls(now, sink, events);
}

bool WebRtcTransport::handle_media(Packet* p, bool rtcp, Nanos now, PacketSink& sink) {
#ifdef TERN_NO_SRTP
  (void)p, (void)rtcp, (void)now, (void)sink;
  stats_->media_not_ready.add();
  return false;
#else
  if (srtp_in_ == nullptr) {
    stats_->media_not_ready.add();
    return false;
  }
  size_t len = p->len;
  SrtpStatus st =
      rtcp ? srtp_in_->unprotect_rtcp(p->data(), &len) : srtp_in_->unprotect_rtp(p->data(), &len);
  if (st != SrtpStatus::kOk) {
    Drop d = (st == SrtpStatus::kReplayOld || st == SrtpStatus::kReplayDuplicate)
                 ? Drop::kSrtpReplay
                 : Drop::kSrtpAuthFail;
    stats_->drops.add(d);
    if (host_drops_ != nullptr) host_drops_->add(d);
    return false;
  }
  p->len = static_cast<uint32_t>(len);
  (rtcp ? stats_->rtcp_in : stats_->rtp_in).add();
  stats_->bytes_in.add(len);
  if (cfg_.echo) {
    size_t cap = p->capacity - p->off;
    st = rtcp ? srtp_out_->protect_rtcp(p->data(), &len, cap)
              : srtp_out_->protect_rtp(p->data(), &len, cap);
    if (st != SrtpStatus::kOk) {
      stats_->drops.add(Drop::kNoBuffer);
      return false;
    }
    p->len = static_cast<uint32_t>(len);
    (rtcp ? stats_->rtcp_out : stats_->rtp_out).add();
    stats_->bytes_out.add(len);
    sink.send(p);  // back on the 5-tuple it came from: remote/local unchanged
    return true;
  }
  if (media_fn_ != nullptr) {
    stats_->media_delivered.add();
    return media_fn_(media_ctx_, *this, p, rtcp, now);
  }
  return false;
#endif
}

size_t WebRtcTransport::rtp_overhead() const {
#ifdef TERN_NO_SRTP
  return 0;
#else
  return srtp_out_ == nullptr ? 0 : srtp_out_->rtp_overhead();
#endif
}

size_t WebRtcTransport::rtcp_overhead() const {
#ifdef TERN_NO_SRTP
  return 0;
#else
  return srtp_out_ == nullptr ? 0 : srtp_out_->rtcp_overhead();
#endif
}

bool WebRtcTransport::send_protected(Packet* p, bool rtcp, PacketSink& sink) {
#ifdef TERN_NO_SRTP
  (void)rtcp;
  stats_->drops.add(Drop::kSfuNotConnected);
  sink.free(p);
  return false;
#else
  if (!can_send()) {
    stats_->drops.add(Drop::kSfuNotConnected);
    sink.free(p);
    return false;
  }
  size_t len = p->len;
  const size_t cap = p->capacity - p->off;
  SrtpStatus st = rtcp ? srtp_out_->protect_rtcp(p->data(), &len, cap)
                       : srtp_out_->protect_rtp(p->data(), &len, cap);
  if (st != SrtpStatus::kOk) {
    stats_->drops.add(st == SrtpStatus::kNoTailroom ? Drop::kSfuTooLarge : Drop::kNoBuffer);
    sink.free(p);
    return false;
  }
  p->len = static_cast<uint32_t>(len);
  const ice::CandidatePair* sel = agent_ != nullptr ? agent_->selected_pair() : nullptr;
  p->remote = sel != nullptr ? sel->remote : dtls_dest_->remote;
  p->local = sel != nullptr ? sel->local : dtls_dest_->local;
  (rtcp ? stats_->rtcp_out : stats_->rtp_out).add();
  stats_->bytes_out.add(len);
  sink.send(p);
  return true;
#endif
}

bool WebRtcTransport::send_rtp(Packet* p, Nanos now, PacketSink& sink) {
  (void)now;
  return send_protected(p, false, sink);
}

bool WebRtcTransport::send_rtcp(Packet* p, Nanos now, PacketSink& sink) {
  (void)now;
  return send_protected(p, true, sink);
}

Nanos WebRtcTransport::next_deadline() const {
  if (released_) return kNever;
  Nanos d = agent_->next_deadline();
  if (dtls_ != nullptr) d = std::min(d, dtls_->next_timeout());
  return std::min(d, sctp_deadline());
}

void WebRtcTransport::on_timer(Nanos now, PacketSink& sink, TransportEventSink& events) {
  if (released_) return;
  io_sink_ = &sink;
  io_now_ = now;
  if (sctp_deadline() <= now) sctp_timer(now, sink);
  if (dtls_->next_timeout() <= now) {
    dtls_->on_timeout(now);
    after_dtls(now, sink, events);
    if (released_) return;
  }
  ice::IceEvents ev;  // on the stack: a timer yields at most one event
  agent_->on_timer(now, &ev);
  for (const ice::IceEvent& e : ev) {
    on_ice_event(e, now, sink, events);
    if (released_) break;
  }
}

void WebRtcTransport::close(Nanos now, PacketSink& sink) {
  if (!released_) {
    if (dtls_ != nullptr && dtls_->state() == DtlsState::kConnected) {
      shutdown_sctp(now, sink);  // SHUTDOWN before close_notify
      dtls_->close(now);
      flush_dtls(sink);
    }
    release();
  }
  last_ice_ = ice::IceState::kClosed;
  last_dtls_ = DtlsState::kClosed;
  stats_->ice_state.store(static_cast<uint8_t>(last_ice_), std::memory_order_relaxed);
  stats_->dtls_state.store(static_cast<uint8_t>(last_dtls_), std::memory_order_relaxed);
}

}  // namespace tern::sfu
