#include "chart/value_templates.hpp"

#include "util/value_path.hpp"

namespace kjq::chart {

using nlohmann::json;

namespace {
std::string render_text(const std::string& text, const TemplateScope& scope, const std::string& where) {
  if (text.find("{{") == std::string::npos) return text;
  return substitute_template_refs(text, scope, where);
}
}  // namespace

json render_value_templates(const json& node, const TemplateScope& scope, const std::string& where) {
  if (node.is_string()) return render_text(node.get_ref<const std::string&>(), scope, where);
  if (node.is_array()) {
    json out = json::array();
    for (std::size_t i = 0; i < node.size(); ++i) {
      out.push_back(render_value_templates(node[i], scope, path_index(where, i)));
    }
    return out;
  }
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : node.items()) {
      auto child = path_key(where, key);
      out[render_text(key, scope, child)] = render_value_templates(value, scope, child);
    }
    return out;
  }
  return node;
}

}  // namespace kjq::chart
