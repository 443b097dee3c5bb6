#include "chart/extra_objects.hpp"

#include "chart/template_refs.hpp"
#include "util/diagnostic.hpp"
#include "util/value_path.hpp"
#include "values/yaml_loader.hpp"

namespace kjq::chart {

using nlohmann::json;

namespace {

// Map items: substitute inside every string (keys too); results stay strings, as in the
// reference where the YAML conversion quotes template expressions.
json substitute_in_tree(const json& node, const TemplateScope& scope, const std::string& where) {
  if (node.is_string()) return substitute_template_refs(node.get<std::string>(), scope, where);
  if (node.is_array()) {
    json out = json::array();
    for (std::size_t i = 0; i < node.size(); ++i) {
      out.push_back(substitute_in_tree(node[i], scope, path_index(where, i)));
    }
    return out;
  }
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : node.items()) {
      auto child = path_key(where, key);
      out[substitute_template_refs(key, scope, child)] = substitute_in_tree(value, scope, child);
    }
    return out;
  }
  return node;
}

void require_object(const json& object, const values::ValuesDocument& doc, const std::string& where) {
  if (!object.is_object() || !object.contains("apiVersion") || !object.contains("kind") ||
      !object["apiVersion"].is_string() || !object["kind"].is_string()) {
    throw InputError(doc.at(where, "expected a Kubernetes object with apiVersion and kind"));
  }
}

}  // namespace

std::vector<json> render_extra_objects(const ChartContext& context, const values::ValuesDocument& doc) {
  std::vector<json> objects;
  auto it = context.values.find("extraObjects");
  if (it == context.values.end() || !it->is_array()) return objects;
  const TemplateScope scope{context.release, context.values};
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    const auto where = path_index("extraObjects", i);
    try {
      if (item.is_string()) {
        auto text = substitute_template_refs(item.get<std::string>(), scope, where);
        for (auto& document : values::parse_yaml_stream(text, where)) {
          if (document.value.is_null()) continue;
          require_object(document.value, doc, where);
          objects.push_back(std::move(document.value));
        }
      } else {
        auto object = substitute_in_tree(item, scope, where);
        require_object(object, doc, where);
        objects.push_back(std::move(object));
      }
    } catch (const InputError& e) {
      // Locate the error at the item in the user's file; keep the detail of the message.
      std::vector<Diagnostic> located;
      for (const auto& d : e.diagnostics()) {
        if (d.file == where) {  // a YAML error inside a string item: say where in the item
          std::string detail = d.message + " (in the item's YAML";
          if (d.line > 0) detail += ", line " + std::to_string(d.line);
          if (!d.path.empty()) detail += ", at " + d.path;
          located.push_back(doc.at(where, detail + ")"));
        } else {
          located.push_back(doc.at(d.path.empty() ? where : d.path, d.message));
        }
      }
      throw InputError(std::move(located));
    }
  }
  return objects;
}

}  // namespace kjq::chart
