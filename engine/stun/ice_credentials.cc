#include "engine/stun/ice_credentials.h"

#include <openssl/rand.h>

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tern {
namespace ice {
namespace {

constexpr char kIceChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static_assert(sizeof(kIceChars) - 1 == 64, "6 bits per character");

// The password is a secret: errors name its length and the bad position,
// never its value.
absl::Status check_field(absl::string_view field, absl::string_view value, size_t min_chars,
                         bool secret) {
  const std::string shown = secret ? std::string("(hidden)") : absl::StrCat("\"", value, "\"");
  if (value.size() < min_chars || value.size() > kMaxCredentialChars) {
    return absl::InvalidArgumentError(absl::StrFormat("ice %s %s: %d characters, need %d..%d",
                                                      field, shown, value.size(), min_chars,
                                                      kMaxCredentialChars));
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!is_ice_char(value[i])) {
      return absl::InvalidArgumentError(
          absl::StrFormat("ice %s %s: character %d (0x%02x) is not an ice-char "
                          "(ALPHA / DIGIT / \"+\" / \"/\")",
                          field, shown, i, uint8_t(value[i])));
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool is_ice_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

absl::StatusOr<IceCredentials> IceCredentials::generate(size_t ufrag_chars, size_t pwd_chars) {
  if (ufrag_chars < kMinUfragChars || ufrag_chars > kMaxCredentialChars) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ice ufrag length %d: need %d..%d", ufrag_chars, kMinUfragChars, kMaxCredentialChars));
  }
  if (pwd_chars < kMinPwdChars || pwd_chars > kMaxCredentialChars) {
    return absl::InvalidArgumentError(absl::StrFormat("ice pwd length %d: need %d..%d", pwd_chars,
                                                      kMinPwdChars, kMaxCredentialChars));
  }
  std::vector<uint8_t> rnd(ufrag_chars + pwd_chars);
  if (RAND_bytes(rnd.data(), int(rnd.size())) != 1) {
    return absl::InternalError("ice credentials: RAND_bytes failed (CSPRNG not seeded?)");
  }
  IceCredentials c;
  c.ufrag.resize(ufrag_chars);
  c.pwd.resize(pwd_chars);
  for (size_t i = 0; i < ufrag_chars; ++i) c.ufrag[i] = kIceChars[rnd[i] & 63];
  for (size_t i = 0; i < pwd_chars; ++i) c.pwd[i] = kIceChars[rnd[ufrag_chars + i] & 63];
  return c;
}

absl::Status IceCredentials::validate() const {
  absl::Status s = check_field("ufrag", ufrag, kMinUfragChars, false);
  if (!s.ok()) return s;
  return check_field("pwd", pwd, kMinPwdChars, true);
}

std::string sdp_ice_ufrag(const IceCredentials& c) { return absl::StrCat("a=ice-ufrag:", c.ufrag); }
std::string sdp_ice_pwd(const IceCredentials& c) { return absl::StrCat("a=ice-pwd:", c.pwd); }

}  // namespace ice
}  // namespace tern
