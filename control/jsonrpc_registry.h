// JSON-RPC 2.0 method registry and dispatcher.
//
//   MethodRegistry reg;
//   reg.register_method({.name = "stats.get",
//                        .params = {{.name = "worker", .type = ParamType::kInteger,
//                                    .min = 0, .max = 63}},
//                        .summary = "counters per worker and driver queue"},
//                       [&](const json& params, Session& s) -> absl::StatusOr<json> {...});
//   std::optional<std::string> out = reg.handle_line(line, session);
//
// handle_line() implements the whole of JSON-RPC 2.0 for one line: a single
// request, a notification (no response), or a batch array (an array of
// responses, none if every element was a notification). Params are checked
// against the method's ParamSpecs before the handler runs; a handler's
// absl::InvalidArgumentError (or OutOfRange) becomes -32602 with
// data {"field": "params.<name>", "reason": "..."} (see invalid_param()).
//
// Status codes map to errors: InvalidArgument/OutOfRange -> -32602,
// NotFound -> -32002, FailedPrecondition/AlreadyExists -> -32003,
// ResourceExhausted -> -32004, Unavailable -> -32005,
// PermissionDenied/Unauthenticated -> -32001, anything else -> -32603.
//
// Single-threaded: used from ternd's main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/jsonrpc_codec.h"

namespace tern::jsonrpc {

// Per-connection state the methods may read and change.
struct Session {
  uint64_t id = 0;                 // unique per connection, for logs and server.info
  std::string peer;                // "unix" or "tcp 127.0.0.1:5555"
  bool authenticated = true;       // false: only methods with allow_unauthenticated
  bool close_after_reply = false;  // set by a handler: flush the reply, then close
  // Event subscriptions: topic -> subscribed. Empty: no events.
  std::set<std::string> topics;
  uint32_t stats_interval_s = 0;  // period of the "stats" event for this session
  int64_t next_stats_ns = 0;      // when it is next due (server clock)
};

enum class ParamType { kAny, kString, kInteger, kNumber, kBoolean, kObject, kArray, kStringArray };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kAny;
  bool required = false;
  int64_t min = INT64_MIN;  // kInteger: inclusive range
  int64_t max = INT64_MAX;
  size_t max_length = 4096;         // kString / each kStringArray item: bytes; arrays: items
  std::vector<std::string> one_of;  // kString / kStringArray items: allowed values (empty: any)
  std::string doc;                  // one line, for `rpc.describe`-style help
};

using Handler = std::function<absl::StatusOr<json>(const json& params, Session& session)>;

struct MethodSpec {
  std::string name;
  std::vector<ParamSpec> params;  // by-name params; unknown names are rejected
  bool allow_unauthenticated = false;
  std::string summary;
};

// An InvalidArgument status that names `field` (a path under params, e.g.
// "params.worker" or "params.topics[2]"); the registry reports it as -32602
// with data.field and data.reason.
absl::Status invalid_param(absl::string_view field, absl::string_view reason);

class MethodRegistry {
 public:
  // Errors: empty or duplicate name, names starting with "rpc." (reserved by
  // JSON-RPC 2.0 §4), duplicate param names.
  absl::Status register_method(MethodSpec spec, Handler handler);
  bool has_method(absl::string_view name) const;
  std::vector<std::string> method_names() const;

  // Handles one line; returns the response line (with "\n") or nullopt when
  // nothing is to be sent (notifications only). Never throws.
  std::optional<std::string> handle_line(absl::string_view line, Session& session);

  // Handles one parsed message (object or batch array); nullopt: no reply.
  std::optional<json> handle_message(const json& msg, Session& session);

  // Counters, for server.info and tests.
  uint64_t requests() const { return requests_; }
  uint64_t errors() const { return errors_; }

 private:
  struct Method {
    MethodSpec spec;
    Handler handler;
  };
  std::optional<json> handle_one(const json& msg, Session& session);
  json call(const Method& m, const json& id, const json& params, Session& session);

  std::map<std::string, Method, std::less<>> methods_;
  uint64_t requests_ = 0;
  uint64_t errors_ = 0;
};

// Validates params (object or null) against specs: types, ranges, unknown
// names. Error: InvalidArgument from invalid_param() naming the field.
absl::Status check_params(const json& params, const std::vector<ParamSpec>& specs);

// Maps a handler's status to a JSON-RPC error response.
json status_to_error(const json& id, const absl::Status& status);

}  // namespace tern::jsonrpc
