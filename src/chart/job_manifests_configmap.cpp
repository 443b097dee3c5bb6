#include "chart/job_manifests_configmap.hpp"

#include "chart/object_metadata.hpp"
#include "output/go_json.hpp"

namespace kjq::chart {

std::string manifests_configmap_name(const std::string& fullname) { return fullname + "-k8s-jobs-manifests"; }

std::string manifest_text(const nlohmann::json& manifest) { return output::to_go_pretty_json(manifest) + "\n"; }

nlohmann::json render_manifests_configmap(const ChartContext& context,
                                          const std::map<std::string, std::string>& texts) {
  nlohmann::json data = nlohmann::json::object();
  for (const auto& [queue, text] : texts) data[queue] = text;
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", object_metadata(context, manifests_configmap_name(context.fullname), nlohmann::json::object())},
          {"data", std::move(data)}};
}

}  // namespace kjq::chart
