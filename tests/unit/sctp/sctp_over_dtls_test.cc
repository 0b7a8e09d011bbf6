// SCTP over real DTLS (RFC 8261): two DtlsEndpoints (our engine/dtls) carry
// two SctpAssociations, wired the way WebRtcTransport will wire them:
// DtlsEndpoint app-data handler -> SctpAssociation::receive, the association's
// sink -> DtlsEndpoint::send_application_data, mtu = max_app_data_size().
#include <gtest/gtest.h>

#include "engine/sctp/sctp_association.h"
#include "tests/unit/dtls/dtls_test_util.h"
#include "tests/unit/sctp/sctp_test_util.h"

namespace tern::sctp::test {
namespace {

TEST(SctpOverDtls, ChannelsAndLargeMessagesThroughDtls) {
  DtlsEndpointConfig cfg;
  cfg.srtp_profiles.clear();  // data-channel-only transport
  dtls_test::Pair d(cfg, cfg);
  d.run();
  ASSERT_EQ(d.client->state(), DtlsState::kConnected);
  ASSERT_EQ(d.server->state(), DtlsState::kConnected);
  const size_t mtu = d.client->max_app_data_size();
  ASSERT_GT(mtu, 1000u);

  auto stack = SctpStack::acquire();
  ASSERT_TRUE(stack.ok());
  Recorder rc, rs;
  SctpAssociationConfig ccfg = test_config();
  ccfg.dtls_client = true;
  ccfg.mtu = static_cast<uint32_t>(mtu);
  ccfg.remote_max_message_size = 262144;
  SctpAssociationConfig scfg = ccfg;
  scfg.dtls_client = false;
  uint64_t dtls_errors = 0;
  auto c = SctpAssociation::create(
      *stack, ccfg,
      [&](const uint8_t* p, size_t n) {
        if (!d.client->send_application_data(p, n, mono_now()).ok()) ++dtls_errors;
      },
      &rc);
  auto s = SctpAssociation::create(
      *stack, scfg,
      [&](const uint8_t* p, size_t n) {
        if (!d.server->send_application_data(p, n, mono_now()).ok()) ++dtls_errors;
      },
      &rs);
  ASSERT_TRUE(c.ok() && s.ok());
  SctpAssociation& ca = **c;
  SctpAssociation& sa = **s;
  d.client->set_app_data_handler([&](const uint8_t* p, size_t n) { ca.receive(p, n, mono_now()); });
  d.server->set_app_data_handler([&](const uint8_t* p, size_t n) { sa.receive(p, n, mono_now()); });

  auto run_until = [&](const std::function<bool()>& pred) {
    const Nanos end = mono_now() + 20 * kSecond;
    while (!pred() && mono_now() < end) {
      if (d.pump() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const Nanos now = mono_now();
      if (ca.next_deadline() <= now) ca.on_timer(now);
      if (sa.next_deadline() <= now) sa.on_timer(now);
    }
    return pred();
  };
  ASSERT_TRUE(ca.start(mono_now()).ok());
  ASSERT_TRUE(sa.start(mono_now()).ok());
  ASSERT_TRUE(run_until([&] { return rc.connected && rs.connected; }));
  auto sid = ca.open_channel(DataChannelParams{.label = "over-dtls", .protocol = "p"}, mono_now());
  ASSERT_TRUE(sid.ok());
  ASSERT_TRUE(run_until([&] { return rs.opened.size() == 1; }));
  EXPECT_EQ(rs.opened[0].label, "over-dtls");
  for (size_t n : {size_t(0), size_t(1), size_t(1500), size_t(65536), size_t(262144)}) {
    Bytes b = pattern(n, static_cast<uint32_t>(n));
    ASSERT_TRUE(ca.send(*sid, MessageKind::kBinary, b.data(), b.size(), mono_now()).ok()) << n;
    ASSERT_TRUE(run_until([&] { return !rs.messages.empty(); }))
        << n << " mtu " << mtu << " dtls errors " << dtls_errors << " "
        << d.client->failure_reason();
    EXPECT_TRUE(rs.messages.back().data == b) << n;
    rs.messages.clear();
  }
  ASSERT_TRUE(
      sa.send(*sid, MessageKind::kText, reinterpret_cast<const uint8_t*>("pong"), 4, mono_now())
          .ok());
  ASSERT_TRUE(run_until([&] { return rc.messages.size() == 1; }));
  EXPECT_EQ(rc.messages[0].ppid, kPpidString);
  EXPECT_EQ(dtls_errors, 0u) << "an SCTP packet did not fit one DTLS record";
  EXPECT_GT(d.client->stats().app_bytes_out, 262144u);
}

}  // namespace
}  // namespace tern::sctp::test
