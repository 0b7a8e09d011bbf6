#include "engine/sfu/producer.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/net/bytes.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/sfu/keyframe.h"

namespace tern::sfu {

absl::StatusOr<std::unique_ptr<Producer>> Producer::create(ProducerParams params) {
  if (params.id == 0) return absl::InvalidArgumentError("producer id: 0");
  if (params.layers.empty() || params.layers.size() > kMaxLayers) {
    return absl::InvalidArgumentError(
        absl::StrCat("producer ", params.id, " layers: ", params.layers.size(), " (1..4)"));
  }
  if (params.codecs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("producer ", params.id, " codecs: empty"));
  }
  for (size_t i = 0; i < params.layers.size(); ++i) {
    const ProducerLayer& l = params.layers[i];
    if (params.layers.size() > 1 && l.rid.empty() && l.ssrc == 0) {
      return absl::InvalidArgumentError(absl::StrCat("producer ", params.id, " layers[", i,
                                                     "]: a simulcast layer without rid or ssrc"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (!l.rid.empty() && l.rid == params.layers[j].rid) {
        return absl::InvalidArgumentError(
            absl::StrCat("producer ", params.id, " layers[", i, "].rid: \"", l.rid, "\" repeated"));
      }
    }
  }
  std::unique_ptr<Producer> p(new Producer(std::move(params)));
  if (p->p_.stats == nullptr) p->p_.stats = std::make_shared<ProducerStats>();
  p->pt_codec_.fill(-1);
  p->rtx_apt_.fill(-1);
  for (size_t i = 0; i < p->p_.codecs.size(); ++i) {
    const RtpCodecParams& c = p->p_.codecs[i];
    if (c.pt > 127 || p->pt_codec_[c.pt] != -1 || p->rtx_apt_[c.pt] != -1) {
      return absl::InvalidArgumentError(absl::StrCat("producer ", p->p_.id, " codecs[", i,
                                                     "].pt: ", c.pt, " duplicate or > 127"));
    }
    p->pt_codec_[c.pt] = int8_t(i);
    if (c.rtx_pt >= 0 && c.rtx_pt <= 127) p->rtx_apt_[c.rtx_pt] = c.pt;
    p->nack_ |= c.nack;
    p->pli_ |= c.pli;
    p->fir_ |= c.fir;
  }
  if (p->p_.codecs[0].clock_rate != 0) p->clock_rate_ = p->p_.codecs[0].clock_rate;
  p->nack_ = p->nack_ && p->p_.kind == SfuMediaKind::kVideo;
  p->layers_.resize(p->p_.layers.size());
  for (size_t i = 0; i < p->layers_.size(); ++i) {
    LayerState& l = p->layers_[i];
    l.rid = p->p_.layers[i].rid;
    l.ssrc = p->p_.layers[i].ssrc;
    l.rtx_ssrc = p->p_.layers[i].rtx_ssrc;
    if (p->nack_) l.cache = std::make_unique<CacheSlot[]>(kNackCacheSize);
  }
  p->consumers_.reserve(16);
  return p;
}

int Producer::layer_by_rid(const char* rid, size_t len) const {
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string& r = layers_[i].rid;
    if (r.size() == len && std::memcmp(r.data(), rid, len) == 0) return int(i);
  }
  return -1;
}

int Producer::pick_layer(int preferred) const {
  const int n = int(layers_.size());
  if (preferred < 0 || preferred >= n) preferred = n - 1;
  for (int i = preferred; i >= 0; --i) {
    if (layers_[i].active) return i;
  }
  for (int i = preferred + 1; i < n; ++i) {
    if (layers_[i].active) return i;
  }
  return -1;
}

bool Producer::unwrap_rtx(Packet* p, rtp::RtpPacket& pkt, int layer) {
  const int apt = rtx_apt(pkt.payload_type());
  if (apt < 0 || pkt.payload_size() < 2) return false;
  uint8_t* d = p->data();
  const size_t hdr = pkt.payload_offset();
  const uint16_t osn = load_be16(d + hdr);
  std::memmove(d + 2, d, hdr);
  p->off += 2;
  p->len -= 2;
  if (pkt.parse(p->data(), p->len) != rtp::RtpError::kOk) return false;
  pkt.set_sequence(osn);
  pkt.set_ssrc(layers_[layer].ssrc);
  pkt.set_payload_type(uint8_t(apt));
  return true;
}

void Producer::track_loss(LayerState& l, int64_t ext) {
  if (l.highest < 0) {
    l.highest = ext;
    return;
  }
  if (ext > l.highest) {
    const int64_t gap = ext - l.highest - 1;
    if (gap > 0 && gap <= 2 * kMaxMissing) {
      for (int64_t s = std::max(l.highest + 1, ext - kMaxMissing); s < ext; ++s) {
        if (l.n_missing == kMaxMissing) {  // drop the oldest
          std::memmove(&l.missing[0], &l.missing[1], sizeof(l.missing[0]) * (kMaxMissing - 1));
          --l.n_missing;
        }
        l.missing[l.n_missing++] = LayerState::Missing{s, 0, 0};
      }
    } else if (gap > 0) {
      l.n_missing = 0;  // a burst too large to repair: a keyframe will
    }
    l.highest = ext;
    return;
  }
  for (int i = 0; i < l.n_missing; ++i) {
    if (l.missing[i].ext == ext) {
      std::memmove(&l.missing[i], &l.missing[i + 1], sizeof(l.missing[0]) * (l.n_missing - i - 1));
      --l.n_missing;
      return;
    }
  }
}

Ingress Producer::accept(const rtp::RtpView& pkt, int layer, int codec, bool was_rtx, Nanos now) {
  Ingress r;
  LayerState& l = layers_[layer];
  ProducerStats& st = *p_.stats;
  const uint16_t seq = pkt.sequence();
  if (l.cache != nullptr) {
    const CacheSlot& s = l.cache[seq & (kNackCacheSize - 1)];
    if (s.len != 0 && s.seq == seq && l.highest >= 0 &&
        l.unwrap.peek(seq) > l.highest - int64_t(kNackCacheSize)) {
      r.duplicate = true;
      if (was_rtx) st.rtx_in.add();
      return r;
    }
  }
  r.ext_seq = l.unwrap.unwrap(seq);
  st.rtp_in.add();
  st.bytes_in.add(pkt.size());
  st.layer_packets[layer].add();
  if (was_rtx) st.rtx_in.add();
  if (!l.rx) l.rx.emplace(l.ssrc, clock_rate_);
  l.rx->on_packet(seq, pkt.timestamp(), now);
  l.last_rx = now;
  if (!l.active) {
    l.active = true;
    r.activated = true;
  }
  if (nack_) track_loss(l, r.ext_seq);
  const CodecId c = p_.codecs[codec].codec;
  if (p_.kind == SfuMediaKind::kVideo && is_keyframe(c, pkt.payload().data(), pkt.payload_size())) {
    r.keyframe = true;
    st.keyframes_in.add();
    l.keyframe_pending = false;
  }
  if (l.cache != nullptr && pkt.size() <= kCacheSlotBytes) {
    CacheSlot& s = l.cache[seq & (kNackCacheSize - 1)];
    std::memcpy(s.data, pkt.data(), pkt.size());
    s.len = uint16_t(pkt.size());
    s.seq = seq;
  }
  return r;
}

bool Producer::cached(int layer, uint16_t seq, rtp::RtpView* out) const {
  if (layer < 0 || layer >= int(layers_.size())) return false;
  const LayerState& l = layers_[layer];
  if (l.cache == nullptr) return false;
  const CacheSlot& s = l.cache[seq & (kNackCacheSize - 1)];
  if (s.len == 0 || s.seq != seq) return false;
  return out->parse(s.data, s.len) == rtp::RtpError::kOk;
}

void Producer::on_sender_report(int layer, const rtp::SenderInfo& si, Nanos now) {
  LayerState& l = layers_[layer];
  l.have_sr = true;
  l.sr = si;
  l.sr_arrival = now;
  if (l.rx) l.rx->on_sender_report(si.ntp, now);
  p_.stats->sr_in.add();
}

void Producer::send_keyframe_request(LayerState& l, Nanos now, WebRtcTransport* t,
                                     PacketSink& sink) {
  if (t == nullptr || !t->can_send() || l.ssrc == 0) return;
  Packet* p = sink.alloc();
  if (p == nullptr) {
    p_.stats->drops.add(Drop::kNoBuffer);
    return;
  }
  const size_t cap = p->capacity - p->off;
  size_t n;
  const bool fir = fir_ && !pli_;
  if (fir) {
    rtp::FirEntry e{l.ssrc, l.fir_seq++};
    n = rtp::write_fir(p->data(), cap, kSfuRtcpSsrc, absl::MakeConstSpan(&e, 1));
  } else {
    n = rtp::write_pli(p->data(), cap, kSfuRtcpSsrc, l.ssrc);
  }
  p->len = uint32_t(n);
  l.last_keyframe_request = now;
  l.keyframe_pending = false;
  if (t->send_rtcp(p, now, sink)) (fir ? p_.stats->fir_out : p_.stats->pli_out).add();
}

void Producer::request_keyframe(int layer, Nanos now, WebRtcTransport* t, PacketSink& sink) {
  if (layer < 0 || layer >= int(layers_.size()) || p_.kind != SfuMediaKind::kVideo) return;
  LayerState& l = layers_[layer];
  if (now - l.last_keyframe_request < kKeyframeInterval) {
    l.keyframe_pending = true;
    return;
  }
  send_keyframe_request(l, now, t, sink);
}

void Producer::send_nacks(LayerState& l, Nanos now, WebRtcTransport* t, PacketSink& sink) {
  uint16_t seqs[kMaxMissing];
  size_t n = 0;
  int keep = 0;
  for (int i = 0; i < l.n_missing; ++i) {
    LayerState::Missing m = l.missing[i];
    if (l.highest - m.ext >= int64_t(kNackCacheSize)) continue;  // too old to matter
    if (m.last_sent == 0 || now - m.last_sent >= kNackRetryInterval) {
      seqs[n++] = uint16_t(m.ext);
      m.last_sent = now;
      ++m.retries;
    }
    if (m.retries < kMaxNackRetries) l.missing[keep++] = m;
  }
  l.n_missing = keep;
  if (n == 0 || t == nullptr || !t->can_send()) return;
  Packet* p = sink.alloc();
  if (p == nullptr) {
    p_.stats->drops.add(Drop::kNoBuffer);
    return;
  }
  p->len = uint32_t(rtp::write_nack(p->data(), p->capacity - p->off, kSfuRtcpSsrc, l.ssrc,
                                    absl::MakeConstSpan(seqs, n)));
  if (p->len == 0) {
    sink.free(p);
    return;
  }
  if (t->send_rtcp(p, now, sink)) p_.stats->nack_out.add();
}

bool Producer::on_tick(Nanos now, WebRtcTransport* t, PacketSink& sink) {
  bool changed = false;
  for (LayerState& l : layers_) {
    const bool active = l.rx.has_value() && now - l.last_rx < kLayerInactiveAfter;
    if (active != l.active) {
      l.active = active;
      changed = true;
    }
    if (l.n_missing) send_nacks(l, now, t, sink);
    if (l.keyframe_pending && now - l.last_keyframe_request >= kKeyframeInterval) {
      send_keyframe_request(l, now, t, sink);
    }
  }
  return changed;
}

void Producer::send_receiver_report(Nanos now, WebRtcTransport* t, PacketSink& sink) {
  if (t == nullptr || !t->can_send()) return;
  rtp::ReportBlock blocks[kMaxLayers];
  size_t n = 0;
  for (LayerState& l : layers_) {
    if (l.rx && l.rx->received() > 0) l.rx->fill_report_block(now, &blocks[n++]);
  }
  if (n == 0) return;
  Packet* p = sink.alloc();
  if (p == nullptr) {
    p_.stats->drops.add(Drop::kNoBuffer);
    return;
  }
  p->len = uint32_t(rtp::write_receiver_report(p->data(), p->capacity - p->off, kSfuRtcpSsrc,
                                               absl::MakeConstSpan(blocks, n)));
  if (p->len == 0) {
    sink.free(p);
    return;
  }
  if (t->send_rtcp(p, now, sink)) p_.stats->rr_out.add();
}

}  // namespace tern::sfu
