#pragma once
// What `kjq status` and `kjq list` show: a Job with its pods, recent events and lifecycle, and a
// kubectl-like table of jobs.
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dispatch/lifecycle.hpp"
#include "kube/api.hpp"
#include "kube/label_selector.hpp"

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

// Nautobot creates Jobs itself from the manifests kjq renders: they carry the chart's labels
// (app.kubernetes.io/component: nautobot-job), the queue in the annotation below, their JobResult's
// uuid at the end of their name (<NAUTOBOT_KUBERNETES_JOB_POD_NAME>-<uuid>), and none of kjq's labels.
// The same strings as kjq serve's (server/serve_options.hpp; the CLI checks they agree).
inline constexpr const char* kNautobotQueueAnnotation = "nautobot-job.io/worker-name";
inline constexpr const char* kDefaultNautobotJobSelector = "app.kubernetes.io/component=nautobot-job";

// Who created a Job: kjq (it has kjq's queue label) or Nautobot (anything else a selection keeps).
inline constexpr const char* kOriginKjq = "kjq";
inline constexpr const char* kOriginNautobot = "nautobot";
std::string job_origin(const nlohmann::json& job);
// The queue: kjq's annotation kjq.nautobot.com/queue, else Nautobot's nautobot-job.io/worker-name.
std::string job_queue(const nlohmann::json& job);
// The JobResult id: kjq's label kjq.nautobot.com/job-result-id, else the uuid ending the name.
std::string job_result_id(const nlohmann::json& job);
// The lowercase uuid at the end of "<prefix>-<uuid>", or "".
std::string job_result_id_of_name(const std::string& job_name);

// Which Jobs `kjq list` and `kjq watch --queue` show.
struct JobSelection {
  std::string queue;  // "": every queue; else kjq's queue label (its label value) or Nautobot's annotation
  // Nautobot's own Jobs (--nautobot-job-selector); nullopt: kjq's Jobs only.
  std::optional<kube::LabelSelector> nautobot_jobs = kube::LabelSelector::parse(kDefaultNautobotJobSelector, "");
  std::string origin;  // "": both; kOriginKjq or kOriginNautobot: those only
};
// What the server can select (a label selector cannot say "kjq's OR Nautobot's": then every Job
// of the namespace, and `selected` decides).
std::string server_selector(const JobSelection& s);
bool selected(const nlohmann::json& job, const JobSelection& s);

struct JobRow {
  std::string name, queue, status, reason, completions, duration, age;
  std::string origin, job_result_id;
};
// The selected Jobs, newest first, with lifecycles derived from their pods.
std::vector<JobRow> list_job_rows(kube::KubeApi& api, const std::string& ns, const JobSelection& selection);
// NAME ORIGIN QUEUE STATUS REASON COMPLETIONS DURATION AGE
std::string format_job_table(const std::vector<JobRow>& rows);
nlohmann::json job_row_to_json(const JobRow& row);
// The row of one Job (lifecycle from the Job and the given pods).
JobRow job_row(const nlohmann::json& job, const std::vector<nlohmann::json>& pods);
// kjq.nautobot.com/queue (any queue) or kjq.nautobot.com/queue=<label value of queue_name>.
std::string queue_selector(const std::string& queue_name);
// Lists then watches the selected jobs; `on_change` gets every job's row (newest first) and the
// name of the job that changed ("" after a (re)list); return false to stop.
void watch_jobs(kube::KubeApi& api, const std::string& ns, const JobSelection& selection,
                const std::function<bool(const std::vector<JobRow>&, const std::string&)>& on_change,
                const std::atomic<bool>* cancel = nullptr);
// "5s", "3m12s", "2h5m", "4d" as kubectl prints ages.
std::string human_duration(std::chrono::seconds d);

}  // namespace kjq::dispatch
