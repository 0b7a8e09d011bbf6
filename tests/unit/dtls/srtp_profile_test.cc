#include "engine/dtls/srtp_profile.h"

#include <gtest/gtest.h>

#include <cstring>

namespace tern {
namespace {

TEST(SrtpProfile, IanaIdsAndLengths) {
  EXPECT_EQ(static_cast<int>(SrtpProfile::kAes128CmSha1_80), 0x0001);
  EXPECT_EQ(static_cast<int>(SrtpProfile::kAes128CmSha1_32), 0x0002);
  EXPECT_EQ(static_cast<int>(SrtpProfile::kAeadAes128Gcm), 0x0007);
  EXPECT_EQ(static_cast<int>(SrtpProfile::kAeadAes256Gcm), 0x0008);

  const SrtpProfileInfo& cm80 = srtp_profile_info(SrtpProfile::kAes128CmSha1_80);
  EXPECT_STREQ(cm80.name, "SRTP_AES128_CM_SHA1_80");
  EXPECT_EQ(cm80.key_len, 16);
  EXPECT_EQ(cm80.salt_len, 14);
  EXPECT_EQ(cm80.rtp_auth_tag_len, 10);
  EXPECT_EQ(cm80.rtcp_auth_tag_len, 10);
  const SrtpProfileInfo& cm32 = srtp_profile_info(SrtpProfile::kAes128CmSha1_32);
  EXPECT_EQ(cm32.rtp_auth_tag_len, 4);
  EXPECT_EQ(cm32.rtcp_auth_tag_len, 10);  // RFC 5764 §4.1.2: SRTCP keeps 80 bits
  const SrtpProfileInfo& g128 = srtp_profile_info(SrtpProfile::kAeadAes128Gcm);
  EXPECT_STREQ(g128.name, "SRTP_AEAD_AES_128_GCM");
  EXPECT_EQ(g128.key_len, 16);
  EXPECT_EQ(g128.salt_len, 12);
  EXPECT_EQ(g128.rtp_auth_tag_len, 16);
  const SrtpProfileInfo& g256 = srtp_profile_info(SrtpProfile::kAeadAes256Gcm);
  EXPECT_EQ(g256.key_len, 32);
  EXPECT_EQ(g256.salt_len, 12);
  EXPECT_EQ(g256.rtcp_auth_tag_len, 16);

  EXPECT_EQ(srtp_profile_info(static_cast<SrtpProfile>(5)).key_len, 0);
  EXPECT_TRUE(srtp_profile_known(7));
  EXPECT_FALSE(srtp_profile_known(3));
  EXPECT_FALSE(srtp_profile_known(0));
}

TEST(SrtpProfile, NamesRoundTrip) {
  for (SrtpProfile p : {SrtpProfile::kAes128CmSha1_80, SrtpProfile::kAes128CmSha1_32,
                        SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm}) {
    SrtpProfile out{};
    ASSERT_TRUE(srtp_profile_from_name(srtp_profile_info(p).name, &out));
    EXPECT_EQ(out, p);
  }
  SrtpProfile out{};
  EXPECT_FALSE(srtp_profile_from_name("SRTP_NULL_SHA1_80", &out));
  EXPECT_FALSE(srtp_profile_from_name("", &out));
}

TEST(SrtpProfile, KeyingMaterialHoldsTheLargestProfile) {
  SrtpKeyingMaterial m{};
  EXPECT_EQ(sizeof(m.local_key), 32u);
  EXPECT_EQ(sizeof(m.local_salt), 14u);
  EXPECT_EQ(sizeof(m.remote_key), 32u);
  EXPECT_EQ(sizeof(m.remote_salt), 14u);
}

}  // namespace
}  // namespace tern
