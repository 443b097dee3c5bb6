#include "output/yaml_emitter.hpp"

#include "util/utf8.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "output/go_json.hpp"

namespace kjq::output {

namespace {

using json = nlohmann::json;

// YAML implicit keys must stay below 1024 characters; longer keys use the explicit "? " form.
constexpr std::size_t kMaxImplicitKey = 1000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Number of characters at s[i...] satisfying pred.
template <typename Pred>
std::size_t span(std::string_view s, std::size_t i, Pred pred) {
  std::size_t n = 0;
  while (i + n < s.size() && pred(s[i + n])) ++n;
  return n;
}

std::size_t sign_length(std::string_view s) { return !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0; }

// What Go's strconv.ParseInt(s, 0, 64) accepts in form (size aside): 0x1F, 0o17, 0b101, 017, 42.
bool looks_like_int(std::string_view s) {
  std::size_t i = sign_length(s);
  if (s.size() > i + 2 && s[i] == '0') {
    const char base = static_cast<char>(s[i + 1] | 0x20);
    auto rest = s.substr(i + 2);
    auto all = [&](auto pred) { return span(rest, 0, pred) == rest.size(); };
    if (base == 'x') return all([](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    if (base == 'o') return all([](char c) { return c >= '0' && c <= '7'; });
    if (base == 'b') return all([](char c) { return c == '0' || c == '1'; });
  }
  const std::size_t digits = span(s, i, is_digit);
  return digits > 0 && i + digits == s.size();
}

// go-yaml v2's float pattern: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looks_like_float(std::string_view s) {
  std::size_t i = sign_length(s);
  const std::size_t int_digits = span(s, i, is_digit);
  i += int_digits;
  if (i < s.size() && s[i] == '.') {
    const std::size_t frac_digits = span(s, i + 1, is_digit);
    if (int_digits == 0 && frac_digits == 0) return false;
    i += 1 + frac_digits;
  } else if (int_digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t exp_digits = span(s, i, is_digit);
    if (exp_digits == 0) return false;
    i += exp_digits;
  }
  return i == s.size();
}

// YAML timestamps: 2026-11-26, 2026-1-2, optionally followed by [Tt ]time...
bool looks_like_timestamp(std::string_view s) {
  if (s.size() < 8 || span(s, 0, is_digit) != 4 || s[4] != '-') return false;
  const std::size_t month = span(s, 5, is_digit);
  if (month < 1 || month > 2 || s.size() <= 5 + month || s[5 + month] != '-') return false;
  const std::size_t day_at = 6 + month;
  const std::size_t day = span(s, day_at, is_digit);
  if (day < 1 || day > 2) return false;
  const std::size_t end = day_at + day;
  return end == s.size() || s[end] == 'T' || s[end] == 't' || s[end] == ' ';
}

// Plain scalars that go-yaml v2 (YAML 1.1) or a YAML 1.2 reader would type as something other
// than a string. The checks err on the side of quoting.
bool resolves_to_non_string(const std::string& s) {
  static const std::array<std::string_view, 40> kReserved = {
      "y",     "Y",     "yes",   "Yes",   "YES",   "n",     "N",    "no",   "No",   "NO",
      "true",  "True",  "TRUE",  "false", "False", "FALSE", "on",   "On",   "ON",   "off",
      "Off",   "OFF",   "~",     "null",  "Null",  "NULL",  ".inf", ".Inf", ".INF", "+.inf",
      "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN", ".NAN", "<<",   "="};
  if (s.size() <= 5) {  // the longest reserved word
    for (auto r : kReserved)
      if (s == r) return true;
  }

  // go-yaml drops '_' before trying ints (any base ParseInt accepts) and YAML-1.1 floats.
  std::string without_underscores;
  std::string_view plain = s;
  if (s.find('_') != std::string::npos) {
    for (char c : s)
      if (c != '_') without_underscores += c;
    plain = without_underscores;
  }
  if (looks_like_int(plain) || looks_like_float(plain) || looks_like_timestamp(s)) return true;

  // YAML 1.1 sexagesimal numbers (1:30) and times: anything digit-led with a ':'.
  const std::size_t start = sign_length(s);
  if (start < s.size() && is_digit(s[start]) && s.find(':') != std::string::npos) return true;
  // A leading "." followed by a digit may be a float (".5", ".5e3").
  if (start + 1 < s.size() && s[start] == '.' && is_digit(s[start + 1])) return true;
  return false;
}

// Characters YAML allows raw in a scalar (its c-printable set), minus the line breaks
// U+0085/U+2028/U+2029 and the BOM, which readers treat specially.
bool is_yaml_printable(std::uint32_t cp) {
  if (cp == '\t' || cp == '\n') return false;  // callers handle these explicitly
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp >= 0x80 && cp <= 0x9F) return false;
  if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) return false;
  if (cp == 0xFFFE || cp == 0xFFFF) return false;
  return true;
}

// Whether every character is valid UTF-8 and YAML-printable (newlines allowed if asked).
enum class LineBreaks { Refuse, Allow };

bool all_printable(std::string_view s, LineBreaks line_breaks) {
  const bool allow_newline = line_breaks == LineBreaks::Allow;
#if defined(__SSE2__)
  // Bytes >= 0x80 are negative as signed chars, so "< 0x20" catches them too.
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i newline = _mm_set1_epi8('\n');
#endif
  for (std::size_t i = 0; i < s.size();) {
#if defined(__SSE2__)
    // Sixteen bytes at a time up to the first one that is not printable ASCII (or an allowed
    // newline); that one is decided below.
    if (i + 16 <= s.size()) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
      auto mask =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del))));
      if (allow_newline) mask &= ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline)));
      if (mask == 0) {
        i += 16;
        continue;
      }
      i += static_cast<std::size_t>(__builtin_ctz(mask));
    }
#endif
    // Printable ASCII needs no decoding; it is nearly all of a rendered manifest's text.
    if (const auto b = static_cast<unsigned char>(s[i]); (b >= 0x20 && b < 0x7F) || (allow_newline && b == '\n')) {
      ++i;
      continue;
    }
    const auto [cp, len] = utf8::decode(s, i);
    if (len == 0) return false;
    if (!(is_yaml_printable(cp) || (allow_newline && cp == '\n'))) return false;
    i += len;
  }
  return true;
}

bool can_be_plain(const std::string& s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  static constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != std::string_view::npos) return false;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  if (s.back() == ':') return false;
  // "---" / "..." only matter at column 0, but a value may be a whole document.
  if (s.rfind("---", 0) == 0 || s.rfind("...", 0) == 0) return false;
  if (!all_printable(s, LineBreaks::Refuse)) return false;
  return !resolves_to_non_string(s);
}

// A literal block keeps the text readable; it must round-trip exactly with clip chomping.
bool can_be_literal(const std::string& s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;
  if (s.front() == ' ' || s.front() == '\n') return false;  // would need an indentation indicator
  return all_printable(s, LineBreaks::Allow);
}

// JSON-style escapes are valid in YAML double-quoted scalars; invalid UTF-8 becomes U+FFFD as
// in Go's JSON.
void append_double_quoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto [cp, len] = utf8::decode(s, i);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (!is_yaml_printable(cp)) {
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out += '"';
}

void append_scalar_text(std::string& out, const std::string& s) {
  if (can_be_plain(s)) {
    out += s;
  } else {
    append_double_quoted(out, s);
  }
}

std::string number_text(const json& v) {
  if (v.is_number_float()) {
    const double x = v.get<double>();
    // "-0" would read back as the integer 0.
    if (x == 0 && std::signbit(x)) return "-0.0";
  }
  // Go's JSON number forms (60, 1.5, 1e-7, 1e+21) are all YAML 1.1 ints or floats.
  return to_go_json(v);
}

class Emitter {
 public:
  Emitter(std::string& out, const YamlFlush* flush) : out(out), flush_(flush) {}

  std::string& out;

  // What holds a value: a map key ("key:") or a sequence item ("-").
  enum class Parent { Map, Sequence };
  // Where a collection's first entry goes: on a line of its own, or on the line already begun.
  enum class FirstEntry { OwnLine, SameLine };

  // The rest of a line that already holds "key:" or "-" (no trailing space yet), followed by
  // the value's own lines at `indent` (the column of nested content).
  void inline_value(const json& v, std::size_t indent, Parent parent) {
    if (v.is_object() && !v.empty()) {
      if (parent == Parent::Sequence) {
        out += ' ';
        map_entries(v, indent, FirstEntry::SameLine);
      } else {
        out += '\n';
        map_entries(v, indent, FirstEntry::OwnLine);
      }
    } else if (v.is_array() && !v.empty()) {
      if (parent == Parent::Sequence) {
        out += ' ';
        sequence_items(v, indent, FirstEntry::SameLine);
      } else {
        // go-yaml style: a sequence under a key sits at the key's own column.
        out += '\n';
        sequence_items(v, indent - 2, FirstEntry::OwnLine);
      }
    } else {
      out += ' ';
      scalar_line(v, indent);
    }
  }

  void map_entries(const json& v, std::size_t indent, FirstEntry first_entry) {
    bool first = true;
    // (items() would build two strings per member.)
    for (const auto& [key, member] : v.get_ref<const json::object_t&>()) {
      if (!(first && first_entry == FirstEntry::SameLine)) out.append(indent, ' ');
      first = false;
      const std::size_t key_at = out.size();
      append_scalar_text(out, key);
      if (out.size() - key_at > kMaxImplicitKey) {
        out.insert(key_at, "? ");
        out += '\n';
        out.append(indent, ' ');
      }
      out += ':';
      inline_value(member, indent + 2, Parent::Map);
      maybe_flush();
    }
  }

  void sequence_items(const json& v, std::size_t indent, FirstEntry first_entry) {
    bool first = true;
    for (const auto& element : v) {
      if (!(first && first_entry == FirstEntry::SameLine)) out.append(indent, ' ');
      first = false;
      out += '-';
      inline_value(element, indent + 2, Parent::Sequence);
      maybe_flush();
    }
  }

  // A scalar (or empty collection) and its line end; block content goes at `indent`.
  void scalar_line(const json& v, std::size_t indent) {
    switch (v.type()) {
      case json::value_t::object:
        out += "{}\n";
        return;
      case json::value_t::array:
        out += "[]\n";
        return;
      case json::value_t::null:
        out += "null\n";
        return;
      case json::value_t::boolean:
        out += v.get<bool>() ? "true\n" : "false\n";
        return;
      case json::value_t::string: {
        const auto& s = v.get_ref<const std::string&>();
        if (!can_be_literal(s)) {
          append_scalar_text(out, s);
          out += '\n';
          return;
        }
        out += "|\n";
        std::size_t begin = 0;
        while (begin < s.size()) {
          const auto end = s.find('\n', begin);
          if (end > begin) out.append(indent, ' ').append(s, begin, end - begin);
          out += '\n';
          begin = end + 1;
          maybe_flush();
        }
        return;
      }
      default:
        out += number_text(v);
        out += '\n';
    }
  }

  // Hands the text so far to the flush callback once it passes kFlushSize.
  void maybe_flush() {
    if (flush_ && out.size() >= kFlushSize) (*flush_)(out);
  }

  void document(const json& v) {
    if (v.is_object() && !v.empty()) {
      map_entries(v, 0, FirstEntry::OwnLine);
    } else if (v.is_array() && !v.empty()) {
      sequence_items(v, 0, FirstEntry::OwnLine);
    } else {
      scalar_line(v, 2);
    }
  }

 private:
  static constexpr std::size_t kFlushSize = 64 * 1024;
  const YamlFlush* flush_;
};

}  // namespace

std::string to_yaml(const nlohmann::json& value) {
  std::string out;
  append_yaml(out, value);
  return out;
}

void append_yaml(std::string& out, const nlohmann::json& value, const YamlFlush& flush) {
  Emitter e(out, flush ? &flush : nullptr);
  e.document(value);
}

std::string to_yaml_stream(const std::vector<nlohmann::json>& documents) {
  std::string out;
  for (const auto& doc : documents) {
    out += "---\n";
    append_yaml(out, doc);
  }
  return out;
}

}  // namespace kjq::output
