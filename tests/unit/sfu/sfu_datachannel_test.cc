// Data channels through the SFU, in memory: two WebRtcTransports with SCTP on
// a TransportHost, the DataRouter as their data handler, and two clients
// built from our own cores (ICE check, DtlsEndpoint, SctpAssociation) playing
// browsers. A opens a channel, B gets it relayed; messages of every size from
// empty to 256 KiB go both ways byte-exact; closing propagates.
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "engine/sctp/sctp_association.h"
#include "engine/sfu/data_router.h"
#include "tests/unit/sfu/sfu_test_util.h"

namespace tern::sfu::testing {
namespace {

struct Msg {
  uint16_t stream;
  uint32_t ppid;
  Bytes bytes;
};

struct Recorder : sctp::SctpAssociationHandler {
  bool connected = false;
  std::vector<sctp::DataChannelInfo> opened;
  std::vector<Msg> msgs;
  std::vector<uint16_t> closed;
  void on_connected() override { connected = true; }
  void on_channel_open(const sctp::DataChannelInfo& ch) override { opened.push_back(ch); }
  void on_message(uint16_t stream, uint32_t ppid, const uint8_t* d, size_t n) override {
    msgs.push_back(Msg{stream, ppid, Bytes(d, d + n)});
  }
  void on_channel_closed(uint16_t stream) override { closed.push_back(stream); }
  void on_closed(const std::string& r) override { reason = r; }
  std::string reason;
};

struct DataEvents : DataEventSink {
  std::vector<DataEvent> ev;
  ~DataEvents() override {
    for (DataEvent& e : ev) e.free_payload();
  }
  void on_data_event(DataEvent& e) override { ev.push_back(e); }
  int count(DataEvent::Type t, uint64_t transport) const {
    int n = 0;
    for (const auto& e : ev) n += e.type == t && e.transport_id == transport;
    return n;
  }
};

struct HostEvents : TransportEventSink {
  DataRouter* data = nullptr;
  std::vector<TransportEvent> ev;
  void on_transport_event(const TransportEvent& e) override {
    ev.push_back(e);
    if (data != nullptr) data->on_transport_event(e, mono_now());
  }
};

SctpTransportConfig short_rto() {
  SctpTransportConfig c;
  c.remote_max_message_size = 262144;
  c.rto_initial_ms = 100;
  c.rto_min_ms = 50;
  c.rto_max_ms = 1000;
  return c;
}

// One browser: DTLS client + SCTP association over it.
struct DcClient {
  std::unique_ptr<Client> c;
  std::unique_ptr<sctp::SctpAssociation> assoc;
  Recorder rec;
};

class SfuDataChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(srtp_library_init().ok());
    t0 = mono_now();
    server_ctx = *DtlsContext::create(server_cert());
    wheel = std::make_unique<TimerWheel>(1024, kMillisecond, t0);
    timers = std::make_unique<WheelTransportTimers>(*wheel);
    sink.pool = &pool;
    host = std::make_unique<TransportHost>(*timers, sink, events);
    data = std::make_unique<DataRouter>(*host, sink, dev);
    events.data = data.get();
    auto st = sctp::SctpStack::acquire();
    ASSERT_TRUE(st.ok()) << st.status();
    stack = *st;
  }
  void TearDown() override {
    for (auto& cl : clients) cl->assoc.reset();
    events.data = nullptr;
    host.reset();
    data.reset();
  }

  // Transport `id` with SCTP, connected to a new client (ICE + DTLS).
  DcClient& connect(uint64_t id) {
    auto dc = std::make_unique<DcClient>();
    dc->c = std::make_unique<Client>(int(id), server_cert()->fingerprint());
    Client& cl = *dc->c;
    WebRtcTransportConfig c;
    c.id = id;
    c.remote_ice = cl.creds;
    c.dtls.role = DtlsRole::kServer;
    c.dtls.has_remote_fingerprint = true;
    c.dtls.remote_fingerprint = client_cert()->fingerprint();
    c.sctp = short_rto();
    auto t = WebRtcTransport::create(c, server_ctx, t0);
    EXPECT_TRUE(t.ok()) << t.status();
    (*t)->set_data_handler(data.get());
    ice::IceCredentials local = (*t)->local_ice();
    EXPECT_TRUE(host->add(*std::move(t), t0).ok());
    Packet* chk = pool.make(cl.check(local), cl.addr, kServer);
    EXPECT_EQ(host->handle_stun(chk, mono_now()), ice::StunRoute::kRespond);
    // Client side SCTP (a browser is the DTLS client: even streams).
    sctp::SctpAssociationConfig ac;
    ac.dtls_client = true;
    ac.remote_max_message_size = 262144;
    ac.rto_initial_ms = 100;
    ac.rto_min_ms = 50;
    ac.rto_max_ms = 1000;
    ac.mtu = 1150;
    DtlsEndpoint* dtls = cl.dtls.get();
    auto a = sctp::SctpAssociation::create(
        stack, ac,
        [dtls](const uint8_t* p, size_t n) {
          EXPECT_TRUE(dtls->send_application_data(p, n, mono_now()).ok());
        },
        &dc->rec);
    EXPECT_TRUE(a.ok()) << a.status();
    dc->assoc = *std::move(a);
    sctp::SctpAssociation* as = dc->assoc.get();
    // Like a browser: SCTP starts as soon as DTLS is up, also when the
    // server's INIT comes in the datagram after its Finished.
    cl.dtls->set_app_data_handler([as](const uint8_t* p, size_t n) {
      if (as->state() == sctp::SctpState::kNew) EXPECT_TRUE(as->start(mono_now()).ok());
      as->receive(p, n, mono_now());
    });
    cl.dtls->start(mono_now());
    clients.push_back(std::move(dc));
    DcClient& ref = *clients.back();
    run_until([&] { return cl.dtls->state() == DtlsState::kConnected; });
    EXPECT_EQ(cl.dtls->state(), DtlsState::kConnected);
    if (ref.assoc->state() == sctp::SctpState::kNew) {
      EXPECT_TRUE(ref.assoc->start(mono_now()).ok());
    }
    run_until([&] { return ref.rec.connected && host->find(id)->sctp_connected(); });
    EXPECT_TRUE(ref.rec.connected)
        << "client sctp state " << sctp::sctp_state_name(ref.assoc->state()) << " ("
        << ref.rec.reason << ") drops " << host->find(id)->stats()->drops.get(Drop::kNoHandler)
        << "/" << host->find(id)->stats()->drops.get(Drop::kNoBuffer) << " dtls_in "
        << host->find(id)->stats()->dtls_in.get() << " dtls_out "
        << host->find(id)->stats()->dtls_out.get();
    EXPECT_TRUE(host->find(id)->sctp_connected());
    return ref;
  }

  // One round of I/O both ways plus timers; true if anything moved.
  bool pump() {
    bool moved = false;
    for (auto& dc : clients) {
      Client& cl = *dc->c;
      for (Bytes& d : cl.drain()) {
        moved = true;
        bool consumed = false;
        host->handle_dtls(pool.make(d, cl.addr, kServer), mono_now(), &consumed);
      }
      for (Packet* p : sink.take(cl.addr)) {
        moved = true;
        cl.dtls->feed(p->data(), p->len, mono_now());
      }
    }
    // Buffers are never reused by the test pool: give their memory back.
    if (pool.bufs.size() > 4096 && sink.sent.empty()) pool.bufs.clear();
    const Nanos now = mono_now();
    wheel->advance(now);
    for (auto& dc : clients) {
      if (dc->assoc && dc->assoc->next_deadline() <= now) dc->assoc->on_timer(now);
    }
    return moved;
  }
  bool run_until(const std::function<bool()>& pred, Nanos limit = 20 * kSecond) {
    const Nanos end = mono_now() + limit;
    while (!pred() && mono_now() < end) {
      if (!pump()) std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return pred();
  }

  Nanos t0 = 0;
  Pool pool;
  Sink sink;
  HostEvents events;
  DataEvents dev;
  std::shared_ptr<DtlsContext> server_ctx;
  std::shared_ptr<sctp::SctpStack> stack;
  std::unique_ptr<TimerWheel> wheel;
  std::unique_ptr<WheelTransportTimers> timers;
  std::unique_ptr<TransportHost> host;
  std::unique_ptr<DataRouter> data;
  std::vector<std::unique_ptr<DcClient>> clients;
};

Bytes pattern(size_t n, bool text, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = text ? uint8_t('a' + (i * 7 + seed) % 26) : uint8_t(i * 31 + seed + (i >> 8));
  }
  return b;
}

TEST_F(SfuDataChannelTest, RelaysChannelMessagesBothWaysAndClose) {
  DcClient& a = connect(1);
  DcClient& b = connect(2);
  ASSERT_TRUE(data->join(1, 7, mono_now()).ok());
  ASSERT_TRUE(data->join(2, 7, mono_now()).ok());

  sctp::DataChannelParams p;
  p.label = "chat";
  p.protocol = "json";
  p.ordered = true;
  auto sa = a.assoc->open_channel(p, mono_now());
  ASSERT_TRUE(sa.ok()) << sa.status();
  ASSERT_TRUE(run_until([&] { return !b.rec.opened.empty(); })) << "B never saw the channel";
  const sctp::DataChannelInfo bch = b.rec.opened[0];
  EXPECT_EQ(bch.label, "chat");
  EXPECT_EQ(bch.protocol, "json");
  EXPECT_TRUE(bch.remote);
  EXPECT_TRUE(bch.ordered());
  EXPECT_EQ(bch.stream % 2, 1) << "tern is the DTLS server: odd streams";
  EXPECT_EQ(data->channel_count(), 1u);
  EXPECT_EQ(data->legs_of(1, *sa), 2u);
  EXPECT_EQ(dev.count(DataEvent::Type::kOpen, 1), 1);
  EXPECT_EQ(dev.count(DataEvent::Type::kOpen, 2), 1);  // the leg tern opened on B

  std::vector<size_t> sizes = {0, 1, 2, 100, 1149, 1150, 1151, 4096, 65535, 65536, 65537};
  for (size_t n = 128 * 1024; n <= 256 * 1024; n += 64 * 1024) sizes.push_back(n);
  uint8_t seed = 0;
  for (size_t n : sizes) {
    for (bool text : {true, false}) {
      for (int dir = 0; dir < 2; ++dir) {
        DcClient& from = dir == 0 ? a : b;
        DcClient& to = dir == 0 ? b : a;
        const uint16_t from_stream = dir == 0 ? *sa : bch.stream;
        const uint16_t to_stream = dir == 0 ? bch.stream : *sa;
        Bytes msg = pattern(n, text, ++seed);
        to.rec.msgs.clear();
        ASSERT_TRUE(from.assoc
                        ->send(from_stream,
                               text ? sctp::MessageKind::kText : sctp::MessageKind::kBinary,
                               msg.data(), msg.size(), mono_now())
                        .ok());
        ASSERT_TRUE(run_until([&] { return !to.rec.msgs.empty(); }))
            << "size " << n << (text ? " text" : " binary") << " dir " << dir;
        ASSERT_EQ(to.rec.msgs.size(), 1u);
        const Msg& m = to.rec.msgs[0];
        EXPECT_EQ(m.stream, to_stream);
        uint32_t want_ppid = text ? (n == 0 ? sctp::kPpidStringEmpty : sctp::kPpidString)
                                  : (n == 0 ? sctp::kPpidBinaryEmpty : sctp::kPpidBinary);
        EXPECT_EQ(m.ppid, want_ppid) << "size " << n;
        ASSERT_EQ(m.bytes.size(), n);
        EXPECT_TRUE(m.bytes == msg) << "size " << n << " not byte-exact";
      }
    }
  }
  EXPECT_EQ(data->stats().messages_out.get(), sizes.size() * 4);
  EXPECT_EQ(data->stats().send_failed.get(), 0u);

  // Control-plane events: whole up to 64 KiB, cut beyond.
  const DataEvent* big = nullptr;
  const DataEvent* small = nullptr;
  for (const DataEvent& e : dev.ev) {
    if (e.type != DataEvent::Type::kMessage || e.transport_id != 1) continue;
    if (e.size == 262144) big = &e;
    if (e.size == 100) small = &e;
  }
  ASSERT_NE(big, nullptr);
  EXPECT_TRUE(big->truncated);
  EXPECT_EQ(big->len, DataEvent::kMaxEventPayload);
  ASSERT_NE(small, nullptr);
  EXPECT_FALSE(small->truncated);
  EXPECT_EQ(small->len, 100u);

  // Close by the producer: B's leg closes.
  ASSERT_TRUE(a.assoc->close_channel(*sa, mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return !b.rec.closed.empty() && !a.rec.closed.empty(); }));
  EXPECT_EQ(b.rec.closed[0], bch.stream);
  EXPECT_EQ(data->channel_count(), 0u);
  EXPECT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kClosed, 2) >= 1; }));
  EXPECT_GE(dev.count(DataEvent::Type::kClosed, 1), 1);
}

TEST_F(SfuDataChannelTest, LateJoinerGetsExistingChannelAndControlSend) {
  DcClient& a = connect(1);
  ASSERT_TRUE(data->join(1, 9, mono_now()).ok());
  sctp::DataChannelParams p;
  p.label = "late";
  p.ordered = false;
  p.max_retransmits = 3;
  auto sa = a.assoc->open_channel(p, mono_now());
  ASSERT_TRUE(sa.ok());
  ASSERT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kOpen, 1) == 1; }));
  EXPECT_EQ(data->legs_of(1, *sa), 1u);

  DcClient& b = connect(2);
  ASSERT_TRUE(data->join(2, 9, mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return !b.rec.opened.empty(); }));
  EXPECT_EQ(b.rec.opened[0].label, "late");
  EXPECT_FALSE(b.rec.opened[0].ordered());
  EXPECT_EQ(sctp::dcep_policy(b.rec.opened[0].type), 1);
  EXPECT_EQ(b.rec.opened[0].reliability, 3u);

  // The control plane sends into A's channel by label.
  DataSend ds;
  ds.transport_id = 1;
  ds.label = "late";
  ds.bytes = {'h', 'i'};
  ASSERT_TRUE(data->send(ds, mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return !a.rec.msgs.empty(); }));
  EXPECT_EQ(a.rec.msgs[0].stream, *sa);
  EXPECT_EQ(a.rec.msgs[0].ppid, sctp::kPpidString);
  EXPECT_EQ(a.rec.msgs[0].bytes, (Bytes{'h', 'i'}));
  ds.label = "nope";
  EXPECT_EQ(data->send(ds, mono_now()).code(), absl::StatusCode::kNotFound);

  // B's transport closes: the channel stays with A alone; A's transport
  // closing ends it.
  ASSERT_TRUE(host->close(2, mono_now()));
  EXPECT_EQ(data->legs_of(1, *sa), 1u);
  ASSERT_TRUE(host->close(1, mono_now()));
  EXPECT_EQ(data->channel_count(), 0u);
  EXPECT_EQ(data->stats().members.load(), 0u);
}

TEST_F(SfuDataChannelTest, NoGroupNoRelay) {
  DcClient& a = connect(1);
  DcClient& b = connect(2);
  (void)b;
  sctp::DataChannelParams p;
  p.label = "solo";
  auto sa = a.assoc->open_channel(p, mono_now());
  ASSERT_TRUE(sa.ok());
  const Bytes msg = pattern(10, true, 1);
  ASSERT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kOpen, 1) == 1; }));
  ASSERT_TRUE(
      a.assoc->send(*sa, sctp::MessageKind::kText, msg.data(), msg.size(), mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return dev.count(DataEvent::Type::kMessage, 1) == 1; }));
  run_until([] { return false; }, 100 * kMillisecond);
  EXPECT_TRUE(b.rec.opened.empty());
  EXPECT_EQ(data->channel_count(), 0u);
  EXPECT_EQ(data->stats().messages_out.get(), 0u);
}

}  // namespace
}  // namespace tern::sfu::testing
