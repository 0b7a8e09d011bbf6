// Consumer: one subscriber's copy of one producer (see sfu_params.h). Owns
// the egress rewriting state:
//   - sequence numbers: out = base_out + (in_ext - base_in) within one run
//     of a layer, so publisher gaps stay gaps (the subscriber NACKs them);
//     every (re)start -- first packet, resume, layer switch -- rebases on
//     the next free number, so the subscriber sees one continuous stream;
//   - timestamps: out = in + offset; a rebase picks the offset that puts
//     the new run's first packet the elapsed wall time (at the clock rate,
//     at least 1 tick) after the last one sent;
//   - payload types by CodecId, header extensions via RewriteSpec;
//   - simulcast: forwards one layer; a switch to the target layer (the
//     preferred one, or the best active one) happens at its keyframe;
//   - a ring of what was sent (out seq -> layer, in seq, out ts) so a
//     subscriber NACK finds the packet in the producer's cache, resent as
//     RTX (own SSRC, PT and sequence, OSN prefix) or as a plain copy;
//   - Sender Reports from what was sent, RTP time mapped through the
//     publisher's SR when one arrived.
//
// Worker thread only (created there from ConsumerParams).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/net/nanos.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_stats.h"
#include "engine/sfu/producer.h"
#include "engine/sfu/rtp_rewrite.h"
#include "engine/sfu/sfu_params.h"
#include "engine/sfu/webrtc_transport.h"

namespace tern::sfu {

class Consumer;
class Router;

// The Router's view of one transport that has producers or consumers.
struct TransportSlot {
  uint64_t id = 0;
  WebRtcTransport* t = nullptr;   // null once the transport is gone
  Router* router = nullptr;       // the media handler's context is the slot
  uint16_t transport_cc_seq = 0;  // our transport-wide sequence towards this peer
  std::vector<Producer*> producers;
  std::vector<Consumer*> consumers;
};

inline constexpr size_t kSentRingSize = 512;  // power of 2
inline constexpr size_t kMaxNackPerPacket = 128;

class Consumer {
 public:
  // Errors name the field (ssrc 0, producer kind mismatch, ...).
  static absl::StatusOr<std::unique_ptr<Consumer>> create(ConsumerParams params, Producer& producer,
                                                          TransportSlot* slot,
                                                          TransportEventSink* events);

  uint64_t id() const { return p_.id; }
  uint64_t transport_id() const { return p_.transport_id; }
  uint32_t ssrc() const { return p_.ssrc; }
  uint32_t rtx_ssrc() const { return p_.rtx_ssrc; }
  Producer& producer() { return producer_; }
  TransportSlot* slot() { return slot_; }
  ConsumerStats& stats() { return *p_.stats; }
  int current_layer() const { return current_; }
  int target_layer() const { return target_; }
  bool paused() const { return paused_; }
  uint16_t next_seq() const { return next_seq_; }

  // --- hot path ---
  // One packet of the producer's `layer` (already accepted by the producer).
  void forward(const rtp::RtpView& in, int layer, const Ingress& ing, Nanos now, PacketSink& sink);
  // The subscriber's generic NACK for our SSRC.
  void on_nack(const rtp::NackPacket& nack, Nanos now, PacketSink& sink);
  // The subscriber's PLI / FIR: asks the producer (throttled there).
  void on_keyframe_request(bool fir, Nanos now, PacketSink& sink);

  // --- control rate / tick ---
  void set_paused(bool paused, Nanos now, PacketSink& sink);
  void set_preferred_layer(int8_t layer, Nanos now, PacketSink& sink);
  // Re-picks the target layer from the producer's active layers; asks for a
  // keyframe when a switch is needed.
  void update_target(Nanos now, PacketSink& sink);
  // An SR (with an empty RR part) for our SSRC, if anything was sent.
  void send_sender_report(Nanos now, uint64_t ntp_now, PacketSink& sink);

 private:
  Consumer(ConsumerParams p, Producer& producer) : p_(std::move(p)), producer_(producer) {}
  void rebase(const rtp::RtpView& in, int64_t ext, Nanos now);
  void switch_layer(int layer);
  // Rewrites, protects, sends; the SRTP bytes sent, 0 if dropped (counted).
  size_t send(const rtp::RtpView& in, const RewriteSpec& spec, Nanos now, PacketSink& sink);
  void fill_spec(RewriteSpec* s, Nanos now);

  struct Sent {
    uint16_t out_seq = 0;
    uint16_t in_seq = 0;
    int8_t layer = -1;  // -1 = empty
    uint32_t out_ts = 0;
  };

  ConsumerParams p_;
  Producer& producer_;
  TransportSlot* slot_ = nullptr;
  TransportEventSink* events_ = nullptr;
  rtp::ExtensionIdTable ext_table_{};
  std::array<int16_t, 128> out_pt_{};      // producer pt -> our pt, -1 = none
  std::array<int16_t, 128> out_rtx_pt_{};  // producer pt -> our RTX pt, -1 = none
  std::unique_ptr<Sent[]> sent_;           // nack only
  std::optional<rtp::SenderStatistics> sender_;
  bool needs_keyframe_ = false;
  bool paused_ = false;
  bool started_ = false;
  bool waiting_keyframe_ = false;  // resumed: rebase at the next keyframe
  int8_t preferred_ = -1;
  int current_ = -1;
  int target_ = -1;
  int64_t base_in_ = 0;
  uint16_t base_out_ = 0;
  uint16_t next_seq_ = 0;
  uint16_t rtx_seq_ = 0;
  uint32_t ts_offset_ = 0;
  uint32_t last_ts_ = 0;
  Nanos last_send_ = 0;
};

}  // namespace tern::sfu
