// WebRtcTransport + TransportHost fully in memory against a client built from
// our own cores: a controlling ICE client (StunWriter checks with
// USE-CANDIDATE and MESSAGE-INTEGRITY), a DtlsEndpoint in the other role and
// SrtpSessions from its exported keys. The host runs on a real TimerWheel.
#include "engine/sfu/webrtc_transport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/sfu/sfu_test_util.h"

namespace tern::sfu {
namespace {

using testing::Bytes;
using testing::Client;
using testing::client_cert;
using testing::ep;
using testing::kServer;
using testing::mono_now;
using testing::server_cert;

// 0: the server's certificate, 1: the client's, 2: one neither side has.
std::shared_ptr<const DtlsCertificate> cert(int which) {
  static auto other = *DtlsCertificate::generate();
  return which == 0 ? server_cert() : which == 1 ? client_cert() : other;
}

Bytes rtp_packet(uint16_t seq, uint32_t ssrc, size_t payload) {
  Bytes b(12 + payload);
  b[0] = 0x80;
  b[1] = 96;
  b[2] = uint8_t(seq >> 8);
  b[3] = uint8_t(seq);
  b[4] = 0, b[5] = 0, b[6] = uint8_t(seq >> 8), b[7] = uint8_t(seq);
  b[8] = uint8_t(ssrc >> 24), b[9] = uint8_t(ssrc >> 16), b[10] = uint8_t(ssrc >> 8);
  b[11] = uint8_t(ssrc);
  for (size_t i = 0; i < payload; ++i) b[12 + i] = uint8_t(i * 7 + seq);
  return b;
}

// The host's DTLS certificate is cert(0).
class TransportTest : public testing::HostBed {
 protected:
  // Adds transport 1 (echo) expecting the client's certificate (or `fp_cert`).
  WebRtcTransport* add(DtlsRole role = DtlsRole::kServer, int fp_cert = 1, bool echo = true) {
    WebRtcTransportConfig c;
    c.id = 1;
    c.remote_ice = testing::client_creds(0);
    c.dtls.role = role;
    c.dtls.has_remote_fingerprint = true;
    c.dtls.remote_fingerprint = cert(fp_cert)->fingerprint();
    c.echo = echo;
    auto t = WebRtcTransport::create(c, server_ctx, t0);
    EXPECT_TRUE(t.ok()) << t.status();
    local = (*t)->local_ice();
    EXPECT_TRUE(host->add(*std::move(t), t0).ok());
    return host->find(1);
  }

  // One nominating check; returns the STUN route.
  ice::StunRoute check(Client& cl, bool use_candidate = true, absl::string_view pwd = "") {
    Packet* p = pool.make(cl.check(local, use_candidate, pwd), cl.addr, kServer);
    return host->handle_stun(p, mono_now());
  }

  // Shuttles DTLS both ways until both sides settle (bounded).
  void shuttle(Client& cl) {
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      for (Bytes& d : cl.drain()) {
        moved = true;
        Packet* p = pool.make(d, cl.addr, kServer);
        EXPECT_EQ(classify(p->data(), p->len), PacketClass::kDtls);
        bool consumed = true;
        bool handled = host->handle_dtls(p, mono_now(), &consumed);
        if (!handled) return;  // 5-tuple no longer routed (released)
        EXPECT_FALSE(consumed);
      }
      std::vector<Packet*> out;
      out.swap(sink.sent);
      for (Packet* p : out) {
        moved = true;
        EXPECT_EQ(p->remote, cl.addr);
        EXPECT_EQ(p->local, kServer);
        cl.dtls->feed(p->data(), p->len, mono_now());
      }
      if (!moved) return;
    }
  }

  // Sends `plain` SRTP-protected from `cl` to the echoing transport; returns
  // the one packet that came back, unprotected (empty on any failure).
  Bytes echo(Client& cl, const Bytes& plain, bool rtcp) {
    Packet* p = cl.protect(pool, plain, rtcp);
    EXPECT_EQ(classify(p->data(), p->len), rtcp ? PacketClass::kRtcp : PacketClass::kRtp);
    bool consumed = false;
    EXPECT_TRUE(host->handle_media(p, rtcp, mono_now(), &consumed));
    EXPECT_TRUE(consumed);
    if (sink.sent.size() != 1u) {
      ADD_FAILURE() << sink.sent.size() << " packets echoed, want 1";
      return {};
    }
    Packet* back = sink.sent[0];
    sink.sent.clear();
    EXPECT_EQ(back->remote, cl.addr);
    return cl.unprotect(back);
  }

  void connect(Client& cl) {
    ASSERT_EQ(check(cl), ice::StunRoute::kRespond);
    ASSERT_TRUE(events.has(TransportEventType::kIceConnected));
    // The response went back in place (not through the sink).
    EXPECT_TRUE(sink.sent.empty());
    if (cl.dtls->role() == DtlsRole::kClient) cl.dtls->start(mono_now());
    shuttle(cl);
  }

  ice::IceCredentials local;
};

TEST_F(TransportTest, ConnectHandshakeAndEchoByteExact) {
  WebRtcTransport* t = add();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(host->demux().ufrag_count(), 1u);
  Client cl(0, cert(0)->fingerprint());
  connect(cl);
  ASSERT_EQ(cl.dtls->state(), DtlsState::kConnected);
  ASSERT_EQ(t->dtls_state(), DtlsState::kConnected);
  ASSERT_TRUE(events.has(TransportEventType::kDtlsConnected));
  ASSERT_TRUE(t->srtp_ready());
  EXPECT_EQ(t->ice_state(), ice::IceState::kConnected);
  EXPECT_EQ(t->stats()->ice_state.load(), uint8_t(ice::IceState::kConnected));
  EXPECT_EQ(t->stats()->dtls_state.load(), uint8_t(DtlsState::kConnected));
  cl.make_srtp();

  for (uint16_t seq = 1; seq <= 100; ++seq) {
    Bytes plain = rtp_packet(seq, 0xCAFEBABE, 20 + seq * 5);
    ASSERT_EQ(echo(cl, plain, /*rtcp=*/false), plain) << "seq " << seq;
  }
  // RTCP (a receiver report with no blocks) round trip too.
  Bytes rr = {0x80, 201, 0x00, 0x01, 0xCA, 0xFE, 0xBA, 0xBE};
  EXPECT_EQ(echo(cl, rr, /*rtcp=*/true), rr);
  EXPECT_EQ(t->stats()->rtp_in.get(), 100u);
  EXPECT_EQ(t->stats()->rtp_out.get(), 100u);
  EXPECT_EQ(t->stats()->rtcp_in.get(), 1u);
  EXPECT_EQ(t->stats()->drops.total(), 0u);
}

TEST_F(TransportTest, WeAreDtlsClient) {
  WebRtcTransport* t = add(DtlsRole::kClient);
  Client cl(0, cert(0)->fingerprint(), DtlsRole::kServer);
  cl.dtls->start(mono_now());
  ASSERT_EQ(check(cl), ice::StunRoute::kRespond);
  // Our ClientHello left through the sink toward the nominated pair.
  ASSERT_FALSE(sink.sent.empty());
  shuttle(cl);
  EXPECT_EQ(cl.dtls->state(), DtlsState::kConnected);
  EXPECT_EQ(t->dtls_state(), DtlsState::kConnected);
  EXPECT_TRUE(t->srtp_ready());
}

TEST_F(TransportTest, FingerprintMismatchFailsWithReasonAndFrees) {
  WebRtcTransport* t = add(DtlsRole::kServer, /*fp_cert=*/2);  // expects another certificate
  Client cl(0, cert(0)->fingerprint());
  connect(cl);
  ASSERT_TRUE(events.has(TransportEventType::kDtlsFailed));
  EXPECT_NE(events.reason(TransportEventType::kDtlsFailed).find("fingerprint mismatch"),
            std::string::npos)
      << events.reason(TransportEventType::kDtlsFailed);
  EXPECT_EQ(t->dtls_state(), DtlsState::kFailed);
  EXPECT_TRUE(t->released());
  EXPECT_FALSE(t->srtp_ready());
  EXPECT_NE(cl.dtls->state(), DtlsState::kConnected);
  // Freed: no demux entries, no timer; the tombstone stays until close.
  EXPECT_EQ(host->demux().tuple_count(), 0u);
  EXPECT_EQ(host->demux().ufrag_count(), 0u);
  EXPECT_EQ(host->armed_timers(), 0u);
  EXPECT_EQ(wheel->size(), 0u);
  EXPECT_EQ(host->size(), 1u);
  // Later traffic from that 5-tuple is not routed.
  Packet* p = pool.make(Bytes{22, 0xfe, 0xfd, 0, 0}, cl.addr, kServer);
  bool consumed = false;
  EXPECT_FALSE(host->handle_dtls(p, mono_now(), &consumed));
  EXPECT_TRUE(host->close(1, mono_now()));
  EXPECT_EQ(host->size(), 0u);
}

TEST_F(TransportTest, ReplayedAndForgedSrtpDroppedAndCounted) {
  WebRtcTransport* t = add();
  Client cl(0, cert(0)->fingerprint());
  connect(cl);
  ASSERT_TRUE(t->srtp_ready());
  cl.make_srtp();
  Bytes plain = rtp_packet(7, 0x01020304, 100);
  size_t len = plain.size();
  Bytes wire(plain.size() + 64);
  std::memcpy(wire.data(), plain.data(), plain.size());
  ASSERT_EQ(cl.out->protect_rtp(wire.data(), &len, wire.size()), SrtpStatus::kOk);
  wire.resize(len);
  bool consumed = false;
  ASSERT_TRUE(host->handle_media(pool.make(wire, cl.addr, kServer), false, mono_now(), &consumed));
  EXPECT_TRUE(consumed);
  // The same bytes again: a replay.
  ASSERT_TRUE(host->handle_media(pool.make(wire, cl.addr, kServer), false, mono_now(), &consumed));
  EXPECT_FALSE(consumed);
  EXPECT_EQ(t->stats()->drops.get(Drop::kSrtpReplay), 1u);
  EXPECT_EQ(host->stats().drops.get(Drop::kSrtpReplay), 1u);
  // A forged packet (one payload bit flipped, new sequence number).
  Bytes forged = rtp_packet(8, 0x01020304, 100);
  len = forged.size();
  forged.resize(len + 64);
  ASSERT_EQ(cl.out->protect_rtp(forged.data(), &len, forged.size()), SrtpStatus::kOk);
  forged.resize(len);
  forged[20] ^= 1;
  ASSERT_TRUE(
      host->handle_media(pool.make(forged, cl.addr, kServer), false, mono_now(), &consumed));
  EXPECT_FALSE(consumed);
  EXPECT_EQ(t->stats()->drops.get(Drop::kSrtpAuthFail), 1u);
  EXPECT_EQ(t->stats()->rtp_in.get(), 1u);
  EXPECT_EQ(sink.sent.size(), 1u);  // only the first one echoed
  // SRTP from a 5-tuple no pair validated: not ours.
  Packet* stranger = pool.make(wire, ep("192.0.2.99:1234"), kServer);
  EXPECT_FALSE(host->handle_media(stranger, false, mono_now(), &consumed));
}

TEST_F(TransportTest, MediaBeforeKeysIsNotDelivered) {
  WebRtcTransport* t = add();
  Client cl(0, cert(0)->fingerprint());
  ASSERT_EQ(check(cl), ice::StunRoute::kRespond);
  bool consumed = true;
  ASSERT_TRUE(host->handle_media(pool.make(rtp_packet(1, 5, 40), cl.addr, kServer), false,
                                 mono_now(), &consumed));
  EXPECT_FALSE(consumed);
  EXPECT_EQ(t->stats()->media_not_ready.get(), 1u);
}

TEST_F(TransportTest, WrongIcePasswordCreatesNoState) {
  WebRtcTransport* t = add();
  Client cl(0, cert(0)->fingerprint());
  EXPECT_EQ(check(cl, true, "WrongPassword0123456789xx"), ice::StunRoute::kRespond);  // 401
  EXPECT_EQ(host->demux().tuple_count(), 0u);
  EXPECT_EQ(t->ice_state(), ice::IceState::kNew);
  EXPECT_FALSE(events.has(TransportEventType::kIceConnected));
  cl.dtls->start(mono_now());
  for (Bytes& d : cl.drain()) {
    bool consumed = false;
    EXPECT_FALSE(host->handle_dtls(pool.make(d, cl.addr, kServer), mono_now(), &consumed));
  }
  EXPECT_EQ(t->dtls_state(), DtlsState::kNew);  // nothing reached it
}

TEST_F(TransportTest, ConsentTimeoutFailsAndFrees) {
  WebRtcTransport* t = add();
  Client cl(0, cert(0)->fingerprint());
  connect(cl);
  ASSERT_TRUE(t->srtp_ready());
  ASSERT_EQ(host->demux().tuple_count(), 1u);
  ASSERT_EQ(host->armed_timers(), 1u);
  Nanos now = mono_now();
  wheel->advance(now + 11 * kSecond);
  EXPECT_TRUE(events.has(TransportEventType::kIceDisconnected));
  EXPECT_FALSE(events.has(TransportEventType::kIceFailed));
  wheel->advance(now + 31 * kSecond);
  ASSERT_TRUE(events.has(TransportEventType::kIceFailed));
  EXPECT_EQ(events.reason(TransportEventType::kIceFailed), "consent lost");
  EXPECT_EQ(t->ice_state(), ice::IceState::kFailed);
  EXPECT_EQ(t->stats()->ice_state.load(), uint8_t(ice::IceState::kFailed));
  EXPECT_TRUE(t->released());
  EXPECT_FALSE(t->srtp_ready());
  EXPECT_EQ(host->demux().tuple_count(), 0u);
  EXPECT_EQ(host->armed_timers(), 0u);
  EXPECT_EQ(wheel->size(), 0u);
}

TEST_F(TransportTest, NoNominationFails) {
  add();
  wheel->advance(t0 + 31 * kSecond);
  ASSERT_TRUE(events.has(TransportEventType::kIceFailed));
  EXPECT_EQ(events.reason(TransportEventType::kIceFailed), "no nomination");
  EXPECT_EQ(wheel->size(), 0u);
}

TEST_F(TransportTest, CloseFreesEverything) {
  add();
  Client cl(0, cert(0)->fingerprint());
  connect(cl);
  ASSERT_EQ(cl.dtls->state(), DtlsState::kConnected);
  ASSERT_GT(wheel->size(), 0u);
  ASSERT_TRUE(host->close(1, mono_now()));
  EXPECT_TRUE(events.has(TransportEventType::kClosed));
  // close_notify went to the peer.
  ASSERT_EQ(sink.sent.size(), 1u);
  cl.dtls->feed(sink.sent[0]->data(), sink.sent[0]->len, mono_now());
  EXPECT_EQ(cl.dtls->state(), DtlsState::kClosed);
  EXPECT_EQ(host->size(), 0u);
  EXPECT_EQ(host->demux().agent_count(), 0u);
  EXPECT_EQ(host->demux().ufrag_count(), 0u);
  EXPECT_EQ(host->demux().tuple_count(), 0u);
  EXPECT_EQ(wheel->size(), 0u);
  EXPECT_FALSE(host->close(1, mono_now()));
  // The ufrag is free again; STUN for it is no longer ICE.
  EXPECT_EQ(check(cl), ice::StunRoute::kNotIce);
}

TEST_F(TransportTest, PeerCloseNotifyReleases) {
  WebRtcTransport* t = add();
  Client cl(0, cert(0)->fingerprint());
  connect(cl);
  cl.dtls->close(mono_now());
  shuttle(cl);
  EXPECT_TRUE(events.has(TransportEventType::kClosed));
  EXPECT_TRUE(t->released());
  EXPECT_EQ(host->demux().tuple_count(), 0u);
  EXPECT_EQ(wheel->size(), 0u);
}

TEST_F(TransportTest, DuplicateUfragRefusedWithEvent) {
  add();
  WebRtcTransportConfig c;
  c.id = 2;
  c.local_ice = local;  // same ufrag as transport 1
  auto t2 = WebRtcTransport::create(c, server_ctx, t0);
  ASSERT_TRUE(t2.ok());
  EXPECT_FALSE(host->add(*std::move(t2), t0).ok());
  EXPECT_TRUE(events.has(TransportEventType::kAttachFailed));
  EXPECT_EQ(host->size(), 1u);
  EXPECT_EQ(host->demux().agent_count(), 1u);
}

}  // namespace
}  // namespace tern::sfu
