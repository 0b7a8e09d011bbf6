// The per-packet paths allocate nothing: RTP parse/rewrite, RTCP parse and
// feedback builders, and SrtpSession protect/unprotect once a stream exists.
// The one documented exception is checked too: libsrtp clones a stream (an
// allocation) on the first packet of a new SSRC, and inbound only after the
// packet authenticated.
//
// Counting works by interposing malloc & co. in this executable (glibc's
// __libc_* entry points do the work), so calls from libsrtp and OpenSSL are
// seen as well as operator new. Skipped under sanitizers, which own malloc.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/rtp/rtcp.h"
#include "engine/rtp/rtcp_feedback.h"
#include "engine/rtp/rtp_extensions.h"
#include "engine/rtp/rtp_packet.h"
#include "engine/srtp/srtp_session.h"
#include "gtest/gtest.h"

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
  return *out ? 0 : 12;  // ENOMEM
}
}
#endif

namespace tern {
namespace {

using namespace rtp;

class HotPath : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef TERN_SANITIZED
    GTEST_SKIP() << "allocation counting interposes malloc; sanitizers own it";
#endif
    ASSERT_TRUE(srtp_library_init().ok());
  }
  static uint64_t allocs() { return g_allocs.load(std::memory_order_relaxed); }
};

TEST_F(HotPath, CountingWorks) {
  // Through a volatile pointer so the compiler cannot elide the pair.
  void* (*volatile m)(size_t) = malloc;
  const uint64_t before = allocs();
  free(m(100));
  EXPECT_EQ(allocs() - before, 1u);
}

TEST_F(HotPath, RtpAndRtcpCodecsDoNotAllocate) {
  std::vector<uint8_t> pkt(1500);
  RtpWriter w(pkt.data(), pkt.size());
  RtpHeaderFields h;
  h.payload_type = 96;
  h.ssrc = 1;
  ASSERT_TRUE(w.begin(h));
  w.add_string_extension(1, "0");
  w.add_transport_cc_seq(5, 1);
  const uint8_t payload[1000] = {};
  pkt.resize(w.finish(payload));
  ExtensionIdTable t{};
  t[1] = 1;
  t[5] = 6;
  ExtensionIdTable back{};
  back[1] = 1;
  back[6] = 5;
  std::vector<uint16_t> lost = {1, 2, 5, 40, 41};
  std::vector<TccArrival> arrivals;
  for (int i = 0; i < 50; ++i) arrivals.push_back({uint16_t(i * 2), Nanos(i) * kMillisecond});
  uint8_t out[1500];
  uint16_t expanded[64];

  const uint64_t before = allocs();
  for (int i = 0; i < 1000; ++i) {
    RtpPacket p;
    ASSERT_EQ(p.parse(pkt.data(), pkt.size()), RtpError::kOk);
    p.set_ssrc(uint32_t(i));
    p.set_sequence(uint16_t(i));
    remap_extension_ids(p, (i & 1) ? back : t);
    Extension e;
    find_extension(p, (i & 1) ? 5 : 6, &e);

    size_t n = write_nack(out, sizeof(out), 1, 2, lost);
    RtcpCompound c;
    ASSERT_EQ(c.parse(out, n), RtcpError::kOk);
    NackPacket nack;
    ASSERT_TRUE(nack.parse(*c.begin()));
    nack.lost(expanded, 64);
    size_t consumed;
    n = write_transport_cc(out, sizeof(out), 1, 2, 0, arrivals, &consumed);
    ASSERT_EQ(c.parse(out, n), RtcpError::kOk);
    TransportCcPacket tcc;
    ASSERT_TRUE(tcc.parse(*c.begin()));
    TransportCcPacket::Reader r(tcc);
    TccPacketStatus s;
    while (r.next(&s)) {
    }
  }
  EXPECT_EQ(allocs() - before, 0u);
}

std::vector<uint8_t> rtp(uint16_t seq, uint32_t ssrc) {
  std::vector<uint8_t> p(1200 + 64, 0x42);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = uint8_t(seq >> 8);
  p[3] = uint8_t(seq);
  p[8] = uint8_t(ssrc >> 24);
  p[9] = uint8_t(ssrc >> 16);
  p[10] = uint8_t(ssrc >> 8);
  p[11] = uint8_t(ssrc);
  return p;
}

TEST_F(HotPath, SrtpAllocatesOnlyForANewSsrc) {
  for (SrtpProfile prof : {SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAeadAes128Gcm}) {
    const bool gcm = prof == SrtpProfile::kAeadAes128Gcm;
    const std::vector<uint8_t> key(16, 7), salt(gcm ? 12 : 14, 9);
    auto out = SrtpSession::create(prof, SrtpSession::Direction::kOutbound, key, salt);
    auto in = SrtpSession::create(prof, SrtpSession::Direction::kInbound, key, salt);
    ASSERT_TRUE(out.ok() && in.ok());
    std::vector<std::vector<uint8_t>> wire;
    std::vector<size_t> lens;
    for (uint16_t seq = 0; seq < 201; ++seq) {
      auto p = rtp(seq, 0xaaaa);
      size_t len = 1200;
      ASSERT_EQ(out->protect_rtp(p.data(), &len, p.size()), SrtpStatus::kOk);
      wire.push_back(std::move(p));
      lens.push_back(len);
    }
    // First packet of the SSRC: the inbound stream is cloned here.
    uint64_t before = allocs();
    ASSERT_EQ(in->unprotect_rtp(wire[0].data(), &lens[0]), SrtpStatus::kOk);
    EXPECT_GT(allocs() - before, 0u) << "libsrtp clones the stream on a new SSRC";

    // Steady state, counted per phase (gtest assertions allocate only
    // when they fail, so the counts are taken into locals first).
    before = allocs();
    bool ok = true;
    for (size_t i = 1; i < wire.size(); ++i) {
      ok &= in->unprotect_rtp(wire[i].data(), &lens[i]) == SrtpStatus::kOk;
    }
    const uint64_t unprotect_allocs = allocs() - before;
    auto p = rtp(500, 0xaaaa);
    before = allocs();
    for (uint16_t seq = 500; seq < 700; ++seq) {
      p[2] = uint8_t(seq >> 8);
      p[3] = uint8_t(seq);
      size_t len = 1200;
      ok &= out->protect_rtp(p.data(), &len, p.size()) == SrtpStatus::kOk;
    }
    const uint64_t protect_allocs = allocs() - before;
    // Failures allocate nothing either, and a forged packet from an unknown
    // SSRC does not make libsrtp clone a stream.
    auto forged = rtp(1, 0xbbbb);
    size_t len = 1200 + 16;
    before = allocs();
    const SrtpStatus forged_status = in->unprotect_rtp(forged.data(), &len);
    len = lens[5];
    const SrtpStatus replay_status = in->unprotect_rtp(wire[5].data(), &len);
    const uint64_t failure_allocs = allocs() - before;
    EXPECT_TRUE(ok);
    EXPECT_EQ(unprotect_allocs, 0u);
    EXPECT_EQ(protect_allocs, 0u);
    EXPECT_EQ(forged_status, SrtpStatus::kAuthFail);
    EXPECT_EQ(replay_status, SrtpStatus::kReplayDuplicate);
    EXPECT_EQ(failure_allocs, 0u);

    // A new outbound SSRC: one clone.
    before = allocs();
    auto q = rtp(1, 0xcccc);
    len = 1200;
    ASSERT_EQ(out->protect_rtp(q.data(), &len, q.size()), SrtpStatus::kOk);
    EXPECT_GT(allocs() - before, 0u);
  }
}

}  // namespace
}  // namespace tern
