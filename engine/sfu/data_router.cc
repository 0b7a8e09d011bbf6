#include "engine/sfu/data_router.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tern::sfu {

const char* data_event_name(DataEvent::Type t) {
  switch (t) {
    case DataEvent::Type::kOpen:
      return "open";
    case DataEvent::Type::kClosed:
      return "closed";
    case DataEvent::Type::kMessage:
      return "message";
    case DataEvent::Type::kSendFailed:
      return "send_failed";
  }
  return "unknown";
}

DataRouter::DataRouter(TransportHost& host, PacketSink& sink, DataEventSink& events)
    : host_(host), sink_(sink), events_(events) {}

DataRouter::~DataRouter() = default;

size_t DataRouter::legs_of(uint64_t transport, uint16_t stream) const {
  auto it = leg_channel_.find(Leg{transport, stream});
  if (it == leg_channel_.end()) return 0;
  auto c = channels_.find(it->second);
  return c == channels_.end() ? 0 : c->second.legs.size();
}

void DataRouter::emit_simple(DataEvent::Type type, uint64_t transport, uint16_t stream) {
  DataEvent ev;
  ev.type = type;
  ev.transport_id = transport;
  ev.stream = stream;
  events_.on_data_event(ev);
}

absl::Status DataRouter::join(uint64_t transport_id, uint64_t group, Nanos now) {
  WebRtcTransport* t = host_.find(transport_id);
  if (t == nullptr || t->released()) {
    return absl::NotFoundError(absl::StrCat("transport ", transport_id, " not on this worker"));
  }
  if (!t->has_sctp()) {
    return absl::FailedPreconditionError(
        absl::StrCat("transport ", transport_id, " has no data channels (no m=application)"));
  }
  auto it = member_group_.find(transport_id);
  if (it != member_group_.end()) {
    if (it->second == group) return absl::OkStatus();
    leave(transport_id, now);
  }
  member_group_[transport_id] = group;
  group_members_[group].push_back(transport_id);
  stats_.members.store(member_group_.size(), std::memory_order_relaxed);
  if (t->sctp_connected()) open_legs_on(transport_id, now);
  return absl::OkStatus();
}

void DataRouter::remove_member(uint64_t transport) {
  auto it = member_group_.find(transport);
  if (it == member_group_.end()) return;
  auto g = group_members_.find(it->second);
  if (g != group_members_.end()) {
    auto& v = g->second;
    v.erase(std::remove(v.begin(), v.end(), transport), v.end());
    if (v.empty()) group_members_.erase(g);
  }
  member_group_.erase(it);
  stats_.members.store(member_group_.size(), std::memory_order_relaxed);
}

bool DataRouter::leave(uint64_t transport_id, Nanos now) {
  if (!member_group_.contains(transport_id)) return false;
  drop_transport(transport_id, true, now);
  return true;
}

absl::Status DataRouter::send(const DataSend& d, Nanos now) {
  WebRtcTransport* t = host_.find(d.transport_id);
  if (t == nullptr || t->released()) {
    return absl::NotFoundError(
        absl::StrCat("params.transport_id: transport ", d.transport_id, " not on this worker"));
  }
  int32_t stream = d.stream >= 0 ? d.stream : t->find_data_channel(d.label);
  if (stream < 0 || stream > 65535 || t->data_channel(static_cast<uint16_t>(stream)) == nullptr) {
    return d.stream >= 0
               ? absl::NotFoundError(absl::StrCat("params.stream: no open channel ", d.stream,
                                                  " on transport ", d.transport_id))
               : absl::NotFoundError(absl::StrCat("params.label: no open channel \"", d.label,
                                                  "\" on transport ", d.transport_id));
  }
  absl::Status s = t->send_data(static_cast<uint16_t>(stream), d.binary, d.bytes.data(),
                                d.bytes.size(), now, sink_);
  if (!s.ok()) {
    stats_.send_failed.add();
    return s;
  }
  stats_.messages_out.add();
  stats_.bytes_out.add(d.bytes.size());
  return absl::OkStatus();
}

void DataRouter::on_transport_event(const TransportEvent& ev, Nanos now) {
  switch (ev.type) {
    case TransportEventType::kClosed:
    case TransportEventType::kIceFailed:
    case TransportEventType::kDtlsFailed:
      drop_transport(ev.transport_id, false, now);
      break;
    default:
      break;
  }
}

// `alive`: the transport's association may still be used (leave); else it is
// gone (closed / failed) and only the other legs are touched.
void DataRouter::drop_transport(uint64_t transport, bool alive, Nanos now) {
  remove_member(transport);
  drop_backlogs_of(transport);
  // Channels with a leg on this transport: collect first (closing mutates).
  std::vector<std::pair<uint64_t, bool>> touched;  // channel id, is origin
  for (const auto& [id, c] : channels_) {
    for (size_t i = 0; i < c.legs.size(); ++i) {
      if (c.legs[i].transport == transport) touched.emplace_back(id, i == 0);
    }
  }
  for (const auto& [id, origin] : touched) {
    auto it = channels_.find(id);
    if (it == channels_.end()) continue;
    if (origin) {
      close_channel(id, alive ? 0 : transport, alive, now);
      continue;
    }
    Channel& c = it->second;
    for (size_t i = 1; i < c.legs.size(); ++i) {
      if (c.legs[i].transport != transport) continue;
      const Leg leg = c.legs[i];
      c.legs.erase(c.legs.begin() + static_cast<std::ptrdiff_t>(i));
      leg_channel_.erase(leg);
      drop_backlog(leg);
      if (alive) {
        if (WebRtcTransport* t = host_.find(transport)) {
          (void)t->close_data_channel(leg.stream, now, sink_);
        }
      }
      break;
    }
  }
}

// Closes every leg of the channel (except on `skip_transport`, whose
// association is gone or already closing) and forgets it.
void DataRouter::close_channel(uint64_t channel_id, uint64_t skip_transport, bool alive,
                               Nanos now) {
  (void)alive;
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) return;
  std::vector<Leg> legs = std::move(it->second.legs);
  channels_.erase(it);
  stats_.channels.store(channels_.size(), std::memory_order_relaxed);
  for (const Leg& l : legs) {
    leg_channel_.erase(l);
    drop_backlog(l);
  }
  for (const Leg& l : legs) {
    if (l.transport == skip_transport) continue;
    WebRtcTransport* t = host_.find(l.transport);
    if (t == nullptr || t->released()) continue;
    (void)t->close_data_channel(l.stream, now, sink_);
  }
}

void DataRouter::open_leg(uint64_t channel_id, Channel& c, uint64_t transport, Nanos now) {
  for (const Leg& l : c.legs) {
    if (l.transport == transport) return;  // already there (or the origin)
  }
  WebRtcTransport* t = host_.find(transport);
  if (t == nullptr || t->released() || !t->sctp_connected()) return;
  auto s = t->open_data_channel(c.params, now, sink_);
  if (!s.ok()) {
    stats_.leg_open_failed.add();
    return;
  }
  // open_data_channel may have run handlers that closed this channel: look
  // it up again before touching it.
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) {
    (void)t->close_data_channel(*s, now, sink_);
    return;
  }
  it->second.legs.push_back(Leg{transport, *s});
  leg_channel_[Leg{transport, *s}] = channel_id;
  stats_.legs_opened.add();
}

void DataRouter::open_legs_on(uint64_t transport, Nanos now) {
  auto m = member_group_.find(transport);
  if (m == member_group_.end()) return;
  const uint64_t group = m->second;
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : channels_) {
    if (c.group == group) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());  // creation order: streams in a stable order
  for (uint64_t id : ids) {
    auto it = channels_.find(id);
    if (it != channels_.end()) open_leg(id, it->second, transport, now);
  }
}

// --- DataHandler ---

void DataRouter::on_data_connected(WebRtcTransport& t, Nanos now) { open_legs_on(t.id(), now); }

void DataRouter::on_data_channel_open(WebRtcTransport& t, const sctp::DataChannelInfo& ch,
                                      Nanos now) {
  DataEvent ev;
  ev.type = DataEvent::Type::kOpen;
  ev.transport_id = t.id();
  ev.stream = ch.stream;
  ev.remote = ch.remote;
  ev.ordered = ch.ordered();
  ev.policy = sctp::dcep_policy(ch.type);
  ev.reliability = ch.reliability;
  ev.set_label(ch.label);
  ev.set_protocol(ch.protocol);
  events_.on_data_event(ev);
  // Only the peer's channels are producers; ours are legs (already recorded)
  // or the control plane's own.
  if (!ch.remote) return;
  auto m = member_group_.find(t.id());
  if (m == member_group_.end()) return;
  const uint64_t id = next_channel_++;
  Channel c;
  c.group = m->second;
  c.params.label = ch.label;
  c.params.protocol = ch.protocol;
  c.params.ordered = ch.ordered();
  c.params.priority = ch.priority;
  switch (sctp::dcep_policy(ch.type)) {
    case 1:
      c.params.max_retransmits = ch.reliability;
      break;
    case 2:
      c.params.max_packet_life_time_ms = ch.reliability;
      break;
    default:
      break;
  }
  c.legs.push_back(Leg{t.id(), ch.stream});
  leg_channel_[Leg{t.id(), ch.stream}] = id;
  Channel& stored = channels_[id] = std::move(c);
  (void)stored;
  stats_.channels.store(channels_.size(), std::memory_order_relaxed);
  // Copy: opening legs runs other transports' handlers (group may change).
  auto g = group_members_.find(m->second);
  if (g == group_members_.end()) return;
  std::vector<uint64_t> members = g->second;
  for (uint64_t other : members) {
    if (other == t.id()) continue;
    auto it = channels_.find(id);
    if (it == channels_.end()) return;
    open_leg(id, it->second, other, now);
  }
}

void DataRouter::on_data_message(WebRtcTransport& t, uint16_t stream, sctp::MessageKind kind,
                                 const uint8_t* data, size_t len, Nanos now) {
  const bool binary = kind == sctp::MessageKind::kBinary;
  stats_.messages_in.add();
  stats_.bytes_in.add(len);
  {
    DataEvent ev;
    ev.type = DataEvent::Type::kMessage;
    ev.transport_id = t.id();
    ev.stream = stream;
    ev.binary = binary;
    ev.size = static_cast<uint32_t>(len);
    const size_t n = std::min(len, DataEvent::kMaxEventPayload);
    ev.truncated = n < len;
    if (n > 0) {
      ev.data = new uint8_t[n];
      std::memcpy(ev.data, data, n);
      ev.len = static_cast<uint32_t>(n);
    }
    events_.on_data_event(ev);
  }
  auto lc = leg_channel_.find(Leg{t.id(), stream});
  if (lc == leg_channel_.end()) return;
  const uint64_t id = lc->second;
  // By index with a fresh lookup each time: a send runs the target's handlers.
  for (size_t i = 0;; ++i) {
    auto it = channels_.find(id);
    if (it == channels_.end() || i >= it->second.legs.size()) break;
    const Leg leg = it->second.legs[i];
    if (leg.transport == t.id() && leg.stream == stream) continue;
    WebRtcTransport* dst = host_.find(leg.transport);
    if (dst == nullptr || dst->released()) continue;
    relay(leg, *dst, t.id(), it->second.reliable(), binary, data, len, now);
  }
}

void DataRouter::on_data_channel_closed(WebRtcTransport& t, uint16_t stream, Nanos now) {
  emit_simple(DataEvent::Type::kClosed, t.id(), stream);
  auto lc = leg_channel_.find(Leg{t.id(), stream});
  if (lc == leg_channel_.end()) return;
  const uint64_t id = lc->second;
  auto it = channels_.find(id);
  if (it == channels_.end()) {
    leg_channel_.erase(lc);
    return;
  }
  Channel& c = it->second;
  if (!c.legs.empty() && c.legs[0] == Leg{t.id(), stream}) {
    // The producer closed: close it everywhere (its own stream is already reset).
    close_channel(id, t.id(), true, now);
    return;
  }
  c.legs.erase(std::remove(c.legs.begin(), c.legs.end(), Leg{t.id(), stream}), c.legs.end());
  leg_channel_.erase(lc);
  drop_backlog(Leg{t.id(), stream});
}

void DataRouter::on_data_closed(WebRtcTransport& t, const std::string& reason, Nanos now) {
  (void)reason;
  // Every channel was reported closed before; leave whatever is left.
  drop_transport(t.id(), false, now);
}

}  // namespace tern::sfu
