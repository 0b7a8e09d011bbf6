#include "engine/net/ethernet.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/net/bytes.h"

namespace tern {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

absl::StatusOr<MacAddr> MacAddr::parse(absl::string_view text) {
  // Exactly "xx:xx:xx:xx:xx:xx" (17 chars), ':' or '-' separators, not mixed.
  if (text.size() != 17) {
    return absl::InvalidArgumentError(
        absl::StrCat("MAC address '", text, "' is not of the form xx:xx:xx:xx:xx:xx"));
  }
  MacAddr m;
  const char sep = text[2];
  if (sep != ':' && sep != '-') {
    return absl::InvalidArgumentError(absl::StrCat("bad separator in MAC address '", text, "'"));
  }
  for (int i = 0; i < 6; ++i) {
    int hi = hex_value(text[i * 3]);
    int lo = hex_value(text[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != sep)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad byte ", i, " in MAC address '", text, "'"));
    }
    m.b[i] = uint8_t(hi << 4 | lo);
  }
  return m;
}

std::string MacAddr::to_string() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

bool parse_ethernet(const uint8_t* frame, uint32_t len, EthernetHeader* out) {
  if (len < kEthernetHeaderLen) return false;
  out->dst = MacAddr::load(frame);
  out->src = MacAddr::load(frame + 6);
  uint32_t off = 12;
  uint16_t type = load_be16(frame + off);
  out->vlan_tags = 0;
  out->vlan_tci = 0;
  while (type == kEtherTypeVlan || type == kEtherTypeQinQ) {
    if (out->vlan_tags == kMaxVlanTags) return false;
    // Tag: TPID (2, already read) + TCI (2); the next type follows.
    if (len < off + kVlanTagLen + 2) return false;
    out->vlan_tci = load_be16(frame + off + 2);
    off += kVlanTagLen;
    type = load_be16(frame + off);
    ++out->vlan_tags;
  }
  out->ethertype = type;
  out->header_len = off + 2;
  return true;
}

}  // namespace tern
