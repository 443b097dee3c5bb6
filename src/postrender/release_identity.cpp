#include "postrender/release_identity.hpp"

#include <cctype>

namespace kjq::postrender {

using nlohmann::json;

namespace {
std::string label(const json& labels, const char* key) {
  auto it = labels.find(key);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

chart::Release release_identity(const std::vector<StreamDocument>& documents) {
  chart::Release release;
  for (const auto& document : documents) {
    const json& meta = document.object["metadata"];
    auto labels = meta.find("labels");
    if (labels == meta.end() || !labels->is_object()) continue;
    const std::string instance = label(*labels, "app.kubernetes.io/instance");
    if (instance.empty()) continue;
    release.name = instance;
    // helm.sh/chart is <chart name>-<version>; the version starts at the first "-<digit>".
    const std::string chart = label(*labels, "helm.sh/chart");
    for (std::size_t i = 0; i + 1 < chart.size(); ++i) {
      if (chart[i] == '-' && std::isdigit(static_cast<unsigned char>(chart[i + 1]))) {
        release.chart_version = chart.substr(i + 1);
        break;
      }
    }
    if (auto version = label(*labels, "app.kubernetes.io/version"); !version.empty()) release.app_version = version;
    if (auto managed_by = label(*labels, "app.kubernetes.io/managed-by"); !managed_by.empty()) {
      release.managed_by = managed_by;
    }
    break;
  }
  return release;
}

std::string chart_name_label(const std::vector<StreamDocument>& documents) {
  for (const auto& document : documents) {
    const json& meta = document.object["metadata"];
    auto labels = meta.find("labels");
    if (labels == meta.end() || !labels->is_object()) continue;
    if (label(*labels, "app.kubernetes.io/instance").empty()) continue;
    if (auto name = label(*labels, "app.kubernetes.io/name"); !name.empty()) return name;
  }
  return {};
}

}  // namespace kjq::postrender
