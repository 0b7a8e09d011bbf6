// tern-loadgen: the server under test, behind one interface, so every
// scenario runs unchanged against ternd (its JSON-RPC control socket) and
// Janus (the VideoRoom plugin over Janus's HTTP API). A target turns "this
// endpoint publishes / subscribes in room R" into the signalling of that
// server and hands back what the endpoint needs to connect: the server's
// ICE credentials, DTLS fingerprint and host candidate, and the SSRCs it
// will send a subscriber.
//
// Control plane only: the calls block and run between measurement windows,
// on the loadgen's one thread.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/loadgen/offer.h"
#include "engine/dtls/srtp_profile.h"

namespace tern::loadgen {

using ExpectedStream = OfferedStream;

struct Joined {
  std::string id;  // the target's name for this endpoint (for close())
  AnswerInfo remote;
  std::vector<ExpectedStream> streams;  // subscriber: what the server will send
  // Set by a target without ICE and DTLS (the reflector): SRTP with these
  // keys towards remote.server from the start.
  std::optional<SrtpKeyingMaterial> keys;
};

// The server's own account of its work since it started, when it keeps one
// (ternd: its workers' busy time and packet counts from stats.get). A
// poll-mode worker's process CPU time says little (it spins between bursts);
// busy time is what its bursts cost.
struct ServerWork {
  double busy_s = 0;
  uint64_t rx_packets = 0, tx_packets = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;  // "ternd", "janus"
  // Connects and returns the server's pid for CPU accounting (0: unknown).
  virtual absl::StatusOr<int> connect() = 0;
  // `op` comes from Peer::offer_params() (publisher: its SSRCs and kinds).
  virtual absl::StatusOr<Joined> publish(const std::string& room, const OfferParams& op) = 0;
  // Receive every publisher of `room` except the one `exclude_id` names
  // (an audio conference participant does not receive itself).
  virtual absl::StatusOr<Joined> subscribe(const std::string& room, const OfferParams& op,
                                           const std::string& exclude_id) = 0;
  virtual absl::Status close(const std::string& id) = 0;
  virtual std::optional<ServerWork> work() { return std::nullopt; }
};

// http://HOST:PORT/PATH, split (plain HTTP only; PATH defaults to "").
struct HttpUrl {
  std::string host;
  int port = 80;
  std::string path;
};
absl::StatusOr<HttpUrl> parse_http_url(const std::string& flag, const std::string& url);

std::unique_ptr<Target> make_ternd_target(const std::string& control_socket);
// url: http://HOST:PORT/janus (plain HTTP; Janus's REST transport).
std::unique_ptr<Target> make_janus_target(const std::string& url);
// url: http://HOST:PORT, the server's WHIP (POST /whip/{room}) and WHEP
// (POST /whep/{room}) endpoints as ternd serves them; token: bearer or "".
std::unique_ptr<Target> make_whip_target(const std::string& url, const std::string& token);
// host_port: IPv4 "A.B.C.D:PORT" of a UDP reflector (echoes every datagram
// to its sender); key_hex: 60 hex digits (16-byte master key, 14-byte salt,
// AES_CM_128_HMAC_SHA1_80), "" = a random key per run.
std::unique_ptr<Target> make_reflector_target(const std::string& host_port,
                                              const std::string& key_hex);

}  // namespace tern::loadgen
