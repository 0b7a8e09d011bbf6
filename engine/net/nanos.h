// Time as protocol cores see it: monotonic nanoseconds, passed in by the caller.
// Cores never read a clock (sans-IO); the worker reads one once per burst.
#pragma once

#include <cstdint>

namespace tern {

using Nanos = int64_t;  // monotonic, arbitrary epoch

inline constexpr Nanos kMicrosecond = 1000;
inline constexpr Nanos kMillisecond = 1000 * kMicrosecond;
inline constexpr Nanos kSecond = 1000 * kMillisecond;
inline constexpr Nanos kNever = INT64_MAX;

}  // namespace tern
