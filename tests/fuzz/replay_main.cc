// Runs a libFuzzer target without libFuzzer, so every build (gcc included)
// exercises the fuzz targets as tests: first every file of the seed corpus,
// then a bounded number of deterministic mutations of those seeds (bit flips,
// truncations, random bytes). A crash or sanitizer report fails the test.
//
// Usage: <target>_replay <corpus-dir> [iterations]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir> [iterations]\n", argv[0]);
    return 2;
  }
  long iterations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 200000;
  std::vector<std::vector<uint8_t>> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 1;
  }
  for (const auto& s : seeds) LLVMFuzzerTestOneInput(s.data(), s.size());

  std::mt19937_64 rng(0x7e57);  // fixed seed: a failure reproduces
  std::vector<uint8_t> buf;
  for (long i = 0; i < iterations; ++i) {
    buf = seeds[rng() % seeds.size()];
    switch (rng() % 4) {
      case 0:  // flip a few bits
        for (int k = 0, n = 1 + rng() % 8; k < n && !buf.empty(); ++k)
          buf[rng() % buf.size()] ^= uint8_t(1u << (rng() % 8));
        break;
      case 1:  // truncate
        if (!buf.empty()) buf.resize(rng() % buf.size());
        break;
      case 2:  // overwrite a run with random bytes
        for (size_t k = 0, n = rng() % 16; k < n && !buf.empty(); ++k)
          buf[rng() % buf.size()] = uint8_t(rng());
        break;
      default:  // append random bytes
        for (size_t k = 0, n = rng() % 64; k < n; ++k) buf.push_back(uint8_t(rng()));
        break;
    }
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
  }
  std::printf("%zu seeds, %ld mutations: ok\n", seeds.size(), iterations);
  return 0;
}
