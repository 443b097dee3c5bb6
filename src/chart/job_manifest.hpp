#pragma once
// The Kubernetes Job manifest of one job queue (docs/values.md, "How values are combined" and
// "kubernetesJobs and workers.<name>"), plus kjq's
// extensions (activeDeadlineSeconds, jobOverrides) and the checks the reference lacks.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"
#include "values/values_document.hpp"

namespace kjq::chart {

inline constexpr const char* kMainContainerName = "nautobot-job";
inline constexpr const char* kWorkerNameAnnotation = "nautobot-job.io/worker-name";

// The manifest of workers.<queue> (which must be an enabled kubernetes worker).
nlohmann::json render_job_manifest(const ChartContext& context, const std::string& queue);

// Problems that would make Kubernetes or Nautobot reject this manifest only when the first job
// runs: the main container missing or not first, a volume mount that names no volume.
std::vector<Diagnostic> check_job_manifest(const nlohmann::json& manifest, const std::string& queue,
                                           const values::ValuesDocument& doc);

}  // namespace kjq::chart
