// IceLiteAgent: the ICE-lite side of RFC 8445 (§2.5, §7.3, §8.2) for one
// transport, with consent freshness (RFC 7675). Sans-IO: it takes a parsed
// STUN Binding request, the packet it came in (5-tuple, buffer) and `now`,
// writes the response IN PLACE into that packet, and reports events and a
// deadline. It never reads a clock or touches a socket.
//
// Role: a lite agent is always controlled (§6.1.1: against a lite peer the
// full agent MUST be controlling; two lite agents never send checks, so
// whoever sends us a check is a full, controlling agent). It never sends
// checks; it answers them and learns candidate pairs from them.
//
// A check (Binding request) is accepted when, in this order (each failure is
// answered, no state is touched before step 3 passes):
//   1. FINGERPRINT present and right (wrong: silent drop, it is not STUN;
//      absent: 400), USERNAME and MESSAGE-INTEGRITY present (else 400,
//      RFC 8489 §9.1.3);
//   2. USERNAME = "<local ufrag>:<remote ufrag>" for the current credentials
//      or, during an ICE restart, the previous ones. The remote part is
//      checked once the remote ufrag is known; before that (a check racing
//      the SDP answer, §7.3 / RFC 8839 §4.4.1) any remote part is accepted;
//   3. MESSAGE-INTEGRITY (HMAC-SHA1, short-term key = local pwd) verifies.
//   Steps 2 and 3 fail with 401 without MESSAGE-INTEGRITY (we have no key
//   the peer shares). From here the request is authenticated, and error
//   responses carry MESSAGE-INTEGRITY:
//   4. no unknown comprehension-required attribute (else 420);
//   5. PRIORITY present (else 400, §7.1.1 makes it mandatory);
//   6. role: ICE-CONTROLLED means the peer also believes it is controlled
//      (§7.3.1.1). The tie-breaker rule is applied with the lite agent's
//      tie-breaker fixed at 2^64-1: a lite agent cannot take the controlling
//      role (it sends no checks and cannot nominate), so "ours >= theirs"
//      always holds and the answer is always 487: the peer switches to
//      controlling (§7.2.5.1) and retries. ICE-CONTROLLING is the normal case.
//      A request with neither (an RFC 5245-era agent) is accepted.
// Success: response with XOR-MAPPED-ADDRESS = the packet's source,
// MESSAGE-INTEGRITY (local pwd), FINGERPRINT; the pair (remote x local
// endpoint) becomes valid. USE-CANDIDATE nominates it: the most recently
// nominated pair is the selected one (so a controlling agent that renominates
// after a network change moves us at once), kSelectedPairChanged reports
// the switch.
//
// Timers (next_deadline(), on_timer()): see IceLiteConfig. States:
//   kNew --nomination--> kConnected <--check on selected pair-- kDisconnected
//   kConnected --no check on selected pair for disconnected_timeout--> kDisconnected
//   kConnected/kDisconnected --no check on selected pair for consent_timeout--> kFailed
//   kNew --no nomination within connect_timeout--> kFailed
// kFailed (consent lost, RFC 7675 §5.1) drops every pair and ignores checks
// (they time out at the peer, whose own consent then fails too) until
// restart(). kClosed is final.
//
// ICE restart (§9): restart(new local, new remote) keeps the old credentials
// and pairs working, so media keeps flowing, until a check with the NEW
// credentials carries USE-CANDIDATE; then the old credentials and every pair
// last validated only with them are dropped.
//
// Replays: MESSAGE-INTEGRITY covers the transaction id but not the source
// address, so an on-path attacker could re-send a captured check from other
// (spoofed) addresses. A valid check whose transaction id is the last one
// seen on ANOTHER pair is dropped silently (counted `replays`): peers use a
// fresh id per transaction and retransmit from the same 5-tuple. Older
// captures are not caught (see docs/ice.md).
//
// Memory: at most max_pairs pairs (16 by default), reserved at create().
// Only authenticated checks create pairs; when the table is full the least
// recently checked non-selected pair is evicted, so even a replayed check
// sprayed from spoofed sources cannot grow memory.
//
// Hot path: handle_check(), on_timer() allocate nothing, take no lock, log
// nothing; errors are counters in stats(). Every other method is control
// plane. One owner thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/net/counters.h"
#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/stun/ice_credentials.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"

namespace tern {
namespace ice {

class IceLiteDemux;
class IceLiteAgent;

// The 5-tuple of a UDP candidate pair: remote = the peer's address the check
// came from, local = the real local address it arrived on (Packet::local).
struct CandidatePair {
  Endpoint remote;
  Endpoint local;
  bool operator==(const CandidatePair& o) const { return remote == o.remote && local == o.local; }
  bool operator!=(const CandidatePair& o) const { return !(*this == o); }
  template <typename H>
  friend H AbslHashValue(H h, const CandidatePair& p) {
    return H::combine(std::move(h), p.remote, p.local);
  }
};

enum class IceState : uint8_t { kNew, kConnected, kDisconnected, kFailed, kClosed };
const char* ice_state_name(IceState s);

enum class IceEventType : uint8_t {
  kSelectedPairChanged,  // pair = the new selected pair
  kConnected,            // pair = selected; from kNew or kDisconnected
  kDisconnected,         // pair = selected; no check for disconnected_timeout
  kFailed,               // pair = last selected (empty if none); consent lost or never connected
};
const char* ice_event_name(IceEventType t);

struct IceEvent {
  IceEventType type;
  IceLiteAgent* agent;
  CandidatePair pair;
};

// Events out of one call, fixed capacity (no allocation). One call produces
// at most 2 (kSelectedPairChanged + kConnected); the caller may collect a
// whole burst and drain it after. A full buffer counts `lost`.
struct IceEvents {
  static constexpr size_t kCapacity = 64;
  IceEvent ev[kCapacity];
  uint32_t count = 0;
  uint32_t lost = 0;
  void push(IceEventType t, IceLiteAgent* a, const CandidatePair& p) {
    if (count < kCapacity) {
      ev[count++] = IceEvent{t, a, p};
    } else {
      ++lost;
    }
  }
  void clear() { count = lost = 0; }
  const IceEvent* begin() const { return ev; }
  const IceEvent* end() const { return ev + count; }
};

struct IceLiteConfig {
  // RFC 7675 §5.1: consent expires 30 s after the last authenticated check
  // on the selected pair; the transport is then failed.
  Nanos consent_timeout = 30 * kSecond;
  // Selected pair silent this long -> kDisconnected (a hint, media may still
  // flow). RFC 7675 senders check every 4-6 s (5 s +-20%), Chrome every
  // 2.5 s on a stable pair; 10 s tolerates one lost check at the slowest
  // interval without flapping.
  Nanos disconnected_timeout = 10 * kSecond;
  // kNew with no nomination this long after create() -> kFailed. 0 = never.
  Nanos connect_timeout = 30 * kSecond;
  // A non-selected pair with no check this long is removed.
  Nanos pair_timeout = 30 * kSecond;
  // Candidate pairs kept (2..256): a browser checks a handful of pairs
  // per transport; the bound stops spoofed replays growing memory.
  uint32_t max_pairs = 16;
};

// Owner thread writes, anyone reads (relaxed atomics).
struct IceAgentStats {
  Counter checks;              // authenticated checks answered with success
  Counter nominations;         // of those, with USE-CANDIDATE
  Counter selected_changes;    // kSelectedPairChanged events
  Counter bad_request;         // 400 sent
  Counter unauthorized;        // 401 sent (bad USERNAME or MESSAGE-INTEGRITY)
  Counter unknown_attributes;  // 420 sent
  Counter role_conflicts;      // 487 sent
  Counter pairs_created;
  Counter pairs_evicted;   // table full, least recently checked dropped
  Counter pairs_expired;   // pair_timeout
  Counter ignored_failed;  // checks dropped in kFailed / kClosed
  Counter replays;         // valid check whose transaction id another pair just used
  DropCounters drops;      // kStunFingerprint, kNoBuffer, kStunUnknownMethod, kUnsupportedL3
};

enum class CheckVerdict : uint8_t {
  kRespond,  // the packet now holds the response: send it (remote/local unchanged)
  kDrop,     // free the packet (reason counted in stats())
};

class IceLiteAgent {
 public:
  // `remote` may be empty (ufrag and pwd both ""): the peer's credentials
  // arrive later with set_remote_credentials(). Prepares the HMAC key.
  static absl::StatusOr<std::unique_ptr<IceLiteAgent>> create(IceCredentials local,
                                                              IceCredentials remote,
                                                              IceLiteConfig cfg, Nanos now);
  ~IceLiteAgent();  // detaches from its demux
  IceLiteAgent(const IceLiteAgent&) = delete;
  IceLiteAgent& operator=(const IceLiteAgent&) = delete;

  // The peer's credentials for the current generation (from its offer or
  // answer). Validated; an error names the field.
  absl::Status set_remote_credentials(IceCredentials remote);

  // ICE restart (RFC 8445 §9): both local ufrag and pwd must change. Old
  // credentials keep answering until a new-credential check nominates.
  // Restarting again before that discards the unfinished generation. From
  // kFailed it starts over (state kNew, connect_timeout from `now`).
  // AlreadyExists if the demux has the new ufrag on another agent.
  absl::Status restart(IceCredentials local, IceCredentials remote, Nanos now);

  // Final: drops every pair and demux entry; later checks are dropped.
  void close();

  // --- hot path ---
  // `msg` is pkt's payload parsed (a Binding request); pkt->remote/local the
  // 5-tuple. Builds the answer in place in pkt's buffer, or says to drop.
  // Appends events to `events` (may be null: events are then lost).
  CheckVerdict handle_check(const stun::StunMessage& msg, Packet* pkt, Nanos now,
                            IceEvents* events);

  // Earliest time on_timer() has work: kNever when none. Only moves later
  // after handle_check(), except when a check creates the first pair or
  // selects a pair, so the caller re-arms if it went earlier.
  Nanos next_deadline() const;
  // Runs due timers (consent, disconnect, pair expiry, connect timeout).
  // Calling it early or twice is harmless.
  void on_timer(Nanos now, IceEvents* events);

  // --- queries ---
  IceState state() const { return state_; }
  // Null before the first nomination and after failure.
  const CandidatePair* selected_pair() const {
    return selected_ < 0 ? nullptr : &pairs_[selected_].tuple;
  }
  const IceCredentials& local_credentials() const { return cur_->local; }
  const IceCredentials& remote_credentials() const { return cur_->remote; }
  bool restarting() const { return prev_ != nullptr; }
  size_t pair_count() const { return pairs_.size(); }
  bool has_pair(const CandidatePair& p) const { return find_pair(p) >= 0; }
  const IceLiteConfig& config() const { return cfg_; }
  const IceAgentStats& stats() const { return stats_; }

  // Opaque owner pointer (the transport), for mapping events back. Never
  // read by the agent.
  void* user_data = nullptr;

 private:
  friend class IceLiteDemux;

  struct Generation {
    IceCredentials local;
    IceCredentials remote;
    MessageIntegrity key;  // HMAC-SHA1 of local.pwd, prepared once
    uint32_t id;
  };
  struct Pair {
    CandidatePair tuple;
    Nanos last_check = 0;
    uint32_t generation = 0;  // id of the last generation that validated it
    uint32_t remote_priority = 0;
    uint8_t last_txid[stun::kTransactionIdSize] = {};  // of the last valid check
  };

  IceLiteAgent(std::unique_ptr<Generation> gen, IceLiteConfig cfg, Nanos now);
  static absl::StatusOr<std::unique_ptr<Generation>> make_generation(IceCredentials local,
                                                                     IceCredentials remote,
                                                                     uint32_t id);

  int find_pair(const CandidatePair& p) const;
  // Adds (evicting if full); returns the index. Demux entry added.
  int add_pair(const CandidatePair& p, Nanos now);
  void remove_pair_at(int i);  // demux entry removed; fixes selected_
  void drop_all_pairs();
  void finish_restart();
  void fail(IceEvents* events);

  IceLiteConfig cfg_;
  std::unique_ptr<Generation> cur_;
  std::unique_ptr<Generation> prev_;  // during a restart: the one still in use
  uint32_t next_generation_ = 1;
  IceState state_ = IceState::kNew;
  Nanos created_ = 0;  // or restarted from kFailed
  Nanos selected_last_check_ = 0;
  int selected_ = -1;              // index into pairs_
  CandidatePair last_selected_{};  // for kFailed events after pairs are gone
  std::vector<Pair> pairs_;        // capacity max_pairs, reserved at create()
  IceLiteDemux* demux_ = nullptr;
  IceAgentStats stats_;
};

}  // namespace ice
}  // namespace tern
