// Checks the libsrtp that tern links: the OpenSSL build made by
// scripts/bootstrap (not Debian's NSS build, 4x slower on AES-CM), and that
// every profile tern negotiates round-trips, rejects replays and tampering.
#include <srtp2/srtp.h>

#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::string g_log;
void capture_log(srtp_log_level_t, const char* msg, void*) { g_log += msg; }

// srtp_init may run once per process (a second call fails), so once for all suites.
class LibSrtp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static const srtp_err_status_t init = srtp_init();
    ASSERT_EQ(init, srtp_err_status_ok);
  }
};

TEST_F(LibSrtp, IsVersion25BuiltWithOpenSsl) {
  EXPECT_STREQ(srtp_get_version_string(), "libsrtp2 2.5.0");
  g_log.clear();
  ASSERT_EQ(srtp_install_log_handler(capture_log, nullptr), srtp_err_status_ok);
  srtp_list_debug_modules();
  srtp_install_log_handler(nullptr, nullptr);
  // The crypto kernel names its cipher and auth modules after the backend.
  EXPECT_NE(g_log.find("aes icm ossl"), std::string::npos) << g_log;
  EXPECT_NE(g_log.find("hmac sha-1 openssl"), std::string::npos) << g_log;
}

struct Profile {
  const char* name;
  srtp_profile_t profile;
};

class LibSrtpProfile : public LibSrtp, public ::testing::WithParamInterface<Profile> {};

std::vector<uint8_t> rtp_packet(uint16_t seq, size_t payload) {
  std::vector<uint8_t> p(12 + payload);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = uint8_t(seq >> 8);
  p[3] = uint8_t(seq);
  p[7] = 0x10;  // timestamp
  p[8] = 0xde;  // SSRC
  p[9] = 0xad;
  p[10] = 0xbe;
  p[11] = 0xef;
  for (size_t i = 0; i < payload; ++i) p[12 + i] = uint8_t(i * 7);
  return p;
}

srtp_t make_session(srtp_profile_t profile, srtp_ssrc_type_t dir, std::vector<uint8_t>& key) {
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  EXPECT_EQ(srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profile), srtp_err_status_ok);
  EXPECT_EQ(srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profile),
            srtp_err_status_ok);
  key.resize(srtp_profile_get_master_key_length(profile) +
             srtp_profile_get_master_salt_length(profile));
  for (size_t i = 0; i < key.size(); ++i) key[i] = uint8_t(0x40 + i);
  policy.key = key.data();
  policy.ssrc.type = dir;
  policy.window_size = 1024;
  srtp_t s = nullptr;
  EXPECT_EQ(srtp_create(&s, &policy), srtp_err_status_ok);
  return s;
}

TEST_P(LibSrtpProfile, RoundTripRejectsReplayAndTampering) {
  std::vector<uint8_t> k1, k2;
  srtp_t tx = make_session(GetParam().profile, ssrc_any_outbound, k1);
  srtp_t rx = make_session(GetParam().profile, ssrc_any_inbound, k2);
  ASSERT_NE(tx, nullptr);
  ASSERT_NE(rx, nullptr);

  std::vector<uint8_t> plain = rtp_packet(1000, 1188);
  std::vector<uint8_t> buf = plain;
  buf.resize(plain.size() + SRTP_MAX_TRAILER_LEN);
  int len = int(plain.size());
  ASSERT_EQ(srtp_protect(tx, buf.data(), &len), srtp_err_status_ok);
  EXPECT_GT(len, int(plain.size()));                                  // auth tag appended
  EXPECT_NE(std::memcmp(buf.data() + 12, plain.data() + 12, 64), 0);  // payload encrypted

  std::vector<uint8_t> wire(buf.begin(), buf.begin() + len);
  std::vector<uint8_t> copy = wire;
  int rlen = len;
  ASSERT_EQ(srtp_unprotect(rx, copy.data(), &rlen), srtp_err_status_ok);
  ASSERT_EQ(rlen, int(plain.size()));
  EXPECT_EQ(std::memcmp(copy.data(), plain.data(), plain.size()), 0);

  copy = wire;
  rlen = len;
  EXPECT_EQ(srtp_unprotect(rx, copy.data(), &rlen), srtp_err_status_replay_fail);

  // A fresh packet with one flipped ciphertext bit must fail authentication.
  std::vector<uint8_t> p2 = rtp_packet(1001, 200);
  p2.resize(p2.size() + SRTP_MAX_TRAILER_LEN);
  int len2 = 212;
  ASSERT_EQ(srtp_protect(tx, p2.data(), &len2), srtp_err_status_ok);
  p2[40] ^= 0x01;
  EXPECT_EQ(srtp_unprotect(rx, p2.data(), &len2), srtp_err_status_auth_fail);

  srtp_dealloc(tx);
  srtp_dealloc(rx);
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, LibSrtpProfile,
    ::testing::Values(Profile{"AES_CM_128_HMAC_SHA1_80", srtp_profile_aes128_cm_sha1_80},
                      Profile{"AES_CM_128_HMAC_SHA1_32", srtp_profile_aes128_cm_sha1_32},
                      Profile{"AEAD_AES_128_GCM", srtp_profile_aead_aes_128_gcm},
                      Profile{"AEAD_AES_256_GCM", srtp_profile_aead_aes_256_gcm}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
