// Interop with a DTLS stack we did not write: OpenSSL's s_server / s_client on
// 127.0.0.1 UDP. The test relays between a UDP socket and the sans-IO endpoint and
// compares the keying material both sides export (RFC 5764 §4.2 split included).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "engine/dtls/dtls_endpoint.h"
#include "tests/unit/dtls/dtls_test_util.h"

namespace tern {
namespace {

using dtls_test::mono_now;

bool have_openssl_cli() { return std::system("command -v openssl >/dev/null 2>&1") == 0; }

std::string temp_path(const std::string& tag) {
  return std::string(::testing::TempDir()) + "tern_dtls_interop_" + tag + "_" +
         std::to_string(getpid());
}

// A child process with stdin and stdout (+stderr) on pipes.
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string output;

  bool spawn(const std::vector<std::string>& argv) {
    int pin[2], pout[2];
    if (pipe(pin) != 0 || pipe(pout) != 0) return false;
    pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
      dup2(pin[0], 0);
      dup2(pout[1], 1);
      dup2(pout[1], 2);
      close(pin[1]);
      close(pout[0]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    in = pin[1];
    out = pout[0];
    fcntl(out, F_SETFL, O_NONBLOCK);
    return true;
  }
  void read_available() {
    char buf[4096];
    for (int i = 0; i < 100; ++i) {
      ssize_t n = read(out, buf, sizeof(buf));
      if (n <= 0) break;
      output.append(buf, static_cast<size_t>(n));
    }
  }
  void write_line(const std::string& s) { (void)!write(in, s.data(), s.size()); }
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) == pid) break;
        if (i == 50) kill(pid, SIGKILL);
        usleep(10000);
      }
    }
    if (in >= 0) close(in);
    if (out >= 0) close(out);
  }
};

int udp_socket(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t l = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
  return ntohs(a.sin_port);
}

std::string hex_upper(const uint8_t* p, size_t n) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; ++i) std::snprintf(b, sizeof(b), "%02X", p[i]), s += b;
  return s;
}

struct InteropCase {
  DtlsRole our_role;
  SrtpProfile profile;
};

class OpensslInterop : public ::testing::TestWithParam<InteropCase> {};

TEST_P(OpensslInterop, HandshakeKeysAndAppData) {
  if (!have_openssl_cli()) GTEST_SKIP() << "no openssl command line tool";
  const InteropCase tc = GetParam();
  const SrtpProfileInfo& info = srtp_profile_info(tc.profile);
  const size_t export_len = 2 * (info.key_len + info.salt_len);

  auto ours = dtls_test::make_cert();
  auto theirs = dtls_test::make_cert();
  ASSERT_TRUE(ours && theirs);
  const std::string cert = temp_path("cert.pem"), key = temp_path("key.pem");
  std::ofstream(cert) << theirs->certificate_pem();
  std::ofstream(key) << theirs->private_key_pem();

  // Our side of the UDP path.
  int fd = udp_socket(0);
  ASSERT_GE(fd, 0);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Child child;
  std::vector<std::string> common = {"-dtls1_2",
                                     "-cert",
                                     cert,
                                     "-key",
                                     key,
                                     "-use_srtp",
                                     info.name,
                                     "-keymatexport",
                                     "EXTRACTOR-dtls_srtp",
                                     "-keymatexportlen",
                                     std::to_string(export_len)};
  if (tc.our_role == DtlsRole::kClient) {
    // Pick a free port for s_server: bind, read it, release it.
    int probe = udp_socket(0);
    ASSERT_GE(probe, 0);
    uint16_t port = local_port(probe);
    close(probe);
    peer.sin_port = htons(port);
    std::vector<std::string> argv = {
        "openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-verify", "1"};
    argv.insert(argv.end(), common.begin(), common.end());
    ASSERT_TRUE(child.spawn(argv));
    // Wait for "ACCEPT" (bound) before sending the ClientHello.
    const Nanos until = mono_now() + 5 * kSecond;
    while (child.output.find("ACCEPT") == std::string::npos && mono_now() < until) {
      usleep(10000);
      child.read_available();
    }
    ASSERT_NE(child.output.find("ACCEPT"), std::string::npos) << child.output;
  } else {
    std::vector<std::string> argv = {"openssl", "s_client", "-connect",
                                     "127.0.0.1:" + std::to_string(local_port(fd))};
    argv.insert(argv.end(), common.begin(), common.end());
    ASSERT_TRUE(child.spawn(argv));
  }

  auto ctx = dtls_test::make_ctx(ours);
  DtlsEndpointConfig cfg;
  cfg.role = tc.our_role;
  cfg.srtp_profiles = {tc.profile};
  cfg.initial_retransmit = 100 * kMillisecond;
  cfg.has_remote_fingerprint = true;
  cfg.remote_fingerprint = theirs->fingerprint();
  auto ep_or = DtlsEndpoint::create(ctx, cfg);
  ASSERT_TRUE(ep_or.ok()) << ep_or.status();
  DtlsEndpoint& ep = **ep_or;
  std::string received;
  ep.set_app_data_handler(
      [&](const uint8_t* p, size_t n) { received.append(reinterpret_cast<const char*>(p), n); });
  ep.start(mono_now());

  bool peer_known = tc.our_role == DtlsRole::kClient;
  bool sent_ping = false, sent_pong = false;
  const Nanos end = mono_now() + 15 * kSecond;
  auto flush = [&] {
    uint8_t buf[2048];
    for (size_t n; (n = ep.poll_output(buf, sizeof(buf))) != 0;) {
      if (peer_known) {
        sendto(fd, buf, n, 0, reinterpret_cast<sockaddr*>(&peer), sizeof(peer));
      }
    }
  };
  const std::string ping = "ping-from-tern", pong = "pong-from-openssl";
  while (mono_now() < end) {
    flush();
    pollfd pfd[2] = {{fd, POLLIN, 0}, {child.out, POLLIN, 0}};
    Nanos wait = std::min<Nanos>(ep.next_timeout() - mono_now(), 50 * kMillisecond);
    poll(pfd, 2, static_cast<int>(std::max<Nanos>(wait, 0) / kMillisecond));
    uint8_t buf[4096];
    for (int i = 0; i < 64; ++i) {
      sockaddr_in from{};
      socklen_t fl = sizeof(from);
      ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0) break;
      if (!peer_known) peer = from, peer_known = true;
      ep.feed(buf, static_cast<size_t>(n), mono_now());
    }
    ep.on_timeout(mono_now());
    child.read_available();
    if (ep.state() == DtlsState::kFailed) break;
    if (ep.state() == DtlsState::kConnected &&
        child.output.find("Keying material:") != std::string::npos) {
      if (!sent_ping) {
        ASSERT_TRUE(ep.send_application_data(reinterpret_cast<const uint8_t*>(ping.data()),
                                             ping.size(), mono_now())
                        .ok());
        sent_ping = true;
      }
      if (!sent_pong) {
        child.write_line(pong + "\n");
        sent_pong = true;
      }
      if (received.find(pong) != std::string::npos &&
          child.output.find(ping) != std::string::npos) {
        break;
      }
    }
  }
  ASSERT_EQ(ep.state(), DtlsState::kConnected) << ep.failure_reason() << "\nopenssl output:\n"
                                               << child.output;
  ASSERT_TRUE(ep.has_srtp_keys());
  EXPECT_EQ(ep.srtp_keys().profile, tc.profile);
  EXPECT_NE(child.output.find(std::string("SRTP Extension negotiated, profile=") + info.name),
            std::string::npos)
      << child.output;

  // Their exporter output vs ours, and our split of it.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(child.output, m, std::regex("Keying material: ([0-9A-F]+)")))
      << child.output;
  const std::string theirs_hex = m[1];
  uint8_t block[2 * (32 + 14)];
  ASSERT_TRUE(ep.export_keying_material("EXTRACTOR-dtls_srtp", block, export_len).ok());
  EXPECT_EQ(theirs_hex, hex_upper(block, export_len));
  const SrtpKeyingMaterial& k = ep.srtp_keys();
  const size_t kl = info.key_len, sl = info.salt_len;
  const bool client = tc.our_role == DtlsRole::kClient;
  EXPECT_EQ(hex_upper(client ? k.local_key : k.remote_key, kl), theirs_hex.substr(0, 2 * kl));
  EXPECT_EQ(hex_upper(client ? k.remote_key : k.local_key, kl), theirs_hex.substr(2 * kl, 2 * kl));
  EXPECT_EQ(hex_upper(client ? k.local_salt : k.remote_salt, sl),
            theirs_hex.substr(4 * kl, 2 * sl));
  EXPECT_EQ(hex_upper(client ? k.remote_salt : k.local_salt, sl),
            theirs_hex.substr(4 * kl + 2 * sl, 2 * sl));

  // Application data both ways.
  EXPECT_NE(child.output.find(ping), std::string::npos) << child.output;
  EXPECT_NE(received.find(pong), std::string::npos);

  // close_notify: s_server/s_client report the peer closing.
  ep.close(mono_now());
  flush();
  const Nanos close_end = mono_now() + 3 * kSecond;
  while (mono_now() < close_end && child.output.find("DONE") == std::string::npos &&
         child.output.find("closed") == std::string::npos) {
    usleep(20000);
    child.read_available();
  }
  EXPECT_EQ(ep.state(), DtlsState::kClosed);
  close(fd);
  std::remove(cert.c_str());
  std::remove(key.c_str());
}

INSTANTIATE_TEST_SUITE_P(
    Roles, OpensslInterop,
    ::testing::Values(InteropCase{DtlsRole::kClient, SrtpProfile::kAes128CmSha1_80},
                      InteropCase{DtlsRole::kServer, SrtpProfile::kAes128CmSha1_80},
                      InteropCase{DtlsRole::kClient, SrtpProfile::kAeadAes128Gcm},
                      InteropCase{DtlsRole::kServer, SrtpProfile::kAeadAes256Gcm}),
    [](const ::testing::TestParamInfo<InteropCase>& i) {
      return std::string(i.param.our_role == DtlsRole::kClient ? "WeAreClient_" : "WeAreServer_") +
             (i.param.profile == SrtpProfile::kAes128CmSha1_80 ? "Cm80"
              : i.param.profile == SrtpProfile::kAeadAes128Gcm ? "Gcm128"
                                                               : "Gcm256");
    });

}  // namespace
}  // namespace tern
