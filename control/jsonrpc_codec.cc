#include "control/jsonrpc_codec.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tern::jsonrpc {

LineSplitter::Next LineSplitter::next(std::string* line) {
  if (too_long_) return Next::kTooLong;
  size_t avail = buf_.size() - pos_;
  const char* base = buf_.data() + pos_;
  const void* nl = std::memchr(base + scanned_, '\n', avail - scanned_);
  if (nl == nullptr) {
    scanned_ = avail;
    if (avail > max_line_) {
      too_long_ = true;
      buf_.clear();
      pos_ = scanned_ = 0;
      return Next::kTooLong;
    }
    // Compact once the consumed prefix dominates, so the buffer stays bounded.
    if (pos_ > 0 && pos_ >= avail) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    return Next::kNeedMore;
  }
  size_t len = static_cast<const char*>(nl) - base;
  if (len > max_line_) {
    too_long_ = true;
    buf_.clear();
    pos_ = scanned_ = 0;
    return Next::kTooLong;
  }
  size_t text_len = (len > 0 && base[len - 1] == '\r') ? len - 1 : len;
  line->assign(base, text_len);
  pos_ += len + 1;
  scanned_ = 0;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return Next::kLine;
}

int nesting_depth(absl::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        max_depth = depth;
        if (max_depth >= limit) return max_depth;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

Parsed parse_line(absl::string_view line) {
  Parsed p;
  // Bound the nesting before handing the text to the parser (and later to
  // dump(), which recurses).
  if (nesting_depth(line) > kMaxDepth) {
    p.error = kInvalidRequest;
    p.message = absl::StrCat("JSON nested deeper than ", kMaxDepth, " levels");
    return p;
  }
  p.value = json::parse(line.begin(), line.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (p.value.is_discarded()) {
    p.error = kParseError;
    // Re-run through the SAX interface only to get the position and reason
    // without exceptions.
    struct Sax : nlohmann::json_sax<json> {
      std::string why;
      bool null() override { return true; }
      bool boolean(bool) override { return true; }
      bool number_integer(number_integer_t) override { return true; }
      bool number_unsigned(number_unsigned_t) override { return true; }
      bool number_float(number_float_t, const string_t&) override { return true; }
      bool string(string_t&) override { return true; }
      bool binary(binary_t&) override { return true; }
      bool start_object(std::size_t) override { return true; }
      bool key(string_t&) override { return true; }
      bool end_object() override { return true; }
      bool start_array(std::size_t) override { return true; }
      bool end_array() override { return true; }
      bool parse_error(std::size_t pos, const std::string&,
                       const nlohmann::detail::exception& ex) override {
        why = ex.what();
        (void)pos;
        return false;
      }
    } sax;
    json::sax_parse(line.begin(), line.end(), &sax, nlohmann::detail::input_format_t::json,
                    /*strict=*/true);
    // Drop nlohmann's "[json.exception.parse_error.101] " tag: the code says it.
    absl::string_view why = sax.why;
    if (size_t tag = why.find("] "); !why.empty() && why[0] == '[' && tag != why.npos) {
      why.remove_prefix(tag + 2);
    }
    p.message = why.empty() ? "invalid JSON" : std::string(why);
    p.value = json();
  }
  return p;
}

json make_result(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", id}};
}

json make_error(const json& id, int code, absl::string_view message, std::optional<json> data) {
  json err{{"code", code}, {"message", std::string(message)}};
  if (data) err["data"] = std::move(*data);
  return json{{"jsonrpc", "2.0"}, {"error", std::move(err)}, {"id", id}};
}

json make_field_error(const json& id, int code, absl::string_view message, absl::string_view field,
                      absl::string_view reason) {
  json data = json::object();
  if (!field.empty()) data["field"] = std::string(field);
  data["reason"] = std::string(reason);
  return make_error(id, code, message, std::move(data));
}

json make_event(json params) {
  return json{{"jsonrpc", "2.0"}, {"method", "event"}, {"params", std::move(params)}};
}

const char* error_message(int code) {
  switch (code) {
    case kParseError:
      return "Parse error";
    case kInvalidRequest:
      return "Invalid Request";
    case kMethodNotFound:
      return "Method not found";
    case kInvalidParams:
      return "Invalid params";
    case kInternalError:
      return "Internal error";
    case kUnauthorized:
      return "Unauthorized";
    case kNotFound:
      return "Not found";
    case kFailedPrecondition:
      return "Failed precondition";
    case kResourceExhausted:
      return "Resource exhausted";
    case kUnavailable:
      return "Unavailable";
  }
  return "Server error";
}

std::string encode(const json& msg) {
  std::string out = msg.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

}  // namespace tern::jsonrpc
