// ternd: the tern media engine daemon.
//
// main thread (control): parse config -> make the driver -> start one Worker
// per driver queue -> banner -> wait for SIGINT/SIGTERM (sigtimedwait; every
// other thread blocks them), printing a summary every stats_interval_s ->
// stop workers -> final counters -> exit 0. Startup errors: one line on
// stderr, exit 2.
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/config.h"
#include "control/control_server.h"
#include "control/datachannel_methods.h"
#include "control/turn_config.h"
#ifdef TERN_HAVE_HTTP
#include "control/http_gateway.h"
#endif
#include "control/jsonrpc_methods.h"
#include "control/room_methods.h"
#include "control/session.h"
#include "control/transport_methods.h"
#include "drivers/driver.h"
#include "drivers/socket/socket_driver.h"
#include "drivers/socket/tcp_turn_listener.h"
#include "engine/srtp/srtp_session.h"
#include "engine/worker/worker.h"
#ifdef TERN_HAVE_DPDK
#include "drivers/dpdk/dpdk_driver.h"
#endif

#ifndef TERN_VERSION
#define TERN_VERSION "unknown"
#endif

namespace tern {
namespace {

constexpr int kExitStartup = 2;

int fail(absl::string_view msg) {
  std::fprintf(stderr, "ternd: %.*s\n", static_cast<int>(msg.size()), msg.data());
  return kExitStartup;
}

absl::StatusOr<std::unique_ptr<PacketDriver>> make_driver(const TerndConfig& cfg,
                                                          const DriverCommonConfig& common) {
  if (cfg.driver == "socket") return make_socket_driver(cfg.socket, common);
  if (cfg.driver == "dpdk") {
#ifdef TERN_HAVE_DPDK
    return make_dpdk_driver(cfg.dpdk, common);
#else
    return absl::UnimplementedError(
        "driver.kind (--driver): \"dpdk\" but this ternd was built without DPDK "
        "(reconfigure with meson -Ddpdk=enabled and libdpdk-dev installed)");
#endif
  }
  return absl::InvalidArgumentError(
      absl::StrCat("driver.kind: unknown driver \"", cfg.driver, "\""));
}

std::string caps_string(const DriverCaps& c) {
  std::vector<std::string> v;
  if (c.link_layer) v.push_back("link-layer");
  if (c.tx_checksum_offload) v.push_back("tx-csum");
  if (c.rx_interrupts) v.push_back("rx-interrupts");
  if (c.gro) v.push_back("gro");
  if (c.gso) v.push_back("gso");
  return v.empty() ? "" : absl::StrCat(" [", absl::StrJoin(v, " "), "]");
}

// The address a local client would query: wildcards map to loopback.
std::string query_address(const Endpoint& ep) {
  std::string a = ep.addr_string();
  if (a == "0.0.0.0") return "127.0.0.1";
  if (a == "::") return "::1";
  return a;
}

void print_banner(const TerndConfig& cfg, const PacketDriver& drv,
                  const std::vector<std::unique_ptr<Worker>>& workers) {
  std::printf("ternd %s running, pid %d: driver %s%s, %zu worker(s), config %s\n", TERN_VERSION,
              static_cast<int>(getpid()), drv.name(), caps_string(drv.caps()).c_str(),
              workers.size(), cfg.source.c_str());
  for (const auto& w : workers) {
    uint16_t q = w->config().index;
    std::vector<std::string> eps;
    for (const Endpoint& ep : drv.local_endpoints(q)) eps.push_back(ep.to_string());
    std::string cpu = w->config().cpu >= 0 ? absl::StrCat("cpu ", w->config().cpu) : "unpinned";
    std::printf("  worker %u (tern-w%u, %s): STUN on udp %s\n", q, q, cpu.c_str(),
                absl::StrJoin(eps, " ").c_str());
    if (const TurnServer* t = w->turn()) std::printf("    %s\n", turn_banner_line(*t).c_str());
  }
  std::vector<Endpoint> eps0 = drv.local_endpoints(0);
  if (!eps0.empty()) {
    std::printf("Query:  turnutils_stunclient -p %u %s\n", eps0[0].port,
                query_address(eps0[0]).c_str());
  }
  std::printf("Stop:   Ctrl-C or kill -TERM %d (prints final counters)\n",
              static_cast<int>(getpid()));
  std::fflush(stdout);
}

uint64_t stun_class_count(const WorkerStats& s) {
  return s.by_class[static_cast<size_t>(PacketClass::kStun)].get();
}

uint64_t all_drops(const Worker& w, const PacketDriver& drv) {
  uint16_t q = w.config().index;
  return w.stats().drops.total() + w.stun().stats().drops.total() + drv.stats(q).drops.total() +
         (w.turn() ? w.turn()->stats().drops.total() : 0);
}

// One line per worker, every stats_interval_s.
void print_summary(const std::vector<std::unique_ptr<Worker>>& workers, const PacketDriver& drv,
                   std::vector<uint64_t>* last_rx, uint32_t interval_s) {
  for (size_t i = 0; i < workers.size(); ++i) {
    const Worker& w = *workers[i];
    const WorkerStats& s = w.stats();
    uint64_t rx = s.rx_packets.get();
    uint64_t pps = interval_s ? (rx - (*last_rx)[i]) / interval_s : 0;
    (*last_rx)[i] = rx;
    std::printf(
        "stats w%zu: rx %llu (%llu pps) tx %llu stun %llu responses %llu drops %llu | "
        "polls busy %llu idle %llu sleeps %llu\n",
        i, (unsigned long long)rx, (unsigned long long)pps, (unsigned long long)s.tx_packets.get(),
        (unsigned long long)stun_class_count(s),
        (unsigned long long)w.stun().stats().responses.get(), (unsigned long long)all_drops(w, drv),
        (unsigned long long)s.busy_polls.get(), (unsigned long long)s.idle_polls.get(),
        (unsigned long long)s.sleeps.get());
  }
  std::fflush(stdout);
}

void print_drops(const char* where, const DropCounters& d) {
  std::string out;
  for (size_t r = 0; r < static_cast<size_t>(Drop::kCount); ++r) {
    uint64_t n = d.by_reason[r].get();
    if (n) absl::StrAppend(&out, " ", drop_name(static_cast<Drop>(r)), " ", n);
  }
  if (!out.empty()) std::printf("    drops (%s):%s\n", where, out.c_str());
}

void print_final(const std::vector<std::unique_ptr<Worker>>& workers, const PacketDriver& drv) {
  std::printf("final counters:\n");
  for (const auto& wp : workers) {
    const Worker& w = *wp;
    const WorkerStats& s = w.stats();
    uint16_t q = w.config().index;
    std::printf(
        "  worker %u: rx %llu packets %llu bytes, tx %llu packets; loops %llu, polls busy %llu "
        "idle %llu, sleeps %llu, timers fired %llu\n",
        q, (unsigned long long)s.rx_packets.get(), (unsigned long long)s.rx_bytes.get(),
        (unsigned long long)s.tx_packets.get(), (unsigned long long)s.loops.get(),
        (unsigned long long)s.busy_polls.get(), (unsigned long long)s.idle_polls.get(),
        (unsigned long long)s.sleeps.get(), (unsigned long long)s.timers_fired.get());
    std::string classes;
    for (size_t c = 0; c < kNumPacketClasses; ++c) {
      uint64_t n = s.by_class[c].get();
      if (n) absl::StrAppend(&classes, " ", packet_class_name(static_cast<PacketClass>(c)), " ", n);
    }
    std::printf("    classes:%s\n", classes.empty() ? " none" : classes.c_str());
    const StunServiceStats& st = w.stun().stats();
    std::printf("    stun: requests %llu responses %llu indications %llu\n",
                (unsigned long long)st.requests.get(), (unsigned long long)st.responses.get(),
                (unsigned long long)st.indications.get());
    const DriverQueueStats& ds = drv.stats(q);
    std::printf("    driver %s queue %u: rx %llu packets %llu bytes, tx %llu packets %llu bytes",
                drv.name(), q, (unsigned long long)ds.rx_packets.get(),
                (unsigned long long)ds.rx_bytes.get(), (unsigned long long)ds.tx_packets.get(),
                (unsigned long long)ds.tx_bytes.get());
    if (drv.caps().link_layer) {
      std::printf(", arp replies %llu, nd replies %llu, icmp echo replies %llu",
                  (unsigned long long)ds.arp_replies.get(), (unsigned long long)ds.nd_replies.get(),
                  (unsigned long long)ds.icmp_echo_replies.get());
    }
    std::printf("\n");
    print_drops("worker", s.drops);
    print_drops("stun", st.drops);
    if (w.turn()) std::fputs(turn_final_counters(*w.turn(), "    ").c_str(), stdout);
    print_drops("driver", ds.drops);
    if (all_drops(w, drv) == 0) std::printf("    drops: none\n");
  }
  std::fflush(stdout);
}

// The control plane: JSON-RPC 2.0 on a Unix socket and optionally TCP
// (docs/control-protocol.md), served from the main thread's wait loop.
struct Control {
  jsonrpc::MethodRegistry registry;
  EngineView view;
  std::unique_ptr<ControlServer> server;         // null: no control socket
  std::unique_ptr<TransportManager> transports;  // transport.* (WebRTC)
  std::unique_ptr<SfuManager> sfu;               // room.*, producer.*, consumer.*
  std::unique_ptr<SessionManager> sessions;      // session.* (SDP)
  std::unique_ptr<DataChannelManager> data;      // datachannel.* (data channels)
#ifdef TERN_HAVE_HTTP
  std::unique_ptr<HttpGateway> http;  // WHIP/WHEP ([http])
#endif
  // Events from the managers: to the control server's subscribers.
  void publish(absl::string_view topic, const jsonrpc::json& data) {
    if (server) server->publish(topic, data);
  }
};

absl::Status start_control(const TerndConfig& cfg, const PacketDriver& drv,
                           const std::vector<std::unique_ptr<Worker>>& workers, Control* ctl) {
  EngineView& v = ctl->view;
  v.version = TERN_VERSION;
  v.pid = static_cast<int>(getpid());
  v.started = Worker::now();
  v.config_source = cfg.source;
  v.driver = &drv;
  for (const auto& w : workers) v.workers.push_back(w.get());
  v.features = {"stun"};
  if (auto s = register_engine_methods(ctl->registry, v); !s.ok()) return s;
  {
#ifndef TERN_NO_SRTP
    if (auto s = srtp_library_init(); !s.ok()) return s;  // before any SRTP session
#endif
    // One node-wide DTLS certificate ([dtls] cert/key, or generated now).
    auto dc = parse_dtls_config(cfg.dtls, cfg.source);
    if (!dc.ok()) return dc.status();
    auto ctx = make_dtls_context(*dc);
    if (!ctx.ok()) return ctx.status();
    std::vector<Worker*> ws;
    for (const auto& w : workers) ws.push_back(w.get());
    ctl->transports = std::make_unique<TransportManager>(std::move(ws), &drv, *ctx);
    if (auto s = ctl->transports->register_methods(ctl->registry); !s.ok()) return s;
    v.features.push_back("webrtc");
    ctl->sfu = std::make_unique<SfuManager>(*ctl->transports);
    ctl->sfu->set_publish(
        [ctl](absl::string_view t, const jsonrpc::json& d) { ctl->publish(t, d); });
    if (auto s = ctl->sfu->register_methods(ctl->registry); !s.ok()) return s;
    ctl->sessions = std::make_unique<SessionManager>(*ctl->transports, *ctl->sfu);
    ctl->sessions->set_publish(
        [ctl](absl::string_view t, const jsonrpc::json& d) { ctl->publish(t, d); });
    if (auto s = ctl->sessions->register_methods(ctl->registry); !s.ok()) return s;
    ctl->data = std::make_unique<DataChannelManager>(*ctl->transports);
    if (auto s = ctl->data->register_methods(ctl->registry); !s.ok()) return s;
    v.features.push_back("sfu");
  }
  {
    // [http]: WHIP/WHEP. Requests are executed on this thread (run_pending
    // from the main loop), never on the HTTP threads.
    auto hc = [&]() -> absl::StatusOr<bool> {
#ifdef TERN_HAVE_HTTP
      auto c = parse_http_config(cfg.http, cfg.source);
      if (!c.ok()) return c.status();
      if (c->listen.empty()) return false;
      ctl->http = std::make_unique<HttpGateway>(*c);
      if (auto s = ctl->http->start(); !s.ok()) return s;
      return true;
#else
      if (!cfg.http.empty()) {
        return absl::UnimplementedError(
            "http: this ternd was built without cpp-httplib (libcpp-httplib-dev)");
      }
      return false;
#endif
    }();
    if (!hc.ok()) return hc.status();
    if (*hc) v.features.push_back("whip");
  }

  ControlServerConfig sc;
  for (const char* t :
       {"transport.state", "producer.closed", "consumer.closed", "consumer.layer", "session"}) {
    sc.topics.push_back(t);
  }
  if (ctl->data) {  // published by DataChannelManager::poll_events
    for (const char* t : DataChannelManager::kTopics) sc.topics.push_back(t);
  }
  bool default_path = !cfg.control_socket.has_value();
  sc.unix_path = cfg.control_socket.value_or(default_control_socket());
  sc.tcp = cfg.control_tcp;
  sc.token = cfg.control_token;
  if (sc.unix_path.empty() && sc.tcp.empty()) return absl::OkStatus();
  ctl->server = std::make_unique<ControlServer>(sc, ctl->registry);
  absl::Status s = ctl->server->start();
  if (!s.ok() && default_path) {
    // Only the default path may be busy without failing startup (several
    // ternds on one host, e.g. tests); a configured path must be ours.
    std::fprintf(stderr, "ternd: warning: %s; no Unix control socket (set --control-socket)\n",
                 std::string(s.message()).c_str());
    ctl->server.reset();
    sc.unix_path.clear();
    if (sc.tcp.empty()) return absl::OkStatus();
    ctl->server = std::make_unique<ControlServer>(sc, ctl->registry);
    s = ctl->server->start();
  }
  if (!s.ok()) return s;
  ControlServer* srv = ctl->server.get();
  v.control_endpoints = [srv] { return srv->endpoints(); };
  v.control_stats = [srv] {
    const ControlServerStats& st = srv->stats();
    return jsonrpc::json{{"clients", srv->num_clients()},
                         {"accepted", st.accepted},
                         {"requests", st.requests},
                         {"events_sent", st.events_sent},
                         {"rejected_full", st.rejected_full},
                         {"closed_slow", st.closed_slow},
                         {"closed_line_too_long", st.closed_line_too_long},
                         {"closed_auth_failed", st.closed_auth_failed}};
  };
  srv->set_stats_source([&v] { return stats_json(v, Worker::now(), std::nullopt); });
  return absl::OkStatus();
}

// Waits for SIGINT/SIGTERM (signalfd) while serving the control socket and
// printing a summary every stats_interval_s. Returns the signal.
int serve_until_signal(const sigset_t& stop_signals, const TerndConfig& cfg,
                       const std::vector<std::unique_ptr<Worker>>& workers, const PacketDriver& drv,
                       Control* ctl) {
  ControlServer* server = ctl->server.get();
  TransportManager* transports = ctl->transports.get();
  int http_fd = -1;
#ifdef TERN_HAVE_HTTP
  if (ctl->http) http_fd = ctl->http->wake_fd();
#endif
  // Transport events wait in the workers' event rings; drained every 20 ms.
  constexpr Nanos kEventPoll = 20 * kMillisecond;
  int sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  std::vector<uint64_t> last_rx(workers.size(), 0);
  const Nanos interval = Nanos{cfg.stats_interval_s} * kSecond;
  Nanos next_summary = interval ? Worker::now() + interval : kNever;
  for (;;) {
    Nanos now = Worker::now();
    if (now >= next_summary) {
      print_summary(workers, drv, &last_rx, cfg.stats_interval_s);
      next_summary = std::max(next_summary + interval, now + 1);
    }
    Nanos deadline = std::min(next_summary, server ? server->next_deadline() : kNever);
    if (transports != nullptr) {
      transports->poll_events([server](absl::string_view topic, const jsonrpc::json& data) {
        if (server) server->publish(topic, data);
      });
      if (ctl->data) {
        ctl->data->poll_events([server](absl::string_view topic, const jsonrpc::json& data) {
          if (server) server->publish(topic, data);
        });
      }
      deadline = std::min(deadline, now + kEventPoll);
    }
    int timeout_ms = 3600 * 1000;
    if (deadline != kNever) {
      timeout_ms = static_cast<int>(
          std::clamp<Nanos>((deadline - now + kMillisecond - 1) / kMillisecond, 0, timeout_ms));
    }
    pollfd fds[3] = {
        {sfd, POLLIN, 0}, {server ? server->fd() : -1, POLLIN, 0}, {http_fd, POLLIN, 0}};
    int n = poll(fds, 3, timeout_ms);
    if (n < 0 && errno != EINTR) break;
    if (sfd >= 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo si;
      if (read(sfd, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
        close(sfd);
        return static_cast<int>(si.ssi_signo);
      }
    }
    if (sfd < 0) {  // no signalfd: poll the pending set
      timespec zero{0, 0};
      siginfo_t info;
      int sig = sigtimedwait(&stop_signals, &info, &zero);
      if (sig > 0) return sig;
    }
    if (server) server->service(Worker::now());
#ifdef TERN_HAVE_HTTP
    if (ctl->http && (fds[2].revents & POLLIN)) {
      ctl->http->run_pending(
          [ctl](const HttpCall& c) { return execute_http_call(*ctl->sessions, c); });
    }
#endif
  }
  if (sfd >= 0) close(sfd);
  return SIGTERM;
}

int run(int argc, char** argv) {
  auto cl = parse_command_line(argc, argv);
  if (!cl.ok()) return fail(cl.status().message());
  if (cl->action == CommandLine::Action::kHelp) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (cl->action == CommandLine::Action::kVersion) {
    std::printf("ternd %s%s\n", TERN_VERSION,
#ifdef TERN_HAVE_DPDK
                " (drivers: socket, dpdk)"
#else
                " (drivers: socket)"
#endif
    );
    return 0;
  }
  const TerndConfig& cfg = cl->config;

  // Every thread created from here on (driver, workers) inherits this mask;
  // only this thread takes the signals, synchronously.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  DriverCommonConfig common;
  common.num_queues = cfg.workers;
  common.base_port = cfg.base_port;
  auto drv_or = make_driver(cfg, common);
  if (!drv_or.ok()) return fail(drv_or.status().message());
  std::unique_ptr<PacketDriver> drv = *std::move(drv_or);
  if (drv->num_queues() < cfg.workers) {
    return fail(absl::StrFormat("driver %s opened %d queue(s) for %d worker(s)", drv->name(),
                                drv->num_queues(), cfg.workers));
  }

  // [turn]: one TurnServer per worker, each with its share of the relayed
  // ports; every queue's listening endpoints are off limits as peers.
  auto turn_cfg = parse_turn_config(cfg.turn, cfg.source);
  if (!turn_cfg.ok()) return fail(turn_cfg.status().message());
  std::vector<Endpoint> all_listen;
  std::vector<uint8_t> turn_secret;
  if (turn_cfg->enabled) {
    for (uint16_t i = 0; i < cfg.workers; ++i) {
      for (const Endpoint& e : drv->local_endpoints(i)) all_listen.push_back(e);
    }
    auto secret = random_turn_secret();
    if (!secret.ok()) return fail(secret.status().message());
    turn_secret = *std::move(secret);
  }

  // TURN over TCP/TLS: one listener per worker on the same ports
  // (SO_REUSEPORT), polled by that worker; declared before the workers, so
  // it outlives them.
  std::vector<std::unique_ptr<TcpTurnListener>> stream_listeners;
  std::shared_ptr<TlsServerContext> tls_ctx;
  if (turn_cfg->enabled && (!turn_cfg->tcp_listen.empty() || !turn_cfg->tls_listen.empty())) {
    if (!turn_cfg->tls_listen.empty()) {
      auto t = TlsServerContext::create(turn_cfg->tls_cert, turn_cfg->tls_key);
      if (!t.ok()) return fail(t.status().message());
      tls_ctx = *std::move(t);
    }
    TcpTurnConfig tc;
    tc.tcp_listen = turn_cfg->tcp_listen;
    tc.tls_listen = turn_cfg->tls_listen;
    tc.max_connections = turn_cfg->tcp_max_connections;
    tc.idle_timeout = Nanos{turn_cfg->tcp_idle_timeout_s} * kSecond;
    for (uint16_t i = 0; i < cfg.workers; ++i) {
      auto l = TcpTurnListener::create(tc, tls_ctx, i);
      if (!l.ok()) return fail(l.status().message());
      // Socket driver: a readable TCP connection wakes the idle worker.
      if (auto* sd = dynamic_cast<SocketDriver*>(drv.get())) sd->add_wake_fd(i, (*l)->wake_fd());
      stream_listeners.push_back(*std::move(l));
    }
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (uint16_t i = 0; i < cfg.workers; ++i) {
    WorkerConfig wc;
    wc.index = i;
    wc.cpu = cfg.cores.empty() ? -1 : cfg.cores[i];
    wc.idle_spin = Nanos{cfg.idle_spin_us} * kMicrosecond;
    wc.idle_max_sleep = Nanos{cfg.idle_max_sleep_us} * kMicrosecond;
    wc.stun.software = absl::StrCat("tern ", TERN_VERSION);
    if (turn_cfg->enabled) {
      auto tc = turn_server_config_for_worker(*turn_cfg, i, cfg.workers, all_listen, turn_secret,
                                              wc.stun.software);
      if (!tc.ok()) {
        for (auto& w : workers) w->stop();
        workers.clear();
        return fail(tc.status().message());
      }
      wc.turn = *std::move(tc);
      if (!stream_listeners.empty()) wc.stream = stream_listeners[i].get();
    }
    workers.push_back(std::make_unique<Worker>(*drv, wc));
    absl::Status s = workers.back()->start();
    if (!s.ok()) {
      for (auto& w : workers) w->stop();
      workers.clear();
      if (!cfg.cores.empty() && s.code() == absl::StatusCode::kInvalidArgument) {
        return fail(absl::StrCat("engine.cores[", i, "] (--cores): ", s.message()));
      }
      return fail(s.message());
    }
  }
  Control control;
  if (turn_cfg->enabled) {  // read by turn.credentials (main thread only)
    control.view.turn = {.enabled = true,
                         .rest_secrets = turn_cfg->rest_secrets,
                         .uris = turn_uris(all_listen, turn_cfg->relay_addresses)};
  }
  if (absl::Status s = start_control(cfg, *drv, workers, &control); !s.ok()) {
    for (auto& w : workers) w->stop();
    return fail(s.message());
  }
  print_banner(cfg, *drv, workers);
  for (size_t i = 0; i < stream_listeners.size(); ++i) {
    std::printf("  worker %zu: TURN over %s\n", i,
                absl::StrJoin(stream_listeners[i]->endpoints(), ", ").c_str());
  }
  if (tls_ctx) {
    std::printf("TURN TLS certificate %s%s\n", tls_ctx->fingerprint().c_str(),
                tls_ctx->self_signed() ? " (self-signed, generated at startup)" : "");
  }
  std::fflush(stdout);
  if (control.server) {
    for (const std::string& ep : control.server->endpoints())
      std::printf("Control: %s\n", ep.c_str());
    std::fflush(stdout);
  }

#ifdef TERN_HAVE_HTTP
  if (control.http) {
    std::printf("WHIP/WHEP: %s/whip/{room} %s/whep/{room}%s\n", control.http->endpoint().c_str(),
                control.http->endpoint().c_str(),
                parse_http_config(cfg.http, cfg.source)->token.empty() ? "" : " (bearer token)");
    std::fflush(stdout);
  }
#endif
  int sig = serve_until_signal(stop_signals, cfg, workers, *drv, &control);
#ifdef TERN_HAVE_HTTP
  if (control.http) control.http->stop();  // pending requests get 503
#endif
  if (control.server) {
    control.server->publish("server", jsonrpc::json{{"state", "stopping"}});
    control.server->service(Worker::now());
  }
  std::printf("ternd: %s, stopping %zu worker(s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
              workers.size());
  for (auto& w : workers) w->stop();
  print_final(workers, *drv);
  for (size_t i = 0; i < stream_listeners.size(); ++i) {
    std::printf("  worker %zu %s\n", i, stream_listeners[i]->counters_line().c_str());
  }
  std::fflush(stdout);
  workers.clear();
  drv.reset();
  return 0;
}

}  // namespace
}  // namespace tern

int main(int argc, char** argv) { return tern::run(argc, argv); }
