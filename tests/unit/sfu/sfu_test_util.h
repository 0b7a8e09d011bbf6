// In-memory SFU test bed: a TransportHost + Router on a real TimerWheel, and
// clients built from our own cores (ICE checks, DtlsEndpoint, SrtpSessions)
// playing browsers, one per WebRtcTransport.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/dtls/dtls_endpoint.h"
#include "engine/net/classify.h"
#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/sfu/router.h"
#include "engine/sfu/transport_host.h"
#include "engine/sfu/wheel_timers.h"
#include "engine/srtp/srtp_session.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"
#include "engine/worker/timer_wheel.h"

namespace tern::sfu::testing {

using Bytes = std::vector<uint8_t>;

inline Nanos mono_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline Endpoint ep(const std::string& s) { return *Endpoint::parse(s); }

inline std::shared_ptr<const DtlsCertificate> server_cert() {
  static auto a = *DtlsCertificate::generate();
  return a;
}
inline std::shared_ptr<const DtlsCertificate> client_cert() {
  static auto b = *DtlsCertificate::generate();
  return b;
}

// Buffers live for the whole test; freed ones are counted, not reused.
struct Pool {
  struct Buf {
    std::vector<uint8_t> storage = std::vector<uint8_t>(2048);
    Packet pkt;
  };
  std::deque<Buf> bufs;
  std::vector<Packet*> spare;  // prefill(): handed out without allocating
  void prefill(size_t n) {
    spare.reserve(spare.size() + n);
    for (size_t i = 0; i < n; ++i) spare.push_back(make_buf());
  }
  Packet* get() {
    if (!spare.empty()) {
      Packet* p = spare.back();
      spare.pop_back();
      p->reset(kDefaultHeadroom);
      return p;
    }
    return make_buf();
  }
  Packet* make_buf() {
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
  Pool* pool = nullptr;
  std::vector<Packet*> sent;
  size_t freed = 0;
  Packet* alloc() override { return pool->get(); }
  void send(Packet* p) override { sent.push_back(p); }
  void free(Packet* p) override {
    (void)p;
    ++freed;
  }
  // Takes the packets sent to `to`, leaves the others.
  std::vector<Packet*> take(const Endpoint& to) {
    std::vector<Packet*> mine, rest;
    for (Packet* p : sent) (p->remote == to ? mine : rest).push_back(p);
    sent.swap(rest);
    return mine;
  }
};

struct Events : TransportEventSink {
  Router* router = nullptr;
  std::function<void(const TransportEvent&)> also;  // another listener (a DataRouter)
  std::vector<TransportEvent> ev;
  void on_transport_event(const TransportEvent& e) override {
    ev.push_back(e);
    if (router != nullptr) router->on_transport_event(e);
    if (also) also(e);
  }
  int count(TransportEventType t, uint64_t object = 0) const {
    int n = 0;
    for (const auto& e : ev) n += e.type == t && (object == 0 || e.object_id == object);
    return n;
  }
  const TransportEvent* last(TransportEventType t) const {
    for (auto it = ev.rbegin(); it != ev.rend(); ++it)
      if (it->type == t) return &*it;
    return nullptr;
  }
  bool has(TransportEventType t) const { return count(t) > 0; }
  // The reason of the first event of type t; "<none>" without one.
  std::string reason(TransportEventType t) const {
    for (const auto& e : ev)
      if (e.type == t) return e.reason;
    return "<none>";
  }
};

inline const Endpoint kServer = ep("127.0.0.1:3478");

// Client `index`'s ICE credentials.
inline ice::IceCredentials client_creds(int index) {
  return {"cli" + std::to_string(index), "ClientPassword0123456789"};
}

// The far side of one transport: what a browser does, from our own cores.
struct Client {
  ice::IceCredentials creds;
  std::shared_ptr<DtlsContext> ctx;
  std::unique_ptr<DtlsEndpoint> dtls;
  std::unique_ptr<SrtpSession> out, in;
  Endpoint addr;
  uint32_t check_serial = 0;

  // Client `index` at 192.0.2.10:50000+index (documentation range: never on
  // a wire), with client_cert(), expecting the server's `server_fp`.
  Client(int index, const Fingerprint& server_fp, DtlsRole role = DtlsRole::kClient)
      : creds(client_creds(index)), addr(ep("192.0.2.10:" + std::to_string(50000 + index))) {
    ctx = *DtlsContext::create(client_cert());
    DtlsEndpointConfig c;
    c.role = role;
    c.has_remote_fingerprint = true;
    c.remote_fingerprint = server_fp;
    dtls = *DtlsEndpoint::create(ctx, c);
  }

  // A controlling check (nominating unless !use_candidate), signed with the
  // server's password or `pwd`.
  Bytes check(const ice::IceCredentials& server, bool use_candidate = true,
              absl::string_view pwd = "") {
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

  // SRTP both ways from the DTLS exported keys.
  void make_srtp() {
    ASSERT_TRUE(dtls->has_srtp_keys());
    out = std::make_unique<SrtpSession>(*SrtpSession::outbound(dtls->srtp_keys()));
    in = std::make_unique<SrtpSession>(*SrtpSession::inbound(dtls->srtp_keys()));
  }

  // Protects plain RTP / RTCP into a packet from us to the server.
  Packet* protect(Pool& pool, const Bytes& plain, bool rtcp) {
    Packet* p = pool.make(plain, addr, kServer);
    size_t len = p->len;
    SrtpStatus st = rtcp ? out->protect_rtcp(p->data(), &len, p->capacity - p->off)
                         : out->protect_rtp(p->data(), &len, p->capacity - p->off);
    EXPECT_EQ(st, SrtpStatus::kOk);
    p->len = uint32_t(len);
    return p;
  }
  // Unprotects what the server sent us; empty on failure.
  Bytes unprotect(Packet* p) {
    size_t len = p->len;
    const bool rtcp = classify(p->data(), p->len) == PacketClass::kRtcp;
    SrtpStatus st = rtcp ? in->unprotect_rtcp(p->data(), &len) : in->unprotect_rtp(p->data(), &len);
    if (st != SrtpStatus::kOk) return {};
    return Bytes(p->data(), p->data() + len);
  }
};

// The extension ids a publisher uses (Chrome's usual numbering).
inline RtpExtensionIds publisher_ext() {
  RtpExtensionIds e;
  e.mid = 4;
  e.rid = 10;
  e.repaired_rid = 11;
  e.abs_send_time = 2;
  e.transport_cc = 3;
  e.audio_level = 1;
  return e;
}

struct RtpSpec {
  uint8_t pt = 96;
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint32_t ssrc = 0;
  bool marker = false;
  std::string mid, rid, rrid;
  int audio_level = -1;
  RtpExtensionIds ext = publisher_ext();
  Bytes payload;
};

inline Bytes make_rtp(const RtpSpec& s) {
  Bytes b(1500);
  rtp::RtpWriter w(b.data(), b.size());
  rtp::RtpHeaderFields h;
  h.marker = s.marker;
  h.payload_type = s.pt;
  h.sequence = s.seq;
  h.timestamp = s.ts;
  h.ssrc = s.ssrc;
  w.begin(h);
  if (!s.mid.empty()) w.add_string_extension(s.ext.mid, s.mid);
  if (!s.rid.empty()) w.add_string_extension(s.ext.rid, s.rid);
  if (!s.rrid.empty()) w.add_string_extension(s.ext.repaired_rid, s.rrid);
  if (s.audio_level >= 0) w.add_audio_level(s.ext.audio_level, true, uint8_t(s.audio_level));
  w.add_abs_send_time(s.ext.abs_send_time, 0x123456);
  w.add_transport_cc_seq(s.ext.transport_cc, s.seq);
  size_t n = w.finish(s.payload);
  EXPECT_GT(n, 0u);
  b.resize(n);
  return b;
}

// VP8 payloads (RFC 7741): descriptor with S=1, PID=0, then the frame tag.
inline Bytes vp8_payload(bool key, size_t size = 200, uint8_t fill = 0) {
  Bytes p(size, fill);
  p[0] = 0x10;               // X=0 N=0 S=1 PID=0
  p[1] = key ? 0x00 : 0x01;  // frame tag: P bit
  for (size_t i = 2; i < size; ++i) p[i] = uint8_t(i * 13 + fill);
  return p;
}

// A TransportHost on a real TimerWheel, sending into `sink`, its events into
// `events`; transports use server_cert().
class HostBed : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(srtp_library_init().ok());
    t0 = mono_now();
    server_ctx = *DtlsContext::create(server_cert());
    wheel = std::make_unique<TimerWheel>(1024, kMillisecond, t0);
    timers = std::make_unique<WheelTransportTimers>(*wheel);
    sink.pool = &pool;
    host = std::make_unique<TransportHost>(*timers, sink, events);
  }

  Nanos t0 = 0;
  Pool pool;
  Sink sink;
  Events events;
  std::shared_ptr<DtlsContext> server_ctx;
  std::unique_ptr<TimerWheel> wheel;
  std::unique_ptr<WheelTransportTimers> timers;
  std::unique_ptr<TransportHost> host;
};

// Host + router + clients; each client's transport is connected (ICE, DTLS,
// SRTP both ways).
class SfuBed : public HostBed {
 protected:
  void SetUp() override {
    HostBed::SetUp();
    if (HasFatalFailure()) return;
    router = std::make_unique<Router>(*host, sink, events);
    events.router = router.get();
  }
  void TearDown() override {
    events.router = nullptr;
    router.reset();
    host.reset();
  }

  // Adds transport `id` and connects client `id` to it.
  Client& connect(uint64_t id) {
    auto cl = std::make_unique<Client>(int(id), server_cert()->fingerprint());
    WebRtcTransportConfig c;
    c.id = id;
    c.remote_ice = cl->creds;
    c.dtls.role = DtlsRole::kServer;
    c.dtls.has_remote_fingerprint = true;
    c.dtls.remote_fingerprint = client_cert()->fingerprint();
    auto t = WebRtcTransport::create(c, server_ctx, t0);
    EXPECT_TRUE(t.ok()) << t.status();
    ice::IceCredentials local = (*t)->local_ice();
    EXPECT_TRUE(host->add(*std::move(t), t0).ok());
    Packet* chk = pool.make(cl->check(local), cl->addr, kServer);
    EXPECT_EQ(host->handle_stun(chk, mono_now()), ice::StunRoute::kRespond);
    cl->dtls->start(mono_now());
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      for (Bytes& d : cl->drain()) {
        moved = true;
        bool consumed = false;
        host->handle_dtls(pool.make(d, cl->addr, kServer), mono_now(), &consumed);
      }
      for (Packet* p : sink.take(cl->addr)) {
        moved = true;
        cl->dtls->feed(p->data(), p->len, mono_now());
      }
      if (!moved) break;
    }
    EXPECT_EQ(cl->dtls->state(), DtlsState::kConnected);
    EXPECT_TRUE(host->find(id)->srtp_ready());
    cl->make_srtp();
    clients.push_back(std::move(cl));
    return *clients.back();
  }

  // Publisher client sends plain RTP/RTCP (protected on the way).
  void send(Client& cl, const Bytes& plain, bool rtcp, Nanos now) {
    Packet* p = cl.protect(pool, plain, rtcp);
    bool consumed = false;
    ASSERT_TRUE(host->handle_media(p, rtcp, now, &consumed));
  }
  // What `cl` received since the last call, unprotected.
  std::vector<Bytes> received(Client& cl) {
    std::vector<Bytes> v;
    for (Packet* p : sink.take(cl.addr)) {
      Bytes b = cl.unprotect(p);
      EXPECT_FALSE(b.empty()) << "SRTP from the SFU did not verify";
      if (!b.empty()) v.push_back(std::move(b));
    }
    return v;
  }
  std::vector<Bytes> received_rtp(Client& cl) {
    std::vector<Bytes> v;
    for (Bytes& b : received(cl))
      if (classify(b.data(), b.size()) == PacketClass::kRtp) v.push_back(std::move(b));
    return v;
  }

  std::unique_ptr<Router> router;
  std::vector<std::unique_ptr<Client>> clients;
};

inline RtpCodecParams vp8_codec(uint8_t pt, int16_t rtx_pt) {
  RtpCodecParams c;
  c.codec = CodecId::kVp8;
  c.pt = pt;
  c.clock_rate = 90000;
  c.rtx_pt = rtx_pt;
  c.nack = c.pli = c.fir = true;
  return c;
}

}  // namespace tern::sfu::testing
