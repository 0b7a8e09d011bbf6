// The SFU forwarding pipeline per forwarded packet, in memory: one
// publisher packet (1200 bytes of RTP with mid + abs-send-time +
// transport-cc extensions, VP8 payload) goes through
// TransportHost::handle_media -> SRTP unprotect once -> Router (route,
// stats, NACK cache copy) -> for each of N consumers: rewrite into a fresh
// buffer + SRTP protect with that subscriber's session + sink. Next to it,
// bare SrtpSession::protect_rtp of the same packet size: the crypto an SFU
// cannot avoid (N x protect + 1 x unprotect).
//
// Transports are real (ICE check, DTLS handshake with our own cores in the
// client role, keys exported per profile). Publisher packets are protected
// by the client in batches of kBatch with the timer paused; the timed part
// is the server side only. Buffers come from a fixed pool (no allocation).
//
//   build-sfu/bench/bench_sfu --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
// items/s = forwarded packets (fan-out N counts N per publisher packet); the
// ns per publisher packet is N / items_per_second.
#ifdef TERN_NO_SRTP
#include <cstdio>
int main() {
  std::puts("SKIP: built without libsrtp (-Dsrtp=disabled)");
  return 0;
}
#else
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/dtls/dtls_endpoint.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/sfu/router.h"
#include "engine/sfu/transport_host.h"
#include "engine/srtp/srtp_session.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"

namespace tern::sfu {
namespace {

constexpr size_t kPacket = 1200;
constexpr int kBatch = 256;

// Fixed pool: buffers are taken and given back, never allocated per packet.
struct FixedSink : PacketSink {
  std::vector<std::vector<uint8_t> > storage;
  std::vector<Packet> pkts;
  std::vector<Packet*> free_list;
  std::vector<Packet*> sent;
  explicit FixedSink(size_t n) : storage(n, std::vector<uint8_t>(2048)), pkts(n) {
    free_list.reserve(n);
    sent.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      pkts[i].buf = storage[i].data();
      pkts[i].capacity = 2048;
      free_list.push_back(&pkts[i]);
    }
  }
  Packet* alloc() override {
    if (free_list.empty()) return nullptr;
    Packet* p = free_list.back();
    free_list.pop_back();
    p->reset(kDefaultHeadroom);
    return p;
  }
  void send(Packet* p) override { sent.push_back(p); }
  void free(Packet* p) override { free_list.push_back(p); }
  void recycle() {
    for (Packet* p : sent) free_list.push_back(p);
    sent.clear();
  }
};

struct NullTimers : TransportTimers {
  uint64_t schedule(Nanos, TransportHost*, uint64_t) override { return 0; }
  void cancel(uint64_t) override {}
};
struct NullEvents : TransportEventSink {
  void on_transport_event(const TransportEvent&) override {}
};

struct Peer {
  ice::IceCredentials creds;
  std::unique_ptr<DtlsEndpoint> dtls;
  std::unique_ptr<SrtpSession> out;
  Endpoint addr;
};

const Endpoint kServer = *Endpoint::parse("127.0.0.1:3478");

struct Bed {
  FixedSink sink{kBatch * 20};
  NullTimers timers;
  NullEvents events;
  std::unique_ptr<TransportHost> host;
  std::unique_ptr<Router> router;
  std::vector<Peer> peers;
  bool ok = true;

  Bed(SrtpProfile profile, int consumers, bool nack) {
    (void)srtp_library_init();
    static auto scert = *DtlsCertificate::generate();
    static auto ccert = *DtlsCertificate::generate();
    auto sctx = *DtlsContext::create(scert);
    auto cctx = *DtlsContext::create(ccert);
    host = std::make_unique<TransportHost>(timers, sink, events);
    router = std::make_unique<Router>(*host, sink, events);
    Nanos now = 1;
    for (int i = 0; i <= consumers && ok; ++i) {
      Peer p;
      p.creds = {"peer" + std::to_string(i), "PeerPassword0123456789xx"};
      p.addr = *Endpoint::parse("192.0.2.10:" + std::to_string(40000 + i));
      DtlsEndpointConfig dc;
      dc.role = DtlsRole::kClient;
      dc.has_remote_fingerprint = true;
      dc.remote_fingerprint = scert->fingerprint();
      dc.srtp_profiles = {profile};
      p.dtls = *DtlsEndpoint::create(cctx, dc);
      WebRtcTransportConfig c;
      c.id = uint64_t(i + 1);
      c.remote_ice = p.creds;
      c.dtls.role = DtlsRole::kServer;
      c.dtls.has_remote_fingerprint = true;
      c.dtls.remote_fingerprint = ccert->fingerprint();
      c.dtls.srtp_profiles = {profile};
      auto t = *WebRtcTransport::create(c, sctx, now);
      ice::IceCredentials local = t->local_ice();
      ok &= host->add(std::move(t), now).ok();
      // One nominating check.
      Packet* chk = sink.alloc();
      uint8_t txid[12] = {9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0, uint8_t(i)};
      stun::StunWriter w(chk->data(), 512);
      w.begin(stun::kMethodBinding, stun::StunClass::kRequest, txid);
      w.add_username(local.ufrag + ":" + p.creds.ufrag);
      w.add_u32(stun::attr::kPriority, 0x6e7f00ff);
      w.add(stun::attr::kUseCandidate, 0);
      w.add_u64(stun::attr::kIceControlling, 1);
      w.add_message_integrity(*MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, local.pwd));
      w.add_fingerprint();
      chk->len = uint32_t(w.size());
      chk->remote = p.addr;
      chk->local = kServer;
      ok &= host->handle_stun(chk, now) == ice::StunRoute::kRespond;
      sink.free(chk);
      p.dtls->start(now);
      for (int round = 0; round < 50; ++round) {
        bool moved = false;
        uint8_t b[4096];
        while (size_t n = p.dtls->poll_output(b, sizeof b)) {
          moved = true;
          Packet* d = sink.alloc();
          std::memcpy(d->data(), b, n);
          d->len = uint32_t(n);
          d->remote = p.addr;
          d->local = kServer;
          bool consumed = false;
          host->handle_dtls(d, now, &consumed);
          sink.free(d);
        }
        for (Packet* s : sink.sent) {
          moved = true;
          p.dtls->feed(s->data(), s->len, now);
        }
        sink.recycle();
        if (!moved) break;
      }
      ok &= p.dtls->state() == DtlsState::kConnected;
      if (!ok) break;
      p.out = std::make_unique<SrtpSession>(*SrtpSession::outbound(p.dtls->srtp_keys()));
      peers.push_back(std::move(p));
    }
    if (!ok) return;
    ProducerParams pp;
    pp.id = 1;
    pp.transport_id = 1;
    pp.mid = "0";
    RtpCodecParams vp8{CodecId::kVp8, 96, 90000, 97, nack, true, true};
    pp.codecs = {vp8};
    pp.ext.mid = 4;
    pp.ext.abs_send_time = 2;
    pp.ext.transport_cc = 3;
    pp.layers.resize(1);
    pp.layers[0].ssrc = 0x1234;
    ok &= router->add_producer(std::move(pp), now).ok();
    for (int i = 0; i < consumers; ++i) {
      ConsumerParams cp;
      cp.id = uint64_t(100 + i);
      cp.transport_id = uint64_t(i + 2);
      cp.producer_id = 1;
      cp.mid = "v";
      cp.codecs = {RtpCodecParams{CodecId::kVp8, 100, 90000, 101, true, true, true}};
      cp.ext.mid = 1;
      cp.ext.abs_send_time = 3;
      cp.ext.transport_cc = 5;
      cp.ssrc = 0x5000 + i;
      cp.rtx_ssrc = 0x6000 + i;
      ok &= router->add_consumer(std::move(cp), now).ok();
    }
    sink.recycle();
  }
};

// 1200 bytes: header + extensions + VP8 payload (first one a keyframe).
size_t make_packet(uint8_t* buf, uint16_t seq, bool key) {
  rtp::RtpWriter w(buf, 1500);
  rtp::RtpHeaderFields h;
  h.payload_type = 96;
  h.sequence = seq;
  h.timestamp = seq * 3000u;
  h.ssrc = 0x1234;
  w.begin(h);
  w.add_string_extension(4, "0");
  w.add_abs_send_time(2, seq);
  w.add_transport_cc_seq(3, seq);
  uint8_t payload[kPacket];
  std::memset(payload, 0x33, sizeof payload);
  payload[0] = 0x10;
  payload[1] = key ? 0x00 : 0x01;
  // Header + 8 (ext header) + 2 + 4 + 3 = 29 -> pad the payload to a 1200 total.
  size_t hdr = 12 + 4 + 12;
  return w.finish(absl::MakeConstSpan(payload, kPacket - hdr));
}

void BM_SfuForward(benchmark::State& state) {
  const SrtpProfile profile = static_cast<SrtpProfile>(state.range(0));
  const int n = int(state.range(1));
  const bool nack = state.range(2) != 0;  // 0: no NACK cache copy, no sent ring
  Bed bed(profile, n, nack);
  if (!bed.ok) {
    state.SkipWithError("setup failed");
    return;
  }
  Peer& pub = bed.peers[0];
  std::vector<Packet*> batch(kBatch);
  uint16_t seq = 1;
  Nanos now = 1000;
  size_t forwarded = 0, bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int i = 0; i < kBatch; ++i) {
      Packet* p = bed.sink.alloc();
      size_t len = make_packet(p->data(), seq, seq == 1);
      ++seq;
      pub.out->protect_rtp(p->data(), &len, p->capacity - p->off);
      p->len = uint32_t(len);
      p->remote = pub.addr;
      p->local = kServer;
      batch[i] = p;
    }
    state.ResumeTiming();
    for (int i = 0; i < kBatch; ++i) {
      bool consumed = false;
      bed.host->handle_media(batch[i], false, now += 1000, &consumed);
      if (!consumed) bed.sink.free(batch[i]);
    }
    forwarded += bed.sink.sent.size();
    if (!bed.sink.sent.empty()) bytes = bed.sink.sent.back()->len;
    bed.sink.recycle();
  }
  const uint64_t expect = uint64_t(state.iterations()) * kBatch * n;
  if (forwarded < expect) {
    state.SkipWithError(
        ("forwarded " + std::to_string(forwarded) + " of " + std::to_string(expect)).c_str());
  }
  state.SetItemsProcessed(int64_t(forwarded));
  state.counters["fanout"] = n;
  state.counters["out_bytes"] = double(bytes);  // one forwarded SRTP packet
}

// The crypto floor: protect a packet of the same size with a fresh seq.
void BM_BareProtect(benchmark::State& state) {
  const SrtpProfile profile = static_cast<SrtpProfile>(state.range(0));
  (void)srtp_library_init();
  const bool gcm = profile == SrtpProfile::kAeadAes128Gcm;
  std::vector<uint8_t> key(16, 0x5a), salt(gcm ? 12 : 14, 0xa5);
  auto s = *SrtpSession::create(profile, SrtpSession::Direction::kOutbound, key, salt);
  uint8_t plain[1500], buf[1600];
  size_t plen = make_packet(plain, 1, false);
  uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(buf, plain, plen);
    buf[2] = uint8_t(seq >> 8);
    buf[3] = uint8_t(seq);
    ++seq;
    size_t len = plen;
    benchmark::DoNotOptimize(s.protect_rtp(buf, &len, sizeof buf));
  }
  state.SetItemsProcessed(state.iterations());
}

constexpr int64_t kCm = int64_t(SrtpProfile::kAes128CmSha1_80);
constexpr int64_t kGcm = int64_t(SrtpProfile::kAeadAes128Gcm);

BENCHMARK(BM_SfuForward)
    ->ArgNames({"profile", "fanout", "nack"})
    ->Args({kCm, 1, 1})
    ->Args({kCm, 4, 1})
    ->Args({kCm, 16, 1})
    ->Args({kGcm, 1, 1})
    ->Args({kGcm, 4, 1})
    ->Args({kGcm, 16, 1})
    ->Args({kGcm, 1, 0});  // the NACK cache's cost: compare with {kGcm, 1, 1}
BENCHMARK(BM_BareProtect)->ArgName("profile")->Arg(kCm)->Arg(kGcm);

}  // namespace
}  // namespace tern::sfu

BENCHMARK_MAIN();
#endif
