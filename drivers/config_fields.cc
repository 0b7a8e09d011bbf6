#include "drivers/config_fields.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tern {

namespace {
// toml++ speaks std::string_view; Debian's Abseil has its own string_view.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }
}  // namespace

const char* toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

std::string toml_show(const toml::node& n) {
  if (const auto* str = n.as_string()) return absl::StrCat("\"", str->get(), "\"");
  std::ostringstream os;
  n.visit([&](const auto& v) { os << v; });
  std::string s = os.str();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string toml_where(absl::string_view source, const toml::node& n) {
  if (source.empty()) return "";
  const auto& pos = n.source().begin;
  if (pos.line == 0) return absl::StrCat(source, ": ");
  return absl::StrFormat("%s:%d: ", source, pos.line);
}

std::string ConfigSection::key_name(absl::string_view key) const {
  return name_.empty() ? std::string(key) : absl::StrCat(name_, ".", key);
}

absl::Status ConfigSection::error(const toml::node& n, absl::string_view key,
                                  absl::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat(toml_where(source_, n), key_name(key), ": ", what));
}

absl::Status ConfigSection::only_keys(std::initializer_list<absl::string_view> known) const {
  for (auto&& [k, v] : table_) {
    bool ok = false;
    for (absl::string_view kk : known) ok = ok || av(k.str()) == kk;
    if (!ok) {
      return error(v, av(k.str()),
                   absl::StrCat("unknown key (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status ConfigSection::read_int(absl::string_view key, int64_t lo, int64_t hi,
                                     int64_t* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  if (!n->is_integer()) {
    return error(*n, key,
                 absl::StrCat("must be an integer, got ", toml_type_name(*n), " ", toml_show(*n)));
  }
  int64_t v = n->as_integer()->get();
  if (v < lo || v > hi) return error(*n, key, absl::StrFormat("must be %d..%d, got %d", lo, hi, v));
  *out = v;
  return absl::OkStatus();
}

absl::Status ConfigSection::read_bool(absl::string_view key, bool* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  if (!n->is_boolean()) {
    return error(
        *n, key,
        absl::StrCat("must be true or false, got ", toml_type_name(*n), " ", toml_show(*n)));
  }
  *out = n->as_boolean()->get();
  return absl::OkStatus();
}

absl::Status ConfigSection::read_string(absl::string_view key, std::string* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  if (!n->is_string()) {
    return error(*n, key,
                 absl::StrCat("must be a string, got ", toml_type_name(*n), " ", toml_show(*n)));
  }
  *out = n->as_string()->get();
  return absl::OkStatus();
}

absl::Status ConfigSection::read_string_list(absl::string_view key, bool allow_empty,
                                             std::vector<std::string>* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    return error(
        *n, key,
        absl::StrCat("must be an array of strings, got ", toml_type_name(*n), " ", toml_show(*n)));
  }
  if (a->empty() && !allow_empty) return error(*n, key, "must not be empty");
  std::vector<std::string> items;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& item = *a->get(i);
    if (!item.is_string()) {
      return error(
          item, absl::StrCat(key, "[", i, "]"),
          absl::StrCat("must be a string, got ", toml_type_name(item), " ", toml_show(item)));
    }
    items.push_back(item.as_string()->get());
  }
  *out = std::move(items);
  return absl::OkStatus();
}

absl::Status ConfigSection::read_int_list(absl::string_view key, int64_t lo, int64_t hi,
                                          std::vector<int64_t>* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    return error(
        *n, key,
        absl::StrCat("must be an array of integers, got ", toml_type_name(*n), " ", toml_show(*n)));
  }
  std::vector<int64_t> items;
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& item = *a->get(i);
    std::string k = absl::StrCat(key, "[", i, "]");
    if (!item.is_integer()) {
      return error(
          item, k,
          absl::StrCat("must be an integer, got ", toml_type_name(item), " ", toml_show(item)));
    }
    int64_t v = item.as_integer()->get();
    if (v < lo || v > hi)
      return error(item, k, absl::StrFormat("must be %d..%d, got %d", lo, hi, v));
    items.push_back(v);
  }
  *out = std::move(items);
  return absl::OkStatus();
}

absl::Status ConfigSection::parse_address(const toml::node& n, absl::string_view key, Family want,
                                          Endpoint* out) const {
  if (!n.is_string()) {
    return error(
        n, key,
        absl::StrCat("must be an IP address string, got ", toml_type_name(n), " ", toml_show(n)));
  }
  const std::string& text = n.as_string()->get();
  absl::StatusOr<Endpoint> e = Endpoint::parse(text);
  const char* fam = want == Family::kIpv4   ? "IPv4"
                    : want == Family::kIpv6 ? "IPv6"
                                            : "IPv4 or IPv6";
  if (!e.ok() || e->port != 0 || (want != Family::kNone && e->family != want)) {
    return error(n, key, absl::StrCat("not an ", fam, " address: '", text, "'"));
  }
  *out = *e;
  return absl::OkStatus();
}

absl::Status ConfigSection::read_address(absl::string_view key, Family want, Endpoint* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  return parse_address(*n, key, want, out);
}

absl::Status ConfigSection::read_address_list(absl::string_view key,
                                              std::vector<Endpoint>* out) const {
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    return error(*n, key,
                 absl::StrCat("must be an array of address strings, got ", toml_type_name(*n), " ",
                              toml_show(*n)));
  }
  if (a->empty()) return error(*n, key, "must not be empty (need at least one address)");
  std::vector<Endpoint> items;
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string k = absl::StrCat(key, "[", i, "]");
    Endpoint e;
    if (absl::Status s = parse_address(*a->get(i), k, Family::kNone, &e); !s.ok()) return s;
    for (size_t j = 0; j < items.size(); ++j) {
      if (items[j].same_addr(e)) {
        return error(*a->get(i), k,
                     absl::StrCat("duplicate address '", e.addr_string(), "' (also at [", j, "])"));
      }
    }
    items.push_back(e);
  }
  *out = std::move(items);
  return absl::OkStatus();
}

absl::Status ConfigSection::read_prefix(absl::string_view key, Family want, IpPrefix* out,
                                        bool* present) const {
  *present = false;
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  if (!n->is_string()) {
    return error(*n, key,
                 absl::StrCat("must be a string \"address/len\", got ", toml_type_name(*n), " ",
                              toml_show(*n)));
  }
  absl::StatusOr<IpPrefix> p = IpPrefix::parse(n->as_string()->get(), want);
  if (!p.ok()) return error(*n, key, absl::StrCat(p.status().message(), ", got ", toml_show(*n)));
  *out = *p;
  *present = true;
  return absl::OkStatus();
}

absl::Status ConfigSection::read_prefix_list(absl::string_view key,
                                             std::vector<IpPrefix>* out) const {
  std::vector<std::string> texts;
  if (absl::Status s = read_string_list(key, /*allow_empty=*/true, &texts); !s.ok()) return s;
  const toml::node* n = table_.get(sv(key));
  if (n == nullptr) return absl::OkStatus();
  std::vector<IpPrefix> items;
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<IpPrefix> p = IpPrefix::parse(texts[i], Family::kNone, /*allow_bare=*/true);
    if (!p.ok()) {
      const toml::node& item = *n->as_array()->get(i);
      return error(item, absl::StrCat(key, "[", i, "]"),
                   absl::StrCat(p.status().message(), ", got ", toml_show(item)));
    }
    items.push_back(*p);
  }
  *out = std::move(items);
  return absl::OkStatus();
}

}  // namespace tern
