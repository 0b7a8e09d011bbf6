// tern-loadgen: scenarios and their steps. fanout: one publisher (video,
// optionally audio), subscribers added step by step (1 -> N); each step
// measures for step_seconds what every subscriber received, the forwarded
// rate, loss, reordering, duplicates, latency and ternd's CPU, and the run
// stops at the first step whose loss exceeds max_loss_pct. conference: N
// participants, each publishing audio and subscribing to the N-1 others
// (exclude_session), rebuilt in a fresh room every step (ternd does not
// renegotiate, so a subscriber cannot gain producers). rooms: N small rooms
// of one publisher and room_size subscribers each (many-small-rooms load:
// per-room state and per-session overhead rather than one big fan-out).
// turn (turn_scenario.cc): a pure TURN relay load, N relay pairs per step
// (relay_pair.h), no SFU; the server under test is the TURN server itself.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/loadgen/checker.h"
#include "bench/loadgen/endpoint.h"
#include "bench/loadgen/turn_leg.h"
#include "bench/loadgen/wire.h"
#include "nlohmann/json.hpp"

namespace tern::loadgen {

struct Options {
  // ternd (control_socket), janus (janus_url), whip (whip_url) or reflector
  // (reflector, srtp_key: every publisher receives its own streams back, no
  // ICE/DTLS).
  std::string target = "ternd";
  std::string control_socket;
  std::string janus_url;
  std::string whip_url, http_token;
  std::string turn_server, turn_user, turn_password;  // every endpoint through this TURN relay
  std::string reflector, srtp_key;
  std::string scenario = "fanout";
  std::string room = "loadgen";
  // Per step: subscribers, participants, rooms or (turn) relay pairs.
  std::vector<uint32_t> subscribers = {1, 2, 4, 8};
  uint32_t room_size = 2;   // rooms: subscribers per room
  uint32_t pps = 500;       // turn: packets/s per pair and direction
  uint32_t payload = 1200;  // turn: probe payload bytes per packet
  uint32_t video_kbps = 1000;
  bool audio = false;
  uint32_t audio_kbps = 32;
  uint32_t fps = 30;
  uint32_t keyframe_interval = 60;
  double pacing = 2.5;  // video sent at most at pacing x kbps within a frame (0 = frame bursts)
  double step_seconds = 5;
  double warmup_seconds = 1;  // after every subscriber flows, before measuring
  double max_loss_pct = 1;
  double max_duration_s = 600;  // whole run, including setup
  uint32_t decrypt_every = 1;
  uint32_t corrupt_subscribers = 0;  // the first N subscribers get a wrong SRTP key
  uint32_t drop_every = 0;           // publishers withhold every Nth video packet
  bool retransmit = true;            // publishers answer NACKs
  bool nack = true;                  // subscribers NACK gaps (false: loss is never repaired)
  int ternd_pid = 0;  // the server's pid for CPU %; 0: ternd's server.info (Janus: none)
  // Endpoints on a DPDK port (wire.h) instead of kernel sockets: EAL
  // arguments, the port's name and the loadgen's IPv4 address there.
  std::vector<std::string> dpdk_eal;
  std::string dpdk_port, dpdk_ip;
  // After the run, keep the DPDK port up (not polled) until SIGUSR1 or this
  // long (0: close at once); see --dpdk-hold-ms.
  uint32_t dpdk_hold_ms = 0;
  std::string json_out, markdown_out;
  bool quiet = false;
};

struct StepResult {
  uint32_t subscribers = 0;
  double seconds = 0;
  uint64_t sent_packets = 0, sent_bytes = 0;  // by the publisher(s)
  uint64_t received = 0, expected = 0, bytes = 0;
  uint64_t duplicates = 0, reordered = 0;
  uint64_t auth_fail = 0, payload_errors = 0, nack_out = 0, retransmits = 0, pli_in = 0;
  uint64_t subscribers_without_packets = 0;
  uint64_t frames_skipped = 0;
  uint64_t withheld = 0;  // publisher packets withheld on purpose (--drop-every)  // publisher
                          // frames skipped: the loadgen's loop stalled
  std::vector<uint64_t> received_per_subscriber;
  // Per subscriber: its local UDP port and each received SSRC's window.
  std::vector<uint16_t> port_per_subscriber;
  std::vector<std::vector<StreamWindow>> streams_per_subscriber;
  // --scenario turn: each direction on its own and every pair's window.
  struct Direction {
    uint64_t sent = 0, received = 0, expected = 0, duplicates = 0, reordered = 0;
    uint64_t silent_pairs = 0;  // pairs that received nothing in this direction in the window
    double loss_pct = 0, p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  };
  Direction to_peer, to_client;  // client -> server -> peer, and back
  struct Pair {
    uint16_t client_port = 0, peer_port = 0;
    std::string relayed;
    uint64_t to_peer_received = 0, to_peer_expected = 0;
    uint64_t to_client_received = 0, to_client_expected = 0;
  };
  std::vector<Pair> pairs;
  uint64_t pacing_skipped = 0;  // turn: packets due but not sent (the loop stalled > 5 ms)
  uint64_t send_errors = 0;     // turn: packets the wire refused (not counted as sent)
  double pps = 0, mbps = 0, loss_pct = 0;
  uint64_t latency_samples = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  double ternd_cpu_pct = -1, loadgen_cpu_pct = 0;
  // From the server's own stats (Target::work; ternd only): its workers'
  // busy time as % of the window, packets in and out, busy ns per packet out.
  double server_busy_pct = -1, server_busy_ns_per_tx = 0;
  uint64_t server_rx = 0, server_tx = 0;
  bool stopped = false;
  std::string stop_reason;
};

// Whole run, every session of every step, setup included, counted once per
// endpoint (a reflector peer is publisher and subscriber). Taken after the
// publishers stopped and the loop drained what was in flight (300 ms), so
// they can be compared with a capture of the whole run.
struct RunTotals {
  uint64_t sent_packets = 0;      // SRTP packets the publishers sent (media + retransmissions)
  uint64_t received_packets = 0;  // distinct RTP packets the subscribers received (authenticated)
  uint64_t rtp_datagrams_received = 0;  // RTP datagrams read by subscribers, before SRTP
  uint64_t datagrams_sent = 0, datagrams_received = 0;  // any protocol (STUN, DTLS, RTCP too)
  uint64_t auth_failures = 0, send_errors = 0;
  // turn: probe packets the clients sent as ChannelData (what the server's
  // ChannelData counter must at least show) and the peers sent as plain UDP.
  uint64_t channel_data_sent = 0, peer_sent = 0;
};

struct RunResult {
  Options options;
  int ternd_pid = 0;
  std::string srtp_profile;  // negotiated with the server (first publisher)
  std::string wire;          // "socket" or "dpdk PORT"
  WireCounters wire_counters;
  std::vector<StepResult> steps;
  RunTotals totals;
  std::string stop_reason;
  std::vector<std::string> errors;
};

absl::StatusOr<RunResult> run_scenario(const Options& o);
absl::StatusOr<RunResult> run_turn_scenario(const Options& o);  // turn_scenario.cc

// Shared by the scenario runners (scenario.cc).
// A process's CPU time (utime + stime) in seconds from /proc/<pid>/stat; -1 if unreadable.
double proc_cpu_seconds(int pid);
double self_cpu_seconds();  // the loadgen's own (getrusage)
// The run's wire: kernel sockets, or the DPDK port of --dpdk.
absl::StatusOr<std::unique_ptr<Wire>> make_run_wire(const Options& o);
// --turn HOST:PORT with its user and password.
absl::StatusOr<TurnConfig> parse_turn(const Options& o);

// Appends a measured step; marks it (and the run) stopped when its loss is
// over max_loss_pct. True: the ramp stops here. Shared by every scenario.
bool push_step(RunResult* r, StepResult st, double max_loss_pct);
// A step's (or one direction's) p50/p99/p999/max in microseconds from h.
template <class T>
void fill_latency(T* out, const LatencyHistogram& h) {
  out->p50_us = double(h.quantile(0.5)) / 1e3;
  out->p99_us = double(h.quantile(0.99)) / 1e3;
  out->p999_us = double(h.quantile(0.999)) / 1e3;
  out->max_us = double(h.max()) / 1e3;
}
// Loss in percent of `expected`; 100 when nothing was expected (a step that
// expected nothing measured nothing), never negative (duplicates are apart).
double loss_pct(uint64_t expected, uint64_t received);
// The run's closing progress line ("totals: sent N <what> packets, ...").
std::string totals_line(const RunTotals& t, const char* what);

nlohmann::json to_json(const RunResult& r);
std::string to_markdown(const RunResult& r);

}  // namespace tern::loadgen
