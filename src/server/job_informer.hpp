#pragma once
// What serve's tracker watches: one kube::Informer over Jobs and one over their pods (one
// list+watch per kind, not one per job), kept slim. The Jobs are this service's own (label
// kjq.nautobot.com/serve=<instance>) and, unless turned off, those Nautobot created itself
// (the chart's job label, --nautobot-job-selector). Every change names the Job it concerns
// through `on_change`, a pod's by its Job; a relist also names the Jobs that vanished while the
// watch was down. A watch that fails for good (403, ...) is retried with backoff, never fatal.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "kube/informer.hpp"
#include "kube/label_selector.hpp"
#include "server/serve_options.hpp"
#include "server/store/job_record.hpp"

namespace kjq::server {

struct JobSnapshot {
  std::optional<nlohmann::json> job;  // nullopt: not in the cache (never seen, or deleted)
  std::vector<nlohmann::json> pods;
};

struct InformerStats {
  long job_watch_restarts = 0, pod_watch_restarts = 0, relists = 0, failures = 0;
};

class JobInformer {
 public:
  using ChangeHandler = std::function<void(const std::string& job_name, std::chrono::steady_clock::time_point seen)>;

  // `nautobot_jobs` empty: this service's Jobs only.
  JobInformer(kube::KubeApi& api, const std::string& ns, const std::string& instance, kube::LabelSelector nautobot_jobs,
              int watch_timeout_seconds = 300);
  ~JobInformer();
  JobInformer(const JobInformer&) = delete;
  JobInformer& operator=(const JobInformer&) = delete;

  using NewJobHandler = std::function<void(const nlohmann::json& job)>;
  // `on_new_nautobot_job` (may be empty) gets each Nautobot Job seen for the first time, in
  // creation order, before `on_change` names it.
  void start(const ChangeHandler& on_change, const NewJobHandler& on_new_nautobot_job = {});
  void stop();

  // Both have been listed at least once.
  bool synced() const { return jobs_.synced() && pods_.synced(); }
  // Synced, and neither watch is failing right now (for /readyz).
  bool healthy() const { return jobs_.healthy() && pods_.healthy(); }
  JobSnapshot snapshot(const std::string& job_name) const;
  std::vector<std::string> job_names() const;
  InformerStats stats() const;
  std::string last_error() const;
  // Whose Job this is: this service's (its label), Nautobot's (the selector), or neither.
  std::optional<JobOrigin> origin_of(const nlohmann::json& job) const;

 private:
  std::string instance_;
  kube::LabelSelector nautobot_jobs_;
  kube::Informer jobs_;
  kube::Informer pods_;  // indexed by their Job's name
};

}  // namespace kjq::server
