#include "values/values_document.hpp"

#include "util/value_path.hpp"
#include "values/defaults.hpp"
#include "values/merge.hpp"
#include "values/set_parser.hpp"

namespace kjq::values {

namespace {

void collect_paths(const nlohmann::json& value, const std::string& prefix, SourceMarks& marks) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      auto path = path_key(prefix, key);
      marks.emplace(path, Mark{});
      collect_paths(child, path, marks);
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      auto path = path_index(prefix, i);
      marks.emplace(path, Mark{});
      collect_paths(value[i], path, marks);
    }
  }
}

void apply_command_line(ValuesDocument& doc, const std::vector<std::string>& expressions, SetTyping typing,
                        const char* source_name) {
  for (const auto& expression : expressions) {
    apply_set_expression(doc.user, expression, typing);
    // Record which paths this expression names, for error locations.
    nlohmann::json scratch = nlohmann::json::object();
    apply_set_expression(scratch, expression, typing);
    ValuesSource source{source_name, {}};
    collect_paths(scratch, "", source.marks);
    doc.sources.push_back(std::move(source));
  }
}

}  // namespace

std::string parent_path(std::string_view path) {
  if (path.empty()) return {};
  if (path.back() == ']') {
    std::size_t open = std::string_view::npos;
    if (path.size() >= 2 && path[path.size() - 2] == '"') {
      // ["key"]: walk back to the opening [" that is not escaped.
      for (std::size_t i = path.size() - 2; i-- > 0;) {
        if (path[i] == '"' && i > 0 && path[i - 1] == '[' && (i < 2 || path[i - 2] != '\\')) {
          open = i - 1;
          break;
        }
      }
    } else {
      open = path.rfind('[');
    }
    return open == std::string_view::npos ? std::string{} : std::string(path.substr(0, open));
  }
  auto dot = path.rfind('.');
  auto bracket = path.rfind(']');
  if (dot == std::string_view::npos || (bracket != std::string_view::npos && bracket > dot)) {
    return bracket != std::string_view::npos && bracket + 1 < path.size() ? std::string(path.substr(0, bracket + 1))
                                                                          : std::string{};
  }
  return std::string(path.substr(0, dot));
}

Diagnostic ValuesDocument::at(std::string_view path, std::string message) const {
  std::string probe(path);
  for (;;) {
    for (auto it = sources.rbegin(); it != sources.rend(); ++it) {
      auto found = it->marks.find(probe);
      if (found != it->marks.end()) {
        return Diagnostic{it->name, found->second.line, found->second.column, std::string(path), std::move(message)};
      }
    }
    if (probe.empty()) break;
    probe = parent_path(probe);
  }
  return Diagnostic{"", 0, 0, std::string(path), std::move(message)};
}

ValuesDocument load_values(const ValuesOptions& options) {
  ValuesDocument doc;
  const auto& defaults = default_values();
  doc.sources.push_back({kDefaultsSourceName, defaults.marks});
  for (const auto& file : options.files) {
    auto loaded = load_values_file(file, options.limits);
    if (doc.user.empty()) {
      doc.user = std::move(loaded.value);  // the same as merging into {}, without a deep copy
    } else {
      merge_overwrite(doc.user, loaded.value);
    }
    doc.sources.push_back({file.string(), std::move(loaded.marks)});
  }
  apply_command_line(doc, options.set, SetTyping::Typed, "--set");
  apply_command_line(doc, options.set_string, SetTyping::String, "--set-string");
  doc.merged = coalesce_values(defaults.value, doc.user);
  return doc;
}

ValuesDocument values_from_json(const nlohmann::json& user_values, std::string source_name) {
  ValuesDocument doc;
  const auto& defaults = default_values();
  doc.sources.push_back({kDefaultsSourceName, defaults.marks});
  doc.user = user_values.is_object() ? user_values : nlohmann::json::object();
  ValuesSource source{std::move(source_name), {}};
  collect_paths(doc.user, "", source.marks);
  doc.sources.push_back(std::move(source));
  doc.merged = coalesce_values(defaults.value, doc.user);
  return doc;
}

}  // namespace kjq::values
