// Test helpers: two SctpAssociations wired back to back in memory through a
// pipe that can drop every Nth packet.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/sctp/sctp_association.h"

namespace tern::sctp::test {

// Real monotonic time. usrsctp's timers follow `now`, but its T3-rtx handler
// resends only chunks sent at least one RTO ago by its own clock
// (gettimeofday), so a virtual clock running ahead of real time makes it count
// timeouts without resending until the association dies. Tests therefore
// run on real time, with short RTOs (test_config()).
inline Nanos mono_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline SctpAssociationConfig test_config() {
  SctpAssociationConfig c;
  c.rto_initial_ms = 100;
  c.rto_min_ms = 50;
  c.rto_max_ms = 1000;
  return c;
}

using Bytes = std::vector<uint8_t>;

struct Message {
  uint16_t stream;
  uint32_t ppid;
  Bytes data;
};

struct Recorder : SctpAssociationHandler {
  bool connected = false;
  bool closed = false;
  std::string close_reason;
  std::vector<DataChannelInfo> opened;
  std::vector<Message> messages;
  std::vector<uint16_t> closed_streams;
  std::function<void(const Message&)> on_msg;  // optional hook (echo tests)

  void on_connected() override { connected = true; }
  void on_channel_open(const DataChannelInfo& c) override { opened.push_back(c); }
  void on_message(uint16_t stream, uint32_t ppid, const uint8_t* d, size_t n) override {
    messages.push_back(Message{stream, ppid, Bytes(d, d + n)});
    if (on_msg) on_msg(messages.back());
  }
  void on_channel_closed(uint16_t stream) override { closed_streams.push_back(stream); }
  void on_closed(const std::string& reason) override {
    closed = true;
    close_reason = reason;
  }
};

// Deterministic payload: byte i of message `seq` of size n.
inline Bytes pattern(size_t n, uint32_t seq) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t((i * 131 + seq * 7 + (i >> 8)) & 0xff);
  return b;
}

struct Link {
  std::shared_ptr<SctpStack> stack;
  Recorder rc, rs;  // client / server handlers
  std::unique_ptr<SctpAssociation> client, server;
  std::deque<Bytes> to_server, to_client;
  int drop_every = 0;  // drop every Nth packet in each direction (0: lossless)
  uint64_t sent[2] = {0, 0}, dropped[2] = {0, 0};  // [0] client->server

  explicit Link(SctpAssociationConfig ccfg = test_config(),
                SctpAssociationConfig scfg = test_config()) {
    auto s = SctpStack::acquire();
    EXPECT_TRUE(s.ok()) << s.status();
    stack = *s;
    ccfg.dtls_client = true;
    scfg.dtls_client = false;
    auto c = SctpAssociation::create(
        stack, ccfg, [this](const uint8_t* d, size_t n) { to_server.emplace_back(d, d + n); }, &rc);
    auto v = SctpAssociation::create(
        stack, scfg, [this](const uint8_t* d, size_t n) { to_client.emplace_back(d, d + n); }, &rs);
    EXPECT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(v.ok()) << v.status();
    client = std::move(*c);
    server = std::move(*v);
  }

  Nanos now() const { return mono_now(); }

  // Delivers queued packets (applying the drop rule) until both queues are
  // empty; then, if `pred` is still false, sleeps 1 ms and runs due timers.
  // Returns pred() at the end. Bounded by `max_time` and by a packet count.
  bool run_until(const std::function<bool()>& pred, Nanos max_time = 30 * kSecond) {
    const Nanos end = mono_now() + max_time;
    for (int guard = 0; guard < 2'000'000; ++guard) {
      if (pred()) return true;
      if (!to_server.empty() || !to_client.empty()) {
        deliver_one(to_server, 0, *server);
        deliver_one(to_client, 1, *client);
        continue;
      }
      if (mono_now() >= end) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      tick();
    }
    return pred();
  }
  void tick() {
    const Nanos t = mono_now();
    for (SctpAssociation* a : {client.get(), server.get()}) {
      if (a != nullptr && a->next_deadline() <= t) a->on_timer(t);
    }
  }
  // Runs for `t` whatever happens.
  void run_for(Nanos t) {
    const Nanos end = mono_now() + t;
    run_until([&] { return mono_now() >= end; }, t + kSecond);
  }

  bool connect() {
    EXPECT_TRUE(client->start(now()).ok());
    EXPECT_TRUE(server->start(now()).ok());
    return run_until([&] { return rc.connected && rs.connected; });
  }

 private:
  void deliver_one(std::deque<Bytes>& q, int dir, SctpAssociation& to) {
    if (q.empty()) return;
    Bytes p = std::move(q.front());
    q.pop_front();
    ++sent[dir];
    // Every SCTP packet must fit one DTLS record of the configured size.
    EXPECT_LE(p.size(), (dir == 0 ? client : server)->config().mtu);
    if (drop_every > 0 && sent[dir] % drop_every == 0) {
      ++dropped[dir];
      return;
    }
    to.receive(p.data(), p.size(), mono_now());
  }
};

}  // namespace tern::sctp::test
