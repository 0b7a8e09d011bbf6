// webrtc_echo_client: a minimal WebRTC peer built from tern's own cores
// (StunWriter checks, DtlsEndpoint client, SrtpSessions) over a real UDP
// socket, for tests/integration/webrtc_echo.sh. Talks to a transport made
// with `ternctl transport.create echo=true`.
//
//   webrtc_echo_client --server 127.0.0.1:PORT --ufrag U --pwd P
//                      --fingerprint "sha-256 AB:..." [--count N] [--mode M]
//                      [--fp-out FILE --go FILE]
// --fp-out: writes our certificate's fingerprint there (for transport.connect)
// and, after ICE, waits (at most 10 s) for --go FILE to exist before DTLS.
// Modes:
//   echo (default)  ICE + DTLS + N SRTP packets that must all come back
//                   decrypted byte-exact; exit 0 and "OK ..." on success.
//   wrong-pwd       the check is signed with a wrong password: expects a
//                   401 and no answer to a ClientHello; exit 0 if so.
//   handshake-fail  ICE OK, then the DTLS handshake must NOT complete
//                   (the transport expects another certificate); exit 0 if so.
// Everything is bounded in time (a few seconds).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtls/dtls_endpoint.h"
#include "engine/net/endpoint.h"
#include "engine/srtp/srtp_session.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"

namespace tern {
namespace {

Nanos mono() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int die(const std::string& m) {
  std::fprintf(stderr, "webrtc_echo_client: %s\n", m.c_str());
  return 1;
}

struct Udp {
  int fd = -1;
  sockaddr_in to{};
  bool open(const Endpoint& server) {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return false;
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) return false;
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, server.addr, 4);
    to.sin_port = htons(server.port);
    return true;
  }
  void send(const uint8_t* d, size_t n) {
    (void)sendto(fd, d, n, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
  // -1 on timeout.
  ssize_t recv(uint8_t* b, size_t cap, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    return ::recv(fd, b, cap, 0);
  }
};

std::vector<uint8_t> check(const std::string& user, const std::string& pwd, uint32_t serial) {
  std::vector<uint8_t> buf(512);
  uint8_t txid[12] = {9, 8, 7, 6, 5, 4, 3, 2};
  std::memcpy(txid + 8, &serial, 4);
  stun::StunWriter w(buf.data(), buf.size());
  w.begin(stun::kMethodBinding, stun::StunClass::kRequest, txid);
  w.add_username(user);
  w.add_u32(stun::attr::kPriority, 0x6e7f00ff);
  w.add(stun::attr::kUseCandidate, 0);
  w.add_u64(stun::attr::kIceControlling, 0x0102030405060708ull);
  w.add_message_integrity(*MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, pwd));
  w.add_fingerprint();
  buf.resize(w.size());
  return buf;
}

int run(int argc, char** argv) {
  std::string server, ufrag, pwd, fp_text, mode = "echo", fp_out, go;
  int count = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--server")
      server = v;
    else if (k == "--ufrag")
      ufrag = v;
    else if (k == "--pwd")
      pwd = v;
    else if (k == "--fingerprint")
      fp_text = v;
    else if (k == "--count")
      count = std::atoi(v.c_str());
    else if (k == "--mode")
      mode = v;
    else if (k == "--fp-out")
      fp_out = v;
    else if (k == "--go")
      go = v;
    else
      return die("unknown option " + k);
  }
  auto ep = Endpoint::parse(server);
  if (!ep.ok() || !ep->is_v4()) return die("--server: need an IPv4 ADDR:PORT");
  auto fp = parse_fingerprint(fp_text);
  if (!fp.ok()) return die("--fingerprint: " + std::string(fp.status().message()));
  if (!srtp_library_init().ok()) return die("srtp init");
  Udp udp;
  if (!udp.open(*ep)) return die("socket");
  uint8_t buf[4096];
  auto cert = DtlsCertificate::generate();
  if (!cert.ok()) return die("certificate");
  if (!fp_out.empty()) {
    std::string tmp = fp_out + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) return die("--fp-out: cannot write " + fp_out);
    std::fprintf(f, "%s\n", (*cert)->sdp_fingerprint().c_str());
    std::fclose(f);
    std::rename(tmp.c_str(), fp_out.c_str());
  }

  // ICE: one nominating check, retried.
  std::string user = ufrag + ":cli1";
  std::string sign = mode == "wrong-pwd" ? std::string("WrongPassword0123456789x") : pwd;
  int code = -1;
  for (uint32_t attempt = 1; attempt <= 10 && code < 0; ++attempt) {
    auto c = check(user, sign, attempt);
    udp.send(c.data(), c.size());
    ssize_t n = udp.recv(buf, sizeof(buf), 300);
    if (n <= 0) continue;
    stun::StunMessage m;
    if (m.parse(buf, size_t(n)) != stun::ParseError::kOk) continue;
    if (m.cls() == stun::StunClass::kSuccess) code = 0;
    if (m.cls() == stun::StunClass::kError) {
      absl::string_view reason;
      m.error_code(&code, &reason);
    }
  }
  std::printf("ice: %s\n", code == 0 ? "connected" : code < 0 ? "no answer" : "error");
  if (mode == "wrong-pwd" && code == 0) return die("check with a wrong password succeeded");
  if (mode != "wrong-pwd" && code != 0)
    return die("ICE check failed, code " + std::to_string(code));

  if (!go.empty()) {
    for (int i = 0; i < 200 && access(go.c_str(), F_OK) != 0; ++i) usleep(50000);
    if (access(go.c_str(), F_OK) != 0) return die("--go file never appeared");
  }
  auto ctx = DtlsContext::create(*cert);
  DtlsEndpointConfig dc;
  dc.role = DtlsRole::kClient;
  dc.has_remote_fingerprint = true;
  dc.remote_fingerprint = *fp;
  dc.initial_retransmit = 100 * kMillisecond;
  auto dtls = *DtlsEndpoint::create(*ctx, dc);
  dtls->start(mono());
  Nanos give_up = mono() + 5 * kSecond;
  bool got_dtls_answer = false;
  while (mono() < give_up && dtls->state() == DtlsState::kConnecting) {
    for (size_t n; (n = dtls->poll_output(buf, sizeof(buf))) > 0;) udp.send(buf, n);
    ssize_t n = udp.recv(buf, sizeof(buf), 50);
    if (n > 0 && buf[0] >= 20 && buf[0] <= 63) {
      got_dtls_answer = true;
      dtls->feed(buf, size_t(n), mono());
    }
    if (mono() >= dtls->next_timeout()) dtls->on_timeout(mono());
  }
  for (size_t n; (n = dtls->poll_output(buf, sizeof(buf))) > 0;) udp.send(buf, n);
  std::printf("dtls: %s%s%s\n", dtls_state_name(dtls->state()),
              dtls->failure_reason().empty() ? "" : " - ", dtls->failure_reason().c_str());
  if (mode == "wrong-pwd") {
    if (got_dtls_answer) return die("DTLS answered on a 5-tuple ICE never validated");
    std::printf("OK no connection with a wrong ICE password\n");
    return 0;
  }
  if (mode == "handshake-fail") {
    if (dtls->state() == DtlsState::kConnected) return die("handshake completed unexpectedly");
    std::printf("OK handshake refused\n");
    return 0;
  }
  if (dtls->state() != DtlsState::kConnected) return die("DTLS handshake did not complete");
  auto out = *SrtpSession::outbound(dtls->srtp_keys());
  auto in = *SrtpSession::inbound(dtls->srtp_keys());

  int ok = 0, mismatched = 0;
  std::vector<uint8_t> plain, wire(1500);
  for (int i = 0; i < count; ++i) {
    size_t payload = 20 + (i * 37) % 1000;
    plain.assign(12 + payload, 0);
    plain[0] = 0x80, plain[1] = 111;
    plain[2] = uint8_t(i >> 8), plain[3] = uint8_t(i);
    plain[8] = 0x11, plain[9] = 0x22, plain[10] = 0x33, plain[11] = 0x44;
    for (size_t j = 0; j < payload; ++j) plain[12 + j] = uint8_t(j * 13 + i);
    std::memcpy(wire.data(), plain.data(), plain.size());
    size_t len = plain.size();
    if (out.protect_rtp(wire.data(), &len, wire.size()) != SrtpStatus::kOk) return die("protect");
    udp.send(wire.data(), len);
    // Lock-step: wait for this packet back (bounded), so no socket buffer overruns.
    Nanos until = mono() + 500 * kMillisecond;
    while (mono() < until) {
      ssize_t n = udp.recv(buf, sizeof(buf), 100);
      if (n <= 0 || buf[0] < 128 || buf[0] > 191) continue;
      size_t blen = size_t(n);
      if (in.unprotect_rtp(buf, &blen) != SrtpStatus::kOk) continue;
      if (blen == plain.size() && std::memcmp(buf, plain.data(), blen) == 0) {
        ++ok;
      } else {
        ++mismatched;
      }
      break;
    }
  }
  std::printf("srtp: sent %d echoed %d mismatched %d\n", count, ok, mismatched);
  dtls->close(mono());
  for (size_t n; (n = dtls->poll_output(buf, sizeof(buf))) > 0;) udp.send(buf, n);
  if (ok != count) return die("not every packet came back byte-exact");
  std::printf("OK %d SRTP packets echoed byte-exact\n", ok);
  return 0;
}

}  // namespace
}  // namespace tern

int main(int argc, char** argv) { return tern::run(argc, argv); }
