// Fuzz target for the STUN codec and the Binding service: parse, walk every
// attribute, decode what has a decoder, verify FINGERPRINT and both
// MESSAGE-INTEGRITY flavours with a fixed key, re-encode, and run the service
// on a Packet over a copy of the input. Invariants are checked with traps so
// that libFuzzer and replay_main both report them.
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/stun/binding_service.h"
#include "engine/stun/stun_message.h"

namespace {

using namespace tern;
using namespace tern::stun;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

MessageIntegrity& key(IntegrityAlgorithm alg) {
  static MessageIntegrity sha1 =
      *MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, "VOkJxbRl1RmTxUk/WvJxBt");
  static MessageIntegrity sha256 =
      *MessageIntegrity::create(IntegrityAlgorithm::kHmacSha256, "VOkJxbRl1RmTxUk/WvJxBt");
  return alg == IntegrityAlgorithm::kHmacSha1 ? sha1 : sha256;
}

void exercise_reader(const uint8_t* data, size_t size) {
  StunMessage m;
  if (m.parse(data, size) != ParseError::kOk) {
    check(!m.valid());
    return;
  }
  check(m.valid() && m.size() == size && (size & 3) == 0);
  check(m.unknown_required().size() <= StunMessage::kMaxUnknown);

  // Re-encode every attribute in force (integrity and fingerprint
  // recomputed): the result must parse again to the same type and txid.
  std::vector<uint8_t> out(size + 64);
  StunWriter w(out.data(), out.size());
  w.begin(m.method(), m.cls(), m.transaction_id());
  size_t count = 0;
  for (Attribute a : m) {
    ++count;
    check(a.offset >= kHeaderSize && a.offset + 4u + a.length <= size);
    Endpoint ep;
    if (a.type == attr::kXorMappedAddress || a.type == attr::kMappedAddress) {
      if (m.decode_address(a, a.type == attr::kXorMappedAddress, &ep)) {
        check(ep.is_v4() || ep.is_v6());
      }
    }
    if (a.type == attr::kMessageIntegrity || a.type == attr::kMessageIntegritySha256 ||
        a.type == attr::kFingerprint) {
      continue;
    }
    w.add_bytes(a.type, a.value, a.length);
  }
  int code = 0;
  absl::string_view reason;
  if (m.error_code(&code, &reason)) check(code >= 300 && code <= 699);
  (void)m.verify_fingerprint();
  (void)m.verify_integrity(key(IntegrityAlgorithm::kHmacSha1));
  (void)m.verify_integrity(key(IntegrityAlgorithm::kHmacSha256));

  w.add_message_integrity(key(IntegrityAlgorithm::kHmacSha1));
  w.add_fingerprint();
  check(w.ok());
  StunMessage again;
  check(again.parse(out.data(), w.size()) == ParseError::kOk);
  check(again.type() == m.type());
  check(std::memcmp(again.transaction_id(), m.transaction_id(), kTransactionIdSize) == 0);
  check(again.verify_fingerprint());
  check(again.verify_integrity(key(IntegrityAlgorithm::kHmacSha1)) == IntegrityCheck::kOk);
  size_t again_count = 0;
  for (Attribute a : again) again_count += (void(a), 1);
  check(again_count == count + 2 - (m.has(attr::kMessageIntegrity) ? 1 : 0) -
                           (m.has(attr::kMessageIntegritySha256) ? 1 : 0) -
                           (m.has_fingerprint() ? 1 : 0));
}

void exercise_service(const uint8_t* data, size_t size) {
  static StunBindingService svc;
  constexpr uint32_t kHeadroom = kDefaultHeadroom, kTailroom = 512;
  std::vector<uint8_t> storage(kHeadroom + size + kTailroom);
  Packet pkt;
  pkt.buf = storage.data();
  pkt.capacity = uint32_t(storage.size());
  pkt.off = kHeadroom;
  pkt.len = uint32_t(size);
  if (size != 0) std::memcpy(pkt.data(), data, size);
  // Alternate families so both XOR-MAPPED-ADDRESS encodings run.
  static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  pkt.remote = (size & 1) ? Endpoint::v6(v6, 61000) : Endpoint::v4(0xC6120007, 50000);
  pkt.local = Endpoint::v4(0xC6120001, 3478);
  const Endpoint remote = pkt.remote;

  uint8_t txid[kTransactionIdSize] = {};
  if (size >= kHeaderSize) std::memcpy(txid, data + 8, sizeof(txid));
  if (!svc.handle(&pkt, 0)) return;

  check(pkt.headroom() == kHeadroom && pkt.remote == remote);
  StunMessage r;
  check(r.parse(pkt.data(), pkt.len) == ParseError::kOk);
  check(r.method() == kMethodBinding);
  check(std::memcmp(r.transaction_id(), txid, sizeof(txid)) == 0);
  check(r.verify_fingerprint());
  if (r.cls() == StunClass::kSuccess) {
    Endpoint mapped;
    check(r.xor_mapped_address(&mapped) && mapped == remote);
  } else {
    int code = 0;
    absl::string_view reason;
    check(r.cls() == StunClass::kError && r.error_code(&code, &reason) && code == 420);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exercise_reader(data, size);
  exercise_service(data, size);
  return 0;
}
