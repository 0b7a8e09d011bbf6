// Test helpers: two DtlsEndpoints shuttling datagrams in memory.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/dtls/dtls_endpoint.h"

namespace tern::dtls_test {

// Real monotonic time: OpenSSL runs its DTLS timers on its own clock, so the
// retransmission tests must let real time pass (engine/dtls/dtls_endpoint.h).
inline Nanos mono_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline std::shared_ptr<const DtlsCertificate> make_cert() {
  auto c = DtlsCertificate::generate();
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : nullptr;
}

inline std::shared_ptr<DtlsContext> make_ctx(std::shared_ptr<const DtlsCertificate> cert) {
  auto c = DtlsContext::create(std::move(cert));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : nullptr;
}

using Datagram = std::vector<uint8_t>;

// Takes every queued datagram from ep.
inline std::vector<Datagram> drain(DtlsEndpoint& ep) {
  std::vector<Datagram> out;
  uint8_t buf[65536];
  for (int i = 0; i < 1000; ++i) {
    size_t n = ep.poll_output(buf, sizeof(buf));
    if (n == 0) break;
    out.emplace_back(buf, buf + n);
  }
  return out;
}

struct Pair {
  std::shared_ptr<DtlsContext> client_ctx, server_ctx;
  std::unique_ptr<DtlsEndpoint> client, server;
  // Called for every datagram in flight; return the datagrams to deliver instead
  // (empty = drop). `from_client` says the direction; `index` counts per direction.
  std::function<std::vector<Datagram>(bool from_client, int index, Datagram d)> filter;
  int sent[2] = {0, 0};
  bool reverse_batches = false;  // deliver each side's queued datagrams last-first
  std::vector<std::string> client_rx, server_rx;

  Pair(DtlsEndpointConfig ccfg, DtlsEndpointConfig scfg, bool wrong_client_expectation = false,
       bool wrong_server_expectation = false) {
    // Key generation is the slow part: one set of certificates per test binary.
    static auto ccert = make_cert();
    static auto scert = make_cert();
    static auto other = make_cert();
    client_ctx = make_ctx(ccert);
    server_ctx = make_ctx(scert);
    ccfg.role = DtlsRole::kClient;
    scfg.role = DtlsRole::kServer;
    ccfg.has_remote_fingerprint = scfg.has_remote_fingerprint = true;
    ccfg.remote_fingerprint =
        wrong_client_expectation ? other->fingerprint() : scert->fingerprint();
    scfg.remote_fingerprint =
        wrong_server_expectation ? other->fingerprint() : ccert->fingerprint();
    auto c = DtlsEndpoint::create(client_ctx, ccfg);
    auto s = DtlsEndpoint::create(server_ctx, scfg);
    EXPECT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(s.ok()) << s.status();
    client = std::move(*c);
    server = std::move(*s);
    client->set_app_data_handler([this](const uint8_t* p, size_t n) {
      client_rx.emplace_back(reinterpret_cast<const char*>(p), n);
    });
    server->set_app_data_handler([this](const uint8_t* p, size_t n) {
      server_rx.emplace_back(reinterpret_cast<const char*>(p), n);
    });
  }

  // Moves queued datagrams both ways until neither side has output. Returns the
  // number of datagrams delivered.
  int pump() {
    int delivered = 0;
    for (int round = 0; round < 100; ++round) {
      auto from_c = drain(*client);
      auto from_s = drain(*server);
      if (from_c.empty() && from_s.empty()) break;
      if (reverse_batches) {
        std::reverse(from_c.begin(), from_c.end());
        std::reverse(from_s.begin(), from_s.end());
      }
      for (auto& d : from_c) {
        std::vector<Datagram> out = filter ? filter(true, sent[0]++, d) : std::vector<Datagram>{d};
        for (auto& x : out) server->feed(x.data(), x.size(), mono_now()), ++delivered;
      }
      for (auto& d : from_s) {
        std::vector<Datagram> out = filter ? filter(false, sent[1]++, d) : std::vector<Datagram>{d};
        for (auto& x : out) client->feed(x.data(), x.size(), mono_now()), ++delivered;
      }
    }
    return delivered;
  }

  bool settled() const {
    auto done = [](DtlsState s) { return s != DtlsState::kNew && s != DtlsState::kConnecting; };
    return done(client->state()) && done(server->state());
  }

  // start + pump; then, while not settled, sleep until the earliest deadline and
  // fire timers. Bounded by `budget` real time.
  void run(std::chrono::milliseconds budget = std::chrono::milliseconds(10000)) {
    const Nanos t0 = mono_now();
    server->start(t0);
    client->start(t0);
    pump();
    const Nanos end = t0 + std::chrono::nanoseconds(budget).count();
    while (!settled() && mono_now() < end) {
      Nanos next = std::min(client->next_timeout(), server->next_timeout());
      if (next == kNever) break;
      Nanos wait = std::min(next, end) - mono_now();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      client->on_timeout(mono_now());
      server->on_timeout(mono_now());
      pump();
    }
    pump();
  }
};

}  // namespace tern::dtls_test
