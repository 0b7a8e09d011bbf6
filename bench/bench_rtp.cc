// RTP/RTCP codec micro benchmarks, per packet: RTP parse + extension lookup,
// the SFU's per-consumer rewrite (SSRC/seq/timestamp/PT + extension id remap
// + transport-cc seq), RTCP compound parse with every parser, NACK and
// transport-cc feedback build/parse.
//
//   build-rtp/bench/bench_rtp --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <cstring>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_packet.h"

namespace tern {
namespace rtp {
namespace {

// A browser's video packet: mid (1), abs-send-time (3), transport-cc (5),
// 1200 bytes in all.
std::vector<uint8_t> video_packet() {
  std::vector<uint8_t> buf(1500);
  RtpWriter w(buf.data(), buf.size());
  RtpHeaderFields h;
  h.payload_type = 96;
  h.sequence = 1000;
  h.timestamp = 90000;
  h.ssrc = 0x11223344;
  w.begin(h);
  w.add_string_extension(1, "0");
  w.add_abs_send_time(3, 0x123456);
  w.add_transport_cc_seq(5, 42);
  std::vector<uint8_t> payload(1200 - 12 - 4 - 12, 0xab);
  buf.resize(w.finish(payload));
  return buf;
}

ExtensionMap producer_map() {
  ExtensionMap m;
  (void)m.add(1, ExtensionKind::kMid);
  (void)m.add(3, ExtensionKind::kAbsSendTime);
  (void)m.add(5, ExtensionKind::kTransportWideCc);
  return m;
}

void BM_RtpParseAndFindExtension(benchmark::State& state) {
  const auto pkt = video_packet();
  const ExtensionMap map = producer_map();
  for (auto _ : state) {
    RtpView v;
    if (v.parse(pkt.data(), pkt.size()) != RtpError::kOk) state.SkipWithError("parse");
    Extension e;
    uint16_t seq = 0;
    if (!map.find(v, ExtensionKind::kTransportWideCc, &e) || !read_transport_cc_seq(e, &seq)) {
      state.SkipWithError("tcc");
    }
    benchmark::DoNotOptimize(seq);
    benchmark::DoNotOptimize(v.payload_size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpParseAndFindExtension);

// What the SFU does per consumer on a copy it is about to encrypt.
void BM_RtpRewritePerConsumer(benchmark::State& state) {
  auto pkt = video_packet();
  ExtensionMap consumer;
  (void)consumer.add(2, ExtensionKind::kMid);
  (void)consumer.add(4, ExtensionKind::kAbsSendTime);
  (void)consumer.add(6, ExtensionKind::kTransportWideCc);
  const ExtensionIdTable fwd = make_id_table(producer_map(), consumer);
  const ExtensionIdTable back = make_id_table(consumer, producer_map());
  uint16_t seq = 0;
  bool flip = false;
  for (auto _ : state) {
    RtpPacket p;
    if (p.parse(pkt.data(), pkt.size()) != RtpError::kOk) state.SkipWithError("parse");
    p.set_ssrc(0xabcdef01);
    p.set_sequence(seq);
    p.set_timestamp(uint32_t(seq) * 3000);
    p.set_payload_type(98);
    const RemapResult r = remap_extension_ids(p, flip ? back : fwd);
    set_transport_cc_seq(p, flip ? 5 : 6, seq);
    benchmark::DoNotOptimize(r);
    ++seq;
    flip = !flip;  // map back so the next iteration sees the producer's ids again
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtpRewritePerConsumer);

// A browser's compound report: SR with one block, SDES CNAME, then a REMB.
std::vector<uint8_t> compound() {
  std::vector<uint8_t> buf(512);
  size_t n = 0;
  ReportBlock b;
  b.ssrc = 0x55667788;
  b.extended_highest_seq = 70000;
  SenderInfo info;
  info.ntp = 0xe5a0b1c280000000ull;
  n += write_sender_report(buf.data() + n, buf.size() - n, 0x11223344, info, {&b, 1});
  n += write_sdes_cname(buf.data() + n, buf.size() - n, 0x11223344, "abcdefghijklmnop");
  const uint32_t ssrc = 0x55667788;
  n += write_remb(buf.data() + n, buf.size() - n, 0x11223344, 2500000, {&ssrc, 1});
  buf.resize(n);
  return buf;
}

void BM_RtcpCompoundParse(benchmark::State& state) {
  const auto pkt = compound();
  for (auto _ : state) {
    RtcpCompound c;
    if (c.parse(pkt.data(), pkt.size()) != RtcpError::kOk) state.SkipWithError("parse");
    uint64_t acc = 0;
    for (RtcpPacket p : c) {
      ReportPacket r;
      if (r.parse(p) && r.block_count() > 0) acc += r.block(0).extended_highest_seq;
      uint32_t ssrc;
      absl::string_view cname;
      if (read_sdes_cname(p, &ssrc, &cname)) acc += cname.size();
      RembPacket remb;
      if (remb.parse(p)) acc += remb.bitrate_bps();
    }
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RtcpCompoundParse);

// 32 lost packets, clustered as after a burst loss plus stragglers.
void BM_NackBuild(benchmark::State& state) {
  std::vector<uint16_t> lost;
  for (int i = 0; i < 24; ++i) lost.push_back(uint16_t(65530 + i));
  for (int i = 0; i < 8; ++i) lost.push_back(uint16_t(100 + 37 * i));
  uint8_t buf[256];
  for (auto _ : state) {
    const size_t n = write_nack(buf, sizeof(buf), 1, 2, lost);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NackBuild);

void BM_NackParseExpand(benchmark::State& state) {
  std::vector<uint16_t> lost;
  for (int i = 0; i < 24; ++i) lost.push_back(uint16_t(65530 + i));
  for (int i = 0; i < 8; ++i) lost.push_back(uint16_t(100 + 37 * i));
  uint8_t buf[256];
  const size_t n = write_nack(buf, sizeof(buf), 1, 2, lost);
  uint16_t out[64];
  for (auto _ : state) {
    RtcpCompound c;
    c.parse(buf, n);
    NackPacket nack;
    nack.parse(*c.begin());
    benchmark::DoNotOptimize(nack.lost(out, 64));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NackParseExpand);

// Feedback for 100 packets at 1 ms spacing with 3 losses.
std::vector<TccArrival> tcc_arrivals() {
  std::vector<TccArrival> in;
  for (int i = 0; i < 103; ++i) {
    if (i == 10 || i == 50 || i == 51) continue;
    in.push_back(
        {uint16_t(65500 + i), 5 * kSecond + i * kMillisecond + (i % 3) * 100 * kMicrosecond});
  }
  return in;
}

void BM_TransportCcBuild(benchmark::State& state) {
  const auto in = tcc_arrivals();
  uint8_t buf[1200];
  for (auto _ : state) {
    size_t consumed;
    benchmark::DoNotOptimize(write_transport_cc(buf, sizeof(buf), 1, 2, 0, in, &consumed));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TransportCcBuild);

void BM_TransportCcParse(benchmark::State& state) {
  const auto in = tcc_arrivals();
  uint8_t buf[1200];
  size_t consumed;
  const size_t n = write_transport_cc(buf, sizeof(buf), 1, 2, 0, in, &consumed);
  for (auto _ : state) {
    RtcpCompound c;
    c.parse(buf, n);
    TransportCcPacket t;
    t.parse(*c.begin());
    TransportCcPacket::Reader r(t);
    TccPacketStatus s;
    int64_t acc = 0;
    while (r.next(&s)) acc += s.arrival_ticks;
    benchmark::DoNotOptimize(acc);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TransportCcParse);

}  // namespace
}  // namespace rtp
}  // namespace tern

BENCHMARK_MAIN();
