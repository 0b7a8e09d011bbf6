// ICE restart (RFC 8445 §9) of a connected WebRtcTransport through its
// TransportHost, in memory, against a client from our own cores
// (sfu_test_util.h): both sides change credentials, the client moves to a
// new address and checks with the NEW credentials; DTLS is not redone and
// SRTP keeps flowing, on the new pair once it is nominated; the old ufrag
// stops being accepted when the restart completes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/net/bytes.h"
#include "engine/sfu/transport_host.h"
#include "engine/sfu/webrtc_transport.h"
#include "tests/unit/sfu/sfu_test_util.h"

namespace tern::sfu {
namespace {

using testing::Bytes;
using testing::Client;
using testing::client_cert;
using testing::ep;
using testing::kServer;
using testing::mono_now;
using testing::server_cert;

constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kBindingError = 0x0111;

Bytes rtp_packet(uint16_t seq, uint32_t ssrc, size_t payload) {
  Bytes b(12 + payload);
  b[0] = 0x80;
  b[1] = 96;
  store_be16(&b[2], seq);
  store_be32(&b[4], seq * 3000u);
  store_be32(&b[8], ssrc);
  for (size_t i = 0; i < payload; ++i) b[12 + i] = uint8_t(i * 5 + seq);
  return b;
}

class IceRestartTest : public testing::HostBed {
 protected:
  // Transport 1: echo, DTLS server, expecting client_cert().
  WebRtcTransport* add() {
    WebRtcTransportConfig c;
    c.id = 1;
    c.remote_ice = testing::client_creds(0);
    c.dtls.role = DtlsRole::kServer;
    c.dtls.has_remote_fingerprint = true;
    c.dtls.remote_fingerprint = client_cert()->fingerprint();
    c.echo = true;
    auto t = WebRtcTransport::create(c, server_ctx, t0);
    EXPECT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(host->add(*std::move(t), t0).ok());
    return host->find(1);
  }

  // A check from cl (its current address and credentials) against `server`;
  // the route, and in *type the STUN message type of the answer (0 if none).
  ice::StunRoute check(Client& cl, const ice::IceCredentials& server, bool use_candidate,
                       uint16_t* type) {
    Packet* p = pool.make(cl.check(server, use_candidate), cl.addr, kServer);
    ice::StunRoute r = host->handle_stun(p, mono_now());
    *type = r == ice::StunRoute::kRespond ? load_be16(p->data()) : 0;
    return r;
  }

  void shuttle(Client& cl) {
    for (int round = 0; round < 50; ++round) {
      bool moved = false;
      for (Bytes& d : cl.drain()) {
        moved = true;
        bool consumed = false;
        if (!host->handle_dtls(pool.make(d, cl.addr, kServer), mono_now(), &consumed)) return;
      }
      for (Packet* p : sink.take(cl.addr)) {
        moved = true;
        cl.dtls->feed(p->data(), p->len, mono_now());
      }
      if (!moved) return;
    }
  }

  // SRTP from cl's current address; the echoed packet unprotected (empty if
  // nothing came back or it did not verify), and where it was sent.
  Bytes echo(Client& cl, const Bytes& plain, Endpoint* to) {
    Packet* p = cl.protect(pool, plain, /*rtcp=*/false);
    bool consumed = false;
    if (!host->handle_media(p, false, mono_now(), &consumed)) return {};
    if (sink.sent.size() != 1u) {
      ADD_FAILURE() << sink.sent.size() << " packets echoed, want 1";
      sink.sent.clear();
      return {};
    }
    Packet* back = sink.sent[0];
    sink.sent.clear();
    *to = back->remote;
    return cl.unprotect(back);
  }
};

TEST_F(IceRestartTest, NewCredentialsBothSidesSrtpKeepsFlowingWithoutNewDtls) {
  WebRtcTransport* t = add();
  ASSERT_NE(t, nullptr);
  const ice::IceCredentials old_local = t->local_ice();
  Client cl(0, server_cert()->fingerprint());
  const ice::IceCredentials old_client = cl.creds;
  const Endpoint old_addr = cl.addr;
  uint16_t type = 0;
  ASSERT_EQ(check(cl, old_local, true, &type), ice::StunRoute::kRespond);
  ASSERT_EQ(type, kBindingSuccess);
  cl.dtls->start(mono_now());
  shuttle(cl);
  ASSERT_EQ(cl.dtls->state(), DtlsState::kConnected);
  ASSERT_TRUE(t->srtp_ready());
  cl.make_srtp();
  Endpoint to;
  Bytes plain = rtp_packet(1, 0xA1B2C3D4, 100);
  ASSERT_EQ(echo(cl, plain, &to), plain);
  EXPECT_EQ(to, old_addr);
  const uint64_t dtls_in = t->stats()->dtls_in.get(), dtls_out = t->stats()->dtls_out.get();
  ASSERT_EQ(events.count(TransportEventType::kDtlsConnected), 1);

  // Restart: new local credentials (generated), the client's new ones.
  const ice::IceCredentials new_client{"cli0gen2", "ClientPasswordGen2abcdefg"};
  ASSERT_TRUE(host->restart_ice(1, {}, new_client, mono_now()).ok());
  const ice::IceCredentials new_local = t->local_ice();
  EXPECT_NE(new_local.ufrag, old_local.ufrag);
  EXPECT_NE(new_local.pwd, old_local.pwd);
  ASSERT_NE(t->agent(), nullptr);
  EXPECT_TRUE(t->agent()->restarting());
  // Both ufrags route to the agent while the restart is pending.
  EXPECT_EQ(host->demux().find_ufrag(old_local.ufrag), t->agent());
  EXPECT_EQ(host->demux().find_ufrag(new_local.ufrag), t->agent());
  EXPECT_EQ(t->ice_state(), ice::IceState::kConnected);

  // Pending: media and consent on the old pair with the old credentials.
  plain = rtp_packet(2, 0xA1B2C3D4, 100);
  ASSERT_EQ(echo(cl, plain, &to), plain);
  EXPECT_EQ(to, old_addr);
  ASSERT_EQ(check(cl, old_local, false, &type), ice::StunRoute::kRespond);
  EXPECT_EQ(type, kBindingSuccess);

  // The client moves (the usual reason to restart) and checks with the NEW
  // credentials on both sides: the new generation nominates a new pair.
  cl.creds = new_client;
  cl.addr = ep("192.0.2.20:52000");
  ASSERT_EQ(check(cl, new_local, true, &type), ice::StunRoute::kRespond);
  EXPECT_EQ(type, kBindingSuccess);
  EXPECT_FALSE(t->agent()->restarting());
  ASSERT_NE(t->agent()->selected_pair(), nullptr);
  EXPECT_EQ(t->agent()->selected_pair()->remote, cl.addr);
  EXPECT_EQ(host->demux().find_ufrag(old_local.ufrag), nullptr);
  EXPECT_EQ(host->demux().find_ufrag(new_local.ufrag), t->agent());
  EXPECT_EQ(host->demux().ufrag_count(), 1u);
  // The old pair, validated only by the old generation, no longer routes.
  EXPECT_EQ(host->demux().find(old_addr, kServer), nullptr);

  // The old ufrag is refused now: from the validated new 5-tuple with a 401
  // (error response), from the old address not at all (unknown ufrag).
  cl.creds = old_client;
  ASSERT_EQ(check(cl, old_local, false, &type), ice::StunRoute::kRespond);
  EXPECT_EQ(type, kBindingError);
  const Endpoint new_addr = cl.addr;
  cl.addr = old_addr;
  const uint64_t unknown = host->demux().stats().unknown_ufrag.get();
  EXPECT_EQ(check(cl, old_local, true, &type), ice::StunRoute::kDrop);
  EXPECT_EQ(host->demux().stats().unknown_ufrag.get(), unknown + 1);
  // Old local with the NEW client ufrag: still the old ufrag, still refused.
  cl.creds = new_client;
  EXPECT_EQ(check(cl, old_local, true, &type), ice::StunRoute::kDrop);

  // SRTP from the old address is not routed any more...
  {
    Packet* p = cl.protect(pool, rtp_packet(3, 0xA1B2C3D4, 50), false);
    bool consumed = true;
    EXPECT_FALSE(host->handle_media(p, false, mono_now(), &consumed));
    EXPECT_TRUE(sink.sent.empty());
  }
  // ...and keeps flowing on the new pair with the same SRTP keys (the
  // client's sessions were never rebuilt), echoed to the new address.
  cl.addr = new_addr;
  for (uint16_t seq = 4; seq < 54; ++seq) {
    plain = rtp_packet(seq, 0xA1B2C3D4, 60 + seq);
    ASSERT_EQ(echo(cl, plain, &to), plain) << "seq " << seq;
    ASSERT_EQ(to, new_addr);
  }
  // No second DTLS handshake, no state change on either side.
  EXPECT_EQ(t->stats()->dtls_in.get(), dtls_in);
  EXPECT_EQ(t->stats()->dtls_out.get(), dtls_out);
  EXPECT_EQ(events.count(TransportEventType::kDtlsConnected), 1);
  EXPECT_FALSE(events.has(TransportEventType::kIceFailed));
  EXPECT_FALSE(events.has(TransportEventType::kIceDisconnected));
  EXPECT_EQ(t->dtls_state(), DtlsState::kConnected);
  EXPECT_EQ(cl.dtls->state(), DtlsState::kConnected);
  EXPECT_TRUE(cl.drain().empty());
  EXPECT_EQ(t->ice_state(), ice::IceState::kConnected);
  EXPECT_EQ(t->stats()->drops.total(), 0u);
  EXPECT_EQ(host->armed_timers(), 1u);
}

TEST_F(IceRestartTest, BeforeConnectStartsOverWithTheNewCredentials) {
  WebRtcTransport* t = add();
  ASSERT_NE(t, nullptr);
  const ice::IceCredentials old_local = t->local_ice();
  Client cl(0, server_cert()->fingerprint());
  const ice::IceCredentials new_client{"cli0gen2", "ClientPasswordGen2abcdefg"};
  const ice::IceCredentials new_local{"srvgen2x", "ServerPasswordGen2abcdefg"};
  ASSERT_TRUE(host->restart_ice(1, new_local, new_client, mono_now()).ok());
  EXPECT_EQ(t->local_ice().ufrag, "srvgen2x");
  // Nothing was in use: the old ufrag is gone at once.
  EXPECT_EQ(host->demux().find_ufrag(old_local.ufrag), nullptr);
  uint16_t type = 0;
  EXPECT_EQ(check(cl, old_local, true, &type), ice::StunRoute::kDrop);
  cl.creds = new_client;
  ASSERT_EQ(check(cl, new_local, true, &type), ice::StunRoute::kRespond);
  EXPECT_EQ(type, kBindingSuccess);
  EXPECT_EQ(t->ice_state(), ice::IceState::kConnected);
  cl.dtls->start(mono_now());
  shuttle(cl);
  ASSERT_EQ(cl.dtls->state(), DtlsState::kConnected);
  cl.make_srtp();
  Endpoint to;
  Bytes plain = rtp_packet(7, 0x01020304, 80);
  EXPECT_EQ(echo(cl, plain, &to), plain);
}

TEST_F(IceRestartTest, RefusalsChangeNothing) {
  WebRtcTransport* t = add();
  ASSERT_NE(t, nullptr);
  const ice::IceCredentials local = t->local_ice();
  const ice::IceCredentials new_client{"cli0gen2", "ClientPasswordGen2abcdefg"};
  // Unknown transport.
  EXPECT_EQ(host->restart_ice(99, {}, new_client, mono_now()).code(), absl::StatusCode::kNotFound);
  // Same local ufrag (or pwd): RFC 8445 §9 wants both changed.
  absl::Status s =
      host->restart_ice(1, {local.ufrag, "ServerPasswordGen2abcdefg"}, new_client, mono_now());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  s = host->restart_ice(1, {"srvgen2x", local.pwd}, new_client, mono_now());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  // Bad remote password (too short).
  s = host->restart_ice(1, {}, {"cli0gen2", "short"}, mono_now());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(t->local_ice().ufrag, local.ufrag);
  EXPECT_EQ(host->demux().ufrag_count(), 1u);
  EXPECT_EQ(host->demux().find_ufrag(local.ufrag), t->agent());
  // A ufrag another transport of this worker holds.
  WebRtcTransportConfig c;
  c.id = 2;
  c.dtls.role = DtlsRole::kServer;
  auto t2 = WebRtcTransport::create(c, server_ctx, t0);
  ASSERT_TRUE(t2.ok()) << t2.status();
  const std::string other = (*t2)->local_ice().ufrag;
  ASSERT_TRUE(host->add(*std::move(t2), t0).ok());
  s = host->restart_ice(1, {other, "ServerPasswordGen2abcdefg"}, new_client, mono_now());
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  EXPECT_EQ(t->local_ice().ufrag, local.ufrag);
  EXPECT_FALSE(t->agent()->restarting());
  // Closed: unknown.
  ASSERT_TRUE(host->close(1, mono_now()));
  EXPECT_EQ(host->restart_ice(1, {}, new_client, mono_now()).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tern::sfu
