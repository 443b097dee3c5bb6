#pragma once
// metadata for the chart's own objects: name, namespace, standard labels + commonLabels, and
// annotations (own annotations win over commonAnnotations; omitted when both are empty).
#include <string>

#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"

namespace kjq::chart {

nlohmann::json object_metadata(const ChartContext& context, const std::string& name,
                               const nlohmann::json& own_annotations);

}  // namespace kjq::chart
