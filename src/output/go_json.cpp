#include "output/go_json.hpp"

#include "util/utf8.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace kjq::output {

namespace {

using json = nlohmann::json;

// The shortest round-trip decimal digits of a finite, non-zero |x| and the position of the
// decimal point: x = 0.DIGITS * 10^point (strconv's "decimal" form).
struct ShortestDigits {
  std::string digits;
  int point = 0;
};

ShortestDigits shortest_digits(double x) {
  char buf[64];
  // scientific + shortest gives "d[.ddd]e±XX" with the fewest digits that round-trip, the same
  // digits Go's strconv chooses for precision -1.
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(x), std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  auto e = s.find('e');
  ShortestDigits out;
  for (char c : s.substr(0, e))
    if (c != '.') out.digits += c;
  int exp = 0;
  std::string_view es = s.substr(e + 1);
  if (es.front() == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  out.point = exp + 1;
  return out;
}

// strconv.FormatFloat(x, 'f', -1, 64).
std::string format_f(double x) {
  if (x == 0) return std::signbit(x) ? "-0" : "0";
  auto d = shortest_digits(x);
  std::string out = std::signbit(x) ? "-" : "";
  const int n = static_cast<int>(d.digits.size());
  if (d.point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-d.point), '0');
    out += d.digits;
  } else if (d.point >= n) {
    out += d.digits;
    out.append(static_cast<std::size_t>(d.point - n), '0');
  } else {
    out += d.digits.substr(0, static_cast<std::size_t>(d.point));
    out += '.';
    out += d.digits.substr(static_cast<std::size_t>(d.point));
  }
  return out;
}

// strconv.FormatFloat(x, 'e', -1, 64): at least two exponent digits ("1e-07", "1e+21").
std::string format_e(double x) {
  auto d = shortest_digits(x);
  std::string out = std::signbit(x) ? "-" : "";
  out += d.digits[0];
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  int exp = d.point - 1;
  out += exp < 0 ? "e-" : "e+";
  exp = std::abs(exp);
  if (exp < 10) out += '0';
  out += std::to_string(exp);
  return out;
}

void require_finite(double x) {
  // Go's encoding/json fails with UnsupportedValueError; YAML typing never produces these.
  if (!std::isfinite(x)) throw std::invalid_argument("JSON cannot represent NaN or infinity");
}

// encoding/json floatEncoder for float64.
std::string go_json_float(double x) {
  require_finite(x);
  const double a = std::fabs(x);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string s = format_e(x);
    // Go cleans a negative two-digit exponent with a leading zero: e-07 → e-7.
    const auto n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
    return s;
  }
  return format_f(x);
}

// strconv.FormatFloat(x, 'g', -1, 64), which fmt's %v uses: exponent form when the decimal
// exponent is < -4 or >= 6 (shortest precision decides as if it were 6), so 1e+06, 999999.
std::string go_g_float(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "+Inf" : "-Inf";
  if (x == 0) return std::signbit(x) ? "-0" : "0";
  const int exp = shortest_digits(x).point - 1;
  return (exp < -4 || exp >= 6) ? format_e(x) : format_f(x);
}

// Bytes that need more than a plain copy: controls, '"', '\\', HTML-sensitive '<' '>' '&', and
// the start of every non-ASCII sequence (validated below).
constexpr std::array<bool, 256> kNeedsAttention = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] =
        c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&';
  }
  return table;
}();

// What Go writes for each ASCII byte that needs attention: a short escape (\" \\ \b \f \n \r \t)
// or \u00xx. Eight bytes each, so that one fixed-size copy writes any of them.
struct AsciiEscape {
  std::array<char, 8> text{};
  std::size_t size = 0;
};

constexpr std::array<AsciiEscape, 128> kAsciiEscapes = [] {
  constexpr char kHex[] = "0123456789abcdef";
  std::array<AsciiEscape, 128> table{};
  for (int c = 0; c < 128; ++c) {
    auto& e = table[static_cast<std::size_t>(c)];
    const auto set = [&e](char second) {
      e.text[0] = '\\';
      e.text[1] = second;
      e.size = 2;
    };
    switch (c) {
      case '"':
        set('"');
        break;
      case '\\':
        set('\\');
        break;
      case '\b':
        set('b');
        break;
      case '\f':
        set('f');
        break;
      case '\n':
        set('n');
        break;
      case '\r':
        set('r');
        break;
      case '\t':
        set('t');
        break;
      default:
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          e.text = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF], 0, 0};
          e.size = 6;
        } else {
          e.text[0] = static_cast<char>(c);
          e.size = 1;
        }
    }
  }
  return table;
}();

// A byte >= 0x80 at s[i]: writes what Go writes for the UTF-8 sequence there to dst (room for
// at least 8 bytes) and returns the number of input bytes consumed.
[[gnu::noinline]] std::size_t escape_non_ascii(std::string_view s, std::size_t i, char*& dst) {
  // Decode one UTF-8 sequence the way Go's utf8.DecodeRuneInString does: any error consumes
  // exactly one byte (so each bad byte becomes its own U+FFFD).
  const std::size_t len = utf8::sequence_length(s, i);
  if (len == 0) {
    std::memcpy(dst, "\\ufffd", 6);
    dst += 6;
    return 1;
  }
  // U+2028 / U+2029 (E2 80 A8 / E2 80 A9) break JavaScript string literals: Go escapes them.
  if (static_cast<unsigned char>(s[i]) == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
    std::memcpy(dst, static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029", 6);
    dst += 6;
  } else {
    std::memcpy(dst, s.data() + i, len);
    dst += len;
  }
  return len;
}

// The byte at s[i], which needs attention: its escape (or UTF-8 sequence) to dst.
inline std::size_t escape_one(std::string_view s, std::size_t i, char*& dst) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0x80) return escape_non_ascii(s, i, dst);
  const auto& e = kAsciiEscapes[c];
  std::memcpy(dst, e.text.data(), e.text.size());
  dst += e.size;
  return 1;
}

// Room that escape_run may write beyond 6 bytes per input byte (vector stores, a UTF-8
// sequence that starts before `end` and runs past it).
constexpr std::size_t kSlack = 32;

// Escapes s[i, end) into dst, which has room for 6 bytes per input byte plus kSlack; returns
// where the input stopped (past `end` when a UTF-8 sequence crosses it).
std::size_t escape_run(std::string_view s, std::size_t i, std::size_t end, char*& dst) {
#if defined(__SSE2__)
  // Sixteen bytes at a time: store them all, then keep only those before the first byte that
  // needs attention. Bytes >= 0x80 are negative as signed chars, so "< 0x20" catches them too.
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i lt = _mm_set1_epi8('<');
  const __m128i gt = _mm_set1_epi8('>');
  const __m128i amp = _mm_set1_epi8('&');
  while (i + 16 <= end) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, quote)),
                                  _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, lt))),
                     _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, amp)));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), v);
    if (mask == 0) {
      dst += 16;
      i += 16;
      continue;
    }
    const auto plain = static_cast<std::size_t>(__builtin_ctz(mask));
    dst += plain;
    i += plain;
    i += escape_one(s, i, dst);
  }
#endif
  while (i < end) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kNeedsAttention[c]) {
      *dst++ = static_cast<char>(c);
      ++i;
    } else {
      i += escape_one(s, i, dst);
    }
  }
  return i;
}

void append_go_string(std::string& out, std::string_view s) {
  // Escaped into a buffer with room for the worst case (\u00xx for every byte), a chunk at a
  // time, and appended once per chunk.
  constexpr std::size_t kChunk = 1024;
  char buf[kChunk * 6 + kSlack];
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    char* dst = buf;
    i = escape_run(s, i, std::min(s.size(), i + kChunk), dst);
    out.append(buf, static_cast<std::size_t>(dst - buf));
  }
  out += '"';
}

template <typename Int>
void append_integer(std::string& out, Int value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, res.ptr);
}

void append_scalar(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      out += "null";
      break;
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case json::value_t::number_integer:
      append_integer(out, v.get<std::int64_t>());
      break;
    case json::value_t::number_unsigned:
      append_integer(out, v.get<std::uint64_t>());
      break;
    case json::value_t::number_float:
      out += go_json_float(v.get<double>());
      break;
    case json::value_t::string:
      append_go_string(out, v.get_ref<const std::string&>());
      break;
    default:
      throw std::invalid_argument("cannot encode a binary or discarded JSON value");
  }
}

// "\n" and the indentation of the deepest levels that a rendered manifest reaches, appended at
// once.
constexpr std::string_view kNewlineIndent =
    "\n                                                                "
    "                                                                ";

// indent < 0: compact (json.Marshal); otherwise json.MarshalIndent with two spaces per level.
void append_value(std::string& out, const json& v, int indent) {
  const bool pretty = indent >= 0;
  auto newline = [&](int level) {
    if (!pretty) return;
    const auto width = static_cast<std::size_t>(level) * 2;
    if (width < kNewlineIndent.size()) {
      out.append(kNewlineIndent.data(), width + 1);
    } else {
      out += '\n';
      out.append(width, ' ');
    }
  };
  if (v.is_object()) {
    if (v.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    // std::map: keys already byte-wise sorted. (items() would build two strings per member.)
    for (const auto& [key, member] : v.get_ref<const json::object_t&>()) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      append_go_string(out, key);
      if (pretty) {
        out.append(": ", 2);
      } else {
        out += ':';
      }
      append_value(out, member, pretty ? indent + 1 : -1);
    }
    newline(indent);
    out += '}';
  } else if (v.is_array()) {
    if (v.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& element : v) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      append_value(out, element, pretty ? indent + 1 : -1);
    }
    newline(indent);
    out += ']';
  } else {
    append_scalar(out, v);
  }
}

// Whether a value is what the template prints, or a member or element inside it.
enum class Nesting { Top, Inside };

void append_go_format(std::string& out, const json& v, Nesting nesting) {
  switch (v.type()) {
    // A template prints a missing/nil value as "<no value>", which Helm blanks out; inside a
    // map or list fmt prints nil as "<nil>".
    case json::value_t::null:
      out += nesting == Nesting::Top ? "" : "<nil>";
      break;
    case json::value_t::string:
      out += v.get_ref<const std::string&>();
      break;
    case json::value_t::number_float:
      out += go_g_float(v.get<double>());
      break;
    case json::value_t::object: {
      out += "map[";
      bool first = true;
      for (const auto& [key, member] : v.get_ref<const json::object_t&>()) {
        if (!first) out += ' ';
        first = false;
        out += key;
        out += ':';
        append_go_format(out, member, Nesting::Inside);
      }
      out += ']';
      break;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : v) {
        if (!first) out += ' ';
        first = false;
        append_go_format(out, element, Nesting::Inside);
      }
      out += ']';
      break;
    }
    default:
      append_scalar(out, v);
  }
}

}  // namespace

std::string to_go_pretty_json(const nlohmann::json& value) {
  std::string out;
  out.reserve(4096);
  append_value(out, value, 0);
  return out;
}

std::string to_go_json(const nlohmann::json& value) {
  std::string out;
  append_value(out, value, -1);
  return out;
}

void append_go_pretty_json(std::string& out, const nlohmann::json& value) { append_value(out, value, 0); }

void append_go_json_string(std::string& out, std::string_view text) { append_go_string(out, text); }

std::string go_format_value(const nlohmann::json& value) {
  std::string out;
  append_go_format(out, value, Nesting::Top);
  return out;
}

}  // namespace kjq::output
