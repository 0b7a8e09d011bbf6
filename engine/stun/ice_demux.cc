#include "engine/stun/ice_demux.h"

#include "absl/strings/str_format.h"
#include "engine/stun/stun_message.h"

namespace tern {
namespace ice {

IceLiteDemux::IceLiteDemux(size_t expected_agents) {
  // Room for every agent's ufrag plus a restart each, and a few pairs each,
  // so steady state never rehashes.
  by_ufrag_.reserve(2 * expected_agents);
  by_tuple_.reserve(4 * expected_agents);
}

IceLiteDemux::~IceLiteDemux() {
  for (auto& [ufrag, agent] : by_ufrag_) agent->demux_ = nullptr;
}

absl::Status IceLiteDemux::add(IceLiteAgent* agent) {
  if (agent->demux_ != nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "ice agent with ufrag \"%s\" is attached to a demux already", agent->cur_->local.ufrag));
  }
  if (agent->state_ == IceState::kClosed) {
    return absl::FailedPreconditionError(
        absl::StrFormat("ice agent with ufrag \"%s\" is closed", agent->cur_->local.ufrag));
  }
  const std::string& cur = agent->cur_->local.ufrag;
  if (!add_ufrag(cur, agent)) {
    return absl::AlreadyExistsError(
        absl::StrFormat("ice ufrag \"%s\" is in use by another transport", cur));
  }
  if (agent->prev_ != nullptr && !add_ufrag(agent->prev_->local.ufrag, agent)) {
    remove_ufrag(cur, agent);
    return absl::AlreadyExistsError(absl::StrFormat(
        "ice ufrag \"%s\" is in use by another transport", agent->prev_->local.ufrag));
  }
  for (const auto& p : agent->pairs_) add_tuple(p.tuple, agent);
  agent->demux_ = this;
  ++agents_;
  return absl::OkStatus();
}

void IceLiteDemux::remove(IceLiteAgent* agent) {
  if (agent->demux_ != this) return;
  remove_ufrag(agent->cur_->local.ufrag, agent);
  if (agent->prev_ != nullptr) remove_ufrag(agent->prev_->local.ufrag, agent);
  for (const auto& p : agent->pairs_) remove_tuple(p.tuple, agent);
  agent->demux_ = nullptr;
  --agents_;
}

bool IceLiteDemux::add_ufrag(const std::string& ufrag, IceLiteAgent* a) {
  return by_ufrag_.emplace(ufrag, a).second;
}

void IceLiteDemux::remove_ufrag(const std::string& ufrag, IceLiteAgent* a) {
  auto it = by_ufrag_.find(ufrag);
  if (it != by_ufrag_.end() && it->second == a) by_ufrag_.erase(it);
}

void IceLiteDemux::add_tuple(const CandidatePair& p, IceLiteAgent* a) {
  by_tuple_.insert_or_assign(p, a);  // last validation wins (see header)
}

void IceLiteDemux::remove_tuple(const CandidatePair& p, IceLiteAgent* a) {
  auto it = by_tuple_.find(p);
  if (it != by_tuple_.end() && it->second == a) by_tuple_.erase(it);
}

StunRoute IceLiteDemux::handle_stun(Packet* pkt, Nanos now, IceEvents* events,
                                    IceLiteAgent** agent_out) {
  if (agent_out != nullptr) *agent_out = nullptr;
  stun::StunMessage msg;
  if (msg.parse(pkt->data(), pkt->len) != stun::ParseError::kOk) {
    stats_.drops.add(Drop::kMalformedStun);
    return StunRoute::kDrop;
  }
  if (msg.method() != stun::kMethodBinding ||
      (msg.cls() != stun::StunClass::kRequest && msg.cls() != stun::StunClass::kIndication)) {
    stats_.not_ice.add();
    return StunRoute::kNotIce;
  }
  IceLiteAgent* agent = nullptr;
  if (msg.cls() == stun::StunClass::kIndication) {
    if (find(pkt->remote, pkt->local) == nullptr) {
      stats_.not_ice.add();
      return StunRoute::kNotIce;
    }
    stats_.keepalives.add();
    return StunRoute::kDrop;
  }
  stun::Attribute user;
  if (msg.find(stun::attr::kUsername, &user)) {
    const absl::string_view name(reinterpret_cast<const char*>(user.value), user.length);
    agent = find_ufrag(name.substr(0, name.find(':')));
    if (agent == nullptr) agent = find(pkt->remote, pkt->local);
    if (agent == nullptr) {
      stats_.unknown_ufrag.add();
      return StunRoute::kDrop;
    }
  } else {
    agent = find(pkt->remote, pkt->local);
    if (agent == nullptr) {
      stats_.not_ice.add();
      return StunRoute::kNotIce;
    }
  }
  stats_.checks.add();
  if (agent_out != nullptr) *agent_out = agent;
  return agent->handle_check(msg, pkt, now, events) == CheckVerdict::kRespond ? StunRoute::kRespond
                                                                              : StunRoute::kDrop;
}

}  // namespace ice
}  // namespace tern
