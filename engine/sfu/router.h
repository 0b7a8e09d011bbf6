// Router: the SFU forwarding core of one worker. Owns the worker's
// Producers and Consumers and forwards what a publisher sends on one
// WebRtcTransport to the consumers on other (or the same) transports.
//
//   publisher SRTP -> WebRtcTransport unprotects -> media handler (a
//   TransportSlot, ctx) -> Router::on_rtp: route by (transport, SSRC) ->
//   Producer::accept (stats, losses, keyframe, NACK cache) -> for each
//   Consumer: rewrite into a fresh egress buffer + protect with the
//   subscriber's session + PacketSink (one tx burst per rx burst).
//   RTCP: SR from publishers (sync, LSR), RR from subscribers (counted),
//   NACK / PLI / FIR from subscribers (retransmit, keyframe requests).
//   REMB and transport-cc feedback from subscribers are ignored for now
//   (no bandwidth estimation yet: simulcast layers are chosen by the
//   control plane through the preferred layer).
//
// SSRC learning: producers whose SSRCs control/ knows (a=ssrc) are routed
// from the start. Others are learnt from the first packet of an unknown
// SSRC on the transport: its mid extension picks the producer (or the
// transport's only producer when the packet has no mid), its rid extension
// the layer (repaired-rid: the layer's RTX stream), no rid: layer 0 of a
// single-layer producer, as RTX when the payload type is an RTX one. The
// route table is reserved for every producer's 2 x layers entries when the
// producer is added, so learning inserts without allocating.
//
// Timing: on_tick() every kTickInterval (the worker's wheel) sends NACKs and
// throttled keyframe requests to publishers and marks layers inactive;
// every kReportInterval it sends RRs to publishers and SRs to subscribers.
//
// Lifetimes: a producer closing closes its consumers; a transport that
// closes or fails (kClosed / kIceFailed / kDtlsFailed, fed through
// on_transport_event) closes everything on it. Each close emits
// kProducerClosed / kConsumerClosed with the reason. Refused adds emit the
// same events with the reason (and return it).
//
// Threading: the worker thread only. Control-rate calls allocate; the media
// handler and on_tick do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/sfu/consumer.h"
#include "engine/sfu/producer.h"
#include "engine/sfu/sfu_params.h"
#include "engine/sfu/transport_host.h"
#include "engine/sfu/webrtc_transport.h"

namespace tern::sfu {

inline constexpr Nanos kTickInterval = 20 * kMillisecond;
inline constexpr Nanos kReportInterval = 1 * kSecond;

struct RouterStats {
  Counter producers, consumers;  // currently open (set, not added)
  Counter refused;               // adds refused (an event says why)
  Counter rtp_in, rtcp_in;       // handed to the router
  Counter learnt;                // SSRCs learnt from mid / rid
  Counter rr_in_unknown;         // report blocks / feedback for SSRCs we do not send
  DropCounters drops;            // kRtpMalformed, kRtcpMalformed, kSfuUnknownSsrc, ...
};

class Router {
 public:
  Router(TransportHost& host, PacketSink& sink, TransportEventSink& events,
         size_t expected_streams = 256);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // --- control rate (worker thread, from the command ring) ---
  // Refusals (transport not on this worker or gone, duplicate id, invalid
  // params, unknown producer) emit kProducerClosed / kConsumerClosed with
  // the reason and return it.
  absl::Status add_producer(ProducerParams params, Nanos now);
  absl::Status add_consumer(ConsumerParams params, Nanos now);
  bool close_producer(uint64_t id, const char* reason = "closed");
  bool close_consumer(uint64_t id, const char* reason = "closed");
  bool pause_consumer(uint64_t id, bool paused, Nanos now);
  bool set_consumer_layer(uint64_t id, int8_t layer, Nanos now);
  // Every transport event goes through here: kClosed, kIceFailed and
  // kDtlsFailed close the transport's producers and consumers.
  void on_transport_event(const TransportEvent& ev);

  Producer* find_producer(uint64_t id);
  Consumer* find_consumer(uint64_t id);
  size_t producer_count() const { return producers_.size(); }
  size_t consumer_count() const { return consumers_.size(); }
  bool empty() const { return producers_.empty() && consumers_.empty(); }
  const RouterStats& stats() const { return stats_; }

  // --- hot path: the transports' media handler ---
  bool on_media(TransportSlot& slot, Packet* p, bool rtcp, Nanos now);

  // --- timer ---
  // `unix_ns`: wall-clock time for NTP fields. Returns the next deadline
  // (kNever when there is nothing to do).
  Nanos on_tick(Nanos now, int64_t unix_ns);

 private:
  struct RouteKey {
    uint64_t transport;
    uint32_t ssrc;
    bool operator==(const RouteKey& o) const { return transport == o.transport && ssrc == o.ssrc; }
    template <typename H>
    friend H AbslHashValue(H h, const RouteKey& k) {
      return H::combine(std::move(h), k.transport, k.ssrc);
    }
  };
  struct Route {
    Producer* producer = nullptr;
    int8_t layer = 0;
    bool rtx = false;
  };

  static bool media_thunk(void* ctx, WebRtcTransport& t, Packet* p, bool rtcp, Nanos now);
  bool on_rtp(TransportSlot& slot, Packet* p, Nanos now);
  bool on_rtcp(TransportSlot& slot, Packet* p, Nanos now);
  const Route* learn(TransportSlot& slot, const rtp::RtpView& pkt);
  bool add_route(uint64_t transport, uint32_t ssrc, Route r);
  Consumer* consumer_by_ssrc(uint64_t transport, uint32_t ssrc);
  TransportSlot* slot_for(uint64_t transport_id, const char** why);
  void maybe_drop_slot(TransportSlot* s);
  void close_transport(uint64_t id, bool alive);
  void refuse(TransportEventType type, uint64_t transport_id, uint64_t object_id,
              const absl::Status& s);
  void emit_closed(TransportEventType type, uint64_t transport_id, uint64_t object_id,
                   const char* reason);

  TransportHost& host_;
  PacketSink& sink_;
  TransportEventSink& events_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<TransportSlot>> slots_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Producer>> producers_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Consumer>> consumers_;
  absl::flat_hash_map<RouteKey, Route> routes_;
  absl::flat_hash_map<RouteKey, Consumer*> consumer_ssrcs_;
  size_t route_budget_ = 0;  // entries routes_ is reserved for
  Nanos next_report_ = 0;
  RouterStats stats_;
};

}  // namespace tern::sfu
