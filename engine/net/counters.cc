#include "engine/net/counters.h"

namespace tern {

const char* drop_name(Drop d) {
  switch (d) {
    case Drop::kRuntFrame:
      return "runt_frame";
    case Drop::kBadChecksum:
      return "bad_checksum";
    case Drop::kNotForUs:
      return "not_for_us";
    case Drop::kUnsupportedL3:
      return "unsupported_l3";
    case Drop::kUnsupportedL4:
      return "unsupported_l4";
    case Drop::kIpFragment:
      return "ip_fragment";
    case Drop::kIpOptions:
      return "ip_header_malformed";
    case Drop::kTtlExpired:
      return "ttl_expired";
    case Drop::kArpUnresolved:
      return "neighbor_unresolved";
    case Drop::kMalformedStun:
      return "stun_malformed";
    case Drop::kStunUnknownMethod:
      return "stun_unknown_method";
    case Drop::kStunFingerprint:
      return "stun_bad_fingerprint";
    case Drop::kUnclassified:
      return "unclassified";
    case Drop::kNoHandler:
      return "no_handler";
    case Drop::kNoBuffer:
      return "no_buffer";
    case Drop::kTxFull:
      return "tx_full";
    case Drop::kTurnNoAllocation:
      return "turn_no_allocation";
    case Drop::kTurnNoPermission:
      return "turn_no_permission";
    case Drop::kTurnNoChannel:
      return "turn_no_channel";
    case Drop::kTurnQuota:
      return "turn_quota";
    case Drop::kTurnMalformed:
      return "turn_malformed";
    case Drop::kSrtpAuthFail:
      return "srtp_auth_fail";
    case Drop::kSrtpReplay:
      return "srtp_replay";
    case Drop::kRtpMalformed:
      return "rtp_malformed";
    case Drop::kRtcpMalformed:
      return "rtcp_malformed";
    case Drop::kSfuUnknownSsrc:
      return "sfu_unknown_ssrc";
    case Drop::kSfuUnknownPt:
      return "sfu_unknown_pt";
    case Drop::kSfuTooLarge:
      return "sfu_too_large";
    case Drop::kSfuNotConnected:
      return "sfu_not_connected";
    case Drop::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tern
