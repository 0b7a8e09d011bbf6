// Fuzz target for tern-loadgen's TURN client leg (bench/loadgen/turn_leg):
// whatever a TURN server (or anyone on the path) sends back — parsed as
// STUN and fed as a response, or unwrapped as ChannelData — must not crash
// it, and a ChannelData payload must lie inside the datagram. The input is
// also fed after the leg has been challenged once, so the signed phase is
// reached too, and to a deferred-peer leg (the relay scenario) after a
// well-formed 401 challenge. (A success is only parsed once its
// MESSAGE-INTEGRITY verifies, which a fuzzed input cannot carry; the unit
// tests cover that path.)
#include <cstdint>
#include <cstring>

#include "bench/loadgen/turn_leg.h"
#include "engine/turn/turn_protocol.h"

namespace {

using namespace tern;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void feed(loadgen::TurnLeg& leg, const uint8_t* data, size_t size, const uint8_t* txid) {
  // The fuzzer cannot guess our transaction id: splice it in.
  uint8_t buf[2048];
  const size_t n = size < sizeof(buf) ? size : sizeof(buf);
  std::memcpy(buf, data, n);
  if (n >= 20) std::memcpy(buf + 8, txid, 12);
  stun::StunMessage m;
  if (m.parse(buf, n) != stun::ParseError::kOk) return;
  uint8_t out[512];
  size_t len = 0;
  leg.on_response(m, out, sizeof(out), &len);
  check(len <= sizeof(out));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t len = 0;
  if (const uint8_t* p = loadgen::TurnLeg::payload(data, size, &len))
    check(p >= data && p + len <= data + size);

  loadgen::TurnConfig cfg;
  cfg.server = *Endpoint::parse("127.0.0.1:3478");
  cfg.user = "u", cfg.password = "p";
  loadgen::TurnLeg leg(cfg, *Endpoint::parse("127.0.0.1:40000"), 1);
  uint8_t req[512];
  const size_t n = leg.start(req, sizeof(req), 0);
  check(n >= 20);
  feed(leg, data, size, req + 8);
  leg.tick(req, sizeof(req), kSecond);
  uint8_t out[512];
  check(leg.release(out, sizeof(out)) <= sizeof(out));

  loadgen::TurnLeg deferred(cfg, 2);
  check(deferred.start(req, sizeof(req), 0) >= 20);
  uint8_t chal[128];
  stun::StunWriter w(chal, sizeof(chal));
  w.begin(turn::kMethodAllocate, stun::StunClass::kError, req + 8);
  w.add_error_code(turn::kUnauthorized, "Unauthorized");
  w.add_string(stun::attr::kRealm, "r");
  w.add_string(stun::attr::kNonce, "n");
  stun::StunMessage m;
  check(w.ok() && m.parse(chal, w.size()) == stun::ParseError::kOk);
  size_t len2 = 0;
  deferred.on_response(m, req, sizeof(req), &len2);
  check(len2 >= 20 && !deferred.failed());
  feed(deferred, data, size, req + 8);  // as the answer to the signed Allocate
  check(!deferred.allocated() && !deferred.ready());
  check(deferred.set_peer(*Endpoint::parse("127.0.0.1:40000"), out, sizeof(out), 0) == 0);
  return 0;
}
