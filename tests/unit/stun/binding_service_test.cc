#include "engine/stun/binding_service.h"

#include <cstring>
#include <string>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/stun_message.h"
#include "gtest/gtest.h"
#include "tests/unit/stun/rfc5769_vectors.h"

namespace tern {
namespace {

using stun::Attribute;
using stun::StunClass;
using stun::StunMessage;
using stun::StunWriter;
using Bytes = std::vector<uint8_t>;

constexpr uint8_t kTxid[12] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};

// A driver-like buffer: headroom in front, the datagram, tailroom behind.
struct TestPacket {
  explicit TestPacket(const Bytes& payload, const char* remote = "198.18.0.7:50000",
                      uint32_t capacity = 2048, uint32_t headroom = kDefaultHeadroom)
      : storage(capacity, 0xCC) {
    pkt.buf = storage.data();
    pkt.capacity = capacity;
    pkt.off = headroom;
    std::memcpy(pkt.data(), payload.data(), payload.size());
    pkt.len = uint32_t(payload.size());
    pkt.remote = *Endpoint::parse(remote);
    pkt.local = *Endpoint::parse("198.18.0.1:3478");
  }
  Bytes payload() const { return Bytes(pkt.data(), pkt.data() + pkt.len); }
  std::vector<uint8_t> storage;
  Packet pkt;
};

Bytes message(uint16_t method, StunClass cls,
              std::initializer_list<std::pair<uint16_t, Bytes>> attrs = {},
              bool fingerprint = false) {
  Bytes buf(1024);
  StunWriter w(buf.data(), buf.size());
  w.begin(method, cls, kTxid);
  for (const auto& [type, value] : attrs) w.add_bytes(type, value.data(), value.size());
  if (fingerprint) w.add_fingerprint();
  EXPECT_TRUE(w.ok());
  buf.resize(w.size());
  return buf;
}

Bytes binding_request(bool fingerprint = false) {
  return message(stun::kMethodBinding, StunClass::kRequest, {}, fingerprint);
}

void expect_success(const TestPacket& tp, const uint8_t* txid, const char* software) {
  StunMessage m;
  ASSERT_EQ(m.parse(tp.pkt.data(), tp.pkt.len), stun::ParseError::kOk);
  EXPECT_EQ(m.method(), stun::kMethodBinding);
  EXPECT_EQ(m.cls(), StunClass::kSuccess);
  EXPECT_EQ(0, std::memcmp(m.transaction_id(), txid, 12));
  Endpoint mapped;
  ASSERT_TRUE(m.xor_mapped_address(&mapped));
  EXPECT_EQ(mapped, tp.pkt.remote);
  Attribute a;
  if (software != nullptr) {
    ASSERT_TRUE(m.find(stun::attr::kSoftware, &a));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.value), a.length), software);
  } else {
    EXPECT_FALSE(m.has(stun::attr::kSoftware));
  }
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(m.verify_fingerprint());
  EXPECT_TRUE(m.unknown_required().empty());
}

TEST(StunBindingService, AnswersIpv4RequestInPlace) {
  StunBindingService svc;
  TestPacket tp(binding_request());
  const Endpoint remote = tp.pkt.remote, local = tp.pkt.local;
  ASSERT_TRUE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(tp.pkt.headroom(), kDefaultHeadroom);
  EXPECT_EQ(tp.pkt.remote, remote);
  EXPECT_EQ(tp.pkt.local, local);
  EXPECT_EQ(tp.pkt.len, 20u + 12 + 8 + 8);  // XOR-MAPPED-ADDRESS, SOFTWARE "tern", FINGERPRINT
  expect_success(tp, kTxid, "tern");
  EXPECT_EQ(svc.stats().requests.get(), 1u);
  EXPECT_EQ(svc.stats().responses.get(), 1u);
  EXPECT_EQ(svc.stats().drops.total(), 0u);
}

TEST(StunBindingService, AnswersIpv6Request) {
  StunBindingService svc;
  TestPacket tp(binding_request(true), "[2001:db8::42]:61000");
  ASSERT_TRUE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(tp.pkt.len, 20u + 24 + 8 + 8);
  expect_success(tp, kTxid, "tern");
}

TEST(StunBindingService, AnswersRfc5769SampleRequest) {
  // ICE attributes (PRIORITY is comprehension-required) are understood;
  // USERNAME and MESSAGE-INTEGRITY are not checked by this service.
  StunBindingService svc;
  TestPacket tp(Bytes(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest)));
  ASSERT_TRUE(svc.handle(&tp.pkt, 0));
  expect_success(tp, rfc5769::kRequest + 8, "tern");
}

TEST(StunBindingService, SoftwareConfig) {
  StunBindingService none(StunServiceConfig{""});
  TestPacket tp(binding_request());
  ASSERT_TRUE(none.handle(&tp.pkt, 0));
  expect_success(tp, kTxid, nullptr);
  EXPECT_EQ(tp.pkt.len, 20u + 12 + 8);

  // Fewer than 128 characters (§14.14), cut on a character boundary.
  std::string long_name;
  for (int i = 0; i < 200; ++i) long_name += "\xc3\xa9";  // é, 2 bytes
  StunBindingService clamped(StunServiceConfig{long_name});
  TestPacket tp2(binding_request());
  ASSERT_TRUE(clamped.handle(&tp2.pkt, 0));
  expect_success(tp2, kTxid, long_name.substr(0, 254).c_str());
}

TEST(StunBindingService, BadFingerprintDropped) {
  StunBindingService svc;
  Bytes req = binding_request(true);
  req.back() ^= 0x55;
  TestPacket tp(req);
  EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(tp.payload(), req);  // untouched
  EXPECT_EQ(svc.stats().drops.get(Drop::kStunFingerprint), 1u);
  EXPECT_EQ(svc.stats().responses.get(), 0u);
}

TEST(StunBindingService, UnknownRequiredAttributeGets420) {
  StunBindingService svc;
  TestPacket tp(message(stun::kMethodBinding, StunClass::kRequest,
                        {{0x0777, {1, 2, 3}}, {0xC0DE, {}}, {0x0042, {}}}, true));
  ASSERT_TRUE(svc.handle(&tp.pkt, 0));
  StunMessage m;
  ASSERT_EQ(m.parse(tp.pkt.data(), tp.pkt.len), stun::ParseError::kOk);
  EXPECT_EQ(m.method(), stun::kMethodBinding);
  EXPECT_EQ(m.cls(), StunClass::kError);
  EXPECT_EQ(0, std::memcmp(m.transaction_id(), kTxid, 12));
  int code = 0;
  absl::string_view reason;
  ASSERT_TRUE(m.error_code(&code, &reason));
  EXPECT_EQ(code, 420);
  EXPECT_EQ(reason, "Unknown Attribute");
  Attribute a;
  ASSERT_TRUE(m.find(stun::attr::kUnknownAttributes, &a));
  ASSERT_EQ(a.length, 4);
  EXPECT_EQ(load_be16(a.value), 0x0777);
  EXPECT_EQ(load_be16(a.value + 2), 0x0042);
  EXPECT_FALSE(m.has(stun::attr::kXorMappedAddress));
  EXPECT_TRUE(m.verify_fingerprint());
  EXPECT_EQ(svc.stats().responses.get(), 1u);
}

TEST(StunBindingService, NonBindingRequestDropped) {
  StunBindingService svc;
  TestPacket tp(message(0x003, StunClass::kRequest));  // TURN Allocate
  EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(svc.stats().drops.get(Drop::kStunUnknownMethod), 1u);
  EXPECT_EQ(svc.stats().requests.get(), 0u);
}

TEST(StunBindingService, IndicationCountedNotAnswered) {
  StunBindingService svc;
  TestPacket tp(message(stun::kMethodBinding, StunClass::kIndication, {}, true));
  EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(svc.stats().indications.get(), 1u);
  EXPECT_EQ(svc.stats().drops.total(), 0u);
  TestPacket other(message(0x007, StunClass::kIndication));  // TURN Data indication
  EXPECT_FALSE(svc.handle(&other.pkt, 0));
  EXPECT_EQ(svc.stats().drops.get(Drop::kStunUnknownMethod), 1u);
}

TEST(StunBindingService, ResponsesDropped) {
  StunBindingService svc;
  for (const Bytes& b : {message(stun::kMethodBinding, StunClass::kSuccess),
                         message(stun::kMethodBinding, StunClass::kError),
                         Bytes(std::begin(rfc5769::kResponseV4), std::end(rfc5769::kResponseV4))}) {
    TestPacket tp(b);
    EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  }
  EXPECT_EQ(svc.stats().drops.get(Drop::kStunUnknownMethod), 3u);
}

TEST(StunBindingService, MalformedAndLegacyDropped) {
  StunBindingService svc;
  Bytes req = binding_request();
  Bytes legacy = req;
  legacy[4] = 0x12;  // RFC 3489: bytes 4..7 are part of the transaction id
  Bytes overrun = message(stun::kMethodBinding, StunClass::kRequest, {{0x8022, {'a'}}});
  store_be16(overrun.data() + 22, 9);
  const std::vector<Bytes> bad = {Bytes{}, Bytes{0x00}, Bytes(req.begin(), req.end() - 1),
                                  legacy,  overrun,     Bytes(19, 0)};
  for (const Bytes& b : bad) {
    TestPacket tp(b);
    EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  }
  EXPECT_EQ(svc.stats().drops.get(Drop::kMalformedStun), bad.size());
  EXPECT_EQ(svc.stats().drops.total(), bad.size());
}

TEST(StunBindingService, NoRoomDropped) {
  StunBindingService svc;
  Bytes req = binding_request();
  // 20 bytes of request in a 60-byte buffer: the 48-byte response does not fit.
  TestPacket tp(req, "198.18.0.7:50000", /*capacity=*/60, /*headroom=*/16);
  EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(svc.stats().drops.get(Drop::kNoBuffer), 1u);
  EXPECT_EQ(tp.payload(), req);
  // 64 bytes: exactly enough.
  TestPacket fits(req, "198.18.0.7:50000", 64, 16);
  EXPECT_TRUE(svc.handle(&fits.pkt, 0));
  EXPECT_EQ(fits.pkt.tailroom(), 0u);
}

TEST(StunBindingService, RemoteWithoutFamilyDropped) {
  StunBindingService svc;
  TestPacket tp(binding_request());
  tp.pkt.remote = Endpoint{};
  EXPECT_FALSE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(svc.stats().drops.get(Drop::kUnsupportedL3), 1u);
}

TEST(StunBindingService, ResponseLongerThanRequest) {
  // A 20-byte request grows to a 48-byte response in the same buffer, and a
  // long request shrinks to the same response: len follows the response.
  StunBindingService svc;
  Bytes big = message(stun::kMethodBinding, StunClass::kRequest,
                      {{stun::attr::kSoftware, Bytes(400, 'x')}});
  TestPacket tp(big);
  ASSERT_TRUE(svc.handle(&tp.pkt, 0));
  EXPECT_EQ(tp.pkt.len, 48u);
  expect_success(tp, kTxid, "tern");
}

}  // namespace
}  // namespace tern
