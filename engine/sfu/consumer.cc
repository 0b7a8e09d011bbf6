#include "engine/sfu/consumer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/sfu/keyframe.h"

namespace tern::sfu {
namespace {

uint16_t scramble16(uint32_t v) { return uint16_t((v * 2654435761u) >> 16); }

// A duration as an NTP 32.32 difference.
uint64_t ntp_delta(Nanos d) {
  if (d <= 0) return 0;
  const uint64_t s = uint64_t(d / kSecond), ns = uint64_t(d % kSecond);
  return (s << 32) + (ns << 32) / uint64_t(kSecond);
}

uint32_t rtp_delta(Nanos d, uint32_t rate) {
  if (d <= 0) return 0;
  return uint32_t((__int128(d) * rate) / kSecond);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::create(ConsumerParams params,
                                                           Producer& producer, TransportSlot* slot,
                                                           TransportEventSink* events) {
  if (params.id == 0) return absl::InvalidArgumentError("consumer id: 0");
  if (params.ssrc == 0) {
    return absl::InvalidArgumentError(absl::StrCat("consumer ", params.id, " ssrc: 0"));
  }
  if (params.kind != producer.params().kind) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer ", params.id, " kind: differs from producer ", producer.id()));
  }
  if (params.preferred_layer >= producer.layer_count()) {
    return absl::InvalidArgumentError(absl::StrCat("consumer ", params.id,
                                                   " preferred_layer: ", params.preferred_layer,
                                                   " (producer has ", producer.layer_count(), ")"));
  }
  if (params.ext.mid != 0 && (params.mid.empty() || params.mid.size() > 16)) {
    return absl::InvalidArgumentError(absl::StrCat("consumer ", params.id, " mid: \"", params.mid,
                                                   "\" (1..16 bytes with the mid extension)"));
  }
  std::unique_ptr<Consumer> c(new Consumer(std::move(params), producer));
  ConsumerParams& p = c->p_;
  if (p.stats == nullptr) p.stats = std::make_shared<ConsumerStats>();
  c->slot_ = slot;
  c->events_ = events;
  c->out_pt_.fill(-1);
  c->out_rtx_pt_.fill(-1);
  bool any = false;
  for (const RtpCodecParams& pc : producer.params().codecs) {
    for (const RtpCodecParams& cc : p.codecs) {
      if (cc.codec != pc.codec) continue;
      if (cc.clock_rate != 0 && pc.clock_rate != 0 && cc.clock_rate != pc.clock_rate) continue;
      c->out_pt_[pc.pt & 0x7F] = cc.pt & 0x7F;
      if (cc.rtx_pt >= 0 && p.rtx_ssrc != 0) c->out_rtx_pt_[pc.pt & 0x7F] = cc.rtx_pt & 0x7F;
      any = true;
      break;
    }
  }
  if (!any) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer ", p.id, " codecs: none matches producer ", producer.id()));
  }
  c->ext_table_ = make_passthrough_table(producer.params().ext, p.ext);
  if (producer.nack_enabled()) c->sent_ = std::make_unique<Sent[]>(kSentRingSize);
  c->sender_.emplace(p.ssrc, producer.clock_rate());
  c->needs_keyframe_ =
      p.kind == SfuMediaKind::kVideo && codec_needs_keyframe(producer.params().codecs[0].codec);
  c->paused_ = p.paused;
  c->preferred_ = p.preferred_layer;
  c->next_seq_ = scramble16(p.ssrc);
  c->rtx_seq_ = scramble16(p.rtx_ssrc ^ 0x5A5A5A5A);
  p.stats->paused.store(c->paused_, std::memory_order_relaxed);
  return c;
}

void Consumer::switch_layer(int layer) {
  if (layer == current_) return;
  current_ = layer;
  p_.stats->current_layer.store(int8_t(layer), std::memory_order_relaxed);
  p_.stats->layer_switches.add();
  if (events_ != nullptr) {
    TransportEvent ev;
    ev.transport_id = p_.transport_id;
    ev.object_id = p_.id;
    ev.type = TransportEventType::kConsumerLayerChanged;
    ev.layer = int8_t(layer);
    events_->on_transport_event(ev);
  }
}

void Consumer::rebase(const rtp::RtpView& in, int64_t ext, Nanos now) {
  base_in_ = ext;
  base_out_ = next_seq_;
  if (started_) {
    const uint32_t gap = std::max<uint32_t>(1, rtp_delta(now - last_send_, producer_.clock_rate()));
    ts_offset_ = last_ts_ + gap - in.timestamp();
  } else {
    ts_offset_ = 0;
  }
  started_ = true;
  waiting_keyframe_ = false;
}

void Consumer::fill_spec(RewriteSpec* s, Nanos now) {
  s->ext_table = &ext_table_;
  if (p_.ext.mid != 0 && !p_.mid.empty() && p_.mid.size() <= 16) {
    s->mid_id = p_.ext.mid;
    s->mid = p_.mid.data();
    s->mid_len = uint8_t(p_.mid.size());
  }
  if (p_.ext.abs_send_time != 0) {
    s->abs_send_time_id = p_.ext.abs_send_time;
    s->abs_send_time = rtp::abs_send_time_from_nanos(now);
  }
  if (p_.ext.transport_cc != 0 && slot_ != nullptr) {
    s->transport_cc_id = p_.ext.transport_cc;
    s->transport_cc_seq = slot_->transport_cc_seq++;
  }
}

size_t Consumer::send(const rtp::RtpView& in, const RewriteSpec& spec, Nanos now,
                      PacketSink& sink) {
  WebRtcTransport* t = slot_ != nullptr ? slot_->t : nullptr;
  if (t == nullptr || !t->can_send()) {
    p_.stats->drops.add(Drop::kSfuNotConnected);
    return 0;
  }
  Packet* p = sink.alloc();
  if (p == nullptr) {
    p_.stats->drops.add(Drop::kNoBuffer);
    return 0;
  }
  const size_t room = p->capacity - p->off;
  const size_t tag = t->rtp_overhead();
  const size_t n = room > tag ? write_rewritten(p->data(), room - tag, in, spec) : 0;
  if (n == 0) {
    p_.stats->drops.add(Drop::kSfuTooLarge);
    sink.free(p);
    return 0;
  }
  p->len = uint32_t(n);
  // p belongs to the sink after send_rtp: the size is computed, not read back.
  return t->send_rtp(p, now, sink) ? n + tag : 0;
}

void Consumer::forward(const rtp::RtpView& in, int layer, const Ingress& ing, Nanos now,
                       PacketSink& sink) {
  if (paused_) return;
  WebRtcTransport* t = slot_ != nullptr ? slot_->t : nullptr;
  if (t == nullptr || !t->can_send()) {
    // Not connected yet: nothing starts (the first packet it gets must be
    // a keyframe), nothing is counted as sent.
    p_.stats->drops.add(Drop::kSfuNotConnected);
    return;
  }
  const bool key_ok = ing.keyframe || !needs_keyframe_;
  if (layer != current_) {
    if (layer != target_) return;
    if (!key_ok) {
      // Waiting to start or switch: keep asking (the producer throttles).
      producer_.request_keyframe(layer, now, producer_.transport(), sink);
      return;
    }
    rebase(in, ing.ext_seq, now);
    switch_layer(layer);
  } else if (waiting_keyframe_) {
    if (!key_ok) {
      producer_.request_keyframe(layer, now, producer_.transport(), sink);
      return;
    }
    rebase(in, ing.ext_seq, now);
  }
  if (ing.ext_seq < base_in_) return;  // from before the switch point
  const int16_t pt = out_pt_[in.payload_type()];
  if (pt < 0) {
    p_.stats->drops.add(Drop::kSfuUnknownPt);
    return;
  }
  RewriteSpec s;
  s.ssrc = p_.ssrc;
  s.seq = uint16_t(base_out_ + uint16_t(ing.ext_seq - base_in_));
  s.timestamp = in.timestamp() + ts_offset_;
  s.pt = uint8_t(pt);
  fill_spec(&s, now);
  const size_t n = send(in, s, now, sink);
  if (n == 0) return;
  p_.stats->rtp_out.add();
  p_.stats->bytes_out.add(n);
  sender_->on_packet_sent(s.timestamp, in.payload_size(), now);
  if (int16_t(uint16_t(s.seq - next_seq_)) >= 0) {
    next_seq_ = uint16_t(s.seq + 1);
    last_ts_ = s.timestamp;
    last_send_ = now;
  }
  if (sent_ != nullptr) {
    Sent& e = sent_[s.seq & (kSentRingSize - 1)];
    e = Sent{s.seq, in.sequence(), int8_t(layer), s.timestamp};
  }
}

void Consumer::on_nack(const rtp::NackPacket& nack, Nanos now, PacketSink& sink) {
  uint16_t lost[kMaxNackPerPacket];
  const size_t total = nack.lost(lost, kMaxNackPerPacket);
  const size_t n = std::min(total, kMaxNackPerPacket);
  p_.stats->nack_in.add(total);
  if (total > n) p_.stats->nack_missed.add(total - n);
  for (size_t i = 0; i < n; ++i) {
    const uint16_t seq = lost[i];
    rtp::RtpView v;
    const Sent* e = sent_ != nullptr ? &sent_[seq & (kSentRingSize - 1)] : nullptr;
    if (e == nullptr || e->layer < 0 || e->out_seq != seq ||
        !producer_.cached(e->layer, e->in_seq, &v)) {
      p_.stats->nack_missed.add();
      continue;
    }
    RewriteSpec s;
    const int16_t rtx_pt = out_rtx_pt_[v.payload_type()];
    const int16_t pt = out_pt_[v.payload_type()];
    if (pt < 0) {
      p_.stats->nack_missed.add();
      continue;
    }
    if (rtx_pt >= 0) {
      s.ssrc = p_.rtx_ssrc;
      s.seq = rtx_seq_++;
      s.pt = uint8_t(rtx_pt);
      s.osn = seq;
    } else {
      s.ssrc = p_.ssrc;
      s.seq = seq;
      s.pt = uint8_t(pt);
    }
    s.timestamp = e->out_ts;
    fill_spec(&s, now);
    if (send(v, s, now, sink) != 0) p_.stats->rtx_out.add();
  }
}

void Consumer::on_keyframe_request(bool fir, Nanos now, PacketSink& sink) {
  (fir ? p_.stats->fir_in : p_.stats->pli_in).add();
  const int layer = current_ >= 0 ? current_ : target_;
  producer_.request_keyframe(layer, now, producer_.transport(), sink);
}

void Consumer::update_target(Nanos now, PacketSink& sink) {
  const int t = producer_.pick_layer(preferred_);
  if (t == target_) return;
  target_ = t;
  if (t >= 0 && t != current_ && needs_keyframe_ && !paused_) {
    producer_.request_keyframe(t, now, producer_.transport(), sink);
  }
}

void Consumer::set_paused(bool paused, Nanos now, PacketSink& sink) {
  if (paused == paused_) return;
  paused_ = paused;
  p_.stats->paused.store(paused, std::memory_order_relaxed);
  if (!paused) {
    if (started_) waiting_keyframe_ = true;
    const int layer = target_ >= 0 ? target_ : current_;
    if (needs_keyframe_) producer_.request_keyframe(layer, now, producer_.transport(), sink);
  }
}

void Consumer::set_preferred_layer(int8_t layer, Nanos now, PacketSink& sink) {
  preferred_ = layer;
  update_target(now, sink);
}

void Consumer::send_sender_report(Nanos now, uint64_t ntp_now, PacketSink& sink) {
  if (!sender_->has_sent()) return;
  WebRtcTransport* t = slot_ != nullptr ? slot_->t : nullptr;
  if (t == nullptr || !t->can_send()) return;
  rtp::SenderInfo si = sender_->sender_info(now, ntp_now);
  if (current_ >= 0) {
    const LayerState& l = producer_.layer(current_);
    if (l.have_sr) {  // the publisher's clock: keeps its audio and video in sync
      const Nanos el = now - l.sr_arrival;
      si.ntp = l.sr.ntp + ntp_delta(el);
      si.rtp_timestamp = l.sr.rtp_timestamp + ts_offset_ + rtp_delta(el, producer_.clock_rate());
    }
  }
  Packet* p = sink.alloc();
  if (p == nullptr) {
    p_.stats->drops.add(Drop::kNoBuffer);
    return;
  }
  p->len = uint32_t(rtp::write_sender_report(p->data(), p->capacity - p->off, p_.ssrc, si, {}));
  if (p->len == 0) {
    sink.free(p);
    return;
  }
  if (t->send_rtcp(p, now, sink)) p_.stats->sr_out.add();
}

}  // namespace tern::sfu
