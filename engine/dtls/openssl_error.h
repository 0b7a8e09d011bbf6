// Internal to engine/dtls: OpenSSL's thread-local error queue as text.
#pragma once

#include <string>

namespace tern::dtls_internal {

// Drains the calling thread's OpenSSL error queue and returns its entries as
// "reason (lib:func); reason ..." or `fallback` if the queue was empty.
std::string take_openssl_errors(const char* fallback = "unknown OpenSSL error");

}  // namespace tern::dtls_internal
