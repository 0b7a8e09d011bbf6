#include "engine/sfu/transport_host.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace tern::sfu {

TransportHost::TransportHost(TransportTimers& timers, PacketSink& sink, TransportEventSink& events,
                             size_t expected_transports)
    : timers_(timers), sink_(sink), events_(events), demux_(expected_transports) {
  by_id_.reserve(expected_transports);
}

TransportHost::~TransportHost() {
  for (auto& [id, e] : by_id_) disarm(e);
  // Transports (and their agents, which detach from demux_) go with the map,
  // before demux_ (declared earlier, destroyed later).
  by_id_.clear();
}

absl::Status TransportHost::add(std::unique_ptr<WebRtcTransport> t, Nanos now) {
  auto fail = [&](absl::Status s) {
    stats_.attach_failed.add();
    TransportEvent ev;
    ev.transport_id = t->id();
    ev.type = TransportEventType::kAttachFailed;
    ev.set_reason(std::string(s.message()).c_str());
    events_.on_transport_event(ev);
    return s;
  };
  if (t == nullptr) return absl::InvalidArgumentError("transport: null");
  if (by_id_.contains(t->id())) {
    return fail(absl::AlreadyExistsError(absl::StrCat("transport id ", t->id(), " exists")));
  }
  if (t->agent() == nullptr) return fail(absl::FailedPreconditionError("transport released"));
  if (absl::Status s = demux_.add(t->agent()); !s.ok()) return fail(s);
  t->set_drop_sink(&stats_.drops);
  t->on_attached(now);
  uint64_t id = t->id();
  Entry& e = by_id_[id];
  e.t = std::move(t);
  stats_.added.add();
  rearm(e, true);
  return absl::OkStatus();
}

bool TransportHost::close(uint64_t id, Nanos now) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  disarm(it->second);
  it->second.t->close(now, sink_);
  TransportEvent ev;
  ev.transport_id = id;
  ev.type = TransportEventType::kClosed;
  ev.set_reason("closed");
  by_id_.erase(it);  // frees the agent (detaches from the demux), DTLS, SRTP
  stats_.closed.add();
  events_.on_transport_event(ev);
  return true;
}

WebRtcTransport* TransportHost::find(uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.t.get();
}

absl::Status TransportHost::restart_ice(uint64_t id, ice::IceCredentials new_local,
                                        ice::IceCredentials new_remote, Nanos now) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return absl::NotFoundError(absl::StrCat("no transport ", id));
  absl::Status s = it->second.t->restart_ice(std::move(new_local), std::move(new_remote), now);
  if (s.ok()) rearm(it->second, true);
  return s;
}

size_t TransportHost::armed_timers() const {
  size_t n = 0;
  for (const auto& [id, e] : by_id_) n += e.timer != 0;
  return n;
}

void TransportHost::disarm(Entry& e) {
  if (e.timer != 0) timers_.cancel(e.timer);
  e.timer = 0;
  e.armed_at = kNever;
}

void TransportHost::rearm(Entry& e, bool force) {
  Nanos d = e.t->next_deadline();
  if (d == kNever) {
    if (e.timer != 0) disarm(e);
    return;
  }
  if (!force && e.timer != 0 && d >= e.armed_at) return;  // an early fire re-arms
  if (e.timer != 0) timers_.cancel(e.timer);
  e.timer = timers_.schedule(d, this, e.t->id());
  e.armed_at = e.timer != 0 ? d : kNever;
}

void TransportHost::drain_ice_events(Nanos now) {
  for (const ice::IceEvent& ev : ice_events_) {
    WebRtcTransport* t = transport_of(ev.agent);
    if (t == nullptr) continue;
    t->on_ice_event(ev, now, sink_, events_);
    auto it = by_id_.find(t->id());
    if (it == by_id_.end()) continue;
    if (t->released()) {
      stats_.released.add();
      disarm(it->second);
    } else {
      rearm(it->second, false);
    }
  }
  ice_events_.clear();
}

ice::StunRoute TransportHost::handle_stun(Packet* p, Nanos now) {
  if (by_id_.empty()) return ice::StunRoute::kNotIce;
  ice::IceLiteAgent* agent = nullptr;
  ice::StunRoute r = demux_.handle_stun(p, now, &ice_events_, &agent);
  if (WebRtcTransport* t = transport_of(agent)) {
    if (r == ice::StunRoute::kRespond) t->stats()->ice_checks.add();
    auto it = by_id_.find(t->id());
    // A check may create the first pair or select one: deadlines move earlier.
    if (it != by_id_.end() && !t->released()) rearm(it->second, false);
  }
  if (ice_events_.count != 0) drain_ice_events(now);
  return r;
}

bool TransportHost::handle_dtls(Packet* p, Nanos now, bool* consumed) {
  *consumed = false;
  WebRtcTransport* t = transport_of(demux_.find(p->remote, p->local));
  if (t == nullptr) return false;
  t->handle_dtls(*p, now, sink_, events_);
  auto it = by_id_.find(t->id());
  if (it != by_id_.end()) {
    if (t->released()) {
      stats_.released.add();
      disarm(it->second);
    } else {
      rearm(it->second, false);
    }
  }
  return true;
}

bool TransportHost::handle_media(Packet* p, bool rtcp, Nanos now, bool* consumed) {
  WebRtcTransport* t = transport_of(demux_.find(p->remote, p->local));
  if (t == nullptr) {
    *consumed = false;
    return false;
  }
  *consumed = t->handle_media(p, rtcp, now, sink_);
  return true;
}

void TransportHost::on_timer(uint64_t id, Nanos now) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  Entry& e = it->second;
  e.timer = 0;  // the wheel removed it before calling us
  e.armed_at = kNever;
  bool was_released = e.t->released();
  e.t->on_timer(now, sink_, events_);
  if (e.t->released()) {
    if (!was_released) stats_.released.add();
    return;
  }
  rearm(e, true);
}

}  // namespace tern::sfu
