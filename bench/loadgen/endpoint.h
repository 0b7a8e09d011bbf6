// tern-loadgen: one emulated browser. A flow on the run's wire (wire.h) to
// the server's host candidate, ICE controlling with USE-CANDIDATE (ternd is ICE-lite),
// a DTLS client, SRTP both ways and RTCP: a publisher sends its synthetic
// streams, answers PLI/FIR with a keyframe and NACK with plain
// retransmissions; a subscriber checks every packet (checker.h), sends
// receiver reports every second, NACKs gaps and sends PLI while a video
// stream has not started. With the reflector target (start_keyed) there is
// no ICE or DTLS and no RTCP: SRTP with a static key from the first packet.
//
// Single-threaded and driven by the caller's loop: the wire hands it its
// datagrams (on_datagram), tick() at least every millisecond or so. Every state
// has a deadline, so a peer that never connects ends up failed().
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/loadgen/checker.h"
#include "bench/loadgen/offer.h"
#include "bench/loadgen/stream.h"
#include "bench/loadgen/turn_leg.h"
#include "bench/loadgen/wire.h"
#include "engine/dtls/dtls_endpoint.h"
#include "engine/srtp/srtp_session.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"

namespace tern::loadgen {

struct PeerConfig {
  std::string name;
  Wire* wire = nullptr;  // the run's wire (not owned; outlives the peer)
  bool publisher = false;
  std::vector<StreamConfig> streams;  // publisher: what it sends
  uint32_t decrypt_every = 1;         // subscriber: unprotect 1 packet in N
  bool corrupt_key = false;           // subscriber: flip a bit of the inbound SRTP key
  // Publisher: withhold every Nth video packet (0 = none) to exercise the
  // NACK loop; `retransmit` answers NACKs from the history.
  uint32_t drop_every = 0;
  bool retransmit = true;
  // Subscriber: NACK gaps in video streams (off: loss stays loss, for a
  // test that compares the reported loss with what it injected).
  bool nack = true;
  // Receiver reports, NACKs and PLIs. Off for the reflector target: nobody
  // there reads RTCP, and every datagram sent is then an RTP packet.
  bool rtcp = true;
  Nanos connect_timeout = 10 * kSecond;
  // Reach the server through this TURN relay (ChannelData), as a browser
  // with iceTransportPolicy 'relay' would; unset: straight to its candidate.
  std::optional<TurnConfig> turn;
};

// One received SSRC over a measurement window: the range of extended
// sequences `expected` counts (first..highest) and what arrived in it.
struct StreamWindow {
  uint32_t ssrc = 0;
  bool video = false;
  bool open = false;  // false: nothing arrived in the window (first/highest unset)
  uint32_t first = 0, highest = 0;
  uint64_t received = 0, expected = 0;
};

struct PeerCounters {
  uint64_t rtp_in = 0;          // RTP datagrams received (before SRTP)
  uint64_t auth_fail = 0;       // SRTP/SRTCP unprotect failed
  uint64_t undecrypted = 0;     // not sampled for decryption (counted on the header)
  uint64_t payload_errors = 0;  // decrypted, but no valid probe in the payload
  uint64_t rtcp_in = 0, pli_in = 0, fir_in = 0, nack_in = 0, retransmits = 0;
  uint64_t rr_out = 0, nack_out = 0, pli_out = 0;
  uint64_t send_errors = 0;
  uint64_t datagrams_out = 0, datagrams_in = 0;  // everything on the socket, any protocol
  uint64_t rtp_out = 0;                          // SRTP packets sent (media and retransmissions)
  uint64_t checks_answered = 0;                  // the server's ICE checks (full-ICE servers)
  uint64_t withheld = 0;  // publisher: packets not sent on purpose (drop_every)
};

class Peer final : public DatagramSink {
 public:
  enum class State { kNew, kIce, kDtls, kConnected, kFailed };
  static absl::StatusOr<std::unique_ptr<Peer>> create(PeerConfig cfg,
                                                      std::shared_ptr<const DtlsContext> ctx);
  ~Peer() override;

  OfferParams offer_params() const;  // ufrag/pwd/fingerprint/ssrcs for build_offer
  // Subscriber: the SSRCs ternd said it will send (consumers of session.subscribe).
  void expect_ssrc(uint32_t ssrc, bool video);
  // Opens a flow towards the answer's candidate and starts ICE.
  absl::Status start(const AnswerInfo& answer, Nanos now);
  // No ICE, no DTLS: SRTP with these keys towards `to` from now on (the
  // reflector target, reflector_target.cc).
  absl::Status start_keyed(const Endpoint& to, const SrtpKeyingMaterial& keys, Nanos now);
  // Publisher: sends no more media (the run drains what is in flight).
  void stop_media() { media_stopped_ = true; }

  State state() const { return state_; }
  bool connected() const { return state_ == State::kConnected; }
  bool failed() const { return state_ == State::kFailed; }
  const std::string& failure() const { return failure_; }
  const std::string& name() const { return cfg_.name; }

  void on_datagram(uint8_t* d, size_t n, Nanos now) override;
  void tick(Nanos now);
  void close_dtls(Nanos now);

  // Measurement window (subscriber).
  void reset_window();
  WindowCounts window() const;
  std::vector<StreamWindow> stream_windows() const;
  // Distinct RTP packets received over the whole run (all SSRCs).
  uint64_t total_received() const;
  uint16_t local_port() const { return flow_.local.port; }  // 0 before start
  const LatencyHistogram& latency() const { return hist_; }
  // True when every expected SSRC has delivered a packet.
  bool all_streams_flowing() const;
  const PeerCounters& counters() const { return c_; }
  // The DTLS-SRTP profile the server chose ("" before connected).
  std::string srtp_profile() const;
  const std::vector<StreamGen>& streams() const { return gens_; }

 private:
  struct Track {
    uint32_t ssrc = 0;
    bool video = false;
    SeqTracker seq;
  };
  struct HistorySlot {
    uint16_t seq = 0;
    uint16_t len = 0;
    uint8_t data[1500];
  };
  Peer(PeerConfig cfg, std::shared_ptr<const DtlsContext> ctx);
  void fail(std::string why);
  bool send(const uint8_t* d, size_t n);  // false: the wire refused it (send_errors)
  // As is, never wrapped in ChannelData (TURN's own requests go this way).
  bool send_datagram(const uint8_t* d, size_t n);
  bool counted(bool sent);  // datagrams_out or send_errors
  void send_check(Nanos now);
  void on_stun(const uint8_t* d, size_t n, Nanos now);
  void answer_check(const stun::StunMessage& req);
  bool turn_pending(Nanos now);  // true while the relay is not ready (drives it)
  void on_connected(Nanos now);
  absl::Status open_flow(const Endpoint& to);
  absl::Status start_srtp(SrtpKeyingMaterial km, Nanos now);
  void on_rtp(uint8_t* d, size_t n, Nanos now);
  void on_rtcp(uint8_t* d, size_t n);
  void send_rtcp(uint8_t* d, size_t n);
  void send_media(Nanos now);
  void send_reports(Nanos now);
  Track* track(uint32_t ssrc);

  PeerConfig cfg_;
  std::shared_ptr<const DtlsContext> ctx_;
  Flow flow_;
  State state_ = State::kNew;
  std::string failure_;
  std::string local_ufrag_, local_pwd_;
  std::string remote_ufrag_;
  std::optional<MessageIntegrity> integrity_;        // remote password: our checks
  std::optional<MessageIntegrity> local_integrity_;  // ours: answers to the server's checks
  std::optional<TurnLeg> turn_;                      // set when cfg_.turn: the relay leg
  Endpoint server_;
  std::unique_ptr<DtlsEndpoint> dtls_;
  std::optional<SrtpSession> out_, in_;
  Nanos started_ = 0, next_check_ = 0, connected_at_ = 0, next_report_ = 0;
  uint32_t check_serial_ = 0;
  uint32_t rtcp_ssrc_;
  std::vector<StreamGen> gens_;
  std::vector<std::unique_ptr<HistorySlot[]>> history_;  // per video stream, 512 slots
  std::vector<Track> tracks_;
  LatencyHistogram hist_;
  uint64_t rx_count_ = 0;
  uint64_t video_sent_ = 0;
  PeerCounters c_;
  SrtpProfile profile_ = SrtpProfile::kAes128CmSha1_80;
  bool media_stopped_ = false;
};

}  // namespace tern::loadgen
