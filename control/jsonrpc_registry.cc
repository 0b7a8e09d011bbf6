#include "control/jsonrpc_registry.h"

#include <exception>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tern::jsonrpc {

namespace {

// Status payload carrying the offending field's path.
constexpr absl::string_view kFieldPayload = "type.tern.dev/jsonrpc.field";

const char* type_word(ParamType t) {
  switch (t) {
    case ParamType::kAny:
      return "any value";
    case ParamType::kString:
      return "a string";
    case ParamType::kInteger:
      return "an integer";
    case ParamType::kNumber:
      return "a number";
    case ParamType::kBoolean:
      return "a boolean";
    case ParamType::kObject:
      return "an object";
    case ParamType::kArray:
      return "an array";
    case ParamType::kStringArray:
      return "an array of strings";
  }
  return "?";
}

const char* json_type_word(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::string:
      return "string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    default:
      return "other";
  }
}

// Short rendering of a value for an error message.
std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

absl::Status check_string(const std::string& field, const json& v, const ParamSpec& spec) {
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > spec.max_length) {
    return invalid_param(field, absl::StrCat("longer than ", spec.max_length, " bytes"));
  }
  if (!spec.one_of.empty()) {
    for (const std::string& ok : spec.one_of) {
      if (s == ok) return absl::OkStatus();
    }
    return invalid_param(field, absl::StrCat("must be one of ", absl::StrJoin(spec.one_of, ", "),
                                             "; got ", show(v)));
  }
  return absl::OkStatus();
}

absl::Status check_one(const std::string& field, const json& v, const ParamSpec& spec) {
  auto wrong_type = [&] {
    return invalid_param(field, absl::StrCat("must be ", type_word(spec.type), ", got ",
                                             json_type_word(v), " ", show(v)));
  };
  switch (spec.type) {
    case ParamType::kAny:
      return absl::OkStatus();
    case ParamType::kString:
      if (!v.is_string()) return wrong_type();
      return check_string(field, v, spec);
    case ParamType::kInteger: {
      int64_t n;
      if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) {
          return invalid_param(
              field, absl::StrCat("must be ", spec.min, "..", spec.max, ", got ", show(v)));
        }
        n = static_cast<int64_t>(u);
      } else if (v.is_number_integer()) {
        n = v.get<int64_t>();
      } else {
        return wrong_type();
      }
      if (n < spec.min || n > spec.max) {
        return invalid_param(field,
                             absl::StrCat("must be ", spec.min, "..", spec.max, ", got ", n));
      }
      return absl::OkStatus();
    }
    case ParamType::kNumber:
      return v.is_number() ? absl::OkStatus() : wrong_type();
    case ParamType::kBoolean:
      return v.is_boolean() ? absl::OkStatus() : wrong_type();
    case ParamType::kObject:
      return v.is_object() ? absl::OkStatus() : wrong_type();
    case ParamType::kArray:
      if (!v.is_array()) return wrong_type();
      if (v.size() > spec.max_length) {
        return invalid_param(field, absl::StrCat("more than ", spec.max_length, " items"));
      }
      return absl::OkStatus();
    case ParamType::kStringArray: {
      if (!v.is_array()) return wrong_type();
      if (v.size() > spec.max_length) {
        return invalid_param(field, absl::StrCat("more than ", spec.max_length, " items"));
      }
      for (size_t i = 0; i < v.size(); ++i) {
        std::string item = absl::StrCat(field, "[", i, "]");
        if (!v[i].is_string()) {
          return invalid_param(
              item, absl::StrCat("must be a string, got ", json_type_word(v[i]), " ", show(v[i])));
        }
        if (auto s = check_string(item, v[i], spec); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

bool valid_id(const json& id) {
  // §4: String, Number or Null. Fractional numbers "SHOULD NOT" be used; we
  // accept them rather than reject a request over style.
  return id.is_string() || id.is_number() || id.is_null();
}

}  // namespace

absl::Status invalid_param(absl::string_view field, absl::string_view reason) {
  absl::Status s = absl::InvalidArgumentError(field.empty() ? std::string(reason)
                                                            : absl::StrCat(field, ": ", reason));
  if (!field.empty()) s.SetPayload(kFieldPayload, absl::Cord(field));
  return s;
}

absl::Status check_params(const json& params, const std::vector<ParamSpec>& specs) {
  if (params.is_null()) {
    for (const ParamSpec& p : specs) {
      if (p.required) return invalid_param(absl::StrCat("params.", p.name), "required");
    }
    return absl::OkStatus();
  }
  if (!params.is_object()) {
    return invalid_param(
        "params", absl::StrCat("must be an object of named parameters, got ",
                               json_type_word(params), " (positional params are not supported)"));
  }
  for (const auto& [key, value] : params.items()) {
    bool known = false;
    for (const ParamSpec& p : specs) known = known || p.name == key;
    if (!known) {
      std::vector<std::string> names;
      for (const ParamSpec& p : specs) names.push_back(p.name);
      return invalid_param(
          absl::StrCat("params.", key),
          names.empty()
              ? "unknown parameter (this method takes none)"
              : absl::StrCat("unknown parameter (known: ", absl::StrJoin(names, ", "), ")"));
    }
  }
  for (const ParamSpec& p : specs) {
    std::string field = absl::StrCat("params.", p.name);
    auto it = params.find(p.name);
    if (it == params.end()) {
      if (p.required) return invalid_param(field, "required");
      continue;
    }
    if (auto s = check_one(field, *it, p); !s.ok()) return s;
  }
  return absl::OkStatus();
}

json status_to_error(const json& id, const absl::Status& status) {
  int code = kInternalError;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      code = kInvalidParams;
      break;
    case absl::StatusCode::kNotFound:
      code = kNotFound;
      break;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
      code = kFailedPrecondition;
      break;
    case absl::StatusCode::kResourceExhausted:
      code = kResourceExhausted;
      break;
    case absl::StatusCode::kUnavailable:
      code = kUnavailable;
      break;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      code = kUnauthorized;
      break;
    default:
      break;
  }
  std::string field;
  if (auto p = status.GetPayload(kFieldPayload)) field = std::string(*p);
  absl::string_view reason = status.message();
  if (!field.empty() && absl::StartsWith(reason, absl::StrCat(field, ": "))) {
    reason.remove_prefix(field.size() + 2);
  }
  if (code == kInvalidParams || !field.empty()) {
    return make_field_error(id, code, error_message(code), field, reason);
  }
  return make_error(id, code, status.message().empty() ? error_message(code) : status.message());
}

absl::Status MethodRegistry::register_method(MethodSpec spec, Handler handler) {
  if (spec.name.empty()) return absl::InvalidArgumentError("method name: empty");
  if (absl::StartsWith(spec.name, "rpc.")) {
    return absl::InvalidArgumentError(
        absl::StrCat("method name ", spec.name, ": names starting with rpc. are reserved"));
  }
  if (methods_.count(spec.name)) {
    return absl::AlreadyExistsError(absl::StrCat("method ", spec.name, ": already registered"));
  }
  std::set<std::string> seen;
  for (const ParamSpec& p : spec.params) {
    if (!seen.insert(p.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("method ", spec.name, ": parameter ", p.name, " declared twice"));
    }
  }
  std::string name = spec.name;
  methods_.emplace(std::move(name), Method{std::move(spec), std::move(handler)});
  return absl::OkStatus();
}

bool MethodRegistry::has_method(absl::string_view name) const {
  return methods_.find(name) != methods_.end();
}

std::vector<std::string> MethodRegistry::method_names() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : methods_) out.push_back(name);
  return out;
}

std::optional<std::string> MethodRegistry::handle_line(absl::string_view line, Session& session) {
  // Blank lines (keep-alives from a terminal) are ignored.
  bool blank = true;
  for (char c : line) blank = blank && (c == ' ' || c == '\t' || c == '\r');
  if (blank) return std::nullopt;
  Parsed p = parse_line(line);
  if (p.error != 0) {
    ++errors_;
    return encode(make_field_error(nullptr, p.error, error_message(p.error), "", p.message));
  }
  std::optional<json> out = handle_message(p.value, session);
  if (!out) return std::nullopt;
  return encode(*out);
}

std::optional<json> MethodRegistry::handle_message(const json& msg, Session& session) {
  if (!msg.is_array()) return handle_one(msg, session);
  if (msg.empty()) {
    ++errors_;
    return make_field_error(nullptr, kInvalidRequest, error_message(kInvalidRequest), "",
                            "empty batch array");
  }
  if (msg.size() > kMaxBatch) {
    ++errors_;
    return make_field_error(
        nullptr, kInvalidRequest, error_message(kInvalidRequest), "",
        absl::StrCat("batch of ", msg.size(), " requests; at most ", kMaxBatch));
  }
  json out = json::array();
  for (const json& m : msg) {
    // A nested array is not a request (§6: batches do not nest).
    std::optional<json> r = m.is_array()
                                ? std::optional<json>(make_field_error(
                                      nullptr, kInvalidRequest, error_message(kInvalidRequest), "",
                                      "a batch element must be a request object, got an array"))
                                : handle_one(m, session);
    if (m.is_array()) ++errors_;
    if (r) out.push_back(std::move(*r));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<json> MethodRegistry::handle_one(const json& msg, Session& session) {
  ++requests_;
  auto invalid = [&](const json& id, absl::string_view field, absl::string_view reason) {
    ++errors_;
    return make_field_error(id, kInvalidRequest, error_message(kInvalidRequest), field, reason);
  };
  if (!msg.is_object()) {
    return invalid(nullptr, "",
                   absl::StrCat("a request must be an object, got ", json_type_word(msg)));
  }
  // The id, if usable, is echoed even in invalid-request errors so a client
  // can match them; an unusable id is answered with null (§5).
  auto id_it = msg.find("id");
  bool notification = id_it == msg.end();
  json id = (!notification && valid_id(*id_it)) ? *id_it : json(nullptr);
  if (!notification && !valid_id(*id_it)) {
    return invalid(nullptr, "id",
                   absl::StrCat("must be a string, number or null, got ", json_type_word(*id_it)));
  }
  auto v = msg.find("jsonrpc");
  if (v == msg.end() || !v->is_string() || v->get_ref<const std::string&>() != "2.0") {
    return invalid(id, "jsonrpc", "must be the string \"2.0\"");
  }
  auto m = msg.find("method");
  if (m == msg.end() || !m->is_string()) {
    return invalid(id, "method", m == msg.end() ? "required" : "must be a string");
  }
  for (const auto& [key, value] : msg.items()) {
    if (key != "jsonrpc" && key != "method" && key != "params" && key != "id") {
      return invalid(id, key, "unknown member (a request has jsonrpc, method, params, id)");
    }
  }
  json params = nullptr;
  if (auto p = msg.find("params"); p != msg.end()) {
    if (!p->is_object() && !p->is_array()) {
      return invalid(id, "params",
                     absl::StrCat("must be an object or array, got ", json_type_word(*p)));
    }
    params = *p;
  }
  const std::string& name = m->get_ref<const std::string&>();
  auto it = methods_.find(name);
  json reply;
  // Unauthenticated sessions learn nothing, not even which methods exist.
  bool open = it != methods_.end() && it->second.spec.allow_unauthenticated;
  if (!session.authenticated && !open) {
    ++errors_;
    reply = make_error(id, kUnauthorized, "Unauthorized: call auth with the bearer token first");
  } else if (it == methods_.end()) {
    ++errors_;
    reply = make_field_error(id, kMethodNotFound, error_message(kMethodNotFound), "method",
                             absl::StrCat("no method named ", show(*m)));
  } else {
    reply = call(it->second, id, params, session);
  }
  if (notification) return std::nullopt;
  return reply;
}

json MethodRegistry::call(const Method& m, const json& id, const json& params, Session& session) {
  if (absl::Status s = check_params(params, m.spec.params); !s.ok()) {
    ++errors_;
    return status_to_error(id, s);
  }
  static const json kEmpty = json::object();
  absl::StatusOr<json> r = absl::InternalError("handler did not run");
  try {
    r = m.handler(params.is_null() ? kEmpty : params, session);
  } catch (const std::exception& e) {
    // A handler bug must not take ternd down; report it to the caller.
    r = absl::InternalError(absl::StrCat(m.spec.name, ": ", e.what()));
  }
  if (!r.ok()) {
    ++errors_;
    return status_to_error(id, r.status());
  }
  return make_result(id, *std::move(r));
}

}  // namespace tern::jsonrpc
