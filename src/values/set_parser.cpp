#include "values/set_parser.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "util/diagnostic.hpp"
#include "util/utf8.hpp"
#include "util/value_path.hpp"

namespace kjq::values {

namespace {

using nlohmann::json;

constexpr std::int64_t kMaxIndex = 65536;    // Helm's strvals.MaxIndex
constexpr int kMaxNestedNameLevel = 30;      // Helm's strvals.MaxNestedNameLevel
constexpr std::size_t kMaxPathLevels = 128;  // kjq's own bound on `a[0][0]...` nesting

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<std::int64_t> parse_decimal_int64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t n = 0;
  const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (limit - d) / 10) return std::nullopt;
    n = n * 10 + d;
  }
  if (!negative) return static_cast<std::int64_t>(n);
  return n == limit ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(n);
}

// Parses one --set expression (a comma-separated list of assignments) and applies it.
class SetExpression {
 public:
  // Go reads the expression rune by rune, each byte that is not UTF-8 becoming U+FFFD; reading it
  // the same way keeps every string we produce valid UTF-8.
  SetExpression(std::string_view expression, SetTyping typing)
      : original_(expression), text_(utf8::with_replacement_characters(expression)), typing_(typing) {}

  void apply_to(json& root) {
    while (pos_ < text_.size()) assignment(root);
  }

 private:
  struct Run {
    std::string text;
    std::optional<char> stop;  // the stop character that ended the run; none at the end
  };

  std::string_view original_;
  std::string text_;
  SetTyping typing_;
  std::size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    const char* flag = typing_ == SetTyping::Typed ? "--set" : "--set-string";
    throw InputError(Diagnostic{flag, 0, 0, path, message + " (in " + json_quoted(std::string(original_)) + ")"});
  }

  // The expression as typed may not be UTF-8 (the parser reads it as Go does, with U+FFFD for
  // such bytes); quoting it for a message must not throw.
  static std::string json_quoted(const std::string& s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  }

  // Reads up to (and consumes) the first unescaped stop character. A backslash takes the next
  // character literally; a backslash at the very end is dropped, as Helm does.
  Run read_until(std::string_view stops) {
    Run run;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (stops.find(c) != std::string_view::npos) {
        run.stop = c;
        return run;
      }
      if (c == '\\') {
        if (pos_ == text_.size()) break;
        run.text += text_[pos_++];
      } else {
        run.text += c;
      }
    }
    return run;
  }

  // key(.key | [N])* = value
  void assignment(json& root) {
    json* map = &root;
    std::string path;
    int dots = 0;
    std::size_t levels = 0;
    for (;;) {
      Run key = read_until("=[,.");
      const std::string key_path = path_key(path, key.text);
      if (!key.stop) fail(key_path, "key " + json_quoted(key.text) + " has no value");
      if (*key.stop == ',') fail(key_path, "key " + json_quoted(key.text) + " has no value (cannot end with ,)");
      if (key.text.empty()) fail(path, "empty key name");
      if (++levels > kMaxPathLevels)
        fail(key_path, "nesting deeper than " + std::to_string(kMaxPathLevels) + " levels");
      if (*key.stop == '=') {
        (*map)[key.text] = value();
        return;
      }
      if (*key.stop == '.') {
        if (++dots > kMaxNestedNameLevel)
          fail(key_path, "value name nested level is greater than maximum supported nested level of " +
                             std::to_string(kMaxNestedNameLevel));
        map = &descend_into_map(*map, key.text, key_path);
        path = key_path;
        continue;
      }
      // '[': one or more list indexes, then '=', '.' or another '['.
      json* list = &existing_or_new_list(*map, key.text, key_path);
      path = key_path;
      for (;;) {
        const std::size_t index = list_index(path);
        path = path_index(path, index);
        if (++levels > kMaxPathLevels) fail(path, "nesting deeper than " + std::to_string(kMaxPathLevels) + " levels");
        Run rest = read_until("[.=");
        if (!rest.text.empty()) fail(path, "unexpected data at end of array index: " + json_quoted(rest.text));
        if (!rest.stop) fail(path, "key " + json_quoted(path) + " has no value");
        if (list->size() <= index) list->get_ref<json::array_t&>().resize(index + 1);
        json& slot = (*list)[index];
        if (*rest.stop == '=') {
          slot = value();
          return;
        }
        if (*rest.stop == '.') {
          // Helm replaces whatever was there with a map (and does not count this dot).
          if (!slot.is_object()) slot = json::object();
          map = &slot;
          break;
        }
        // A nested list: an existing non-list element is an error in Helm, null is not.
        if (slot.is_null()) slot = json::array();
        if (!slot.is_array()) fail(path, "cannot index " + path + ": it is a " + slot.type_name() + ", not a list");
        list = &slot;
      }
    }
  }

  // Helm refuses to descend into an existing value that is not a map (null included).
  json& descend_into_map(json& map, const std::string& key, const std::string& key_path) {
    auto it = map.find(key);
    if (it == map.end()) return map[key] = json::object();
    if (!it->is_object())
      fail(key_path, "cannot set keys under " + key_path + ": it is a " + it->type_name() + ", not a map");
    return *it;
  }

  json& existing_or_new_list(json& map, const std::string& key, const std::string& key_path) {
    auto it = map.find(key);
    if (it == map.end()) return map[key] = json::array();
    if (!it->is_array()) fail(key_path, "cannot index " + key_path + ": it is a " + it->type_name() + ", not a list");
    return *it;
  }

  // The N of `[N]`, as Go's strconv.Atoi reads it, within Helm's limits.
  std::size_t list_index(const std::string& path) {
    Run run = read_until("]");
    if (!run.stop) fail(path, "unterminated [ in key (missing ])");
    const bool digits_only = !run.text.empty() && run.text.find_first_not_of("+-0123456789") == std::string::npos &&
                             run.text.find_first_of("+-", 1) == std::string::npos;
    if (!digits_only) fail(path, "invalid list index " + json_quoted(run.text));
    const auto index = parse_decimal_int64(run.text);
    if (!index) fail(path, "list index " + run.text + " is out of range");
    if (*index < 0) fail(path, "negative list index " + std::to_string(*index) + " is not allowed");
    if (*index > kMaxIndex)
      fail(path,
           "list index " + std::to_string(*index) + " is greater than the maximum of " + std::to_string(kMaxIndex));
    return static_cast<std::size_t>(*index);
  }

  // After '=': `{a,b}` is a list, anything else one value up to the next unescaped ','.
  json value() {
    if (pos_ == text_.size()) return "";  // `a=` sets an empty string, even for --set
    if (text_[pos_] != '{') return typed(read_until(",").text);
    ++pos_;
    json list = json::array();
    for (;;) {
      Run item = read_until(",}");
      if (!item.stop) fail("", "list must terminate with '}'");
      list.push_back(typed(item.text));
      if (*item.stop == '}') {
        if (pos_ < text_.size() && text_[pos_] == ',') ++pos_;
        return list;
      }
    }
  }

  // Helm's typedVal.
  json typed(const std::string& text) const {
    if (typing_ == SetTyping::String) return text;
    if (equals_ignoring_ascii_case(text, "true")) return true;
    if (equals_ignoring_ascii_case(text, "false")) return false;
    if (equals_ignoring_ascii_case(text, "null")) return nullptr;
    if (text == "0") return std::int64_t{0};
    // A leading zero keeps the text a string ("0123", "007"); floats stay strings too.
    if (!text.empty() && text[0] != '0') {
      if (auto n = parse_decimal_int64(text)) return *n;
    }
    return text;
  }
};

}  // namespace

void apply_set_expression(json& target, std::string_view expression, SetTyping typing) {
  if (target.is_null()) target = json::object();
  if (!target.is_object()) throw std::invalid_argument("apply_set_expression: target must be an object");
  // Work on a copy so that a failing expression leaves the target as it was.
  json work = target;
  SetExpression(expression, typing).apply_to(work);
  target = std::move(work);
}

}  // namespace kjq::values
