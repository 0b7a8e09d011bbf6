// TurnServer: the TURN server core (RFC 8656, with RFC 6156 address families)
// for one worker. Sans-IO: it takes packets and `now`, rewrites packets in
// place, and tells its caller which relayed ports to open or close through
// RelayPortHooks (control path, once per Allocate / deallocation).
//
// What a worker calls, per datagram (each returns true when the packet was
// rewritten in place and must be SENT — to pkt->remote from pkt->local — and
// false when it must be freed, the reason counted in stats().drops):
//   handle_stun(pkt)          STUN of a TURN method from a client (Allocate,
//                             Refresh, CreatePermission, ChannelBind
//                             requests; Send indications)
//   handle_channel_data(pkt)  ChannelData from a client (first byte 64..79)
//   handle_peer(pkt)          any datagram that arrived on a relayed port
//                             (is_relay_port(pkt->local.port))
//   poll(now)                 expiry sweep; returns the next deadline
//
// Fast path (no copy, no allocation, no lock):
//   client -> peer, ChannelData: the 4-byte header is stripped in place
//     (Packet::adj), remote := peer, local := relayed address.
//   client -> peer, Send indication: the packet is trimmed to the DATA value.
//   peer -> client with a channel: 4 bytes prepended in headroom.
//   peer -> client without a channel: a Data indication is built around the
//     payload: STUN header + XOR-PEER-ADDRESS + DATA attribute header
//     (20 + 12 + 4 = 36 bytes for an IPv4 peer, 20 + 24 + 4 = 48 for IPv6)
//     prepended in headroom, 0..3 zero padding bytes appended in tailroom.
//   In every case remote := client, local := the server address the client
//   talks to.
// Lookups: client 5-tuple -> allocation in a flat hash map reserved for
// max_allocations at construction; relayed port -> allocation in a flat
// array over this worker's port range; permissions (<= kMaxPermissions) and
// channels (<= kMaxChannels) in small fixed arrays per allocation.
//
// Transport: UDP, and TCP/TLS through a framing layer (stream_framer.h,
// drivers/socket/tcp_turn_listener.h) that splits the stream into STUN /
// ChannelData messages and calls the same handlers with Transport::kTcp
// (TLS is TCP here). The allocation remembers the client's transport with
// its 5-tuple (the TCP connection's addresses); ChannelData towards a TCP
// client is padded to a multiple of 4 (§12.5), and handle_peer() says which
// transport a packet for the client goes out on.
//
// Threading: one TurnServer per worker thread, never shared (no locks);
// stats() may be read by any thread (relaxed atomics).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/net/counters.h"
#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/turn/peer_policy.h"
#include "engine/turn/turn_auth.h"

namespace tern {

struct Reservation;

enum class Transport : uint8_t { kUdp = 0, kTcp = 1 };

// Per worker. ternd builds it from [turn] (control/turn_config.h).
struct TurnServerConfig {
  std::string realm = "tern";
  std::vector<std::pair<std::string, std::string>> users;  // static long-term (user, password)
  std::vector<std::string> rest_secrets;                   // TURN REST API shared secrets
  // Relayed addresses: at most one IPv4 and one IPv6 (port ignored). A
  // concrete address: it is what XOR-RELAYED-ADDRESS tells the client.
  std::vector<Endpoint> relay_addresses;
  uint16_t relay_port_min = 49152;  // this worker's relayed ports, inclusive
  uint16_t relay_port_max = 49407;
  std::vector<Cidr> allow_peers;  // see peer_policy.h
  std::vector<Cidr> deny_peers;
  // The node's own listening endpoints (the SFU's media ports, which are also
  // TURN's UDP ports). Accepted as peers like any address the policy allows:
  // that is how a browser forced through TURN reaches this node's SFU.
  std::vector<Endpoint> listen;
  uint32_t max_allocations = 1024;         // this worker; beyond: 508
  uint32_t max_allocations_per_user = 16;  // beyond: 486 (per worker)
  uint64_t bandwidth_bytes_per_s = 0;      // per allocation, both directions; 0 = unlimited
  uint32_t default_lifetime_s = 600;       // RFC 8656 §7.2
  uint32_t max_lifetime_s = 3600;
  uint32_t permission_lifetime_s = 300;  // §9
  uint32_t channel_lifetime_s = 600;     // §12
  uint32_t nonce_lifetime_s = 600;
  uint32_t reservation_lifetime_s = 30;  // EVEN-PORT R=1 reservations
  // Channel numbers 0x4000-0x7FFF (RFC 5766) instead of RFC 8656's
  // 0x4000-0x4FFF. On by default: libwebrtc and coturn's clients still pick
  // numbers up to 0x7FFF, and on tern's port the first bytes 0x50-0x7F are
  // otherwise unused (RFC 7983 leaves them unassigned).
  bool legacy_channel_range = true;
  std::string software;  // SOFTWARE in success responses; empty = omit
  // Per-process secret for nonces and reservation tokens (>= 16 bytes).
  // Every worker of a process gets the same one (nonces work on any worker).
  std::vector<uint8_t> secret;
};

// Checks a TurnServerConfig; errors name the turn.* key.
absl::Status validate_turn_server_config(const TurnServerConfig& cfg);

// Written by the owning worker only; read by anyone.
struct TurnStats {
  Counter requests, responses_ok, responses_error;
  Counter auth_challenges;  // 401 without credentials (normal first round trip)
  Counter auth_failures;    // 401 with credentials, 438
  Counter allocations_created, allocations_deleted, allocations_expired;
  Counter permissions_created, channels_bound;
  Counter to_peer_packets, to_peer_bytes;      // client -> peer
  Counter to_client_packets, to_client_bytes;  // peer -> client
  Counter send_indications, data_indications;
  DropCounters drops;
};

// How the core asks its I/O shell for relayed ports. Called on the worker
// thread, on the control path (Allocate, deallocation, reservation expiry).
class RelayPortHooks {
 public:
  virtual ~RelayPortHooks() = default;
  // Starts receiving datagrams sent to `relayed` (address + port). False if
  // the port cannot be opened (the core tries another one, then answers 508).
  virtual bool open_relay_port(const Endpoint& relayed) = 0;
  virtual void close_relay_port(const Endpoint& relayed) = 0;
};

class TurnServer {
 public:
  static constexpr int kMaxPermissions = 16;  // per allocation; beyond: 508
  static constexpr int kMaxChannels = 16;     // per allocation; beyond: 508
  static constexpr int kMaxReservations = 64;
  // Error responses are at most this much larger than the request they answer.
  static constexpr size_t kMaxErrorGrowth = 192;

  // `hooks` may be null (tests, benchmarks): every port opens.
  static absl::StatusOr<std::unique_ptr<TurnServer>> create(TurnServerConfig cfg,
                                                            RelayPortHooks* hooks = nullptr);
  ~TurnServer();

  bool handle_stun(Packet* pkt, Nanos now, Transport t = Transport::kUdp);
  bool handle_channel_data(Packet* pkt, Nanos now, Transport t = Transport::kUdp);
  // `client_transport` (optional) tells where a packet returning true goes:
  // kUdp through the driver, kTcp to the stream connection whose 5-tuple is
  // (pkt->remote, pkt->local) (TURN over TCP/TLS).
  bool handle_peer(Packet* pkt, Nanos now, Transport* client_transport = nullptr);

  // Stream transports (TCP/TLS), control path: the connection `client` ->
  // `server` closed, so its allocation (if any) is deleted at once (its
  // 5-tuple can never be used again). Returns true if one was.
  bool close_client(const Endpoint& client, const Endpoint& server, Transport t);
  // Whether that 5-tuple has a live allocation (a stream connection that
  // carries one is not closed for idleness).
  bool has_allocation(const Endpoint& client, const Endpoint& server, Transport t, Nanos now) const;

  // ChannelData with a number above 0x4FFF (first byte 0x50-0x7F, which
  // classify() leaves unknown) when legacy_channel_range is on.
  bool is_legacy_channel_data(const uint8_t* data, uint32_t len) const {
    return cfg_.legacy_channel_range && len != 0 && data[0] >= 0x50 && data[0] <= 0x7F;
  }
  // True when `e` is one of our relayed transport addresses with a live
  // allocation (the worker hands datagrams for it back to handle_peer
  // instead of the network; an expired one is then dropped there, counted).
  // Worker thread.
  bool is_relayed_address(const Endpoint& e) const;
  bool is_relay_port(uint16_t port) const {
    return port >= cfg_.relay_port_min && port <= cfg_.relay_port_max;
  }

  // Frees expired allocations (closing their ports), reservations, and
  // expired permissions/channels past their cool-down. Bounded work per call.
  // Returns when it wants to be called again.
  Nanos poll(Nanos now);

  // UNIX time = monotonic `now` + offset (REST usernames carry UNIX expiry
  // times; the core has no clock of its own). The worker refreshes it.
  void set_unix_offset(Nanos offset) { unix_offset_ = offset; }

  const TurnStats& stats() const { return stats_; }
  const TurnServerConfig& config() const { return cfg_; }
  uint32_t allocation_count() const { return active_; }
  size_t cached_rest_keys() const { return creds_->cached_rest_keys(); }

  struct Allocation;  // turn_server_internal.h

 private:
  TurnServer(TurnServerConfig cfg, RelayPortHooks* hooks);
  struct Request;
  friend struct TurnServerAccess;

  bool handle_request(Packet* pkt, Nanos now, Transport t, const class stun::StunMessage& msg);
  bool handle_send(Packet* pkt, Nanos now, Transport t, const class stun::StunMessage& msg);
  // Relays pkt (payload already trimmed) from allocation a to its client.
  bool to_client(Allocation& a, Packet* pkt, Nanos now);
  bool take_tokens(Allocation& a, uint32_t bytes, Nanos now);
  uint16_t channel_max() const { return cfg_.legacy_channel_range ? 0x7FFF : 0x4FFF; }

  // Tables (control path).
  int permission_slot(const Allocation& a, const Endpoint& ip, Nanos now,
                      bool include_expired) const;
  bool has_permission_room(const Allocation& a, Nanos now, int need) const;
  void install_permission(Allocation& a, const Endpoint& ip, Nanos now);
  bool pick_port(int family_index, bool even, bool reserve_next, Nanos now, Endpoint* out,
                 uint64_t* token);
  bool claim_port(const Endpoint& ep);
  void release_port(const Endpoint& ep);
  Reservation* find_reservation(uint64_t token, Nanos now);
  void expire_reservation(Reservation& r);
  void free_allocation(uint32_t idx);

  TurnServerConfig cfg_;
  RelayPortHooks* hooks_;
  PeerPolicy policy_;
  std::unique_ptr<NonceMaker> nonces_;
  std::unique_ptr<CredentialStore> creds_;
  Nanos unix_offset_ = 0;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint32_t active_ = 0;
  TurnStats stats_;
};

}  // namespace tern
