// A hand-built controlling ICE client for the ICE-lite tests: builds
// connectivity checks with StunWriter and checks responses.
#pragma once

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "engine/net/packet.h"
#include "engine/stun/ice_agent.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"
#include "gtest/gtest.h"

namespace tern::ice::testing {

using Bytes = std::vector<uint8_t>;

// Fixed credentials so failures are reproducible (the CSPRNG path is tested
// separately).
inline IceCredentials server_creds() { return {"srv1", "ServerPassword0123456789"}; }
inline IceCredentials client_creds() { return {"cli1", "ClientPassword0123456789"}; }
inline IceCredentials server_creds2() { return {"srv2", "ServerPasswordSecondGen1"}; }
inline IceCredentials client_creds2() { return {"cli2", "ClientPasswordSecondGen1"}; }

// Each Check gets its own transaction id (copies share it, like a
// retransmission): the agent drops a valid check whose id another pair just
// used, as a replay.
struct Check {
  Check() {
    static uint32_t serial = 0;
    ++serial;
    std::memcpy(txid + 8, &serial, sizeof(serial));
  }
  std::string username = "srv1:cli1";            // empty: no USERNAME
  std::string pwd = "ServerPassword0123456789";  // empty: no MESSAGE-INTEGRITY
  bool fingerprint = true;
  bool priority = true;
  bool use_candidate = false;
  bool controlling = true;  // ICE-CONTROLLING
  bool controlled = false;  // ICE-CONTROLLED
  uint64_t tie_breaker = 0x0102030405060708ull;
  std::vector<std::pair<uint16_t, Bytes>> extra;  // before MESSAGE-INTEGRITY
  uint8_t txid[12] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0};
  uint32_t prio = 0x6e7f00ff;

  Bytes build() const {
    Bytes buf(1024);
    stun::StunWriter w(buf.data(), buf.size());
    w.begin(stun::kMethodBinding, stun::StunClass::kRequest, txid);
    if (!username.empty()) w.add_username(username);
    if (priority) w.add_u32(stun::attr::kPriority, prio);
    if (use_candidate) w.add(stun::attr::kUseCandidate, 0);
    if (controlling) w.add_u64(stun::attr::kIceControlling, tie_breaker);
    if (controlled) w.add_u64(stun::attr::kIceControlled, tie_breaker);
    for (const auto& [type, value] : extra) w.add_bytes(type, value.data(), value.size());
    if (!pwd.empty()) {
      auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, absl::string_view(pwd));
      EXPECT_TRUE(key.ok());
      w.add_message_integrity(*key);
    }
    if (fingerprint) w.add_fingerprint();
    EXPECT_TRUE(w.ok());
    buf.resize(w.size());
    return buf;
  }
};

// A driver-like buffer: headroom, the datagram, tailroom.
struct TestPacket {
  TestPacket(const Bytes& payload, const Endpoint& remote, const Endpoint& local,
             uint32_t capacity = 2048)
      : storage(capacity, 0xCC) {
    pkt.buf = storage.data();
    pkt.capacity = capacity;
    pkt.off = kDefaultHeadroom;
    std::memcpy(pkt.data(), payload.data(), payload.size());
    pkt.len = uint32_t(payload.size());
    pkt.remote = remote;
    pkt.local = local;
  }
  std::vector<uint8_t> storage;
  Packet pkt;
};

inline Endpoint ep(const char* s) { return *Endpoint::parse(s); }

// Parses the response in `tp` and checks the parts every response has.
struct Response {
  stun::StunMessage msg;
  bool ok = false;
  int code = 0;            // 0 = success
  bool signed_ok = false;  // MESSAGE-INTEGRITY present and valid with pwd
  bool has_mi = false;
  Endpoint mapped;
};

inline Response read_response(const Packet& pkt, const uint8_t* txid, absl::string_view pwd) {
  Response r;
  if (r.msg.parse(pkt.data(), pkt.len) != stun::ParseError::kOk) {
    ADD_FAILURE() << "response does not parse";
    return r;
  }
  EXPECT_EQ(r.msg.method(), stun::kMethodBinding);
  EXPECT_EQ(std::memcmp(r.msg.transaction_id(), txid, 12), 0);
  EXPECT_TRUE(r.msg.has_fingerprint());
  EXPECT_TRUE(r.msg.verify_fingerprint());
  r.has_mi = r.msg.has(stun::attr::kMessageIntegrity);
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, pwd);
  r.signed_ok = r.msg.verify_integrity(*key) == stun::IntegrityCheck::kOk;
  if (r.msg.cls() == stun::StunClass::kError) {
    absl::string_view reason;
    EXPECT_TRUE(r.msg.error_code(&r.code, &reason));
  } else {
    EXPECT_EQ(r.msg.cls(), stun::StunClass::kSuccess);
    EXPECT_TRUE(r.msg.xor_mapped_address(&r.mapped));
  }
  r.ok = true;
  return r;
}

}  // namespace tern::ice::testing
