// Sessions from SDP: the layer WHIP/WHEP (control/http_gateway.h), the demo
// and any signalling service share (docs/control-protocol.md, session.*).
//
//   session.publish {room, offer}   -> a transport in the room (created on
//     demand: WHIP ingest defines the room) + one producer per accepted
//     audio/video m-line the browser sends; the answer is recvonly.
//   session.subscribe {room, offer, exclude_session?} -> a transport in the
//     (existing) room + one consumer per producer, matched to the offer's
//     recvonly m-lines by kind in order; unmatched m-lines are answered
//     with port 0 (JSEP §5.3.1); the answer is sendonly with a=msid/a=ssrc.
//   session.close {session_id}.
//
// A session owns its transport: closing the session closes the transport,
// which closes its producers and consumers (SfuManager cascades). A session
// whose transport fails (ICE/DTLS failure, the worker refused it) or is
// closed by the peer (close_notify) is closed the same way, with a
// "session" event. A room created by a publish closes with its last session.
//
// Single-threaded: ternd's main thread only (the HTTP gateway marshals its
// requests onto it).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/jsonrpc_registry.h"
#include "control/room_methods.h"
#include "control/sdp/sdp_negotiate.h"
#include "control/transport_methods.h"

namespace tern {

class SessionManager {
 public:
  using Publish = TransportManager::Publish;

  // At most this many sessions at once (each holds a transport with its
  // DTLS state): publish/subscribe beyond it fail with ResourceExhausted.
  static constexpr size_t kDefaultMaxSessions = 10000;

  SessionManager(TransportManager& transports, SfuManager& sfu,
                 sdp::Capabilities caps = sdp::Capabilities::defaults());
  void set_max_sessions(size_t n) { max_sessions_ = n; }
  ~SessionManager();

  void set_publish(Publish p) { publish_ = std::move(p); }
  absl::Status register_methods(jsonrpc::MethodRegistry& registry);

  // Results as in docs/control-protocol.md. Errors: InvalidArgument naming
  // params.offer / params.room (a bad SDP: the parser's or negotiator's
  // message), NotFound (subscribe: no room; close: no session),
  // FailedPrecondition (subscribe: nothing in the room the offer can
  // receive), Unavailable (a worker's command ring is full),
  // ResourceExhausted (max sessions).
  absl::StatusOr<jsonrpc::json> publish(const std::string& room, const std::string& offer);
  absl::StatusOr<jsonrpc::json> subscribe(const std::string& room, const std::string& offer,
                                          const std::string& exclude_session);
  absl::Status close(const std::string& session_id, const std::string& reason);
  absl::StatusOr<jsonrpc::json> get(const std::string& session_id) const;
  bool has(const std::string& session_id) const { return sessions_.count(session_id) != 0; }
  // The room a session is in, "" when unknown.
  std::string room_of(const std::string& session_id) const;
  size_t size() const { return sessions_.size(); }

 private:
  struct Session {
    std::string id;
    std::string room;
    bool publisher = true;
    uint64_t transport_id = 0;
    std::vector<uint64_t> producers;
    std::vector<uint64_t> consumers;
  };
  struct Local {
    uint16_t worker = 0;
    sdp::LocalParameters params;
  };
  absl::StatusOr<Local> local_for(uint16_t worker);
  absl::StatusOr<uint64_t> make_transport(const std::string& room, const Local& local,
                                          const sdp::NegotiationResult& r);
  std::string fresh_id();
  void transport_down(uint64_t transport_id, const std::string& reason);

  TransportManager& transports_;
  SfuManager& sfu_;
  sdp::Capabilities caps_;
  Publish publish_;
  std::map<std::string, Session> sessions_;
  size_t max_sessions_ = kDefaultMaxSessions;
  std::mt19937_64 rng_;
};

}  // namespace tern
