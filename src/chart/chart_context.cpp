#include "chart/chart_context.hpp"

#include "chart/image.hpp"
#include "chart/names.hpp"
#include "chart/pod_base.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

namespace {
nlohmann::json map_or_empty(const nlohmann::json& values, const char* key) {
  auto it = values.find(key);
  if (it == values.end() || !it->is_object()) return nlohmann::json::object();
  return *it;
}
}  // namespace

ChartContext ChartContext::build(const nlohmann::json& values, const Release& release) {
  auto full = chart::fullname(values, release);
  return ChartContext{
      values,
      release,
      full,
      chart::service_account_name(values, release),
      chart::standard_labels(values, release),
      map_or_empty(values, "commonLabels"),
      map_or_empty(values, "commonAnnotations"),
      chart::image_reference(values, release),
      chart::image_pull_secrets(values),
      chart::credentials_env(values, release, full),
      chart::base_env_from(full),
      chart::base_volumes(values, full, /*with_media=*/true),
      chart::base_volume_mounts(values, /*with_media=*/true),
  };
}

}  // namespace kjq::chart
