#include "bench/loadgen/scenario.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/loadgen/endpoint.h"
#include "bench/loadgen/target.h"
#include "engine/srtp/srtp_session.h"

namespace tern::loadgen {

double proc_cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(s.substr(rp + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 0; i < 13 && in >> field; ++i) {  // field 3 (state) is i = 0
    if (i == 11) ut = std::stoull(field);
    if (i == 12) st = std::stoull(field);
  }
  return double(ut + st) / double(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

absl::StatusOr<std::unique_ptr<Wire>> make_run_wire(const Options& o) {
  if (o.dpdk_eal.empty()) return make_socket_wire();
  auto ip = Endpoint::parse(o.dpdk_ip);
  if (!ip.ok() || !ip->is_v4())
    return absl::InvalidArgumentError("--dpdk-ip: want an IPv4 address, got " + o.dpdk_ip);
  return make_dpdk_wire(
      {.eal_args = o.dpdk_eal, .port = o.dpdk_port, .local_ip = *ip, .hold_ms = o.dpdk_hold_ms});
}

absl::StatusOr<TurnConfig> parse_turn(const Options& o) {
  auto ep = Endpoint::parse(o.turn_server);
  if (!ep.ok() || !ep->is_v4() || ep->port == 0)
    return absl::InvalidArgumentError("--turn: want IPv4 HOST:PORT, got " + o.turn_server);
  return TurnConfig{*ep, o.turn_user, o.turn_password};
}

namespace {

using nlohmann::json;

// The single-threaded loop: the wire hands every datagram to its peer, then
// a tick per peer every turn (pacing, retransmission timers, reports).
// Bounded by deadline.
class Loop {
 public:
  void set_wire(Wire* w) { wire_ = w; }
  void add(Peer* p) { peers_.push_back(p); }
  void remove(Peer* p) { peers_.erase(std::remove(peers_.begin(), peers_.end(), p), peers_.end()); }
  // Runs until done() or the deadline; returns done().
  bool run(Nanos deadline, const std::function<bool()>& done) {
    for (;;) {
      wire_->poll(kMillisecond);
      const Nanos now = mono_now();
      // Ticks at most every 50 us: a busy DPDK wire returns after every
      // burst, and ticking hundreds of peers per burst would cost more than
      // the packets (pacing and timers need nothing finer).
      if (now - last_tick_ >= 50 * kMicrosecond) {
        for (Peer* p : peers_) p->tick(now);
        last_tick_ = now;
      }
      wire_->flush();
      if (done && done()) return true;
      if (now >= deadline) return done ? done() : true;
    }
  }

 private:
  Wire* wire_ = nullptr;
  std::vector<Peer*> peers_;
  Nanos last_tick_ = 0;
};

struct Session {
  std::string id;
  // Shared: with the reflector target one peer is both a publisher and a
  // subscriber (of its own streams), so it sits in both lists.
  std::shared_ptr<Peer> peer;
  bool corrupt = false;
};

class Runner {
 public:
  explicit Runner(const Options& o) : o_(o) {}
  absl::StatusOr<RunResult> run();

 private:
  void progress(const std::string& s) {
    if (!o_.quiet) std::fprintf(stderr, "tern-loadgen: %s\n", s.c_str());
  }
  struct Open {
    bool publisher = false;
    std::string name, room, exclude_session;
    bool corrupt = false;
    uint32_t audio_lines = 1;
  };
  absl::StatusOr<Session> open(const Open& w);
  std::string setup_fanout(uint32_t n);
  std::string setup_conference(uint32_t n);
  std::string setup_rooms(uint32_t n);
  std::string setup_reflected(uint32_t n);
  void drain();
  std::string wait_flowing();
  std::string wait_publishers();
  StepResult measure(uint32_t n);
  void teardown();
  bool audio() const { return o_.audio || o_.scenario == "conference"; }
  uint32_t video_kbps() const { return o_.scenario == "conference" ? 0 : o_.video_kbps; }

  Options o_;
  std::unique_ptr<Target> target_;
  std::shared_ptr<const DtlsContext> dtls_;
  std::optional<TurnConfig> turn_;  // --turn, parsed once
  std::unique_ptr<Wire> wire_;
  Loop loop_;
  std::vector<Session> pubs_, subs_;
  RunResult r_;
  Nanos end_ = 0;
};

absl::StatusOr<Session> Runner::open(const Open& w) {
  const bool publisher = w.publisher, corrupt = w.corrupt;
  PeerConfig pc;
  pc.name = w.name;
  pc.wire = wire_.get();
  pc.publisher = publisher;
  pc.decrypt_every = std::max<uint32_t>(1, o_.decrypt_every);
  pc.corrupt_key = corrupt;
  pc.drop_every = o_.drop_every;
  pc.retransmit = o_.retransmit;
  pc.turn = turn_;
  pc.nack = o_.nack;
  pc.rtcp = o_.target != "reflector";
  static std::mt19937 rng{std::random_device{}()};
  if (publisher) {
    if (audio())
      pc.streams.push_back({.video = false,
                            .stream_id = 0,
                            .ssrc = uint32_t(rng()) | 1,
                            .pt = kOpusPt,
                            .mid = "0",
                            .kbps = o_.audio_kbps});
    if (video_kbps() > 0)
      pc.streams.push_back({.video = true,
                            .stream_id = 1,
                            .ssrc = uint32_t(rng()) | 1,
                            .pt = kVp8Pt,
                            .mid = "1",
                            .kbps = video_kbps(),
                            .fps = o_.fps,
                            .keyframe_interval = o_.keyframe_interval,
                            .pacing = o_.pacing});
  }
  auto peer = Peer::create(pc, dtls_);
  if (!peer.ok()) return peer.status();
  Session s;
  s.peer = std::move(*peer);
  s.corrupt = corrupt;
  OfferParams op = s.peer->offer_params();
  if (!publisher) {
    op.audio = audio(), op.video = video_kbps() > 0;
    op.audio_lines = w.audio_lines;
  }
  auto joined =
      publisher ? target_->publish(w.room, op) : target_->subscribe(w.room, op, w.exclude_session);
  if (!joined.ok()) return joined.status();
  s.id = joined->id;
  for (const ExpectedStream& e : joined->streams) s.peer->expect_ssrc(e.ssrc, e.video);
  const Nanos now = mono_now();
  if (auto st = joined->keys ? s.peer->start_keyed(joined->remote.server, *joined->keys, now)
                             : s.peer->start(joined->remote, now);
      !st.ok())
    return st;
  loop_.add(s.peer.get());
  return s;
}

StepResult Runner::measure(uint32_t n) {
  StepResult st;
  st.subscribers = n;
  std::vector<PeerCounters> before;
  for (Session& s : subs_) {
    s.peer->reset_window();
    before.push_back(s.peer->counters());
  }
  // Packets sent per publisher and kind (a silent stream lost all of them).
  struct Sent {
    uint64_t audio = 0, video = 0, bytes = 0, pli = 0, rtx = 0, skipped = 0, withheld = 0;
  };
  auto sent_now = [&] {
    Sent s;
    for (const Session& p : pubs_) {
      for (const StreamGen& g : p.peer->streams())
        (g.config().video ? s.video : s.audio) += g.packets(), s.bytes += g.bytes(),
            s.skipped += g.frames_skipped();
      s.pli += p.peer->counters().pli_in, s.rtx += p.peer->counters().retransmits;
      s.withheld += p.peer->counters().withheld;
    }
    return s;
  };
  const Sent s0 = sent_now();
  const std::optional<ServerWork> w0 = target_->work();
  const double cpu0 = proc_cpu_seconds(r_.ternd_pid), self0 = self_cpu_seconds();
  const Nanos t0 = mono_now();
  loop_.run(std::min(end_, t0 + Nanos(o_.step_seconds * 1e9)), nullptr);
  const Nanos t1 = mono_now();
  st.seconds = double(t1 - t0) / 1e9;
  const double cpu1 = proc_cpu_seconds(r_.ternd_pid);
  if (cpu0 >= 0 && cpu1 >= 0) st.ternd_cpu_pct = (cpu1 - cpu0) / st.seconds * 100;
  st.loadgen_cpu_pct = (self_cpu_seconds() - self0) / st.seconds * 100;
  if (const std::optional<ServerWork> w1 = target_->work(); w0 && w1) {
    const double busy = w1->busy_s - w0->busy_s;
    st.server_busy_pct = busy / st.seconds * 100;
    st.server_rx = w1->rx_packets - w0->rx_packets;
    st.server_tx = w1->tx_packets - w0->tx_packets;
    if (st.server_tx > 0) st.server_busy_ns_per_tx = busy * 1e9 / double(st.server_tx);
  }
  const Sent s1 = sent_now();
  st.sent_packets = (s1.audio - s0.audio) + (s1.video - s0.video);
  st.sent_bytes = s1.bytes - s0.bytes;
  st.pli_in = s1.pli - s0.pli;
  st.retransmits = s1.rtx - s0.rtx;
  st.frames_skipped = s1.skipped - s0.skipped;
  st.withheld = s1.withheld - s0.withheld;
  const uint64_t np = std::max<size_t>(1, pubs_.size());
  const uint64_t audio_each = (s1.audio - s0.audio) / np, video_each = (s1.video - s0.video) / np;
  LatencyHistogram h;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Peer& p = *subs_[i].peer;
    const WindowCounts w = p.window();
    st.auth_fail += p.counters().auth_fail - before[i].auth_fail;
    st.received_per_subscriber.push_back(w.received);
    st.port_per_subscriber.push_back(p.local_port());
    st.streams_per_subscriber.push_back(p.stream_windows());
    if (subs_[i].corrupt) continue;  // expected to receive nothing
    st.payload_errors += p.counters().payload_errors - before[i].payload_errors;
    st.nack_out += p.counters().nack_out - before[i].nack_out;
    st.received += w.received;
    st.bytes += w.bytes;
    st.duplicates += w.duplicates;
    st.reordered += w.reordered;
    st.expected += w.expected + w.silent_audio * audio_each + w.silent_video * video_each;
    if (w.received == 0) ++st.subscribers_without_packets;
    h.merge(p.latency());
  }
  st.pps = double(st.received) / st.seconds;
  st.mbps = double(st.bytes) * 8 / st.seconds / 1e6;
  st.loss_pct = loss_pct(st.expected, st.received);
  st.latency_samples = h.count();
  fill_latency(&st, h);
  return st;
}

// session.close for every session (subscribers first), then forget the
// peers, adding their counters to the run's totals (once per peer).
void Runner::teardown() {
  std::vector<const Peer*> counted;
  for (auto* list : {&subs_, &pubs_}) {
    for (Session& s : *list) {
      loop_.remove(s.peer.get());
      if (std::find(counted.begin(), counted.end(), s.peer.get()) == counted.end()) {
        counted.push_back(s.peer.get());
        const PeerCounters& c = s.peer->counters();
        RunTotals& t = r_.totals;
        t.sent_packets += c.rtp_out;
        if (!s.corrupt) t.received_packets += s.peer->total_received();
        t.rtp_datagrams_received += c.rtp_in;
        t.datagrams_sent += c.datagrams_out;
        t.datagrams_received += c.datagrams_in;
        t.auth_failures += c.auth_fail;
        t.send_errors += c.send_errors;
      }
      if (s.id.empty()) continue;
      if (auto st = target_->close(s.id); !st.ok()) r_.errors.push_back(std::string(st.message()));
    }
    list->clear();
  }
}

// fanout: one publisher for the whole run; subscribers are added up to n.
std::string Runner::setup_fanout(uint32_t n) {
  if (pubs_.empty()) {
    auto pub = open({.publisher = true, .name = "pub0", .room = o_.room});
    if (!pub.ok()) return absl::StrCat("publisher: ", pub.status().message());
    pubs_.push_back(std::move(*pub));
    progress(absl::StrCat("publisher session ", pubs_[0].id, " (room ", o_.room, ")"));
    if (std::string e = wait_publishers(); !e.empty()) return e;
  }
  while (subs_.size() < n) {
    auto s = open({.name = absl::StrCat("sub", subs_.size()),
                   .room = o_.room,
                   .corrupt = subs_.size() < o_.corrupt_subscribers});
    if (!s.ok()) return absl::StrCat("subscriber ", subs_.size(), ": ", s.status().message());
    subs_.push_back(std::move(*s));
  }
  return "";
}

// conference: n participants, each publishing audio and receiving the other
// n-1. ternd does not renegotiate, so every step starts from fresh sessions
// in a room of its own.
std::string Runner::setup_conference(uint32_t n) {
  teardown();
  const std::string room = absl::StrCat(o_.room, "-", n);
  for (uint32_t i = 0; i < n; ++i) {
    auto pub = open({.publisher = true, .name = absl::StrCat("pub", i), .room = room});
    if (!pub.ok()) return absl::StrCat("publisher ", i, ": ", pub.status().message());
    pubs_.push_back(std::move(*pub));
  }
  if (std::string e = wait_publishers(); !e.empty()) return e;
  for (uint32_t i = 0; n > 1 && i < n; ++i) {
    auto s = open({.name = absl::StrCat("sub", i),
                   .room = room,
                   .exclude_session = pubs_[i].id,
                   .corrupt = i < o_.corrupt_subscribers,
                   .audio_lines = n - 1});
    if (!s.ok()) return absl::StrCat("subscriber ", i, ": ", s.status().message());
    subs_.push_back(std::move(*s));
  }
  progress(absl::StrCat("room ", room, ": ", n, " participants"));
  return "";
}

// Subscribers join once the publishers are connected: Janus offers a feed
// only after its publisher's DTLS is up ("No such feed" before). ternd would
// not need it; the wait costs the same for both targets.
std::string Runner::wait_publishers() {
  auto up = [&] {
    for (Session& s : pubs_)
      if (!s.peer->connected() && !s.peer->failed()) return false;
    return true;
  };
  loop_.run(std::min(end_, mono_now() + 15 * kSecond), up);
  for (Session& s : pubs_)
    if (!s.peer->connected())
      return s.peer->name() + ": " +
             (s.peer->failed() ? s.peer->failure() : "did not connect within 15 s");
  // The server learns of its DTLS completion a round trip after we do.
  loop_.run(mono_now() + 100 * kMillisecond, nullptr);
  return "";
}

// rooms: n small rooms, each one publisher (the fanout media) and
// room_size subscribers; rebuilt from scratch every step, like conference.
std::string Runner::setup_rooms(uint32_t n) {
  teardown();
  auto room = [&](uint32_t i) { return absl::StrCat(o_.room, "-", n, "-", i); };
  for (uint32_t i = 0; i < n; ++i) {
    auto pub = open({.publisher = true, .name = absl::StrCat("pub", i), .room = room(i)});
    if (!pub.ok()) return absl::StrCat("room ", i, " publisher: ", pub.status().message());
    pubs_.push_back(std::move(*pub));
  }
  if (std::string e = wait_publishers(); !e.empty()) return e;
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t k = 0; k < o_.room_size; ++k) {
      auto s = open({.name = absl::StrCat("sub", i, ".", k),
                     .room = room(i),
                     .corrupt = subs_.size() < o_.corrupt_subscribers});
      if (!s.ok()) return absl::StrCat("room ", i, " subscriber ", k, ": ", s.status().message());
      subs_.push_back(std::move(*s));
    }
  }
  progress(absl::StrCat(n, " rooms of 1 publisher + ", o_.room_size, " subscribers"));
  return "";
}

// reflector: n peers, each publishing and receiving its own streams back.
std::string Runner::setup_reflected(uint32_t n) {
  while (pubs_.size() < n) {
    auto p = open({.publisher = true, .name = absl::StrCat("peer", pubs_.size()), .room = o_.room});
    if (!p.ok()) return absl::StrCat("peer ", pubs_.size(), ": ", p.status().message());
    pubs_.push_back(*p);
    subs_.push_back(std::move(*p));
  }
  return "";
}

// The end of a run: publishers stop, and what is still in flight (forwarded
// or reflected) is read for a bounded 300 ms, so the totals hold every
// packet that came back.
void Runner::drain() {
  for (Session& s : pubs_) s.peer->stop_media();
  loop_.run(mono_now() + 300 * kMillisecond, nullptr);
}

// Connect everyone, then wait until every (correctly keyed) subscriber
// receives every stream: video consumers start at a keyframe.
std::string Runner::wait_flowing() {
  auto all_connected = [&] {
    for (auto* list : {&pubs_, &subs_})
      for (Session& s : *list)
        if (!s.peer->connected() && !s.peer->failed()) return false;
    return true;
  };
  loop_.run(std::min(end_, mono_now() + 15 * kSecond), all_connected);
  for (auto* list : {&pubs_, &subs_})
    for (Session& s : *list)
      if (s.peer->failed()) return s.peer->name() + ": " + s.peer->failure();
  if (!all_connected()) return "peers did not connect within 15 s";
  loop_.run(std::min(end_, mono_now() + 5 * kSecond), [&] {
    for (Session& s : subs_)
      if (!s.corrupt && !s.peer->all_streams_flowing()) return false;
    return true;
  });
  loop_.run(std::min(end_, mono_now() + Nanos(o_.warmup_seconds * 1e9)), nullptr);
  if (mono_now() >= end_) return "--max-duration reached";
  return "";
}

absl::StatusOr<RunResult> Runner::run() {
  r_.options = o_;
  if (auto st = srtp_library_init(); !st.ok()) return st;
  target_ = o_.target == "janus"       ? make_janus_target(o_.janus_url)
            : o_.target == "whip"      ? make_whip_target(o_.whip_url, o_.http_token)
            : o_.target == "reflector" ? make_reflector_target(o_.reflector, o_.srtp_key)
                                       : make_ternd_target(o_.control_socket);
  auto w = make_run_wire(o_);
  if (!w.ok()) return w.status();
  wire_ = std::move(*w);
  r_.wire = wire_->name();
  progress("wire: " + r_.wire);
  loop_.set_wire(wire_.get());
  auto pid = target_->connect();
  if (!pid.ok()) return pid.status();
  r_.ternd_pid = o_.ternd_pid > 0 ? o_.ternd_pid : *pid;
  auto cert = DtlsCertificate::generate();
  if (!cert.ok()) return cert.status();
  auto ctx = DtlsContext::create(*cert);
  if (!ctx.ok()) return ctx.status();
  dtls_ = *ctx;
  end_ = mono_now() + Nanos(o_.max_duration_s * 1e9);
  if (!o_.turn_server.empty()) {
    auto t = parse_turn(o_);
    if (!t.ok()) return t.status();
    turn_ = *t;
  }

  for (uint32_t n : o_.subscribers) {
    r_.stop_reason = o_.target == "reflector"      ? setup_reflected(n)
                     : o_.scenario == "conference" ? setup_conference(n)
                     : o_.scenario == "rooms"      ? setup_rooms(n)
                                                   : setup_fanout(n);
    if (r_.stop_reason.empty()) r_.stop_reason = wait_flowing();
    if (!r_.stop_reason.empty()) break;
    if (r_.srtp_profile.empty() && !pubs_.empty()) r_.srtp_profile = pubs_[0].peer->srtp_profile();
    const char* what = o_.scenario == "conference" ? "participant(s)"
                       : o_.scenario == "rooms"    ? "room(s)"
                                                   : "subscriber(s)";
    progress(absl::StrCat("step: ", n, " ", what, ", measuring ", o_.step_seconds, " s"));
    StepResult st = measure(n);
    progress(absl::StrFormat(
        "  %u: sent %llu pkts, received %llu/%llu (loss %.3f%%), %.0f pps, %.2f Mbps, "
        "p50/p99/p999 %.0f/%.0f/%.0f us, server cpu %.1f%%%s, auth_fail %llu",
        n, (unsigned long long)st.sent_packets, (unsigned long long)st.received,
        (unsigned long long)st.expected, st.loss_pct, st.pps, st.mbps, st.p50_us, st.p99_us,
        st.p999_us, st.ternd_cpu_pct,
        st.server_busy_pct < 0 ? std::string()
                               : absl::StrFormat(" (workers busy %.1f%%, %.0f ns per packet out)",
                                                 st.server_busy_pct, st.server_busy_ns_per_tx),
        (unsigned long long)st.auth_fail));
    if (push_step(&r_, std::move(st), o_.max_loss_pct)) break;
  }
  if (r_.stop_reason.empty()) r_.stop_reason = "all steps done";
  progress("stop: " + r_.stop_reason);
  drain();
  teardown();
  r_.wire_counters = wire_->counters();
  progress(totals_line(r_.totals, "RTP"));
  return r_;
}

}  // namespace

absl::StatusOr<RunResult> run_scenario(const Options& o) {
  return o.scenario == "turn" ? run_turn_scenario(o) : Runner(o).run();
}

}  // namespace tern::loadgen
