// The in-memory data channel test bed (sfu_datachannel_test.cc,
// sfu_datachannel_backpressure_test.cc): WebRtcTransports with SCTP on a
// TransportHost, the DataRouter as their data handler, and clients built
// from our own cores (ICE check, DtlsEndpoint, SctpAssociation) playing
// browsers. pump() moves one round of packets both ways and runs timers.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>

#include "engine/sctp/sctp_association.h"
#include "engine/sfu/data_router.h"
#include "tests/unit/sfu/sfu_test_util.h"

namespace tern::sfu::testing {

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

inline SctpTransportConfig short_rto() {
  SctpTransportConfig c;
  c.remote_max_message_size = 262144;
  c.rto_initial_ms = 100;
  c.rto_min_ms = 50;
  c.rto_max_ms = 1000;
  return c;
}

// One browser: DTLS client + SCTP association over it.
struct DcClient {
  uint64_t id = 0;  // its transport's id
  std::unique_ptr<Client> c;
  std::unique_ptr<sctp::SctpAssociation> assoc;
  Recorder rec;
};

class SfuDataChannelTest : public HostBed {
 protected:
  void SetUp() override {
    HostBed::SetUp();
    if (HasFatalFailure()) return;
    data = std::make_unique<DataRouter>(*host, sink, dev);
    events.also = [this](const TransportEvent& e) { data->on_transport_event(e, mono_now()); };
    auto st = sctp::SctpStack::acquire();
    ASSERT_TRUE(st.ok()) << st.status();
    stack = *st;
  }
  void TearDown() override {
    for (auto& cl : clients) cl->assoc.reset();
    events.also = nullptr;
    host.reset();
    data.reset();
  }

  // Transport `id` with SCTP, connected to a new client (ICE + DTLS).
  DcClient& connect(uint64_t id) {
    auto dc = std::make_unique<DcClient>();
    dc->id = id;
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
      if (as->state() == sctp::SctpState::kNew) {
        EXPECT_TRUE(as->start(mono_now()).ok());
      }
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

  // One round of I/O both ways plus timers; true if anything moved. A
  // client in `stalled` neither reads nor sends (its packets wait in the sink).
  bool pump() {
    bool moved = false;
    for (auto& dc : clients) {
      if (stalled.contains(dc->id)) continue;
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

  DataEvents dev;
  std::shared_ptr<sctp::SctpStack> stack;
  std::unique_ptr<DataRouter> data;
  std::vector<std::unique_ptr<DcClient>> clients;
  std::set<uint64_t> stalled;
};

inline Bytes pattern(size_t n, bool text, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = text ? uint8_t('a' + (i * 7 + seed) % 26) : uint8_t(i * 31 + seed + (i >> 8));
  }
  return b;
}

}  // namespace tern::sfu::testing
