// WebRtcTransport's data-channel glue (data_channel.h): one SctpAssociation
// over the transport's DTLS connection. Built only with usrsctp; see
// webrtc_transport_nosctp.cc for the stub.
//
// Output: every SCTP packet becomes one DTLS record
// (send_application_data; the association's mtu is max_app_data_size()) and
// is flushed to the PacketSink of the call that produced it (io_sink_), so the
// DTLS queue never holds more than one burst. Input: the DTLS endpoint's
// application-data handler (inside feed(), during handle_dtls).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/sctp/sctp_association.h"
#include "engine/sctp/sctp_stack.h"
#include "engine/sfu/webrtc_transport.h"

namespace tern::sfu {

struct WebRtcTransport::Sctp final : sctp::SctpAssociationHandler {
  WebRtcTransport* t = nullptr;
  std::shared_ptr<sctp::SctpStack> stack;
  std::unique_ptr<sctp::SctpAssociation> assoc;
  bool connected = false;

  Nanos now() const { return t->io_now_; }
  void on_connected() override {
    connected = true;
    if (t->data_handler_ != nullptr) t->data_handler_->on_data_connected(*t, now());
  }
  void on_channel_open(const sctp::DataChannelInfo& ch) override {
    if (t->data_handler_ != nullptr) t->data_handler_->on_data_channel_open(*t, ch, now());
  }
  void on_message(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t len) override {
    const bool text = ppid == sctp::kPpidString || ppid == sctp::kPpidStringEmpty ||
                      ppid == sctp::kPpidStringPartial;
    if (t->data_handler_ != nullptr) {
      t->data_handler_->on_data_message(
          *t, stream, text ? sctp::MessageKind::kText : sctp::MessageKind::kBinary, data, len,
          now());
    }
  }
  void on_channel_closed(uint16_t stream) override {
    if (t->data_handler_ != nullptr) t->data_handler_->on_data_channel_closed(*t, stream, now());
  }
  void on_closed(const std::string& reason) override {
    connected = false;
    if (t->data_handler_ != nullptr) t->data_handler_->on_data_closed(*t, reason, now());
  }
  void on_send_ready() override {
    if (t->data_handler_ != nullptr) t->data_handler_->on_data_writable(*t, now());
  }
};

void WebRtcTransport::SctpDeleter::operator()(Sctp* s) const { delete s; }

absl::Status WebRtcTransport::init_sctp() {
  const SctpTransportConfig& c = *cfg_.sctp;
  if (c.local_port == 0 || c.remote_port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sctp: port 0 (local ", c.local_port, ", remote ", c.remote_port, ")"));
  }
  auto stack = sctp::SctpStack::acquire();
  if (!stack.ok()) return stack.status();
  sctp_.reset(new Sctp);
  sctp_->t = this;
  sctp_->stack = *std::move(stack);
  // Records may arrive in the very datagram that completes the handshake
  // (before after_dtls starts the association): start it from here then.
  dtls_->set_app_data_handler([this](const uint8_t* data, size_t len) {
    if (sctp_ == nullptr || released_) return;
    if (sctp_->assoc == nullptr && dtls_->state() == DtlsState::kConnected && io_sink_ != nullptr) {
      start_sctp(io_now_, *io_sink_);
    }
    if (sctp_->assoc != nullptr) sctp_->assoc->receive(data, len, io_now_);
  });
  return absl::OkStatus();
}

void WebRtcTransport::start_sctp(Nanos now, PacketSink& sink) {
  if (sctp_ == nullptr || sctp_->assoc != nullptr || dtls_ == nullptr) return;
  io_sink_ = &sink;
  io_now_ = now;
  const SctpTransportConfig& c = *cfg_.sctp;
  sctp::SctpAssociationConfig ac;
  ac.dtls_client = cfg_.dtls.role == DtlsRole::kClient;
  ac.local_port = c.local_port;
  ac.remote_port = c.remote_port;
  ac.max_message_size = c.max_message_size;
  ac.remote_max_message_size = c.remote_max_message_size;
  ac.mtu = static_cast<uint32_t>(std::min<size_t>(dtls_->max_app_data_size(), 1200));
  ac.rto_initial_ms = c.rto_initial_ms;
  ac.rto_min_ms = c.rto_min_ms;
  ac.rto_max_ms = c.rto_max_ms;
  auto a = sctp::SctpAssociation::create(
      sctp_->stack, ac,
      [this](const uint8_t* data, size_t len) {
        if (dtls_ == nullptr) return;
        if (!dtls_->send_application_data(data, len, io_now_).ok()) {
          stats_->drops.add(Drop::kNoBuffer);
          return;
        }
        if (io_sink_ != nullptr) flush_dtls(*io_sink_);
      },
      sctp_.get());
  if (!a.ok()) {
    // Media keeps working; the data side stays down (counted, no event).
    stats_->drops.add(Drop::kNoHandler);
    return;
  }
  sctp_->assoc = *std::move(a);
  (void)sctp_->assoc->start(now);  // RFC 8841 §5: both ends send INIT
}

Nanos WebRtcTransport::sctp_deadline() const {
  if (sctp_ == nullptr || sctp_->assoc == nullptr) return kNever;
  return sctp_->assoc->next_deadline();
}

void WebRtcTransport::sctp_timer(Nanos now, PacketSink& sink) {
  if (sctp_ == nullptr || sctp_->assoc == nullptr) return;
  io_sink_ = &sink;
  io_now_ = now;
  sctp_->assoc->on_timer(now);
}

void WebRtcTransport::shutdown_sctp(Nanos now, PacketSink& sink) {
  if (sctp_ == nullptr || sctp_->assoc == nullptr) return;
  io_sink_ = &sink;
  io_now_ = now;
  DataHandler* h = data_handler_;
  data_handler_ = nullptr;  // closing: the host reports kClosed, not each channel
  sctp_->assoc->shutdown(now);
  data_handler_ = h;
}

void WebRtcTransport::release_sctp() {
  if (sctp_ == nullptr) return;
  sctp_->connected = false;
  sctp_->assoc.reset();  // abortive; no callback runs
}

bool WebRtcTransport::sctp_connected() const {
  return sctp_ != nullptr && sctp_->assoc != nullptr && sctp_->connected &&
         sctp_->assoc->state() == sctp::SctpState::kConnected;
}

const sctp::DataChannelInfo* WebRtcTransport::data_channel(uint16_t stream) const {
  if (sctp_ == nullptr || sctp_->assoc == nullptr) return nullptr;
  return sctp_->assoc->channel(stream);
}

int32_t WebRtcTransport::find_data_channel(const std::string& label) const {
  if (sctp_ == nullptr || sctp_->assoc == nullptr) return -1;
  // Control rate: a scan of the negotiated streams (at most 1024 each way).
  const uint32_t n = std::max(sctp_->assoc->outbound_streams(), sctp_->assoc->inbound_streams());
  int32_t best = -1;
  for (uint32_t s = 0; s < n && sctp_->assoc->channel_count() != 0; ++s) {
    const sctp::DataChannelInfo* ch = sctp_->assoc->channel(static_cast<uint16_t>(s));
    if (ch != nullptr && ch->label == label) {
      best = static_cast<int32_t>(s);
      break;
    }
  }
  return best;
}

absl::StatusOr<uint16_t> WebRtcTransport::open_data_channel(const sctp::DataChannelParams& params,
                                                            Nanos now, PacketSink& sink) {
  if (sctp_ == nullptr) return absl::FailedPreconditionError("transport has no data channels");
  if (!sctp_connected()) return absl::FailedPreconditionError("sctp association is not up");
  PacketSink* prev_sink = io_sink_;
  Nanos prev_now = io_now_;
  io_sink_ = &sink;
  io_now_ = now;
  auto r = sctp_->assoc->open_channel(params, now);
  io_sink_ = prev_sink;
  io_now_ = prev_now;
  return r;
}

absl::Status WebRtcTransport::send_data(uint16_t stream, bool binary, const uint8_t* data,
                                        size_t len, Nanos now, PacketSink& sink) {
  if (sctp_ == nullptr) return absl::FailedPreconditionError("transport has no data channels");
  if (sctp_->assoc == nullptr) return absl::FailedPreconditionError("sctp association is not up");
  PacketSink* prev_sink = io_sink_;
  Nanos prev_now = io_now_;
  io_sink_ = &sink;
  io_now_ = now;
  absl::Status s = sctp_->assoc->send(
      stream, binary ? sctp::MessageKind::kBinary : sctp::MessageKind::kText, data, len, now);
  io_sink_ = prev_sink;
  io_now_ = prev_now;
  return s;
}

void WebRtcTransport::set_data_read_paused(bool paused) {
  if (sctp_ != nullptr && sctp_->assoc != nullptr) sctp_->assoc->set_read_paused(paused);
}

absl::Status WebRtcTransport::close_data_channel(uint16_t stream, Nanos now, PacketSink& sink) {
  if (sctp_ == nullptr) return absl::FailedPreconditionError("transport has no data channels");
  if (sctp_->assoc == nullptr) return absl::FailedPreconditionError("sctp association is not up");
  PacketSink* prev_sink = io_sink_;
  Nanos prev_now = io_now_;
  io_sink_ = &sink;
  io_now_ = now;
  absl::Status s = sctp_->assoc->close_channel(stream, now);
  io_sink_ = prev_sink;
  io_now_ = prev_now;
  return s;
}

}  // namespace tern::sfu
