// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as STUN FINGERPRINT
// (RFC 8489 §14.7) and zlib use it. Slicing-by-8 over tables built at compile
// time: about 1 byte per cycle, no allocation, no dependency.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tern {

// Continues a running CRC: crc32_update(crc32_update(0, a), b) == crc32(a ++ b).
uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t len);
inline uint32_t crc32(const uint8_t* data, size_t len) { return crc32_update(0, data, len); }

}  // namespace tern
