#include "engine/sfu/router.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_stats.h"

namespace tern::sfu {
namespace {

template <typename T>
void erase_value(std::vector<T*>& v, T* x) {
  v.erase(std::remove(v.begin(), v.end(), x), v.end());
}

}  // namespace

Router::Router(TransportHost& host, PacketSink& sink, TransportEventSink& events,
               size_t expected_streams)
    : host_(host), sink_(sink), events_(events) {
  slots_.reserve(64);
  producers_.reserve(expected_streams);
  consumers_.reserve(expected_streams);
  routes_.reserve(expected_streams);
  consumer_ssrcs_.reserve(expected_streams);
  route_budget_ = expected_streams;
}

Router::~Router() {
  for (auto& [id, s] : slots_) {
    if (s->t != nullptr && host_.find(id) == s->t) s->t->set_media_handler(nullptr, nullptr);
  }
}

void Router::emit_closed(TransportEventType type, uint64_t transport_id, uint64_t object_id,
                         const char* reason) {
  TransportEvent ev;
  ev.type = type;
  ev.transport_id = transport_id;
  ev.object_id = object_id;
  ev.set_reason(reason);
  events_.on_transport_event(ev);
}

void Router::refuse(TransportEventType type, uint64_t transport_id, uint64_t object_id,
                    const absl::Status& s) {
  stats_.refused.add();
  emit_closed(type, transport_id, object_id, std::string(s.message()).c_str());
}

TransportSlot* Router::slot_for(uint64_t transport_id, const char** why) {
  WebRtcTransport* t = host_.find(transport_id);
  if (t == nullptr) {
    *why = "is not on this worker";
    return nullptr;
  }
  if (t->released()) {
    *why = "has failed or closed";
    return nullptr;
  }
  auto it = slots_.find(transport_id);
  if (it != slots_.end()) return it->second.get();
  auto s = std::make_unique<TransportSlot>();
  s->id = transport_id;
  s->t = t;
  s->router = this;
  s->producers.reserve(8);
  s->consumers.reserve(32);
  t->set_media_handler(&Router::media_thunk, s.get());
  TransportSlot* raw = s.get();
  slots_.emplace(transport_id, std::move(s));
  return raw;
}

void Router::maybe_drop_slot(TransportSlot* s) {
  if (!s->producers.empty() || !s->consumers.empty()) return;
  if (s->t != nullptr) s->t->set_media_handler(nullptr, nullptr);
  slots_.erase(s->id);
}

bool Router::add_route(uint64_t transport, uint32_t ssrc, Route r) {
  if (ssrc == 0) return false;
  if (routes_.size() >= route_budget_ && !routes_.contains(RouteKey{transport, ssrc})) {
    return false;  // would allocate on the hot path
  }
  routes_[RouteKey{transport, ssrc}] = r;
  return true;
}

absl::Status Router::add_producer(ProducerParams params, Nanos now) {
  (void)now;
  const uint64_t id = params.id, tid = params.transport_id;
  if (producers_.contains(id)) {
    absl::Status s = absl::AlreadyExistsError(absl::StrCat("producer ", id, " exists"));
    refuse(TransportEventType::kProducerClosed, tid, id, s);
    return s;
  }
  const char* why = "";
  TransportSlot* slot = slot_for(tid, &why);
  if (slot == nullptr) {
    absl::Status s =
        absl::NotFoundError(absl::StrCat("producer ", id, ": transport ", tid, " ", why));
    refuse(TransportEventType::kProducerClosed, tid, id, s);
    return s;
  }
  auto pr = Producer::create(std::move(params));
  if (!pr.ok()) {
    refuse(TransportEventType::kProducerClosed, tid, id, pr.status());
    maybe_drop_slot(slot);
    return pr.status();
  }
  Producer* p = pr->get();
  // SSRCs given by signalling collide with another producer's on this transport?
  for (int i = 0; i < p->layer_count(); ++i) {
    for (uint32_t ssrc : {p->layer(i).ssrc, p->layer(i).rtx_ssrc}) {
      if (ssrc != 0 && routes_.contains(RouteKey{tid, ssrc})) {
        absl::Status s = absl::AlreadyExistsError(
            absl::StrCat("producer ", id, " layers[", i, "]: ssrc ", ssrc, " already routed"));
        refuse(TransportEventType::kProducerClosed, tid, id, s);
        maybe_drop_slot(slot);
        return s;
      }
    }
  }
  route_budget_ += 2 * size_t(p->layer_count());
  routes_.reserve(route_budget_);
  for (int i = 0; i < p->layer_count(); ++i) {
    add_route(tid, p->layer(i).ssrc, Route{p, int8_t(i), false});
    add_route(tid, p->layer(i).rtx_ssrc, Route{p, int8_t(i), true});
  }
  p->set_transport(slot->t);
  slot->producers.push_back(p);
  producers_.emplace(id, *std::move(pr));
  stats_.producers.add();
  return absl::OkStatus();
}

absl::Status Router::add_consumer(ConsumerParams params, Nanos now) {
  const uint64_t id = params.id, tid = params.transport_id;
  if (consumers_.contains(id)) {
    absl::Status s = absl::AlreadyExistsError(absl::StrCat("consumer ", id, " exists"));
    refuse(TransportEventType::kConsumerClosed, tid, id, s);
    return s;
  }
  auto pit = producers_.find(params.producer_id);
  if (pit == producers_.end()) {
    absl::Status s = absl::NotFoundError(
        absl::StrCat("consumer ", id, ": producer ", params.producer_id, " is not on this worker"));
    refuse(TransportEventType::kConsumerClosed, tid, id, s);
    return s;
  }
  const char* why = "";
  TransportSlot* slot = slot_for(tid, &why);
  if (slot == nullptr) {
    absl::Status s =
        absl::NotFoundError(absl::StrCat("consumer ", id, ": transport ", tid, " ", why));
    refuse(TransportEventType::kConsumerClosed, tid, id, s);
    return s;
  }
  const uint32_t ssrc = params.ssrc;
  if (ssrc != 0 && consumer_ssrcs_.contains(RouteKey{tid, ssrc})) {
    absl::Status s = absl::AlreadyExistsError(
        absl::StrCat("consumer ", id, " ssrc: ", ssrc, " already used on transport ", tid));
    refuse(TransportEventType::kConsumerClosed, tid, id, s);
    maybe_drop_slot(slot);
    return s;
  }
  Producer& producer = *pit->second;
  auto cr = Consumer::create(std::move(params), producer, slot, &events_);
  if (!cr.ok()) {
    refuse(TransportEventType::kConsumerClosed, tid, id, cr.status());
    maybe_drop_slot(slot);
    return cr.status();
  }
  Consumer* c = cr->get();
  consumer_ssrcs_.emplace(RouteKey{tid, ssrc}, c);
  slot->consumers.push_back(c);
  producer.consumers().push_back(c);
  consumers_.emplace(id, *std::move(cr));
  stats_.consumers.add();
  c->update_target(now, sink_);  // asks for a keyframe when the producer is already sending
  return absl::OkStatus();
}

bool Router::close_consumer(uint64_t id, const char* reason) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return false;
  Consumer* c = it->second.get();
  const uint64_t tid = c->transport_id();
  erase_value(c->producer().consumers(), c);
  consumer_ssrcs_.erase(RouteKey{tid, c->ssrc()});
  TransportSlot* slot = c->slot();
  erase_value(slot->consumers, c);
  consumers_.erase(it);
  stats_.consumers.add(uint64_t(-1));
  emit_closed(TransportEventType::kConsumerClosed, tid, id, reason);
  maybe_drop_slot(slot);
  return true;
}

bool Router::close_producer(uint64_t id, const char* reason) {
  auto it = producers_.find(id);
  if (it == producers_.end()) return false;
  Producer* p = it->second.get();
  const uint64_t tid = p->transport_id();
  // Consumers first (they point at the producer).
  while (!p->consumers().empty()) close_consumer(p->consumers().back()->id(), "producer closed");
  for (int i = 0; i < p->layer_count(); ++i) {
    for (uint32_t ssrc : {p->layer(i).ssrc, p->layer(i).rtx_ssrc}) {
      auto r = routes_.find(RouteKey{tid, ssrc});
      if (r != routes_.end() && r->second.producer == p) routes_.erase(r);
    }
  }
  route_budget_ -= std::min(route_budget_, 2 * size_t(p->layer_count()));
  auto sit = slots_.find(tid);
  TransportSlot* slot = sit == slots_.end() ? nullptr : sit->second.get();
  if (slot != nullptr) erase_value(slot->producers, p);
  producers_.erase(it);
  stats_.producers.add(uint64_t(-1));
  emit_closed(TransportEventType::kProducerClosed, tid, id, reason);
  if (slot != nullptr) maybe_drop_slot(slot);
  return true;
}

bool Router::pause_consumer(uint64_t id, bool paused, Nanos now) {
  Consumer* c = find_consumer(id);
  if (c == nullptr) return false;
  c->set_paused(paused, now, sink_);
  return true;
}

bool Router::set_consumer_layer(uint64_t id, int8_t layer, Nanos now) {
  Consumer* c = find_consumer(id);
  if (c == nullptr) return false;
  c->set_preferred_layer(layer, now, sink_);
  return true;
}

void Router::close_transport(uint64_t id, bool alive) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return;
  TransportSlot* slot = it->second.get();
  if (!alive) slot->t = nullptr;  // destroyed: never touch it again
  for (Producer* p : slot->producers) p->set_transport(nullptr);
  const char* reason = "transport closed";
  // close_* may drop the slot when it empties: copy the ids first.
  std::vector<uint64_t> cons, prods;
  for (Consumer* c : slot->consumers) cons.push_back(c->id());
  for (Producer* p : slot->producers) prods.push_back(p->id());
  for (uint64_t c : cons) close_consumer(c, reason);
  for (uint64_t p : prods) close_producer(p, reason);
}

void Router::on_transport_event(const TransportEvent& ev) {
  switch (ev.type) {
    case TransportEventType::kClosed:
      // From TransportHost::close the transport is already destroyed; from a
      // peer's close_notify it is a released tombstone. Either way: hands off.
      close_transport(ev.transport_id, false);
      break;
    case TransportEventType::kIceFailed:
    case TransportEventType::kDtlsFailed:
      close_transport(ev.transport_id, host_.find(ev.transport_id) != nullptr);
      break;
    default:
      break;
  }
}

Producer* Router::find_producer(uint64_t id) {
  auto it = producers_.find(id);
  return it == producers_.end() ? nullptr : it->second.get();
}

Consumer* Router::find_consumer(uint64_t id) {
  auto it = consumers_.find(id);
  return it == consumers_.end() ? nullptr : it->second.get();
}

Consumer* Router::consumer_by_ssrc(uint64_t transport, uint32_t ssrc) {
  auto it = consumer_ssrcs_.find(RouteKey{transport, ssrc});
  return it == consumer_ssrcs_.end() ? nullptr : it->second;
}

// ---- hot path -----------------------------------------------------------------

bool Router::media_thunk(void* ctx, WebRtcTransport& t, Packet* p, bool rtcp, Nanos now) {
  (void)t;
  TransportSlot* slot = static_cast<TransportSlot*>(ctx);
  return slot->router->on_media(*slot, p, rtcp, now);
}

bool Router::on_media(TransportSlot& slot, Packet* p, bool rtcp, Nanos now) {
  return rtcp ? on_rtcp(slot, p, now) : on_rtp(slot, p, now);
}

const Router::Route* Router::learn(TransportSlot& slot, const rtp::RtpView& pkt) {
  const uint32_t ssrc = pkt.ssrc();
  for (Producer* pr : slot.producers) {
    const RtpExtensionIds& ids = pr->params().ext;
    rtp::Extension e;
    absl::string_view v;
    if (ids.mid != 0 && rtp::find_extension(pkt, ids.mid, &e) &&
        rtp::read_string_extension(e, &v)) {
      if (v != pr->params().mid) continue;
    } else if (slot.producers.size() != 1) {
      continue;  // without a mid only the transport's one producer can match
    }
    Route r{pr, 0, false};
    if (ids.rid != 0 && rtp::find_extension(pkt, ids.rid, &e) &&
        rtp::read_string_extension(e, &v)) {
      r.layer = int8_t(pr->layer_by_rid(v.data(), v.size()));
    } else if (ids.repaired_rid != 0 && rtp::find_extension(pkt, ids.repaired_rid, &e) &&
               rtp::read_string_extension(e, &v)) {
      r.layer = int8_t(pr->layer_by_rid(v.data(), v.size()));
      r.rtx = true;
    } else if (pr->layer_count() == 1) {
      r.rtx = pr->rtx_apt(pkt.payload_type()) >= 0;
    } else {
      continue;
    }
    if (r.layer < 0) continue;
    LayerState& l = pr->layer(r.layer);
    uint32_t& known = r.rtx ? l.rtx_ssrc : l.ssrc;
    if (known != 0 && known != ssrc) continue;  // that layer has its SSRC already
    if (!add_route(slot.id, ssrc, r)) return nullptr;
    known = ssrc;
    stats_.learnt.add();
    return &routes_.find(RouteKey{slot.id, ssrc})->second;
  }
  return nullptr;
}

bool Router::on_rtp(TransportSlot& slot, Packet* p, Nanos now) {
  stats_.rtp_in.add();
  rtp::RtpPacket pkt;
  if (pkt.parse(p->data(), p->len) != rtp::RtpError::kOk) {
    stats_.drops.add(Drop::kRtpMalformed);
    return false;
  }
  auto it = routes_.find(RouteKey{slot.id, pkt.ssrc()});
  const Route* r = it != routes_.end() ? &it->second : learn(slot, pkt);
  if (r == nullptr) {
    stats_.drops.add(Drop::kSfuUnknownSsrc);
    return false;
  }
  Producer& pr = *r->producer;
  const int layer = r->layer;
  if (r->rtx && !pr.unwrap_rtx(p, pkt, layer)) {
    // A padding-only probe (bandwidth estimation) carries nothing to forward;
    // an RTX payload type we do not know is a drop.
    if (pr.rtx_apt(pkt.payload_type()) < 0) pr.stats().drops.add(Drop::kSfuUnknownPt);
    return false;
  }
  const int codec = pr.codec_index(pkt.payload_type());
  if (codec < 0) {
    pr.stats().drops.add(Drop::kSfuUnknownPt);
    return false;
  }
  const Ingress ing = pr.accept(pkt, layer, codec, r->rtx, now);
  if (ing.duplicate) return false;
  std::vector<Consumer*>& cons = pr.consumers();
  if (ing.activated) {
    for (Consumer* c : cons) c->update_target(now, sink_);
  }
  for (Consumer* c : cons) c->forward(pkt, layer, ing, now, sink_);
  return false;  // every consumer got its own copy: the caller frees p
}

bool Router::on_rtcp(TransportSlot& slot, Packet* p, Nanos now) {
  stats_.rtcp_in.add();
  rtp::RtcpCompound compound;
  if (compound.parse(p->data(), p->len) != rtp::RtcpError::kOk) {
    stats_.drops.add(Drop::kRtcpMalformed);
    return false;
  }
  for (const rtp::RtcpPacket pk : compound) {
    switch (pk.type) {
      case rtp::rtcp_type::kSr:
      case rtp::rtcp_type::kRr: {
        rtp::ReportPacket rp;
        if (!rp.parse(pk)) {
          stats_.drops.add(Drop::kRtcpMalformed);
          break;
        }
        if (rp.is_sender_report()) {
          auto it = routes_.find(RouteKey{slot.id, rp.ssrc()});
          if (it != routes_.end() && !it->second.rtx) {
            it->second.producer->on_sender_report(it->second.layer, rp.sender_info(), now);
          }
        }
        for (size_t i = 0; i < rp.block_count(); ++i) {
          if (Consumer* c = consumer_by_ssrc(slot.id, rp.block(i).ssrc)) {
            c->stats().rr_in.add();
          } else if (rp.block(i).ssrc != kSfuRtcpSsrc) {
            stats_.rr_in_unknown.add();
          }
        }
        break;
      }
      case rtp::rtcp_type::kRtpfb:
        if (pk.count == rtp::fb_fmt::kNack) {
          rtp::NackPacket nack;
          if (!nack.parse(pk)) {
            stats_.drops.add(Drop::kRtcpMalformed);
            break;
          }
          if (Consumer* c = consumer_by_ssrc(slot.id, nack.media_ssrc())) {
            c->on_nack(nack, now, sink_);
          } else {
            stats_.rr_in_unknown.add();
          }
        }
        break;  // transport-cc: no bandwidth estimation yet
      case rtp::rtcp_type::kPsfb:
        if (pk.count == rtp::fb_fmt::kPli && pk.body_size >= 8) {
          if (Consumer* c = consumer_by_ssrc(slot.id, rtp::feedback_media_ssrc(pk))) {
            c->on_keyframe_request(false, now, sink_);
          } else {
            stats_.rr_in_unknown.add();
          }
        } else if (pk.count == rtp::fb_fmt::kFir) {
          rtp::FirPacket fir;
          if (!fir.parse(pk)) {
            stats_.drops.add(Drop::kRtcpMalformed);
            break;
          }
          for (size_t i = 0; i < fir.entry_count(); ++i) {
            if (Consumer* c = consumer_by_ssrc(slot.id, fir.entry(i).ssrc)) {
              c->on_keyframe_request(true, now, sink_);
            }
          }
        }
        break;  // REMB: ignored (see the top of router.h)
      default:
        break;  // SDES, BYE, APP, XR
    }
  }
  return false;
}

Nanos Router::on_tick(Nanos now, int64_t unix_ns) {
  if (empty()) return kNever;
  for (auto& [id, p] : producers_) {
    if (p->on_tick(now, p->transport(), sink_)) {
      for (Consumer* c : p->consumers()) c->update_target(now, sink_);
    }
  }
  if (now >= next_report_) {
    next_report_ = now + kReportInterval;
    const uint64_t ntp_now = rtp::ntp_from_unix_nanos(unix_ns);
    for (auto& [id, p] : producers_) p->send_receiver_report(now, p->transport(), sink_);
    for (auto& [id, c] : consumers_) c->send_sender_report(now, ntp_now, sink_);
  }
  return now + kTickInterval;
}

}  // namespace tern::sfu
