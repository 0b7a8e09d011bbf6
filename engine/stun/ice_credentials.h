// ICE credentials (RFC 8445 §5.3, syntax RFC 8839 §5.4) and the SDP lines a
// lite agent announces (a=ice-lite, a=ice-ufrag, a=ice-pwd).
//
// Control plane only: these allocate. The hot path never sees an
// IceCredentials; the agent turns the password into a prepared
// MessageIntegrity key once per credential (engine/stun/ice_agent.h).
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tern {
namespace ice {

// RFC 8839 §5.4: ice-ufrag 4..256 ice-chars, ice-pwd 22..256 ice-chars.
inline constexpr size_t kMinUfragChars = 4;
inline constexpr size_t kMinPwdChars = 22;
inline constexpr size_t kMaxCredentialChars = 256;
// What generate() produces by default: 8 ufrag chars (48 random bits: unique
// enough per worker, the demux refuses the rare duplicate) and 24 pwd chars
// (144 random bits, above RFC 8445 §5.3's 128).
inline constexpr size_t kDefaultUfragChars = 8;
inline constexpr size_t kDefaultPwdChars = 24;

// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4): exactly 64 characters,
// so one random byte's low 6 bits pick one without bias.
bool is_ice_char(char c);

struct IceCredentials {
  std::string ufrag;
  std::string pwd;

  // Fresh credentials from OpenSSL's CSPRNG (RAND_bytes). Errors name the
  // bad length, or say the CSPRNG failed.
  static absl::StatusOr<IceCredentials> generate(size_t ufrag_chars = kDefaultUfragChars,
                                                 size_t pwd_chars = kDefaultPwdChars);

  // Lengths and character set. Remote credentials from an SDP go through
  // this too before an agent accepts them.
  absl::Status validate() const;

  bool empty() const { return ufrag.empty() && pwd.empty(); }
  bool operator==(const IceCredentials& o) const { return ufrag == o.ufrag && pwd == o.pwd; }
};

// SDP attribute lines, without the trailing CRLF.
inline constexpr absl::string_view kSdpIceLite = "a=ice-lite";  // session level
std::string sdp_ice_ufrag(const IceCredentials& c);             // "a=ice-ufrag:<ufrag>"
std::string sdp_ice_pwd(const IceCredentials& c);               // "a=ice-pwd:<pwd>"

}  // namespace ice
}  // namespace tern
