// WebRtcTransport + TransportHost fully in memory against a client built from
// our own cores: a controlling ICE client (StunWriter checks with
// USE-CANDIDATE and MESSAGE-INTEGRITY), a DtlsEndpoint in the other role and
// SrtpSessions from its exported keys. The host runs on a real TimerWheel.
#include "engine/sfu/webrtc_transport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtls/dtls_endpoint.h"
#include "engine/net/classify.h"
#include "engine/sfu/transport_host.h"
#include "engine/sfu/wheel_timers.h"
#include "engine/srtp/srtp_session.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"
#include "engine/worker/timer_wheel.h"

namespace tern::sfu {
namespace {

using Bytes = std::vector<uint8_t>;

Nanos mono_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Endpoint ep(const char* s) { return *Endpoint::parse(s); }

std::shared_ptr<const DtlsCertificate> cert(int which) {
  static auto a = *DtlsCertificate::generate();
  static auto b = *DtlsCertificate::generate();
  static auto c = *DtlsCertificate::generate();
  return which == 0 ? a : which == 1 ? b : c;
}

// Buffers live for the whole test; nothing is ever freed back.
struct Pool {
  struct Buf {
    std::vector<uint8_t> storage = std::vector<uint8_t>(2048);
    Packet pkt;
  };
  std::deque<Buf> bufs;
  Packet* get() {
    Buf& b = bufs.emplace_back();
    b.pkt.buf = b.storage.data();
    b.pkt.capacity = uint32_t(b.storage.size());
    b.pkt.reset(kDefaultHeadroom);
    return &b.pkt;
  }
  Packet* make(const Bytes& payload, const Endpoint& remote, const Endpoint& local) {
    Packet* p = get();
    std::memcpy(p->data(), payload.data(), payload.size());
    p->len = uint32_t(payload.size());
    p->remote = remote;
    p->local = local;
    return p;
  }
};

struct Sink : PacketSink {
  Pool* pool;
  std::vector<Packet*> sent;
  bool empty_pool = false;
  Packet* alloc() override { return empty_pool ? nullptr : pool->get(); }
  void send(Packet* p) override { sent.push_back(p); }
};

struct Events : TransportEventSink {
  std::vector<TransportEvent> ev;
  void on_transport_event(const TransportEvent& e) override { ev.push_back(e); }
  bool has(TransportEventType t) const {
    for (const auto& e : ev)
      if (e.type == t) return true;
    return false;
  }
  std::string reason(TransportEventType t) const {
    for (const auto& e : ev)
      if (e.type == t) return e.reason;
    return "<none>";
  }
};

const Endpoint kClient = ep("192.0.2.10:50000");  // documentation range: never on a wire
const Endpoint kServer = ep("127.0.0.1:3478");

// The far side: what a browser does, from our own cores.
struct Client {
  ice::IceCredentials creds{"cliA", "ClientPassword0123456789"};
  std::shared_ptr<DtlsContext> ctx;
  std::unique_ptr<DtlsEndpoint> dtls;
  std::unique_ptr<SrtpSession> out, in;
  Endpoint addr = kClient;
  uint32_t check_serial = 0;

  Client(DtlsRole role, const Fingerprint& server_fp) {
    ctx = *DtlsContext::create(cert(1));
    DtlsEndpointConfig c;
    c.role = role;
    c.has_remote_fingerprint = true;
    c.remote_fingerprint = server_fp;
    dtls = *DtlsEndpoint::create(ctx, c);
  }

  Bytes check(const ice::IceCredentials& server, bool use_candidate, absl::string_view pwd = "") {
    Bytes buf(512);
    uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8};
    ++check_serial;
    std::memcpy(txid + 8, &check_serial, 4);
    stun::StunWriter w(buf.data(), buf.size());
    w.begin(stun::kMethodBinding, stun::StunClass::kRequest, txid);
    w.add_username(server.ufrag + ":" + creds.ufrag);
    w.add_u32(stun::attr::kPriority, 0x6e7f00ff);
    if (use_candidate) w.add(stun::attr::kUseCandidate, 0);
    w.add_u64(stun::attr::kIceControlling, 0x1122334455667788ull);
    auto key = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                        pwd.empty() ? absl::string_view(server.pwd) : pwd);
    w.add_message_integrity(*key);
    w.add_fingerprint();
    EXPECT_TRUE(w.ok());
    buf.resize(w.size());
    return buf;
  }

  std::vector<Bytes> drain() {
    std::vector<Bytes> v;
    uint8_t b[4096];
    for (int i = 0; i < 100; ++i) {
      size_t n = dtls->poll_output(b, sizeof(b));
      if (n == 0) break;
      v.emplace_back(b, b + n);
    }
    return v;
  }

  void make_srtp() {
    ASSERT_TRUE(dtls->has_srtp_keys());
    out = std::make_unique<SrtpSession>(*SrtpSession::outbound(dtls->srtp_keys()));
    in = std::make_unique<SrtpSession>(*SrtpSession::inbound(dtls->srtp_keys()));
  }
};

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

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(srtp_library_init().ok());
    t0 = mono_now();
    server_ctx = *DtlsContext::create(cert(0));
    wheel = std::make_unique<TimerWheel>(1024, kMillisecond, t0);
    timers = std::make_unique<WheelTransportTimers>(*wheel);
    sink.pool = &pool;
    host = std::make_unique<TransportHost>(*timers, sink, events);
  }

  // Adds transport 1 (echo) expecting the client's certificate (or `fp_cert`).
  WebRtcTransport* add(DtlsRole role = DtlsRole::kServer, int fp_cert = 1, bool echo = true) {
    WebRtcTransportConfig c;
    c.id = 1;
    c.remote_ice = client_creds();
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
  static ice::IceCredentials client_creds() { return {"cliA", "ClientPassword0123456789"}; }

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

  void connect(Client& cl) {
    ASSERT_EQ(check(cl), ice::StunRoute::kRespond);
    ASSERT_TRUE(events.has(TransportEventType::kIceConnected));
    // The response went back in place (not through the sink).
    EXPECT_TRUE(sink.sent.empty());
    if (cl.dtls->role() == DtlsRole::kClient) cl.dtls->start(mono_now());
    shuttle(cl);
  }

  Nanos t0 = 0;
  Pool pool;
  Sink sink;
  Events events;
  std::shared_ptr<DtlsContext> server_ctx;
  std::unique_ptr<TimerWheel> wheel;
  std::unique_ptr<WheelTransportTimers> timers;
  std::unique_ptr<TransportHost> host;
  ice::IceCredentials local;
};

TEST_F(TransportTest, ConnectHandshakeAndEchoByteExact) {
  WebRtcTransport* t = add();
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(host->demux().ufrag_count(), 1u);
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
    Packet* p = pool.make(plain, cl.addr, kServer);
    size_t len = p->len;
    ASSERT_EQ(cl.out->protect_rtp(p->data(), &len, p->capacity - p->off), SrtpStatus::kOk);
    p->len = uint32_t(len);
    ASSERT_EQ(classify(p->data(), p->len), PacketClass::kRtp);
    bool consumed = false;
    ASSERT_TRUE(host->handle_media(p, false, mono_now(), &consumed));
    ASSERT_TRUE(consumed);
    ASSERT_EQ(sink.sent.size(), 1u);
    Packet* back = sink.sent[0];
    sink.sent.clear();
    EXPECT_EQ(back->remote, cl.addr);
    size_t blen = back->len;
    ASSERT_EQ(cl.in->unprotect_rtp(back->data(), &blen), SrtpStatus::kOk);
    ASSERT_EQ(Bytes(back->data(), back->data() + blen), plain);
  }
  // RTCP (a receiver report with no blocks) round trip too.
  Bytes rr = {0x80, 201, 0x00, 0x01, 0xCA, 0xFE, 0xBA, 0xBE};
  Packet* p = pool.make(rr, cl.addr, kServer);
  size_t len = p->len;
  ASSERT_EQ(cl.out->protect_rtcp(p->data(), &len, p->capacity - p->off), SrtpStatus::kOk);
  p->len = uint32_t(len);
  ASSERT_EQ(classify(p->data(), p->len), PacketClass::kRtcp);
  bool consumed = false;
  ASSERT_TRUE(host->handle_media(p, true, mono_now(), &consumed));
  ASSERT_TRUE(consumed);
  ASSERT_EQ(sink.sent.size(), 1u);
  size_t blen = sink.sent[0]->len;
  ASSERT_EQ(cl.in->unprotect_rtcp(sink.sent[0]->data(), &blen), SrtpStatus::kOk);
  EXPECT_EQ(Bytes(sink.sent[0]->data(), sink.sent[0]->data() + blen), rr);
  EXPECT_EQ(t->stats()->rtp_in.get(), 100u);
  EXPECT_EQ(t->stats()->rtp_out.get(), 100u);
  EXPECT_EQ(t->stats()->rtcp_in.get(), 1u);
  EXPECT_EQ(t->stats()->drops.total(), 0u);
}

TEST_F(TransportTest, WeAreDtlsClient) {
  WebRtcTransport* t = add(DtlsRole::kClient);
  Client cl(DtlsRole::kServer, cert(0)->fingerprint());
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
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
  ASSERT_EQ(check(cl), ice::StunRoute::kRespond);
  bool consumed = true;
  ASSERT_TRUE(host->handle_media(pool.make(rtp_packet(1, 5, 40), cl.addr, kServer), false,
                                 mono_now(), &consumed));
  EXPECT_FALSE(consumed);
  EXPECT_EQ(t->stats()->media_not_ready.get(), 1u);
}

TEST_F(TransportTest, WrongIcePasswordCreatesNoState) {
  WebRtcTransport* t = add();
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
  Client cl(DtlsRole::kClient, cert(0)->fingerprint());
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
