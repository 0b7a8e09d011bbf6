// Shared by the frame tests: the addresses of the captured test bed
// (captured_frames.h) and parse helpers.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "engine/net/frame.h"
#include "tests/unit/net/captured_frames.h"

namespace tern::testutil {

using Bytes = std::vector<uint8_t>;

inline const MacAddr kMac1{{0x02, 0, 0, 0, 0, 0x01}};
inline const MacAddr kMac2{{0x02, 0, 0, 0, 0, 0x02}};
inline constexpr uint8_t kIp6One[16] = {0xfd, 0x54, 0x74, 0x65, 0x72, 0x6e, 0, 0,
                                        0,    0,    0,    0,    0,    0,    0, 1};
inline constexpr uint8_t kIp6Two[16] = {0xfd, 0x54, 0x74, 0x65, 0x72, 0x6e, 0, 0,
                                        0,    0,    0,    0,    0,    0,    0, 2};

inline bool parse(const Bytes& f, FrameInfo* fi, Drop* why) {
  return parse_frame(f.data(), uint32_t(f.size()), fi, why);
}

inline FrameInfo must_parse(const Bytes& f) {
  FrameInfo fi;
  Drop why = Drop::kCount;
  EXPECT_TRUE(parse(f, &fi, &why)) << drop_name(why);
  return fi;
}

}  // namespace tern::testutil
