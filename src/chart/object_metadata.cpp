#include "chart/object_metadata.hpp"

#include "values/merge.hpp"

namespace kjq::chart {

nlohmann::json object_metadata(const ChartContext& context, const std::string& name,
                               const nlohmann::json& own_annotations) {
  nlohmann::json labels = context.standard_labels;
  values::merge_overwrite(labels, context.common_labels);
  nlohmann::json metadata = {{"name", name}, {"namespace", context.release.namespace_}, {"labels", std::move(labels)}};
  nlohmann::json annotations = context.common_annotations;
  if (own_annotations.is_object()) values::merge_overwrite(annotations, own_annotations);
  if (!annotations.empty()) metadata["annotations"] = std::move(annotations);
  return metadata;
}

}  // namespace kjq::chart
