#include "util/json_limits.hpp"

#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kjq {

std::optional<std::string> json_limit_violation(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return fmt::format("{} bytes; at most {} are accepted", text.size(), limits.max_bytes);
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > limits.max_depth)
          return fmt::format("nested deeper than {} levels (at byte {})", limits.max_depth, i + 1);
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace kjq

namespace kjq {

namespace {

// Walks the parse events, keeping the path to the current value, and stops at the first number
// whose text is an integer but whose value nlohmann could only keep as a float.
class InexactIntegerFinder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit InexactIntegerFinder(std::string root) : root_(std::move(root)) {}
  std::optional<std::string> found;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t& text) override {
    value();
    if (text.find_first_of(".eE") == string_t::npos) {
      found = fmt::format("{}: the integer {} is outside the 64-bit range; send it as a string", path(), text);
      return false;
    }
    return true;
  }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    value();
    frames_.push_back({false, -1, {}});
    return true;
  }
  bool key(string_t& k) override {
    frames_.back().key = k;
    return true;
  }
  bool end_object() override { return end(); }
  bool start_array(std::size_t) override {
    value();
    frames_.push_back({true, -1, {}});
    return true;
  }
  bool end_array() override { return end(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool array;
    long index;
    std::string key;
  };
  // A value starts: in an array, it is the next element.
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool end() {
    frames_.pop_back();
    return true;
  }
  std::string path() const {
    std::string out = root_;
    for (const auto& f : frames_) out += f.array ? fmt::format("[{}]", f.index) : (out.empty() ? "" : ".") + f.key;
    return out;
  }
  std::string root_;
  std::vector<Frame> frames_;
};

}  // namespace

std::optional<std::string> json_inexact_integer(std::string_view text, const std::string& root) {
  InexactIntegerFinder finder(root);
  nlohmann::json::sax_parse(text, &finder, nlohmann::json::input_format_t::json, false);
  return finder.found;
}

std::string json_error_text(const std::exception& e) {
  std::string text = e.what();
  if (text.rfind("[json.exception.", 0) == 0) {
    if (const auto end = text.find("] "); end != std::string::npos) text.erase(0, end + 2);
  }
  return text;
}

}  // namespace kjq
