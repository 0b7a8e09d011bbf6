// Fuzz target: bytes -> LineSplitter (small line limit, bytes fed in uneven
// chunks) -> MethodRegistry::handle_line with a few dummy methods, on a
// session that starts unauthenticated.
//
// Invariants checked:
//  - every response is exactly one line of valid JSON with "jsonrpc":"2.0"
//    (or an array of such objects), and carries "result" xor "error";
//  - error codes are among the defined ones;
//  - the splitter never yields a line longer than its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/jsonrpc_codec.h"
#include "control/jsonrpc_registry.h"

namespace {

using tern::jsonrpc::json;
using tern::jsonrpc::MethodRegistry;
using tern::jsonrpc::ParamType;
using tern::jsonrpc::Session;

constexpr size_t kLineLimit = 4096;

MethodRegistry& registry() {
  static MethodRegistry* reg = [] {
    auto* r = new MethodRegistry;
    (void)r->register_method({.name = "echo", .params = {{.name = "value"}}},
                             [](const json& p, Session&) -> absl::StatusOr<json> {
                               return p.value("value", json(nullptr));
                             });
    (void)r->register_method(
        {.name = "typed",
         .params =
             {{.name = "n", .type = ParamType::kInteger, .required = true, .min = 0, .max = 100},
              {.name = "tags", .type = ParamType::kStringArray, .max_length = 4}}},
        [](const json& p, Session&) -> absl::StatusOr<json> {
          if (p["n"].get<int64_t>() == 13) {
            return tern::jsonrpc::invalid_param("params.n", "unlucky");
          }
          return p;
        });
    (void)r->register_method({.name = "auth",
                              .params = {{.name = "token", .type = ParamType::kString}},
                              .allow_unauthenticated = true},
                             [](const json& p, Session& s) -> absl::StatusOr<json> {
                               s.authenticated = p.value("token", "") == "secret";
                               return s.authenticated;
                             });
    return r;
  }();
  return *reg;
}

bool known_code(int c) { return (c >= -32700 && c <= -32600) || (c >= -32099 && c <= -32000); }

void check_response_object(const json& r) {
  if (!r.is_object() || r.value("jsonrpc", "") != "2.0") std::abort();
  if (r.contains("result") == r.contains("error")) std::abort();
  if (!r.contains("id")) std::abort();
  if (r.contains("error") && !known_code(r["error"].value("code", 0))) std::abort();
}

void check_response(const std::string& line) {
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) std::abort();
  json r = json::parse(line, nullptr, false);
  if (r.is_discarded()) std::abort();
  if (r.is_array()) {
    if (r.empty()) std::abort();
    for (const json& e : r) check_response_object(e);
  } else {
    check_response_object(r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tern::jsonrpc::LineSplitter splitter(kLineLimit);
  Session session;
  session.authenticated = false;
  std::string line;
  // Feed in chunks whose sizes come from the data itself, so splits land
  // everywhere.
  size_t pos = 0;
  while (pos < size) {
    size_t chunk = 1 + data[pos] % 64;
    if (chunk > size - pos) chunk = size - pos;
    splitter.append(absl::string_view(reinterpret_cast<const char*>(data + pos), chunk));
    pos += chunk;
    for (;;) {
      auto n = splitter.next(&line);
      if (n == tern::jsonrpc::LineSplitter::Next::kNeedMore) break;
      if (n == tern::jsonrpc::LineSplitter::Next::kTooLong) return 0;  // server closes here
      if (line.size() > kLineLimit) std::abort();
      std::optional<std::string> out = registry().handle_line(line, session);
      if (out) check_response(*out);
    }
  }
  return 0;
}
