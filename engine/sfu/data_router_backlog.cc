// DataRouter's backpressure (data_router.h): per-leg backlogs of relayed
// copies that did not fit the destination's send buffer, and pausing the
// sources that fill them. Worker thread only.
//
// Re-entrancy: a send on a destination runs that association's handlers
// (messages from its own peer are relayed from inside the call), which may
// add or remove backlogs. So no reference into backlogs_ is kept across a
// send: each step looks its leg up again.
#include <algorithm>
#include <utility>

#include "engine/sfu/data_router.h"

namespace tern::sfu {

size_t DataRouter::backlog_of(uint64_t transport, uint16_t stream) const {
  auto it = backlogs_.find(Leg{transport, stream});
  return it == backlogs_.end() ? 0 : it->second.bytes;
}

void DataRouter::relay(const Leg& leg, WebRtcTransport& dst, uint64_t source, bool reliable,
                       bool binary, const uint8_t* data, size_t len, Nanos now) {
  if (!backlogs_.contains(leg)) {
    absl::Status s = dst.send_data(leg.stream, binary, data, len, now, sink_);
    if (s.ok()) {
      stats_.messages_out.add();
      stats_.bytes_out.add(len);
      return;
    }
    if (!absl::IsResourceExhausted(s)) {
      stats_.send_failed.add();
      return;
    }
    if (!reliable) {  // the channel's settings allow the loss
      stats_.relay_dropped.add();
      return;
    }
  }
  // The send above ran handlers: look the leg up (or create it) now.
  Backlog& b = backlogs_[leg];
  if (b.bytes + len > kMaxBacklogBytes) {
    stats_.relay_dropped.add();
    return;
  }
  b.q.push_back(Queued{binary, std::vector<uint8_t>(data, data + len)});
  b.bytes += len;
  stats_.relay_queued.add();
  stats_.backlog_bytes.fetch_add(len, std::memory_order_relaxed);
  if (b.bytes >= kPauseBytes &&
      std::find(b.paused.begin(), b.paused.end(), source) == b.paused.end()) {
    b.paused.push_back(source);
    pause_source(source);
  }
}

void DataRouter::on_data_writable(WebRtcTransport& t, Nanos now) {
  std::vector<Leg> legs;
  for (const auto& [leg, b] : backlogs_) {
    if (leg.transport == t.id()) legs.push_back(leg);
  }
  for (const Leg& leg : legs) {
    for (;;) {
      auto it = backlogs_.find(leg);
      if (it == backlogs_.end()) break;
      if (it->second.q.empty()) {
        drop_backlog(leg);
        break;
      }
      Queued m = std::move(it->second.q.front());
      it->second.q.pop_front();
      it->second.bytes -= m.bytes.size();
      stats_.backlog_bytes.fetch_sub(m.bytes.size(), std::memory_order_relaxed);
      absl::Status s =
          t.send_data(leg.stream, m.binary, m.bytes.data(), m.bytes.size(), now, sink_);
      if (s.ok()) {
        stats_.messages_out.add();
        stats_.bytes_out.add(m.bytes.size());
      } else if (absl::IsResourceExhausted(s)) {
        it = backlogs_.find(leg);  // still full: put it back, wait for the next call
        if (it == backlogs_.end()) break;
        it->second.bytes += m.bytes.size();
        stats_.backlog_bytes.fetch_add(m.bytes.size(), std::memory_order_relaxed);
        it->second.q.push_front(std::move(m));
        break;
      } else {
        stats_.send_failed.add();
      }
    }
    auto it = backlogs_.find(leg);
    if (it != backlogs_.end() && it->second.bytes < kResumeBytes && !it->second.paused.empty()) {
      std::vector<uint64_t> paused = std::move(it->second.paused);
      it->second.paused.clear();
      for (uint64_t src : paused) release_source(src);
    }
  }
}

void DataRouter::drop_backlog(const Leg& leg) {
  auto it = backlogs_.find(leg);
  if (it == backlogs_.end()) return;
  std::vector<uint64_t> paused = std::move(it->second.paused);
  stats_.backlog_bytes.fetch_sub(it->second.bytes, std::memory_order_relaxed);
  backlogs_.erase(it);
  for (uint64_t src : paused) release_source(src);
}

void DataRouter::drop_backlogs_of(uint64_t transport) {
  std::vector<Leg> legs;
  for (const auto& [leg, b] : backlogs_) {
    if (leg.transport == transport) legs.push_back(leg);
  }
  for (const Leg& leg : legs) drop_backlog(leg);
  // As a source: no backlog holds it paused any more.
  for (auto& [leg, b] : backlogs_) {
    b.paused.erase(std::remove(b.paused.begin(), b.paused.end(), transport), b.paused.end());
  }
  if (pauses_.erase(transport) > 0) set_reads_paused(transport, false);
}

void DataRouter::pause_source(uint64_t transport) {
  if (pauses_[transport]++ > 0) return;
  stats_.source_pauses.add();
  set_reads_paused(transport, true);
}

void DataRouter::release_source(uint64_t transport) {
  auto it = pauses_.find(transport);
  if (it == pauses_.end()) return;
  if (--it->second > 0) return;
  pauses_.erase(it);
  set_reads_paused(transport, false);
}

void DataRouter::set_reads_paused(uint64_t transport, bool paused) {
  if (WebRtcTransport* t = host_.find(transport); t != nullptr && !t->released()) {
    t->set_data_read_paused(paused);
  }
}

}  // namespace tern::sfu
