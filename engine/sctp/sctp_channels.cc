// SctpAssociation, the sending side: usrsctp sends and stream resets (the
// stack's lock held) and the public channel API (open, send, close,
// shutdown). Setup, the receive path and DCEP are in sctp_association.cc.
#include <usrsctp.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/sctp/sctp_association.h"

namespace tern::sctp {

// ---------------------------------------------------------------------------
// Sending (lock held)

int SctpAssociation::sendv(uint16_t sid, uint32_t ppid, const uint8_t* data, size_t len,
                           bool unordered, uint16_t pr_policy, uint32_t pr_value) {
  sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = sid;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = unordered ? SCTP_UNORDERED : 0;
  if (pr_policy != SCTP_PR_SCTP_NONE) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = pr_policy;
    spa.sendv_prinfo.pr_value = pr_value;
  }
  ssize_t r = usrsctp_sendv(sock_, data, len, nullptr, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
  return r < 0 ? -1 : 0;
}

bool SctpAssociation::send_dcep_open(Channel& ch) {
  DcepOpen o;
  o.channel_type = ch.info.type;
  o.priority = ch.info.priority;
  o.reliability = ch.info.reliability;
  o.label = ch.info.label;
  o.protocol = ch.info.protocol;
  auto bytes = encode_dcep_open(o);
  if (!bytes.ok()) return false;
  // DCEP messages go reliable and ordered (RFC 8832 §6).
  if (sendv(ch.info.stream, kPpidDcep, bytes->data(), bytes->size(), false, SCTP_PR_SCTP_NONE, 0) <
      0) {
    return false;
  }
  ch.state = ChannelState::kOpen;
  ++stats_.channels_opened;
  events_.infos.push_back(ch.info);
  Event e{EvType::kOpen, ch.info.stream, 0, events_.infos.size() - 1, 0};
  events_.events.push_back(e);
  return true;
}

bool SctpAssociation::reset_stream(uint16_t sid) {
  if (sock_ == nullptr || state_ != SctpState::kConnected) return true;  // nothing to reset
  alignas(sctp_reset_streams) uint8_t buf[sizeof(sctp_reset_streams) + sizeof(uint16_t)];
  auto* rs = reinterpret_cast<sctp_reset_streams*>(buf);
  rs->srs_assoc_id = SCTP_FUTURE_ASSOC;  // one-to-one socket: its only association
  rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  rs->srs_number_streams = 1;
  std::memcpy(buf + sizeof(sctp_reset_streams), &sid, sizeof(sid));
  return usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buf, sizeof(buf)) == 0;
}

void SctpAssociation::retry_resets() {
  if (pending_resets_.empty()) return;
  std::vector<uint16_t> retry;
  retry.swap(pending_resets_);
  for (uint16_t sid : retry) {
    if (!reset_stream(sid)) pending_resets_.push_back(sid);
  }
}

// ---------------------------------------------------------------------------
// Public channel API

const DataChannelInfo* SctpAssociation::channel(uint16_t stream) const {
  auto it = channels_.find(stream);
  return it == channels_.end() ? nullptr : &it->second.info;
}

absl::StatusOr<uint16_t> SctpAssociation::open_channel(const DataChannelParams& p, Nanos /*now*/) {
  if (state_ == SctpState::kClosed || sock_ == nullptr) {
    return absl::FailedPreconditionError("sctp: open_channel on a closed association");
  }
  if (p.max_retransmits.has_value() && p.max_packet_life_time_ms.has_value()) {
    return absl::InvalidArgumentError(
        "sctp: open_channel: max_retransmits and max_packet_life_time are exclusive");
  }
  DataChannelInfo info;
  info.label = p.label;
  info.protocol = p.protocol;
  info.priority = p.priority;
  uint8_t type = 0x00;
  if (p.max_retransmits.has_value()) {
    type = 0x01;
    info.reliability = *p.max_retransmits;
  } else if (p.max_packet_life_time_ms.has_value()) {
    type = 0x02;
    info.reliability = *p.max_packet_life_time_ms;
  }
  if (!p.ordered) type |= 0x80;
  info.type = static_cast<DcepChannelType>(type);
  if (p.label.size() > 0xffff || p.protocol.size() > 0xffff ||
      !valid_utf8(reinterpret_cast<const uint8_t*>(p.label.data()), p.label.size()) ||
      !valid_utf8(reinterpret_cast<const uint8_t*>(p.protocol.data()), p.protocol.size())) {
    return absl::InvalidArgumentError(
        "sctp: open_channel: label and protocol must be UTF-8 of at most 65535 bytes");
  }
  const uint16_t limit = state_ == SctpState::kConnected ? out_streams_ : config_.streams;
  uint32_t sid = config_.dtls_client ? 0 : 1;
  while (sid < limit && channels_.contains(static_cast<uint16_t>(sid))) sid += 2;
  if (sid >= limit || sid == 65535) {
    return absl::ResourceExhaustedError(absl::StrCat("sctp: open_channel: no free ",
                                                     config_.dtls_client ? "even" : "odd",
                                                     " stream below ", limit));
  }
  info.stream = static_cast<uint16_t>(sid);
  absl::Status st;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    Channel ch;
    ch.info = info;
    auto [it, inserted] = channels_.emplace(info.stream, std::move(ch));
    if (state_ == SctpState::kConnected && !send_dcep_open(it->second)) {
      channels_.erase(it);
      st = absl::ResourceExhaustedError("sctp: open_channel: send buffer full");
    }
    poll_socket();
  }
  flush();
  if (!st.ok()) return st;
  return info.stream;
}

absl::Status SctpAssociation::send(uint16_t stream, MessageKind kind, const uint8_t* data,
                                   size_t len, Nanos /*now*/) {
  auto it = channels_.find(stream);
  if (it == channels_.end() || it->second.state != ChannelState::kOpen) {
    return absl::FailedPreconditionError(
        absl::StrCat("sctp: send: stream ", stream, " has no open channel"));
  }
  const size_t limit =
      config_.remote_max_message_size == 0 ? kMaxMessageCap : config_.remote_max_message_size;
  if (len > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat("sctp: send: message of ", len, " bytes exceeds max-message-size ", limit));
  }
  if (len > 0 && data == nullptr) return absl::InvalidArgumentError("sctp: send: null data");
  const Channel& ch = it->second;
  static const uint8_t kZero = 0;
  uint32_t ppid;
  if (len == 0) {
    ppid = kind == MessageKind::kText ? kPpidStringEmpty : kPpidBinaryEmpty;
    data = &kZero;
    len = 1;
  } else {
    ppid = kind == MessageKind::kText ? kPpidString : kPpidBinary;
  }
  const uint8_t policy = dcep_policy(ch.info.type);
  const uint16_t pr = policy == 1   ? SCTP_PR_SCTP_RTX
                      : policy == 2 ? SCTP_PR_SCTP_TTL
                                    : SCTP_PR_SCTP_NONE;
  // Ordered until the peer acknowledged the OPEN (RFC 8832 §6).
  const bool unordered = dcep_unordered(ch.info.type) && ch.acked;
  int r;
  int err = 0;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    r = sendv(stream, ppid, data, len, unordered, pr, ch.info.reliability);
    if (r < 0) err = errno;
    poll_socket();
  }
  flush();
  if (r < 0) {
    if (err == EWOULDBLOCK || err == EAGAIN) {
      send_blocked_ = true;
      return absl::ResourceExhaustedError("sctp: send: send buffer full");
    }
    return absl::InternalError(absl::StrCat("sctp: send: ", std::strerror(err)));
  }
  ++stats_.messages_out;
  stats_.message_bytes_out += ppid == kPpidStringEmpty || ppid == kPpidBinaryEmpty ? 0 : len;
  return absl::OkStatus();
}

absl::Status SctpAssociation::close_channel(uint16_t stream, Nanos /*now*/) {
  auto it = channels_.find(stream);
  if (it == channels_.end()) {
    return absl::NotFoundError(absl::StrCat("sctp: close_channel: no channel on stream ", stream));
  }
  if (it->second.state == ChannelState::kClosing) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    if (it->second.state == ChannelState::kPendingOpen || state_ != SctpState::kConnected) {
      channel_closed(stream);  // never announced to the peer
    } else {
      it->second.state = ChannelState::kClosing;
      if (!reset_stream(stream)) pending_resets_.push_back(stream);
    }
    poll_socket();
  }
  flush();
  return absl::OkStatus();
}

absl::Status SctpAssociation::send_raw(uint16_t stream, uint32_t ppid, const uint8_t* data,
                                       size_t len) {
  if (sock_ == nullptr || state_ != SctpState::kConnected || len == 0 || data == nullptr) {
    return absl::FailedPreconditionError("sctp: send_raw needs a connected association and data");
  }
  int r;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    r = sendv(stream, ppid, data, len, false, SCTP_PR_SCTP_NONE, 0);
    poll_socket();
  }
  flush();
  return r < 0 ? absl::InternalError("sctp: send_raw failed") : absl::OkStatus();
}

void SctpAssociation::shutdown(Nanos /*now*/) {
  if (sock_ == nullptr || state_ == SctpState::kClosed) return;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    if (state_ == SctpState::kConnected) {
      usrsctp_shutdown(sock_, SHUT_RDWR);
    } else {
      on_assoc_down("shutdown");
    }
    poll_socket();
  }
  flush();
}

}  // namespace tern::sctp
