#include "engine/stun/binding_service.h"

#include <cstring>

#include "engine/stun/stun_message.h"

namespace tern {
namespace {

constexpr size_t kMaxSoftwareChars = 127;
constexpr absl::string_view kReason420 = "Unknown Attribute";

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t{3}; }

// Cuts s to at most kMaxSoftwareChars UTF-8 characters without splitting one.
std::string clamp_software(std::string s) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((uint8_t(s[i]) & 0xC0) != 0x80 && ++chars > kMaxSoftwareChars) {
      s.resize(i);
      break;
    }
  }
  return s;
}

}  // namespace

StunBindingService::StunBindingService(StunServiceConfig cfg) : cfg_(std::move(cfg)) {
  cfg_.software = clamp_software(std::move(cfg_.software));
}

bool StunBindingService::handle(Packet* pkt, Nanos /*now*/) {
  stun::StunMessage msg;
  if (msg.parse(pkt->data(), pkt->len) != stun::ParseError::kOk) {
    stats_.drops.add(Drop::kMalformedStun);
    return false;
  }
  if (msg.has_fingerprint() && !msg.verify_fingerprint()) {
    stats_.drops.add(Drop::kStunFingerprint);
    return false;
  }
  const bool binding = msg.method() == stun::kMethodBinding;
  if (msg.cls() == stun::StunClass::kIndication && binding) {
    stats_.indications.add();
    return false;
  }
  if (msg.cls() != stun::StunClass::kRequest || !binding) {
    stats_.drops.add(Drop::kStunUnknownMethod);
    return false;
  }
  stats_.requests.add();

  const Endpoint remote = pkt->remote;
  if (!remote.is_v4() && !remote.is_v6()) {
    stats_.drops.add(Drop::kUnsupportedL3);
    return false;
  }

  // Everything the response needs leaves the buffer before it is overwritten.
  uint8_t txid[stun::kTransactionIdSize];
  std::memcpy(txid, msg.transaction_id(), sizeof(txid));
  uint16_t unknown[stun::StunMessage::kMaxUnknown];
  const size_t unknown_count = msg.unknown_required().size();
  std::memcpy(unknown, msg.unknown_required().data(), unknown_count * sizeof(uint16_t));

  size_t need = stun::kHeaderSize + 8;  // header + FINGERPRINT
  if (!cfg_.software.empty()) need += 4 + padded(cfg_.software.size());
  if (unknown_count != 0) {
    need += 4 + padded(4 + kReason420.size()) + 4 + padded(2 * unknown_count);
  } else {
    need += 4 + (remote.is_v4() ? 8 : 20);
  }
  if (pkt->capacity < pkt->headroom() || need > pkt->capacity - pkt->headroom()) {
    stats_.drops.add(Drop::kNoBuffer);
    return false;
  }

  pkt->reset(pkt->headroom());
  stun::StunWriter w(pkt->data(), pkt->tailroom());
  if (unknown_count != 0) {
    w.begin(stun::kMethodBinding, stun::StunClass::kError, txid);
    w.add_error_code(420, kReason420);
    w.add_unknown_attributes(absl::Span<const uint16_t>(unknown, unknown_count));
  } else {
    w.begin(stun::kMethodBinding, stun::StunClass::kSuccess, txid);
    w.add_xor_mapped_address(remote);
  }
  if (!cfg_.software.empty()) w.add_software(cfg_.software);
  w.add_fingerprint();
  if (!w.ok() || pkt->append(uint32_t(w.size())) == nullptr) {
    stats_.drops.add(Drop::kNoBuffer);  // not reached: `need` covers every byte
    return false;
  }
  stats_.responses.add();
  return true;
}

}  // namespace tern
