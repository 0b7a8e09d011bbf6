// WebRtcTransport: one participant connection on one worker. ICE-lite
// (engine/stun/ice_agent.h) finds and keeps the path, DTLS
// (engine/dtls/dtls_endpoint.h) authenticates the peer by the fingerprint
// from signalling and exports the SRTP keys, and two SrtpSessions
// (engine/srtp/srtp_session.h) unprotect what the peer sends and protect what
// we send.
//
// Sans-IO like the cores it joins: the caller (TransportHost, on the worker
// thread) hands it datagrams by class with `now`; it writes answers in place
// or into packets it gets from a PacketSink, reports a deadline, and emits
// TransportEvents (ice connected / disconnected / failed, dtls connected /
// failed with the reason, closed).
//
// Lifecycle:
//   created (control thread: credentials, agent, DTLS endpoint; allocates)
//   -> attached to a worker's TransportHost (worker thread, via the command
//      ring) -> ICE nominates a pair -> DTLS handshake, started when ICE
//      connects (as server we answer the peer's ClientHello, which may also
//      race the nomination; as client we send ours on the selected pair)
//   -> SRTP sessions from the exported keys -> media.
// A failure (ICE consent lost or never connected, DTLS failed, close_notify
// from the peer) RELEASES the transport: its demux entries, timer, DTLS
// endpoint and SRTP sessions are freed at once; the object stays as a
// tombstone (state and counters readable) until it is closed.
//
// Inbound SRTP/SRTCP is unprotected in place and given to the media handler
// (the SFU will route it). Echo mode (`echo` in the config) is a TEST AND
// DIAGNOSTIC feature: every unprotected packet is protected again with our
// outbound session and sent back to the 5-tuple it came from. It lets a
// client check ICE + DTLS + SRTP end to end without any SFU logic.
//
// Hot path (handle_dtls after the handshake is rare; handle_media is per
// packet): handle_media allocates nothing (libsrtp clones a stream once per
// new SSRC, see srtp_session.h), takes no lock, logs nothing; drops are
// counted in stats().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/dtls/certificate.h"
#include "engine/dtls/dtls_endpoint.h"
#include "engine/net/classify.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/sfu/data_channel.h"
#include "engine/stun/ice_agent.h"
#include "engine/stun/ice_credentials.h"

namespace tern {

class SrtpSession;

namespace sfu {

// Where a transport gets buffers for datagrams it originates (DTLS flights,
// retransmissions, alerts) and sends them. The worker implements it over its
// driver queue (alloc_bulk + its tx batch); tests over a vector.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // An empty packet (reset to the default headroom), or null when the pool is
  // empty (the caller counts kNoBuffer).
  virtual Packet* alloc() = 0;
  // Takes ownership; remote/local are the 5-tuple to send on.
  virtual void send(Packet* p) = 0;
  // Up to n empty packets into out (the SFU fans one packet out to n
  // consumers); returns how many. The default calls alloc() n times.
  virtual uint16_t alloc_bulk(Packet** out, uint16_t n) {
    uint16_t i = 0;
    for (; i < n; ++i) {
      if ((out[i] = alloc()) == nullptr) break;
    }
    return i;
  }
  // Gives back a packet from alloc() that will not be sent. The default
  // abandons it (test sinks whose pool outlives everything); the worker
  // returns it to the driver.
  virtual void free(Packet* p) { (void)p; }
};

enum class TransportEventType : uint8_t {
  kIceConnected,
  kIceDisconnected,
  kIceFailed,  // reason: "consent lost" / "no nomination"
  kDtlsConnected,
  kDtlsFailed,    // reason from the DTLS endpoint, e.g. "fingerprint mismatch"
  kClosed,        // closed by transport.close or by the peer's close_notify
  kAttachFailed,  // the worker could not take the transport (ufrag in use, ...)
  // SFU objects (object_id = producer / consumer id; transport_id = its transport).
  kProducerClosed,        // closed by producer.close, its transport closing, or refused (reason)
  kConsumerClosed,        // ... or its producer closing
  kConsumerLayerChanged,  // reason = "" ; layer = the simulcast layer now forwarded
};
const char* transport_event_name(TransportEventType t);

// Fixed size: it travels through the worker's event ring.
struct TransportEvent {
  uint64_t transport_id = 0;
  uint64_t object_id = 0;  // producer / consumer id for the SFU events; 0 otherwise
  int8_t layer = -1;       // kConsumerLayerChanged
  TransportEventType type = TransportEventType::kClosed;
  char reason[96] = {};  // NUL-terminated, "" when none
  void set_reason(const char* r);
};

class TransportEventSink {
 public:
  virtual ~TransportEventSink() = default;
  virtual void on_transport_event(const TransportEvent& ev) = 0;
};

// Written by the owning worker, read by anyone (the control thread's
// transport.get): relaxed atomics, one writer. Shared (shared_ptr) so the
// control thread can read it without a round trip through the worker.
struct WebRtcTransportStats {
  std::atomic<uint8_t> ice_state{0};   // ice::IceState
  std::atomic<uint8_t> dtls_state{0};  // DtlsState
  Counter ice_checks;                  // authenticated checks answered (success)
  Counter dtls_in, dtls_out;           // datagrams
  Counter rtp_in, rtcp_in;             // unprotected OK
  Counter rtp_out, rtcp_out;           // protected and sent (echo)
  Counter bytes_in, bytes_out;         // of those, after unprotect / after protect
  Counter media_delivered;             // handed to the media handler
  Counter media_not_ready;             // SRTP before the DTLS keys
  DropCounters drops;                  // kSrtpAuthFail, kSrtpReplay, kNoBuffer, kNoHandler
};

struct WebRtcTransportConfig {
  uint64_t id = 0;                 // unique per node (the control plane's transport id)
  ice::IceCredentials local_ice;   // empty: generated
  ice::IceCredentials remote_ice;  // empty: set later with set_remote_ice()
  ice::IceLiteConfig ice;
  // role, SRTP profiles, timers, and the remote fingerprint if known.
  DtlsEndpointConfig dtls;
  bool echo = false;  // test/diagnostic loopback (see above)
  // Data channels (m=application webrtc-datachannel): an SCTP association
  // over this DTLS connection once it is up (data_channel.h). nullopt = none.
  // With it, a DTLS handshake without an SRTP profile is accepted
  // (data-only transport).
  std::optional<SctpTransportConfig> sctp;
};

// The media handler: an unprotected RTP (rtcp=false) or RTCP packet. Return
// true if it took ownership of `p` (it will send or free it), false to have
// it freed.
using MediaHandler = bool (*)(void* ctx, class WebRtcTransport& t, Packet* p, bool rtcp, Nanos now);

class WebRtcTransport {
 public:
  // Control plane (any thread): builds the agent and the DTLS endpoint.
  static absl::StatusOr<std::unique_ptr<WebRtcTransport>> create(
      WebRtcTransportConfig cfg, std::shared_ptr<const DtlsContext> dtls_ctx, Nanos now);
  ~WebRtcTransport();
  WebRtcTransport(const WebRtcTransport&) = delete;
  WebRtcTransport& operator=(const WebRtcTransport&) = delete;

  uint64_t id() const { return cfg_.id; }
  bool echo() const { return cfg_.echo; }
  DtlsRole dtls_role() const { return cfg_.dtls.role; }
  const ice::IceCredentials& local_ice() const { return local_ice_; }
  // Null once released.
  ice::IceLiteAgent* agent() { return agent_.get(); }
  ice::IceState ice_state() const;
  DtlsState dtls_state() const;
  bool released() const { return released_; }
  bool srtp_ready() const { return srtp_in_ != nullptr; }
  const std::shared_ptr<WebRtcTransportStats>& stats() const { return stats_; }
  const std::string& failure_reason() const { return failure_reason_; }

  // Also count SRTP drops here (the host's per-worker totals). Worker thread.
  void set_drop_sink(DropCounters* d) { host_drops_ = d; }
  void set_media_handler(MediaHandler fn, void* ctx) {
    media_fn_ = fn;
    media_ctx_ = ctx;
  }

  // --- data channels (worker thread; data_channel.h) ---
  void set_data_handler(DataHandler* h) { data_handler_ = h; }
  bool has_sctp() const { return cfg_.sctp.has_value(); }
  // The SCTP association is up (channels can be opened and used).
  bool sctp_connected() const;
  // Null when there is no such open channel.
  const sctp::DataChannelInfo* data_channel(uint16_t stream) const;
  // The first open channel with this label; -1 when none.
  int32_t find_data_channel(const std::string& label) const;
  // Opens a channel (DCEP) on the association; returns its stream. Errors:
  // no SCTP, not connected, the association's own (bad params, no stream).
  absl::StatusOr<uint16_t> open_data_channel(const sctp::DataChannelParams& params, Nanos now,
                                             PacketSink& sink);
  // One message; ResourceExhausted when usrsctp's send buffer is full.
  absl::Status send_data(uint16_t stream, bool binary, const uint8_t* data, size_t len, Nanos now,
                         PacketSink& sink);
  absl::Status close_data_channel(uint16_t stream, Nanos now, PacketSink& sink);
  // Stops (true) or resumes reading the peer's data (SctpAssociation::
  // set_read_paused): the DataRouter's backpressure on a fast source.
  void set_data_read_paused(bool paused);

  // --- worker thread ---
  // Late signalling (transport.connect). Errors name the field.
  absl::Status set_remote_ice(const ice::IceCredentials& remote);
  absl::Status set_remote_fingerprint(const Fingerprint& fp);
  // ICE restart (RFC 8445 §9, transport.restart_ice): new local credentials
  // (both ufrag and pwd must differ from the ones in use; empty: generated)
  // and the peer's new ones. The agent registers the new ufrag with its
  // demux at once and keeps answering the old one, so media keeps flowing
  // on the selected pair, until a check with the NEW credentials nominates;
  // then the old ufrag and the pairs only it validated are dropped (see
  // ice_agent.h). DTLS and SRTP are kept: a restart does not redo DTLS.
  // Media goes to the newly selected pair (kSelectedPairChanged). Errors:
  // released (FailedPrecondition), credentials (InvalidArgument naming
  // them), new ufrag on another agent of this demux (AlreadyExists); on
  // error nothing changed. The caller re-arms the timer (next_deadline()
  // may move: a restart from kNew restarts the connect timeout).
  absl::Status restart_ice(ice::IceCredentials new_local, ice::IceCredentials new_remote,
                           Nanos now);

  // Called once the agent is on the worker's demux. DTLS (either role)
  // starts when ICE connects.
  void on_attached(Nanos now);

  // ICE events the demux produced for this transport's agent (after a
  // check was answered). A client starts DTLS when ICE connects.
  void on_ice_event(const ice::IceEvent& ev, Nanos now, PacketSink& sink,
                    TransportEventSink& events);
  // A datagram classified DTLS from one of our validated pairs. Consumes
  // nothing: the caller frees `p` after the call.
  void handle_dtls(const Packet& p, Nanos now, PacketSink& sink, TransportEventSink& events);
  // SRTP (rtcp=false) or SRTCP from one of our validated pairs. Returns true
  // if the packet was consumed (echoed into `sink`, or taken by the media
  // handler); false: the caller frees it.
  bool handle_media(Packet* p, bool rtcp, Nanos now, PacketSink& sink);

  // --- SFU egress (worker thread, per packet) ---
  // True when SRTP keys and a selected pair exist: send_rtp/send_rtcp work.
  bool can_send() const { return srtp_out_ != nullptr && dtls_dest_.has_value(); }
  // Bytes protect adds (the caller leaves this much tailroom); 0 before keys.
  size_t rtp_overhead() const;
  size_t rtcp_overhead() const;
  // Protects the plain RTP / RTCP packet in `p` in place with our outbound
  // session (capacity - off is the room for the tag), addresses it to the
  // selected pair and hands it to `sink`. Counts rtp_out/rtcp_out and
  // bytes_out. On failure (not ready, no tailroom, SRTP error) `p` goes back
  // through sink.free(), the drop is counted, and false is returned.
  bool send_rtp(Packet* p, Nanos now, PacketSink& sink);
  bool send_rtcp(Packet* p, Nanos now, PacketSink& sink);

  // Earliest time on_timer() has work (ICE consent/connect timers, DTLS
  // retransmission / handshake timeout); kNever when none.
  Nanos next_deadline() const;
  void on_timer(Nanos now, PacketSink& sink, TransportEventSink& events);

  // Sends close_notify (if DTLS is up) and releases everything. Emits
  // nothing: the host reports kClosed.
  void close(Nanos now, PacketSink& sink);

 private:
  WebRtcTransport(WebRtcTransportConfig cfg);
  void flush_dtls(PacketSink& sink);
  void after_dtls(Nanos now, PacketSink& sink, TransportEventSink& events);
  void emit(TransportEventSink& events, TransportEventType t, const char* reason);
  void release();  // frees agent (demux entries), DTLS, SRTP
  void publish_states();
  bool send_protected(Packet* p, bool rtcp, PacketSink& sink);
  // SCTP glue (webrtc_transport_sctp.cc; a stub without usrsctp).
  struct Sctp;
  struct SctpDeleter {
    void operator()(Sctp* s) const;
  };
  absl::Status init_sctp();                         // create(): takes the usrsctp stack
  void start_sctp(Nanos now, PacketSink& sink);     // DTLS connected
  Nanos sctp_deadline() const;                      // kNever without an association
  void sctp_timer(Nanos now, PacketSink& sink);     // association timer due
  void shutdown_sctp(Nanos now, PacketSink& sink);  // close(): graceful SHUTDOWN
  void release_sctp();                              // abortive, no callbacks

  WebRtcTransportConfig cfg_;
  ice::IceCredentials local_ice_;
  std::unique_ptr<ice::IceLiteAgent> agent_;
  std::unique_ptr<DtlsEndpoint> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_;
  std::unique_ptr<SrtpSession> srtp_out_;
  std::shared_ptr<WebRtcTransportStats> stats_;
  ice::IceState last_ice_ = ice::IceState::kNew;
  DtlsState last_dtls_ = DtlsState::kNew;
  bool released_ = false;
  std::string failure_reason_;
  MediaHandler media_fn_ = nullptr;
  void* media_ctx_ = nullptr;
  DropCounters* host_drops_ = nullptr;
  DataHandler* data_handler_ = nullptr;
  std::unique_ptr<Sctp, SctpDeleter> sctp_;
  // Where SCTP output goes during the current call (set by every entry point
  // that may run the association: handle_dtls, on_timer, the data methods).
  PacketSink* io_sink_ = nullptr;
  Nanos io_now_ = 0;
  // Where DTLS datagrams go: the selected pair, else the last DTLS sender.
  std::optional<ice::CandidatePair> dtls_dest_;
};

}  // namespace sfu
}  // namespace tern
