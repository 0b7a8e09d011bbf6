// Internals of TurnServer shared by its request (turn_server.cc), relay
// (turn_relay.cc) and table (turn_tables.cc) files. Not for other subsystems.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/turn/turn_server.h"

namespace tern {

struct ClientKey {
  Endpoint client;  // the client's address and port
  Endpoint server;  // our address and port it sent to
  Transport transport = Transport::kUdp;

  bool operator==(const ClientKey& o) const {
    return client == o.client && server == o.server && transport == o.transport;
  }
  template <typename H>
  friend H AbslHashValue(H h, const ClientKey& k) {
    return H::combine(std::move(h), k.client, k.server, k.transport);
  }
};

struct Permission {
  Endpoint addr;  // port 0: permissions are per IP address (§9)
  Nanos expiry = 0;
};

struct Channel {
  uint16_t number = 0;  // 0: slot never used
  Endpoint peer;
  Nanos expiry = 0;  // bound while now < expiry; number and peer blocked until expiry + cool-down
};

inline Nanos seconds(uint32_t s) { return Nanos{s} * kSecond; }

inline constexpr Nanos kChannelCooldown = 300 * kSecond;  // §12: 5 minutes

inline int family_index(Family f) { return f == Family::kIpv6 ? 1 : 0; }

struct TurnServer::Allocation {
  bool in_use = false;
  ClientKey key;
  Endpoint relay[2];  // [0] IPv4, [1] IPv6; family kNone when absent
  std::string username;
  Nanos expiry = 0;
  uint8_t txid[12]{};              // the Allocate that created it (retransmissions)
  uint64_t reservation_token = 0;  // handed out with it (EVEN-PORT R=1), 0 = none
  Permission perms[kMaxPermissions];
  uint8_t nperms = 0;
  Channel chans[kMaxChannels];
  uint8_t nchans = 0;
  int64_t tokens = 0;  // bandwidth bucket, bytes
  Nanos refill = 0;
  uint32_t next_free = UINT32_MAX;

  const Permission* find_permission(const Endpoint& peer, Nanos now) const {
    for (uint8_t i = 0; i < nperms; ++i) {
      const Permission& p = perms[i];
      if (p.expiry > now && p.addr.same_addr(peer)) return &p;
    }
    return nullptr;
  }
  const Channel* channel_by_number(uint16_t n, Nanos now) const {
    for (uint8_t i = 0; i < nchans; ++i) {
      if (chans[i].number == n && chans[i].expiry > now) return &chans[i];
    }
    return nullptr;
  }
  const Channel* channel_by_peer(const Endpoint& peer, Nanos now) const {
    for (uint8_t i = 0; i < nchans; ++i) {
      if (chans[i].expiry > now && chans[i].peer == peer) return &chans[i];
    }
    return nullptr;
  }
};

struct Reservation {
  uint64_t token = 0;  // 0: free slot
  Endpoint relay;
  Nanos expiry = 0;
};

inline constexpr uint32_t kPortFree = 0;
inline constexpr uint32_t kPortReserved = UINT32_MAX;

struct TurnServer::Impl {
  std::vector<Allocation> allocs;
  uint32_t free_head = UINT32_MAX;
  absl::flat_hash_map<ClientKey, uint32_t> by_client;
  // Per family: (port - relay_port_min) -> allocation index + 1, kPortFree
  // or kPortReserved.
  std::vector<uint32_t> port_owner[2];
  Reservation resv[kMaxReservations];
  absl::flat_hash_map<std::string, uint32_t> per_user;
  uint32_t sweep_pos = 0;
  uint64_t counter = 0;  // tokens, port probing, Data indication ids
  uint8_t id_prefix[4]{};
  uint64_t token_key = 0;
  Endpoint relay_addr[2];  // configured relayed addresses by family
};

}  // namespace tern
