#include "engine/sctp/dcep.h"

#include "absl/strings/str_cat.h"
#include "engine/net/bytes.h"

namespace tern::sctp {

bool dcep_channel_type_known(uint8_t v) {
  switch (v) {
    case 0x00:
    case 0x80:
    case 0x01:
    case 0x81:
    case 0x02:
    case 0x82:
      return true;
    default:
      return false;
  }
}

const char* dcep_channel_type_name(DcepChannelType t) {
  switch (t) {
    case DcepChannelType::kReliable:
      return "reliable";
    case DcepChannelType::kReliableUnordered:
      return "reliable-unordered";
    case DcepChannelType::kPartialReliableRexmit:
      return "partial-reliable-rexmit";
    case DcepChannelType::kPartialReliableRexmitUnordered:
      return "partial-reliable-rexmit-unordered";
    case DcepChannelType::kPartialReliableTimed:
      return "partial-reliable-timed";
    case DcepChannelType::kPartialReliableTimedUnordered:
      return "partial-reliable-timed-unordered";
  }
  return "unknown";
}

bool valid_utf8(const uint8_t* p, size_t len) {
  size_t i = 0;
  while (i < len) {
    const uint8_t b = p[i];
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;  // continuation byte first, 0xc0/0xc1 (overlong) or > 0xf4
    }
    if (len - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;  // overlong, beyond Unicode, or a surrogate
    }
    i += n + 1;
  }
  return true;
}

absl::StatusOr<DcepMessageType> dcep_message_type(const uint8_t* data, size_t len) {
  if (data == nullptr || len == 0) return absl::InvalidArgumentError("dcep: empty message");
  if (data[0] == static_cast<uint8_t>(DcepMessageType::kOpen)) return DcepMessageType::kOpen;
  if (data[0] == static_cast<uint8_t>(DcepMessageType::kAck)) return DcepMessageType::kAck;
  return absl::InvalidArgumentError(absl::StrCat("dcep: message type ", static_cast<int>(data[0]),
                                                 " is neither OPEN (3) nor ACK (2)"));
}

absl::StatusOr<DcepOpen> parse_dcep_open(const uint8_t* data, size_t len) {
  if (data == nullptr || len < kDcepOpenHeaderSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("dcep open: length ", len, " is shorter than the 12-byte header"));
  }
  if (data[0] != static_cast<uint8_t>(DcepMessageType::kOpen)) {
    return absl::InvalidArgumentError(
        absl::StrCat("dcep open: message type ", static_cast<int>(data[0]), " is not 3"));
  }
  if (!dcep_channel_type_known(data[1])) {
    return absl::InvalidArgumentError(absl::StrCat("dcep open: channel type 0x",
                                                   absl::Hex(data[1], absl::kZeroPad2),
                                                   " is not one of 0x00 0x80 0x01 0x81 0x02 0x82"));
  }
  DcepOpen o;
  o.channel_type = static_cast<DcepChannelType>(data[1]);
  o.priority = load_be16(data + 2);
  o.reliability = dcep_policy(o.channel_type) == 0 ? 0 : load_be32(data + 4);
  const size_t label_len = load_be16(data + 8);
  const size_t protocol_len = load_be16(data + 10);
  if (len != kDcepOpenHeaderSize + label_len + protocol_len) {
    return absl::InvalidArgumentError(absl::StrCat("dcep open: length ", len,
                                                   " does not match 12 + label length ", label_len,
                                                   " + protocol length ", protocol_len));
  }
  const uint8_t* label = data + kDcepOpenHeaderSize;
  const uint8_t* protocol = label + label_len;
  if (!valid_utf8(label, label_len)) {
    return absl::InvalidArgumentError("dcep open: label is not valid UTF-8");
  }
  if (!valid_utf8(protocol, protocol_len)) {
    return absl::InvalidArgumentError("dcep open: protocol is not valid UTF-8");
  }
  o.label.assign(reinterpret_cast<const char*>(label), label_len);
  o.protocol.assign(reinterpret_cast<const char*>(protocol), protocol_len);
  return o;
}

absl::Status parse_dcep_ack(const uint8_t* data, size_t len) {
  if (data == nullptr || len == 0) return absl::InvalidArgumentError("dcep ack: empty message");
  if (data[0] != static_cast<uint8_t>(DcepMessageType::kAck)) {
    return absl::InvalidArgumentError(
        absl::StrCat("dcep ack: message type ", static_cast<int>(data[0]), " is not 2"));
  }
  if (len != 1) {
    return absl::InvalidArgumentError(absl::StrCat("dcep ack: length ", len, " is not 1"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> encode_dcep_open(const DcepOpen& o) {
  if (!dcep_channel_type_known(static_cast<uint8_t>(o.channel_type))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dcep open: channel type 0x", absl::Hex(static_cast<uint8_t>(o.channel_type)), " unknown"));
  }
  if (o.label.size() > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat("dcep open: label of ", o.label.size(), " bytes exceeds 65535"));
  }
  if (o.protocol.size() > 0xffff) {
    return absl::InvalidArgumentError(
        absl::StrCat("dcep open: protocol of ", o.protocol.size(), " bytes exceeds 65535"));
  }
  if (!valid_utf8(reinterpret_cast<const uint8_t*>(o.label.data()), o.label.size())) {
    return absl::InvalidArgumentError("dcep open: label is not valid UTF-8");
  }
  if (!valid_utf8(reinterpret_cast<const uint8_t*>(o.protocol.data()), o.protocol.size())) {
    return absl::InvalidArgumentError("dcep open: protocol is not valid UTF-8");
  }
  std::vector<uint8_t> out(kDcepOpenHeaderSize + o.label.size() + o.protocol.size());
  out[0] = static_cast<uint8_t>(DcepMessageType::kOpen);
  out[1] = static_cast<uint8_t>(o.channel_type);
  store_be16(&out[2], o.priority);
  store_be32(&out[4], dcep_policy(o.channel_type) == 0 ? 0 : o.reliability);
  store_be16(&out[8], static_cast<uint16_t>(o.label.size()));
  store_be16(&out[10], static_cast<uint16_t>(o.protocol.size()));
  if (!o.label.empty()) std::memcpy(&out[kDcepOpenHeaderSize], o.label.data(), o.label.size());
  if (!o.protocol.empty()) {
    std::memcpy(&out[kDcepOpenHeaderSize + o.label.size()], o.protocol.data(), o.protocol.size());
  }
  return out;
}

size_t encode_dcep_ack(uint8_t* out, size_t cap) {
  if (out == nullptr || cap == 0) return 0;
  out[0] = static_cast<uint8_t>(DcepMessageType::kAck);
  return 1;
}

}  // namespace tern::sctp
