// ternd's config (control/config.h). Lives with the worker tests because the
// tests/unit tree has no control/ folder yet.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "control/config.h"

namespace tern {
namespace {

std::string err(const absl::StatusOr<TerndConfig>& r) {
  return r.ok() ? "(ok)" : std::string(r.status().message());
}

TEST(TerndConfig, DefaultsMatchTheDocs) {
  auto c = parse_config("", "empty.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, 1);
  EXPECT_TRUE(c->cores.empty());
  EXPECT_EQ(c->idle_spin_us, 50u);
  EXPECT_EQ(c->idle_max_sleep_us, 1000u);
  EXPECT_EQ(c->stats_interval_s, 0u);
  EXPECT_EQ(c->base_port, 3478);
  EXPECT_EQ(c->driver, "socket");
  EXPECT_TRUE(c->socket.empty());
  EXPECT_TRUE(validate_config(*c).ok());
}

TEST(TerndConfig, GoodFile) {
  auto c = parse_config(R"(
[engine]
workers = 2
cores = [0, 1]
idle_spin_us = 10
idle_max_sleep_us = 500
stats_interval_s = 5

[udp]
base_port = 40000

[driver]
kind = "dpdk"

[socket]
addresses = ["127.0.0.1"]
gro = false

[dpdk]
eal_args = ["--no-pci"]
mbufs = 4095
[[dpdk.ports]]
port = 0
ipv4 = "198.18.0.1/24"
)",
                        "good.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->workers, 2);
  EXPECT_EQ(c->cores, (std::vector<int>{0, 1}));
  EXPECT_EQ(c->idle_spin_us, 10u);
  EXPECT_EQ(c->idle_max_sleep_us, 500u);
  EXPECT_EQ(c->stats_interval_s, 5u);
  EXPECT_EQ(c->base_port, 40000);
  EXPECT_EQ(c->driver, "dpdk");
  // Driver sections are passed through untouched.
  EXPECT_EQ(c->socket["gro"].value<bool>(), false);
  EXPECT_EQ(c->socket["addresses"][0].value<std::string>(), "127.0.0.1");
  EXPECT_EQ(c->dpdk["mbufs"].value<int64_t>(), 4095);
  EXPECT_EQ(c->dpdk["ports"][0]["ipv4"].value<std::string>(), "198.18.0.1/24");
  EXPECT_TRUE(validate_config(*c).ok());
}

struct Bad {
  const char* toml;
  const char* expect;  // substring of the error
};

TEST(TerndConfig, BadValuesNameKeyAndValue) {
  const Bad cases[] = {
      {"[engine]\nworkers = 0", "engine.workers: must be 1..64, got 0"},
      {"[engine]\nworkers = 65", "engine.workers: must be 1..64, got 65"},
      {"[engine]\nworkers = \"two\"", "engine.workers: must be an integer, got string \"two\""},
      {"[engine]\nworkers = 1.5", "engine.workers: must be an integer, got float"},
      {"[engine]\ncores = 3", "engine.cores: must be an array"},
      {"[engine]\ncores = [0, -1]", "engine.cores[1]: must be 0..1023, got -1"},
      {"[engine]\ncores = [\"a\"]", "engine.cores[0]: must be an integer"},
      {"[engine]\nidle_spin_us = -5", "engine.idle_spin_us: must be 0..1000000, got -5"},
      {"[engine]\nidle_max_sleep_us = 2000000", "engine.idle_max_sleep_us: must be 0..1000000"},
      {"[engine]\nstats_interval_s = true", "engine.stats_interval_s: must be an integer"},
      {"[engine]\nworkerz = 2", "engine.workerz: unknown key (known: workers, cores"},
      {"[udp]\nbase_port = 0", "udp.base_port: must be 1..65535, got 0"},
      {"[udp]\nbase_port = 70000", "udp.base_port: must be 1..65535, got 70000"},
      {"[udp]\nport = 1", "udp.port: unknown key (known: base_port)"},
      {"[driver]\nkind = \"xdp\"", "driver.kind: must be \"socket\" or \"dpdk\", got \"xdp\""},
      {"[driver]\nkind = 1", "driver.kind: must be \"socket\" or \"dpdk\", got integer"},
      {"[driver]\nname = \"socket\"", "driver.name: unknown key (known: kind)"},
      {"[enigne]\nworkers = 1", "enigne: unknown section"},
      {"workers = 1", "workers: unknown top-level key"},
      {"engine = 1", "engine: must be a table ([engine]), got integer"},
  };
  for (const Bad& b : cases) {
    auto c = parse_config(b.toml, "bad.toml");
    ASSERT_FALSE(c.ok()) << b.toml;
    EXPECT_NE(err(c).find(b.expect), std::string::npos)
        << "toml: " << b.toml << "\nerror: " << err(c);
    EXPECT_EQ(err(c).rfind("bad.toml:", 0), 0u) << err(c);  // file (and line) first
  }
}

TEST(TerndConfig, ErrorsCarryTheLine) {
  auto c = parse_config("[engine]\nidle_spin_us = 1\n\nworkers = 99\n", "x.toml");
  EXPECT_EQ(err(c), "x.toml:4: engine.workers: must be 1..64, got 99");
}

TEST(TerndConfig, SyntaxErrorHasLineAndColumn) {
  auto c = parse_config("[engine]\nworkers = = 2\n", "syn.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(err(c).rfind("syn.toml:2:", 0), 0u) << err(c);
}

TEST(TerndConfig, CrossFieldChecks) {
  TerndConfig c;
  c.workers = 2;
  c.cores = {1};
  EXPECT_NE(validate_config(c).message().find("lists 1 CPU(s) for 2 worker(s)"), std::string::npos);
  c.cores = {1, 1};
  EXPECT_NE(validate_config(c).message().find("CPU 1 is listed twice"), std::string::npos);
  c.cores = {};
  c.base_port = 65535;
  EXPECT_NE(validate_config(c).message().find("runs past port 65535"), std::string::npos);
}

TEST(TerndConfig, CpuList) {
  EXPECT_EQ(*parse_cpu_list("0,2,4-6", "x"), (std::vector<int>{0, 2, 4, 5, 6}));
  EXPECT_EQ(*parse_cpu_list("", "x"), std::vector<int>{});
  EXPECT_EQ(*parse_cpu_list(" 3 ", "x"), std::vector<int>{3});
  for (const char* bad : {"a", "1-", "5-2", "-1", "1-2-3", "4096"}) {
    auto r = parse_cpu_list(bad, "--cores");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().rfind("--cores: ", 0), 0u);
  }
}

// argv helper: owns the strings.
struct Argv {
  std::vector<std::string> s;
  std::vector<char*> p;
  Argv(std::initializer_list<const char*> args) {
    s.push_back("ternd");
    for (const char* a : args) s.push_back(a);
    for (auto& x : s) p.push_back(x.data());
    p.push_back(nullptr);
  }
  absl::StatusOr<CommandLine> parse() {
    return parse_command_line(static_cast<int>(s.size()), p.data());
  }
};

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/ternd_config_testXXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  FILE* f = fdopen(fd, "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return path;
}

TEST(TerndFlags, NoFlagsGivesDefaults) {
  auto cl = Argv({}).parse();
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->action, CommandLine::Action::kRun);
  EXPECT_EQ(cl->config.workers, 1);
  EXPECT_EQ(cl->config.base_port, 3478);
}

TEST(TerndFlags, FlagsOverrideFile) {
  std::string path = write_temp(R"(
[engine]
workers = 4
stats_interval_s = 10
[udp]
base_port = 5000
[socket]
addresses = ["0.0.0.0"]
gso = false
[dpdk]
eal_args = ["--a"]
rx_desc = 512
)");
  auto cl = Argv({"--config", path.c_str(), "--workers", "2", "--cores", "0-1", "--base-port",
                  "6000", "--address", "127.0.0.1", "--address=::1", "--eal",
                  "--no-pci  --in-memory", "--stats-interval", "3", "--driver", "socket"})
                .parse();
  std::remove(path.c_str());
  ASSERT_TRUE(cl.ok()) << cl.status();
  const TerndConfig& c = cl->config;
  EXPECT_EQ(c.source, path);
  EXPECT_EQ(c.workers, 2);
  EXPECT_EQ(c.cores, (std::vector<int>{0, 1}));
  EXPECT_EQ(c.base_port, 6000);
  EXPECT_EQ(c.stats_interval_s, 3u);
  const toml::array* a = c.socket["addresses"].as_array();
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].value<std::string>(), "127.0.0.1");
  EXPECT_EQ((*a)[1].value<std::string>(), "::1");
  EXPECT_EQ(c.socket["gso"].value<bool>(), false);  // untouched keys stay
  const toml::array* e = c.dpdk["eal_args"].as_array();
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].value<std::string>(), "--no-pci");
  EXPECT_EQ((*e)[1].value<std::string>(), "--in-memory");
  EXPECT_EQ(c.dpdk["rx_desc"].value<int64_t>(), 512);
}

TEST(TerndFlags, BadFlags) {
  const std::pair<std::vector<const char*>, const char*> cases[] = {
      {{"--workers", "0"}, "--workers: must be 1..64, got \"0\""},
      {{"--workers", "x"}, "--workers: must be 1..64, got \"x\""},
      {{"--base-port", "65536"}, "--base-port: must be 1..65535"},
      {{"--driver", "xdp"}, "--driver: must be \"socket\" or \"dpdk\", got \"xdp\""},
      {{"--cores", "a"}, "--cores: expected CPU ids"},
      {{"--address", "localhost"}, "--address: expected an IPv4 or IPv6 address"},
      {{"--stats-interval", "-1"}, "--stats-interval: must be 0..86400"},
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--workers"}, "--workers: needs a value"},
      {{"extra"}, "unexpected argument \"extra\""},
      {{"--config", "/nonexistent/ternd.toml"}, "--config: cannot open /nonexistent/ternd.toml"},
      {{"--workers", "2", "--cores", "1"}, "lists 1 CPU(s) for 2 worker(s)"},
  };
  for (const auto& [args, expect] : cases) {
    Argv argv({});
    argv.s.resize(1);
    for (const char* a : args) argv.s.push_back(a);
    argv.p.clear();
    for (auto& x : argv.s) argv.p.push_back(x.data());
    argv.p.push_back(nullptr);
    auto cl = argv.parse();
    ASSERT_FALSE(cl.ok()) << args[0];
    EXPECT_NE(cl.status().message().find(expect), std::string::npos)
        << args[0] << ": " << cl.status().message();
  }
}

TEST(TerndFlags, BadFileThroughFlags) {
  std::string path = write_temp("[engine]\nworkers = 0\n");
  auto cl = Argv({"--config", path.c_str()}).parse();
  std::remove(path.c_str());
  ASSERT_FALSE(cl.ok());
  EXPECT_EQ(cl.status().message(), path + ":2: engine.workers: must be 1..64, got 0");
}

TEST(TerndFlags, HelpAndVersion) {
  auto h = Argv({"--workers", "3", "--help"}).parse();
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->action, CommandLine::Action::kHelp);
  auto v = Argv({"--version"}).parse();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->action, CommandLine::Action::kVersion);
  std::string u = usage_text();
  for (const char* flag :
       {"--config", "--workers", "--cores", "--driver", "--base-port", "--address", "--eal",
        "--stats-interval", "--help", "--version", "docs/configuration.md"}) {
    EXPECT_NE(u.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace tern
