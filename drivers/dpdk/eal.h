// EAL initialisation, once per process.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tern {

// Runs rte_eal_init with `args` (the program name is prepended). The EAL can
// be initialised only once per process: later calls return the first call's
// result and ignore their arguments. An EAL already initialised by someone
// else (rte_errno EALREADY) counts as success.
absl::Status ensure_eal(const std::vector<std::string>& args);

// "<text> (<rte_strerror>)" for a negative DPDK return value or rte_errno.
std::string dpdk_error(int err);

}  // namespace tern
