// The SFU hot path allocates nothing once streams exist: RTP from the
// publisher fanned out to subscribers (rewrite + protect), publisher RTX,
// subscriber NACK -> RTX / plain retransmission, PLI, SR, and the router
// tick (NACKs to the publisher, RR, SR). libsrtp's one documented
// allocation (a stream clone on an SSRC's first packet) happens in the
// warm-up. Counting interposes malloc in this executable (as
// tests/unit/srtp_ctx/hot_path_alloc_test.cc); skipped under sanitizers.
#include <atomic>
#include <cstdint>

#include "tests/unit/sfu/sfu_test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define TERN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TERN_SANITIZED 1
#endif
#endif

namespace {
std::atomic<uint64_t> g_allocs{0};
}

#ifndef TERN_SANITIZED
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* malloc(size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t align, size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(align, n);
}
int posix_memalign(void** out, size_t align, size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  *out = __libc_memalign(align, n);
  return *out ? 0 : 12;
}
}
#endif

namespace tern::sfu {
namespace {

using testing::Bytes;
using testing::Client;

class SfuAlloc : public testing::SfuBed {
 protected:
  void SetUp() override {
#ifdef TERN_SANITIZED
    GTEST_SKIP() << "allocation counting interposes malloc; sanitizers own it";
#endif
    SfuBed::SetUp();
  }
  // A protected packet from `cl`, built now (allocates), handled later.
  Packet* prepare(Client& cl, const Bytes& plain, bool rtcp) {
    return cl.protect(pool, plain, rtcp);
  }
  void handle(Packet* p, bool rtcp, Nanos now) {
    bool consumed = false;
    host->handle_media(p, rtcp, now, &consumed);
  }
  // pt 97: RTX on 0xA0A1 repairing `seq` (its own sequence number is 1000 + seq).
  Bytes video(uint16_t seq, bool key, uint32_t ssrc = 0xA0A0, uint8_t pt = 96) {
    testing::RtpSpec s;
    s.pt = pt;
    s.seq = pt == 97 ? uint16_t(1000 + seq) : seq;
    s.ts = seq * 3000u;
    s.ssrc = ssrc;
    s.mid = "0";
    s.payload = testing::vp8_payload(key, 1000, uint8_t(seq));
    if (pt == 97) s.payload.insert(s.payload.begin(), {uint8_t(seq >> 8), uint8_t(seq)});
    return testing::make_rtp(s);
  }
  Bytes nack(uint32_t media, uint16_t seq) {
    Bytes b(64);
    uint16_t s[] = {seq};
    b.resize(rtp::write_nack(b.data(), b.size(), 0x9999, media, s));
    return b;
  }
  Bytes pli(uint32_t media) {
    Bytes b(32);
    b.resize(rtp::write_pli(b.data(), b.size(), 0x9999, media));
    return b;
  }
  Bytes sr(uint32_t ssrc) {
    Bytes b(64);
    rtp::SenderInfo si;
    si.ntp = 0x1111222233334444ull;
    b.resize(rtp::write_sender_report(b.data(), b.size(), ssrc, si, {}));
    return b;
  }
  static uint64_t allocs() { return g_allocs.load(std::memory_order_relaxed); }
};

TEST_F(SfuAlloc, ForwardingRetransmissionAndTickAllocateNothing) {
  Client& pub = connect(1);
  Client& sub1 = connect(2);
  Client& sub2 = connect(3);
  ProducerParams p;
  p.id = 10;
  p.transport_id = 1;
  p.mid = "0";
  p.codecs = {testing::vp8_codec(96, 97)};
  p.ext = testing::publisher_ext();
  p.layers.resize(1);
  ASSERT_TRUE(router->add_producer(std::move(p), t0).ok());
  for (uint64_t id : {20, 21}) {
    ConsumerParams c;
    c.id = id;
    c.transport_id = id - 18;
    c.producer_id = 10;
    c.mid = "v";
    c.codecs = {testing::vp8_codec(100, 101)};
    c.ext.mid = 1;
    c.ext.transport_cc = 5;
    c.ext.abs_send_time = 3;
    c.ssrc = uint32_t(0x2000 + id);
    c.rtx_ssrc = id == 20 ? 0x3000 : 0;  // 21: plain retransmissions
    ASSERT_TRUE(router->add_consumer(std::move(c), t0).ok());
  }
  // Warm-up: every SSRC in every SRTP session sees its first packet.
  Nanos now = t0;
  for (uint16_t s = 1; s <= 20; ++s)
    handle(prepare(pub, video(s, s == 1), false), false, now += 1000);
  handle(prepare(pub, video(22, false), false), false, now += 1000);              // 21 lost
  router->on_tick(now += 50 * kMillisecond, 1);                                   // NACKs 21
  handle(prepare(pub, video(21, false, 0xA0A1, 97), false), false, now += 1000);  // RTX repairs it
  std::vector<Bytes> got1 = received_rtp(sub1);
  ASSERT_GE(got1.size(), 20u);
  rtp::RtpView v;
  ASSERT_EQ(v.parse(got1[5].data(), got1[5].size()), rtp::RtpError::kOk);
  const uint16_t s1 = v.sequence();
  handle(prepare(sub1, nack(0x2000 + 20, s1), true), true, now += 1000);
  handle(prepare(sub1, pli(0x2000 + 20), true), true, now += 1000);
  std::vector<Bytes> got2 = received_rtp(sub2);
  ASSERT_GE(got2.size(), 20u);
  ASSERT_EQ(v.parse(got2[5].data(), got2[5].size()), rtp::RtpError::kOk);
  const uint16_t s2 = v.sequence();
  handle(prepare(sub2, nack(0x2000 + 21, s2), true), true, now += 1000);
  handle(prepare(sub2, pli(0x2000 + 21), true), true, now += 1000);
  handle(prepare(pub, sr(0xA0A0), true), true, now += 1000);
  router->on_tick(now += kSecond, 2);
  sink.sent.clear();
  const uint64_t nacks_before = router->find_producer(10)->stats().nack_out.get();
  ASSERT_GE(nacks_before, 1u);

  // Measured: everything prepared up front.
  pool.prefill(4000);
  sink.sent.reserve(8000);
  std::vector<Packet*> in;
  std::vector<bool> rtcp;
  for (uint16_t s = 23; s < 223; ++s) {
    if (s % 50 == 0) continue;  // publisher losses: NACKed on the tick
    in.push_back(prepare(pub, video(s, s % 60 == 0), false));
    rtcp.push_back(false);
  }
  in.push_back(prepare(pub, video(100, false, 0xA0A1, 97), false));  // RTX repairs 100
  rtcp.push_back(false);
  for (int k = 0; k < 5; ++k) {
    in.push_back(prepare(sub1, nack(0x2000 + 20, uint16_t(s1 + 10 + k)), true));
    rtcp.push_back(true);
    in.push_back(prepare(sub2, nack(0x2000 + 21, uint16_t(s2 + 10 + k)), true));
    rtcp.push_back(true);
    in.push_back(prepare(sub2, pli(0x2000 + 21), true));
    rtcp.push_back(true);
  }
  in.push_back(prepare(pub, sr(0xA0A0), true));
  rtcp.push_back(true);
  const size_t sent_before = sink.sent.size();
  const uint64_t before = allocs();
  for (size_t i = 0; i < in.size(); ++i) handle(in[i], rtcp[i], now += 100 * kMicrosecond);
  router->on_tick(now += 50 * kMillisecond, 3);
  router->on_tick(now += kSecond, 4);
  const uint64_t after = allocs();
  EXPECT_EQ(after - before, 0u);
  // And it did the work: 2 x ~200 forwarded, retransmissions, NACKs, reports.
  EXPECT_GT(sink.sent.size() - sent_before, 400u);
  EXPECT_GE(router->find_consumer(20)->stats().rtx_out.get(), 5u);
  EXPECT_GE(router->find_consumer(21)->stats().rtx_out.get(), 5u);
  EXPECT_GE(router->find_producer(10)->stats().nack_out.get(), nacks_before + 1);
  EXPECT_EQ(router->find_producer(10)->stats().rtx_in.get(), 2u);
  EXPECT_EQ(router->stats().drops.total(), 0u);
}

}  // namespace
}  // namespace tern::sfu
