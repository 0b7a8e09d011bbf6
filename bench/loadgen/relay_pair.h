// tern-loadgen --scenario turn: one relay pair, the unit of a pure TURN
// relay load (no SFU, no ICE/DTLS/SRTP).
//
//   client A  --ChannelData-->  TURN server  --UDP from the relayed address-->  peer B
//   client A  <--ChannelData--  TURN server  <--UDP to the relayed address---   peer B
//
// A is a TURN client (TurnLeg with a deferred peer: Allocate, then, once the
// relayed address is known, B's flow is opened towards it and A's
// ChannelBind names B's local address). B is a plain UDP flow. Both send
// their own paced probe stream (stream.h's probe: stream id, sequence, send
// time) as soon as the channel is bound, so each direction is measured on
// its own with the checker's SeqTracker and LatencyHistogram: loss,
// reordering, duplicates and one-way latency through the server (same host
// clock).
//
// Single-threaded, driven by the caller's loop like Peer: the wire hands
// each flow its datagrams, tick() paces the streams and retransmits TURN
// requests. Every setup state has a deadline.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/loadgen/checker.h"
#include "bench/loadgen/turn_leg.h"
#include "bench/loadgen/wire.h"

namespace tern::loadgen {

// Smooth pacing at `pps` packets per second: a token bucket refilled from
// the clock, holding at most `burst` packets (5 ms worth, at least 1). When
// the loop stalls longer than that, the excess is dropped and counted
// (skipped) rather than sent as one burst: the offered load was lower.
class Pacer {
 public:
  Pacer() = default;
  // `phase` in [0,1): initial credit, so pairs started together do not all
  // send in the same millisecond.
  Pacer(uint32_t pps, Nanos now, double phase);
  // Packets due now (each one taken from the bucket).
  uint32_t due(Nanos now);
  // Gives back packets that could not be sent; they count as skipped.
  void skip(uint32_t n) { skipped_ += n; }
  uint64_t skipped() const { return skipped_; }

 private:
  double per_ns_ = 0, credit_ = 0, burst_ = 1;
  Nanos last_ = 0;
  uint64_t skipped_ = 0;
};

struct RelayPairConfig {
  std::string name;      // "pair 3"
  Wire* wire = nullptr;  // the run's wire (not owned; outlives the pair)
  TurnConfig turn;
  uint32_t index = 0;     // stream ids 2*index (A->B) and 2*index+1 (B->A)
  uint32_t pps = 500;     // per direction
  size_t payload = 1200;  // UDP payload from B, ChannelData payload from A (>= kProbeSize)
  double phase = 0;       // Pacer phase
  Nanos setup_timeout = 10 * kSecond;
};

// One direction of a pair.
struct RelayDirection {
  uint64_t sent = 0, sent_bytes = 0;  // probe packets handed to the wire
  uint64_t send_errors = 0;           // refused by the wire (not sent, not counted as sent)
  uint64_t datagrams_in = 0;          // probe datagrams that arrived (duplicates included)
  uint64_t payload_errors = 0;        // arrived without a valid probe of this direction
  SeqTracker seq;  // on the probe sequence (low 16 bits, extended); window bytes = UDP payload
  LatencyHistogram latency;  // now - probe send time, per measurement window
  Pacer pacer;
  uint32_t next_seq = 0;
};

class RelayPair {
 public:
  // Opens A's flow to the TURN server and sends the first Allocate.
  static absl::StatusOr<std::unique_ptr<RelayPair>> create(RelayPairConfig cfg, Nanos now);
  ~RelayPair();
  RelayPair(const RelayPair&) = delete;
  RelayPair& operator=(const RelayPair&) = delete;

  void tick(Nanos now);
  // Stops both streams (the run drains what is in flight).
  void stop_media() { media_stopped_ = true; }
  // Deletes the allocation on the server (Refresh, LIFETIME 0) and closes
  // both flows.
  void close();

  bool ready() const { return ready_; }  // channel bound, streams running
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  const std::string& name() const { return cfg_.name; }
  // Both directions have delivered at least one probe.
  bool flowing() const { return to_peer_.seq.started() && to_client_.seq.started(); }

  // Measurement window: sequence windows and latency histograms restart.
  void reset_window();
  const RelayDirection& to_peer() const { return to_peer_; }      // A -> server -> B
  const RelayDirection& to_client() const { return to_client_; }  // B -> server -> A

  uint16_t client_port() const { return a_flow_.local.port; }
  uint16_t peer_port() const { return b_flow_.local.port; }
  std::string relayed() const;  // "" before the allocation
  uint64_t datagrams_out() const { return datagrams_out_; }
  uint64_t datagrams_in() const { return datagrams_in_; }
  uint64_t data_indications() const { return data_indications_; }

 private:
  class Sink final : public DatagramSink {
   public:
    Sink(RelayPair* p, bool client) : p_(p), client_(client) {}
    void on_datagram(uint8_t* d, size_t n, Nanos now) override {
      client_ ? p_->on_client(d, n, now) : p_->on_peer(d, n, now);
    }

   private:
    RelayPair* p_;
    bool client_;
  };

  explicit RelayPair(RelayPairConfig cfg);
  void fail(std::string why);
  void on_client(uint8_t* d, size_t n, Nanos now);
  void on_peer(uint8_t* d, size_t n, Nanos now);
  void on_probe(RelayDirection& dir, uint32_t stream_id, const uint8_t* p, size_t n, Nanos now);
  void on_allocated(Nanos now);
  bool send_turn(const uint8_t* d, size_t n);  // a STUN message on A's flow, as is
  void send_streams(Nanos now);

  RelayPairConfig cfg_;
  TurnLeg leg_;
  Sink a_sink_{this, true}, b_sink_{this, false};
  Flow a_flow_, b_flow_;
  Nanos deadline_ = 0;
  bool ready_ = false, media_stopped_ = false;
  std::string failure_;
  RelayDirection to_peer_, to_client_;
  uint64_t datagrams_out_ = 0, datagrams_in_ = 0, data_indications_ = 0;
  std::unique_ptr<uint8_t[]> a_buf_, b_buf_;  // the two streams' payloads (probe + padding)
};

}  // namespace tern::loadgen
