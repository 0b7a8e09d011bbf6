#include "bench/loadgen/turn_leg.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/net/bytes.h"
#include "engine/turn/turn_protocol.h"

namespace tern::loadgen {

namespace {
constexpr Nanos kRetransmit = 200 * kMillisecond;
constexpr int kMaxAttempts = 7;  // ~1.4 s per request before giving up
}  // namespace

TurnLeg::TurnLeg(TurnConfig cfg, Endpoint peer, uint32_t id)
    : cfg_(std::move(cfg)), peer_(peer), id_(id) {}

TurnLeg::TurnLeg(TurnConfig cfg, uint32_t id) : cfg_(std::move(cfg)), deferred_(true), id_(id) {}

size_t TurnLeg::set_peer(const Endpoint& peer, uint8_t* out, size_t cap, Nanos now) {
  if (phase_ != Phase::kAllocated) return 0;
  peer_ = peer;
  phase_ = Phase::kChannelBind;
  attempts_ = 1;
  next_retx_ = now + kRetransmit;
  return write_request(out, cap);
}

void TurnLeg::fail(std::string why) {
  phase_ = Phase::kFailed;
  failure_ = "TURN: " + std::move(why);
}

size_t TurnLeg::write_request(uint8_t* out, size_t cap) {
  std::memcpy(txid_, "tlgt", 4);
  store_be32(txid_ + 4, id_);
  store_be32(txid_ + 8, ++serial_);
  stun::StunWriter w(out, cap);
  const bool alloc = phase_ == Phase::kAllocate;
  w.begin(alloc ? turn::kMethodAllocate : turn::kMethodChannelBind, stun::StunClass::kRequest,
          txid_);
  if (alloc) {
    w.add_u32(turn::attr::kRequestedTransport, uint32_t(turn::kProtocolUdp) << 24);
  } else {
    w.add_u32(turn::attr::kChannelNumber, uint32_t(kChannel) << 16);
    w.add_address(turn::attr::kXorPeerAddress, peer_, true);
  }
  if (key_) sign(w);  // after the 401: the long-term credential (RFC 8489 §9.2)
  w.add_fingerprint();
  return w.ok() ? w.size() : 0;
}

void TurnLeg::sign(stun::StunWriter& w) const {
  w.add_username(cfg_.user);
  w.add_string(stun::attr::kRealm, realm_);
  w.add_string(stun::attr::kNonce, nonce_);
  w.add_message_integrity(*key_);
}

size_t TurnLeg::release(uint8_t* out, size_t cap) {
  if (!key_ || !have_allocation_) return 0;
  uint8_t txid[12];
  std::memcpy(txid, "tlgr", 4);
  store_be32(txid + 4, id_);
  store_be32(txid + 8, ++serial_);
  stun::StunWriter w(out, cap);
  w.begin(turn::kMethodRefresh, stun::StunClass::kRequest, txid);
  w.add_u32(turn::attr::kLifetime, 0);
  sign(w);
  w.add_fingerprint();
  return w.ok() ? w.size() : 0;
}

size_t TurnLeg::start(uint8_t* out, size_t cap, Nanos now) {
  attempts_ = 1;
  next_retx_ = now + kRetransmit;
  return write_request(out, cap);
}

size_t TurnLeg::tick(uint8_t* out, size_t cap, Nanos now) {
  if (ready() || failed() || phase_ == Phase::kAllocated || now < next_retx_) return 0;
  if (++attempts_ > kMaxAttempts)
    return fail(phase_ == Phase::kAllocate ? "no answer to Allocate" : "no answer to ChannelBind"),
           0;
  next_retx_ = now + kRetransmit;
  --serial_;  // a retransmission keeps its transaction id
  return write_request(out, cap);
}

void TurnLeg::on_response(const stun::StunMessage& m, uint8_t* out, size_t cap, size_t* out_len) {
  *out_len = 0;
  if (ready() || failed() || std::memcmp(m.transaction_id(), txid_, 12) != 0) return;
  if (m.cls() == stun::StunClass::kError) {
    int code = 0;
    absl::string_view reason;
    m.error_code(&code, &reason);
    stun::Attribute a;
    const bool challenge = (code == turn::kUnauthorized && !key_) ||
                           (code == turn::kStaleNonce && key_ && ++stale_ <= 3);
    if (!challenge || !m.find(stun::attr::kNonce, &a))
      return fail(absl::StrCat(phase_ == Phase::kAllocate ? "Allocate" : "ChannelBind",
                               " answered ", code, " ", reason));
    nonce_.assign(reinterpret_cast<const char*>(a.value), a.length);
    if (m.find(stun::attr::kRealm, &a))
      realm_.assign(reinterpret_cast<const char*>(a.value), a.length);
    if (!key_) {
      const auto k = MessageIntegrity::long_term_key_md5(cfg_.user, realm_, cfg_.password);
      auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, k);
      if (!mi.ok()) return fail(std::string(mi.status().message()));
      key_.emplace(std::move(*mi));
    }
  } else if (m.cls() == stun::StunClass::kSuccess) {
    if (!key_ || m.verify_integrity(*key_) != stun::IntegrityCheck::kOk)
      return fail("a success response without valid MESSAGE-INTEGRITY");
    if (phase_ == Phase::kChannelBind) {
      phase_ = Phase::kReady;
      return;
    }
    have_allocation_ = true;
    stun::Attribute a;
    Endpoint relayed;
    if (m.find(turn::attr::kXorRelayedAddress, &a) && m.decode_address(a, true, &relayed))
      relayed_ = relayed;
    if (m.find(turn::attr::kLifetime, &a) && a.length == 4) lifetime_s_ = load_be32(a.value);
    if (deferred_) {
      // The peer is opened towards the relayed address: without it there is
      // nothing to bind to (the attribute is mandatory, RFC 8656 §7.3).
      if (!relayed_) return fail("Allocate success without XOR-RELAYED-ADDRESS");
      phase_ = Phase::kAllocated;
      return;
    }
    phase_ = Phase::kChannelBind;
  } else {
    return;
  }
  attempts_ = 1;
  *out_len = write_request(out, cap);
}

void TurnLeg::write_header(uint8_t* hdr, size_t payload_len) {
  store_be16(hdr, kChannel);
  store_be16(hdr + 2, uint16_t(payload_len));
}

const uint8_t* TurnLeg::payload(const uint8_t* d, size_t n, size_t* len) {
  if (n < kHeader || load_be16(d) != kChannel) return nullptr;
  const size_t l = load_be16(d + 2);
  if (l > n - kHeader) return nullptr;
  *len = l;
  return d + kHeader;
}

}  // namespace tern::loadgen
