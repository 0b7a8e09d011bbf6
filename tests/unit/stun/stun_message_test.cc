#include "engine/stun/stun_message.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/stun/crc32.h"
#include "gtest/gtest.h"
#include "tests/unit/stun/rfc5769_vectors.h"

namespace tern::stun {
namespace {

using Bytes = std::vector<uint8_t>;

template <size_t N>
Bytes bytes(const uint8_t (&a)[N]) {
  return Bytes(a, a + N);
}

MessageIntegrity short_term_key(absl::string_view password = rfc5769::kPassword) {
  auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, password);
  EXPECT_TRUE(mi.ok()) << mi.status();
  return std::move(*mi);
}

std::string str(const Attribute& a) {
  return std::string(reinterpret_cast<const char*>(a.value), a.length);
}

// ------------------------------------------------------------------ CRC-32

uint32_t crc32_bitwise(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFF;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

TEST(Crc32, CheckValue) {
  const char* s = "123456789";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(s), 9), 0xCBF43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
}

TEST(Crc32, MatchesBitwiseAtEveryLengthAndAlignment) {
  std::mt19937 rng(1);
  Bytes buf(300);
  for (auto& b : buf) b = uint8_t(rng());
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n + off <= buf.size(); n += 7) {
      ASSERT_EQ(crc32(buf.data() + off, n), crc32_bitwise(buf.data() + off, n)) << off << " " << n;
    }
  }
  // Incremental == one shot.
  EXPECT_EQ(crc32_update(crc32(buf.data(), 13), buf.data() + 13, 200), crc32(buf.data(), 213));
}

// ------------------------------------------------------------------ type field

TEST(MessageType, KnownValues) {
  EXPECT_EQ(message_type(kMethodBinding, StunClass::kRequest), 0x0001);
  EXPECT_EQ(message_type(kMethodBinding, StunClass::kIndication), 0x0011);
  EXPECT_EQ(message_type(kMethodBinding, StunClass::kSuccess), 0x0101);
  EXPECT_EQ(message_type(kMethodBinding, StunClass::kError), 0x0111);
  EXPECT_EQ(message_type(0x003, StunClass::kRequest), 0x0003);  // TURN Allocate
  EXPECT_EQ(message_type(0xFFF, StunClass::kError), 0x3FFF);
}

TEST(MessageType, RoundTripsEveryMethodAndClass) {
  for (uint16_t m = 0; m < 0x1000; ++m) {
    for (int c = 0; c < 4; ++c) {
      const uint16_t t = message_type(m, StunClass(c));
      ASSERT_EQ(t & 0xC000, 0);
      ASSERT_EQ(method_of(t), m);
      ASSERT_EQ(class_of(t), StunClass(c));
    }
  }
}

// ------------------------------------------------------------------ RFC 5769

TEST(Rfc5769, SampleRequestParses) {
  StunMessage m;
  ASSERT_EQ(m.parse(rfc5769::kRequest, sizeof(rfc5769::kRequest)), ParseError::kOk);
  EXPECT_EQ(m.method(), kMethodBinding);
  EXPECT_EQ(m.cls(), StunClass::kRequest);
  EXPECT_EQ(0, std::memcmp(m.transaction_id(), rfc5769::kRequest + 8, 12));
  std::vector<uint16_t> types;
  for (Attribute a : m) types.push_back(a.type);
  EXPECT_EQ(types,
            (std::vector<uint16_t>{attr::kSoftware, attr::kPriority, attr::kIceControlled,
                                   attr::kUsername, attr::kMessageIntegrity, attr::kFingerprint}));
  Attribute a;
  ASSERT_TRUE(m.find(attr::kSoftware, &a));
  EXPECT_EQ(str(a), "STUN test client");
  ASSERT_TRUE(m.find(attr::kUsername, &a));
  EXPECT_EQ(str(a), "evtj:h6vY");
  ASSERT_TRUE(m.find(attr::kPriority, &a));
  EXPECT_EQ(load_be32(a.value), 0x6e0001ffu);
  ASSERT_TRUE(m.find(attr::kIceControlled, &a));
  EXPECT_EQ(load_be64(a.value), 0x932ff9b151263b36u);
  EXPECT_TRUE(m.unknown_required().empty());
  EXPECT_FALSE(m.has(attr::kXorMappedAddress));

  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_TRUE(m.verify_fingerprint());
  MessageIntegrity key = short_term_key();
  EXPECT_EQ(m.verify_integrity(key), IntegrityCheck::kOk);
  MessageIntegrity wrong = short_term_key("VOkJxbRl1RmTxUk/WvJxBT");
  EXPECT_EQ(m.verify_integrity(wrong), IntegrityCheck::kMismatch);
  auto sha256 = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha256, rfc5769::kPassword);
  ASSERT_TRUE(sha256.ok());
  EXPECT_EQ(m.verify_integrity(*sha256), IntegrityCheck::kMissing);
}

TEST(Rfc5769, SampleRequestRebuildsByteExact) {
  uint8_t buf[256];
  StunWriter w(buf, sizeof(buf));
  w.set_padding_byte(0x20);
  MessageIntegrity key = short_term_key();
  w.begin(kMethodBinding, StunClass::kRequest, rfc5769::kRequest + 8);
  w.add_software("STUN test client");
  w.add_u32(attr::kPriority, 0x6e0001ff);
  w.add_u64(attr::kIceControlled, 0x932ff9b151263b36);
  w.add_username("evtj:h6vY");
  w.add_message_integrity(key);
  w.add_fingerprint();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(Bytes(buf, buf + w.size()), bytes(rfc5769::kRequest));
}

void check_response(const Bytes& vec, const Endpoint& want) {
  StunMessage m;
  ASSERT_EQ(m.parse(vec.data(), vec.size()), ParseError::kOk);
  EXPECT_EQ(m.method(), kMethodBinding);
  EXPECT_EQ(m.cls(), StunClass::kSuccess);
  Attribute a;
  ASSERT_TRUE(m.find(attr::kSoftware, &a));
  EXPECT_EQ(str(a), "test vector");
  Endpoint ep;
  ASSERT_TRUE(m.xor_mapped_address(&ep));
  EXPECT_EQ(ep, want) << ep.to_string();
  EXPECT_FALSE(m.mapped_address(&ep));
  EXPECT_TRUE(m.verify_fingerprint());
  MessageIntegrity key = short_term_key();
  EXPECT_EQ(m.verify_integrity(key), IntegrityCheck::kOk);

  uint8_t buf[256];
  StunWriter w(buf, sizeof(buf));
  w.set_padding_byte(0x20);
  w.begin(kMethodBinding, StunClass::kSuccess, vec.data() + 8);
  w.add_software("test vector");
  w.add_xor_mapped_address(want);
  w.add_message_integrity(key);
  w.add_fingerprint();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(Bytes(buf, buf + w.size()), vec);
}

TEST(Rfc5769, Ipv4Response) {
  check_response(bytes(rfc5769::kResponseV4), *Endpoint::parse("192.0.2.1:32853"));
}

TEST(Rfc5769, Ipv6Response) {
  check_response(bytes(rfc5769::kResponseV6),
                 *Endpoint::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
}

TEST(Rfc5769, LongTermRequest) {
  StunMessage m;
  ASSERT_EQ(m.parse(rfc5769::kLongTermRequest, sizeof(rfc5769::kLongTermRequest)), ParseError::kOk);
  EXPECT_EQ(m.cls(), StunClass::kRequest);
  Attribute a;
  ASSERT_TRUE(m.find(attr::kUsername, &a));
  EXPECT_EQ(str(a), rfc5769::kLongTermUsername);
  ASSERT_TRUE(m.find(attr::kNonce, &a));
  EXPECT_EQ(str(a), rfc5769::kLongTermNonce);
  ASSERT_TRUE(m.find(attr::kRealm, &a));
  EXPECT_EQ(str(a), rfc5769::kLongTermRealm);
  EXPECT_FALSE(m.has_fingerprint());
  EXPECT_FALSE(m.verify_fingerprint());

  const auto k = MessageIntegrity::long_term_key_md5(
      rfc5769::kLongTermUsername, rfc5769::kLongTermRealm, rfc5769::kLongTermPasswordPrepped);
  auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, absl::MakeConstSpan(k));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(m.verify_integrity(*key), IntegrityCheck::kOk);
  // The unprepared password gives another key.
  const auto raw = MessageIntegrity::long_term_key_md5(
      rfc5769::kLongTermUsername, rfc5769::kLongTermRealm, "The\xc2\xadM\xc2\xaatr\xe2\x85\xa8");
  auto bad = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, absl::MakeConstSpan(raw));
  EXPECT_EQ(m.verify_integrity(*bad), IntegrityCheck::kMismatch);

  uint8_t buf[256];
  StunWriter w(buf, sizeof(buf));
  w.begin(kMethodBinding, StunClass::kRequest, rfc5769::kLongTermRequest + 8);
  w.add_username(rfc5769::kLongTermUsername);
  w.add_string(attr::kNonce, rfc5769::kLongTermNonce);
  w.add_string(attr::kRealm, rfc5769::kLongTermRealm);
  w.add_message_integrity(*key);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(Bytes(buf, buf + w.size()), bytes(rfc5769::kLongTermRequest));
}

TEST(Rfc5769, EveryTruncationRejected) {
  for (const Bytes& v : {bytes(rfc5769::kRequest), bytes(rfc5769::kResponseV4),
                         bytes(rfc5769::kResponseV6), bytes(rfc5769::kLongTermRequest)}) {
    for (size_t n = 0; n < v.size(); ++n) {
      Bytes cut(v.begin(), v.begin() + n);  // exact-size heap copy: ASan sees overreads
      StunMessage m;
      EXPECT_NE(m.parse(cut.data(), cut.size()), ParseError::kOk) << n;
      EXPECT_FALSE(m.valid());
    }
  }
}

TEST(Rfc5769, EverySingleBitFlipIsCaught) {
  // Fingerprint or integrity (or parsing) must reject every corrupted bit.
  const Bytes v = bytes(rfc5769::kRequest);
  MessageIntegrity key = short_term_key();
  for (size_t bit = 0; bit < v.size() * 8; ++bit) {
    Bytes c = v;
    c[bit / 8] ^= uint8_t(1u << (bit % 8));
    StunMessage m;
    if (m.parse(c.data(), c.size()) != ParseError::kOk) continue;
    EXPECT_FALSE(m.verify_fingerprint() && m.verify_integrity(key) == IntegrityCheck::kOk) << bit;
  }
}

// ------------------------------------------------------------------ header errors

Bytes binding_request(std::initializer_list<std::pair<uint16_t, Bytes>> attrs = {},
                      bool fingerprint = false) {
  static const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  Bytes buf(1024);
  StunWriter w(buf.data(), buf.size());
  w.begin(kMethodBinding, StunClass::kRequest, txid);
  for (const auto& [type, value] : attrs) w.add_bytes(type, value.data(), value.size());
  if (fingerprint) w.add_fingerprint();
  EXPECT_TRUE(w.ok());
  buf.resize(w.size());
  return buf;
}

TEST(Parse, EmptyRequest) {
  Bytes b = binding_request();
  ASSERT_EQ(b.size(), 20u);
  StunMessage m;
  ASSERT_EQ(m.parse(b.data(), b.size()), ParseError::kOk);
  EXPECT_EQ(m.begin(), m.end());
}

TEST(Parse, HeaderErrors) {
  StunMessage m;
  Bytes b = binding_request({{attr::kSoftware, {'x'}}});
  {
    Bytes c = b;
    c[0] |= 0x80;
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kNotStun);
    c[0] = 0x40;
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kNotStun);
  }
  {
    Bytes c = b;
    c[4] ^= 0x01;  // cookie
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kBadCookie);
  }
  {
    Bytes c = b;
    store_be16(c.data() + 2, load_be16(c.data() + 2) + 1);  // not a multiple of 4
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kBadLength);
    store_be16(c.data() + 2, load_be16(b.data() + 2) + 4);  // longer than the datagram
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kBadLength);
    store_be16(c.data() + 2, load_be16(b.data() + 2) - 4);  // shorter than the datagram
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kBadLength);
  }
  {
    Bytes c = b;
    c.insert(c.end(), {0, 0, 0, 0});  // trailing bytes after the message
    EXPECT_EQ(m.parse(c.data(), c.size()), ParseError::kBadLength);
  }
  EXPECT_EQ(m.parse(b.data(), 19), ParseError::kTooShort);
  EXPECT_EQ(m.parse(nullptr, 0), ParseError::kTooShort);
  EXPECT_STREQ(parse_error_name(ParseError::kBadCookie), "bad_cookie");
}

TEST(Parse, AttributeOverrun) {
  StunMessage m;
  Bytes b = binding_request({{attr::kSoftware, Bytes(8, 'a')}});
  // Value length 9: padded to 12, runs 4 past the end.
  store_be16(b.data() + 22, 9);
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kAttributeOverrun);
  // Value length 13 and 200: past the end without padding.
  store_be16(b.data() + 22, 13);
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kAttributeOverrun);
  store_be16(b.data() + 22, 200);
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kAttributeOverrun);
  // Value length 8 is exact; 5..7 pad to 8 and fit.
  for (uint16_t n : {5, 6, 7, 8}) {
    store_be16(b.data() + 22, n);
    EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kOk) << n;
  }
}

TEST(Parse, TruncatedAttributeHeader) {
  // The last attribute claims a value that is not there.
  Bytes b = binding_request({{attr::kSoftware, {}}, {attr::kSoftware, {}}});
  ASSERT_EQ(b.size(), 28u);
  StunMessage m;
  ASSERT_EQ(m.parse(b.data(), b.size()), ParseError::kOk);
  store_be16(b.data() + 26, 4);  // second attribute claims 4 bytes that are not there
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kAttributeOverrun);
}

TEST(Parse, FingerprintMustBeLastAndFourBytes) {
  StunMessage m;
  Bytes b = binding_request({{attr::kFingerprint, {0, 0, 0, 0}}, {attr::kSoftware, {'x'}}});
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kBadFingerprint);
  b = binding_request({{attr::kFingerprint, {0, 0, 0, 0, 0, 0, 0, 0}}});
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kBadFingerprint);
}

TEST(Parse, IntegrityLengths) {
  StunMessage m;
  Bytes b = binding_request({{attr::kMessageIntegrity, Bytes(16)}});
  EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kBadIntegrityLength);
  for (size_t n : {12, 18, 36}) {
    b = binding_request({{attr::kMessageIntegritySha256, Bytes(n)}});
    EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kBadIntegrityLength) << n;
  }
  for (size_t n : {16, 20, 32}) {
    b = binding_request({{attr::kMessageIntegritySha256, Bytes(n)}});
    EXPECT_EQ(m.parse(b.data(), b.size()), ParseError::kOk) << n;
  }
}

TEST(Parse, WrongFingerprintValue) {
  Bytes b = binding_request({{attr::kSoftware, {'a', 'b'}}}, true);
  StunMessage m;
  ASSERT_EQ(m.parse(b.data(), b.size()), ParseError::kOk);
  EXPECT_TRUE(m.verify_fingerprint());
  b.back() ^= 1;
  ASSERT_EQ(m.parse(b.data(), b.size()), ParseError::kOk);
  EXPECT_FALSE(m.verify_fingerprint());
  // Body change also breaks it.
  b.back() ^= 1;
  b[24] = 'z';
  ASSERT_EQ(m.parse(b.data(), b.size()), ParseError::kOk);
  EXPECT_FALSE(m.verify_fingerprint());
}

TEST(Parse, UnknownComprehensionRequiredReportedOnce) {
  Bytes b = binding_request({{0x0777, {1}},
                             {0x7FFF, {}},
                             {0x0777, {2}},
                             {0xC001, {3}},  // optional: never reported
                             {attr::kPriority, {0, 0, 0, 1}},
                             {attr::kUseCandidate, {}}});
  StunMessage m;
  ASSERT_EQ(m.parse(b.data(), b.size()), ParseError::kOk);
  auto u = m.unknown_required();
  EXPECT_EQ(std::vector<uint16_t>(u.begin(), u.end()), (std::vector<uint16_t>{0x0777, 0x7FFF}));
  // find() returns the first occurrence.
  Attribute a;
  ASSERT_TRUE(m.find(0x0777, &a));
  EXPECT_EQ(a.value[0], 1);
  EXPECT_EQ(a.offset, 20u);
}

TEST(Parse, UnknownListIsBounded) {
  Bytes buf(1024);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {};
  w.begin(kMethodBinding, StunClass::kRequest, txid);
  for (uint16_t t = 0x0100; t < 0x0100 + 40; ++t) w.add(t, 0);
  ASSERT_TRUE(w.ok());
  StunMessage m;
  ASSERT_EQ(m.parse(buf.data(), w.size()), ParseError::kOk);
  EXPECT_EQ(m.unknown_required().size(), StunMessage::kMaxUnknown);
}

TEST(Parse, AttributesAfterIntegrityAreIgnored) {
  MessageIntegrity key = short_term_key();
  Bytes buf(512);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {9};
  w.begin(kMethodBinding, StunClass::kRequest, txid);
  w.add_username("user");
  w.add_message_integrity(key);
  w.add_software("after");  // ignored by receivers (§14.5)
  w.add(0x0777, 4);         // unknown, but ignored: not reported
  w.add_fingerprint();
  ASSERT_TRUE(w.ok());
  StunMessage m;
  ASSERT_EQ(m.parse(buf.data(), w.size()), ParseError::kOk);
  EXPECT_FALSE(m.has(attr::kSoftware));
  EXPECT_TRUE(m.unknown_required().empty());
  std::vector<uint16_t> types;
  for (Attribute a : m) types.push_back(a.type);
  EXPECT_EQ(types,
            (std::vector<uint16_t>{attr::kUsername, attr::kMessageIntegrity, attr::kFingerprint}));
  EXPECT_TRUE(m.verify_fingerprint());
  EXPECT_EQ(m.verify_integrity(key), IntegrityCheck::kOk);
}

// ------------------------------------------------------------------ integrity

TEST(Integrity, Sha1AndSha256TogetherWithFingerprint) {
  MessageIntegrity k1 = short_term_key("secret");
  auto k256 = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha256, "secret");
  ASSERT_TRUE(k256.ok());
  Bytes buf(512);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144};
  w.begin(kMethodBinding, StunClass::kRequest, txid);
  w.add_username("alice:bob");
  EXPECT_FALSE(w.add_message_integrity_sha256(k1));  // wrong algorithm: sticky failure
  EXPECT_FALSE(w.ok());

  w.begin(kMethodBinding, StunClass::kRequest, txid);
  w.add_username("alice:bob");
  w.add_message_integrity(k1);
  w.add_message_integrity_sha256(*k256);
  w.add_fingerprint();
  ASSERT_TRUE(w.ok());
  buf.resize(w.size());

  StunMessage m;
  ASSERT_EQ(m.parse(buf.data(), buf.size()), ParseError::kOk);
  EXPECT_EQ(m.verify_integrity(k1), IntegrityCheck::kOk);
  EXPECT_EQ(m.verify_integrity(*k256), IntegrityCheck::kOk);
  EXPECT_TRUE(m.verify_fingerprint());

  // Independent reference: HMAC-SHA256 over the message up to the attribute
  // with the length field covering it.
  Attribute a;
  ASSERT_TRUE(m.find(attr::kMessageIntegritySha256, &a));
  ASSERT_EQ(a.length, 32);
  Bytes covered(buf.begin(), buf.begin() + a.offset);
  store_be16(covered.data() + 2, uint16_t(a.offset + 36 - 20));
  uint8_t ref[32];
  unsigned ref_len = 0;
  HMAC(EVP_sha256(), "secret", 6, covered.data(), covered.size(), ref, &ref_len);
  EXPECT_EQ(0, std::memcmp(ref, a.value, 32));

  auto other = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha256, "Secret");
  EXPECT_EQ(m.verify_integrity(*other), IntegrityCheck::kMismatch);
}

TEST(Integrity, TruncatedSha256) {
  auto k = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha256, "pw");
  ASSERT_TRUE(k.ok());
  Bytes buf(256);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {7};
  w.begin(kMethodBinding, StunClass::kSuccess, txid);
  uint8_t* mac = w.add(attr::kMessageIntegritySha256, 16);
  ASSERT_NE(mac, nullptr);
  uint8_t full[32];
  ASSERT_TRUE(k->compute(buf.data(), size_t(mac - 4 - buf.data()), nullptr, 0, full));
  std::memcpy(mac, full, 16);
  StunMessage m;
  ASSERT_EQ(m.parse(buf.data(), w.size()), ParseError::kOk);
  EXPECT_EQ(m.verify_integrity(*k), IntegrityCheck::kOk);
  mac[15] ^= 1;
  EXPECT_EQ(m.verify_integrity(*k), IntegrityCheck::kMismatch);
}

// ------------------------------------------------------------------ writer

TEST(Writer, ErrorCodeAndUnknownAttributesRoundTrip) {
  Bytes buf(256);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {3};
  w.begin(kMethodBinding, StunClass::kError, txid);
  w.add_error_code(420, "Unknown Attribute");
  const uint16_t unknown[] = {0x0777, 0x1234, 0x7FFF};
  w.add_unknown_attributes(unknown);
  ASSERT_TRUE(w.ok());
  StunMessage m;
  ASSERT_EQ(m.parse(buf.data(), w.size()), ParseError::kOk);
  EXPECT_EQ(m.cls(), StunClass::kError);
  int code = 0;
  absl::string_view reason;
  ASSERT_TRUE(m.error_code(&code, &reason));
  EXPECT_EQ(code, 420);
  EXPECT_EQ(reason, "Unknown Attribute");
  Attribute a;
  ASSERT_TRUE(m.find(attr::kUnknownAttributes, &a));
  ASSERT_EQ(a.length, 6);
  EXPECT_EQ(load_be16(a.value + 4), 0x7FFF);

  EXPECT_FALSE(StunWriter(buf.data(), buf.size()).add_error_code(420, "x"));  // no begin()
  StunWriter bad(buf.data(), buf.size());
  bad.begin(kMethodBinding, StunClass::kError, txid);
  EXPECT_FALSE(bad.add_error_code(299, "x"));
  bad.begin(kMethodBinding, StunClass::kError, txid);
  EXPECT_FALSE(bad.add_error_code(700, "x"));
}

TEST(Writer, MappedAddressBothFamilies) {
  for (const char* text : {"198.18.0.1:3478", "[2001:db8::1]:65535"}) {
    Endpoint ep = *Endpoint::parse(text);
    Bytes buf(256);
    StunWriter w(buf.data(), buf.size());
    const uint8_t txid[12] = {0xAA, 0xBB};
    w.begin(kMethodBinding, StunClass::kSuccess, txid);
    w.add_mapped_address(ep);
    w.add_xor_mapped_address(ep);
    ASSERT_TRUE(w.ok());
    StunMessage m;
    ASSERT_EQ(m.parse(buf.data(), w.size()), ParseError::kOk);
    Endpoint got;
    ASSERT_TRUE(m.mapped_address(&got));
    EXPECT_EQ(got, ep);
    ASSERT_TRUE(m.xor_mapped_address(&got));
    EXPECT_EQ(got, ep);
  }
  Bytes buf(64);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {};
  w.begin(kMethodBinding, StunClass::kSuccess, txid);
  EXPECT_FALSE(w.add_xor_mapped_address(Endpoint{}));  // no family
}

TEST(Writer, OverflowIsStickyAndBounded) {
  uint8_t buf[40];
  std::memset(buf, 0xEE, sizeof(buf));
  StunWriter w(buf, 32);
  const uint8_t txid[12] = {};
  ASSERT_TRUE(w.begin(kMethodBinding, StunClass::kRequest, txid));
  EXPECT_TRUE(w.add_software("abcdefgh"));  // 20 + 12 = 32: fits exactly
  EXPECT_FALSE(w.add_fingerprint());
  EXPECT_FALSE(w.ok());
  EXPECT_FALSE(w.add_software(""));
  EXPECT_EQ(w.size(), 32u);
  for (size_t i = 32; i < sizeof(buf); ++i) EXPECT_EQ(buf[i], 0xEE);
  StunWriter tiny(buf, 19);
  EXPECT_FALSE(tiny.begin(kMethodBinding, StunClass::kRequest, txid));
}

TEST(Writer, PaddingAndLengthField) {
  Bytes buf(64, 0xEE);
  StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {};
  w.begin(kMethodBinding, StunClass::kIndication, txid);
  w.add_software("abcde");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size(), 32u);
  EXPECT_EQ(load_be16(buf.data() + 2), 12);
  EXPECT_EQ(load_be16(buf.data() + 22), 5);
  EXPECT_EQ(buf[29], 0);
  EXPECT_EQ(buf[31], 0);
  EXPECT_EQ(load_be16(buf.data()), 0x0011);
}

}  // namespace
}  // namespace tern::stun

namespace tern::stun {
namespace {

// The prepared-state HMAC against OpenSSL's one-shot HMAC(), for empty,
// block-sized and longer-than-a-block keys (which RFC 2104 hashes first).
TEST(Integrity, MatchesOpenSslHmacForAllKeyLengths) {
  Bytes msg(333);
  for (size_t i = 0; i < msg.size(); ++i) msg[i] = uint8_t(i * 7);
  for (size_t key_len : {0, 1, 20, 63, 64, 65, 100, 200}) {
    Bytes k(key_len);
    for (size_t i = 0; i < key_len; ++i) k[i] = uint8_t(i + 1);
    for (auto alg : {IntegrityAlgorithm::kHmacSha1, IntegrityAlgorithm::kHmacSha256}) {
      auto mi = MessageIntegrity::create(alg, absl::MakeConstSpan(k));
      ASSERT_TRUE(mi.ok());
      uint8_t got[32], want[32];
      unsigned want_len = 0;
      ASSERT_TRUE(mi->compute(msg.data(), 20, msg.data() + 20, msg.size() - 20, got));
      HMAC(alg == IntegrityAlgorithm::kHmacSha1 ? EVP_sha1() : EVP_sha256(), k.data(),
           int(k.size()), msg.data(), msg.size(), want, &want_len);
      ASSERT_EQ(want_len, mi->mac_size());
      EXPECT_EQ(0, std::memcmp(got, want, want_len)) << key_len;
    }
  }
}

}  // namespace
}  // namespace tern::stun
