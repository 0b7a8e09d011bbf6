// SctpAssociation: one SCTP association (RFC 4960 via usrsctp, AF_CONN) over
// one DTLS connection (RFC 8261), carrying WebRTC data channels (RFC 8831)
// opened with DCEP (RFC 8832). Sans-IO:
//
//   receive(bytes, now)   an SCTP packet the DTLS layer decrypted
//   OutputSink            SCTP packets to encrypt and send (one DTLS record each;
//                         config.mtu bounds them, set it to DtlsEndpoint::max_app_data_size())
//   next_deadline()/on_timer(now)  drive usrsctp's timers (SctpStack::advance)
//   SctpAssociationHandler events: connected, channel open (label, protocol,
//                         reliability), message (stream, ppid, bytes), channel
//                         closed, association closed.
//
// The sink and the handler are called only from the owner's own calls
// (receive, on_timer, start, open_channel, send, close_channel, shutdown), on
// the owner's thread, after the node-wide usrsctp lock was released: a handler
// may call back into the association (send from on_message, ...). It must not
// destroy the association from inside a handler.
//
// Streams (RFC 8832 §6): the DTLS client opens even stream ids, the server odd.
// Both sides may open; a channel opened before the association is up is sent
// (DATA_CHANNEL_OPEN) when it comes up. User messages go ordered until the
// peer's DATA_CHANNEL_ACK arrives, then with the channel's ordering (§6).
// Closing resets our outgoing stream (RFC 8831 §6.7); the peer answers by
// resetting its own; each side reports the channel closed when the incoming
// direction is reset.
//
// Messages: PPID 51 text / 53 binary, empty ones as 56 / 57 with one 0x00 byte
// (RFC 8831 §6.6). send() refuses messages above the peer's a=max-message-size;
// a received message above ours (config.max_message_size) is discarded
// and counted. No RFC 8260 interleaving (usrsctp 0.9.5 implements I-DATA but
// we do not negotiate it: a large message delays others on the association).
//
// Threading: the owning worker calls everything; see sctp_stack.h for how
// several workers share usrsctp. usrsctp allocates per packet (mbufs): this is
// not an allocation-free path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/net/nanos.h"
#include "engine/sctp/dcep.h"
#include "engine/sctp/sctp_stack.h"

struct socket;

namespace tern::sctp {

struct SctpAssociationConfig {
  // RFC 8832 §6: true when our DTLS role is client (even stream ids).
  bool dtls_client = false;
  uint16_t local_port = 5000;   // our a=sctp-port
  uint16_t remote_port = 5000;  // the peer's a=sctp-port (RFC 8841: 5000 if absent)
  // Ours, advertised as a=max-message-size: larger incoming messages are dropped.
  size_t max_message_size = 262144;
  // The peer's a=max-message-size: send() refuses larger messages. 0 = the peer
  // stated no limit (RFC 8841 §6.1); we then cap at kMaxMessageCap.
  size_t remote_max_message_size = 65536;
  uint16_t streams = 1024;  // inbound and outbound streams requested
  // Largest SCTP packet: what one DTLS record carries over a 1200-byte datagram.
  uint32_t mtu = 1150;
  uint32_t rto_initial_ms = 1000;
  uint32_t rto_min_ms = 400;
  uint32_t rto_max_ms = 10000;
  // usrsctp socket buffers. The send buffer must hold a whole message.
  uint32_t send_buffer = 1024 * 1024;
  uint32_t receive_buffer = 1024 * 1024;
  // Output queued by usrsctp and not yet taken by the sink (timer runs on other
  // workers); beyond it packets are dropped (SCTP retransmits).
  size_t max_pending_output = 4 * 1024 * 1024;
};

inline constexpr size_t kMaxMessageCap = 1024 * 1024;

enum class SctpState : uint8_t { kNew, kConnecting, kConnected, kClosed };
const char* sctp_state_name(SctpState s);

enum class MessageKind : uint8_t { kText, kBinary };

struct DataChannelParams {
  std::string label;
  std::string protocol;
  bool ordered = true;
  // At most one of these (RFC 8831 §6.1): partial reliability by retransmission
  // count, or by lifetime in milliseconds.
  std::optional<uint32_t> max_retransmits;
  std::optional<uint32_t> max_packet_life_time_ms;
  uint16_t priority = kDcepPriorityNormal;
};

struct DataChannelInfo {
  uint16_t stream = 0;
  std::string label;
  std::string protocol;
  DcepChannelType type = DcepChannelType::kReliable;
  uint32_t reliability = 0;  // max retransmits or lifetime (ms); 0 for reliable
  uint16_t priority = kDcepPriorityNormal;
  bool remote = false;  // opened by the peer
  bool ordered() const { return !dcep_unordered(type); }
};

class SctpAssociationHandler {
 public:
  virtual ~SctpAssociationHandler() = default;
  virtual void on_connected() {}
  virtual void on_channel_open(const DataChannelInfo& channel) = 0;
  // ppid is the wire PPID (kPpidString, kPpidBinary, kPpidStringEmpty, ...);
  // empty messages arrive with len 0.
  virtual void on_message(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t len) = 0;
  virtual void on_channel_closed(uint16_t stream) = 0;
  // The association ended (peer ABORT/SHUTDOWN, retransmissions exhausted,
  // our shutdown()); every channel was reported closed before.
  virtual void on_closed(const std::string& /*reason*/) {}
  // A send() failed with ResourceExhausted before, and since then input or a
  // timer ran (a SACK may have freed send buffer space): try again. Called
  // after the lock was released, at most once per receive()/on_timer().
  virtual void on_send_ready() {}
};

// One SCTP packet to encrypt and send; valid only during the call.
using SctpOutputSink = absl::AnyInvocable<void(const uint8_t* data, size_t len)>;

// Owner thread only, like the association.
struct SctpStats {
  uint64_t packets_in = 0, bytes_in = 0;
  uint64_t packets_out = 0, bytes_out = 0;
  uint64_t messages_in = 0, message_bytes_in = 0;
  uint64_t messages_out = 0, message_bytes_out = 0;
  uint64_t oversize_dropped = 0;    // received messages above max_message_size
  uint64_t no_channel_dropped = 0;  // user messages on a stream with no open channel
  uint64_t unknown_ppid_dropped = 0;
  uint64_t dcep_malformed = 0;   // OPEN/ACK that does not parse (stream reset if new)
  uint64_t dcep_unexpected = 0;  // well-formed but out of place (ACK twice, OPEN on a used stream)
  uint64_t output_dropped = 0;   // pending output over max_pending_output
  uint64_t channels_opened = 0, channels_closed = 0;
};

class SctpAssociation {
 public:
  static absl::StatusOr<std::unique_ptr<SctpAssociation>> create(
      std::shared_ptr<SctpStack> stack, const SctpAssociationConfig& config, SctpOutputSink sink,
      SctpAssociationHandler* handler);
  // Abortive: the association is torn down (an ABORT is generated and discarded;
  // call shutdown() first for a graceful end). No callback runs.
  ~SctpAssociation();
  SctpAssociation(const SctpAssociation&) = delete;
  SctpAssociation& operator=(const SctpAssociation&) = delete;

  // Sends INIT. Both sides call it once DTLS is connected (RFC 8841 §5: both
  // ends initiate; SCTP resolves the collision).
  absl::Status start(Nanos now);
  // One decrypted DTLS application-data record. Garbage is dropped by usrsctp
  // (CRC32c, verification tag) and cannot hurt the association.
  void receive(const uint8_t* data, size_t len, Nanos now);

  // kNever before start() and once closed; otherwise the next usrsctp tick
  // (SctpStack::kTimerInterval after the previous on_timer), or 0 when another
  // worker's timer run queued output for us. usrsctp cannot say when its next
  // timer is due, so a live association ticks every 10 ms. `now` must follow
  // real time (sctp_stack.h, Clock).
  Nanos next_deadline() const;
  void on_timer(Nanos now);

  // Picks the lowest free stream id of our parity. Errors: bad parameters,
  // no free stream, association closed.
  absl::StatusOr<uint16_t> open_channel(const DataChannelParams& params, Nanos now);
  // ResourceExhausted when usrsctp's send buffer is full (retry later).
  absl::Status send(uint16_t stream, MessageKind kind, const uint8_t* data, size_t len, Nanos now);
  absl::Status close_channel(uint16_t stream, Nanos now);
  // Backpressure: while paused, nothing is read from the socket, so received
  // data stays in usrsctp's receive buffer and the advertised window shrinks
  // until the peer stops sending (its notifications wait too). Unpausing
  // reads again on the next receive()/on_timer() (within kTimerInterval).
  void set_read_paused(bool paused) { read_paused_ = paused; }
  bool read_paused() const { return read_paused_; }
  // Graceful SCTP SHUTDOWN after queued data is delivered; on_closed follows.
  void shutdown(Nanos now);

  // TESTS AND DIAGNOSTICS: one reliable ordered message with any PPID on any
  // stream, bypassing DCEP and channel state (malformed-DCEP tests).
  absl::Status send_raw(uint16_t stream, uint32_t ppid, const uint8_t* data, size_t len);

  SctpState state() const { return state_; }
  const SctpStats& stats() const { return stats_; }
  const SctpAssociationConfig& config() const { return config_; }
  size_t channel_count() const { return channels_.size(); }
  // Null if no such channel.
  const DataChannelInfo* channel(uint16_t stream) const;
  // Outbound/inbound stream counts negotiated at COMM_UP (0 before).
  uint16_t outbound_streams() const { return out_streams_; }
  uint16_t inbound_streams() const { return in_streams_; }
  uint64_t id() const { return id_; }

 private:
  friend class SctpStack;
  enum class ChannelState : uint8_t { kPendingOpen, kOpen, kClosing };
  struct Channel {
    DataChannelInfo info;
    ChannelState state = ChannelState::kPendingOpen;
    bool acked = false;       // local: peer's ACK seen (then unordered applies)
    bool discarding = false;  // reassembly over max_message_size: drop to EOR
    uint32_t reasm_ppid = 0;
    std::vector<uint8_t> reasm;  // partial delivery pieces of the current message
  };
  enum class EvType : uint8_t { kConnected, kOpen, kMessage, kChannelClosed, kClosed };
  struct Event {
    EvType type;
    uint16_t stream = 0;
    uint32_t ppid = 0;
    size_t offset = 0, len = 0;  // kMessage: bytes in ev_bytes; kOpen: index in ev_infos
  };
  struct EventQueue {
    std::vector<Event> events;
    std::vector<uint8_t> bytes;
    std::vector<DataChannelInfo> infos;
    void clear() {
      events.clear();
      bytes.clear();
      infos.clear();
    }
  };
  struct OutQueue {
    std::vector<uint8_t> bytes;
    std::vector<size_t> lens;
  };

  SctpAssociation(std::shared_ptr<SctpStack> stack, const SctpAssociationConfig& config,
                  SctpOutputSink sink, SctpAssociationHandler* handler);
  absl::Status init_socket();  // with the lock
  // Called by SctpStack's output callback, with the lock held, on any thread.
  void enqueue_output(const uint8_t* data, size_t len);

  // With the lock held (owner thread).
  void poll_socket();
  void handle_notification(const uint8_t* data, size_t len);
  void handle_data(uint16_t sid, uint32_t ppid, const uint8_t* data, size_t len, bool eor);
  void handle_message(uint16_t sid, uint32_t ppid, const uint8_t* data, size_t len);
  void handle_dcep(uint16_t sid, const uint8_t* data, size_t len);
  void handle_stream_reset(const uint8_t* data, size_t len);
  void on_comm_up(uint16_t out_streams, uint16_t in_streams);
  void on_assoc_down(const char* reason);
  bool send_dcep_open(Channel& ch);
  int sendv(uint16_t sid, uint32_t ppid, const uint8_t* data, size_t len, bool unordered,
            uint16_t pr_policy, uint32_t pr_value);
  bool reset_stream(uint16_t sid);
  void retry_resets();
  void channel_closed(uint16_t sid);  // erase + event
  void push_event(EvType t, uint16_t sid, uint32_t ppid = 0, const uint8_t* data = nullptr,
                  size_t len = 0);

  // Delivers pending output and events, after the lock is released.
  void flush();
  // on_send_ready() if a send was refused since the last call (no lock).
  void notify_send_ready();

  std::shared_ptr<SctpStack> stack_;
  SctpAssociationConfig config_;
  SctpOutputSink sink_;
  SctpAssociationHandler* handler_;
  uint64_t id_ = 0;
  struct socket* sock_ = nullptr;
  SctpState state_ = SctpState::kNew;
  bool read_paused_ = false;   // set_read_paused
  bool send_blocked_ = false;  // a send() hit a full buffer: on_send_ready() due
  uint16_t out_streams_ = 0, in_streams_ = 0;
  Nanos last_timer_ = 0;
  absl::flat_hash_map<uint16_t, Channel> channels_;
  std::vector<uint16_t> pending_resets_;  // outgoing resets usrsctp refused for now
  std::string close_reason_;
  SctpStats stats_;

  // Written by enqueue_output under the stack lock, from any thread.
  OutQueue pending_out_;
  size_t pending_out_bytes_ = 0;
  std::atomic<bool> has_pending_out_{false};
  // Owner only.
  OutQueue out_dispatch_;
  EventQueue events_, ev_dispatch_;
  bool flushing_ = false;
};

}  // namespace tern::sctp
