// SctpAssociation: setup over usrsctp, timers and output, the receive path
// (notifications, messages, DCEP, stream resets). Sending and the public
// channel API are in sctp_channels.cc.
#include "engine/sctp/sctp_association.h"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tern::sctp {

namespace {

// Bound on usrsctp_recvv calls per entry (each returns one message, piece or
// notification); what is left is read on the next call (on_timer at the latest).
constexpr int kMaxReadsPerCall = 4096;
constexpr size_t kReadChunk = 64 * 1024;
// usrsctp 0.9.5 in AF_CONN mode emitted packets above the path MTU it was
// given (measured: 1160 bytes for 1150). We give it config.mtu - 32 so that
// every packet fits config.mtu (one DTLS record); the tests assert that for
// every packet they carry.
constexpr uint32_t kMtuSlack = 32;

sockaddr_conn conn_addr(uint64_t id, uint16_t port) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
  return a;
}

template <typename T>
int setopt(struct socket* s, int level, int name, const T& v) {
  return usrsctp_setsockopt(s, level, name, &v, sizeof(v));
}

}  // namespace

const char* sctp_state_name(SctpState s) {
  switch (s) {
    case SctpState::kNew:
      return "new";
    case SctpState::kConnecting:
      return "connecting";
    case SctpState::kConnected:
      return "connected";
    case SctpState::kClosed:
      return "closed";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// Setup and teardown

absl::StatusOr<std::unique_ptr<SctpAssociation>> SctpAssociation::create(
    std::shared_ptr<SctpStack> stack, const SctpAssociationConfig& config, SctpOutputSink sink,
    SctpAssociationHandler* handler) {
  if (stack == nullptr) return absl::InvalidArgumentError("sctp: no stack");
  if (handler == nullptr) return absl::InvalidArgumentError("sctp: no handler");
  if (!sink) return absl::InvalidArgumentError("sctp: no output sink");
  if (config.local_port == 0 || config.remote_port == 0) {
    return absl::InvalidArgumentError(absl::StrCat("sctp: port ", config.local_port, "/",
                                                   config.remote_port, " must be non-zero"));
  }
  if (config.mtu < 512 || config.mtu > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("sctp: mtu ", config.mtu, " not in [512, 65535]"));
  }
  if (config.streams < 2) {
    return absl::InvalidArgumentError(absl::StrCat("sctp: streams ", config.streams, " below 2"));
  }
  if (config.max_message_size == 0 || config.max_message_size > kMaxMessageCap) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sctp: max_message_size ", config.max_message_size, " not in [1, ", kMaxMessageCap, "]"));
  }
  const size_t send_cap =
      config.remote_max_message_size == 0 ? kMaxMessageCap : config.remote_max_message_size;
  if (config.send_buffer < send_cap || config.send_buffer > 64u * 1024 * 1024) {
    return absl::InvalidArgumentError(absl::StrCat("sctp: send_buffer ", config.send_buffer,
                                                   " must hold a whole message (", send_cap,
                                                   " bytes) and be at most 64 MiB"));
  }
  if (config.rto_min_ms == 0 || config.rto_min_ms > config.rto_initial_ms ||
      config.rto_initial_ms > config.rto_max_ms) {
    return absl::InvalidArgumentError(
        absl::StrCat("sctp: rto min/initial/max ", config.rto_min_ms, "/", config.rto_initial_ms,
                     "/", config.rto_max_ms, " ms must be positive and ordered"));
  }
  std::unique_ptr<SctpAssociation> a(
      new SctpAssociation(std::move(stack), config, std::move(sink), handler));
  absl::Status st;
  {
    std::lock_guard<std::mutex> g(a->stack_->mutex());
    a->id_ = a->stack_->register_association(a.get());
    st = a->init_socket();
  }
  if (!st.ok()) return st;
  return a;
}

SctpAssociation::SctpAssociation(std::shared_ptr<SctpStack> stack,
                                 const SctpAssociationConfig& config, SctpOutputSink sink,
                                 SctpAssociationHandler* handler)
    : stack_(std::move(stack)), config_(config), sink_(std::move(sink)), handler_(handler) {}

absl::Status SctpAssociation::init_socket() {
  sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (sock_ == nullptr) {
    return absl::InternalError(absl::StrCat("sctp: usrsctp_socket: ", std::strerror(errno)));
  }
  auto fail = [&](const char* what) {
    return absl::InternalError(absl::StrCat("sctp: ", what, ": ", std::strerror(errno)));
  };
  if (usrsctp_set_non_blocking(sock_, 1) != 0) return fail("set_non_blocking");
  const int one = 1;
  if (setopt(sock_, IPPROTO_SCTP, SCTP_NODELAY, one) != 0) return fail("SCTP_NODELAY");
  if (setopt(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, one) != 0) return fail("SCTP_RECVRCVINFO");
  const int sndbuf = static_cast<int>(config_.send_buffer);
  const int rcvbuf = static_cast<int>(config_.receive_buffer);
  if (setopt(sock_, SOL_SOCKET, SO_SNDBUF, sndbuf) != 0) return fail("SO_SNDBUF");
  if (setopt(sock_, SOL_SOCKET, SO_RCVBUF, rcvbuf) != 0) return fail("SO_RCVBUF");
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_FUTURE_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  if (setopt(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset) != 0) {
    return fail("SCTP_ENABLE_STREAM_RESET");
  }
  for (uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SEND_FAILED_EVENT,
                        SCTP_PARTIAL_DELIVERY_EVENT}) {
    sctp_event ev{};
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    if (setopt(sock_, IPPROTO_SCTP, SCTP_EVENT, ev) != 0) return fail("SCTP_EVENT");
  }
  sctp_initmsg init{};
  init.sinit_num_ostreams = config_.streams;
  init.sinit_max_instreams = config_.streams;
  if (setopt(sock_, IPPROTO_SCTP, SCTP_INITMSG, init) != 0) return fail("SCTP_INITMSG");
  sctp_rtoinfo rto{};
  rto.srto_assoc_id = SCTP_FUTURE_ASSOC;
  rto.srto_initial = config_.rto_initial_ms;
  rto.srto_min = config_.rto_min_ms;
  rto.srto_max = config_.rto_max_ms;
  if (setopt(sock_, IPPROTO_SCTP, SCTP_RTOINFO, rto) != 0) return fail("SCTP_RTOINFO");
  // Fixed path MTU: one SCTP packet per DTLS record, no PMTU discovery (the
  // datagram size is the DTLS endpoint's decision).
  sctp_paddrparams pp{};
  pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
  pp.spp_flags = SPP_PMTUD_DISABLE;
  pp.spp_pathmtu = config_.mtu - kMtuSlack;
  if (setopt(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, pp) != 0)
    return fail("SCTP_PEER_ADDR_PARAMS");
  sockaddr_conn local = conn_addr(id_, config_.local_port);
  if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    return fail("bind");
  }
  return absl::OkStatus();
}

SctpAssociation::~SctpAssociation() {
  std::lock_guard<std::mutex> g(stack_->mutex());
  if (sock_ != nullptr) {
    // Abortive close: usrsctp frees the association now instead of lingering in
    // SHUTDOWN states with timers that would outlive us.
    linger l{};
    l.l_onoff = 1;
    l.l_linger = 0;
    setopt(sock_, SOL_SOCKET, SO_LINGER, l);
    usrsctp_close(sock_);
    sock_ = nullptr;
  }
  stack_->unregister_association(id_);  // later output for our id is dropped
}

absl::Status SctpAssociation::start(Nanos now) {
  if (state_ != SctpState::kNew) {
    return absl::FailedPreconditionError(
        absl::StrCat("sctp: start in state ", sctp_state_name(state_)));
  }
  absl::Status st;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    last_timer_ = now;
    sockaddr_conn remote = conn_addr(id_, config_.remote_port);
    if (usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0 &&
        errno != EINPROGRESS) {
      st = absl::InternalError(absl::StrCat("sctp: connect: ", std::strerror(errno)));
      state_ = SctpState::kClosed;
    } else {
      state_ = SctpState::kConnecting;
    }
    poll_socket();
  }
  flush();
  return st;
}

// ---------------------------------------------------------------------------
// Input, timers, output

void SctpAssociation::receive(const uint8_t* data, size_t len, Nanos /*now*/) {
  if (data == nullptr || len == 0 || sock_ == nullptr) return;
  ++stats_.packets_in;
  stats_.bytes_in += len;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    // usrsctp checks the CRC32c, the verification tag and every chunk; it does
    // not keep the pointer.
    usrsctp_conninput(reinterpret_cast<void*>(static_cast<uintptr_t>(id_)), data, len, 0);
    poll_socket();
  }
  flush();
  notify_send_ready();
}

void SctpAssociation::notify_send_ready() {
  if (!send_blocked_ || sock_ == nullptr) return;
  send_blocked_ = false;
  if (handler_ != nullptr) handler_->on_send_ready();
}

Nanos SctpAssociation::next_deadline() const {
  if (state_ == SctpState::kNew || (state_ == SctpState::kClosed && sock_ == nullptr)) {
    return kNever;
  }
  if (has_pending_out_.load(std::memory_order_relaxed)) return 0;
  return last_timer_ + SctpStack::kTimerInterval;
}

void SctpAssociation::on_timer(Nanos now) {
  if (sock_ == nullptr) return;
  {
    std::lock_guard<std::mutex> g(stack_->mutex());
    last_timer_ = now;
    stack_->advance_locked(now);
    retry_resets();
    poll_socket();
  }
  flush();
  notify_send_ready();
}

void SctpAssociation::enqueue_output(const uint8_t* data, size_t len) {
  if (pending_out_bytes_ + len > config_.max_pending_output) {
    ++stats_.output_dropped;  // under the lock; SCTP retransmits
    return;
  }
  pending_out_.bytes.insert(pending_out_.bytes.end(), data, data + len);
  pending_out_.lens.push_back(len);
  pending_out_bytes_ += len;
  has_pending_out_.store(true, std::memory_order_relaxed);
}

void SctpAssociation::flush() {
  if (flushing_) return;  // a handler called us: the outer loop delivers
  flushing_ = true;
  for (int round = 0; round < 1000; ++round) {
    {
      std::lock_guard<std::mutex> g(stack_->mutex());
      std::swap(pending_out_, out_dispatch_);
      pending_out_bytes_ = 0;
      has_pending_out_.store(false, std::memory_order_relaxed);
    }
    std::swap(events_, ev_dispatch_);
    if (out_dispatch_.lens.empty() && ev_dispatch_.events.empty()) break;
    size_t off = 0;
    for (size_t n : out_dispatch_.lens) {
      ++stats_.packets_out;
      stats_.bytes_out += n;
      sink_(out_dispatch_.bytes.data() + off, n);
      off += n;
    }
    out_dispatch_.bytes.clear();
    out_dispatch_.lens.clear();
    for (const Event& e : ev_dispatch_.events) {
      switch (e.type) {
        case EvType::kConnected:
          handler_->on_connected();
          break;
        case EvType::kOpen:
          handler_->on_channel_open(ev_dispatch_.infos[e.offset]);
          break;
        case EvType::kMessage:
          handler_->on_message(e.stream, e.ppid, ev_dispatch_.bytes.data() + e.offset, e.len);
          break;
        case EvType::kChannelClosed:
          handler_->on_channel_closed(e.stream);
          break;
        case EvType::kClosed:
          handler_->on_closed(close_reason_);
          break;
      }
    }
    ev_dispatch_.clear();
  }
  flushing_ = false;
}

void SctpAssociation::push_event(EvType t, uint16_t sid, uint32_t ppid, const uint8_t* data,
                                 size_t len) {
  Event e{t, sid, ppid, 0, 0};
  if (t == EvType::kMessage) {
    e.offset = events_.bytes.size();
    e.len = len;
    if (len > 0) events_.bytes.insert(events_.bytes.end(), data, data + len);
  }
  events_.events.push_back(e);
}

// ---------------------------------------------------------------------------
// Reading the socket (lock held)

void SctpAssociation::poll_socket() {
  if (sock_ == nullptr || read_paused_) return;
  static thread_local std::vector<uint8_t> buf(kReadChunk);
  for (int i = 0; i < kMaxReadsPerCall; ++i) {
    sctp_rcvinfo rcv{};
    socklen_t infolen = sizeof(rcv);
    unsigned int infotype = 0;
    int flags = 0;
    sockaddr_conn from{};
    socklen_t fromlen = sizeof(from);
    ssize_t n = usrsctp_recvv(sock_, buf.data(), buf.size(), reinterpret_cast<sockaddr*>(&from),
                              &fromlen, &rcv, &infolen, &infotype, &flags);
    if (n < 0) return;  // EWOULDBLOCK, or the socket is closed
    if (n == 0 && (flags & MSG_NOTIFICATION) == 0) {
      // End of stream: the peer shut the association down.
      if (state_ != SctpState::kClosed) on_assoc_down("peer shutdown");
      return;
    }
    if (flags & MSG_NOTIFICATION) {
      // Notifications are small; a truncated one (no MSG_EOR) is ignored.
      if (flags & MSG_EOR) handle_notification(buf.data(), static_cast<size_t>(n));
      continue;
    }
    if (infotype != SCTP_RECVV_RCVINFO) continue;  // no stream info: cannot route it
    handle_data(rcv.rcv_sid, ntohl(rcv.rcv_ppid), buf.data(), static_cast<size_t>(n),
                (flags & MSG_EOR) != 0);
  }
}

void SctpAssociation::handle_notification(const uint8_t* data, size_t len) {
  if (len < 8) return;
  sctp_notification::sctp_tlv h;  // type, flags, length
  std::memcpy(&h, data, sizeof(h));
  switch (h.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      if (len < sizeof(sctp_assoc_change)) return;
      sctp_assoc_change ac;
      std::memcpy(&ac, data, sizeof(ac));
      switch (ac.sac_state) {
        case SCTP_COMM_UP:
          on_comm_up(ac.sac_outbound_streams, ac.sac_inbound_streams);
          break;
        case SCTP_RESTART:  // peer restarted: same channels, new TSNs
          break;
        case SCTP_COMM_LOST:
          on_assoc_down("communication lost");
          break;
        case SCTP_SHUTDOWN_COMP:
          on_assoc_down("shutdown complete");
          break;
        case SCTP_CANT_STR_ASSOC:
          on_assoc_down("cannot start association");
          break;
      }
      break;
    }
    case SCTP_STREAM_RESET_EVENT:
      handle_stream_reset(data, len);
      break;
    case SCTP_SEND_FAILED_EVENT:  // PR-SCTP abandoned messages: nothing to do
    case SCTP_PARTIAL_DELIVERY_EVENT:
    default:
      break;
  }
}

void SctpAssociation::on_comm_up(uint16_t out_streams, uint16_t in_streams) {
  if (state_ == SctpState::kConnected) return;
  state_ = SctpState::kConnected;
  // The endpoint default set before connect() does not reach the path usrsctp
  // creates for the peer: set the fixed MTU on the association's path too.
  sctp_paddrparams pp{};
  sockaddr_conn remote = conn_addr(id_, config_.remote_port);
  std::memcpy(&pp.spp_address, &remote, sizeof(remote));
  pp.spp_flags = SPP_PMTUD_DISABLE;
  pp.spp_pathmtu = config_.mtu - kMtuSlack;
  setopt(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, pp);
  out_streams_ = out_streams;
  in_streams_ = in_streams;
  push_event(EvType::kConnected, 0);
  // Channels opened before the association was up: send their OPEN now.
  std::vector<uint16_t> fail;
  for (auto& [sid, ch] : channels_) {
    if (ch.state != ChannelState::kPendingOpen) continue;
    if (sid >= out_streams_ || !send_dcep_open(ch)) fail.push_back(sid);
  }
  for (uint16_t sid : fail) channel_closed(sid);
}

void SctpAssociation::on_assoc_down(const char* reason) {
  if (state_ == SctpState::kClosed) return;
  state_ = SctpState::kClosed;
  std::vector<uint16_t> sids;
  for (const auto& [sid, ch] : channels_) sids.push_back(sid);
  for (uint16_t sid : sids) channel_closed(sid);
  pending_resets_.clear();
  close_reason_ = reason;
  push_event(EvType::kClosed, 0);
}

void SctpAssociation::handle_data(uint16_t sid, uint32_t ppid, const uint8_t* data, size_t len,
                                  bool eor) {
  auto it = channels_.find(sid);
  if (it == channels_.end() || !it->second.reasm.empty() || it->second.discarding || !eor) {
    // Partial delivery (message larger than what one read returns). DCEP
    // messages on a stream without a channel are never that large; drop those.
    if (it == channels_.end()) {
      if (eor && ppid == kPpidDcep) {
        handle_dcep(sid, data, len);
      } else if (eor) {
        ++stats_.no_channel_dropped;
      }
      return;
    }
    Channel& ch = it->second;
    if (!ch.discarding) {
      if (ch.reasm.size() + len > config_.max_message_size) {
        ch.discarding = true;
        ch.reasm.clear();
        ch.reasm.shrink_to_fit();
      } else {
        if (ch.reasm.empty()) ch.reasm_ppid = ppid;
        ch.reasm.insert(ch.reasm.end(), data, data + len);
      }
    }
    if (!eor) return;
    if (ch.discarding) {
      ch.discarding = false;
      ++stats_.oversize_dropped;
      return;
    }
    std::vector<uint8_t> msg;
    msg.swap(ch.reasm);
    handle_message(sid, ch.reasm_ppid, msg.data(), msg.size());
    // Keep the capacity for the next large message on this stream.
    msg.clear();
    if (auto again = channels_.find(sid); again != channels_.end()) again->second.reasm.swap(msg);
    return;
  }
  if (len > config_.max_message_size) {
    ++stats_.oversize_dropped;
    return;
  }
  handle_message(sid, ppid, data, len);
}

void SctpAssociation::handle_message(uint16_t sid, uint32_t ppid, const uint8_t* data, size_t len) {
  if (ppid == kPpidDcep) {
    handle_dcep(sid, data, len);
    return;
  }
  auto it = channels_.find(sid);
  if (it == channels_.end() || it->second.state == ChannelState::kPendingOpen) {
    ++stats_.no_channel_dropped;
    return;
  }
  switch (ppid) {
    case kPpidString:
    case kPpidBinary:
    case kPpidStringPartial:
    case kPpidBinaryPartial:
      break;
    case kPpidStringEmpty:
    case kPpidBinaryEmpty:
      len = 0;  // the one 0x00 byte is padding (RFC 8831 §6.6)
      break;
    default:
      ++stats_.unknown_ppid_dropped;
      return;
  }
  ++stats_.messages_in;
  stats_.message_bytes_in += len;
  push_event(EvType::kMessage, sid, ppid, data, len);
}

void SctpAssociation::handle_dcep(uint16_t sid, const uint8_t* data, size_t len) {
  auto type = dcep_message_type(data, len);
  if (!type.ok()) {
    ++stats_.dcep_malformed;
    return;
  }
  auto it = channels_.find(sid);
  if (*type == DcepMessageType::kAck) {
    if (!parse_dcep_ack(data, len).ok()) {
      ++stats_.dcep_malformed;
      return;
    }
    if (it == channels_.end() || it->second.info.remote || it->second.acked) {
      ++stats_.dcep_unexpected;
      return;
    }
    it->second.acked = true;
    return;
  }
  // DATA_CHANNEL_OPEN.
  if (it != channels_.end()) {
    ++stats_.dcep_unexpected;  // stream in use: the existing channel is unaffected
    return;
  }
  const bool peer_parity_ok = (sid % 2 == 0) != config_.dtls_client;
  auto open = parse_dcep_open(data, len);
  if (!open.ok() || !peer_parity_ok || sid >= out_streams_) {
    // Refuse: reset the stream so the peer's channel fails instead of hanging.
    if (!open.ok()) {
      ++stats_.dcep_malformed;
    } else {
      ++stats_.dcep_unexpected;
    }
    if (!reset_stream(sid)) pending_resets_.push_back(sid);
    return;
  }
  Channel ch;
  ch.info.stream = sid;
  ch.info.label = std::move(open->label);
  ch.info.protocol = std::move(open->protocol);
  ch.info.type = open->channel_type;
  ch.info.reliability = open->reliability;
  ch.info.priority = open->priority;
  ch.info.remote = true;
  ch.state = ChannelState::kOpen;
  ch.acked = true;  // we may use the channel's ordering at once
  uint8_t ack[1];
  encode_dcep_ack(ack, sizeof(ack));
  if (sendv(sid, kPpidDcep, ack, 1, false, SCTP_PR_SCTP_NONE, 0) < 0) {
    ++stats_.dcep_unexpected;  // send buffer full: refuse rather than half-open
    if (!reset_stream(sid)) pending_resets_.push_back(sid);
    return;
  }
  auto [pos, inserted] = channels_.emplace(sid, std::move(ch));
  ++stats_.channels_opened;
  events_.infos.push_back(pos->second.info);
  Event e{EvType::kOpen, sid, 0, events_.infos.size() - 1, 0};
  events_.events.push_back(e);
}

void SctpAssociation::handle_stream_reset(const uint8_t* data, size_t len) {
  if (len < sizeof(sctp_stream_reset_event)) return;
  sctp_stream_reset_event ev;
  std::memcpy(&ev, data, sizeof(ev));
  const size_t n = (std::min<size_t>(ev.strreset_length, len) - sizeof(ev)) / 2;
  const uint8_t* list = data + sizeof(ev);
  if (ev.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) {
    // Our outgoing reset was refused: try again from on_timer.
    if (ev.strreset_flags & SCTP_STREAM_RESET_OUTGOING_SSN) {
      for (size_t i = 0; i < n; ++i) {
        uint16_t sid;
        std::memcpy(&sid, list + 2 * i, 2);
        pending_resets_.push_back(sid);
      }
    }
    return;
  }
  if ((ev.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) == 0) return;
  // The peer reset its outgoing side of these streams: the channel is closing.
  for (size_t i = 0; i < n; ++i) {
    uint16_t sid;
    std::memcpy(&sid, list + 2 * i, 2);
    auto it = channels_.find(sid);
    if (it == channels_.end()) continue;
    if (it->second.state != ChannelState::kClosing) {
      // Peer-initiated close: reset ours too (RFC 8831 §6.7).
      if (!reset_stream(sid)) pending_resets_.push_back(sid);
    }
    channel_closed(sid);
  }
}

void SctpAssociation::channel_closed(uint16_t sid) {
  if (channels_.erase(sid) == 0) return;
  ++stats_.channels_closed;
  push_event(EvType::kChannelClosed, sid);
}

}  // namespace tern::sctp
