#include "engine/turn/turn_auth.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tern {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr int64_t kMaxRestLifetime = 30 * 24 * 3600;

absl::StatusOr<MessageIntegrity> hmac_sha1(absl::string_view key) {
  return MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, key);
}

std::string base64_hmac(const MessageIntegrity& mac, absl::string_view username) {
  uint8_t out[MessageIntegrity::kSha1Size];
  if (!mac.compute(reinterpret_cast<const uint8_t*>(username.data()), username.size(), nullptr, 0,
                   out)) {
    return std::string();
  }
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(out), sizeof(out)));
}

absl::StatusOr<MessageIntegrity> long_term_key(absl::string_view user, absl::string_view realm,
                                               absl::string_view password) {
  const std::array<uint8_t, 16> k = MessageIntegrity::long_term_key_md5(user, realm, password);
  return MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1,
                                  absl::Span<const uint8_t>(k.data(), k.size()));
}

}  // namespace

std::string rest_password(absl::string_view secret, absl::string_view username) {
  auto mac = hmac_sha1(secret);
  return mac.ok() ? base64_hmac(*mac, username) : std::string();
}

bool rest_username_expiry(absl::string_view username, int64_t* expiry_unix) {
  size_t i = 0;
  int64_t v = 0;
  while (i < username.size() && i < 19 && absl::ascii_isdigit(username[i])) {
    v = v * 10 + (username[i] - '0');
    ++i;
  }
  if (i == 0 || i >= username.size() || username[i] != ':') return false;
  *expiry_unix = v;
  return true;
}

absl::StatusOr<RestCredential> mint_rest_credential(absl::string_view secret,
                                                    absl::string_view user, int64_t lifetime_s,
                                                    int64_t unix_now_s) {
  if (secret.empty()) return absl::InvalidArgumentError("turn.rest_secrets: secret is empty");
  if (user.empty() || user.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("user: must be non-empty and contain no ':', got \"", user, "\""));
  }
  if (lifetime_s < 1 || lifetime_s > kMaxRestLifetime) {
    return absl::InvalidArgumentError(
        absl::StrCat("lifetime: must be 1..", kMaxRestLifetime, " seconds, got ", lifetime_s));
  }
  RestCredential c;
  c.expires_unix = unix_now_s + lifetime_s;
  c.username = absl::StrCat(c.expires_unix, ":", user);
  c.password = rest_password(secret, c.username);
  return c;
}

// ---------------------------------------------------------------- nonces

absl::StatusOr<NonceMaker> NonceMaker::create(absl::Span<const uint8_t> secret, Nanos lifetime) {
  if (secret.size() < 16) return absl::InvalidArgumentError("nonce secret: need 16+ bytes");
  auto mac = MessageIntegrity::create(IntegrityAlgorithm::kHmacSha1, secret);
  if (!mac.ok()) return mac.status();
  return NonceMaker(*std::move(mac), lifetime);
}

void NonceMaker::mac_hex(uint32_t ts, const Endpoint& client, char out[16]) const {
  uint8_t in[4 + 1 + 16];
  in[0] = uint8_t(ts >> 24), in[1] = uint8_t(ts >> 16), in[2] = uint8_t(ts >> 8),
  in[3] = uint8_t(ts);
  in[4] = uint8_t(client.family);
  std::memset(in + 5, 0, 16);
  std::memcpy(in + 5, client.addr, client.addr_len());
  uint8_t mac[MessageIntegrity::kSha1Size] = {};
  mac_.compute(in, sizeof(in), nullptr, 0, mac);
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = kHex[mac[i] >> 4];
    out[2 * i + 1] = kHex[mac[i] & 15];
  }
}

void NonceMaker::make(const Endpoint& client, Nanos now, char out[kSize]) const {
  const uint32_t ts = uint32_t(now / kSecond);
  for (int i = 0; i < 8; ++i) out[i] = kHex[(ts >> (28 - 4 * i)) & 15];
  mac_hex(ts, client, out + 8);
}

bool NonceMaker::valid(absl::string_view nonce, const Endpoint& client, Nanos now) const {
  if (nonce.size() != kSize) return false;
  uint32_t ts = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = nonce[i];
    int v = c >= '0' && c <= '9' ? c - '0' : (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
    if (v < 0) return false;
    ts = ts << 4 | uint32_t(v);
  }
  const int64_t now_s = now / kSecond;
  if (int64_t{ts} > now_s || int64_t{ts} + lifetime_ / kSecond < now_s) return false;
  char want[16];
  mac_hex(ts, client, want);
  return mac_equal(reinterpret_cast<const uint8_t*>(want),
                   reinterpret_cast<const uint8_t*>(nonce.data() + 8), 16);
}

// ---------------------------------------------------------------- credentials

absl::StatusOr<std::unique_ptr<CredentialStore>> CredentialStore::create(
    absl::string_view realm, const std::vector<std::pair<std::string, std::string>>& users,
    const std::vector<std::string>& rest_secrets) {
  std::unique_ptr<CredentialStore> s(new CredentialStore());
  s->realm_ = std::string(realm);
  for (const auto& [user, pass] : users) {
    auto k = long_term_key(user, realm, pass);
    if (!k.ok()) return k.status();
    s->static_[user] = std::make_unique<Key>(Key{*std::move(k), 0});
  }
  for (const std::string& secret : rest_secrets) {
    auto m = hmac_sha1(secret);
    if (!m.ok()) return m.status();
    s->secrets_.push_back(*std::move(m));
  }
  s->rest_cache_.reserve(64);
  return s;
}

CredentialStore::Result CredentialStore::check(const stun::StunMessage& msg,
                                               absl::string_view username, int64_t unix_now_s,
                                               const MessageIntegrity** key) {
  if (auto it = static_.find(username); it != static_.end()) {
    if (msg.verify_integrity(it->second->mi) != stun::IntegrityCheck::kOk) {
      return Result::kBadIntegrity;
    }
    *key = &it->second->mi;
    return Result::kOk;
  }
  int64_t expiry = 0;
  if (secrets_.empty() || !rest_username_expiry(username, &expiry)) return Result::kUnknownUser;
  if (expiry < unix_now_s) return Result::kExpired;
  if (auto it = rest_cache_.find(username); it != rest_cache_.end()) {
    if (msg.verify_integrity(it->second->mi) == stun::IntegrityCheck::kOk) {
      *key = &it->second->mi;
      return Result::kOk;
    }
  }
  // Cache miss (or the client now uses another secret): try every secret.
  for (const MessageIntegrity& secret : secrets_) {
    const std::string password = base64_hmac(secret, username);
    auto k = long_term_key(username, realm_, password);
    if (!k.ok() || msg.verify_integrity(*k) != stun::IntegrityCheck::kOk) continue;
    if (rest_cache_.size() >= kMaxCachedRestKeys) rest_cache_.clear();
    auto& slot = rest_cache_[username];
    slot = std::make_unique<Key>(Key{*std::move(k), expiry});
    *key = &slot->mi;
    return Result::kOk;
  }
  return Result::kBadIntegrity;
}

}  // namespace tern
