#include "engine/srtp/srtp_session.h"

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/srtp_ctx/srtp_reference.h"

namespace tern {
namespace {

using srtp_ref::Bytes;
using srtp_ref::hex;

// RFC 7714 §16: the RTP packet of every AES-GCM vector (seq 0xf17b, SSRC
// 0x5501a0b2, "Gallia est omnis divisa in partes tres"), and §17's RTCP SR.
const Bytes kRtp =
    hex("8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973"
        "20646976 69736120 696e2070 61727465 73207472 6573");
const Bytes kRtcp =
    hex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61"
        "deadbeef deadbeef deadbeef deadbeef deadbeef");
const Bytes kGcmKey128 = hex("000102030405060708090a0b0c0d0e0f");
const Bytes kGcmKey256 = hex("000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f");
const Bytes kGcmSalt = hex("517569642070726f2071756f");  // "Quid pro quo"
// RFC 3711 B.3 master key and salt.
const Bytes kCmKey = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Bytes kCmSalt = hex("0EC675AD498AFEEBB6960B3AABE6");

class Srtp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(srtp_library_init().ok()); }
};

// ---- the reference against the RFCs ------------------------------------------------

TEST(SrtpReference, Rfc3711KeyDerivation) {
  const auto k = srtp_ref::derive(kCmKey, kCmSalt, false, false);
  EXPECT_EQ(k.enc, hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(k.auth, hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  EXPECT_EQ(k.salt, hex("30CBBC08863D8C85D49DB34A9AE1"));
}

TEST(SrtpReference, Rfc7714RtpVector) {
  // §16.1.1: key and salt are the session key and salt.
  const srtp_ref::SessionKeys k{kGcmKey128, kGcmSalt, {}};
  EXPECT_EQ(srtp_ref::protect_rtp(k, true, 16, kRtp, 0),
            hex("8040f17b 8041f8d3 5501a0b2"
                "f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b"
                "36de3adf 8833"
                "899d7f27 beb16a91 52cf765e e4390cce"));
}

TEST(SrtpReference, Rfc7714RtcpVector) {
  // §17 (AEAD_AES_256_GCM), SRTCP index 0x5d4 with E set.
  const srtp_ref::SessionKeys k{kGcmKey256, kGcmSalt, {}};
  EXPECT_EQ(srtp_ref::protect_rtcp(k, true, kRtcp, 0x5d4),
            hex("81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50"
                "a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c"
                "b26ac3be 800005d4"));
}

// ---- SrtpSession against the reference, per profile --------------------------------------

struct Profile {
  const char* name;
  SrtpProfile profile;
  bool gcm;
  size_t rtp_tag;
};
const Profile kProfiles[] = {
    {"AES_CM_128_HMAC_SHA1_80", SrtpProfile::kAes128CmSha1_80, false, 10},
    {"AES_CM_128_HMAC_SHA1_32", SrtpProfile::kAes128CmSha1_32, false, 4},
    {"AEAD_AES_128_GCM", SrtpProfile::kAeadAes128Gcm, true, 16},
    {"AEAD_AES_256_GCM", SrtpProfile::kAeadAes256Gcm, true, 16},
};

class SrtpProfileTest : public Srtp, public ::testing::WithParamInterface<Profile> {
 protected:
  const Bytes& key() const {
    if (!GetParam().gcm) return kCmKey;
    return GetParam().profile == SrtpProfile::kAeadAes256Gcm ? kGcmKey256 : kGcmKey128;
  }
  const Bytes& salt() const { return GetParam().gcm ? kGcmSalt : kCmSalt; }
  SrtpSession make(SrtpSession::Direction dir, SrtpOptions opt = SrtpOptions()) const {
    auto s = SrtpSession::create(GetParam().profile, dir, key(), salt(), opt);
    EXPECT_TRUE(s.ok()) << s.status();
    return std::move(*s);
  }
  Bytes protect(SrtpSession& s, const Bytes& in, bool rtcp, SrtpStatus* st = nullptr) const {
    Bytes buf = in;
    buf.resize(in.size() + (rtcp ? s.rtcp_overhead() : s.rtp_overhead()));  // exact tailroom
    size_t len = in.size();
    const SrtpStatus r = rtcp ? s.protect_rtcp(buf.data(), &len, buf.size())
                              : s.protect_rtp(buf.data(), &len, buf.size());
    if (st) {
      *st = r;
    } else {
      EXPECT_EQ(r, SrtpStatus::kOk) << srtp_status_name(r);
    }
    buf.resize(r == SrtpStatus::kOk ? len : 0);
    return buf;
  }
  SrtpStatus unprotect(SrtpSession& s, Bytes* buf, bool rtcp) const {
    size_t len = buf->size();
    const SrtpStatus r =
        rtcp ? s.unprotect_rtcp(buf->data(), &len) : s.unprotect_rtp(buf->data(), &len);
    if (r == SrtpStatus::kOk) buf->resize(len);
    return r;
  }
};

Bytes rtp_packet(uint16_t seq, uint32_t ssrc, size_t payload, bool csrc_and_ext = false) {
  Bytes p = {0x80, 0x60, uint8_t(seq >> 8), uint8_t(seq), 0, 0, 0x10, 0x00};
  p.resize(12);
  srtp_ref::put32(&p[8], ssrc);
  if (csrc_and_ext) {
    p[0] = 0x91;  // X, one CSRC
    const Bytes more = hex("11111111 bede0001 10aa0000");
    p.insert(p.end(), more.begin(), more.end());
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(uint8_t(i * 13 + seq));
  return p;
}

TEST_P(SrtpProfileTest, ProtectRtpMatchesReference) {
  SrtpSession out = make(SrtpSession::Direction::kOutbound);
  SrtpSession in = make(SrtpSession::Direction::kInbound);
  EXPECT_EQ(out.rtp_overhead(), GetParam().rtp_tag);
  const auto keys = srtp_ref::derive(key(), salt(), GetParam().gcm, false);
  // The RFC 7714 packet, then a stream with CSRC + extension across the
  // sequence wrap (ROC 0 -> 1).
  std::vector<std::pair<Bytes, uint32_t>> cases = {{kRtp, 0}};
  for (uint32_t seq = 65533; seq < 65540; ++seq) {
    cases.push_back({rtp_packet(uint16_t(seq), 0xcafe, 160, seq & 1), seq >> 16});
  }
  for (const auto& [plain, roc] : cases) {
    const Bytes got = protect(out, plain, false);
    ASSERT_EQ(got, srtp_ref::protect_rtp(keys, GetParam().gcm, GetParam().rtp_tag, plain, roc))
        << "seq " << (plain[2] << 8 | plain[3]);
    EXPECT_EQ(got.size(), plain.size() + out.rtp_overhead());
    Bytes back = got;
    ASSERT_EQ(unprotect(in, &back, false), SrtpStatus::kOk);
    EXPECT_EQ(back, plain);
  }
  EXPECT_EQ(out.counters().get(SrtpStatus::kOk), cases.size());
  EXPECT_EQ(in.counters().get(SrtpStatus::kOk), cases.size());
}

TEST_P(SrtpProfileTest, ProtectRtcpMatchesReference) {
  SrtpSession out = make(SrtpSession::Direction::kOutbound);
  SrtpSession in = make(SrtpSession::Direction::kInbound);
  const auto keys = srtp_ref::derive(key(), salt(), GetParam().gcm, true);
  for (int i = 0; i < 3; ++i) {
    const Bytes got = protect(out, kRtcp, true);
    ASSERT_EQ(got.size(), kRtcp.size() + out.rtcp_overhead());
    // The E+index word: last for GCM (RFC 7714 §9: tag inside the AEAD
    // output before it), before the HMAC tag for AES-CM (RFC 3711 §3.4).
    const size_t at = GetParam().gcm ? got.size() - 4 : got.size() - 4 - 10;
    const uint32_t e_index = srtp_ref::be32(&got[at]);
    EXPECT_TRUE(e_index & 0x80000000u);
    const uint32_t index = e_index & 0x7fffffff;
    EXPECT_EQ(index, uint32_t(i + 1)) << "libsrtp numbers SRTCP from 1";
    ASSERT_EQ(got, srtp_ref::protect_rtcp(keys, GetParam().gcm, kRtcp, index));
    Bytes back = got;
    ASSERT_EQ(unprotect(in, &back, true), SrtpStatus::kOk);
    EXPECT_EQ(back, kRtcp);
  }
}

TEST_P(SrtpProfileTest, ReplayAndTamperDetected) {
  SrtpSession out = make(SrtpSession::Direction::kOutbound);
  SrtpSession in = make(SrtpSession::Direction::kInbound);
  const Bytes p1 = protect(out, rtp_packet(1, 7, 100), false);
  const Bytes p2000 = protect(out, rtp_packet(2000, 7, 100), false);
  Bytes b = p1;
  ASSERT_EQ(unprotect(in, &b, false), SrtpStatus::kOk);
  b = p1;
  EXPECT_EQ(unprotect(in, &b, false), SrtpStatus::kReplayDuplicate);
  b = p2000;
  ASSERT_EQ(unprotect(in, &b, false), SrtpStatus::kOk);
  b = p1;  // now 1999 behind a 1024 window
  EXPECT_EQ(unprotect(in, &b, false), SrtpStatus::kReplayOld);

  const Bytes p3 = protect(out, rtp_packet(2001, 7, 100), false);
  for (size_t at : {size_t(2), size_t(20), p3.size() - 1}) {  // header, payload, tag
    b = p3;
    b[at] ^= 0x01;
    EXPECT_EQ(unprotect(in, &b, false), SrtpStatus::kAuthFail) << at;
  }
  b = p3;
  EXPECT_EQ(unprotect(in, &b, false), SrtpStatus::kOk);  // the genuine one still passes

  // RTCP: tamper and replay.
  const Bytes r1 = protect(out, kRtcp, true);
  b = r1;
  b[10] ^= 0x80;
  EXPECT_EQ(unprotect(in, &b, true), SrtpStatus::kAuthFail);
  b = r1;
  ASSERT_EQ(unprotect(in, &b, true), SrtpStatus::kOk);
  b = r1;
  EXPECT_EQ(unprotect(in, &b, true), SrtpStatus::kReplayDuplicate);

  // Another key.
  Bytes other_key = key();
  other_key[0] ^= 1;
  auto wrong =
      SrtpSession::create(GetParam().profile, SrtpSession::Direction::kInbound, other_key, salt());
  ASSERT_TRUE(wrong.ok());
  b = p3;
  EXPECT_EQ(unprotect(*wrong, &b, false), SrtpStatus::kAuthFail);

  EXPECT_EQ(in.counters().get(SrtpStatus::kAuthFail), 4u);
  EXPECT_EQ(in.counters().get(SrtpStatus::kReplayDuplicate), 2u);
  EXPECT_EQ(in.counters().get(SrtpStatus::kReplayOld), 1u);
}

TEST_P(SrtpProfileTest, RepeatTransmitNeedsOption) {
  SrtpSession out = make(SrtpSession::Direction::kOutbound);
  const Bytes plain = rtp_packet(5, 9, 50);
  protect(out, plain, false);
  SrtpStatus st;
  EXPECT_TRUE(protect(out, plain, false, &st).empty());
  EXPECT_EQ(st, SrtpStatus::kReplayDuplicate);
  SrtpOptions opt;
  opt.allow_repeat_tx = true;
  SrtpSession again = make(SrtpSession::Direction::kOutbound, opt);
  const Bytes a = protect(again, plain, false);
  EXPECT_EQ(protect(again, plain, false), a);  // same index: same bytes
}

TEST_P(SrtpProfileTest, LengthAndTailroomChecks) {
  SrtpSession out = make(SrtpSession::Direction::kOutbound);
  SrtpSession in = make(SrtpSession::Direction::kInbound);
  Bytes buf = rtp_packet(1, 1, 20);
  size_t len = buf.size();
  buf.resize(len + out.rtp_overhead() - 1);
  EXPECT_EQ(out.protect_rtp(buf.data(), &len, buf.size()), SrtpStatus::kNoTailroom);
  EXPECT_EQ(len, 32u);
  len = 11;
  EXPECT_EQ(out.protect_rtp(buf.data(), &len, buf.size()), SrtpStatus::kBadLength);
  len = 7;
  EXPECT_EQ(out.protect_rtcp(buf.data(), &len, buf.size()), SrtpStatus::kBadLength);
  len = 12 + out.rtp_overhead() - 1;
  EXPECT_EQ(in.unprotect_rtp(buf.data(), &len), SrtpStatus::kBadLength);
  len = 8 + in.rtcp_overhead() - 1;
  EXPECT_EQ(in.unprotect_rtcp(buf.data(), &len), SrtpStatus::kBadLength);
  // CSRC count pointing past the end: libsrtp refuses the header.
  Bytes bad = rtp_packet(2, 1, 0);
  bad[0] = 0x8f;
  bad.resize(12 + 64);
  len = 12;
  EXPECT_EQ(out.protect_rtp(bad.data(), &len, bad.size()), SrtpStatus::kBadLength);
  EXPECT_EQ(out.counters().get(SrtpStatus::kBadLength), 3u);
  EXPECT_EQ(out.counters().get(SrtpStatus::kNoTailroom), 1u);
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, SrtpProfileTest, ::testing::ValuesIn(kProfiles),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- wiring, setup ------------------------------------------------------------------------

// A DTLS exporter block (RFC 5764 §4.2): client_key | server_key |
// client_salt | server_salt. Each side's local half is its role's.
TEST_F(Srtp, DtlsKeyingBlockWiredBothWays) {
  for (const Profile& prof : kProfiles) {
    const size_t kl = prof.profile == SrtpProfile::kAeadAes256Gcm ? 32 : 16;
    const size_t sl = prof.gcm ? 12 : 14;
    Bytes block(2 * (kl + sl));
    for (size_t i = 0; i < block.size(); ++i) block[i] = uint8_t(i * 7 + 3);
    const uint8_t* client_key = block.data();
    const uint8_t* server_key = client_key + kl;
    const uint8_t* client_salt = server_key + kl;
    const uint8_t* server_salt = client_salt + sl;
    SrtpKeyingMaterial client{}, server{};
    client.profile = server.profile = prof.profile;
    std::memcpy(client.local_key, client_key, kl);
    std::memcpy(client.local_salt, client_salt, sl);
    std::memcpy(client.remote_key, server_key, kl);
    std::memcpy(client.remote_salt, server_salt, sl);
    std::memcpy(server.local_key, server_key, kl);
    std::memcpy(server.local_salt, server_salt, sl);
    std::memcpy(server.remote_key, client_key, kl);
    std::memcpy(server.remote_salt, client_salt, sl);

    auto c_out = SrtpSession::outbound(client), c_in = SrtpSession::inbound(client);
    auto s_out = SrtpSession::outbound(server), s_in = SrtpSession::inbound(server);
    ASSERT_TRUE(c_out.ok() && c_in.ok() && s_out.ok() && s_in.ok()) << prof.name;
    for (auto [from, to] : {std::pair{&*c_out, &*s_in}, std::pair{&*s_out, &*c_in}}) {
      Bytes buf = rtp_packet(100, 0xabc, 200);
      const Bytes plain = buf;
      size_t len = buf.size();
      buf.resize(len + 64);
      ASSERT_EQ(from->protect_rtp(buf.data(), &len, buf.size()), SrtpStatus::kOk);
      ASSERT_EQ(to->unprotect_rtp(buf.data(), &len), SrtpStatus::kOk) << prof.name;
      buf.resize(len);
      EXPECT_EQ(buf, plain);
      buf = kRtcp;
      len = buf.size();
      buf.resize(len + 64);
      ASSERT_EQ(from->protect_rtcp(buf.data(), &len, buf.size()), SrtpStatus::kOk);
      ASSERT_EQ(to->unprotect_rtcp(buf.data(), &len), SrtpStatus::kOk) << prof.name;
      EXPECT_EQ(len, kRtcp.size());
    }
    // Crossed wrongly (own outbound into own inbound): different keys.
    Bytes buf = rtp_packet(1, 1, 10);
    size_t len = buf.size();
    buf.resize(len + 64);
    ASSERT_EQ(c_out->protect_rtp(buf.data(), &len, buf.size()), SrtpStatus::kOk);
    EXPECT_EQ(c_in->unprotect_rtp(buf.data(), &len), SrtpStatus::kAuthFail);
  }
}

TEST_F(Srtp, CreateNamesBadInput) {
  const Bytes k(16, 1), s(14, 2);
  auto r = SrtpSession::create(SrtpProfile::kAeadAes128Gcm, SrtpSession::Direction::kInbound, k,
                               s);  // GCM wants a 12-byte salt
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("salt is 14 bytes"), std::string::npos) << r.status();
  r = SrtpSession::create(SrtpProfile::kAeadAes256Gcm, SrtpSession::Direction::kInbound, k,
                          Bytes(12, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key is 16 bytes"), std::string::npos) << r.status();
  SrtpOptions opt;
  opt.replay_window = 10;
  r = SrtpSession::create(SrtpProfile::kAes128CmSha1_80, SrtpSession::Direction::kInbound, k, s,
                          opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("replay_window 10"), std::string::npos) << r.status();
  r = SrtpSession::create(static_cast<SrtpProfile>(3), SrtpSession::Direction::kInbound, k, s);
  EXPECT_FALSE(r.ok());
}

TEST_F(Srtp, MoveKeepsSessionAndCounters) {
  auto a = SrtpSession::create(SrtpProfile::kAes128CmSha1_80, SrtpSession::Direction::kOutbound,
                               kCmKey, kCmSalt);
  ASSERT_TRUE(a.ok());
  SrtpSession s = std::move(*a);
  Bytes buf = rtp_packet(1, 1, 10);
  size_t len = buf.size();
  buf.resize(64);
  ASSERT_EQ(s.protect_rtp(buf.data(), &len, buf.size()), SrtpStatus::kOk);
  SrtpSession t = std::move(s);
  EXPECT_EQ(t.counters().get(SrtpStatus::kOk), 1u);
  EXPECT_EQ(t.profile(), SrtpProfile::kAes128CmSha1_80);
  EXPECT_EQ(t.direction(), SrtpSession::Direction::kOutbound);
}

TEST(SrtpInit, OnceAcrossThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { ok += srtp_library_init().ok() ? 1 : 0; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_TRUE(srtp_library_init().ok());
}

}  // namespace
}  // namespace tern
