// WebRtcTransport without usrsctp: a transport asking for data channels is
// refused at create() (Unimplemented); everything else is a no-op.
#include "engine/sctp/sctp_association.h"
#include "engine/sfu/webrtc_transport.h"

namespace tern::sfu {

struct WebRtcTransport::Sctp {};

void WebRtcTransport::SctpDeleter::operator()(Sctp* s) const { delete s; }

absl::Status WebRtcTransport::init_sctp() {
  return absl::UnimplementedError("sctp: this build has no usrsctp (data channels unavailable)");
}
void WebRtcTransport::start_sctp(Nanos, PacketSink&) {}
Nanos WebRtcTransport::sctp_deadline() const { return kNever; }
void WebRtcTransport::sctp_timer(Nanos, PacketSink&) {}
void WebRtcTransport::shutdown_sctp(Nanos, PacketSink&) {}
void WebRtcTransport::release_sctp() {}
bool WebRtcTransport::sctp_connected() const { return false; }
const sctp::DataChannelInfo* WebRtcTransport::data_channel(uint16_t) const { return nullptr; }
int32_t WebRtcTransport::find_data_channel(const std::string&) const { return -1; }
absl::StatusOr<uint16_t> WebRtcTransport::open_data_channel(const sctp::DataChannelParams&, Nanos,
                                                            PacketSink&) {
  return absl::UnimplementedError("sctp: this build has no usrsctp");
}
absl::Status WebRtcTransport::send_data(uint16_t, bool, const uint8_t*, size_t, Nanos,
                                        PacketSink&) {
  return absl::UnimplementedError("sctp: this build has no usrsctp");
}
void WebRtcTransport::set_data_read_paused(bool) {}
absl::Status WebRtcTransport::close_data_channel(uint16_t, Nanos, PacketSink&) {
  return absl::UnimplementedError("sctp: this build has no usrsctp");
}

}  // namespace tern::sfu
