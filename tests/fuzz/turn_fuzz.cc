// Fuzz target for the TURN server core: a TurnServer with a fixed config and
// clock, one authenticated allocation with a permission and a channel set up
// before each input, then the input is split into operations:
//   op 0  a datagram from the client (STUN -> handle_stun, else ChannelData)
//   op 1  the same, signed: the bytes become the attributes of a request of
//         a TURN method with valid USERNAME/REALM/NONCE/MESSAGE-INTEGRITY, so
//         Allocate/Refresh/CreatePermission/ChannelBind logic is reached
//   op 2  a datagram from a peer to the relayed port (handle_peer)
//   op 3  time passes (poll)
// Invariants (trap on violation): the packet stays inside its buffer, an
// error response is at most kMaxErrorGrowth larger than its request, a relay
// keeps the payload bytes unchanged.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server.h"

namespace {

using namespace tern;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

Endpoint ep(const char* s) { return *Endpoint::parse(s); }

const Endpoint kClient = ep("203.0.113.7:40000");
const Endpoint kServer = ep("198.18.0.1:3478");
const Endpoint kPeer = ep("198.18.5.5:7000");

struct Buf {
  std::vector<uint8_t> mem = std::vector<uint8_t>(2048 + kDefaultHeadroom);
  Packet pkt;
  Packet* load(const uint8_t* d, size_t n, const Endpoint& remote, const Endpoint& local) {
    pkt.buf = mem.data();
    pkt.capacity = uint32_t(mem.size());
    pkt.off = kDefaultHeadroom;
    pkt.len = uint32_t(n > 2048 ? 2048 : n);
    if (pkt.len) std::memcpy(pkt.data(), d, pkt.len);
    pkt.remote = remote;
    pkt.local = local;
    return &pkt;
  }
};

const MessageIntegrity& alice_key() {
  static MessageIntegrity k = [] {
    auto m = MessageIntegrity::long_term_key_md5("alice", "tern.fuzz", "pw");
    return *MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                     absl::Span<const uint8_t>(m.data(), m.size()));
  }();
  return k;
}

// Builds a signed request of `method` whose attributes are `body` (raw
// attribute bytes, truncated to a multiple of 4).
size_t signed_request(uint8_t* out, size_t cap, uint16_t method, const uint8_t* body, size_t n,
                      const std::string& nonce, uint8_t txid_seed) {
  const uint8_t txid[12] = {txid_seed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  stun::StunWriter w(out, cap);
  w.begin(method, stun::StunClass::kRequest, txid);
  n &= ~size_t{3};
  if (n > 1500) n = 1500;
  // Reserve n bytes as one attribute, then overwrite them with the raw
  // attribute bytes: the writer's length bookkeeping stays right.
  if (n >= 4) {
    uint8_t* value = w.add(0x8FFF, n - 4);
    if (value == nullptr) return 0;
    std::memcpy(value - 4, body, n);
  }
  w.add_username("alice");
  w.add_string(stun::attr::kRealm, "tern.fuzz");
  w.add_string(stun::attr::kNonce, nonce);
  w.add_message_integrity(alice_key());
  w.add_fingerprint();
  return w.ok() ? w.size() : 0;
}

std::string nonce_of(const Packet& p) {
  stun::StunMessage m;
  if (m.parse(p.data(), p.len, turn::is_known_attribute) != stun::ParseError::kOk) return {};
  stun::Attribute a;
  if (!m.find(stun::attr::kNonce, &a)) return {};
  return std::string(reinterpret_cast<const char*>(a.value), a.length);
}

bool is_error_response(const Packet& p) {
  return p.len >= 20 && stun::class_of(load_be16(p.data()) & 0x3FFF) == stun::StunClass::kError;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TurnServerConfig cfg;
  cfg.realm = "tern.fuzz";
  cfg.users = {{"alice", "pw"}};
  cfg.rest_secrets = {"rest"};
  cfg.relay_addresses = {ep("198.18.0.1"), ep("2001:2::1")};
  cfg.relay_port_min = 50000;
  cfg.relay_port_max = 50015;
  cfg.max_allocations = 4;
  cfg.bandwidth_bytes_per_s = 100000;
  cfg.listen = {kServer};
  cfg.secret.assign(32, 0x42);
  auto created = TurnServer::create(cfg);
  check(created.ok());
  TurnServer& s = **created;
  Nanos now = 1000 * kSecond;
  Buf b;
  uint8_t msg[2048];

  // Setup: 401 round trip, Allocate, ChannelBind 0x4001 -> kPeer.
  {
    stun::StunWriter w(msg, sizeof(msg));
    uint8_t txid[12] = {};
    w.begin(turn::kMethodAllocate, stun::StunClass::kRequest, txid);
    w.add_u32(turn::attr::kRequestedTransport, 17u << 24);
    check(s.handle_stun(b.load(msg, w.size(), kClient, kServer), now));
  }
  const std::string nonce = nonce_of(b.pkt);
  check(!nonce.empty());
  {
    stun::StunWriter w(msg, sizeof(msg));
    uint8_t txid[12] = {1};
    w.begin(turn::kMethodAllocate, stun::StunClass::kRequest, txid);
    w.add_u32(turn::attr::kRequestedTransport, 17u << 24);
    w.add_username("alice");
    w.add_string(stun::attr::kRealm, "tern.fuzz");
    w.add_string(stun::attr::kNonce, nonce);
    w.add_message_integrity(alice_key());
    check(s.handle_stun(b.load(msg, w.size(), kClient, kServer), now));
  }
  Endpoint relay;
  {
    stun::StunMessage m;
    check(m.parse(b.pkt.data(), b.pkt.len, turn::is_known_attribute) == stun::ParseError::kOk);
    stun::Attribute a;
    check(m.find(turn::attr::kXorRelayedAddress, &a) && m.decode_address(a, true, &relay));
    stun::StunWriter w(msg, sizeof(msg));
    uint8_t txid[12] = {2};
    w.begin(turn::kMethodChannelBind, stun::StunClass::kRequest, txid);
    w.add_u32(turn::attr::kChannelNumber, 0x4001u << 16);
    w.add_address(turn::attr::kXorPeerAddress, kPeer, true);
    w.add_username("alice");
    w.add_string(stun::attr::kRealm, "tern.fuzz");
    w.add_string(stun::attr::kNonce, nonce);
    w.add_message_integrity(alice_key());
    check(s.handle_stun(b.load(msg, w.size(), kClient, kServer), now));
  }

  // Operations: [op][len_hi][len_lo][bytes...]
  size_t pos = 0;
  uint8_t seq = 3;
  for (int ops = 0; pos + 3 <= size && ops < 64; ++ops) {
    const uint8_t op = data[pos] & 3;
    const uint8_t arg = data[pos] >> 2;
    size_t n = load_be16(data + pos + 1);
    pos += 3;
    if (n > size - pos) n = size - pos;
    const uint8_t* d = data + pos;
    pos += n;
    switch (op) {
      case 0:
      case 1: {
        size_t len = n;
        const uint8_t* in = d;
        if (op == 1) {
          static const uint16_t kMethods[] = {turn::kMethodAllocate, turn::kMethodRefresh,
                                              turn::kMethodCreatePermission,
                                              turn::kMethodChannelBind};
          len = signed_request(msg, sizeof(msg), kMethods[arg & 3], d, n, nonce, seq++);
          if (len == 0) break;
          in = msg;
        }
        Packet* p = b.load(in, len, kClient, kServer);
        const uint32_t req_len = p->len;
        const bool stun = turn::is_turn_stun(p->data(), p->len);
        bool out;
        if (stun) {
          out = s.handle_stun(p, now);
        } else if (p->len && (p->data()[0] & 0xC0) == 0x40) {
          out = s.handle_channel_data(p, now);
        } else {
          out = s.handle_stun(p, now);
        }
        check(p->off + p->len <= p->capacity);
        if (out && p->remote == kClient && is_error_response(*p)) {
          check(p->len <= req_len + TurnServer::kMaxErrorGrowth);
        }
        break;
      }
      case 2: {
        Packet* p = b.load(d, n, kPeer, relay);
        const uint32_t len = p->len;
        std::vector<uint8_t> copy(p->data(), p->data() + len);
        if (s.handle_peer(p, now)) {
          check(p->off + p->len <= p->capacity);
          check(p->len >= len + 4);
          // The payload sits at the end (ChannelData) or before 0..3 padding bytes.
          const uint32_t pad = p->len - len >= 36 ? (4 - (len & 3)) & 3 : 0;
          check(std::memcmp(p->data() + p->len - pad - len, copy.data(), len) == 0);
        }
        break;
      }
      case 3:
        now += Nanos{arg} * 10 * kSecond;
        s.poll(now);
        break;
    }
  }
  return 0;
}
