// tern-loadgen --scenario turn: a pure TURN relay load against the TURN
// server itself (ternd's [turn], coturn, any RFC 8656 server). Each step
// adds relay pairs (relay_pair.h) up to the step's count, waits until every
// pair relays both ways, warms up and measures both directions; the run
// stops at the first step over --max-loss.
//
// There is no signalling target: the server is reached only at --turn. A
// ternd control socket, when given, is used for nothing but server.info's
// pid (the server CPU); otherwise --server-pid names the process.
#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/loadgen/relay_pair.h"
#include "bench/loadgen/scenario.h"
#include "bench/loadgen/target.h"

namespace tern::loadgen {
namespace {

// The permission a ChannelBind installs lasts 300 s (RFC 8656 §9) and the
// pairs do not refresh it, so a run ends before that.
constexpr Nanos kMaxRun = 290 * kSecond;

class TurnRunner {
 public:
  explicit TurnRunner(const Options& o) : o_(o) {}
  absl::StatusOr<RunResult> run();

 private:
  void progress(const std::string& s) {
    if (!o_.quiet) std::fprintf(stderr, "tern-loadgen: %s\n", s.c_str());
  }
  // The loop: the wire hands every datagram to its flow, then a tick per
  // pair. Runs until done() (when given) or the deadline.
  bool loop(Nanos deadline, const std::function<bool()>& done) {
    for (;;) {
      wire_->poll(kMillisecond);
      const Nanos now = mono_now();
      for (auto& p : pairs_) p->tick(now);
      wire_->flush();
      if (done && done()) return true;
      if (now >= deadline) return done ? done() : true;
    }
  }
  std::string add_pairs(uint32_t n);
  std::string wait_flowing();
  StepResult measure(uint32_t n);
  void finish();

  Options o_;
  std::unique_ptr<Wire> wire_;
  TurnConfig turn_;
  std::vector<std::unique_ptr<RelayPair>> pairs_;
  RunResult r_;
  Nanos end_ = 0;
};

std::string TurnRunner::add_pairs(uint32_t n) {
  const size_t first = pairs_.size();
  while (pairs_.size() < n) {
    const uint32_t i = uint32_t(pairs_.size());
    auto p = RelayPair::create({.name = absl::StrCat("pair ", i),
                                .wire = wire_.get(),
                                .turn = turn_,
                                .index = i,
                                .pps = o_.pps,
                                .payload = o_.payload,
                                // Spread the pairs' sending over the packet interval.
                                .phase = double(i % 64) / 64},
                               mono_now());
    if (!p.ok()) return std::string(p.status().message());
    pairs_.push_back(std::move(*p));
  }
  auto settled = [&] {
    for (size_t i = first; i < pairs_.size(); ++i)
      if (!pairs_[i]->ready() && !pairs_[i]->failed()) return false;
    return true;
  };
  loop(std::min(end_, mono_now() + 15 * kSecond), settled);
  for (const auto& p : pairs_)
    if (p->failed()) return p->name() + ": " + p->failure();
  if (!settled()) return "relay pairs not set up within 15 s";
  return "";
}

// Every pair must have relayed in both directions before a step measures.
std::string TurnRunner::wait_flowing() {
  auto all = [&] {
    for (const auto& p : pairs_)
      if (!p->flowing() || p->failed()) return false;
    return true;
  };
  if (!loop(std::min(end_, mono_now() + 5 * kSecond), all)) {
    for (const auto& p : pairs_) {
      if (p->failed()) return p->name() + ": " + p->failure();
      if (!p->flowing())
        return absl::StrCat(p->name(), ": nothing relayed ",
                            p->to_peer().seq.started() ? "peer -> client" : "client -> peer",
                            " within 5 s (relayed address ", p->relayed(), ")");
    }
  }
  loop(std::min(end_, mono_now() + Nanos(o_.warmup_seconds * 1e9)), nullptr);
  if (mono_now() >= end_) return "--max-duration reached";
  return "";
}

StepResult TurnRunner::measure(uint32_t n) {
  StepResult st;
  st.subscribers = n;
  struct Before {
    uint64_t sent[2], bytes[2], skipped[2], errors[2], payload_errors[2];
  };
  auto dirs = [](const RelayPair& p) {
    return std::array<const RelayDirection*, 2>{&p.to_peer(), &p.to_client()};
  };
  std::vector<Before> before;
  for (auto& p : pairs_) {
    p->reset_window();
    Before b{};
    for (int k = 0; k < 2; ++k) {
      const RelayDirection& d = *dirs(*p)[k];
      b.sent[k] = d.sent, b.bytes[k] = d.sent_bytes, b.skipped[k] = d.pacer.skipped(),
      b.errors[k] = d.send_errors, b.payload_errors[k] = d.payload_errors;
    }
    before.push_back(b);
  }
  const double cpu0 = proc_cpu_seconds(r_.ternd_pid), self0 = self_cpu_seconds();
  const Nanos t0 = mono_now();
  loop(std::min(end_, t0 + Nanos(o_.step_seconds * 1e9)), nullptr);
  const Nanos t1 = mono_now();
  st.seconds = double(t1 - t0) / 1e9;
  const double cpu1 = proc_cpu_seconds(r_.ternd_pid);
  if (cpu0 >= 0 && cpu1 >= 0) st.ternd_cpu_pct = (cpu1 - cpu0) / st.seconds * 100;
  st.loadgen_cpu_pct = (self_cpu_seconds() - self0) / st.seconds * 100;

  LatencyHistogram all, each[2];
  StepResult::Direction* out[2] = {&st.to_peer, &st.to_client};
  for (size_t i = 0; i < pairs_.size(); ++i) {
    const RelayPair& p = *pairs_[i];
    StepResult::Pair pw{
        .client_port = p.client_port(), .peer_port = p.peer_port(), .relayed = p.relayed()};
    bool silent = false;
    for (int k = 0; k < 2; ++k) {
      const RelayDirection& d = *dirs(p)[k];
      const uint64_t sent = d.sent - before[i].sent[k];
      WindowCounts w = d.seq.window();
      if (w.received == 0) {  // silent all window: everything sent was lost
        w.expected = sent;
        ++out[k]->silent_pairs;
        silent = true;
      }
      out[k]->sent += sent;
      out[k]->received += w.received;
      out[k]->expected += w.expected;
      out[k]->duplicates += w.duplicates;
      out[k]->reordered += w.reordered;
      st.sent_packets += sent;
      st.sent_bytes += d.sent_bytes - before[i].bytes[k];
      st.pacing_skipped += d.pacer.skipped() - before[i].skipped[k];
      st.send_errors += d.send_errors - before[i].errors[k];
      st.payload_errors += d.payload_errors - before[i].payload_errors[k];
      st.bytes += w.bytes;
      (k == 0 ? pw.to_peer_received : pw.to_client_received) = w.received;
      (k == 0 ? pw.to_peer_expected : pw.to_client_expected) = w.expected;
      each[k].merge(d.latency);
      all.merge(d.latency);
    }
    if (silent) ++st.subscribers_without_packets;
    st.received_per_subscriber.push_back(pw.to_peer_received + pw.to_client_received);
    st.pairs.push_back(std::move(pw));
  }
  for (int k = 0; k < 2; ++k) {
    StepResult::Direction& d = *out[k];
    d.loss_pct = loss_pct(d.expected, d.received);
    fill_latency(&d, each[k]);
    st.received += d.received;
    st.expected += d.expected;
    st.duplicates += d.duplicates;
    st.reordered += d.reordered;
  }
  st.pps = double(st.received) / st.seconds;
  st.mbps = double(st.bytes) * 8 / st.seconds / 1e6;
  st.loss_pct = loss_pct(st.expected, st.received);
  st.latency_samples = all.count();
  fill_latency(&st, all);
  return st;
}

// Stops the streams, reads what is still in flight for 300 ms, counts the
// run's totals, then deletes every allocation and closes the flows.
void TurnRunner::finish() {
  for (auto& p : pairs_) p->stop_media();
  loop(mono_now() + 300 * kMillisecond, nullptr);
  RunTotals& t = r_.totals;
  for (auto& p : pairs_) {
    t.channel_data_sent += p->to_peer().sent;
    t.peer_sent += p->to_client().sent;
    for (const RelayDirection* d : {&p->to_peer(), &p->to_client()}) {
      t.sent_packets += d->sent;
      t.received_packets += d->seq.total_received();
      t.rtp_datagrams_received += d->datagrams_in;
      t.send_errors += d->send_errors;
    }
    t.datagrams_sent += p->datagrams_out();
    t.datagrams_received += p->datagrams_in();
    p->close();
  }
  wire_->flush();
  pairs_.clear();
}

absl::StatusOr<RunResult> TurnRunner::run() {
  r_.options = o_;
  r_.options.target = "turn";
  auto w = make_run_wire(o_);
  if (!w.ok()) return w.status();
  wire_ = std::move(*w);
  r_.wire = wire_->name();
  progress("wire: " + r_.wire);
  auto t = parse_turn(o_);
  if (!t.ok()) return t.status();
  turn_ = *t;
  r_.ternd_pid = o_.ternd_pid;
  if (r_.ternd_pid <= 0 && !o_.control_socket.empty()) {
    // ternd: its pid from server.info, as the other scenarios find it.
    auto pid = make_ternd_target(o_.control_socket)->connect();
    if (!pid.ok()) return pid.status();
    r_.ternd_pid = *pid;
  }
  if (r_.ternd_pid <= 0) progress("no --server-pid: the server's CPU is not measured");
  end_ = mono_now() + std::min(Nanos(o_.max_duration_s * 1e9), kMaxRun);

  for (uint32_t n : o_.subscribers) {
    r_.stop_reason = add_pairs(n);
    if (r_.stop_reason.empty()) r_.stop_reason = wait_flowing();
    if (!r_.stop_reason.empty()) break;
    progress(absl::StrCat("step: ", n, " relay pair(s), ", o_.pps, " pps each way, ", o_.payload,
                          " B, measuring ", o_.step_seconds, " s"));
    StepResult st = measure(n);
    progress(absl::StrFormat(
        "  %u pairs: sent %llu, received %llu/%llu (loss %.3f%%: to peer %.3f%%, to client "
        "%.3f%%), %.0f pps relayed, %.2f Mbps, p50/p99/p999 %.0f/%.0f/%.0f us, server cpu %.1f%%, "
        "loadgen cpu %.1f%%",
        n, (unsigned long long)st.sent_packets, (unsigned long long)st.received,
        (unsigned long long)st.expected, st.loss_pct, st.to_peer.loss_pct, st.to_client.loss_pct,
        st.pps, st.mbps, st.p50_us, st.p99_us, st.p999_us, st.ternd_cpu_pct, st.loadgen_cpu_pct));
    if (push_step(&r_, std::move(st), o_.max_loss_pct)) break;
  }
  if (r_.stop_reason.empty()) r_.stop_reason = "all steps done";
  progress("stop: " + r_.stop_reason);
  finish();
  r_.wire_counters = wire_->counters();
  progress(totals_line(r_.totals, "probe"));
  return r_;
}

}  // namespace

absl::StatusOr<RunResult> run_turn_scenario(const Options& o) { return TurnRunner(o).run(); }

}  // namespace tern::loadgen
