#include "values/yaml_scalars.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <unordered_map>

#include "util/base64.hpp"
#include "util/utf8.hpp"

namespace kjq::values::yaml {

namespace {

using nlohmann::json;

// What go-yaml v2's resolve() decides a scalar is; Helm later makes every number a float64.
struct Scalar {
  enum class Type { Null, Bool, Int, Uint, Float, String };
  Type type = Type::String;
  bool boolean = false;
  std::int64_t integer = 0;
  std::uint64_t unsigned_integer = 0;
  double number = 0;
};

Scalar make_null() { return {Scalar::Type::Null}; }
Scalar make_bool(bool b) {
  Scalar s{Scalar::Type::Bool};
  s.boolean = b;
  return s;
}
Scalar make_int(std::int64_t i) {
  Scalar s{Scalar::Type::Int};
  s.integer = i;
  return s;
}
Scalar make_uint(std::uint64_t u) {
  Scalar s{Scalar::Type::Uint};
  s.unsigned_integer = u;
  return s;
}
Scalar make_float(double d) {
  Scalar s{Scalar::Type::Float};
  s.number = d;
  return s;
}
Scalar make_string() { return {Scalar::Type::String}; }

// The YAML 1.1 words go-yaml v2 recognises, spelled exactly (no other capitalisations).
std::optional<Scalar> lookup_word(std::string_view s) {
  static const std::unordered_map<std::string_view, Scalar> kWords = [] {
    std::unordered_map<std::string_view, Scalar> m;
    for (auto w : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
      m.emplace(w, make_bool(true));
    for (auto w : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
      m.emplace(w, make_bool(false));
    for (auto w : {"~", "null", "Null", "NULL"}) m.emplace(w, make_null());
    const double inf = std::numeric_limits<double>::infinity();
    for (auto w : {".nan", ".NaN", ".NAN"}) m.emplace(w, make_float(std::nan("")));
    for (auto w : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}) m.emplace(w, make_float(inf));
    for (auto w : {"-.inf", "-.Inf", "-.INF"}) m.emplace(w, make_float(-inf));
    return m;
  }();
  auto it = kWords.find(s);
  if (it == kWords.end()) return std::nullopt;
  return it->second;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Go's strconv.ParseUint(s, 0, 64): 0x/0o/0b prefixes, a leading 0 means octal, no sign.
std::optional<std::uint64_t> go_parse_uint_base0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s[0] == '0') {
    const char p = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : '\0';
    if (p == 'b' || p == 'o' || p == 'x') {
      base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  std::uint64_t n = 0;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  for (char c : s) {
    const int d = digit_value(c);
    if (d >= base) return std::nullopt;
    if (n > (kMax - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base)) return std::nullopt;
    n = n * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  return n;
}

// Go's strconv.ParseInt(s, 0, 64).
std::optional<std::int64_t> go_parse_int_base0(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto u = go_parse_uint_base0(s);
  if (!u) return std::nullopt;
  constexpr auto kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!negative) {
    if (*u > kLimit) return std::nullopt;
    return static_cast<std::int64_t>(*u);
  }
  if (*u > kLimit + 1) return std::nullopt;
  return *u == kLimit + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(*u);
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_style_float(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Like Go's strconv.ParseFloat on text already checked by is_yaml_style_float: overflow to
// infinity is a failure (Go reports ErrRange), underflow is not. Always uses the C locale.
std::optional<double> parse_finite_double(const std::string& s) {
  static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  const double d = ::strtod_l(s.c_str(), nullptr, c_locale);
  if (std::isinf(d)) return std::nullopt;
  return d;
}

// go-yaml v2's implicit typing of an untagged plain scalar (resolve() with an empty tag).
Scalar resolve_plain(std::string_view s) {
  if (s.empty()) return make_null();
  const char c = s[0];
  const bool sign_or_digit = c == '+' || c == '-' || (c >= '0' && c <= '9');
  const bool maybe_word = std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos;
  if (!sign_or_digit && !maybe_word && c != '.') return make_string();
  if (auto word = lookup_word(s)) return *word;
  if (maybe_word) return make_string();
  if (c == '.') {
    if (!is_yaml_style_float(s)) return make_string();
    auto d = parse_finite_double(std::string(s));
    return d ? make_float(*d) : make_string();
  }
  std::string plain;
  plain.reserve(s.size());
  for (char ch : s)
    if (ch != '_') plain += ch;
  if (auto i = go_parse_int_base0(plain)) return make_int(*i);
  if (auto u = go_parse_uint_base0(plain)) return make_uint(*u);
  if (is_yaml_style_float(plain)) {
    if (auto d = parse_finite_double(plain)) return make_float(*d);
  }
  return make_string();
}

// strconv.FormatFloat(v, 'g', -1, 32): how sigs.k8s.io/yaml spells a float map key.
std::string format_float_key(double value) {
  const float f = static_cast<float>(value);
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), f, std::chars_format::scientific);
  std::string sci(buf.data(), end);  // shortest digits: [-]d[.ddd]e±XX
  const std::size_t e_at = sci.find('e');
  const int exponent = std::stoi(sci.substr(e_at + 1));
  if (exponent < -4 || exponent >= 6) return sci;  // Go's %e form matches C++'s exactly
  const bool negative = sci[0] == '-';
  std::string digits;
  for (std::size_t i = negative ? 1 : 0; i < e_at; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int point = exponent + 1;  // digits before the decimal point
  std::string out = negative ? "-" : "";
  if (point <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (static_cast<std::size_t>(point) >= digits.size()) {
    out += digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
  }
  return out;
}

std::string quoted_text(std::string_view s) { return json(std::string(s)).dump(); }

// Plain scalars are typed implicitly; quoted and !!str ones are strings; !!int, !!float and
// !!bool must resolve to that type (!!float accepts integers); other tags leave a string.
Scalar type_scalar(const std::string& value, std::string_view tag) {
  if (tag == kPlainTag) return resolve_plain(value);
  if (tag == kTagNull) return make_null();
  Scalar::Type wanted;
  std::string_view short_tag;
  if (tag == kTagInt) {
    wanted = Scalar::Type::Int;
    short_tag = "!!int";
  } else if (tag == kTagFloat) {
    wanted = Scalar::Type::Float;
    short_tag = "!!float";
  } else if (tag == kTagBool) {
    wanted = Scalar::Type::Bool;
    short_tag = "!!bool";
  } else {
    return make_string();
  }
  Scalar s = resolve_plain(value);
  if (wanted == Scalar::Type::Float && s.type == Scalar::Type::Int) return make_float(static_cast<double>(s.integer));
  if (wanted == Scalar::Type::Float && s.type == Scalar::Type::Uint)
    return make_float(static_cast<double>(s.unsigned_integer));
  if (wanted == Scalar::Type::Int && s.type == Scalar::Type::Uint) return s;
  if (s.type != wanted) throw ScalarError("cannot decode " + quoted_text(value) + " as " + std::string(short_tag));
  return s;
}

// The text of a scalar that typed as a string (!!binary content is decoded, as go-yaml does).
std::string typed_string(const std::string& value, std::string_view tag) {
  if (tag != kTagBinary) return value;
  auto decoded = base64_decode(value);  // go-yaml folds line breaks away, as Go's decoder skips them
  if (!decoded) throw ScalarError("!!binary value is not valid base64");
  // Values become JSON text, which cannot carry arbitrary bytes.
  if (!utf8::is_valid(*decoded))
    throw ScalarError("!!binary value decodes to bytes that are not valid UTF-8 (values must be text)");
  return *decoded;
}

}  // namespace

json scalar_json(const std::string& value, std::string_view tag) {
  const Scalar s = type_scalar(value, tag);
  switch (s.type) {
    case Scalar::Type::Null:
      return nullptr;
    case Scalar::Type::Bool:
      return s.boolean;
    case Scalar::Type::Int:
      return static_cast<double>(s.integer);
    case Scalar::Type::Uint:
      return static_cast<double>(s.unsigned_integer);
    case Scalar::Type::Float:
      if (!std::isfinite(s.number))
        throw ScalarError("value " + value +
                          " cannot be represented in JSON (infinity and NaN are refused, as Helm does)");
      return s.number;
    case Scalar::Type::String:
      break;
  }
  return typed_string(value, tag);
}

std::string scalar_key(const std::string& value, std::string_view tag) {
  const Scalar s = type_scalar(value, tag);
  switch (s.type) {
    case Scalar::Type::Null:
      throw ScalarError("a map key cannot be null (" + quoted_text(value) + ")");
    case Scalar::Type::Bool:
      return s.boolean ? "true" : "false";
    case Scalar::Type::Int:
      return std::to_string(s.integer);
    case Scalar::Type::Uint:
      throw ScalarError("map key " + value + " is too large (Helm only supports integer keys up to 2^63-1)");
    case Scalar::Type::Float:
      return format_float_key(s.number);
    case Scalar::Type::String:
      break;
  }
  return typed_string(value, tag);
}

}  // namespace kjq::values::yaml
