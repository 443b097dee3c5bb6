#include "chart/affinity_presets.hpp"

#include "chart/value_access.hpp"

namespace kjq::chart {

using nlohmann::json;

namespace {
constexpr const char* kHostnameTopology = "kubernetes.io/hostname";

bool is(const json& type, const char* name) { return type.is_string() && type == name; }
}  // namespace

json pod_affinity_preset(const json& type, const json& match_labels) {
  json term = {{"labelSelector", {{"matchLabels", match_labels}}}, {"topologyKey", kHostnameTopology}};
  if (is(type, "soft")) {
    return {{"preferredDuringSchedulingIgnoredDuringExecution",
             json::array({{{"podAffinityTerm", std::move(term)}, {"weight", 1}}})}};
  }
  if (is(type, "hard")) {
    return {{"requiredDuringSchedulingIgnoredDuringExecution", json::array({std::move(term)})}};
  }
  return nullptr;
}

json node_affinity_preset(const json& type, const json& key, const json& values) {
  if (!is(type, "soft") && !is(type, "hard")) return nullptr;
  // The chart quotes every value: they are always strings.
  json quoted = json::array();
  if (values.is_array()) {
    for (const auto& v : values) quoted.push_back(value_text(v));
  }
  json expression = {
      {"key", key.is_null() ? json("") : json(value_text(key))}, {"operator", "In"}, {"values", std::move(quoted)}};
  json match = {{"matchExpressions", json::array({std::move(expression)})}};
  if (is(type, "soft")) {
    return {{"preferredDuringSchedulingIgnoredDuringExecution",
             json::array({{{"preference", std::move(match)}, {"weight", 1}}})}};
  }
  return {{"requiredDuringSchedulingIgnoredDuringExecution", {{"nodeSelectorTerms", json::array({std::move(match)})}}}};
}

json affinity_from_presets(const json& settings, const json& match_labels) {
  json affinity = json::object();
  if (auto pod = pod_affinity_preset(value_at(settings, {"podAffinityPreset"}), match_labels); !pod.is_null()) {
    affinity["podAffinity"] = std::move(pod);
  }
  if (auto anti = pod_affinity_preset(value_at(settings, {"podAntiAffinityPreset"}), match_labels); !anti.is_null()) {
    affinity["podAntiAffinity"] = std::move(anti);
  }
  if (auto node = node_affinity_preset(value_at(settings, {"nodeAffinityPreset", "type"}),
                                       value_at(settings, {"nodeAffinityPreset", "key"}),
                                       value_at(settings, {"nodeAffinityPreset", "values"}));
      !node.is_null()) {
    affinity["nodeAffinity"] = std::move(node);
  }
  return affinity;
}

}  // namespace kjq::chart
