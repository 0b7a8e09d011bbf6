#include "drivers/dpdk/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tern {

std::string dpdk_error(int err) {
  if (err < 0) err = -err;
  return absl::StrCat(rte_strerror(err), " (errno ", err, ")");
}

absl::Status ensure_eal(const std::vector<std::string>& args) {
  static std::mutex mu;
  static bool done = false;
  static absl::Status result;
  // rte_eal_init keeps pointers into argv (and may permute it): keep the
  // strings alive for the life of the process.
  static std::vector<std::string>* storage = new std::vector<std::string>();
  static std::vector<char*>* argv = new std::vector<char*>();

  std::lock_guard<std::mutex> lock(mu);
  if (done) return result;
  done = true;
  storage->push_back("ternd");
  // DPDK 22.11 refuses --in-memory with --no-huge (no hugepages implies
  // legacy memory). What both ask for is "no files, no shared config":
  // --no-shconf gives that without hugepages.
  const bool no_huge = std::find(args.begin(), args.end(), "--no-huge") != args.end();
  for (const auto& a : args) {
    if (no_huge && a == "--in-memory") {
      std::fprintf(stderr, "[dpdk] --in-memory with --no-huge: using --no-shconf instead\n");
      storage->push_back("--no-shconf");
      continue;
    }
    storage->push_back(a);
  }
  for (auto& s : *storage) argv->push_back(s.data());
  argv->push_back(nullptr);
  int rc = rte_eal_init(int(storage->size()), argv->data());
  if (rc < 0 && rte_errno != EALREADY) {
    result = absl::FailedPreconditionError(absl::StrCat("dpdk.eal_args: rte_eal_init failed with [",
                                                        absl::StrJoin(args, " "),
                                                        "]: ", dpdk_error(rte_errno)));
  }
  return result;
}

}  // namespace tern
