#include "control/config.h"

#include <getopt.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "drivers/config_fields.h"
#include "engine/net/endpoint.h"

namespace tern {

namespace {

constexpr int64_t kMaxCpu = 1023;                 // CPU_SETSIZE - 1
constexpr int64_t kMaxMicros = 1000 * 1000;       // idle knobs: at most 1 s
constexpr int64_t kMaxStatsInterval = 24 * 3600;  // one day

// toml++ speaks std::string_view; Debian's Abseil has its own string_view.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

absl::Status parse_engine(absl::string_view src, const toml::table& t, TerndConfig* c) {
  ConfigSection sec(t, "engine", std::string(src));
  std::vector<int64_t> cores;
  for (absl::Status s :
       {sec.only_keys(
            {"workers", "cores", "idle_spin_us", "idle_max_sleep_us", "stats_interval_s"}),
        sec.read_int("workers", 1, kMaxWorkers, &c->workers),
        sec.read_int_list("cores", 0, kMaxCpu, &cores),
        sec.read_int("idle_spin_us", 0, kMaxMicros, &c->idle_spin_us),
        sec.read_int("idle_max_sleep_us", 0, kMaxMicros, &c->idle_max_sleep_us),
        sec.read_int("stats_interval_s", 0, kMaxStatsInterval, &c->stats_interval_s)}) {
    if (!s.ok()) return s;
  }
  if (t.contains("cores")) c->cores.assign(cores.begin(), cores.end());
  return absl::OkStatus();
}

absl::Status parse_udp(absl::string_view src, const toml::table& t, TerndConfig* c) {
  ConfigSection sec(t, "udp", std::string(src));
  if (auto s = sec.only_keys({"base_port"}); !s.ok()) return s;
  return sec.read_int("base_port", 1, 65535, &c->base_port);
}

absl::Status check_driver_kind(absl::string_view kind, absl::string_view name) {
  if (kind == "socket" || kind == "dpdk") return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, ": must be \"socket\" or \"dpdk\", got \"", kind, "\""));
}

absl::Status parse_driver(absl::string_view src, const toml::table& t, TerndConfig* c) {
  ConfigSection sec(t, "driver", std::string(src));
  if (auto s = sec.only_keys({"kind"}); !s.ok()) return s;
  const toml::node* n = t.get("kind");
  if (n == nullptr) return absl::OkStatus();
  if (!n->is_string()) {
    return sec.error(*n, "kind",
                     absl::StrCat("must be \"socket\" or \"dpdk\", got ", toml_type_name(*n), " ",
                                  toml_show(*n)));
  }
  c->driver = n->as_string()->get();
  if (auto s = check_driver_kind(c->driver, "driver.kind"); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(toml_where(src, *n), s.message()));
  }
  return absl::OkStatus();
}

// [control]: the JSON-RPC control socket (docs/control-protocol.md).
absl::Status parse_control(absl::string_view src, const toml::table& t, TerndConfig* c) {
  ConfigSection sec(t, "control", std::string(src));
  std::string socket_path = c->control_socket.value_or("");
  for (absl::Status s :
       {sec.only_keys({"socket", "tcp", "token"}), sec.read_string("socket", &socket_path),
        sec.read_string("tcp", &c->control_tcp), sec.read_string("token", &c->control_token)}) {
    if (!s.ok()) return s;
  }
  if (t.contains("socket")) c->control_socket = socket_path;
  if (!c->control_tcp.empty()) {
    auto ep = Endpoint::parse(c->control_tcp);
    if (!ep.ok() || ep->port == 0) {
      return sec.error(*t.get("tcp"), "tcp",
                       absl::StrCat("expected ADDR:PORT like \"127.0.0.1:7000\" or "
                                    "\"[::1]:7000\", got \"",
                                    c->control_tcp, "\""));
    }
    if (c->control_token.empty()) {
      return sec.error(*t.get("tcp"), "tcp",
                       "needs control.token (clients authenticate with it; see "
                       "docs/control-protocol.md)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TerndConfig> parse_config(absl::string_view toml_text, absl::string_view source) {
  TerndConfig c;
  c.source = std::string(source);
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(sv(toml_text), sv(source));
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: %s", source, e.source().begin.line,
                                                      e.source().begin.column, e.description()));
  }
#else
  toml::parse_result r = toml::parse(sv(toml_text), sv(source));
  if (!r) {
    const auto& e = r.error();
    return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: %s", source, e.source().begin.line,
                                                      e.source().begin.column, e.description()));
  }
  root = std::move(r).table();
#endif
  for (auto&& [k, v] : root) {
    absl::string_view key = av(k.str());
    const toml::table* t = v.as_table();
    bool known = key == "engine" || key == "udp" || key == "driver" || key == "socket" ||
                 key == "dpdk" || key == "control" || key == "turn" || key == "dtls" ||
                 key == "http";
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          toml_where(source, v), key, ": ",
          t ? "unknown section (known: [engine], [udp], [driver], [socket], [dpdk], [turn], "
              "[control], [dtls], [http])"
            : "unknown top-level key (keys belong in a section, e.g. [engine])"));
    }
    if (t == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          toml_where(source, v), key, ": must be a table ([", key, "]), got ", toml_type_name(v)));
    }
    absl::Status s;
    if (key == "engine") s = parse_engine(source, *t, &c);
    if (key == "udp") s = parse_udp(source, *t, &c);
    if (key == "driver") s = parse_driver(source, *t, &c);
    if (key == "control") s = parse_control(source, *t, &c);
    if (key == "socket") c.socket = *t;
    if (key == "dpdk") c.dpdk = *t;
    if (key == "turn") c.turn = *t;
    if (key == "dtls") c.dtls = *t;  // validated by control/transport_methods.h
    if (key == "http") c.http = *t;  // validated by control/http_gateway.h
    if (!s.ok()) return s;
  }
  return c;
}

absl::StatusOr<TerndConfig> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("--config: cannot open ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

absl::Status validate_config(const TerndConfig& c) {
  if (!c.cores.empty() && c.cores.size() != c.workers) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "engine.cores (--cores): lists %d CPU(s) for %d worker(s) (engine.workers, --workers); "
        "give exactly one CPU per worker, or none to leave workers unpinned",
        c.cores.size(), c.workers));
  }
  std::set<int> seen;
  for (int cpu : c.cores) {
    if (!seen.insert(cpu).second) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "engine.cores (--cores): CPU %d is listed twice; each worker needs its own CPU", cpu));
    }
  }
  if (int{c.base_port} + c.workers - 1 > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("udp.base_port (--base-port): %d + %d workers runs past port 65535",
                        c.base_port, c.workers));
  }
  return check_driver_kind(c.driver, "driver.kind (--driver)");
}

absl::StatusOr<std::vector<int>> parse_cpu_list(absl::string_view text, absl::string_view what) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    part = absl::StripAsciiWhitespace(part);
    std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(part, '-');
    int lo, hi;
    bool ok = absl::SimpleAtoi(range.first, &lo);
    if (range.second.empty() && part.find('-') == absl::string_view::npos) {
      hi = lo;
    } else {
      ok = ok && absl::SimpleAtoi(range.second, &hi);
    }
    ok = ok && std::count(part.begin(), part.end(), '-') <= 1;
    if (!ok || lo < 0 || hi < lo || hi > kMaxCpu) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: expected CPU ids 0..%d or ranges like 2-5, separated by commas, got \"%s\"", what,
          kMaxCpu, part));
    }
    for (int cpu = lo; cpu <= hi; ++cpu) out.push_back(cpu);
  }
  return out;
}

std::string usage_text() {
  return R"(Usage: ternd [FLAGS]

tern media engine: poll-mode workers serving STUN (more services to come) on
UDP port base_port + i for worker i.

Flags override the configuration file (see docs/configuration.md for every key
and its default):
  --config FILE         read this TOML file first (default: built-in defaults)
  --workers N           worker threads, 1..64 ([engine] workers)
  --cores LIST          CPU per worker, e.g. 2,3 or 2-5 ([engine] cores);
                        "" leaves workers unpinned
  --driver KIND         socket (kernel UDP) or dpdk ([driver] kind)
  --base-port P         worker i serves UDP port P + i ([udp] base_port)
  --address ADDR        serve on this IP address; repeat for several; replaces
                        [socket] addresses
  --eal "ARGS"          DPDK EAL arguments, split on spaces; replaces
                        [dpdk] eal_args
  --stats-interval S    print per-worker counters every S seconds, 0 = at exit
                        only ([engine] stats_interval_s)
  --control-socket PATH JSON-RPC control socket ([control] socket; default
                        /run/tern/ternd.sock as root, else under
                        $XDG_RUNTIME_DIR or /tmp); "" = none
  --help                print this help and exit
  --version             print the version and exit

Stop with SIGINT (Ctrl-C) or SIGTERM: ternd prints its final counters and
exits 0. Startup errors print one line on stderr and exit 2.
)";
}

absl::StatusOr<CommandLine> parse_command_line(int argc, char* const* argv) {
  enum : int {
    kConfig = 1000,
    kWorkers,
    kCores,
    kDriver,
    kBasePort,
    kAddress,
    kEal,
    kStatsInterval,
    kControlSocket,
    kHelp,
    kVersion
  };
  static const option kOptions[] = {
      {"config", required_argument, nullptr, kConfig},
      {"workers", required_argument, nullptr, kWorkers},
      {"cores", required_argument, nullptr, kCores},
      {"driver", required_argument, nullptr, kDriver},
      {"base-port", required_argument, nullptr, kBasePort},
      {"address", required_argument, nullptr, kAddress},
      {"eal", required_argument, nullptr, kEal},
      {"stats-interval", required_argument, nullptr, kStatsInterval},
      {"control-socket", required_argument, nullptr, kControlSocket},
      {"help", no_argument, nullptr, kHelp},
      {"version", no_argument, nullptr, kVersion},
      {nullptr, 0, nullptr, 0},
  };
  // First pass: collect flags (getopt_long keeps global state; reset it so
  // this function can run more than once, e.g. in tests).
  std::vector<std::pair<int, std::string>> flags;
  std::string config_path;
  CommandLine cl;
  optind = 0;
  opterr = 0;
  for (;;) {
    int longindex = -1;
    int c = getopt_long(argc, argv, ":", kOptions, &longindex);
    if (c == -1) break;
    if (c == '?') {
      std::string bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag ", bad, " (ternd --help lists the flags)"));
    }
    if (c == ':') {
      std::string bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
      return absl::InvalidArgumentError(absl::StrCat(bad, ": needs a value"));
    }
    if (c == kHelp) cl.action = CommandLine::Action::kHelp;
    if (c == kVersion && cl.action != CommandLine::Action::kHelp) {
      cl.action = CommandLine::Action::kVersion;
    }
    if (c == kConfig) config_path = optarg;
    if (c != kHelp && c != kVersion && c != kConfig) flags.emplace_back(c, optarg);
  }
  if (optind < argc) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", argv[optind],
                                                   "\" (flags start with --; see ternd --help)"));
  }
  if (cl.action != CommandLine::Action::kRun) return cl;

  if (!config_path.empty()) {
    auto loaded = load_config_file(config_path);
    if (!loaded.ok()) return loaded.status();
    cl.config = *std::move(loaded);
  }
  TerndConfig& cfg = cl.config;
  toml::array addresses;
  bool have_addresses = false;
  for (const auto& [flag, value] : flags) {
    auto number = [&](absl::string_view name, int64_t lo, int64_t hi) -> absl::StatusOr<int64_t> {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v) || v < lo || v > hi) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: must be %d..%d, got \"%s\"", name, lo, hi, value));
      }
      return v;
    };
    switch (flag) {
      case kWorkers: {
        auto v = number("--workers", 1, kMaxWorkers);
        if (!v.ok()) return v.status();
        cfg.workers = static_cast<uint16_t>(*v);
        break;
      }
      case kCores: {
        auto v = parse_cpu_list(value, "--cores");
        if (!v.ok()) return v.status();
        cfg.cores = *std::move(v);
        break;
      }
      case kDriver:
        if (auto s = check_driver_kind(value, "--driver"); !s.ok()) return s;
        cfg.driver = value;
        break;
      case kBasePort: {
        auto v = number("--base-port", 1, 65535);
        if (!v.ok()) return v.status();
        cfg.base_port = static_cast<uint16_t>(*v);
        break;
      }
      case kAddress: {
        auto ep = Endpoint::parse(value);
        if (!ep.ok() || ep->port != 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              "--address: expected an IPv4 or IPv6 address without port, got \"", value, "\""));
        }
        addresses.push_back(value);
        have_addresses = true;
        break;
      }
      case kEal: {
        toml::array args;
        for (absl::string_view a : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
          args.push_back(std::string(a));
        }
        cfg.dpdk.insert_or_assign("eal_args", std::move(args));
        break;
      }
      case kStatsInterval: {
        auto v = number("--stats-interval", 0, kMaxStatsInterval);
        if (!v.ok()) return v.status();
        cfg.stats_interval_s = static_cast<uint32_t>(*v);
        break;
      }
      case kControlSocket:
        cfg.control_socket = value;
        break;
    }
  }
  if (have_addresses) cfg.socket.insert_or_assign("addresses", std::move(addresses));
  if (auto s = validate_config(cfg); !s.ok()) return s;
  return cl;
}

}  // namespace tern
