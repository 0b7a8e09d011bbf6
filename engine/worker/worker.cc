#include "engine/worker/worker.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/turn/turn_protocol.h"

namespace tern {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

std::string allowed_cpus_string(const cpu_set_t& set) {
  std::string out;
  int run_start = -1;
  for (int c = 0; c <= CPU_SETSIZE; ++c) {
    bool in = c < CPU_SETSIZE && CPU_ISSET(c, &set);
    if (in && run_start < 0) run_start = c;
    if (!in && run_start >= 0) {
      if (!out.empty()) out += ",";
      out += run_start == c - 1 ? absl::StrCat(run_start) : absl::StrCat(run_start, "-", c - 1);
      run_start = -1;
    }
  }
  return out.empty() ? "none" : out;
}

}  // namespace

absl::Status check_cpu_usable(int cpu) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    return absl::InternalError(absl::StrCat("sched_getaffinity failed: errno ", errno));
  }
  long configured = sysconf(_SC_NPROCESSORS_CONF);
  if (cpu < 0 || cpu >= CPU_SETSIZE || (configured > 0 && cpu >= configured)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CPU %d does not exist (this machine has CPUs 0-%ld; usable: %s)", cpu,
                        configured - 1, allowed_cpus_string(allowed)));
  }
  if (!CPU_ISSET(cpu, &allowed)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CPU %d is offline or not in this process's affinity mask (usable: %s)",
                        cpu, allowed_cpus_string(allowed)));
  }
  return absl::OkStatus();
}

Nanos Worker::now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

Worker::Worker(PacketDriver& driver, WorkerConfig cfg)
    : driver_(driver),
      cfg_(std::move(cfg)),
      q_(cfg_.index),
      timers_(cfg_.timer_capacity, kMillisecond, now()),
      stun_(cfg_.stun) {
  tx_sink_.w = this;
  event_sink_.w = this;
  transports_ = std::make_unique<sfu::TransportHost>(transport_timers_, tx_sink_, event_sink_);
  router_ = std::make_unique<sfu::Router>(*transports_, tx_sink_, event_sink_);
  data_sink_.w = this;
  data_router_ = std::make_unique<sfu::DataRouter>(*transports_, tx_sink_, data_sink_);
  // Sleeping until traffic needs a driver whose wait_rx wakes on RX and on
  // our eventfd (commands, stop); otherwise sleeps stay <= idle_max_sleep so
  // commands and stop are noticed in time.
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  sleep_until_traffic_ =
      wake_fd_ >= 0 && driver_.caps().rx_interrupts && driver_.add_wake_fd(q_, wake_fd_);
}

Worker::~Worker() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
  // Commands never run (posted after stop): free what they own.
  WorkerCommand c;
  while (commands_.pop(&c)) {
    delete c.transport;
    delete c.connect;
    delete c.producer;
    delete c.consumer;
    delete c.data;
    delete c.ice_restart;
  }
  sfu::DataEvent de;
  while (data_events_.pop(&de)) de.free_payload();
}

bool Worker::post_command(const WorkerCommand& cmd) {
  if (!commands_.push(cmd)) return false;
  wake();
  return true;
}

void Worker::wake() {
  if (!sleep_until_traffic_) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one,
               sizeof one);  // only fails when the counter is saturated: still readable
}

// Control-plane rate (transport.create/connect/close): may allocate and free.
void Worker::run_commands(Nanos t) {
  WorkerCommand c;
  for (int i = 0; i < 64 && commands_.pop(&c); ++i) {  // bounded per loop iteration
    stats_.commands.add();
    switch (c.type) {
      case WorkerCommand::Type::kAddTransport:
        if (c.transport != nullptr && c.transport->has_sctp()) {
          c.transport->set_data_handler(data_router_.get());
        }
        (void)transports_->add(std::unique_ptr<sfu::WebRtcTransport>(c.transport), t);
        break;
      case WorkerCommand::Type::kConnectTransport: {
        std::unique_ptr<TransportConnect> cc(c.connect);
        if (sfu::WebRtcTransport* tr = transports_->find(c.id); tr != nullptr && cc) {
          // The control plane validated both; a late change (DTLS already
          // verified the peer) is refused by the cores and changes nothing.
          if (cc->remote_ice) (void)tr->set_remote_ice(*cc->remote_ice);
          if (cc->remote_fingerprint) (void)tr->set_remote_fingerprint(*cc->remote_fingerprint);
        }
        break;
      }
      case WorkerCommand::Type::kRestartIce: {
        std::unique_ptr<IceRestart> r(c.ice_restart);
        // The control plane validated the credentials and checked the
        // transport was alive; a refusal here (it failed meanwhile) changes
        // nothing and the failure event already went out.
        if (r) (void)transports_->restart_ice(c.id, std::move(r->local), std::move(r->remote), t);
        break;
      }
      case WorkerCommand::Type::kCloseTransport:
        transports_->close(c.id, t);
        break;
      case WorkerCommand::Type::kAddProducer:
      case WorkerCommand::Type::kAddConsumer:
      case WorkerCommand::Type::kCloseProducer:
      case WorkerCommand::Type::kCloseConsumer:
      case WorkerCommand::Type::kPauseConsumer:
      case WorkerCommand::Type::kResumeConsumer:
      case WorkerCommand::Type::kSetConsumerLayer:
        run_sfu_command(c, t);
        break;
      case WorkerCommand::Type::kAddDataConsumer:
        if (absl::Status s = data_router_->join(c.id, c.group, t); !s.ok()) {
          sfu::DataEvent ev;
          ev.type = sfu::DataEvent::Type::kSendFailed;
          ev.transport_id = c.id;
          ev.set_label(std::string(s.message()));
          data_sink_.on_data_event(ev);
        }
        break;
      case WorkerCommand::Type::kCloseDataConsumer:
        data_router_->leave(c.id, t);
        break;
      case WorkerCommand::Type::kSendData: {
        std::unique_ptr<sfu::DataSend> d(c.data);
        if (!d) break;
        if (absl::Status s = data_router_->send(*d, t); !s.ok()) {
          sfu::DataEvent ev;
          ev.type = sfu::DataEvent::Type::kSendFailed;
          ev.transport_id = d->transport_id;
          ev.stream = d->stream >= 0 ? static_cast<uint16_t>(d->stream) : 0;
          ev.set_label(std::string(s.message()));
          data_sink_.on_data_event(ev);
        }
        break;
      }
    }
  }
  transport_count_.store(transports_->size(), std::memory_order_relaxed);
  arm_router_tick(t);
}

// Producers and consumers (engine/sfu/router.h). Refusals and closes are
// reported by the router as kProducerClosed / kConsumerClosed events; an
// unknown id for close/pause/resume/layer is a no-op (already closed).
void Worker::run_sfu_command(const WorkerCommand& c, Nanos t) {
  switch (c.type) {
    case WorkerCommand::Type::kAddProducer: {
      std::unique_ptr<sfu::ProducerParams> p(c.producer);
      if (p) (void)router_->add_producer(std::move(*p), t);
      break;
    }
    case WorkerCommand::Type::kAddConsumer: {
      std::unique_ptr<sfu::ConsumerParams> p(c.consumer);
      if (p) (void)router_->add_consumer(std::move(*p), t);
      break;
    }
    case WorkerCommand::Type::kCloseProducer:
      router_->close_producer(c.id, "closed");
      break;
    case WorkerCommand::Type::kCloseConsumer:
      router_->close_consumer(c.id, "closed");
      break;
    case WorkerCommand::Type::kPauseConsumer:
      router_->pause_consumer(c.id, true, t);
      break;
    case WorkerCommand::Type::kResumeConsumer:
      router_->pause_consumer(c.id, false, t);
      break;
    case WorkerCommand::Type::kSetConsumerLayer:
      router_->set_consumer_layer(c.id, c.layer, t);
      break;
    default:
      break;
  }
}

void Worker::arm_router_tick(Nanos now) {
  if (router_->empty() || timers_.pending(router_timer_)) return;
  router_timer_ = timers_.schedule(now + sfu::kTickInterval, &Worker::router_tick, this, 0);
}

// The SFU's periodic work (NACKs, keyframe requests, SR/RR): one timer per
// worker, re-armed while the router has producers or consumers.
void Worker::router_tick(void* ctx, uint64_t cookie, Nanos now) {
  (void)cookie;
  Worker* w = static_cast<Worker*>(ctx);
  w->router_timer_ = kInvalidTimer;
  timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);  // vDSO; NTP fields of SR/RR
  Nanos next = w->router_->on_tick(now, static_cast<int64_t>(rt.tv_sec) * kSecond + rt.tv_nsec);
  if (next != kNever) w->router_timer_ = w->timers_.schedule(next, &Worker::router_tick, w, 0);
}

Packet* Worker::TxSink::alloc() {
  Packet* p = nullptr;
  if (w->driver_.alloc_bulk(w->q_, &p, 1) != 1) return nullptr;
  return p;
}

uint16_t Worker::TxSink::alloc_bulk(Packet** pkts, uint16_t n) {
  return w->driver_.alloc_bulk(w->q_, pkts, n);
}

void Worker::TxSink::free(Packet* p) { w->driver_.free_bulk(w->q_, &p, 1); }

void Worker::TxSink::send(Packet* p) {
  if (out.full()) flush();
  out.push(p);
}

void Worker::TxSink::flush() {
  if (out.empty()) return;
  w->transmit(out.pkts, out.count);
  out.clear();
}

void Worker::transmit(Packet** pkts, uint16_t n) {
  if (own_ip_count_ == 0) {
    stats_.tx_packets.add(driver_.tx_burst(q_, pkts, n));
    return;
  }
  Packet* wire[kMaxBurst];
  uint16_t k = 0;
  for (uint16_t i = 0; i < n; ++i) {
    Packet* p = pkts[i];
    if (!is_own_ip(p->remote) || !is_own_destination(p->remote)) {
      wire[k++] = p;
    } else if (hairpin_n_ < kHairpinCap) {
      hairpin_[hairpin_n_++] = p;
    } else {
      stats_.hairpin_dropped.add();
      driver_.free_bulk(q_, &p, 1);
    }
    if (k == kMaxBurst) {
      stats_.tx_packets.add(driver_.tx_burst(q_, wire, k));
      k = 0;
    }
  }
  if (k > 0) stats_.tx_packets.add(driver_.tx_burst(q_, wire, k));
}

bool Worker::is_own_destination(const Endpoint& e) const {
  for (const Endpoint& l : own_listen_)
    if (l == e) return true;
  return turn_->is_relayed_address(e);
}

// A hairpinned datagram arrives where it was sent: local and remote swap.
// Relaying to ourselves takes at most a few rounds (client -> relay -> SFU,
// SFU -> relay -> client); whatever is still coming back after four is a
// relay loop (an allocation whose peer is another of our relayed addresses,
// and so on) and is dropped, counted.
void Worker::drain_hairpin(Nanos now) {
  for (int round = 0; round < 4 && hairpin_n_ > 0; ++round) {
    Packet* batch[kHairpinCap];
    const uint16_t n = hairpin_n_;
    std::memcpy(batch, hairpin_, n * sizeof(Packet*));
    hairpin_n_ = 0;
    stats_.hairpin.add(n);
    for (uint16_t i = 0; i < n; ++i) {
      Packet* p = batch[i];
      std::swap(p->local, p->remote);
      // Received again as sent: the sum it would have gone out with.
      p->rx_sum = p->tx_sum;
      p->tx_sum = kNoSum;
    }
    for (uint16_t i = 0; i < n; i += kMaxBurst)
      process_burst(batch + i, uint16_t(std::min<int>(kMaxBurst, n - i)), now);
  }
  if (hairpin_n_ > 0) {
    stats_.hairpin_dropped.add(hairpin_n_);
    driver_.free_bulk(q_, hairpin_, hairpin_n_);
    hairpin_n_ = 0;
  }
}

void Worker::DataSink::on_data_event(sfu::DataEvent& ev) {
  if (!w->data_events_.push(ev)) {
    w->stats_.events_lost.add();
    ev.free_payload();
  }
}

void Worker::EventSink::on_transport_event(const sfu::TransportEvent& ev) {
  if (!w->events_.push(ev)) w->stats_.events_lost.add();
  // A transport that closed or failed closes its producers and consumers
  // (their kProducerClosed / kConsumerClosed events come through here too).
  if (w->router_) w->router_->on_transport_event(ev);
  if (w->data_router_) w->data_router_->on_transport_event(ev, Worker::now());
}

absl::Status Worker::start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("worker already running");
  if (q_ >= driver_.num_queues()) {
    return absl::InvalidArgumentError(absl::StrFormat("worker %d: driver %s has only %d queue(s)",
                                                      q_, driver_.name(), driver_.num_queues()));
  }
  if (cfg_.cpu >= 0) {
    absl::Status s = check_cpu_usable(cfg_.cpu);
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("worker ", q_, ": ", s.message()));
  }
  if (cfg_.turn && turn_ == nullptr) {
    relay_hooks_.driver = &driver_;
    relay_hooks_.q = q_;
    auto t = TurnServer::create(*cfg_.turn, &relay_hooks_);
    if (!t.ok()) {
      return absl::Status(t.status().code(),
                          absl::StrCat("worker ", q_, ": ", t.status().message()));
    }
    turn_ = *std::move(t);
  }
  own_ip_count_ = 0;
  if (turn_) {
    auto add_own = [this](const Endpoint& e) {
      if (e.family == Family::kNone || own_ip_count_ == kMaxOwnIps || is_own_ip(e)) return;
      bool any = true;  // a wildcard (0.0.0.0, ::) names no one address
      for (size_t i = 0; i < e.addr_len(); ++i) any = any && e.addr[i] == 0;
      if (!any) own_ips_[own_ip_count_++] = e;
    };
    for (const Endpoint& e : turn_->config().relay_addresses) add_own(e);
    own_listen_ = driver_.local_endpoints(q_);
    for (const Endpoint& e : own_listen_) add_own(e);
  }
  stop_.store(false);
  std::promise<absl::Status> ready;
  std::future<absl::Status> ready_f = ready.get_future();
  // The promise moves into the thread: it must outlive set_value(), which
  // may still touch it after start() has woken up and returned.
  thread_ = std::thread([this, ready = std::move(ready)]() mutable {
    // Signals belong to the control thread (it waits for them with sigwait).
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    std::string name = absl::StrCat("tern-w", q_);
    pthread_setname_np(pthread_self(), name.c_str());
    if (cfg_.cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cfg_.cpu, &set);
      int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
      if (rc != 0) {
        ready.set_value(absl::InternalError(
            absl::StrFormat("worker %d: cannot pin to CPU %d: errno %d", q_, cfg_.cpu, rc)));
        return;
      }
    }
    absl::Status s = driver_.thread_init(q_);
    if (!s.ok()) {
      ready.set_value(absl::Status(
          s.code(), absl::StrFormat("worker %d: driver thread_init: %s", q_, s.message())));
      return;
    }
    ready.set_value(absl::OkStatus());
    run();
  });
  absl::Status s = ready_f.get();
  if (!s.ok()) thread_.join();
  return s;
}

void Worker::stop() {
  stop_.store(true, std::memory_order_relaxed);
  wake();
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  Packet* pkts[kMaxBurst];
  Nanos t = now();
  Nanos last_active = t;
  Nanos next_housekeeping = t + cfg_.housekeeping_interval;
  // TURN over TCP/TLS: its sockets are polled (one epoll_wait) at most every
  // stream_poll_interval, so a busy UDP loop pays no syscall per burst.
  StreamTransport* const stream = turn_ ? cfg_.stream : nullptr;
  Nanos next_stream_poll = t, stream_deadline = kNever;
  if (stream) stream->attach(driver_, q_, turn_.get(), &stun_);
  // A turn that found packets counts whole into busy_ns, from its poll to
  // the next turn's: the burst, TX, timers, commands and the loop itself.
  // Busy turns never sleep (they `continue` first), so that is all CPU.
  bool last_turn_busy = false;
  Nanos last_polled = t;
  while (!stop_.load(std::memory_order_relaxed)) {
    stats_.loops.add();
    // One clock read per turn (a vDSO read is tens of ns on a VM: a busy
    // turn under load carries only a few packets). The time just before the
    // poll is the burst's, shared by every packet in it, and closes the
    // previous turn. Timers and commands below see it too: a timer that fell
    // due during the burst's work fires next turn, never early.
    const Nanos polled = now();
    if (last_turn_busy) stats_.busy_ns.add(uint64_t(polled - last_polled));
    last_polled = polled;
    uint16_t n = driver_.rx_burst(q_, pkts, kMaxBurst);
    last_turn_busy = n > 0;
    t = polled;
    if (n > 0) {
      stats_.busy_polls.add();
      process_burst(pkts, n, t);
      if (hairpin_n_ > 0) drain_hairpin(t);
      last_active = t;
    } else {
      stats_.idle_polls.add();
    }
    if (uint32_t fired = timers_.advance(t)) stats_.timers_fired.add(fired);
    if (!commands_.empty()) run_commands(t);
    tx_sink_.flush();  // DTLS retransmissions, close_notify from timers/commands
    if (hairpin_n_ > 0) drain_hairpin(t);
    if (t >= next_housekeeping) {
      driver_.poll_housekeeping(q_, t);
      if (turn_) {
        // REST usernames carry UNIX times; expiry sweep (closes relayed ports).
        timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        turn_->set_unix_offset(static_cast<Nanos>(rt.tv_sec) * kSecond + rt.tv_nsec - now());
        turn_->poll(t);
      }
      stats_.housekeeping.add();
      next_housekeeping = t + cfg_.housekeeping_interval;
    }
    if (stream && t >= std::min(next_stream_poll, stream_deadline)) {
      stream_deadline = stream->poll(t);
      next_stream_poll = t + cfg_.stream_poll_interval;
    }
    if (n > 0) continue;
    if (t - last_active < cfg_.idle_spin || cfg_.idle_max_sleep <= 0) {
      cpu_relax();
      continue;
    }
    // Idle: sleep until traffic, the next timer or housekeeping, whichever
    // comes first. Without RX wake-ups (or our eventfd in the driver's wait),
    // at most idle_max_sleep: that bounds command and stop latency too.
    const Nanos cap = sleep_until_traffic_ ? kNever : t + cfg_.idle_max_sleep;
    Nanos wake_at = std::min({cap, timers_.next_deadline(), next_housekeeping, stream_deadline});
    if (wake_at > t) {
      stats_.sleeps.add();
      driver_.wait_rx(q_, wake_at - t);
      next_stream_poll = t;  // woken: maybe by a stream socket (see add_wake_fd)
      if (sleep_until_traffic_) {
        uint64_t v;
        (void)!read(wake_fd_, &v, sizeof v);  // re-arm; commands are checked next iteration
      }
    }
  }
  if (stream) stream->detach();
}

// A deferred UDP checksum (RxVerified::defer_l4), checked against the sum the
// payload must have (`claimed`: rx_sum, or tx_sum once the relay has put a
// header in front). Counted and false if it fails.
bool Worker::checksum_ok(Packet* p, uint32_t claimed) {
  if (p->rx_verified) return true;
  if (!checksum_matches(p->data(), p->len, claimed)) {
    stats_.drops.add(Drop::kBadChecksum);
    return false;
  }
  p->rx_verified = true;
  return true;
}

void Worker::process_burst(Packet** pkts, uint16_t n, Nanos t) {
  PacketBatch tx;
  PacketBatch drop;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < n; ++i) {
    Packet* p = pkts[i];
    bytes += p->len;
    if (turn_ && turn_->is_relay_port(p->local.port)) {
      // From a peer to a TURN relayed port: whatever it is, it is relayed,
      // to a UDP client through the driver or copied to a TCP/TLS client's
      // connection (the buffer is then freed).
      Transport to = Transport::kUdp;
      if (!turn_->handle_peer(p, t, &to)) {
        drop.push(p);
      } else if (to == Transport::kUdp) {
        tx.push(p);  // its checksum is carried (Packet::tx_sum), unread
      } else {
        // Into a TCP/TLS stream the checksum does not follow: check it now.
        if (cfg_.stream && checksum_ok(p, p->tx_sum)) cfg_.stream->send(*p, t);
        drop.push(p);
      }
      continue;
    }
    PacketClass cls = classify(p->data(), p->len);
    // Everything but ChannelData to relay is read here: a checksum the
    // driver deferred is checked first.
    const bool relayed =
        turn_ &&
        (cls == PacketClass::kChannelData ||
         (cls == PacketClass::kUnknown && turn_->is_legacy_channel_data(p->data(), p->len)));
    if (!relayed && !checksum_ok(p, p->rx_sum)) {
      drop.push(p);
      continue;
    }
    stats_.by_class[static_cast<size_t>(cls)].add();
    // One case per service. Later services (DTLS, TURN, SRTP/SFU) replace a
    // kNoHandler line with their handle() call.
    switch (cls) {
      case PacketClass::kStun:
        // ICE checks for our transports first (kNotIce when there are none).
        if (ice::StunRoute r = transports_->handle_stun(p, t); r != ice::StunRoute::kNotIce) {
          (r == ice::StunRoute::kRespond ? tx : drop).push(p);
          break;
        }
        // The services count their own drops (malformed, unknown method, ...).
        if (turn_ && turn::is_turn_stun(p->data(), p->len)) {
          (turn_->handle_stun(p, t) ? tx : drop).push(p);
        } else if (stun_.handle(p, t)) {
          tx.push(p);
        } else {
          drop.push(p);
        }
        break;
      case PacketClass::kChannelData:
        if (turn_) {
          (turn_->handle_channel_data(p, t) ? tx : drop).push(p);
          break;
        }
        stats_.drops.add(Drop::kNoHandler);
        drop.push(p);
        break;
      case PacketClass::kDtls:
      case PacketClass::kRtp:
      case PacketClass::kRtcp: {
        // A transport's validated 5-tuple (IceLiteDemux::find), else no handler.
        bool consumed = false;
        bool ours = cls == PacketClass::kDtls
                        ? transports_->handle_dtls(p, t, &consumed)
                        : transports_->handle_media(p, cls == PacketClass::kRtcp, t, &consumed);
        if (ours) {
          if (!consumed) drop.push(p);  // fed to DTLS, or counted by the transport
          break;
        }
        stats_.drops.add(Drop::kNoHandler);
        drop.push(p);
        break;
      }
      case PacketClass::kZrtp:
        stats_.drops.add(Drop::kNoHandler);
        drop.push(p);
        break;
      case PacketClass::kUnknown:
        if (turn_ && turn_->is_legacy_channel_data(p->data(), p->len)) {
          (turn_->handle_channel_data(p, t) ? tx : drop).push(p);
          break;
        }
        stats_.drops.add(Drop::kUnclassified);
        drop.push(p);
        break;
    }
  }
  stats_.rx_packets.add(n);
  stats_.rx_bytes.add(bytes);
  if (!tx.empty()) transmit(tx.pkts, tx.count);
  tx_sink_.flush();  // echoed SRTP, DTLS flights
  if (!drop.empty()) driver_.free_bulk(q_, drop.pkts, drop.count);
}

}  // namespace tern
