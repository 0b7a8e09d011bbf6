// Producer: one published track on one worker (see sfu_params.h), with the
// per-layer state the SFU keeps on the ingress side:
//   - SSRCs (given, or learnt by the Router from rid / repaired-rid / mid),
//   - receive statistics (RFC 3550 A.1/A.3/A.8) for our Receiver Reports,
//   - the NACK cache: the last kNackCacheSize packets per layer, COPIED into
//     fixed slots allocated when the producer is created (see below),
//   - losses seen as sequence gaps, NACKed to the publisher on the router
//     tick with bounded retries,
//   - keyframe requests (PLI, or FIR when only FIR was negotiated) towards
//     the publisher, at most one per layer per kKeyframeInterval,
//   - the publisher's last Sender Report (NTP <-> RTP mapping for ours).
//
// NACK cache decision: copy, not retain. Retaining the driver buffer would
// pin 512 buffers per layer per producer in the driver's pool (a few dozen
// publishers would drain a socket-driver pool of 8k buffers and stall RX
// for everyone); a copy costs one memcpy of the packet (~40 ns for 1200
// bytes, measured in bench_sfu next to the per-consumer rewrite+protect)
// and bounded memory: kNackCacheSize x kCacheSlotBytes per layer, only for
// video producers that negotiated nack.
//
// Worker thread only, except construction (control thread or worker).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/rtp/rtp_stats.h"
#include "engine/sfu/sfu_params.h"
#include "engine/sfu/webrtc_transport.h"

namespace tern::sfu {

class Consumer;

inline constexpr int kMaxLayers = 4;
inline constexpr size_t kNackCacheSize = 512;    // packets per layer (power of 2)
inline constexpr size_t kCacheSlotBytes = 1472;  // larger packets are not cached
inline constexpr int kMaxMissing = 64;           // tracked losses per layer
inline constexpr int kMaxNackRetries = 8;
inline constexpr Nanos kNackRetryInterval = 40 * kMillisecond;
inline constexpr Nanos kKeyframeInterval = 300 * kMillisecond;  // per layer, towards the publisher
inline constexpr Nanos kLayerInactiveAfter = 2 * kSecond;
// The SSRC our RTCP (RR, NACK, PLI, FIR) towards publishers carries.
inline constexpr uint32_t kSfuRtcpSsrc = 0x7465726E;  // "tern"

struct CacheSlot {
  uint16_t seq = 0;
  uint16_t len = 0;  // 0 = empty
  uint8_t data[kCacheSlotBytes];
};

struct LayerState {
  std::string rid;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;
  bool active = false;  // a packet within kLayerInactiveAfter
  Nanos last_rx = 0;
  std::optional<rtp::ReceiveStatistics> rx;  // from the first packet
  rtp::SeqUnwrapper unwrap;
  int64_t highest = -1;  // extended seq
  std::unique_ptr<CacheSlot[]> cache;
  struct Missing {
    int64_t ext;
    uint8_t retries;
    Nanos last_sent;
  };
  std::array<Missing, kMaxMissing> missing{};
  int n_missing = 0;
  Nanos last_keyframe_request = -kSecond * 1000;
  bool keyframe_pending = false;  // asked while throttled: sent on a tick
  uint8_t fir_seq = 0;
  bool have_sr = false;
  rtp::SenderInfo sr;
  Nanos sr_arrival = 0;
};

// What accept() learnt about one packet.
struct Ingress {
  int64_t ext_seq = 0;
  bool keyframe = false;
  bool duplicate = false;  // already received (a second RTX, ...): not forwarded
  bool activated = false;  // first packet of the layer (again): consumers re-pick
};

class Producer {
 public:
  // Validates the params (1..4 layers, codecs with distinct payload types,
  // ...); errors name the field. Allocates the NACK cache.
  static absl::StatusOr<std::unique_ptr<Producer>> create(ProducerParams params);

  uint64_t id() const { return p_.id; }
  uint64_t transport_id() const { return p_.transport_id; }
  const ProducerParams& params() const { return p_; }
  ProducerStats& stats() { return *p_.stats; }
  int layer_count() const { return int(layers_.size()); }
  LayerState& layer(int i) { return layers_[i]; }
  const LayerState& layer(int i) const { return layers_[i]; }
  bool nack_enabled() const { return nack_; }
  uint32_t clock_rate() const { return clock_rate_; }
  // Producer payload type -> index into params().codecs, -1 unknown.
  int codec_index(uint8_t pt) const { return pt_codec_[pt & 0x7F]; }
  // RTX payload type -> the payload type it repairs, -1 if not an RTX pt.
  int rtx_apt(uint8_t pt) const { return rtx_apt_[pt & 0x7F]; }
  // Layer by rid, -1 if none.
  int layer_by_rid(const char* rid, size_t len) const;
  // The highest active layer (or the highest below/above `preferred`, see
  // Consumer::update_target), -1 when none is active.
  int pick_layer(int preferred) const;

  std::vector<Consumer*>& consumers() { return consumers_; }
  // The publisher's transport (set by the Router; null once it is gone).
  WebRtcTransport* transport() const { return transport_; }
  void set_transport(WebRtcTransport* t) { transport_ = t; }

  // --- hot path ---
  // An RTX packet of `layer` (RFC 4588): rewritten in place in `p` into the
  // packet it repairs (OSN becomes the sequence number, the layer's SSRC and
  // the repaired payload type). False if it carries no OSN (padding probe)
  // or an RTX payload type we do not know.
  bool unwrap_rtx(Packet* p, rtp::RtpPacket& pkt, int layer);
  // Accounting for one packet of `layer`: stats, loss tracking, keyframe
  // detection, the NACK cache. `codec` is the index of its payload type.
  Ingress accept(const rtp::RtpView& pkt, int layer, int codec, bool was_rtx, Nanos now);
  // A packet of `layer` still in the cache (producer's numbering), or false.
  bool cached(int layer, uint16_t seq, rtp::RtpView* out) const;
  void on_sender_report(int layer, const rtp::SenderInfo& si, Nanos now);
  // Asks the publisher for a keyframe on `layer` (PLI/FIR), throttled.
  void request_keyframe(int layer, Nanos now, WebRtcTransport* t, PacketSink& sink);

  // --- router tick ---
  // NACKs due, throttled keyframe requests, marks layers inactive. Returns
  // true when a layer changed activity (consumers re-pick their target).
  bool on_tick(Nanos now, WebRtcTransport* t, PacketSink& sink);
  // One Receiver Report with a block per layer that has received packets.
  void send_receiver_report(Nanos now, WebRtcTransport* t, PacketSink& sink);

 private:
  explicit Producer(ProducerParams p) : p_(std::move(p)) {}
  void track_loss(LayerState& l, int64_t ext);
  void send_keyframe_request(LayerState& l, Nanos now, WebRtcTransport* t, PacketSink& sink);
  void send_nacks(LayerState& l, Nanos now, WebRtcTransport* t, PacketSink& sink);

  ProducerParams p_;
  std::vector<LayerState> layers_;
  std::array<int8_t, 128> pt_codec_{};
  std::array<int16_t, 128> rtx_apt_{};
  std::vector<Consumer*> consumers_;
  WebRtcTransport* transport_ = nullptr;
  uint32_t clock_rate_ = 90000;
  bool nack_ = false;
  bool pli_ = false;
  bool fir_ = false;
};

}  // namespace tern::sfu
