#pragma once
// One label-filtered list+watch over this service's Jobs and one over their pods (client-go's
// shared informer, cut down): not one watch per job. Each keeps an in-memory cache, resumes from
// the last resourceVersion and relists on 410 (kube::ListWatch). Every change names the Job it
// concerns through `on_change`; a relist also names the Jobs that vanished while the watch was
// down. A watch that fails for good (403, ...) is retried with backoff, never fatal. The caches
// keep a slim copy of each object (name, uid, times, job-name label, status, container names) as
// compact JSON text, parsed again when the tracker asks for a snapshot.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"

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

  JobInformer(kube::KubeApi& api, std::string ns, std::string label_selector, int watch_timeout_seconds = 300);
  ~JobInformer();
  JobInformer(const JobInformer&) = delete;
  JobInformer& operator=(const JobInformer&) = delete;

  void start(ChangeHandler on_change);
  void stop();

  // Both caches have been listed at least once.
  bool synced() const { return jobs_synced_ && pods_synced_; }
  // Synced, and neither watch is failing right now (for /readyz).
  bool healthy() const { return synced() && !jobs_failing_ && !pods_failing_; }
  JobSnapshot snapshot(const std::string& job_name) const;
  std::vector<std::string> job_names() const;
  InformerStats stats() const;
  std::string last_error() const;

 private:
  void run_jobs();
  void run_pods();
  void run_guarded(const char* what, std::atomic<bool>& failing, const std::function<void()>& body);
  void changed(const std::string& name);

  kube::KubeApi& api_;
  std::string ns_;
  std::string selector_;
  int watch_timeout_;
  ChangeHandler on_change_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> jobs_synced_{false}, pods_synced_{false};
  // The watch's last attempt failed and no list or event has arrived since.
  std::atomic<bool> jobs_failing_{false}, pods_failing_{false};
  mutable std::mutex mu_;
  // Slim copies as compact JSON text (job_informer.cpp: slim()).
  std::map<std::string, std::string> jobs_;                                // by Job name
  std::map<std::string, std::map<std::string, std::string>> pods_by_job_;  // job-name → pod name → pod
  InformerStats stats_;
  std::string last_error_;
  std::thread job_thread_, pod_thread_;
};

}  // namespace kjq::server
