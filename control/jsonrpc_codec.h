// JSON-RPC 2.0 framing and messages for the control socket.
//
// Framing: one JSON text per line, terminated by "\n" (a preceding "\r" is
// ignored). A line longer than the limit (default 1 MiB) is an error after
// which the server closes the connection: there is no way to resynchronise
// inside an unbounded line.
//
// Messages are nlohmann::ordered_json values (members keep their order). Parsing never throws: bad
// JSON, nesting deeper than kMaxDepth and invalid UTF-8 are reported as errors. Encoding never
// throws either (invalid UTF-8 in a string is replaced by U+FFFD).
//
// Control-plane code: runs on ternd's main thread, allocates freely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace tern::jsonrpc {

using json = nlohmann::ordered_json;

// JSON-RPC 2.0 error codes (§5.1) and tern's server errors (-32000..-32099).
enum ErrorCode : int {
  kParseError = -32700,
  kInvalidRequest = -32600,
  kMethodNotFound = -32601,
  kInvalidParams = -32602,
  kInternalError = -32603,
  // Server-defined.
  kUnauthorized = -32001,        // TCP client has not called auth (or gave a wrong token)
  kNotFound = -32002,            // the object a parameter names does not exist
  kFailedPrecondition = -32003,  // the call is valid but not in the current state
  kResourceExhausted = -32004,   // a limit was hit (clients, subscriptions, sizes)
  kUnavailable = -32005,         // the server is shutting down or the feature is off
};

inline constexpr size_t kDefaultMaxLineBytes = size_t{1} << 20;  // 1 MiB
inline constexpr int kMaxDepth = 64;      // arrays/objects nested deeper: invalid request
inline constexpr size_t kMaxBatch = 256;  // requests in one batch array

// Accumulates bytes from a stream and yields complete lines.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line = kDefaultMaxLineBytes) : max_line_(max_line) {}

  void append(absl::string_view bytes) { buf_.append(bytes.data(), bytes.size()); }

  enum class Next { kLine, kNeedMore, kTooLong };
  // kLine: *line holds the next line without its "\n" (and "\r").
  // kNeedMore: no complete line buffered. kTooLong: the current line passed
  // max_line bytes without a newline; the splitter stays in this state.
  Next next(std::string* line);

  size_t buffered() const { return buf_.size() - pos_; }
  size_t max_line() const { return max_line_; }

 private:
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;      // start of the unconsumed data in buf_
  size_t scanned_ = 0;  // bytes after pos_ known to contain no '\n'
  bool too_long_ = false;
};

// The deepest nesting of arrays/objects in `text` (a cheap scan that respects
// strings); stops counting past `limit`.
int nesting_depth(absl::string_view text, int limit = kMaxDepth + 1);

// Result of parsing one line.
struct Parsed {
  json value;           // valid if error == 0
  int error = 0;        // 0, kParseError or kInvalidRequest (too deep)
  std::string message;  // why, for the error's data.reason
};
Parsed parse_line(absl::string_view line);

// Builders. `id` is the request's id (string, number or null).
json make_result(const json& id, json result);
json make_error(const json& id, int code, absl::string_view message,
                std::optional<json> data = std::nullopt);
// Error with data {"field": field, "reason": reason} (field may be empty: omitted).
json make_field_error(const json& id, int code, absl::string_view message, absl::string_view field,
                      absl::string_view reason);
// A server->client notification: {"jsonrpc":"2.0","method":"event","params":params}.
json make_event(json params);

// The standard message for a code ("Parse error", "Invalid Request", ...).
const char* error_message(int code);

// One line of output: compact JSON + "\n". Never throws.
std::string encode(const json& msg);

}  // namespace tern::jsonrpc
