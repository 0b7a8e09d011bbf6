#include "engine/dtls/dtls_endpoint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "tests/unit/dtls/dtls_test_util.h"

namespace tern {
namespace {

using dtls_test::Datagram;
using dtls_test::mono_now;
using dtls_test::Pair;

constexpr SrtpProfile kAll[] = {SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAes128CmSha1_32,
                                SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm};

DtlsEndpointConfig cfg(std::vector<SrtpProfile> profiles = {}) {
  DtlsEndpointConfig c;
  if (!profiles.empty()) c.srtp_profiles = std::move(profiles);
  return c;
}

DtlsEndpointConfig fast_cfg() {
  DtlsEndpointConfig c;
  c.initial_retransmit = 60 * kMillisecond;
  c.max_retransmit = 500 * kMillisecond;
  return c;
}

void expect_mirrored(const DtlsEndpoint& client, const DtlsEndpoint& server) {
  ASSERT_TRUE(client.has_srtp_keys());
  ASSERT_TRUE(server.has_srtp_keys());
  const SrtpKeyingMaterial& c = client.srtp_keys();
  const SrtpKeyingMaterial& s = server.srtp_keys();
  EXPECT_EQ(c.profile, s.profile);
  const SrtpProfileInfo& info = srtp_profile_info(c.profile);
  EXPECT_EQ(0, std::memcmp(c.local_key, s.remote_key, info.key_len));
  EXPECT_EQ(0, std::memcmp(c.remote_key, s.local_key, info.key_len));
  EXPECT_EQ(0, std::memcmp(c.local_salt, s.remote_salt, info.salt_len));
  EXPECT_EQ(0, std::memcmp(c.remote_salt, s.local_salt, info.salt_len));
  EXPECT_NE(0, std::memcmp(c.local_key, c.remote_key, info.key_len));
  // Bytes beyond the profile's lengths stay zero.
  for (size_t i = info.key_len; i < kSrtpMaxKeyLen; ++i) EXPECT_EQ(0, c.local_key[i]);
  for (size_t i = info.salt_len; i < kSrtpMaxSaltLen; ++i) EXPECT_EQ(0, c.local_salt[i]);
}

TEST(DtlsEndpoint, HandshakeDefaultsToGcmAndEcdsa) {
  Pair p(cfg(), cfg());
  p.run();
  ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
  ASSERT_EQ(p.server->state(), DtlsState::kConnected) << p.server->failure_reason();
  EXPECT_EQ(p.client->srtp_keys().profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(p.client->cipher_name(), "ECDHE-ECDSA-AES128-GCM-SHA256");
  expect_mirrored(*p.client, *p.server);
  EXPECT_EQ(p.client->peer_fingerprint().hex(), p.server_ctx->certificate().fingerprint().hex());
  EXPECT_EQ(p.server->peer_fingerprint().hex(), p.client_ctx->certificate().fingerprint().hex());
  EXPECT_EQ(p.client->next_timeout(), kNever);
  EXPECT_EQ(p.server->next_timeout(), kNever);
}

// RFC 5764 §4.2 against the raw exporter output.
TEST(DtlsEndpoint, KeySplitMatchesExportedBlock) {
  for (SrtpProfile prof : kAll) {
    Pair p(cfg({prof}), cfg({prof}));
    p.run();
    ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
    const SrtpProfileInfo& info = srtp_profile_info(prof);
    const size_t k = info.key_len, s = info.salt_len;
    uint8_t block[2 * (32 + 14)];
    ASSERT_TRUE(p.server->export_keying_material("EXTRACTOR-dtls_srtp", block, 2 * (k + s)).ok());
    const SrtpKeyingMaterial& c = p.client->srtp_keys();
    const SrtpKeyingMaterial& sv = p.server->srtp_keys();
    EXPECT_EQ(0, std::memcmp(block, c.local_key, k)) << info.name;           // client key
    EXPECT_EQ(0, std::memcmp(block + k, sv.local_key, k)) << info.name;      // server key
    EXPECT_EQ(0, std::memcmp(block + 2 * k, c.local_salt, s)) << info.name;  // client salt
    EXPECT_EQ(0, std::memcmp(block + 2 * k + s, sv.local_salt, s)) << info.name;
    expect_mirrored(*p.client, *p.server);
  }
}

// The server's order decides (OpenSSL walks the client's list and keeps the match
// with the best rank in the server's list), whatever the client prefers.
TEST(DtlsEndpoint, EveryProfileOrderNegotiatesServerPreference) {
  std::vector<std::vector<SrtpProfile>> lists;
  for (SrtpProfile a : kAll) lists.push_back({a});
  for (SrtpProfile a : kAll)
    for (SrtpProfile b : kAll)
      if (a != b) lists.push_back({a, b});
  std::vector<SrtpProfile> all(std::begin(kAll), std::end(kAll));
  lists.push_back(all);
  lists.push_back(std::vector<SrtpProfile>(all.rbegin(), all.rend()));
  int handshakes = 0;
  for (const auto& cl : lists) {
    for (const auto& sl : lists) {
      SrtpProfile expected{};
      bool common = false;
      for (SrtpProfile s : sl) {
        if (std::find(cl.begin(), cl.end(), s) != cl.end()) {
          expected = s;
          common = true;
          break;
        }
      }
      if (!common) continue;
      Pair p(cfg(cl), cfg(sl));
      p.run();
      ++handshakes;
      ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
      ASSERT_EQ(p.server->state(), DtlsState::kConnected) << p.server->failure_reason();
      ASSERT_EQ(p.client->srtp_keys().profile, expected)
          << "client first " << srtp_profile_info(cl[0]).name << " server first "
          << srtp_profile_info(sl[0]).name;
      expect_mirrored(*p.client, *p.server);
    }
  }
  EXPECT_GT(handshakes, 150);
}

// Chromium offers GCM first; a server that lists AES-CM first still gets AES-CM.
TEST(DtlsEndpoint, ServerOrderWinsAgainstClientOrder) {
  Pair a(cfg({SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80}),
         cfg({SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAeadAes128Gcm}));
  a.run();
  EXPECT_EQ(a.client->srtp_keys().profile, SrtpProfile::kAes128CmSha1_80);
  Pair b(cfg({SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAeadAes128Gcm}),
         cfg({SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80}));
  b.run();
  EXPECT_EQ(b.server->srtp_keys().profile, SrtpProfile::kAeadAes128Gcm);
}

TEST(DtlsEndpoint, NoCommonProfileFailsWhenRequired) {
  Pair p(cfg({SrtpProfile::kAes128CmSha1_32}), cfg({SrtpProfile::kAeadAes256Gcm}));
  p.run();
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);
  EXPECT_EQ(p.client->failure_reason(), "no SRTP profile negotiated");
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_EQ(p.server->failure_reason(), "no SRTP profile negotiated");
}

TEST(DtlsEndpoint, NoSrtpWhenNotRequested) {
  DtlsEndpointConfig c = cfg();
  c.srtp_profiles.clear();
  Pair p(c, c);
  p.run();
  ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
  EXPECT_FALSE(p.client->has_srtp_keys());
  EXPECT_FALSE(p.server->has_srtp_keys());
}

TEST(DtlsEndpoint, ClientDetectsFingerprintMismatch) {
  Pair p(cfg(), cfg(), /*wrong_client_expectation=*/true);
  p.run();
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);
  EXPECT_EQ(p.client->failure_reason(), "fingerprint mismatch");
  EXPECT_FALSE(p.client->has_srtp_keys());
  // The server learns through the bad_certificate alert.
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_NE(p.server->failure_reason(), "fingerprint mismatch");
  EXPECT_NE(p.server->failure_reason().find("bad certificate"), std::string::npos)
      << p.server->failure_reason();
}

TEST(DtlsEndpoint, ServerDetectsFingerprintMismatch) {
  Pair p(cfg(), cfg(), false, /*wrong_server_expectation=*/true);
  p.run();
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_EQ(p.server->failure_reason(), "fingerprint mismatch");
  EXPECT_FALSE(p.server->has_srtp_keys());
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);
  EXPECT_NE(p.client->failure_reason().find("bad certificate"), std::string::npos)
      << p.client->failure_reason();
}

TEST(DtlsEndpoint, OtherFingerprintHashesAccepted) {
  for (FingerprintHash h :
       {FingerprintHash::kSha1, FingerprintHash::kSha384, FingerprintHash::kSha512}) {
    Pair p(cfg(), cfg());
    auto sfp = certificate_fingerprint(p.server_ctx->certificate().x509(), h);
    auto cfp = certificate_fingerprint(p.client_ctx->certificate().x509(), h);
    ASSERT_TRUE(sfp.ok() && cfp.ok());
    ASSERT_TRUE(p.client->set_remote_fingerprint(*sfp).ok());
    ASSERT_TRUE(p.server->set_remote_fingerprint(*cfp).ok());
    p.run();
    EXPECT_EQ(p.client->state(), DtlsState::kConnected) << fingerprint_hash_name(h);
    EXPECT_EQ(p.server->state(), DtlsState::kConnected) << fingerprint_hash_name(h);
    // Flip one byte: mismatch under the same hash.
    Pair q(cfg(), cfg());
    Fingerprint bad = *sfp;
    bad.bytes[bad.len - 1] ^= 1;
    ASSERT_TRUE(q.client->set_remote_fingerprint(bad).ok());
    q.run();
    EXPECT_EQ(q.client->failure_reason(), "fingerprint mismatch") << fingerprint_hash_name(h);
  }
}

TEST(DtlsEndpoint, MissingRemoteFingerprintFails) {
  Pair p(cfg(), cfg());
  DtlsEndpointConfig c = cfg();
  c.role = DtlsRole::kServer;
  auto server = DtlsEndpoint::create(p.server_ctx, c);
  ASSERT_TRUE(server.ok());
  p.server = std::move(*server);  // same certificate, no expectation set
  p.run();
  EXPECT_EQ(p.server->state(), DtlsState::kFailed);
  EXPECT_EQ(p.server->failure_reason(), "no remote fingerprint");
}

TEST(DtlsEndpoint, SetRemoteFingerprintAfterVerificationIsRefused) {
  Pair p(cfg(), cfg());
  p.run();
  ASSERT_EQ(p.client->state(), DtlsState::kConnected);
  EXPECT_FALSE(p.client->set_remote_fingerprint(p.client->peer_fingerprint()).ok());
}

// Lost flights come back by timer: drop the first n datagrams in one direction.
TEST(DtlsEndpoint, RecoversFromLostDatagrams) {
  struct Case {
    bool from_client;
    int drop;
  };
  for (Case k : {Case{true, 1}, Case{true, 2}, Case{false, 1}, Case{false, 2}, Case{true, 3}}) {
    Pair p(fast_cfg(), fast_cfg());
    p.filter = [k](bool from_client, int index, Datagram d) -> std::vector<Datagram> {
      if (from_client == k.from_client && index < k.drop) return {};
      return {d};
    };
    p.run();
    ASSERT_EQ(p.client->state(), DtlsState::kConnected)
        << "drop " << k.drop << (k.from_client ? " from client: " : " from server: ")
        << p.client->failure_reason();
    ASSERT_EQ(p.server->state(), DtlsState::kConnected) << p.server->failure_reason();
    EXPECT_GT(p.client->stats().retransmits + p.server->stats().retransmits, 0u);
    expect_mirrored(*p.client, *p.server);
  }
}

// The server's last flight (CCS + Finished) is lost: the client retransmits its
// Finished flight and the server, already connected, answers with its own again.
TEST(DtlsEndpoint, RecoversFromLostFinalFlight) {
  Pair p(fast_cfg(), fast_cfg());
  bool dropped = false;
  p.filter = [&](bool from_client, int, Datagram d) -> std::vector<Datagram> {
    if (!from_client && !dropped && p.server->state() == DtlsState::kConnected) {
      dropped = true;
      return {};
    }
    return {d};
  };
  p.run();
  EXPECT_TRUE(dropped);
  ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
  EXPECT_GT(p.client->stats().retransmits, 0u);
  expect_mirrored(*p.client, *p.server);
}

TEST(DtlsEndpoint, ToleratesDuplication) {
  Pair p(fast_cfg(), fast_cfg());
  p.filter = [&](bool, int, Datagram d) -> std::vector<Datagram> { return {d, d, d}; };
  p.run();
  ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
  ASSERT_EQ(p.server->state(), DtlsState::kConnected) << p.server->failure_reason();
  expect_mirrored(*p.client, *p.server);
}

// Every flight arrives in reverse datagram order (small MTU: many datagrams per
// flight), also with every datagram duplicated. Reordering is within a flight: OpenSSL
// 3.0 was seen to abort ("unexpected message") when a datagram of an old flight is
// delayed past the retransmission of the next one (docs/dtls.md).
TEST(DtlsEndpoint, ToleratesReordering) {
  for (bool dup : {false, true}) {
    DtlsEndpointConfig c = fast_cfg();
    c.mtu = 300;
    Pair p(c, c);
    p.reverse_batches = true;
    int count = 0;
    p.filter = [&](bool, int, Datagram d) -> std::vector<Datagram> {
      ++count;
      if (dup) return {d, d};
      return {d};
    };
    p.run();
    EXPECT_GT(count, 8);
    ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
    ASSERT_EQ(p.server->state(), DtlsState::kConnected) << p.server->failure_reason();
    expect_mirrored(*p.client, *p.server);
  }
}

TEST(DtlsEndpoint, GarbageIsDroppedWithoutHarm) {
  Pair p(fast_cfg(), fast_cfg());
  std::mt19937 rng(7);
  int injected = 0;
  p.filter = [&](bool, int, Datagram d) -> std::vector<Datagram> {
    // Random bytes and random bytes with a DTLS content type before the datagram;
    // a truncated and a bit-flipped copy after it. (A corrupted copy of a plaintext
    // handshake record that arrives BEFORE the original is an on-path attack DTLS 1.2
    // cannot absorb: the transcript diverges and the handshake fails.)
    Datagram junk(1 + rng() % 300);
    for (auto& b : junk) b = static_cast<uint8_t>(rng());
    std::vector<Datagram> out{junk};
    junk[0] = static_cast<uint8_t>(20 + rng() % 4);
    out.push_back(junk);
    out.push_back(d);
    out.push_back(Datagram(d.begin(), d.begin() + static_cast<long>(d.size() / 2)));
    Datagram flipped = d;
    flipped[13 + rng() % (flipped.size() - 13)] ^= 0x40;
    out.push_back(flipped);
    injected += 4;
    return out;
  };
  p.run();
  EXPECT_GT(injected, 0);
  ASSERT_EQ(p.client->state(), DtlsState::kConnected) << p.client->failure_reason();
  ASSERT_EQ(p.server->state(), DtlsState::kConnected) << p.server->failure_reason();
  expect_mirrored(*p.client, *p.server);
  // Non-DTLS first bytes and runts never reach OpenSSL.
  const uint8_t stun[20] = {0x00, 0x01};
  uint64_t before = p.server->stats().dropped_in;
  p.server->feed(stun, sizeof(stun), mono_now());
  p.server->feed(stun, 5, mono_now());
  p.server->feed(nullptr, 0, mono_now());
  EXPECT_EQ(p.server->stats().dropped_in, before + 3);
  EXPECT_EQ(p.server->state(), DtlsState::kConnected);
}

TEST(DtlsEndpoint, ApplicationDataBothWays) {
  Pair p(cfg(), cfg());
  const uint8_t early[] = {1, 2, 3};
  EXPECT_FALSE(p.client->send_application_data(early, 3, mono_now()).ok());
  p.run();
  ASSERT_EQ(p.client->state(), DtlsState::kConnected);
  const size_t max = p.client->max_app_data_size();
  EXPECT_GT(max, 1100u);
  EXPECT_LE(max, 1200u - 13);
  std::string a = "hello from the client", b = "and from the server";
  ASSERT_TRUE(
      p.client
          ->send_application_data(reinterpret_cast<const uint8_t*>(a.data()), a.size(), mono_now())
          .ok());
  ASSERT_TRUE(
      p.server
          ->send_application_data(reinterpret_cast<const uint8_t*>(b.data()), b.size(), mono_now())
          .ok());
  std::vector<uint8_t> big(max, 0xab);
  ASSERT_TRUE(p.client->send_application_data(big.data(), big.size(), mono_now()).ok());
  big.push_back(0);
  EXPECT_FALSE(p.client->send_application_data(big.data(), big.size(), mono_now()).ok());
  // Every datagram fits the MTU.
  EXPECT_LE(p.client->next_output_size(), 1200u);
  p.pump();
  ASSERT_EQ(p.server_rx.size(), 2u);
  EXPECT_EQ(p.server_rx[0], a);
  EXPECT_EQ(p.server_rx[1].size(), max);
  ASSERT_EQ(p.client_rx.size(), 1u);
  EXPECT_EQ(p.client_rx[0], b);
  EXPECT_EQ(p.server->stats().app_bytes_in, a.size() + max);
}

TEST(DtlsEndpoint, CloseNotifyReachesPeer) {
  Pair p(cfg(), cfg());
  p.run();
  ASSERT_EQ(p.server->state(), DtlsState::kConnected);
  p.client->close(mono_now());
  EXPECT_EQ(p.client->state(), DtlsState::kClosed);
  EXPECT_GT(p.client->output_count(), 0u);
  p.pump();
  EXPECT_EQ(p.server->state(), DtlsState::kClosed);
  EXPECT_EQ(p.server->failure_reason(), "");
  const uint8_t x[] = {1};
  EXPECT_FALSE(p.server->send_application_data(x, 1, mono_now()).ok());
}

TEST(DtlsEndpoint, FlightsFragmentToMtu) {
  for (size_t mtu : {256u, 300u, 576u, 1200u}) {
    DtlsEndpointConfig c = cfg();
    c.mtu = mtu;
    Pair p(c, c);
    size_t largest = 0;
    int count = 0;
    p.filter = [&](bool, int, Datagram d) -> std::vector<Datagram> {
      largest = std::max(largest, d.size());
      ++count;
      return {d};
    };
    p.run();
    ASSERT_EQ(p.client->state(), DtlsState::kConnected) << "mtu " << mtu;
    EXPECT_LE(largest, mtu);
    if (mtu == 1200) {
      EXPECT_LE(count, 6) << "records should be packed into few datagrams";
    }
  }
}

TEST(DtlsEndpoint, HandshakeTimesOutWithoutPeer) {
  DtlsEndpointConfig c = fast_cfg();
  c.handshake_timeout = 400 * kMillisecond;
  Pair p(c, c);
  p.filter = [](bool, int, Datagram) -> std::vector<Datagram> { return {}; };
  p.run(std::chrono::milliseconds(3000));
  EXPECT_EQ(p.client->state(), DtlsState::kFailed);
  EXPECT_EQ(p.client->failure_reason(), "handshake timeout");
  EXPECT_GE(p.client->stats().retransmits, 1u);  // due at 60 ms and 180 ms
  EXPECT_EQ(p.client->next_timeout(), kNever);
}

TEST(DtlsEndpoint, TimerIsIdleUntilDue) {
  Pair p(fast_cfg(), fast_cfg());
  const Nanos t0 = mono_now();
  p.client->start(t0);
  auto hello = dtls_test::drain(*p.client);
  ASSERT_EQ(hello.size(), 1u);
  const Nanos deadline = p.client->next_timeout();
  EXPECT_GT(deadline, t0);
  EXPECT_LE(deadline, t0 + 61 * kMillisecond + 5 * kMillisecond);
  p.client->on_timeout(deadline - 30 * kMillisecond);  // early: nothing
  EXPECT_EQ(p.client->output_count(), 0u);
  EXPECT_EQ(p.client->stats().retransmits, 0u);
}

TEST(DtlsEndpoint, ConfigValidation) {
  auto ctx = dtls_test::make_ctx(dtls_test::make_cert());
  DtlsEndpointConfig c;
  c.mtu = 100;
  EXPECT_NE(DtlsEndpoint::create(ctx, c).status().message().find("mtu"), std::string::npos);
  c = DtlsEndpointConfig{};
  c.initial_retransmit = 10 * kMillisecond;
  EXPECT_NE(DtlsEndpoint::create(ctx, c).status().message().find("initial_retransmit"),
            std::string::npos);
  c = DtlsEndpointConfig{};
  c.srtp_profiles = {static_cast<SrtpProfile>(3)};
  EXPECT_NE(DtlsEndpoint::create(ctx, c).status().message().find("srtp_profiles"),
            std::string::npos);
  EXPECT_FALSE(DtlsEndpoint::create(nullptr, DtlsEndpointConfig{}).ok());
  EXPECT_FALSE(DtlsContext::create(nullptr).ok());
}

}  // namespace
}  // namespace tern
