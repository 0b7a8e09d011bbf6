#include "drivers/socket/socket_config.h"

#include "drivers/config_fields.h"

namespace tern {

absl::StatusOr<SocketConfig> parse_socket_config(const toml::table& section) {
  SocketConfig cfg;
  ConfigSection sec(section, "socket");
  if (absl::Status s = sec.only_keys({"addresses", "gro", "gso", "buffers"}); !s.ok()) return s;
  if (section.contains("addresses")) {
    cfg.addresses_defaulted = false;
    if (absl::Status s = sec.read_address_list("addresses", &cfg.addresses); !s.ok()) return s;
  } else {
    static const uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    cfg.addresses = {Endpoint::v4(0x7f000001, 0), Endpoint::v6(kLoop6, 0)};
  }
  if (absl::Status s = sec.read_bool("gro", &cfg.gro); !s.ok()) return s;
  if (absl::Status s = sec.read_bool("gso", &cfg.gso); !s.ok()) return s;
  if (absl::Status s = sec.read_int("buffers", kSocketMinBuffers, kSocketMaxBuffers, &cfg.buffers);
      !s.ok()) {
    return s;
  }
  return cfg;
}

}  // namespace tern
