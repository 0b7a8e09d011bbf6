// TurnServer tables: permissions, relayed ports and EVEN-PORT reservations,
// allocations and their expiry sweep. Called from the request handlers
// (turn_server.cc) and housekeeping; not on the relay fast path.
#include <algorithm>

#include "engine/turn/turn_server.h"
#include "engine/turn/turn_server_internal.h"

namespace tern {

int TurnServer::permission_slot(const Allocation& a, const Endpoint& ip, Nanos now,
                                bool include_expired) const {
  for (int i = 0; i < a.nperms; ++i) {
    if (a.perms[i].addr.same_addr(ip) && (include_expired || a.perms[i].expiry > now)) return i;
  }
  return -1;
}

bool TurnServer::has_permission_room(const Allocation& a, Nanos now, int need) const {
  int room = kMaxPermissions - a.nperms;
  for (int i = 0; i < a.nperms; ++i) room += a.perms[i].expiry <= now;
  return room >= need;
}

void TurnServer::install_permission(Allocation& a, const Endpoint& ip, Nanos now) {
  const Nanos expiry = now + seconds(cfg_.permission_lifetime_s);
  int i = permission_slot(a, ip, now, true);
  if (i < 0) {
    for (int j = 0; j < a.nperms && i < 0; ++j) {
      if (a.perms[j].expiry <= now) i = j;
    }
    if (i < 0) i = a.nperms++;  // caller checked has_permission_room
    a.perms[i].addr = ip;
    a.perms[i].expiry = 0;
  }
  if (a.perms[i].expiry <= now) stats_.permissions_created.add();
  a.perms[i].expiry = expiry;
}

bool TurnServer::pick_port(int f, bool even, bool reserve_next, Nanos now, Endpoint* out,
                           uint64_t* token) {
  Impl& I = *impl_;
  const uint32_t range = uint32_t(cfg_.relay_port_max) - cfg_.relay_port_min + 1;
  std::vector<uint32_t>& owner = I.port_owner[f];
  // Start at a pseudo-random offset (RFC 8656 §7.2 wants unpredictable
  // ports) and walk the range once.
  uint32_t start = uint32_t((++I.counter * 0x9E3779B97F4A7C15ull) >> 40) % range;
  int tries = 0;
  for (uint32_t k = 0; k < range && tries < 16; ++k) {
    const uint32_t i = (start + k) % range;
    const uint16_t port = uint16_t(cfg_.relay_port_min + i);
    if (owner[i] != kPortFree) continue;
    if (even && (port & 1)) continue;
    if (reserve_next && (i + 1 >= range || owner[i + 1] != kPortFree)) continue;
    Endpoint ep = I.relay_addr[f];
    ep.port = port;
    ++tries;
    if (!claim_port(ep)) continue;
    if (reserve_next) {
      Reservation* slot = nullptr;
      for (Reservation& r : I.resv) {
        if (r.token == 0 || r.expiry <= now) {
          if (r.token != 0) expire_reservation(r);
          slot = &r;
          break;
        }
      }
      if (slot == nullptr) {
        release_port(ep);
        return false;
      }
      Endpoint next = ep;
      next.port = uint16_t(port + 1);
      owner[i + 1] = kPortReserved;
      // Tokens: unpredictable to others (keyed by the process secret),
      // unique per server (counter).
      *token = (++I.counter * 0x9E3779B97F4A7C15ull) ^ I.token_key;
      if (*token == 0) *token = 1;
      *slot = Reservation{*token, next, now + seconds(cfg_.reservation_lifetime_s)};
    }
    *out = ep;
    return true;
  }
  return false;
}

bool TurnServer::claim_port(const Endpoint& ep) {
  return hooks_ == nullptr || hooks_->open_relay_port(ep);
}

void TurnServer::release_port(const Endpoint& ep) {
  if (ep.family == Family::kNone) return;
  impl_->port_owner[family_index(ep.family)][ep.port - cfg_.relay_port_min] = kPortFree;
  if (hooks_ != nullptr) hooks_->close_relay_port(ep);
}

Reservation* TurnServer::find_reservation(uint64_t token, Nanos now) {
  for (Reservation& r : impl_->resv) {
    if (r.token == token && token != 0 && r.expiry > now) return &r;
  }
  return nullptr;
}

void TurnServer::expire_reservation(Reservation& r) {
  impl_->port_owner[family_index(r.relay.family)][r.relay.port - cfg_.relay_port_min] = kPortFree;
  r = Reservation{};
}

void TurnServer::free_allocation(uint32_t idx) {
  Impl& I = *impl_;
  Allocation& a = I.allocs[idx];
  if (!a.in_use) return;
  for (const Endpoint& r : a.relay) release_port(r);
  I.by_client.erase(a.key);
  if (auto it = I.per_user.find(a.username); it != I.per_user.end() && --it->second == 0) {
    I.per_user.erase(it);
  }
  a = Allocation();
  a.next_free = I.free_head;
  I.free_head = idx;
  --active_;
}

bool TurnServer::close_client(const Endpoint& client, const Endpoint& server, Transport t) {
  auto it = impl_->by_client.find(ClientKey{client, server, t});
  if (it == impl_->by_client.end()) return false;
  free_allocation(it->second);
  stats_.allocations_deleted.add();
  return true;
}

bool TurnServer::has_allocation(const Endpoint& client, const Endpoint& server, Transport t,
                                Nanos now) const {
  auto it = impl_->by_client.find(ClientKey{client, server, t});
  return it != impl_->by_client.end() && impl_->allocs[it->second].expiry > now;
}

Nanos TurnServer::poll(Nanos now) {
  Impl& I = *impl_;
  for (Reservation& r : I.resv) {
    if (r.token != 0 && r.expiry <= now) expire_reservation(r);
  }
  const uint32_t n = uint32_t(I.allocs.size());
  const uint32_t budget = std::min<uint32_t>(n, 1024);
  for (uint32_t k = 0; k < budget; ++k) {
    const uint32_t i = I.sweep_pos;
    I.sweep_pos = I.sweep_pos + 1 == n ? 0 : I.sweep_pos + 1;
    Allocation& a = I.allocs[i];
    if (a.in_use && a.expiry <= now) {
      free_allocation(i);
      stats_.allocations_expired.add();
    }
  }
  return now + (budget < n ? 10 * kMillisecond : kSecond);
}

}  // namespace tern
