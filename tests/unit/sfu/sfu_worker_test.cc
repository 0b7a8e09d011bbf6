// The worker's producer/consumer commands end to end through its rings: a
// real Worker thread over an in-memory driver, commands posted as control/
// does, events read back.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/dtls/certificate.h"
#include "engine/dtls/dtls_endpoint.h"
#include "engine/srtp/srtp_session.h"
#include "engine/worker/worker.h"

namespace tern {
namespace {

// Idle driver: no traffic, buffers on demand (the worker never sends here).
class IdleDriver : public PacketDriver {
 public:
  IdleDriver() : stats_(1) {}
  const char* name() const override { return "idle"; }
  DriverCaps caps() const override { return {}; }
  uint16_t num_queues() const override { return 1; }
  std::vector<Endpoint> local_endpoints(uint16_t) const override {
    return {Endpoint::v4(0x7f000001, 3478)};
  }
  absl::Status thread_init(uint16_t) override { return absl::OkStatus(); }
  uint16_t rx_burst(uint16_t, Packet**, uint16_t) override { return 0; }
  uint16_t tx_burst(uint16_t, Packet**, uint16_t n) override { return n; }
  uint16_t alloc_bulk(uint16_t, Packet**, uint16_t) override { return 0; }
  void free_bulk(uint16_t, Packet**, uint16_t) override {}
  void wait_rx(uint16_t, Nanos timeout) override {
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<Nanos>(timeout, kMillisecond)));
  }
  void poll_housekeeping(uint16_t, Nanos) override {}
  const DriverQueueStats& stats(uint16_t q) const override { return stats_[q]; }

 private:
  std::vector<DriverQueueStats> stats_;
};

// Polls events until one of `type` for `object` arrives (bounded: 2 s).
bool wait_event(Worker& w, sfu::TransportEventType type, uint64_t object,
                sfu::TransportEvent* out) {
  for (int i = 0; i < 2000; ++i) {
    sfu::TransportEvent ev;
    while (w.poll_event(&ev)) {
      if (ev.type == type && ev.object_id == object) {
        *out = ev;
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

sfu::ProducerParams* producer(uint64_t id, uint64_t transport) {
  auto* p = new sfu::ProducerParams;
  p->id = id;
  p->transport_id = transport;
  p->mid = "0";
  sfu::RtpCodecParams c;
  c.codec = sfu::CodecId::kVp8;
  c.pt = 96;
  c.clock_rate = 90000;
  p->codecs = {c};
  p->layers.resize(1);
  return p;
}

TEST(SfuWorker, CommandsRefuseCloseAndReportThroughEvents) {
  ASSERT_TRUE(srtp_library_init().ok());
  IdleDriver d;
  WorkerConfig cfg;
  cfg.idle_max_sleep = kMillisecond;
  Worker w(d, cfg);
  ASSERT_TRUE(w.start().ok());

  WorkerCommand c;
  c.type = WorkerCommand::Type::kAddProducer;
  c.producer = producer(10, 5);  // transport 5 is nowhere
  ASSERT_TRUE(w.post_command(c));
  sfu::TransportEvent ev;
  ASSERT_TRUE(wait_event(w, sfu::TransportEventType::kProducerClosed, 10, &ev));
  EXPECT_EQ(ev.transport_id, 5u);
  EXPECT_NE(std::string(ev.reason).find("not on this worker"), std::string::npos) << ev.reason;

  c = WorkerCommand{};
  c.type = WorkerCommand::Type::kAddConsumer;
  c.consumer = new sfu::ConsumerParams;
  c.consumer->id = 20;
  c.consumer->transport_id = 5;
  c.consumer->producer_id = 99;
  c.consumer->ssrc = 1;
  ASSERT_TRUE(w.post_command(c));
  ASSERT_TRUE(wait_event(w, sfu::TransportEventType::kConsumerClosed, 20, &ev));
  EXPECT_NE(std::string(ev.reason).find("producer 99"), std::string::npos) << ev.reason;

  // A real transport, then a producer on it; closing the transport closes it.
  auto ctx = *DtlsContext::create(*DtlsCertificate::generate());
  sfu::WebRtcTransportConfig tc;
  tc.id = 7;
  auto t = sfu::WebRtcTransport::create(tc, ctx, Worker::now());
  ASSERT_TRUE(t.ok()) << t.status();
  c = WorkerCommand{};
  c.type = WorkerCommand::Type::kAddTransport;
  c.transport = t->release();
  ASSERT_TRUE(w.post_command(c));
  c = WorkerCommand{};
  c.type = WorkerCommand::Type::kAddProducer;
  c.producer = producer(11, 7);
  ASSERT_TRUE(w.post_command(c));
  for (int i = 0; i < 2000 && w.router_stats().producers.get() != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(w.router_stats().producers.get(), 1u);
  // Unknown ids are no-ops.
  for (auto type : {WorkerCommand::Type::kPauseConsumer, WorkerCommand::Type::kResumeConsumer,
                    WorkerCommand::Type::kSetConsumerLayer, WorkerCommand::Type::kCloseConsumer}) {
    c = WorkerCommand{};
    c.type = type;
    c.id = 12345;
    ASSERT_TRUE(w.post_command(c));
  }
  c = WorkerCommand{};
  c.type = WorkerCommand::Type::kCloseTransport;
  c.id = 7;
  ASSERT_TRUE(w.post_command(c));
  ASSERT_TRUE(wait_event(w, sfu::TransportEventType::kProducerClosed, 11, &ev));
  EXPECT_STREQ(ev.reason, "transport closed");
  EXPECT_EQ(w.router_stats().producers.get(), 0u);
  EXPECT_EQ(w.router_stats().refused.get(), 2u);
  w.stop();
}

}  // namespace
}  // namespace tern
