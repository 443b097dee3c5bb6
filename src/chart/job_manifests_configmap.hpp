#pragma once
// <fullname>-k8s-jobs-manifests: one data key per enabled Kubernetes queue, each value the
// manifest exactly as the chart prints it (Go pretty JSON + "\n").
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"

namespace kjq::chart {

std::string manifests_configmap_name(const std::string& fullname);

// The exact bytes of one data value / one manifest.json file.
std::string manifest_text(const nlohmann::json& manifest);

// The ConfigMap. Unlike the reference it carries the standard labels, commonLabels and
// commonAnnotations (reference defect 6; see docs/differences.md).
nlohmann::json render_manifests_configmap(const ChartContext& context, const std::map<std::string, std::string>& texts);

}  // namespace kjq::chart
