#pragma once
// Follows every dispatched job to a recorded end. The informer names the Jobs that changed; this
// derives each one's lifecycle (dispatch::derive_lifecycle, the same reasons `kjq status` gives)
// and writes it to the store. A finished job's end is recorded first; its log tail and Events
// follow from the EvidenceCollector (the log is kept as soon as its container ends, before the
// Job's TTL can take the pod). A pod that can never start
// fails the job and its Job is deleted. A periodic full reconcile walks every unfinished record:
// it adopts Jobs created before a crash, recreates Jobs whose create never happened, re-sends
// cancels, and fails jobs whose Job vanished.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "dispatch/lifecycle.hpp"
#include "kube/api.hpp"
#include "server/admission.hpp"
#include "server/dirty_queue.hpp"
#include "server/evidence_collector.hpp"
#include "server/job_informer.hpp"
#include "server/nautobot_jobs.hpp"
#include "server/serve_metrics.hpp"
#include "server/serve_options.hpp"
#include "server/store/job_store.hpp"

namespace kjq::server {

class JobTracker {
 public:
  JobTracker(JobStore& store, kube::KubeApi& api, JobInformer& informer, Admission& admission,
             const ServeOptions& options, ServeMetrics& metrics);
  ~JobTracker();
  JobTracker(const JobTracker&) = delete;
  JobTracker& operator=(const JobTracker&) = delete;

  void start();
  void stop();
  // The informer's change handler.
  void changed(const std::string& job_name, std::chrono::steady_clock::time_point seen);
  // Records a Job Nautobot created (the informer's first sight of it, in creation order, so that
  // the store's order is the queue's FIFO order); nullopt for any other Job.
  std::optional<JobRecord> adopt(const nlohmann::json& job);
  // Look at this Job again (reconcile): like changed() without an event time.
  void recheck(const std::string& job_name);
  // How long the oldest unprocessed watch event has waited (zero when none). Admission's create
  // workers hold back while it is high, so that recording what happened goes before making more.
  std::chrono::steady_clock::duration event_backlog_age();
  // One pass over every unfinished record (also run at start-up and every reconcile_interval).
  void reconcile_all();
  // Called after a finish queued a write-back into Nautobot (set before start()).
  void set_on_writeback(std::function<void()> wake) {
    evidence_.set_on_writeback(wake);
    on_writeback_ = std::move(wake);
  }
  // How long a Nautobot Job's write-back waits for its evidence at most (then goes without).
  static constexpr std::chrono::milliseconds kEvidenceWait{10'000};
  // Deletes the Job of a job whose cancel was requested (API handler, and reconcile on restart).
  void send_cancel(const JobRecord& record);

 private:
  void loop();
  void sync(const std::string& job_name, std::optional<std::chrono::steady_clock::time_point> seen);
  void sync_record(const JobRecord& record, const JobSnapshot& snap, dispatch::Lifecycle l,
                   const dispatch::LifecycleOptions& lo);
  void handle_missing_job(const JobRecord& record);
  void finish_with_evidence(const JobRecord& record, JobState state, const std::string& reason,
                            const std::string& message, std::optional<int> exit_code,
                            const std::vector<nlohmann::json>& pods, bool ended_by_job_condition = false);
  std::optional<JobRecord> record_for(const std::string& job_name);
  // adopt() once record_for() has found no record.
  std::optional<JobRecord> record_adopted(const nlohmann::json& job);

  // Stops following the Job's progress; `keep_log`: its kept log stays for the evidence capture.
  void forget(const std::string& job_name, bool keep_log = false);
  // Has the log of the newest pod whose container ended read (once per pod, by the collector).
  void keep_log_early(const std::string& job_name, const std::vector<nlohmann::json>& pods);
  void recheck_waiting();

  JobStore& store_;
  kube::KubeApi& api_;
  JobInformer& informer_;
  Admission& admission_;
  const ServeOptions& options_;
  ServeMetrics& metrics_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;       // workers: a name became dirty
  std::condition_variable tick_cv_;  // the loop thread: stop
  // Names to look at. Workers take the oldest first, so under a burst no Job waits behind names
  // that keep changing (a map's name order made late-sorting names wait for seconds).
  DirtyQueue dirty_;
  std::set<std::string> busy_;
  // Per Job name: the last progress written.
  std::map<std::string, std::pair<JobState, std::string>> written_;
  std::thread thread_;
  std::vector<std::thread> workers_;
  EvidenceCollector evidence_;
  std::function<void()> on_writeback_;
};

}  // namespace kjq::server
