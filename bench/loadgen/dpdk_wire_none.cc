// Built when libdpdk is not found: --wire dpdk is refused with the reason.
#include "bench/loadgen/wire.h"

namespace tern::loadgen {

bool dpdk_wire_available() { return false; }

absl::StatusOr<std::unique_ptr<Wire>> make_dpdk_wire(const DpdkWireConfig&) {
  return absl::UnimplementedError("--wire dpdk: this tern-loadgen was built without libdpdk");
}

}  // namespace tern::loadgen
