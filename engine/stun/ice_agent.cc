#include "engine/stun/ice_agent.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/net/bytes.h"
#include "engine/stun/ice_demux.h"

namespace tern {
namespace ice {
namespace {

// See the header: a lite agent cannot become controlling, which is what
// "our tie-breaker is the largest possible" means in §7.3.1.1's comparison.
constexpr uint64_t kLiteTieBreaker = UINT64_MAX;

constexpr absl::string_view kReason400 = "Bad Request";
constexpr absl::string_view kReason401 = "Unauthorized";
constexpr absl::string_view kReason420 = "Unknown Attribute";
constexpr absl::string_view kReason487 = "Role Conflict";

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

// What a response needs, everything copied out of the request before the
// buffer is overwritten.
struct Reply {
  uint8_t txid[stun::kTransactionIdSize];
  int code = 0;  // 0 = success
  absl::string_view reason;
  const MessageIntegrity* key = nullptr;  // null: no MESSAGE-INTEGRITY
  absl::Span<const uint16_t> unknown;     // 420 only (points into the StunMessage object)
};

size_t reply_size(const Reply& r, const Endpoint& remote) {
  size_t n = stun::kHeaderSize + 8;  // + FINGERPRINT
  if (r.code == 0) {
    n += 4 + (remote.is_v4() ? 8 : 20);
  } else {
    n += 4 + padded(4 + r.reason.size());
    if (!r.unknown.empty()) n += 4 + padded(2 * r.unknown.size());
  }
  if (r.key != nullptr) n += 4 + MessageIntegrity::kSha1Size;
  return n;
}

bool fits(const Packet& pkt, size_t need) {
  return pkt.capacity >= pkt.headroom() && need <= pkt.capacity - pkt.headroom();
}

// Call only after fits(): every byte is accounted for in reply_size().
bool write_reply(const Reply& r, Packet* pkt) {
  const Endpoint remote = pkt->remote;
  pkt->reset(pkt->headroom());
  stun::StunWriter w(pkt->data(), pkt->tailroom());
  if (r.code == 0) {
    w.begin(stun::kMethodBinding, stun::StunClass::kSuccess, r.txid);
    w.add_xor_mapped_address(remote);
  } else {
    w.begin(stun::kMethodBinding, stun::StunClass::kError, r.txid);
    w.add_error_code(r.code, r.reason);
    if (!r.unknown.empty()) w.add_unknown_attributes(r.unknown);
  }
  if (r.key != nullptr) w.add_message_integrity(*r.key);
  w.add_fingerprint();
  return w.ok() && pkt->append(uint32_t(w.size())) != nullptr;
}

absl::Status validate_config(const IceLiteConfig& c) {
  if (c.max_pairs < 2 || c.max_pairs > 256) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ice max_pairs %d: need 2..256", c.max_pairs));
  }
  if (c.consent_timeout <= 0 || c.pair_timeout <= 0 || c.disconnected_timeout <= 0 ||
      c.connect_timeout < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ice timeouts must be positive (consent %d ns, disconnected %d ns, pair %d ns, connect %d "
        "ns; connect may be 0 = never)",
        c.consent_timeout, c.disconnected_timeout, c.pair_timeout, c.connect_timeout));
  }
  if (c.disconnected_timeout >= c.consent_timeout) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ice disconnected_timeout %d ns must be below consent_timeout %d ns",
                        c.disconnected_timeout, c.consent_timeout));
  }
  return absl::OkStatus();
}

}  // namespace

const char* ice_state_name(IceState s) {
  switch (s) {
    case IceState::kNew:
      return "new";
    case IceState::kConnected:
      return "connected";
    case IceState::kDisconnected:
      return "disconnected";
    case IceState::kFailed:
      return "failed";
    case IceState::kClosed:
      return "closed";
  }
  return "unknown";
}

const char* ice_event_name(IceEventType t) {
  switch (t) {
    case IceEventType::kSelectedPairChanged:
      return "selected_pair_changed";
    case IceEventType::kConnected:
      return "connected";
    case IceEventType::kDisconnected:
      return "disconnected";
    case IceEventType::kFailed:
      return "failed";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<IceLiteAgent::Generation>> IceLiteAgent::make_generation(
    IceCredentials local, IceCredentials remote, uint32_t id) {
  absl::Status s = local.validate();
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("local ", s.message()));
  if (!remote.empty()) {
    s = remote.validate();
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("remote ", s.message()));
  }
  // Short-term credential (RFC 8489 §9.1.1): key = OpaqueString(pwd), the
  // identity for ice-chars. Prepared once here, reused by every check.
  absl::StatusOr<MessageIntegrity> key =
      MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, absl::string_view(local.pwd));
  if (!key.ok()) return key.status();
  return std::unique_ptr<Generation>(
      new Generation{std::move(local), std::move(remote), std::move(*key), id});
}

absl::StatusOr<std::unique_ptr<IceLiteAgent>> IceLiteAgent::create(IceCredentials local,
                                                                   IceCredentials remote,
                                                                   IceLiteConfig cfg, Nanos now) {
  absl::Status s = validate_config(cfg);
  if (!s.ok()) return s;
  auto gen = make_generation(std::move(local), std::move(remote), 0);
  if (!gen.ok()) return gen.status();
  return std::unique_ptr<IceLiteAgent>(new IceLiteAgent(std::move(*gen), cfg, now));
}

IceLiteAgent::IceLiteAgent(std::unique_ptr<Generation> gen, IceLiteConfig cfg, Nanos now)
    : cfg_(cfg), cur_(std::move(gen)), created_(now) {
  pairs_.reserve(cfg_.max_pairs);
}

IceLiteAgent::~IceLiteAgent() {
  if (demux_ != nullptr) demux_->remove(this);
}

absl::Status IceLiteAgent::set_remote_credentials(IceCredentials remote) {
  if (state_ == IceState::kClosed) return absl::FailedPreconditionError("ice agent closed");
  absl::Status s = remote.validate();
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("remote ", s.message()));
  cur_->remote = std::move(remote);
  return absl::OkStatus();
}

absl::Status IceLiteAgent::restart(IceCredentials local, IceCredentials remote, Nanos now) {
  if (state_ == IceState::kClosed) return absl::FailedPreconditionError("ice agent closed");
  for (const Generation* g : {cur_.get(), prev_.get()}) {
    if (g == nullptr) continue;
    if (local.ufrag == g->local.ufrag || local.pwd == g->local.pwd) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "ice restart: local ufrag \"%s\" and pwd must both differ from the ones in use "
          "(RFC 8445 §9)",
          local.ufrag));
    }
  }
  auto gen = make_generation(std::move(local), std::move(remote), next_generation_);
  if (!gen.ok()) return gen.status();
  if (demux_ != nullptr && !demux_->add_ufrag((*gen)->local.ufrag, this)) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "ice restart: ufrag \"%s\" is in use by another transport", (*gen)->local.ufrag));
  }
  ++next_generation_;

  if (state_ == IceState::kConnected || state_ == IceState::kDisconnected) {
    // Media keeps flowing on the selected pair with the credentials it was
    // validated with until the new generation nominates.
    if (prev_ == nullptr) {
      prev_ = std::move(cur_);
    } else {
      // Restart again before the last one finished: that generation never
      // nominated; forget it and its pairs (the selected pair stays, it
      // belongs to prev_ as far as credentials go).
      if (demux_ != nullptr) demux_->remove_ufrag(cur_->local.ufrag, this);
      for (int i = int(pairs_.size()) - 1; i >= 0; --i) {
        if (pairs_[i].generation != cur_->id) continue;
        if (i == selected_) {
          pairs_[i].generation = prev_->id;
        } else {
          remove_pair_at(i);
        }
      }
    }
    cur_ = std::move(*gen);
    return absl::OkStatus();
  }
  // kNew or kFailed: nothing in use, start over.
  if (demux_ != nullptr) {
    demux_->remove_ufrag(cur_->local.ufrag, this);
    if (prev_ != nullptr) demux_->remove_ufrag(prev_->local.ufrag, this);
  }
  prev_.reset();
  drop_all_pairs();
  cur_ = std::move(*gen);
  state_ = IceState::kNew;
  created_ = now;
  return absl::OkStatus();
}

void IceLiteAgent::close() {
  if (state_ == IceState::kClosed) return;
  drop_all_pairs();
  if (demux_ != nullptr) demux_->remove(this);
  state_ = IceState::kClosed;
}

int IceLiteAgent::find_pair(const CandidatePair& p) const {
  for (size_t i = 0; i < pairs_.size(); ++i) {
    if (pairs_[i].tuple == p) return int(i);
  }
  return -1;
}

int IceLiteAgent::add_pair(const CandidatePair& p, Nanos now) {
  if (pairs_.size() >= cfg_.max_pairs) {
    int victim = -1;
    for (int i = 0; i < int(pairs_.size()); ++i) {
      if (i == selected_) continue;
      if (victim < 0 || pairs_[i].last_check < pairs_[victim].last_check) victim = i;
    }
    remove_pair_at(victim);  // max_pairs >= 2, so a non-selected pair exists
    stats_.pairs_evicted.add();
  }
  Pair np;
  np.tuple = p;
  np.last_check = now;
  pairs_.push_back(np);  // within the reserved capacity: no allocation
  stats_.pairs_created.add();
  if (demux_ != nullptr) demux_->add_tuple(p, this);
  return int(pairs_.size()) - 1;
}

void IceLiteAgent::remove_pair_at(int i) {
  if (demux_ != nullptr) demux_->remove_tuple(pairs_[i].tuple, this);
  const int last = int(pairs_.size()) - 1;
  if (selected_ == i) selected_ = -1;
  if (i != last) {
    pairs_[i] = pairs_[last];
    if (selected_ == last) selected_ = i;
  }
  pairs_.pop_back();
}

void IceLiteAgent::drop_all_pairs() {
  for (int i = int(pairs_.size()) - 1; i >= 0; --i) remove_pair_at(i);
  selected_ = -1;
}

void IceLiteAgent::finish_restart() {
  if (demux_ != nullptr) demux_->remove_ufrag(prev_->local.ufrag, this);
  for (int i = int(pairs_.size()) - 1; i >= 0; --i) {
    if (i != selected_ && pairs_[i].generation == prev_->id) remove_pair_at(i);
  }
  prev_.reset();
}

void IceLiteAgent::fail(IceEvents* events) {
  state_ = IceState::kFailed;
  drop_all_pairs();
  if (events != nullptr) events->push(IceEventType::kFailed, this, last_selected_);
}

CheckVerdict IceLiteAgent::handle_check(const stun::StunMessage& msg, Packet* pkt, Nanos now,
                                        IceEvents* events) {
  if (!msg.valid() || msg.method() != stun::kMethodBinding ||
      msg.cls() != stun::StunClass::kRequest) {
    stats_.drops.add(Drop::kStunUnknownMethod);
    return CheckVerdict::kDrop;
  }
  if (state_ == IceState::kFailed || state_ == IceState::kClosed) {
    stats_.ignored_failed.add();
    return CheckVerdict::kDrop;
  }
  if (!pkt->remote.is_v4() && !pkt->remote.is_v6()) {
    stats_.drops.add(Drop::kUnsupportedL3);
    return CheckVerdict::kDrop;
  }
  Reply r;
  std::memcpy(r.txid, msg.transaction_id(), sizeof(r.txid));
  Counter* error_counter = nullptr;

  // 1. Structure. A wrong FINGERPRINT means "not STUN" (RFC 8489 §7.3):
  // silence. A missing one, USERNAME or MESSAGE-INTEGRITY: 400.
  const Generation* gen = nullptr;
  stun::Attribute user;
  if (msg.has_fingerprint() && !msg.verify_fingerprint()) {
    stats_.drops.add(Drop::kStunFingerprint);
    return CheckVerdict::kDrop;
  }
  if (!msg.has_fingerprint() || !msg.find(stun::attr::kUsername, &user) ||
      !msg.has(stun::attr::kMessageIntegrity)) {
    r.code = 400;
    r.reason = kReason400;
    error_counter = &stats_.bad_request;
  } else {
    // 2. USERNAME = "<local ufrag>:<remote ufrag>" of a live generation.
    const absl::string_view name(reinterpret_cast<const char*>(user.value), user.length);
    const size_t colon = name.find(':');
    if (colon != absl::string_view::npos) {
      const absl::string_view lfrag = name.substr(0, colon);
      const absl::string_view rfrag = name.substr(colon + 1);
      for (const Generation* g : {cur_.get(), prev_.get()}) {
        if (g != nullptr && lfrag == g->local.ufrag &&
            (g->remote.ufrag.empty() || rfrag == g->remote.ufrag)) {
          gen = g;
          break;
        }
      }
    }
    // 3. MESSAGE-INTEGRITY with that generation's prepared key.
    if (gen == nullptr || msg.verify_integrity(gen->key) != stun::IntegrityCheck::kOk) {
      gen = nullptr;
      r.code = 401;
      r.reason = kReason401;
      error_counter = &stats_.unauthorized;
    }
  }
  // Authenticated from here on: errors are signed.
  uint32_t priority = 0;
  if (gen != nullptr) {
    r.key = &gen->key;
    stun::Attribute a;
    if (!msg.unknown_required().empty()) {  // 4.
      r.code = 420;
      r.reason = kReason420;
      r.unknown = msg.unknown_required();
      error_counter = &stats_.unknown_attributes;
    } else if (!msg.find(stun::attr::kPriority, &a) || a.length != 4) {  // 5.
      r.code = 400;
      r.reason = kReason400;
      error_counter = &stats_.bad_request;
    } else {
      priority = load_be32(a.value);
      if (msg.find(stun::attr::kIceControlled, &a)) {  // 6.
        if (a.length != 8) {
          r.code = 400;
          r.reason = kReason400;
          error_counter = &stats_.bad_request;
        } else if (kLiteTieBreaker >= load_be64(a.value)) {
          r.code = 487;
          r.reason = kReason487;
          error_counter = &stats_.role_conflicts;
        }
        // else: the rule says switch to controlling, which a lite agent
        // never does; unreachable with kLiteTieBreaker = 2^64-1.
      }
    }
  }
  const CandidatePair tuple{pkt->remote, pkt->local};
  if (r.code == 0) {
    for (const Pair& q : pairs_) {
      if (q.tuple != tuple && std::memcmp(q.last_txid, r.txid, sizeof(r.txid)) == 0) {
        stats_.replays.add();
        return CheckVerdict::kDrop;
      }
    }
  }
  if (!fits(*pkt, reply_size(r, pkt->remote))) {
    stats_.drops.add(Drop::kNoBuffer);  // before any state change
    return CheckVerdict::kDrop;
  }
  const bool use_candidate = msg.has(stun::attr::kUseCandidate);
  // The response overwrites the request: everything read from msg is read.
  if (!write_reply(r, pkt)) {
    stats_.drops.add(Drop::kNoBuffer);  // not reached: fits() covered it
    return CheckVerdict::kDrop;
  }
  if (r.code != 0) {
    error_counter->add();
    return CheckVerdict::kRespond;
  }

  // A valid check: the pair is valid (RFC 8445 §7.3.1.4: a lite agent
  // learns pairs from the checks it answers).
  stats_.checks.add();
  int i = find_pair(tuple);
  if (i < 0) i = add_pair(tuple, now);
  Pair& p = pairs_[i];
  p.last_check = now;
  p.generation = gen->id;
  p.remote_priority = priority;
  std::memcpy(p.last_txid, r.txid, sizeof(r.txid));
  if (use_candidate) {
    stats_.nominations.add();
    if (selected_ != i) {
      selected_ = i;
      last_selected_ = tuple;
      stats_.selected_changes.add();
      if (events != nullptr) events->push(IceEventType::kSelectedPairChanged, this, tuple);
    }
    selected_last_check_ = now;
    if (state_ != IceState::kConnected) {
      state_ = IceState::kConnected;
      if (events != nullptr) events->push(IceEventType::kConnected, this, tuple);
    }
    if (prev_ != nullptr && gen == cur_.get()) finish_restart();
  } else if (i == selected_) {
    // Consent freshness (RFC 7675): any authenticated check on the selected
    // pair, nominating or not.
    selected_last_check_ = now;
    if (state_ == IceState::kDisconnected) {
      state_ = IceState::kConnected;
      if (events != nullptr) events->push(IceEventType::kConnected, this, tuple);
    }
  }
  return CheckVerdict::kRespond;
}

Nanos IceLiteAgent::next_deadline() const {
  if (state_ == IceState::kFailed || state_ == IceState::kClosed) return kNever;
  Nanos d = kNever;
  if (state_ == IceState::kNew && cfg_.connect_timeout > 0) d = created_ + cfg_.connect_timeout;
  if (selected_ >= 0) {
    d = std::min(
        d, selected_last_check_ +
               (state_ == IceState::kConnected ? cfg_.disconnected_timeout : cfg_.consent_timeout));
  }
  for (int i = 0; i < int(pairs_.size()); ++i) {
    if (i != selected_) d = std::min(d, pairs_[i].last_check + cfg_.pair_timeout);
  }
  return d;
}

void IceLiteAgent::on_timer(Nanos now, IceEvents* events) {
  if (state_ == IceState::kFailed || state_ == IceState::kClosed) return;
  for (int i = int(pairs_.size()) - 1; i >= 0; --i) {
    if (i != selected_ && now >= pairs_[i].last_check + cfg_.pair_timeout) {
      remove_pair_at(i);
      stats_.pairs_expired.add();
    }
  }
  if (state_ == IceState::kNew) {
    if (cfg_.connect_timeout > 0 && now >= created_ + cfg_.connect_timeout) fail(events);
    return;
  }
  // kConnected or kDisconnected: selected_ >= 0.
  if (now >= selected_last_check_ + cfg_.consent_timeout) {
    fail(events);  // RFC 7675 §5.1: consent lost
  } else if (state_ == IceState::kConnected &&
             now >= selected_last_check_ + cfg_.disconnected_timeout) {
    state_ = IceState::kDisconnected;
    if (events != nullptr) events->push(IceEventType::kDisconnected, this, last_selected_);
  }
}

}  // namespace ice
}  // namespace tern
