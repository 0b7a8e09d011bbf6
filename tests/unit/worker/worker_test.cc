#include "engine/worker/worker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/net/checksum.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"
#include "engine/turn/turn_protocol.h"

namespace tern {
namespace {

using namespace std::chrono_literals;

// An in-memory driver with one or more queues. The test thread injects
// datagrams; the worker thread receives them and "sends" answers into a list
// the test reads. A mutex is fine here: this is a test double, not a data path.
class FakeDriver : public PacketDriver {
 public:
  static constexpr uint32_t kBufSize = 2048;

  explicit FakeDriver(uint16_t queues = 1, size_t buffers = 64)
      : queues_(queues), storage_(buffers), stats_(queues) {
    for (auto& s : storage_) {
      s.pkt.buf = s.bytes;
      s.pkt.capacity = kBufSize;
      free_.push_back(&s.pkt);
    }
  }

  const char* name() const override { return "fake"; }
  DriverCaps caps() const override { return {}; }
  uint16_t num_queues() const override { return queues_; }
  std::vector<Endpoint> local_endpoints(uint16_t) const override { return {local_}; }

  absl::Status thread_init(uint16_t q) override {
    std::lock_guard<std::mutex> l(mu_);
    thread_inits_.push_back(q);
    return thread_init_result_;
  }

  uint16_t rx_burst(uint16_t, Packet** pkts, uint16_t n) override {
    std::lock_guard<std::mutex> l(mu_);
    uint16_t got = 0;
    while (got < n && !rx_.empty()) {
      pkts[got++] = rx_.front();
      rx_.pop_front();
    }
    return got;
  }
  uint16_t tx_burst(uint16_t, Packet** pkts, uint16_t n) override {
    if (tx_delay_ > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(tx_delay_));
    std::lock_guard<std::mutex> l(mu_);
    ++tx_bursts_;
    for (uint16_t i = 0; i < n; ++i) {
      sent_.emplace_back(pkts[i]->data(), pkts[i]->data() + pkts[i]->len);
      sent_remote_.push_back(pkts[i]->remote);
      free_.push_back(pkts[i]);
    }
    cv_.notify_all();
    return n;
  }
  uint16_t alloc_bulk(uint16_t, Packet** pkts, uint16_t n) override {
    std::lock_guard<std::mutex> l(mu_);
    uint16_t got = 0;
    while (got < n && !free_.empty()) {
      pkts[got] = free_.back();
      free_.pop_back();
      pkts[got++]->reset();
    }
    return got;
  }
  void free_bulk(uint16_t, Packet** pkts, uint16_t n) override {
    std::lock_guard<std::mutex> l(mu_);
    ++free_bulks_;
    for (uint16_t i = 0; i < n; ++i) free_.push_back(pkts[i]);
    freed_ += n;
    cv_.notify_all();
  }
  void wait_rx(uint16_t, Nanos timeout) override {
    std::unique_lock<std::mutex> l(mu_);
    ++waits_;
    last_wait_ = timeout;
    cv_.notify_all();
    cv_.wait_for(l, std::chrono::nanoseconds(timeout), [&] { return !rx_.empty(); });
  }
  void poll_housekeeping(uint16_t, Nanos) override {
    std::lock_guard<std::mutex> l(mu_);
    ++housekeeping_;
  }
  const DriverQueueStats& stats(uint16_t q) const override { return stats_[q]; }
  // TURN's relayed ports: accepted (and remembered) as a socket driver would.
  absl::Status open_port(uint16_t, const Endpoint& local) override {
    std::lock_guard<std::mutex> l(mu_);
    opened_.push_back(local);
    return absl::OkStatus();
  }

  // --- test side ---
  // claimed / verified: as a driver that deferred the UDP checksum would
  // set them (Packet::set_rx_checksum).
  void inject(const std::vector<uint8_t>& bytes, Endpoint remote, uint32_t claimed = kNoSum,
              bool verified = true) {
    std::lock_guard<std::mutex> l(mu_);
    Packet* p = free_.back();
    free_.pop_back();
    p->reset();
    p->set_rx_checksum(claimed, verified);
    std::memcpy(p->append(static_cast<uint32_t>(bytes.size())), bytes.data(), bytes.size());
    p->remote = remote;
    p->local = local_;
    rx_.push_back(p);
    cv_.notify_all();
  }
  // Waits (bounded) until pred() holds under the lock.
  template <typename Pred>
  bool wait_for(Pred pred, std::chrono::milliseconds limit = 2000ms) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, limit, [&] { return pred(); });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Packet*> rx_;
  std::vector<std::vector<uint8_t>> sent_;
  std::vector<Endpoint> sent_remote_;
  std::vector<uint16_t> thread_inits_;
  std::vector<Endpoint> opened_;
  absl::Status thread_init_result_;
  uint64_t freed_ = 0, waits_ = 0, housekeeping_ = 0, tx_bursts_ = 0, free_bulks_ = 0;
  Nanos last_wait_ = 0;
  Nanos tx_delay_ = 0;  // each tx_burst takes at least this long (set before start)
  size_t free_count() {
    std::lock_guard<std::mutex> l(mu_);
    return free_.size();
  }

 private:
  struct Slot {
    Packet pkt;
    uint8_t bytes[kBufSize];
  };
  uint16_t queues_;
  std::vector<Slot> storage_;
  std::vector<Packet*> free_;
  std::vector<DriverQueueStats> stats_;
  Endpoint local_ = Endpoint::v4(0x7f000001, 3478);
};

std::vector<uint8_t> binding_request(const uint8_t txid[12]) {
  std::vector<uint8_t> buf(256);
  stun::StunWriter w(buf.data(), buf.size());
  w.begin(stun::kMethodBinding, stun::StunClass::kRequest, txid);
  w.add_fingerprint();
  EXPECT_TRUE(w.ok());
  buf.resize(w.size());
  return buf;
}

WorkerConfig fast_config() {
  WorkerConfig c;
  c.idle_spin = 20 * kMicrosecond;
  c.idle_max_sleep = 2 * kMillisecond;
  c.housekeeping_interval = 10 * kMillisecond;
  return c;
}

const Endpoint kClient = Endpoint::v4(0x7f000001, 40000);

TEST(Worker, AnswersStunBindingRequest) {
  FakeDriver d;
  Worker w(d, fast_config());
  ASSERT_TRUE(w.start().ok());
  const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  d.inject(binding_request(txid), kClient);
  ASSERT_TRUE(d.wait_for([&] { return d.sent_.size() == 1; }));
  w.stop();

  const std::vector<uint8_t>& resp = d.sent_[0];
  stun::StunMessage m;
  ASSERT_EQ(m.parse(resp.data(), resp.size()), stun::ParseError::kOk);
  EXPECT_EQ(m.cls(), stun::StunClass::kSuccess);
  EXPECT_EQ(m.method(), stun::kMethodBinding);
  EXPECT_EQ(std::memcmp(m.transaction_id(), txid, 12), 0);
  Endpoint mapped;
  ASSERT_TRUE(m.xor_mapped_address(&mapped));
  EXPECT_EQ(mapped, kClient);
  EXPECT_EQ(d.sent_remote_[0], kClient);

  EXPECT_EQ(w.stats().rx_packets.get(), 1u);
  EXPECT_EQ(w.stats().rx_bytes.get(), 28u);
  EXPECT_EQ(w.stats().tx_packets.get(), 1u);
  EXPECT_EQ(w.stats().by_class[size_t(PacketClass::kStun)].get(), 1u);
  EXPECT_EQ(w.stun().stats().requests.get(), 1u);
  EXPECT_EQ(w.stun().stats().responses.get(), 1u);
  EXPECT_EQ(d.thread_inits_, std::vector<uint16_t>{0});
}

// A checksum the driver deferred is checked before the payload is read: the
// request whose payload does not sum to its claim is dropped and counted.
TEST(Worker, DeferredChecksumIsCheckedBeforeServing) {
  FakeDriver d;
  Worker w(d, fast_config());
  ASSERT_TRUE(w.start().ok());
  const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<uint8_t> req = binding_request(txid);
  const uint32_t sum = checksum_partial(req.data(), uint32_t(req.size()));
  d.inject(req, kClient, checksum_fold(sum + 1), false);  // corrupted in flight
  d.inject(req, kClient, sum, false);
  ASSERT_TRUE(d.wait_for([&] { return d.sent_.size() == 1 && d.freed_ == 1; }));
  w.stop();
  EXPECT_EQ(w.stats().drops.get(Drop::kBadChecksum), 1u);
  EXPECT_EQ(w.stun().stats().requests.get(), 1u);
  EXPECT_EQ(w.stats().by_class[size_t(PacketClass::kStun)].get(), 1u);  // the good one only
}

TEST(Worker, DropsAndCountsUnservedClasses) {
  FakeDriver d;
  Worker w(d, fast_config());
  size_t free_before = d.free_count();
  ASSERT_TRUE(w.start().ok());
  d.inject({200, 1, 2, 3}, kClient);                        // unclassified (192..255)
  d.inject({22, 0xfe, 0xfd, 0, 0}, kClient);                // DTLS handshake
  d.inject({0x80, 0x60, 0, 1, 0, 0, 0, 0}, kClient);        // RTP
  d.inject({0x00, 0x01, 0x00, 0x00, 1, 2, 3, 4}, kClient);  // STUN, truncated: malformed
  ASSERT_TRUE(d.wait_for([&] { return d.freed_ == 4; }));
  w.stop();
  EXPECT_EQ(w.stats().drops.get(Drop::kUnclassified), 1u);
  EXPECT_EQ(w.stats().drops.get(Drop::kNoHandler), 2u);
  EXPECT_EQ(w.stun().stats().drops.get(Drop::kMalformedStun), 1u);
  EXPECT_EQ(w.stats().by_class[size_t(PacketClass::kUnknown)].get(), 1u);
  EXPECT_EQ(w.stats().by_class[size_t(PacketClass::kDtls)].get(), 1u);
  EXPECT_EQ(w.stats().by_class[size_t(PacketClass::kRtp)].get(), 1u);
  EXPECT_EQ(w.stats().rx_packets.get(), 4u);
  EXPECT_EQ(w.stats().tx_packets.get(), 0u);
  EXPECT_TRUE(d.sent_.empty());
  EXPECT_EQ(d.free_count(), free_before);  // nothing leaked
}

TEST(Worker, BurstIsAnsweredWithOneTxBurstAndOneFreeBulk) {
  FakeDriver d;
  // Queue a mixed burst before the worker starts, so it arrives as one rx_burst.
  for (uint8_t i = 0; i < 10; ++i) {
    uint8_t txid[12] = {i};
    d.inject(binding_request(txid), kClient);
    d.inject({200}, kClient);
  }
  Worker w(d, fast_config());
  ASSERT_TRUE(w.start().ok());
  ASSERT_TRUE(d.wait_for([&] { return d.sent_.size() == 10 && d.freed_ == 10; }));
  w.stop();
  EXPECT_EQ(d.tx_bursts_, 1u);
  EXPECT_EQ(d.free_bulks_, 1u);
  EXPECT_EQ(w.stats().busy_polls.get(), 1u);
}

// busy_ns is the worker's work: a turn that found packets counts whole
// (its TX included), and the idle turns and naps after it do not.
TEST(Worker, BusyTimeCoversTheWholeBusyTurnAndNotTheIdleOnes) {
  FakeDriver d;
  d.tx_delay_ = 3 * kMillisecond;
  uint8_t txid[12] = {7};
  d.inject(binding_request(txid), kClient);
  Worker w(d, fast_config());
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(w.start().ok());
  ASSERT_TRUE(d.wait_for([&] { return d.sent_.size() == 1; }));
  const uint64_t waits = d.waits_;
  ASSERT_TRUE(d.wait_for([&] { return d.waits_ >= waits + 3; }));  // idle: napping
  w.stop();
  const auto wall = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(w.stats().busy_polls.get(), 1u);
  EXPECT_GE(w.stats().busy_ns.get(), uint64_t(3 * kMillisecond));
  EXPECT_LT(w.stats().busy_ns.get(), uint64_t(std::chrono::nanoseconds(wall).count()));
  EXPECT_GT(w.stats().idle_polls.get(), 0u);
}

TEST(Worker, IdleWorkerSleepsInWaitRx) {
  FakeDriver d;
  Worker w(d, fast_config());
  ASSERT_TRUE(w.start().ok());
  ASSERT_TRUE(d.wait_for([&] { return d.waits_ >= 5; }));
  w.stop();
  EXPECT_GE(w.stats().sleeps.get(), 5u);
  EXPECT_GT(w.stats().idle_polls.get(), 0u);
  EXPECT_LE(d.last_wait_, 2 * kMillisecond);
  EXPECT_GT(d.last_wait_, 0);
}

TEST(Worker, HousekeepingRuns) {
  FakeDriver d;
  Worker w(d, fast_config());
  ASSERT_TRUE(w.start().ok());
  ASSERT_TRUE(d.wait_for([&] { return d.housekeeping_ >= 3; }));
  w.stop();
}

TEST(Worker, StopJoinsPromptly) {
  FakeDriver d;
  WorkerConfig c = fast_config();
  c.idle_max_sleep = 50 * kMillisecond;
  Worker w(d, c);
  ASSERT_TRUE(w.start().ok());
  EXPECT_TRUE(w.running());
  std::this_thread::sleep_for(20ms);
  auto t0 = std::chrono::steady_clock::now();
  w.stop();
  EXPECT_FALSE(w.running());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  w.stop();  // idempotent
}

struct Flag {
  std::atomic<int> fired{0};
  static void fn(void* ctx, uint64_t cookie, Nanos) {
    static_cast<Flag*>(ctx)->fired.fetch_add(static_cast<int>(cookie));
  }
};

TEST(Worker, TimersFireOnTheWorkerThread) {
  FakeDriver d;
  WorkerConfig c = fast_config();
  c.idle_max_sleep = 100 * kMillisecond;  // the timer, not the cap, must wake it
  c.housekeeping_interval = kSecond;
  Worker w(d, c);
  Flag f;
  Nanos start = Worker::now();
  w.timers().schedule(start + 5 * kMillisecond, Flag::fn, &f, 1);
  w.timers().schedule(start + 30 * kMillisecond, Flag::fn, &f, 10);
  ASSERT_TRUE(w.start().ok());
  auto t0 = std::chrono::steady_clock::now();
  while (f.fired.load() != 11 && std::chrono::steady_clock::now() - t0 < 2s) {
    std::this_thread::sleep_for(1ms);
  }
  Nanos took = Worker::now() - start;
  w.stop();
  EXPECT_EQ(f.fired.load(), 11);
  EXPECT_EQ(w.stats().timers_fired.get(), 2u);
  EXPECT_LT(took, 90 * kMillisecond);  // woke for the timer, not after a 100 ms sleep
}

TEST(Worker, NonexistentCpuIsAClearError) {
  FakeDriver d;
  WorkerConfig c = fast_config();
  c.cpu = 1000;
  Worker w(d, c);
  absl::Status s = w.start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("CPU 1000 does not exist"), absl::string_view::npos) << s;
  EXPECT_FALSE(w.running());
}

TEST(Worker, PinsAndNamesThread) {
  FakeDriver d(4);
  WorkerConfig c = fast_config();
  c.index = 3;
  c.cpu = 0;
  Worker w(d, c);
  ASSERT_TRUE(w.start().ok());
  bool found = false;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(e.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "tern-w3") found = true;
  }
  w.stop();
  EXPECT_TRUE(found);
  EXPECT_EQ(d.thread_inits_, std::vector<uint16_t>{3});
}

TEST(Worker, ThreadInitFailureFailsStart) {
  FakeDriver d;
  d.thread_init_result_ = absl::UnavailableError("no lcore");
  Worker w(d, fast_config());
  absl::Status s = w.start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no lcore"), absl::string_view::npos);
  EXPECT_FALSE(w.running());
}

TEST(Worker, QueueOutOfRange) {
  FakeDriver d(1);
  WorkerConfig c = fast_config();
  c.index = 1;
  Worker w(d, c);
  EXPECT_FALSE(w.start().ok());
}

}  // namespace
}  // namespace tern

namespace tern {
namespace {

// A TURN request from kTurnClient through the fake driver: `nonce` empty =
// unauthenticated; else signed with alice's long-term key.
std::vector<uint8_t> turn_request(uint16_t method, uint8_t serial, const std::string& nonce,
                                  const std::vector<std::pair<uint16_t, Endpoint>>& addrs,
                                  uint16_t channel = 0) {
  std::vector<uint8_t> buf(512);
  stun::StunWriter w(buf.data(), buf.size());
  const uint8_t txid[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, serial};
  w.begin(method, stun::StunClass::kRequest, txid);
  if (method == turn::kMethodAllocate) {
    const uint8_t udp[4] = {17, 0, 0, 0};
    w.add_bytes(turn::attr::kRequestedTransport, udp, 4);
  }
  if (channel != 0) {
    uint8_t cn[4] = {0, 0, 0, 0};
    store_be16(cn, channel);
    w.add_bytes(turn::attr::kChannelNumber, cn, 4);
  }
  for (const auto& [type, e] : addrs) w.add_address(type, e, true);
  if (!nonce.empty()) {
    w.add_username("alice");
    w.add_string(stun::attr::kRealm, "tern.test");
    w.add_string(stun::attr::kNonce, nonce);
    auto key = MessageIntegrity::long_term_key_md5("alice", "tern.test", "alice-pass");
    auto mi = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                       absl::Span<const uint8_t>(key.data(), key.size()));
    w.add_message_integrity(*mi);
  }
  w.add_fingerprint();
  EXPECT_TRUE(w.ok());
  buf.resize(w.size());
  return buf;
}

// A client forced through our TURN to our own port (the browser with
// iceTransportPolicy 'relay' reaching this node's SFU): its ChannelData is
// handed back to the engine inside the worker (hairpin), the answer to the
// relayed address comes back the same way and leaves as ChannelData to the
// client. Nothing is sent to our own address.
TEST(Worker, TurnToOurOwnPortIsHandedOverInsideTheNode) {
  FakeDriver d;
  WorkerConfig c = fast_config();
  const Endpoint self = Endpoint::v4(0x7f000001, 3478);  // FakeDriver::local_
  const Endpoint client = Endpoint::v4(0x7f000001, 41000);
  TurnServerConfig tc;
  tc.realm = "tern.test";
  tc.users = {{"alice", "alice-pass"}};
  tc.relay_addresses = {Endpoint::v4(0x7f000001, 0)};
  tc.relay_port_min = 50000;
  tc.relay_port_max = 50009;
  tc.listen = {self};
  tc.allow_peers = {*Cidr::parse("127.0.0.1")};  // loopback is refused by default
  tc.secret.assign(32, 0x5A);
  c.turn = tc;
  Worker w(d, c);
  ASSERT_TRUE(w.start().ok());

  auto last_response = [&](size_t n) -> stun::StunMessage {
    EXPECT_TRUE(d.wait_for([&] { return d.sent_.size() == n; }));
    std::lock_guard<std::mutex> l(d.mu_);
    stun::StunMessage m;
    if (d.sent_.size() != n) return m;
    EXPECT_EQ(m.parse(d.sent_.back().data(), d.sent_.back().size(), turn::is_known_attribute),
              stun::ParseError::kOk);
    return m;
  };
  d.inject(turn_request(turn::kMethodAllocate, 1, "", {}), client);
  stun::StunMessage challenge = last_response(1);
  std::string nonce;
  for (stun::Attribute a : challenge)
    if (a.type == stun::attr::kNonce)
      nonce.assign(reinterpret_cast<const char*>(a.value), a.length);
  ASSERT_FALSE(nonce.empty());
  d.inject(turn_request(turn::kMethodAllocate, 2, nonce, {}), client);
  stun::StunMessage alloc = last_response(2);
  ASSERT_EQ(alloc.cls(), stun::StunClass::kSuccess);
  Endpoint relayed;
  for (stun::Attribute a : alloc)
    if (a.type == turn::attr::kXorRelayedAddress)
      ASSERT_TRUE(alloc.decode_address(a, true, &relayed));
  ASSERT_TRUE(relayed.is_v4());
  d.inject(turn_request(turn::kMethodChannelBind, 3, nonce, {{turn::attr::kXorPeerAddress, self}},
                        0x4000),
           client);
  stun::StunMessage bound = last_response(3);
  int code = 0;
  absl::string_view reason;
  ASSERT_EQ(bound.cls(), stun::StunClass::kSuccess)
      << (bound.error_code(&code, &reason) ? code : 0) << " " << reason;

  // ChannelData 0x4000 carrying a Binding request to our own STUN port.
  const uint8_t txid[12] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  std::vector<uint8_t> inner = binding_request(txid);
  std::vector<uint8_t> cd(4 + inner.size());
  store_be16(cd.data(), 0x4000);
  store_be16(cd.data() + 2, uint16_t(inner.size()));
  std::memcpy(cd.data() + 4, inner.data(), inner.size());
  d.inject(cd, client);
  ASSERT_TRUE(d.wait_for([&] { return d.sent_.size() == 4; }));
  w.stop();

  // The Binding response, relayed back: ChannelData on 0x4000 to the client,
  // mapping the request's source = our relayed address.
  const std::vector<uint8_t>& out = d.sent_[3];
  EXPECT_EQ(d.sent_remote_[3], client);
  ASSERT_GT(out.size(), 4u);
  EXPECT_EQ(load_be16(out.data()), 0x4000);
  stun::StunMessage m;
  ASSERT_EQ(m.parse(out.data() + 4, load_be16(out.data() + 2)), stun::ParseError::kOk);
  EXPECT_EQ(m.cls(), stun::StunClass::kSuccess);
  EXPECT_EQ(std::memcmp(m.transaction_id(), txid, 12), 0);
  Endpoint mapped;
  ASSERT_TRUE(m.xor_mapped_address(&mapped));
  EXPECT_EQ(mapped, relayed);
  for (const Endpoint& to : d.sent_remote_) EXPECT_NE(to, self) << "sent to our own port";
  EXPECT_EQ(w.stats().hairpin.get(), 2u);  // client -> our port, our port -> relayed address
  EXPECT_EQ(w.stats().hairpin_dropped.get(), 0u);
}

}  // namespace
}  // namespace tern
