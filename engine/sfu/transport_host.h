// TransportHost: every WebRtcTransport of one worker, and the worker's side
// of the data path for them. One per worker, used only by its thread.
//
// Owns the worker's IceLiteDemux (ufrag -> agent for checks, validated
// 5-tuple -> agent for DTLS/SRTP), the transports by id, and one timer per
// transport. The worker calls, per datagram:
//   kStun            -> handle_stun(): kNotIce means "not ours", give it to
//                       TURN / the Binding service as before;
//   kDtls, kRtp/Rtcp -> handle_dtls() / handle_media(): false when no
//                       transport owns the 5-tuple (the worker counts
//                       kNoHandler as before).
//
// Timers go through TransportTimers (the worker adapts its TimerWheel, see
// wheel_timers.h) keyed by transport id, so a stale timer finds nothing.
// One timer per transport, armed at next_deadline(); after a packet it is
// re-armed only when the deadline moved earlier (the common case, a check
// pushing consent later, costs no timer operation; an early fire is
// harmless and re-arms).
//
// Memory: add() and close() allocate/free (control-plane rate, through the
// command ring). handle_* and on_timer allocate nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/sfu/webrtc_transport.h"
#include "engine/stun/ice_demux.h"

namespace tern::sfu {

class TransportHost;

// The timer service a host uses (the worker's TimerWheel in production).
class TransportTimers {
 public:
  virtual ~TransportTimers() = default;
  // Fires host->on_timer(id, now) at or after `deadline`. 0 = failed.
  virtual uint64_t schedule(Nanos deadline, TransportHost* host, uint64_t id) = 0;
  virtual void cancel(uint64_t handle) = 0;
};

struct TransportHostStats {
  Counter added, closed, attach_failed;
  Counter released;    // failures that freed a transport's resources
  DropCounters drops;  // kSrtpAuthFail, kSrtpReplay, kNoBuffer, ... summed over transports
};

class TransportHost {
 public:
  TransportHost(TransportTimers& timers, PacketSink& sink, TransportEventSink& events,
                size_t expected_transports = 64);
  ~TransportHost();  // destroys remaining transports (cancels their timers)
  TransportHost(const TransportHost&) = delete;
  TransportHost& operator=(const TransportHost&) = delete;

  // Takes the transport: registers its agent with the demux, arms its timer,
  // starts a DTLS server. On failure (duplicate id, ufrag taken) the
  // transport is destroyed and kAttachFailed is emitted.
  absl::Status add(std::unique_ptr<WebRtcTransport> t, Nanos now);
  // Sends close_notify, frees everything, emits kClosed. False if unknown.
  bool close(uint64_t id, Nanos now);
  WebRtcTransport* find(uint64_t id);
  // ICE restart of transport `id` (WebRtcTransport::restart_ice) and its
  // timer re-armed. NotFound for an unknown id; else the transport's error.
  absl::Status restart_ice(uint64_t id, ice::IceCredentials new_local,
                           ice::IceCredentials new_remote, Nanos now);
  size_t size() const { return by_id_.size(); }

  // --- hot path ---
  ice::StunRoute handle_stun(Packet* p, Nanos now);
  // False: no transport owns p's 5-tuple (p untouched, caller drops it).
  // True: handled; *consumed tells whether p was taken (sent or kept), else
  // the caller frees it.
  bool handle_dtls(Packet* p, Nanos now, bool* consumed);
  bool handle_media(Packet* p, bool rtcp, Nanos now, bool* consumed);
  // Timer callback (TransportTimers).
  void on_timer(uint64_t id, Nanos now);

  const ice::IceLiteDemux& demux() const { return demux_; }
  const TransportHostStats& stats() const { return stats_; }
  // Timers currently armed (tests: nothing leaks).
  size_t armed_timers() const;

 private:
  struct Entry {
    std::unique_ptr<WebRtcTransport> t;
    uint64_t timer = 0;
    Nanos armed_at = kNever;
  };
  WebRtcTransport* transport_of(ice::IceLiteAgent* a) const {
    return a == nullptr ? nullptr : static_cast<WebRtcTransport*>(a->user_data);
  }
  void drain_ice_events(Nanos now);
  // Re-arms when the deadline moved earlier, or `force`.
  void rearm(Entry& e, bool force);
  void disarm(Entry& e);

  TransportTimers& timers_;
  PacketSink& sink_;
  TransportEventSink& events_;
  ice::IceLiteDemux demux_;
  ice::IceEvents ice_events_;
  absl::flat_hash_map<uint64_t, Entry> by_id_;
  TransportHostStats stats_;
};

}  // namespace tern::sfu
