#pragma once
// The ServiceAccount Nautobot runs as and the job-creator Role/RoleBinding (chart §4.1–4.2).
#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"

namespace kjq::chart {

nlohmann::json render_service_account(const ChartContext& context);

// roles.jobCreator.name or <fullname>-job-creator.
std::string job_creator_role_name(const ChartContext& context);

// One rule: batch/jobs create, get, list, watch (the reference's set).
nlohmann::json render_job_creator_role(const ChartContext& context);
nlohmann::json render_job_creator_role_binding(const ChartContext& context);

}  // namespace kjq::chart
