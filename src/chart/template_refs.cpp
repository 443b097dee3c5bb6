#include "chart/template_refs.hpp"

#include "chart/value_access.hpp"
#include "util/diagnostic.hpp"

namespace kjq::chart {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(const std::string& where, std::string message) {
  throw InputError(Diagnostic{"", 0, 0, where, std::move(message)});
}

std::string resolve_values_path(std::string_view path, const TemplateScope& scope, const std::string& where,
                                std::string_view expression) {
  const nlohmann::json* node = &scope.values;
  std::string walked = ".Values";
  while (!path.empty()) {
    auto dot = path.find('.');
    auto key = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    walked += "." + std::string(key);
    if (key.empty() || !node->is_object() || !node->contains(key)) {
      fail(where, "{{ " + std::string(expression) + " }}: " + walked + " is not set");
    }
    node = &(*node)[std::string(key)];
  }
  if (node->is_object() || node->is_array()) {
    fail(where, "{{ " + std::string(expression) + " }}: " + walked + " is a " + (node->is_object() ? "map" : "list") +
                    "; only single values can be substituted");
  }
  if (node->is_null()) fail(where, "{{ " + std::string(expression) + " }}: " + walked + " is null");
  return value_text(*node);
}

}  // namespace

std::string substitute_template_refs(std::string_view text, const TemplateScope& scope, const std::string& where) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    out.append(text.substr(pos, open - pos));
    auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) fail(where, "unterminated \"{{\" (missing \"}}\")");
    auto expression = trim(text.substr(open + 2, close - open - 2));
    if (expression == ".Release.Name") {
      out += scope.release.name;
    } else if (expression == ".Release.Namespace") {
      out += scope.release.namespace_;
    } else if (expression.substr(0, 8) == ".Values.") {
      out += resolve_values_path(expression.substr(8), scope, where, expression);
    } else {
      fail(where, "unsupported template expression {{ " + std::string(expression) +
                      " }}: kjq substitutes only {{ .Release.Name }}, {{ .Release.Namespace }} "
                      "and {{ .Values.<path> }}");
    }
    pos = close + 2;
  }
}

}  // namespace kjq::chart
