#include "engine/net/classify.h"

namespace tern {

const char* packet_class_name(PacketClass c) {
  switch (c) {
    case PacketClass::kUnknown:
      return "unknown";
    case PacketClass::kStun:
      return "stun";
    case PacketClass::kZrtp:
      return "zrtp";
    case PacketClass::kDtls:
      return "dtls";
    case PacketClass::kChannelData:
      return "channel_data";
    case PacketClass::kRtp:
      return "rtp";
    case PacketClass::kRtcp:
      return "rtcp";
  }
  return "unknown";
}

}  // namespace tern
