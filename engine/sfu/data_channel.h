// Data channels on a WebRtcTransport (docs/datachannels.md): what the control
// plane configures, the handler the SFU's DataRouter implements, and the
// records that cross the worker's rings (DataSend in, DataEvent out).
//
// A transport with `WebRtcTransportConfig::sctp` set creates its
// SctpAssociation (engine/sctp) when DTLS connects (RFC 8261 over the same
// DTLS association as SRTP), feeds it DTLS application data, sends its
// packets as DTLS records and drives its timer from next_deadline()/on_timer.
// Channel events and messages go to the transport's DataHandler, on the
// worker thread, after usrsctp's lock was released: the handler may send on
// this or another transport of the worker.
//
// This header has no usrsctp dependency (the SFU builds without usrsctp; a
// transport asking for SCTP then fails to create, Unimplemented).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/net/nanos.h"
#include "engine/sctp/dcep.h"

namespace tern::sctp {
struct DataChannelInfo;
struct DataChannelParams;
enum class MessageKind : uint8_t;
}  // namespace tern::sctp

namespace tern::sfu {

class WebRtcTransport;

// From the SDP m=application section (RFC 8841). Control plane writes it.
struct SctpTransportConfig {
  uint16_t local_port = 5000;   // our a=sctp-port
  uint16_t remote_port = 5000;  // the peer's a=sctp-port
  // Ours (what we answered in a=max-message-size): larger incoming messages
  // are discarded and counted.
  size_t max_message_size = 262144;
  // The peer's a=max-message-size; 0 = no limit stated (RFC 8841 §6.1: 64 KiB
  // is then the safe default, the negotiator reports 0 for "absent").
  size_t remote_max_message_size = 65536;
  // usrsctp retransmission timers (tests shorten them; real time, see
  // engine/sctp/sctp_stack.h).
  uint32_t rto_initial_ms = 1000;
  uint32_t rto_min_ms = 400;
  uint32_t rto_max_ms = 10000;
};

// Implemented by the SFU (DataRouter). Worker thread only. The transport
// reference is valid during the call; a handler must not close or destroy
// the transport from inside it.
class DataHandler {
 public:
  virtual ~DataHandler() = default;
  // The SCTP association is up: channels may be opened on it.
  virtual void on_data_connected(WebRtcTransport& t, Nanos now) = 0;
  // A channel opened by the peer (info.remote) or by us (DCEP OPEN sent).
  virtual void on_data_channel_open(WebRtcTransport& t, const sctp::DataChannelInfo& ch,
                                    Nanos now) = 0;
  // One whole message (empty ones have len 0).
  virtual void on_data_message(WebRtcTransport& t, uint16_t stream, sctp::MessageKind kind,
                               const uint8_t* data, size_t len, Nanos now) = 0;
  virtual void on_data_channel_closed(WebRtcTransport& t, uint16_t stream, Nanos now) = 0;
  // The association ended (abort, shutdown, lost); its channels were reported
  // closed before. A released transport reports nothing: the host's
  // kClosed / kIceFailed / kDtlsFailed event says it.
  virtual void on_data_closed(WebRtcTransport& t, const std::string& reason, Nanos now) = 0;
  // A send_data that returned ResourceExhausted may succeed now (the peer
  // acknowledged data or a timer ran).
  virtual void on_data_writable(WebRtcTransport& /*t*/, Nanos /*now*/) {}
};

// Control thread -> worker (WorkerCommand::kSendData): one message into a
// channel of a transport. Heap-allocated by the control thread, owned by the
// command, deleted by the worker.
struct DataSend {
  uint64_t transport_id = 0;
  int32_t stream = -1;  // >= 0: this stream; else the first open channel named `label`
  std::string label;
  bool binary = false;
  std::vector<uint8_t> bytes;
};

// Worker -> control thread (Worker::poll_data_event). Fixed size apart from
// `data`, which is heap memory (new[]) the receiver frees with free_payload().
struct DataEvent {
  enum class Type : uint8_t {
    kOpen,        // label, protocol, ordered, reliability
    kClosed,      // the channel closed (either side)
    kMessage,     // data/len: the message (its first kMaxEventPayload bytes)
    kSendFailed,  // a DataSend was refused; label holds the reason
  };
  // Messages are handed to the control plane whole up to this size; longer
  // ones are cut (truncated, size = the whole length).
  static constexpr size_t kMaxEventPayload = 65536;

  Type type = Type::kMessage;
  uint64_t transport_id = 0;
  uint16_t stream = 0;
  bool binary = false;
  bool truncated = false;
  bool remote = false;  // kOpen: opened by the peer (false: by tern, a relayed leg)
  bool ordered = true;  // kOpen
  uint8_t policy = 0;   // kOpen: 0 reliable, 1 max retransmits, 2 lifetime (ms)
  uint32_t reliability = 0;
  uint32_t size = 0;  // kMessage: the whole message's length
  uint8_t* data = nullptr;
  uint32_t len = 0;
  char label[128] = {};  // NUL-terminated, cut at 127 bytes
  char protocol[64] = {};

  void set_label(const std::string& s) { copy_cstr(label, sizeof(label), s); }
  void set_protocol(const std::string& s) { copy_cstr(protocol, sizeof(protocol), s); }
  void free_payload() {
    delete[] data;
    data = nullptr;
    len = 0;
  }

 private:
  static void copy_cstr(char* out, size_t cap, const std::string& s) {
    size_t n = s.size() < cap - 1 ? s.size() : cap - 1;
    std::memcpy(out, s.data(), n);
    out[n] = '\0';
  }
};

const char* data_event_name(DataEvent::Type t);

}  // namespace tern::sfu
