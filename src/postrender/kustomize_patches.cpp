#include "postrender/kustomize_patches.hpp"

#include <algorithm>

#include "output/go_json.hpp"

namespace kjq::postrender {

using nlohmann::json;

namespace {

// RFC 6901: "~" → "~0", "/" → "~1" (annotation keys such as checksum/k8s-jobs-manifests).
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// group/version of an apiVersion ("apps/v1" → apps, v1; "v1" → "", v1).
std::pair<std::string, std::string> group_version(const std::string& api_version) {
  const auto slash = api_version.find('/');
  if (slash == std::string::npos) return {"", api_version};
  return {api_version.substr(0, slash), api_version.substr(slash + 1)};
}

}  // namespace

void append_json_patch(json& operations, const json& before, const json& after, const std::string& path) {
  if (before == after) return;
  if (before.is_object() && after.is_object()) {
    for (const auto& [key, value] : before.items()) {
      if (!after.contains(key)) operations.push_back({{"op", "remove"}, {"path", path + "/" + pointer_token(key)}});
    }
    for (const auto& [key, value] : after.items()) {
      const std::string child = path + "/" + pointer_token(key);
      if (!before.contains(key)) {
        operations.push_back({{"op", "add"}, {"path", child}, {"value", value}});
      } else {
        append_json_patch(operations, before[key], value, child);
      }
    }
    return;
  }
  if (before.is_array() && after.is_array() && before.size() == after.size()) {
    for (std::size_t i = 0; i < before.size(); ++i) {
      append_json_patch(operations, before[i], after[i], path + "/" + std::to_string(i));
    }
    return;
  }
  if (before.is_array() && after.is_array() && after.size() > before.size() &&
      std::equal(before.begin(), before.end(), after.begin())) {
    // Items appended (an env variable): added at the end, the chart's own left as they are.
    for (std::size_t i = before.size(); i < after.size(); ++i) {
      operations.push_back({{"op", "add"}, {"path", path + "/-"}, {"value", after[i]}});
    }
    return;
  }
  operations.push_back({{"op", "replace"}, {"path", path}, {"value", after}});
}

json kustomize_patches(const std::vector<StreamDocument>& before, const std::vector<StreamDocument>& after) {
  json patches = json::array();
  for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
    json operations = json::array();
    append_json_patch(operations, before[i].object, after[i].object);
    if (operations.empty()) continue;
    const json& object = after[i].object;
    const auto [group, version] = group_version(object["apiVersion"].get<std::string>());
    json target = {{"version", version}, {"kind", object["kind"]}, {"name", object["metadata"]["name"]}};
    if (!group.empty()) target["group"] = group;
    // JSON, not YAML: Kustomize trims a patch's text, which would cut the final newline of a
    // manifest written as the last block scalar.
    patches.push_back({{"target", std::move(target)}, {"patch", output::to_go_pretty_json(operations) + "\n"}});
  }
  return patches;
}

}  // namespace kjq::postrender
