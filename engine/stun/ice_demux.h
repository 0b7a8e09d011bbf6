// IceLiteDemux: many ICE-lite agents on one UDP port (one per worker).
//
// Two maps, both absl::flat_hash_map:
//   - local ufrag -> agent, for checks: a Binding request's USERNAME is
//     "<local ufrag>:<remote ufrag>", and the part before ':' names the
//     agent. Entries: each agent's current ufrag, plus the previous one while
//     an ICE restart is pending.
//   - 5-tuple (remote, real local endpoint) -> agent, for everything else on
//     the port (DTLS, SRTP, SRTCP): find(). An entry is inserted when an
//     authenticated check validates a NEW pair (never per packet in steady
//     state, never for unauthenticated traffic) and erased when the pair is
//     evicted or expires, the agent fails or closes, or a restart completes.
// If two agents validate the same 5-tuple (a peer reusing a socket across
// transports), the last one wins; the other's pair stays in its own table
// but no longer routes.
//
// handle_stun() is the one call the worker makes for a datagram classified
// as STUN (see docs/ice.md):
//   - not a Binding request, or a Binding request with no USERNAME from an
//     unknown 5-tuple -> kNotIce: hand it to StunBindingService / TURN;
//   - does not parse -> kDrop (kMalformedStun);
//   - USERNAME names a registered ufrag -> that agent's handle_check();
//   - unknown ufrag from a validated 5-tuple -> that 5-tuple's agent (it
//     answers 401: the peer is using credentials we dropped);
//   - unknown ufrag otherwise -> kDrop, counted `unknown_ufrag`, no answer.
//     RFC 8489 §9.1.3 would send 401, but a 401 we cannot sign tells a
//     real peer nothing a timeout does not, while answering every guessed
//     ufrag on a port shared by thousands of transports turns it into a
//     reflector for spoofed sources and an oracle for which ufrags exist;
//   - a Binding request without USERNAME from a validated 5-tuple -> its
//     agent (which answers 400);
//   - a Binding indication from a validated 5-tuple (RFC 8445 §11 keepalive)
//     -> kDrop, counted `keepalives`.
// Hot path: handle_stun() and find() allocate nothing (ufrag lookup is
// heterogeneous, by string_view). add()/remove() and the map inserts on a
// new pair are control-plane-rate events.
#pragma once

#include <cstddef>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/stun/ice_agent.h"

namespace tern {
namespace ice {

struct IceDemuxStats {
  Counter checks;         // Binding requests routed to an agent
  Counter unknown_ufrag;  // dropped: USERNAME names no agent, unknown 5-tuple
  Counter keepalives;     // Binding indications on validated 5-tuples
  Counter not_ice;        // handed back (kNotIce)
  DropCounters drops;     // kMalformedStun
};

enum class StunRoute : uint8_t {
  kRespond,  // the packet holds a response: send it
  kDrop,     // free it (counted by the demux or the agent)
  kNotIce,   // not for ICE: give it to the next STUN service
};

class IceLiteDemux {  // one per worker, never shared between threads
 public:
  explicit IceLiteDemux(size_t expected_agents = 64);
  ~IceLiteDemux();  // detaches remaining agents (they keep working alone)
  IceLiteDemux(const IceLiteDemux&) = delete;
  IceLiteDemux& operator=(const IceLiteDemux&) = delete;

  // Registers the agent's ufrag(s) and existing pairs. AlreadyExists (naming
  // the ufrag) if another agent holds the ufrag; FailedPrecondition if the
  // agent is attached to a demux already.
  absl::Status add(IceLiteAgent* agent);
  // Unregisters everything of the agent (also done by ~IceLiteAgent).
  void remove(IceLiteAgent* agent);

  // --- hot path ---
  // pkt->data() holds a datagram classified as STUN. `agent_out` (optional)
  // receives the agent that handled it, or null.
  StunRoute handle_stun(Packet* pkt, Nanos now, IceEvents* events,
                        IceLiteAgent** agent_out = nullptr);
  // Non-STUN datagrams (DTLS, SRTP): the agent whose validated pair this is.
  IceLiteAgent* find(const Endpoint& remote, const Endpoint& local) const {
    auto it = by_tuple_.find(CandidatePair{remote, local});
    return it == by_tuple_.end() ? nullptr : it->second;
  }
  IceLiteAgent* find_ufrag(absl::string_view ufrag) const {
    auto it = by_ufrag_.find(ufrag);
    return it == by_ufrag_.end() ? nullptr : it->second;
  }

  size_t agent_count() const { return agents_; }
  size_t ufrag_count() const { return by_ufrag_.size(); }
  size_t tuple_count() const { return by_tuple_.size(); }
  const IceDemuxStats& stats() const { return stats_; }

 private:
  friend class IceLiteAgent;
  // Called by agents.
  bool add_ufrag(const std::string& ufrag, IceLiteAgent* a);  // false if taken by another
  void remove_ufrag(const std::string& ufrag, IceLiteAgent* a);
  void add_tuple(const CandidatePair& p, IceLiteAgent* a);
  void remove_tuple(const CandidatePair& p, IceLiteAgent* a);  // only if it maps to `a`

  absl::flat_hash_map<std::string, IceLiteAgent*> by_ufrag_;
  absl::flat_hash_map<CandidatePair, IceLiteAgent*> by_tuple_;
  size_t agents_ = 0;
  IceDemuxStats stats_;
};

}  // namespace ice
}  // namespace tern
