#pragma once
// What `kjq status` and `kjq list` show: a Job with its pods, recent events and lifecycle, and a
// kubectl-like table of jobs.
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dispatch/lifecycle.hpp"
#include "kube/api.hpp"

namespace kjq::dispatch {

struct JobReport {
  nlohmann::json job;
  std::vector<nlohmann::json> pods;
  std::vector<nlohmann::json> events;  // the Job's and its pods', oldest first
  Lifecycle lifecycle;
};

// Throws ApiError NotFound when the Job does not exist.
JobReport load_job_report(kube::KubeApi& api, const std::string& ns, const std::string& name,
                          const LifecycleOptions& options = {});
nlohmann::json job_report_to_json(const JobReport& r);
std::string format_job_report(const JobReport& r);

struct JobRow {
  std::string name, queue, status, reason, completions, duration, age;
};
// Jobs (optionally of one queue, by label) with lifecycles derived from their pods.
std::vector<JobRow> list_job_rows(kube::KubeApi& api, const std::string& ns, const std::string& queue);
std::string format_job_table(const std::vector<JobRow>& rows);
// The row of one Job (lifecycle from the Job and the given pods).
JobRow job_row(const nlohmann::json& job, const std::vector<nlohmann::json>& pods);
// kjq.nautobot.com/queue (any queue) or kjq.nautobot.com/queue=<label value of queue_name>.
std::string queue_selector(const std::string& queue_name);
// Lists then watches kjq's jobs (one queue or all); `on_change` gets every job's row (newest
// first) and the name of the job that changed ("" after a (re)list); return false to stop.
void watch_jobs(kube::KubeApi& api, const std::string& ns, const std::string& queue_name,
                const std::function<bool(const std::vector<JobRow>&, const std::string&)>& on_change,
                const std::atomic<bool>* cancel = nullptr);
// "5s", "3m12s", "2h5m", "4d" as kubectl prints ages.
std::string human_duration(std::chrono::seconds d);

}  // namespace kjq::dispatch
