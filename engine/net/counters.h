// Per-worker counters. Each counter has exactly one writer (the worker thread
// that owns it) and any number of readers (the control thread). Relaxed atomics
// compile to plain loads and stores on x86, so counting costs no lock prefix,
// and a reader never sees a torn value.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tern {

class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Why a packet was dropped. Names are stable: they appear in stats and metrics.
enum class Drop : uint8_t {
  kRuntFrame,          // shorter than the headers it claims
  kBadChecksum,        // IPv4 header or UDP checksum wrong
  kNotForUs,           // destination MAC/IP/port is not ours
  kUnsupportedL3,      // ethertype we do not handle
  kUnsupportedL4,      // IP protocol we do not handle
  kIpFragment,         // fragmented IP (not reassembled)
  kIpOptions,          // malformed IPv4 header length / IPv6 extension chain
  kTtlExpired,         // hop limit 0
  kArpUnresolved,      // tx with no ARP/ND entry yet (queued request failed)
  kMalformedStun,      // STUN that does not parse
  kStunUnknownMethod,  // STUN we do not serve
  kStunFingerprint,    // FINGERPRINT mismatch
  kUnclassified,       // first byte in no RFC 7983 range
  kNoHandler,          // class recognised but no service for it yet
  kNoBuffer,           // buffer pool empty
  kTxFull,             // tx queue full
  kTurnNoAllocation,   // TURN: no (live) allocation for the 5-tuple / relayed port
  kTurnNoPermission,   // TURN: peer address without a permission
  kTurnNoChannel,      // TURN: ChannelData on an unbound channel
  kTurnQuota,          // TURN: allocation over its bandwidth quota
  kTurnMalformed,      // TURN: ChannelData / STUN that does not parse, Send without peer or data
  kSrtpAuthFail,       // SRTP/SRTCP that does not authenticate (forged, wrong key, malformed)
  kSrtpReplay,         // SRTP/SRTCP index already seen or older than the replay window
  kRtpMalformed,       // SFU: RTP that does not parse (after SRTP)
  kRtcpMalformed,      // SFU: RTCP compound that does not parse (after SRTCP)
  kSfuUnknownSsrc,     // SFU: RTP whose SSRC/mid/rid matches no producer of the transport
  kSfuUnknownPt,       // SFU: payload type the producer / consumer did not negotiate
  kSfuTooLarge,        // SFU: rewritten packet + SRTP tag does not fit the egress buffer
  kSfuNotConnected,    // SFU: consumer's transport has no SRTP keys / path yet
  kCount
};

const char* drop_name(Drop d);

struct DropCounters {
  Counter by_reason[static_cast<size_t>(Drop::kCount)];
  void add(Drop d, uint64_t n = 1) { by_reason[static_cast<size_t>(d)].add(n); }
  uint64_t get(Drop d) const { return by_reason[static_cast<size_t>(d)].get(); }
  uint64_t total() const {
    uint64_t t = 0;
    for (const auto& c : by_reason) t += c.get();
    return t;
  }
};

}  // namespace tern
