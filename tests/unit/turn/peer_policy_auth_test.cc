// Peer address policy (CIDR parsing, defaults, allow/deny), stateless
// nonces, REST credential minting.
#include "engine/turn/peer_policy.h"
#include "engine/turn/turn_auth.h"
#include "gtest/gtest.h"

namespace tern {
namespace {

Endpoint ep(const char* s) { return *Endpoint::parse(s); }

TEST(Cidr, ParsesAndClearsHostBits) {
  auto c = Cidr::parse("10.1.2.3/8");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->to_string(), "10.0.0.0/8");
  EXPECT_TRUE(c->contains(ep("10.255.0.1")));
  EXPECT_FALSE(c->contains(ep("11.0.0.1")));
  auto h = Cidr::parse("2001:db8::1");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->bits, 128);
  EXPECT_TRUE(Cidr::parse("fd00::/7")->contains(ep("fc12::1")));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/33").ok());
  EXPECT_FALSE(Cidr::parse("10.0.0.0/x").ok());
  EXPECT_FALSE(Cidr::parse("host/8").ok());
  EXPECT_FALSE(Cidr::parse("1.2.3.4:5/8").ok());
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0")->contains(ep("8.8.8.8")));
}

TEST(PeerPolicy, DefaultsDenyInternalRanges) {
  PeerPolicy p({}, {});
  for (const char* bad : {"0.0.0.1",
                          "10.0.0.1",
                          "100.64.0.1",
                          "100.127.255.255",
                          "127.0.0.1",
                          "169.254.169.254",
                          "172.16.0.1",
                          "172.31.255.255",
                          "192.168.0.1",
                          "224.0.0.251",
                          "239.1.1.1",
                          "255.255.255.255",
                          "::",
                          "::1",
                          "fe80::1",
                          "fc00::1",
                          "fd00:ec2::254",
                          "ff02::1",
                          "::ffff:1.2.3.4",
                          "::1.2.3.4"}) {
    EXPECT_FALSE(p.allowed(ep(bad))) << bad;
  }
  for (const char* good : {"8.8.8.8", "100.63.255.255", "100.128.0.1", "172.32.0.1", "198.18.0.1",
                           "2001:4860::8888", "2600::1"}) {
    EXPECT_TRUE(p.allowed(ep(good))) << good;
  }
  EXPECT_FALSE(p.allowed(Endpoint()));
}

TEST(PeerPolicy, AllowOverridesDefaultsDenyOverridesAllow) {
  PeerPolicy p({*Cidr::parse("127.0.0.0/8"), *Cidr::parse("10.0.0.0/8")},
               {*Cidr::parse("10.9.0.0/16"), *Cidr::parse("8.8.8.8")});
  EXPECT_TRUE(p.allowed(ep("127.0.0.1")));
  EXPECT_TRUE(p.allowed(ep("10.1.0.1")));
  EXPECT_FALSE(p.allowed(ep("10.9.0.1")));
  EXPECT_FALSE(p.allowed(ep("8.8.8.8")));
  EXPECT_FALSE(p.allowed(ep("192.168.1.1")));
}

TEST(Nonce, ValidForItsClientAndLifetime) {
  std::vector<uint8_t> secret(32, 7);
  auto n = NonceMaker::create(secret, 600 * kSecond);
  ASSERT_TRUE(n.ok());
  char buf[NonceMaker::kSize];
  const Endpoint c = ep("203.0.113.1:5000");
  n->make(c, 1000 * kSecond, buf);
  const absl::string_view nonce(buf, sizeof(buf));
  EXPECT_TRUE(n->valid(nonce, c, 1000 * kSecond));
  EXPECT_TRUE(n->valid(nonce, ep("203.0.113.1:6000"), 1599 * kSecond));  // IP, not port
  EXPECT_FALSE(n->valid(nonce, c, 1601 * kSecond));
  EXPECT_FALSE(n->valid(nonce, c, 999 * kSecond));  // from the future
  EXPECT_FALSE(n->valid(nonce, ep("203.0.113.2:5000"), 1000 * kSecond));
  std::string tampered(nonce);
  tampered[3] = tampered[3] == '0' ? '1' : '0';
  EXPECT_FALSE(n->valid(tampered, c, 1000 * kSecond));
  EXPECT_FALSE(n->valid("short", c, 1000 * kSecond));
  // Another process secret: not valid.
  auto other = NonceMaker::create(std::vector<uint8_t>(32, 8), 600 * kSecond);
  EXPECT_FALSE(other->valid(nonce, c, 1000 * kSecond));
  EXPECT_FALSE(NonceMaker::create(std::vector<uint8_t>(8, 1), kSecond).ok());
}

TEST(RestCredentials, MintAndParse) {
  auto c = mint_rest_credential("s3cret", "alice", 3600, 1700000000);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->username, "1700003600:alice");
  EXPECT_EQ(c->expires_unix, 1700003600);
  EXPECT_EQ(c->password, rest_password("s3cret", "1700003600:alice"));
  EXPECT_EQ(c->password.size(), 28u);  // base64 of 20 bytes
  EXPECT_NE(c->password, rest_password("other", "1700003600:alice"));
  int64_t exp = 0;
  EXPECT_TRUE(rest_username_expiry("1700003600:alice", &exp));
  EXPECT_EQ(exp, 1700003600);
  EXPECT_FALSE(rest_username_expiry("alice", &exp));
  EXPECT_FALSE(rest_username_expiry(":alice", &exp));
  EXPECT_FALSE(rest_username_expiry("12345", &exp));
  EXPECT_FALSE(mint_rest_credential("", "alice", 60, 0).ok());
  EXPECT_FALSE(mint_rest_credential("s", "a:b", 60, 0).ok());
  EXPECT_FALSE(mint_rest_credential("s", "", 60, 0).ok());
  EXPECT_FALSE(mint_rest_credential("s", "a", 0, 0).ok());
}

// Known answer: HMAC-SHA1("secret", "1700000000:user") computed independently
// (python3 -c 'import hmac,hashlib,base64; ...').
TEST(RestCredentials, KnownAnswer) {
  EXPECT_EQ(rest_password("secret", "1700000000:user"), "I/MZeIG6MwzOV8Uubr9liB2556o=");
}

}  // namespace
}  // namespace tern
