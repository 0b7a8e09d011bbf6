// Fuzz target for the DCEP codec (RFC 8832): classify, parse OPEN and ACK, and
// for every OPEN that parses re-encode it and check the encoding parses back to
// the same fields and (reliability aside) the same bytes. Invariants trap so
// libFuzzer and replay_main both report them.
#include <cstdint>
#include <cstring>

#include "engine/sctp/dcep.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tern::sctp;
  auto type = dcep_message_type(data, size);
  auto open = parse_dcep_open(data, size);
  auto ack = parse_dcep_ack(data, size);
  check(!(open.ok() && ack.ok()));
  if (open.ok() || ack.ok()) check(type.ok());
  if (ack.ok()) check(size == 1 && *type == DcepMessageType::kAck);
  if (open.ok()) {
    check(*type == DcepMessageType::kOpen);
    check(dcep_channel_type_known(static_cast<uint8_t>(open->channel_type)));
    check(valid_utf8(reinterpret_cast<const uint8_t*>(open->label.data()), open->label.size()));
    check(kDcepOpenHeaderSize + open->label.size() + open->protocol.size() == size);
    auto enc = encode_dcep_open(*open);
    check(enc.ok());
    check(enc->size() == size);
    // Same bytes except the reliability field, which reliable types zero.
    check(std::memcmp(enc->data(), data, 4) == 0);
    check(std::memcmp(enc->data() + 8, data + 8, size - 8) == 0);
    auto back = parse_dcep_open(enc->data(), enc->size());
    check(back.ok() && *back == *open);
  }
  return 0;
}
