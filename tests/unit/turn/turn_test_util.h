// Test helpers: a TURN client that builds requests the way RFC 8656 clients
// do, and packet buffers shaped like a driver's.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"
#include "engine/turn/turn_server.h"
#include "gtest/gtest.h"

namespace tern {
namespace turntest {

using Bytes = std::vector<uint8_t>;

inline Endpoint ep(const char* s) { return *Endpoint::parse(s); }

struct TestPacket {
  explicit TestPacket(const Bytes& payload, Endpoint remote, Endpoint local,
                      uint32_t capacity = 2048 + kDefaultHeadroom)
      : storage(capacity, 0xCC) {
    pkt.buf = storage.data();
    pkt.capacity = capacity;
    pkt.off = kDefaultHeadroom;
    std::memcpy(pkt.data(), payload.data(), payload.size());
    pkt.len = uint32_t(payload.size());
    pkt.remote = remote;
    pkt.local = local;
  }
  Bytes payload() const { return Bytes(pkt.data(), pkt.data() + pkt.len); }
  std::vector<uint8_t> storage;
  Packet pkt;
};

struct FakeHooks : RelayPortHooks {
  std::vector<Endpoint> open;
  int refuse = 0;  // refuse this many opens
  int opened = 0, closed = 0;
  bool open_relay_port(const Endpoint& e) override {
    if (refuse > 0) {
      --refuse;
      return false;
    }
    for (const Endpoint& o : open) EXPECT_NE(o, e) << "port opened twice";
    open.push_back(e);
    ++opened;
    return true;
  }
  void close_relay_port(const Endpoint& e) override {
    for (size_t i = 0; i < open.size(); ++i) {
      if (open[i] == e) {
        open.erase(open.begin() + i);
        ++closed;
        return;
      }
    }
    ADD_FAILURE() << "closing a port that is not open: " << e.to_string();
  }
};

inline TurnServerConfig test_config() {
  TurnServerConfig c;
  c.realm = "tern.test";
  c.users = {{"alice", "alice-pass"}, {"bob", "bob-pass"}};
  c.rest_secrets = {"new-secret", "old-secret"};
  c.relay_addresses = {ep("198.18.0.1"), ep("2001:2::1")};
  c.relay_port_min = 50000;
  c.relay_port_max = 50099;
  c.listen = {ep("198.18.0.1:3478")};
  c.secret.assign(32, 0x5A);
  c.software = "tern-test";
  return c;
}

struct Attr {
  uint16_t type;
  Bytes value;
};

inline Bytes u32(uint32_t v) {
  Bytes b(4);
  store_be32(b.data(), v);
  return b;
}

// One TURN client on one 5-tuple.
class Client {
 public:
  Client(TurnServer& s, Endpoint self, Endpoint server, std::string user, std::string pass,
         std::string realm = "tern.test")
      : s_(s),
        self_(self),
        server_(server),
        user_(std::move(user)),
        pass_(std::move(pass)),
        realm_(std::move(realm)) {}

  // Builds a request; authenticated once a nonce is known (unless told not to).
  Bytes build(uint16_t method, const std::vector<Attr>& attrs, bool auth = true,
              stun::StunClass cls = stun::StunClass::kRequest, bool fingerprint = true,
              std::vector<std::pair<uint16_t, Endpoint>> addrs = {}) {
    Bytes buf(2048);
    stun::StunWriter w(buf.data(), buf.size());
    ++txid_[11];
    w.begin(method, cls, txid_);
    for (const auto& [type, e] : addrs) w.add_address(type, e, true);
    for (const Attr& a : attrs) w.add_bytes(a.type, a.value.data(), a.value.size());
    if (auth && !nonce_.empty()) {
      w.add_username(user_);
      w.add_string(stun::attr::kRealm, realm_);
      w.add_string(stun::attr::kNonce, nonce_);
      auto key = MessageIntegrity::long_term_key_md5(user_, realm_, pass_);
      auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                         absl::Span<const uint8_t>(key.data(), key.size()));
      w.add_message_integrity(*mi);
    }
    if (fingerprint) w.add_fingerprint();
    EXPECT_TRUE(w.ok());
    buf.resize(w.size());
    return buf;
  }

  // Sends raw bytes from this client; returns whether the server answered
  // (response left in last()).
  bool send(const Bytes& b, Nanos now) {
    last_ = std::make_unique<TestPacket>(b, self_, server_);
    const bool out = s_.handle_stun(&last_->pkt, now, transport_);
    if (out) {
      resp_ = last_->payload();
      EXPECT_EQ(last_->pkt.remote, self_);
      EXPECT_EQ(last_->pkt.local, server_);
      learn_nonce();
    }
    return out;
  }

  // Request with the 401 round trip done when needed. Returns the response
  // class code: 0 = success, else the error code; -1 = no answer.
  int request(uint16_t method, const std::vector<Attr>& attrs, Nanos now,
              std::vector<std::pair<uint16_t, Endpoint>> addrs = {}) {
    if (!send(build(method, attrs, true, stun::StunClass::kRequest, true, addrs), now)) return -1;
    int code = code_of_last();
    if ((code == 401 || code == 438) && !tried_) {
      tried_ = true;
      code = request(method, attrs, now, addrs);
      tried_ = false;
    }
    return code;
  }

  int allocate(Nanos now, std::vector<Attr> extra = {}) {
    extra.push_back({turn::attr::kRequestedTransport, Bytes{17, 0, 0, 0}});
    const int code = request(turn::kMethodAllocate, extra, now);
    if (code == 0) {
      stun::StunMessage m;
      EXPECT_EQ(m.parse(resp_.data(), resp_.size(), turn::is_known_attribute),
                stun::ParseError::kOk);
      relayed_.clear();
      for (stun::Attribute a : m) {
        Endpoint e;
        if (a.type == turn::attr::kXorRelayedAddress && m.decode_address(a, true, &e)) {
          relayed_.push_back(e);
        }
      }
    }
    return code;
  }
  int create_permission(Nanos now, std::vector<Endpoint> peers) {
    std::vector<std::pair<uint16_t, Endpoint>> a;
    for (const Endpoint& p : peers) a.emplace_back(turn::attr::kXorPeerAddress, p);
    return request(turn::kMethodCreatePermission, {}, now, a);
  }
  int channel_bind(Nanos now, uint16_t number, Endpoint peer) {
    Bytes cn(4, 0);
    store_be16(cn.data(), number);
    return request(turn::kMethodChannelBind, {{turn::attr::kChannelNumber, cn}}, now,
                   {{turn::attr::kXorPeerAddress, peer}});
  }
  int refresh(Nanos now, uint32_t lifetime) {
    return request(turn::kMethodRefresh, {{turn::attr::kLifetime, u32(lifetime)}}, now);
  }

  int code_of_last() const {
    stun::StunMessage m;
    if (m.parse(resp_.data(), resp_.size(), turn::is_known_attribute) != stun::ParseError::kOk) {
      ADD_FAILURE() << "response does not parse";
      return -2;
    }
    if (check_txid_) EXPECT_EQ(std::memcmp(m.transaction_id(), txid_, 12), 0);
    if (m.cls() == stun::StunClass::kSuccess) return 0;
    int code = 0;
    absl::string_view reason;
    EXPECT_TRUE(m.error_code(&code, &reason));
    return code;
  }
  bool last_has(uint16_t type) const {
    stun::StunMessage m;
    m.parse(resp_.data(), resp_.size(), turn::is_known_attribute);
    return m.has(type);
  }
  uint32_t last_u32(uint16_t type) const {
    stun::StunMessage m;
    m.parse(resp_.data(), resp_.size(), turn::is_known_attribute);
    stun::Attribute a;
    return m.find(type, &a) && a.length == 4 ? load_be32(a.value) : 0xFFFFFFFF;
  }
  const Bytes& response() const { return resp_; }
  const std::vector<Endpoint>& relayed() const { return relayed_; }
  const Endpoint& self() const { return self_; }
  const Endpoint& server() const { return server_; }
  void set_user(std::string u, std::string p) {
    user_ = std::move(u);
    pass_ = std::move(p);
  }
  void set_nonce(std::string n) { nonce_ = std::move(n); }
  const std::string& nonce() const { return nonce_; }
  uint8_t* txid() { return txid_; }
  void set_check_txid(bool on) { check_txid_ = on; }
  // TURN over TCP/TLS: requests are handed on with Transport::kTcp.
  void set_transport(Transport t) { transport_ = t; }

 private:
  void learn_nonce() {
    stun::StunMessage m;
    if (m.parse(resp_.data(), resp_.size(), turn::is_known_attribute) != stun::ParseError::kOk) {
      return;
    }
    stun::Attribute a;
    if (m.find(stun::attr::kNonce, &a)) {
      nonce_.assign(reinterpret_cast<const char*>(a.value), a.length);
    }
  }

  TurnServer& s_;
  Endpoint self_, server_;
  std::string user_, pass_, realm_, nonce_;
  uint8_t txid_[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0};
  std::unique_ptr<TestPacket> last_;
  Bytes resp_;
  std::vector<Endpoint> relayed_;
  bool tried_ = false;
  bool check_txid_ = true;
  Transport transport_ = Transport::kUdp;
};

}  // namespace turntest
}  // namespace tern
