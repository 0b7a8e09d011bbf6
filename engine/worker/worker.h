// Worker: one poll-mode thread per driver queue. Run to completion: every
// datagram the queue receives is classified (RFC 7983 first byte), handled
// and answered or freed on this thread, in bursts.
//
// Loop, per iteration:
//   rx_burst(q, 32) -> if packets: read the clock once, classify and dispatch
//   each, send all answers with one tx_burst and free all drops with one
//   free_bulk -> advance the timer wheel -> housekeeping every ~100 ms ->
//   if idle: spin with a pause instruction for idle_spin, then
//   driver.wait_rx(q, min(next timer, next housekeeping, and idle_max_sleep
//   unless the driver wakes on RX and on the worker's eventfd, which
//   post_command() and stop() write)).
//
// The worker is the I/O shell around sans-IO protocol cores, so it is the one
// place in engine/ that reads a clock: CLOCK_MONOTONIC through clock_gettime,
// which the vDSO serves without a syscall.
//
// Threading: start() and stop() are called by the control thread. Everything
// else the worker owns (timers, services) is touched only by its thread once
// started; stats() may be read by anyone (relaxed-atomic counters, one writer).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "drivers/driver.h"
#include "engine/net/classify.h"
#include "engine/net/counters.h"
#include "engine/net/nanos.h"
#include "engine/net/packet.h"
#include "engine/sfu/data_router.h"
#include "engine/sfu/router.h"
#include "engine/sfu/sfu_params.h"
#include "engine/sfu/transport_host.h"
#include "engine/sfu/webrtc_transport.h"
#include "engine/sfu/wheel_timers.h"
#include "engine/stun/binding_service.h"
#include "engine/turn/turn_server.h"
#include "engine/worker/spsc_ring.h"
#include "engine/worker/timer_wheel.h"

namespace tern {

// TURN clients on a stream transport (TCP, TLS over TCP): kernel sockets
// outside the packet driver (drivers/socket/tcp_turn_listener.h), driven
// from the worker loop. Every method is called on the worker thread only.
class StreamTransport {
 public:
  virtual ~StreamTransport() = default;
  // Once, on the worker thread before the first loop iteration: where frames
  // go (TURN methods to `turn` with Transport::kTcp, other STUN to `stun`)
  // and where buffers and relayed datagrams come from / go to.
  virtual void attach(PacketDriver& driver, uint16_t q, TurnServer* turn,
                      StunBindingService* stun) = 0;
  // Accepts, reads, hands complete frames on, writes, closes idle or broken
  // connections. Non-blocking, bounded work per call. Returns when it wants
  // to be called again at the latest (idle timeouts).
  virtual Nanos poll(Nanos now) = 0;
  // A packet the TURN core addressed to a stream client (handle_peer said
  // kTcp): pkt->remote/local are the connection's 5-tuple. Copies it into
  // the connection's write buffer; the caller keeps and frees pkt. False if
  // there is no such connection or it was closed for not reading (counted).
  virtual bool send(const Packet& pkt, Nanos now) = 0;
  // Once, on the worker thread after the last loop iteration: closes every
  // connection (their allocations are deleted).
  virtual void detach() = 0;
};

struct WorkerConfig {
  uint16_t index = 0;  // worker index == driver queue it owns; thread "tern-w<index>"
  int cpu = -1;        // CPU to pin to; -1 = not pinned
  Nanos idle_spin = 50 * kMicrosecond;         // keep polling this long after the last packet
  Nanos idle_max_sleep = 1000 * kMicrosecond;  // longest single wait_rx; 0 = never sleep
  Nanos housekeeping_interval = 100 * kMillisecond;
  uint32_t timer_capacity = 4096;  // timer wheel node pool (fixed; see timer_wheel.h)
  StunServiceConfig stun;
  // TURN server (engine/turn) on this worker; nullopt = off. Its relayed
  // ports are opened with driver.open_port(index, ...) on the worker thread.
  std::optional<TurnServerConfig> turn;
  // TURN over TCP/TLS for this worker (needs `turn`); not owned, must
  // outlive the worker. Polled at most every stream_poll_interval while
  // busy, and after every wake-up.
  StreamTransport* stream = nullptr;
  Nanos stream_poll_interval = 50 * kMicrosecond;
};

// Late signalling for a transport (transport.connect). Heap-allocated by the
// control thread, owned by the command, deleted by the worker.
struct TransportConnect {
  std::optional<ice::IceCredentials> remote_ice;
  std::optional<Fingerprint> remote_fingerprint;
};

// ICE restart (transport.restart_ice): the new local credentials (generated
// by the control thread, already returned to the client) and the peer's new
// ones. Heap-allocated by the control thread, owned by the command, deleted
// by the worker. A refusal on the worker (transport failed or closed in the
// meantime) changes nothing.
struct IceRestart {
  ice::IceCredentials local;
  ice::IceCredentials remote;
};

// Control thread -> worker (the command ring). Pointers pass ownership.
struct WorkerCommand {
  enum class Type : uint8_t {
    kAddTransport,
    kConnectTransport,
    kCloseTransport,
    kAddProducer,       // producer: its transport must be on this worker
    kCloseProducer,     // id = producer id; its consumers close too
    kAddConsumer,       // consumer: both transports on this worker
    kCloseConsumer,     // id = consumer id
    kPauseConsumer,     // id = consumer id
    kResumeConsumer,    // id = consumer id (asks the producer for a keyframe)
    kSetConsumerLayer,  // id = consumer id, layer
    // Data channels (engine/sfu/data_router.h): id = transport id.
    kAddDataConsumer,    // joins data group `group` (the room): channels are relayed
    kCloseDataConsumer,  // leaves its group
    kSendData,           // data: one message into a channel (refusal: kSendFailed event)
    kRestartIce,         // id = transport id, ice_restart: new credentials
  };
  Type type = Type::kCloseTransport;
  uint64_t id = 0;                            // transport / producer / consumer id
  sfu::WebRtcTransport* transport = nullptr;  // kAddTransport
  TransportConnect* connect = nullptr;        // kConnectTransport
  sfu::ProducerParams* producer = nullptr;    // kAddProducer
  sfu::ConsumerParams* consumer = nullptr;    // kAddConsumer
  int8_t layer = -1;                          // kSetConsumerLayer: -1 = highest present
  uint64_t group = 0;                         // kAddDataConsumer
  sfu::DataSend* data = nullptr;              // kSendData
  IceRestart* ice_restart = nullptr;          // kRestartIce
};

inline constexpr size_t kNumPacketClasses = static_cast<size_t>(PacketClass::kRtcp) + 1;

// Written only by the worker thread; read by the control thread.
struct WorkerStats {
  Counter rx_packets, rx_bytes;
  Counter tx_packets;                   // answers handed to tx_burst and accepted by the driver
  Counter by_class[kNumPacketClasses];  // indexed by PacketClass
  DropCounters drops;                   // drops decided by the worker itself
  Counter loops;                        // loop iterations
  Counter busy_polls;                   // rx_burst calls that returned packets
  // Nanoseconds of the loop turns whose rx_burst returned packets, each from
  // before its poll to before the next turn's (processing, TX, timers,
  // commands, loop overhead): the worker's real work, which the process CPU
  // time of a poll-mode worker (spinning between bursts) cannot show.
  Counter busy_ns;
  Counter idle_polls;  // rx_burst calls that returned nothing
  Counter sleeps;      // wait_rx calls
  Counter timers_fired;
  Counter housekeeping;
  Counter commands;     // command-ring entries executed
  Counter events_lost;  // event ring full (control thread not polling)
  // TURN relaying to this node itself: datagrams for one of our own
  // addresses handed back to the engine instead of the network, and those
  // dropped because they kept coming back (a relay loop) or overflowed.
  Counter hairpin, hairpin_dropped;
};

class Worker {
 public:
  Worker(PacketDriver& driver, WorkerConfig cfg);
  ~Worker();  // stops and joins if still running

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the thread and waits until it is named, pinned and has run
  // driver.thread_init(q). Errors: the CPU does not exist or is not allowed,
  // pinning failed, thread_init failed, the TURN config is invalid (no
  // thread is left running).
  absl::Status start();
  // Asks the loop to stop (it notices within one idle_max_sleep) and joins.
  void stop();
  bool running() const { return thread_.joinable(); }

  const WorkerConfig& config() const { return cfg_; }
  const WorkerStats& stats() const { return stats_; }
  const StunBindingService& stun() const { return stun_; }
  // Null when TURN is off. Its stats() may be read from any thread.
  const TurnServer* turn() const { return turn_.get(); }
  // The worker's timers. Only the worker thread may use it once started
  // (before start(), the setup thread may schedule).
  TimerWheel& timers() { return timers_; }

  // CLOCK_MONOTONIC in Nanos (vDSO, no syscall).
  static Nanos now();

  // --- command/event rings (control thread side) ---
  // Queues a command for the worker thread (executed within about one
  // idle_max_sleep). False when the ring is full: ownership of the
  // command's pointers stays with the caller. Before start() and after
  // stop() commands wait in the ring (~Worker frees what was never run).
  bool post_command(const WorkerCommand& cmd);
  // Takes one transport event (state changes), false when none.
  bool poll_event(sfu::TransportEvent* ev) { return events_.pop(ev); }
  // Takes one data-channel event; the caller owns ev->data (free_payload()).
  bool poll_data_event(sfu::DataEvent* ev) { return data_events_.pop(ev); }
  // Per-worker data-channel relay counters; any thread.
  const sfu::DataRouterStats& data_stats() const { return data_router_->stats(); }
  // Transports attached to this worker (for placement), relaxed.
  size_t transport_count() const { return transport_count_.load(std::memory_order_relaxed); }
  // Per-worker WebRTC transport counters (SRTP drops, ...); any thread.
  const sfu::TransportHostStats& transport_stats() const { return transports_->stats(); }
  // Per-worker SFU counters (producers/consumers open, drops); any thread.
  const sfu::RouterStats& router_stats() const { return router_->stats(); }

 private:
  void run();
  void wake();  // ends the worker's idle sleep (any thread)
  void process_burst(Packet** pkts, uint16_t n, Nanos now);
  bool checksum_ok(Packet* p, uint32_t claimed);
  // Every datagram the worker sends goes through here: to the driver, or,
  // when TURN is on and it is addressed to one of our own IPs (a browser
  // forced through our TURN to our own SFU, and the SFU's answers to its
  // relayed address), into hairpin_ to be received again by drain_hairpin()
  // without touching the network (issue #5, item 5).
  void transmit(Packet** pkts, uint16_t n);
  void drain_hairpin(Nanos now);
  bool is_own_ip(const Endpoint& e) const {
    for (uint8_t i = 0; i < own_ip_count_; ++i)
      if (own_ips_[i].same_addr(e)) return true;
    return false;
  }
  // One of our listening endpoints, or a relayed address with a live
  // allocation: not merely our IP (clients on this host share it).
  bool is_own_destination(const Endpoint& e) const;
  void run_commands(Nanos now);
  void run_sfu_command(const WorkerCommand& c, Nanos now);
  void arm_router_tick(Nanos now);
  static void router_tick(void* ctx, uint64_t cookie, Nanos now);

  // Datagrams transports originate or echo (DTLS flights, SRTP): buffers
  // from the driver, sent in bursts. Worker thread only.
  struct TxSink final : sfu::PacketSink {
    Worker* w = nullptr;
    PacketBatch out;
    Packet* alloc() override;
    uint16_t alloc_bulk(Packet** out, uint16_t n) override;
    void send(Packet* p) override;
    void free(Packet* p) override;
    void flush();
  };
  // Data-channel events -> their ring (lost ones counted, payload freed).
  struct DataSink final : sfu::DataEventSink {
    Worker* w = nullptr;
    void on_data_event(sfu::DataEvent& ev) override;
  };
  // Transport events -> the event ring (lost ones counted).
  struct EventSink final : sfu::TransportEventSink {
    Worker* w = nullptr;
    void on_transport_event(const sfu::TransportEvent& ev) override;
  };

  PacketDriver& driver_;
  const WorkerConfig cfg_;
  const uint16_t q_;
  std::atomic<bool> stop_{false};
  // eventfd in the driver's wait_rx set (see the constructor); written by
  // post_command()/stop() from the control thread, drained by the worker.
  int wake_fd_ = -1;
  bool sleep_until_traffic_ = false;  // set once in the constructor
  std::thread thread_;
  TimerWheel timers_;
  StunBindingService stun_;
  // Opens/closes TURN relayed ports through the driver (worker thread).
  struct RelayHooks : RelayPortHooks {
    PacketDriver* driver = nullptr;
    uint16_t q = 0;
    bool open_relay_port(const Endpoint& ep) override { return driver->open_port(q, ep).ok(); }
    void close_relay_port(const Endpoint& ep) override { driver->close_port(q, ep); }
  } relay_hooks_;
  std::unique_ptr<TurnServer> turn_;
  // Our own addresses (TURN relay addresses, worker endpoints), set at
  // thread start when TURN is on; empty otherwise, so nothing hairpins.
  static constexpr uint8_t kMaxOwnIps = 8;
  Endpoint own_ips_[kMaxOwnIps];
  uint8_t own_ip_count_ = 0;
  std::vector<Endpoint> own_listen_;  // this worker's listening endpoints (set at start)
  static constexpr uint16_t kHairpinCap = 4 * kMaxBurst;
  Packet* hairpin_[kHairpinCap];
  uint16_t hairpin_n_ = 0;
  WorkerStats stats_;
  // WebRTC transports (engine/sfu): their ICE demux, timers on timers_.
  TxSink tx_sink_;
  EventSink event_sink_;
  sfu::WheelTransportTimers transport_timers_{timers_};
  std::unique_ptr<sfu::TransportHost> transports_;
  std::atomic<size_t> transport_count_{0};
  // The SFU forwarding core (after transports_: destroyed first). Its tick
  // runs on timers_ while it has producers or consumers.
  std::unique_ptr<sfu::Router> router_;
  TimerHandle router_timer_ = kInvalidTimer;
  // Data channels: the DataHandler of every transport with SCTP.
  DataSink data_sink_;
  std::unique_ptr<sfu::DataRouter> data_router_;
  SpscRing<sfu::DataEvent, 1024> data_events_;
  SpscRing<WorkerCommand, 256> commands_;
  SpscRing<sfu::TransportEvent, 1024> events_;
};

// Checks that `cpu` exists and this process may run on it. The error names
// the CPU and lists the allowed ones.
absl::Status check_cpu_usable(int cpu);

}  // namespace tern
