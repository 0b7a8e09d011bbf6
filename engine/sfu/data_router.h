// DataRouter: the SFU for data channels on one worker (docs/datachannels.md).
// The DataHandler of every transport with SCTP on the worker.
//
// Model: a transport joins a data group (the control plane uses one group
// per room: WorkerCommand kAddDataConsumer; kCloseDataConsumer leaves). A
// channel the PEER opens on a member transport is a data producer: on every
// other member whose association is up tern opens a channel with the same
// label, protocol, ordering and reliability (a "leg"), also on members that
// join or connect later. A message on any leg of such a relayed channel
// (text or binary, empty included) is sent on every other leg: the
// publisher's messages reach every subscriber and a subscriber's answer
// reaches the publisher and the other subscribers. The origin closing its
// channel (or leaving, or its transport going) closes every leg; a leg
// closing, or its member leaving, only drops that leg.
//
// Backpressure (data_router_backlog.cc): a relayed copy that does not fit
// the destination's usrsctp send buffer is, on a reliable channel, queued for
// that leg (in order; later messages queue behind it) and sent when the
// destination's association reports space (on_data_writable). Once a leg's
// queue holds kPauseBytes, the transport the messages come from stops being
// read (SCTP flow control then holds the sender back) until the queue is
// below kResumeBytes: a slow reliable subscriber slows its channel's source,
// it does not lose messages. A queue never exceeds kMaxBacklogBytes (what
// arrived while the pause took effect fits); beyond it, and on partially
// reliable channels (whose settings allow loss) at once, the copy is dropped
// and counted (relay_dropped).
//
// Control plane: every open / close / message (messages whole up to
// DataEvent::kMaxEventPayload, else cut) is handed to a DataEventSink (the
// worker's data event ring), also for transports in no group. send()
// executes a DataSend (kSendData).
//
// Threading: the worker thread only. Not allocation-free: usrsctp allocates
// per packet anyway; the control copy of each message is one new[].
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/sctp/sctp_association.h"
#include "engine/sfu/data_channel.h"
#include "engine/sfu/transport_host.h"
#include "engine/sfu/webrtc_transport.h"

namespace tern::sfu {

class DataEventSink {
 public:
  virtual ~DataEventSink() = default;
  // Takes ownership of ev.data (free_payload() when dropped).
  virtual void on_data_event(DataEvent& ev) = 0;
};

// Relaxed atomics, one writer (the worker); anyone reads.
struct DataRouterStats {
  std::atomic<uint64_t> members{0};   // transports in a group
  std::atomic<uint64_t> channels{0};  // relayed channels open
  Counter legs_opened;                // channels tern opened on subscribers
  Counter messages_in, bytes_in;
  Counter messages_out, bytes_out;  // relayed copies sent
  Counter send_failed;      // relay or DataSend refused by the association (closed, too large)
  Counter leg_open_failed;  // could not open a leg (no free stream, ...)
  Counter relay_queued;     // copies that waited in a leg's backlog for buffer space
  Counter
      relay_dropped;  // copies dropped: full buffer on a partially reliable leg, or backlog full
  Counter source_pauses;                   // times a source transport's reads were paused
  std::atomic<uint64_t> backlog_bytes{0};  // bytes queued in all legs' backlogs now
};

class DataRouter final : public DataHandler {
 public:
  DataRouter(TransportHost& host, PacketSink& sink, DataEventSink& events);
  ~DataRouter() override;
  DataRouter(const DataRouter&) = delete;
  DataRouter& operator=(const DataRouter&) = delete;

  // --- control rate (worker thread, from the command ring) ---
  // The transport joins `group` (leaving its previous one). NotFound when the
  // transport is not on this worker or has no SCTP.
  absl::Status join(uint64_t transport_id, uint64_t group, Nanos now);
  // Leaves its group: its legs close, channels it originated close everywhere.
  bool leave(uint64_t transport_id, Nanos now);
  // A control-plane message into a channel. Errors name the field; they are
  // also reported as DataEvent::kSendFailed by the worker.
  absl::Status send(const DataSend& d, Nanos now);
  // kClosed / kIceFailed / kDtlsFailed forget the transport (its association
  // is gone: no SCTP call on it).
  void on_transport_event(const TransportEvent& ev, Nanos now);

  const DataRouterStats& stats() const { return stats_; }
  size_t channel_count() const { return channels_.size(); }
  // Legs of the relayed channel that `transport`/`stream` belongs to, 0 if none.
  size_t legs_of(uint64_t transport, uint16_t stream) const;

  // --- DataHandler (the transports) ---
  void on_data_connected(WebRtcTransport& t, Nanos now) override;
  void on_data_channel_open(WebRtcTransport& t, const sctp::DataChannelInfo& ch,
                            Nanos now) override;
  void on_data_message(WebRtcTransport& t, uint16_t stream, sctp::MessageKind kind,
                       const uint8_t* data, size_t len, Nanos now) override;
  void on_data_channel_closed(WebRtcTransport& t, uint16_t stream, Nanos now) override;
  void on_data_closed(WebRtcTransport& t, const std::string& reason, Nanos now) override;
  void on_data_writable(WebRtcTransport& t, Nanos now) override;

  static constexpr size_t kPauseBytes = 1024 * 1024;
  static constexpr size_t kResumeBytes = 256 * 1024;
  static constexpr size_t kMaxBacklogBytes = 8 * 1024 * 1024;
  // Bytes queued for one leg (tests, diagnostics); 0 when none.
  size_t backlog_of(uint64_t transport, uint16_t stream) const;

 private:
  struct Leg {
    uint64_t transport = 0;
    uint16_t stream = 0;
    bool operator==(const Leg& o) const { return transport == o.transport && stream == o.stream; }
    template <typename H>
    friend H AbslHashValue(H h, const Leg& l) {
      return H::combine(std::move(h), l.transport, l.stream);
    }
  };
  struct Channel {
    uint64_t group = 0;
    sctp::DataChannelParams params;
    std::vector<Leg> legs;  // legs[0] is the origin (the peer that opened it)
    bool reliable() const { return !params.max_retransmits && !params.max_packet_life_time_ms; }
  };
  struct Queued {
    bool binary = false;
    std::vector<uint8_t> bytes;
  };
  struct Backlog {
    std::deque<Queued> q;
    size_t bytes = 0;
    std::vector<uint64_t> paused;  // sources this backlog paused (each once)
  };
  // One copy for `leg` (a leg of a channel, not the source's own).
  void relay(const Leg& leg, WebRtcTransport& dst, uint64_t source, bool reliable, bool binary,
             const uint8_t* data, size_t len, Nanos now);
  void drop_backlog(const Leg& leg);  // the leg is gone: forget its queue, resume its sources
  void drop_backlogs_of(uint64_t transport);
  void pause_source(uint64_t transport);
  void release_source(uint64_t transport);
  void set_reads_paused(uint64_t transport, bool paused);  // if it is still here
  void open_legs_on(uint64_t transport, Nanos now);        // every group channel it lacks
  void open_leg(uint64_t channel_id, Channel& c, uint64_t transport, Nanos now);
  void drop_transport(uint64_t transport, bool alive, Nanos now);
  void close_channel(uint64_t channel_id, uint64_t skip_transport, bool alive, Nanos now);
  void remove_member(uint64_t transport);
  void emit_simple(DataEvent::Type type, uint64_t transport, uint16_t stream);

  TransportHost& host_;
  PacketSink& sink_;
  DataEventSink& events_;
  absl::flat_hash_map<uint64_t, uint64_t> member_group_;                // transport -> group
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> group_members_;  // group -> transports
  absl::flat_hash_map<uint64_t, Channel> channels_;                     // relayed channel id ->
  absl::flat_hash_map<Leg, uint64_t> leg_channel_;                      // leg -> channel id
  absl::flat_hash_map<Leg, Backlog> backlogs_;                          // congested legs only
  absl::flat_hash_map<uint64_t, uint32_t> pauses_;  // source transport -> backlogs pausing it
  uint64_t next_channel_ = 1;
  DataRouterStats stats_;
};

}  // namespace tern::sfu
