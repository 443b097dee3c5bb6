#pragma once
// extraObjects: user-supplied objects, maps or YAML strings, with template references
// substituted (docs/values.md, "extraObjects").
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"
#include "values/values_document.hpp"

namespace kjq::chart {

// In list order; a string item may hold several `---` documents. Throws kjq::InputError naming
// extraObjects[i] for bad templates, bad YAML, or an item that is not a Kubernetes object.
std::vector<nlohmann::json> render_extra_objects(const ChartContext& context, const values::ValuesDocument& doc);

}  // namespace kjq::chart
