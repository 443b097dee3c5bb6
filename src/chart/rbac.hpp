#pragma once
// The ServiceAccount Nautobot runs as and the job-creator Role/RoleBinding (docs/values.md,
// "Top-level keys" and "Job-creator Role: following and cancelling jobs").
#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"

namespace kjq::chart {

nlohmann::json render_service_account(const ChartContext& context);

// roles.jobCreator.name or <fullname>-job-creator.
std::string job_creator_role_name(const ChartContext& context);

// The reference's rule (batch/jobs create, get, list, watch), then, when
// serviceAccount.roles.jobCreator.followAndCancel is truthy (kjq extension, default true),
// follow_and_cancel_rules(), then, when an enabled kubernetes queue has admission: kjq,
// admission_rule().
nlohmann::json render_job_creator_role(const ChartContext& context);

// The reference's rule: batch/jobs create, get, list, watch.
nlohmann::json job_creator_rule();

// patch batch/jobs: kjq serve un-suspends the Jobs of queues with admission: kjq.
nlohmann::json admission_rule();

// What following and cancelling jobs needs beyond the reference's rule: delete batch/jobs;
// list/watch/delete pods; get pods/log; list events (four rules, in that order).
nlohmann::json follow_and_cancel_rules();
nlohmann::json render_job_creator_role_binding(const ChartContext& context);

}  // namespace kjq::chart
