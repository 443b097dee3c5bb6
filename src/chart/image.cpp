#include "chart/image.hpp"

#include <algorithm>
#include <vector>

#include "chart/value_access.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::is_truthy;

namespace {

void append_secret_names(const json& list, std::vector<std::string>& names) {
  if (!list.is_array()) return;
  for (const auto& item : list) {
    const json& name = item.is_object() ? value_at(item, {"name"}) : item;
    if (name.is_null()) continue;
    names.push_back(value_text(name));
  }
}
}  // namespace

std::string image_reference(const json& values, const Release& release) {
  const json& image = value_at(values, {"nautobot", "image"});
  const json& global_registry = value_at(values, {"global", "imageRegistry"});
  std::string registry =
      is_truthy(global_registry)
          ? value_text(global_registry)
          : (is_truthy(value_at(image, {"registry"})) ? value_text(value_at(image, {"registry"})) : std::string{});
  std::string reference = value_text(value_at(image, {"repository"}));
  const json& digest = value_at(image, {"digest"});
  if (is_truthy(digest)) {
    reference += "@" + value_text(digest);
  } else {
    const json& tag = value_at(image, {"tag"});
    reference += ":" + (is_truthy(tag) ? value_text(tag) : release.app_version);
  }
  return registry.empty() ? reference : registry + "/" + reference;
}

json image_pull_secrets(const json& values) {
  std::vector<std::string> names;
  append_secret_names(value_at(values, {"global", "imagePullSecrets"}), names);
  append_secret_names(value_at(values, {"nautobot", "image", "pullSecrets"}), names);
  json secrets = json::array();
  std::vector<std::string> seen;
  for (auto& name : names) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    secrets.push_back({{"name", name}});
  }
  return secrets;
}

}  // namespace kjq::chart
