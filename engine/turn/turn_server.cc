// TurnServer: setup, requests (Allocate, Refresh, CreatePermission,
// ChannelBind) and authentication. The relay fast path is in turn_relay.cc;
// the permission, port and allocation tables and expiry in turn_tables.cc.
#include "engine/turn/turn_server.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server_internal.h"

namespace tern {

namespace turn {
bool is_known_attribute(uint16_t type) {
  switch (type) {
    case attr::kChannelNumber:
    case attr::kLifetime:
    case attr::kXorPeerAddress:
    case attr::kData:
    case attr::kXorRelayedAddress:
    case attr::kRequestedAddressFamily:
    case attr::kEvenPort:
    case attr::kRequestedTransport:
    case attr::kDontFragment:
    case attr::kReservationToken:
      return true;
    default:
      return stun::is_known_attribute(type);
  }
}
}  // namespace turn

namespace {

using stun::Attribute;
using stun::StunClass;
using stun::StunMessage;
using stun::StunWriter;

constexpr size_t kMaxRealm = 64;
constexpr size_t kMaxSoftware = 64;

absl::string_view as_view(const Attribute& a) {
  return absl::string_view(reinterpret_cast<const char*>(a.value), a.length);
}

// Everything a response needs from the request, copied out before the packet
// buffer is overwritten by the response.
struct ReqInfo {
  uint16_t method;
  uint8_t txid[12];
  bool fingerprint;
  size_t request_len;
};

// Writes the response in place. Returns false (drop counted) if it cannot.
class Reply {
 public:
  Reply(Packet* pkt, const ReqInfo& r, StunClass cls) : pkt_(pkt), r_(r) {
    pkt_->reset(pkt_->headroom());
    w_.emplace(pkt_->data(), pkt_->tailroom());
    w_->begin(r.method, cls, r.txid);
  }
  StunWriter& w() { return *w_; }
  bool finish(const MessageIntegrity* key, TurnStats& stats) {
    if (key != nullptr) w_->add_message_integrity(*key);
    if (r_.fingerprint) w_->add_fingerprint();
    if (!w_->ok() || pkt_->append(uint32_t(w_->size())) == nullptr) {
      stats.drops.add(Drop::kNoBuffer);
      return false;
    }
    return true;
  }

 private:
  Packet* pkt_;
  const ReqInfo& r_;
  std::optional<StunWriter> w_;
};

}  // namespace

absl::Status validate_turn_server_config(const TurnServerConfig& c) {
  if (c.realm.empty() || c.realm.size() > kMaxRealm) {
    return absl::InvalidArgumentError(
        absl::StrCat("turn.realm: must be 1..", kMaxRealm, " bytes, got \"", c.realm, "\""));
  }
  if (c.software.size() > kMaxSoftware) {
    return absl::InvalidArgumentError(
        absl::StrCat("turn software: at most ", kMaxSoftware, " bytes"));
  }
  if (c.users.empty() && c.rest_secrets.empty()) {
    return absl::InvalidArgumentError(
        "turn: no credentials: set turn.users and/or turn.rest_secrets");
  }
  for (const auto& s : c.rest_secrets) {
    if (s.empty()) return absl::InvalidArgumentError("turn.rest_secrets: empty secret");
  }
  bool v4 = false, v6 = false;
  for (const Endpoint& e : c.relay_addresses) {
    static constexpr uint8_t kZero[16] = {};
    if (!e.is_v4() && !e.is_v6()) {
      return absl::InvalidArgumentError("turn.relay_addresses: address without family");
    }
    if (std::memcmp(e.addr, kZero, e.addr_len()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("turn.relay_addresses: ", e.addr_string(),
                       " is a wildcard; give the address clients reach (XOR-RELAYED-ADDRESS)"));
    }
    bool& have = e.is_v4() ? v4 : v6;
    if (have) {
      return absl::InvalidArgumentError(absl::StrCat("turn.relay_addresses: more than one IPv",
                                                     e.is_v4() ? 4 : 6, " address (",
                                                     e.addr_string(), ")"));
    }
    have = true;
  }
  if (!v4 && !v6) return absl::InvalidArgumentError("turn.relay_addresses: empty");
  if (c.relay_port_min == 0 || c.relay_port_min > c.relay_port_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("turn.relay_ports: bad range ", c.relay_port_min, "-", c.relay_port_max));
  }
  if (c.max_allocations == 0 || c.max_allocations > (1u << 20)) {
    return absl::InvalidArgumentError("turn.max_allocations: must be 1..1048576");
  }
  if (c.default_lifetime_s == 0 || c.max_lifetime_s < c.default_lifetime_s) {
    return absl::InvalidArgumentError(
        "turn.max_lifetime_s: must be >= the default allocation lifetime (600 s)");
  }
  if (c.secret.size() < 16) return absl::InvalidArgumentError("turn secret: need 16+ bytes");
  return absl::OkStatus();
}

TurnServer::TurnServer(TurnServerConfig cfg, RelayPortHooks* hooks)
    : cfg_(std::move(cfg)), hooks_(hooks), policy_(cfg_.allow_peers, cfg_.deny_peers) {}

TurnServer::~TurnServer() {
  if (impl_ == nullptr || hooks_ == nullptr) return;
  for (const Allocation& a : impl_->allocs) {
    if (!a.in_use) continue;
    for (const Endpoint& r : a.relay) {
      if (r.family != Family::kNone) hooks_->close_relay_port(r);
    }
  }
}

absl::StatusOr<std::unique_ptr<TurnServer>> TurnServer::create(TurnServerConfig cfg,
                                                               RelayPortHooks* hooks) {
  if (auto s = validate_turn_server_config(cfg); !s.ok()) return s;
  std::unique_ptr<TurnServer> t(new TurnServer(std::move(cfg), hooks));
  const TurnServerConfig& c = t->cfg_;
  auto nonces = NonceMaker::create(c.secret, seconds(c.nonce_lifetime_s));
  if (!nonces.ok()) return nonces.status();
  t->nonces_ = std::make_unique<NonceMaker>(*std::move(nonces));
  auto creds = CredentialStore::create(c.realm, c.users, c.rest_secrets);
  if (!creds.ok()) return creds.status();
  t->creds_ = *std::move(creds);

  auto impl = std::make_unique<Impl>();
  impl->allocs.resize(c.max_allocations);
  for (uint32_t i = c.max_allocations; i-- > 0;) {
    impl->allocs[i].next_free = impl->free_head;
    impl->free_head = i;
  }
  impl->by_client.reserve(c.max_allocations);
  const size_t range = size_t{c.relay_port_max} - c.relay_port_min + 1;
  for (const Endpoint& e : c.relay_addresses) {
    const int fi = family_index(e.family);
    impl->relay_addr[fi] = e;
    impl->relay_addr[fi].port = 0;
    impl->port_owner[fi].assign(range, kPortFree);
  }
  // Per-server values derived from the process secret: reservation-token
  // key and Data indication transaction id prefix.
  uint8_t seed[20] = {};
  MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                           absl::Span<const uint8_t>(c.secret.data(), c.secret.size()))
      ->compute(reinterpret_cast<const uint8_t*>("tern-turn"), 9, nullptr, 0, seed);
  std::memcpy(impl->id_prefix, seed, 4);
  std::memcpy(&impl->token_key, seed + 4, 8);
  impl->counter = load_be64(seed + 12) & 0xFFFF;
  t->impl_ = std::move(impl);
  return t;
}

// ---------------------------------------------------------------- dispatch

bool TurnServer::handle_stun(Packet* pkt, Nanos now, Transport t) {
  StunMessage msg;
  if (msg.parse(pkt->data(), pkt->len, turn::is_known_attribute) != stun::ParseError::kOk) {
    stats_.drops.add(Drop::kTurnMalformed);
    return false;
  }
  if (msg.has_fingerprint() && !msg.verify_fingerprint()) {
    stats_.drops.add(Drop::kStunFingerprint);
    return false;
  }
  if (!pkt->remote.is_v4() && !pkt->remote.is_v6()) {
    stats_.drops.add(Drop::kUnsupportedL3);
    return false;
  }
  const uint16_t m = msg.method();
  if (msg.cls() == StunClass::kIndication && m == turn::kMethodSend) {
    return handle_send(pkt, now, t, msg);
  }
  if (msg.cls() == StunClass::kRequest &&
      (m == turn::kMethodAllocate || m == turn::kMethodRefresh ||
       m == turn::kMethodCreatePermission || m == turn::kMethodChannelBind)) {
    return handle_request(pkt, now, t, msg);
  }
  // Data indications and responses are never sent to a server; other
  // methods are not ours (§6.3 of RFC 8489: discard silently).
  stats_.drops.add(Drop::kStunUnknownMethod);
  return false;
}

// ---------------------------------------------------------------- requests

namespace {

// Builds an error response in place. realm_nonce: add REALM and a fresh
// NONCE (401, 438). Sizes are bounded (realm <= 64, reasons short): an
// error is at most kMaxErrorGrowth larger than any request.
bool write_error(Packet* pkt, const ReqInfo& r, int code, absl::string_view reason,
                 const MessageIntegrity* key, const std::string* realm, const NonceMaker* nonces,
                 Nanos now, absl::Span<const uint16_t> unknown, TurnStats& stats) {
  const Endpoint client = pkt->remote;
  Reply rep(pkt, r, StunClass::kError);
  rep.w().add_error_code(code, reason);
  if (!unknown.empty()) rep.w().add_unknown_attributes(unknown);
  if (realm != nullptr) {
    rep.w().add_string(stun::attr::kRealm, *realm);
    char nonce[NonceMaker::kSize];
    nonces->make(client, now, nonce);
    rep.w().add_bytes(stun::attr::kNonce, nonce, sizeof(nonce));
  }
  if (!rep.finish(key, stats)) return false;
  stats.responses_error.add();
  return true;
}

uint32_t lifetime_of(const StunMessage& msg, const TurnServerConfig& c, bool* zero) {
  Attribute a;
  uint32_t want = c.default_lifetime_s;
  if (msg.find(turn::attr::kLifetime, &a) && a.length == 4) want = load_be32(a.value);
  *zero = want == 0;
  return std::max(c.default_lifetime_s, std::min(want, c.max_lifetime_s));
}

}  // namespace

struct TurnServer::Request {
  TurnServer& s;
  Packet* pkt;
  Nanos now;
  Transport transport;
  const StunMessage& msg;
  ReqInfo info;
  const MessageIntegrity* key = nullptr;
  std::string username;

  bool error(int code, absl::string_view reason) {
    return write_error(pkt, info, code, reason, key, nullptr, nullptr, now, {}, s.stats_);
  }
  ClientKey client_key() const { return ClientKey{pkt->remote, pkt->local, transport}; }
  Allocation* find_alloc() {
    auto it = s.impl_->by_client.find(client_key());
    if (it == s.impl_->by_client.end()) return nullptr;
    Allocation& a = s.impl_->allocs[it->second];
    return a.expiry > now ? &a : nullptr;
  }
  // Success response header + the caller's attributes + MI/FP.
  bool success(Reply& rep) {
    if (!s.cfg_.software.empty()) rep.w().add_software(s.cfg_.software);
    if (!rep.finish(key, s.stats_)) return false;
    s.stats_.responses_ok.add();
    return true;
  }

  bool allocate();
  bool allocate_success(Allocation& a, uint32_t lifetime_s, bool v6_failed);
  bool refresh();
  bool create_permission();
  bool channel_bind();
  bool peer_ok(const Endpoint& peer, const Allocation& a, int* code, absl::string_view* reason);
};

bool TurnServer::handle_request(Packet* pkt, Nanos now, Transport t, const StunMessage& msg) {
  stats_.requests.add();
  Request rq{*this, pkt, now, t, msg, {}, nullptr, {}};
  rq.info.method = msg.method();
  std::memcpy(rq.info.txid, msg.transaction_id(), 12);
  rq.info.fingerprint = msg.has_fingerprint();
  rq.info.request_len = pkt->len;

  // Authentication, RFC 8489 §9.2.4, in its order.
  Attribute mi, user, realm, nonce;
  if (!msg.find(stun::attr::kMessageIntegrity, &mi)) {
    stats_.auth_challenges.add();
    return write_error(pkt, rq.info, turn::kUnauthorized, "Unauthorized", nullptr, &cfg_.realm,
                       nonces_.get(), now, {}, stats_);
  }
  if (!msg.find(stun::attr::kUsername, &user) || !msg.find(stun::attr::kRealm, &realm) ||
      !msg.find(stun::attr::kNonce, &nonce)) {
    return rq.error(turn::kBadRequest, "Bad Request");
  }
  if (!nonces_->valid(as_view(nonce), pkt->remote, now)) {
    stats_.auth_failures.add();
    return write_error(pkt, rq.info, turn::kStaleNonce, "Stale Nonce", nullptr, &cfg_.realm,
                       nonces_.get(), now, {}, stats_);
  }
  const int64_t unix_now = (now + unix_offset_) / kSecond;
  if (as_view(realm) != cfg_.realm ||
      creds_->check(msg, as_view(user), unix_now, &rq.key) != CredentialStore::Result::kOk) {
    rq.key = nullptr;
    stats_.auth_failures.add();
    return write_error(pkt, rq.info, turn::kUnauthorized, "Unauthorized", nullptr, &cfg_.realm,
                       nonces_.get(), now, {}, stats_);
  }
  if (!msg.unknown_required().empty()) {
    uint16_t unknown[StunMessage::kMaxUnknown];
    const size_t n = msg.unknown_required().size();
    std::copy_n(msg.unknown_required().data(), n, unknown);
    return write_error(pkt, rq.info, turn::kUnknownAttribute, "Unknown Attribute", rq.key, nullptr,
                       nullptr, now, absl::Span<const uint16_t>(unknown, n), stats_);
  }
  rq.username = std::string(as_view(user));
  switch (rq.info.method) {
    case turn::kMethodAllocate:
      return rq.allocate();
    case turn::kMethodRefresh:
      return rq.refresh();
    case turn::kMethodCreatePermission:
      return rq.create_permission();
    default:
      return rq.channel_bind();
  }
}

bool TurnServer::Request::allocate() {
  Impl& I = *s.impl_;
  const TurnServerConfig& c = s.cfg_;
  if (auto it = I.by_client.find(client_key()); it != I.by_client.end()) {
    Allocation& a = I.allocs[it->second];
    if (a.expiry > now && std::memcmp(a.txid, info.txid, 12) == 0 && a.username == username) {
      // A retransmission of the Allocate that made it: answer it again.
      return allocate_success(a, uint32_t((a.expiry - now + kSecond - 1) / kSecond), false);
    }
    if (a.expiry > now) return error(turn::kAllocationMismatch, "Allocation Mismatch");
    s.free_allocation(it->second);  // expired, not yet swept: the 5-tuple is free again
  }
  Attribute a;
  if (!msg.find(turn::attr::kRequestedTransport, &a) || a.length != 4) {
    return error(turn::kBadRequest, "Bad Request");
  }
  if (a.value[0] != turn::kProtocolUdp) {
    return error(turn::kUnsupportedTransport, "Unsupported Transport Protocol");
  }
  // DONT-FRAGMENT is accepted: relayed datagrams leave without fragmentation
  // by the relay (the DPDK driver never fragments; the socket driver leaves
  // it to the kernel's path-MTU default).
  Attribute even, token, raf, aaf;
  const bool has_even = msg.find(turn::attr::kEvenPort, &even);
  const bool has_token = msg.find(turn::attr::kReservationToken, &token);
  const bool has_raf = msg.find(turn::attr::kRequestedAddressFamily, &raf);
  const bool has_aaf = msg.find(turn::attr::kAdditionalAddressFamily, &aaf);
  if ((has_even && even.length != 1) || (has_token && token.length != 8) ||
      (has_raf && raf.length != 4) || (has_aaf && aaf.length != 4)) {
    return error(turn::kBadRequest, "Bad Request");
  }
  const bool reserve_next = has_even && (even.value[0] & 0x80);
  if ((has_token && (has_even || has_raf || has_aaf)) || (has_raf && has_aaf) ||
      (has_aaf && reserve_next)) {
    return error(turn::kBadRequest, "Bad Request");
  }
  if (has_aaf && aaf.value[0] != turn::kFamilyIpv6) return error(turn::kBadRequest, "Bad Request");
  if (has_raf && raf.value[0] != turn::kFamilyIpv4 && raf.value[0] != turn::kFamilyIpv6) {
    return error(turn::kAddressFamilyNotSupported, "Address Family not Supported");
  }
  uint64_t token_value = has_token ? load_be64(token.value) : 0;

  auto user_it = I.per_user.find(username);
  if (user_it != I.per_user.end() && user_it->second >= c.max_allocations_per_user) {
    return error(turn::kAllocationQuotaReached, "Allocation Quota Reached");
  }
  if (I.free_head == UINT32_MAX) return error(turn::kInsufficientCapacity, "Insufficient Capacity");

  bool want[2] = {true, false};  // IPv4 by default (§7.2)
  if (has_raf && raf.value[0] == turn::kFamilyIpv6) want[0] = false, want[1] = true;
  if (has_aaf) want[1] = true;
  bool v6_failed = false;
  if (has_aaf && I.relay_addr[1].family == Family::kNone) {
    want[1] = false;  // dual allocation without IPv6: IPv4 only + ADDRESS-ERROR-CODE
    v6_failed = true;
  }
  Endpoint relay[2];
  if (has_token) {
    Reservation* r = s.find_reservation(token_value, now);
    if (r == nullptr) return error(turn::kInsufficientCapacity, "Insufficient Capacity");
    if (!s.claim_port(r->relay)) return error(turn::kInsufficientCapacity, "Insufficient Capacity");
    relay[family_index(r->relay.family)] = r->relay;
    *r = Reservation{};
    token_value = 0;
  } else {
    for (int f = 0; f < 2; ++f) {
      if (want[f] && I.relay_addr[f].family == Family::kNone) {
        return error(turn::kAddressFamilyNotSupported, "Address Family not Supported");
      }
    }
    for (int f = 0; f < 2; ++f) {
      if (!want[f]) continue;
      if (!s.pick_port(f, has_even, reserve_next, now, &relay[f], &token_value)) {
        for (int g = 0; g < f; ++g) {
          if (relay[g].family != Family::kNone) s.release_port(relay[g]);
        }
        return error(turn::kInsufficientCapacity, "Insufficient Capacity");
      }
    }
  }
  bool zero = false;
  const uint32_t lifetime = lifetime_of(msg, c, &zero);
  const uint32_t idx = I.free_head;
  Allocation& al = I.allocs[idx];
  I.free_head = al.next_free;
  al = Allocation();
  al.in_use = true;
  al.key = client_key();
  al.relay[0] = relay[0];
  al.relay[1] = relay[1];
  al.username = username;
  al.expiry = now + seconds(lifetime);
  std::memcpy(al.txid, info.txid, 12);
  al.reservation_token = reserve_next ? token_value : 0;
  al.tokens = int64_t(c.bandwidth_bytes_per_s);
  al.refill = now;
  for (const Endpoint& r : relay) {
    if (r.family != Family::kNone)
      I.port_owner[family_index(r.family)][r.port - c.relay_port_min] = idx + 1;
  }
  I.by_client[al.key] = idx;
  ++I.per_user[username];
  ++s.active_;
  s.stats_.allocations_created.add();
  return allocate_success(al, lifetime, v6_failed);
}

bool TurnServer::Request::allocate_success(Allocation& a, uint32_t lifetime_s, bool v6_failed) {
  const Endpoint client = pkt->remote;
  Endpoint relay[2] = {a.relay[0], a.relay[1]};
  const uint64_t token = a.reservation_token;
  Reply rep(pkt, info, StunClass::kSuccess);
  for (const Endpoint& r : relay) {
    if (r.family != Family::kNone) rep.w().add_address(turn::attr::kXorRelayedAddress, r, true);
  }
  rep.w().add_u32(turn::attr::kLifetime, lifetime_s);
  if (token != 0) rep.w().add_u64(turn::attr::kReservationToken, token);
  rep.w().add_xor_mapped_address(client);
  if (v6_failed) {
    // ADDRESS-ERROR-CODE (RFC 8656 §18.13): family, reserved, class, number, reason.
    constexpr absl::string_view kReason = "Address Family not Supported";
    if (uint8_t* p = rep.w().add(turn::attr::kAddressErrorCode, 4 + kReason.size())) {
      p[0] = turn::kFamilyIpv6;
      p[1] = 0;
      p[2] = 4;
      p[3] = 40;
      std::memcpy(p + 4, kReason.data(), kReason.size());
    }
  }
  return success(rep);
}

bool TurnServer::Request::refresh() {
  Allocation* a = find_alloc();
  if (a == nullptr) return error(turn::kAllocationMismatch, "Allocation Mismatch");
  if (a->username != username) return error(turn::kWrongCredentials, "Wrong Credentials");
  Attribute raf;
  if (msg.find(turn::attr::kRequestedAddressFamily, &raf)) {
    const int f = raf.length == 4 && raf.value[0] == turn::kFamilyIpv6 ? 1 : 0;
    if (raf.length != 4 || a->relay[f].family == Family::kNone) {
      return error(turn::kPeerAddressFamilyMismatch, "Peer Address Family Mismatch");
    }
  }
  bool zero = false;
  uint32_t lifetime = lifetime_of(msg, s.cfg_, &zero);
  if (zero) {
    s.free_allocation(uint32_t(a - s.impl_->allocs.data()));
    s.stats_.allocations_deleted.add();
    lifetime = 0;
  } else {
    a->expiry = now + seconds(lifetime);
  }
  Reply rep(pkt, info, StunClass::kSuccess);
  rep.w().add_u32(turn::attr::kLifetime, lifetime);
  return success(rep);
}

bool TurnServer::Request::peer_ok(const Endpoint& peer, const Allocation& a, int* code,
                                  absl::string_view* reason) {
  if (a.relay[family_index(peer.family)].family == Family::kNone) {
    *code = turn::kPeerAddressFamilyMismatch;
    *reason = "Peer Address Family Mismatch";
    return false;
  }
  // Our own addresses are peers like any other (policy permitting): a
  // client reaching this node's SFU through its TURN, or two clients of this
  // server talking relay to relay (client to client).
  if (!s.policy_.allowed(peer)) {
    *code = turn::kForbidden;
    *reason = "Forbidden";
    return false;
  }
  return true;
}

bool TurnServer::Request::create_permission() {
  Allocation* a = find_alloc();
  if (a == nullptr) return error(turn::kAllocationMismatch, "Allocation Mismatch");
  if (a->username != username) return error(turn::kWrongCredentials, "Wrong Credentials");
  Endpoint peers[kMaxPermissions];
  int n = 0;
  for (Attribute at : msg) {
    if (at.type != turn::attr::kXorPeerAddress) continue;
    Endpoint p;
    if (!msg.decode_address(at, true, &p)) return error(turn::kBadRequest, "Bad Request");
    int code;
    absl::string_view reason;
    if (!peer_ok(p, *a, &code, &reason)) return error(code, reason);
    p.port = 0;
    bool dup = false;
    for (int i = 0; i < n; ++i) dup = dup || peers[i] == p;
    if (dup) continue;
    if (n == kMaxPermissions) return error(turn::kInsufficientCapacity, "Insufficient Capacity");
    peers[n++] = p;
  }
  if (n == 0) return error(turn::kBadRequest, "Bad Request");
  // All or nothing: first check there is room for every new address.
  int need = 0;
  for (int i = 0; i < n; ++i) need += s.permission_slot(*a, peers[i], now, false) < 0;
  if (need > 0 && !s.has_permission_room(*a, now, need)) {
    return error(turn::kInsufficientCapacity, "Insufficient Capacity");
  }
  for (int i = 0; i < n; ++i) s.install_permission(*a, peers[i], now);
  Reply rep(pkt, info, StunClass::kSuccess);
  return success(rep);
}

bool TurnServer::Request::channel_bind() {
  Allocation* a = find_alloc();
  if (a == nullptr) return error(turn::kAllocationMismatch, "Allocation Mismatch");
  if (a->username != username) return error(turn::kWrongCredentials, "Wrong Credentials");
  Attribute cn, pa;
  Endpoint peer;
  if (!msg.find(turn::attr::kChannelNumber, &cn) || cn.length != 4 ||
      !msg.find(turn::attr::kXorPeerAddress, &pa) || !msg.decode_address(pa, true, &peer)) {
    return error(turn::kBadRequest, "Bad Request");
  }
  const uint16_t number = load_be16(cn.value);
  if (number < turn::kChannelMin || number > s.channel_max()) {
    return error(turn::kBadRequest, "Bad Request");
  }
  int code;
  absl::string_view reason;
  if (!peer_ok(peer, *a, &code, &reason)) return error(code, reason);
  // Rebinding rules (§12.2): a number stays tied to its peer, and a peer to
  // its number, while bound and for 5 minutes after.
  int slot = -1;
  for (int i = 0; i < a->nchans; ++i) {
    Channel& ch = a->chans[i];
    if (ch.number == 0 || ch.expiry + kChannelCooldown <= now) continue;
    const bool same_number = ch.number == number, same_peer = ch.peer == peer;
    if (same_number != same_peer) return error(turn::kBadRequest, "Bad Request");
    if (same_number) slot = i;
  }
  if (slot < 0) {
    for (int i = 0; i < a->nchans && slot < 0; ++i) {
      if (a->chans[i].number == 0 || a->chans[i].expiry + kChannelCooldown <= now) slot = i;
    }
    if (slot < 0 && a->nchans < kMaxChannels) slot = a->nchans++;
    if (slot < 0) return error(turn::kInsufficientCapacity, "Insufficient Capacity");
  }
  Endpoint ip = peer;
  ip.port = 0;
  if (s.permission_slot(*a, ip, now, false) < 0 && !s.has_permission_room(*a, now, 1)) {
    if (slot == a->nchans - 1 && a->chans[slot].number == 0) --a->nchans;
    return error(turn::kInsufficientCapacity, "Insufficient Capacity");
  }
  Channel& ch = a->chans[slot];
  if (ch.number != number || ch.expiry <= now) s.stats_.channels_bound.add();
  ch.number = number;
  ch.peer = peer;
  ch.expiry = now + seconds(s.cfg_.channel_lifetime_s);
  s.install_permission(*a, ip, now);
  Reply rep(pkt, info, StunClass::kSuccess);
  return success(rep);
}

}  // namespace tern
