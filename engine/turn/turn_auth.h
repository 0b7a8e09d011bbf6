// TURN long-term credentials (RFC 8489 §9.2, RFC 8656 §5): stateless nonces,
// static users and the TURN REST API scheme (draft-uberti-behave-turn-rest:
// username "<expiry unix seconds>:<user>", password
// base64(HMAC-SHA1(shared secret, username))).
//
// Nonces are stateless: NONCE = 8 hex digits of the issue time (monotonic
// seconds) followed by 16 hex digits of HMAC-SHA1(process secret, time ||
// client IP). A server checks one by recomputing the MAC, so an
// unauthenticated request never creates state, and any worker of the process
// accepts any other worker's nonce. A nonce older than its lifetime, or
// issued to another client address, gets 438 Stale Nonce.
//
// Keys: MESSAGE-INTEGRITY is checked with a prepared HMAC key
// (MessageIntegrity). Static users' keys are prepared at construction; a REST
// username's key is derived on its first authenticated request and cached per
// username (bounded; entries are added only after the MAC verified, so bogus
// usernames leave nothing behind).
//
// Threading: one CredentialStore per TurnServer (per worker); not shared.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/net/endpoint.h"
#include "engine/net/nanos.h"
#include "engine/stun/message_integrity.h"
#include "engine/stun/stun_message.h"

namespace tern {

struct RestCredential {
  std::string username;  // "<expiry>:<user>"
  std::string password;  // base64(HMAC-SHA1(secret, username))
  int64_t expires_unix = 0;
};

// Mints REST credentials valid for `lifetime_s` seconds from `unix_now_s`
// (the control plane's turn.credentials method will call this). Errors: empty
// secret, user containing ':' or empty, lifetime not 1..30 days.
absl::StatusOr<RestCredential> mint_rest_credential(absl::string_view secret,
                                                    absl::string_view user, int64_t lifetime_s,
                                                    int64_t unix_now_s);
// base64(HMAC-SHA1(secret, username)).
std::string rest_password(absl::string_view secret, absl::string_view username);
// Parses the expiry of a REST username ("1700000000:alice" -> 1700000000).
// False if the username does not start with 1..19 digits followed by ':'.
bool rest_username_expiry(absl::string_view username, int64_t* expiry_unix);

class NonceMaker {
 public:
  static constexpr size_t kSize = 24;

  static absl::StatusOr<NonceMaker> create(absl::Span<const uint8_t> secret, Nanos lifetime);

  // Writes kSize ASCII characters.
  void make(const Endpoint& client, Nanos now, char out[kSize]) const;
  // True if `nonce` was made by make() for this client's IP and is younger
  // than the lifetime.
  bool valid(absl::string_view nonce, const Endpoint& client, Nanos now) const;

 private:
  NonceMaker(MessageIntegrity mac, Nanos lifetime) : mac_(std::move(mac)), lifetime_(lifetime) {}
  void mac_hex(uint32_t ts, const Endpoint& client, char out[16]) const;
  MessageIntegrity mac_;
  Nanos lifetime_;
};

class CredentialStore {
 public:
  enum class Result : uint8_t { kOk, kUnknownUser, kExpired, kBadIntegrity };
  static constexpr size_t kMaxCachedRestKeys = 4096;

  static absl::StatusOr<std::unique_ptr<CredentialStore>> create(
      absl::string_view realm, const std::vector<std::pair<std::string, std::string>>& users,
      const std::vector<std::string>& rest_secrets);

  // Checks msg's MESSAGE-INTEGRITY for `username`. On kOk *key is the
  // prepared key (valid until the next check()) for signing the response.
  Result check(const stun::StunMessage& msg, absl::string_view username, int64_t unix_now_s,
               const MessageIntegrity** key);

  size_t cached_rest_keys() const { return rest_cache_.size(); }
  bool has_rest() const { return !secrets_.empty(); }

 private:
  struct Key {
    MessageIntegrity mi;
    int64_t expires_unix = 0;  // REST only
  };
  CredentialStore() = default;
  std::string realm_;
  absl::flat_hash_map<std::string, std::unique_ptr<Key>> static_;
  absl::flat_hash_map<std::string, std::unique_ptr<Key>> rest_cache_;
  std::vector<MessageIntegrity> secrets_;  // prepared HMAC-SHA1(secret, .)
};

}  // namespace tern
