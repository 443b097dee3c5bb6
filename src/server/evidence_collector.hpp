#pragma once
// Captures what a finished job left behind (log tail, Events) after its end has been recorded,
// on threads of its own. The end is recorded first so that a queue's slot frees and the record
// turns final at once, whatever the API server's Event lists cost; the evidence follows within
// moments, still before a Job's TTL can delete it. A job followed for Nautobot gets its
// write-back completed with the evidence (JobStore::attach_evidence); had kjq stopped in between,
// its write-back still goes out when due, without the evidence (docs/serve.md).
//
// When ends come faster than the captures (thousands of Jobs ending within seconds), the ones
// that matter most go first: a write-back into Nautobot waits for its evidence, then failures
// (whose evidence people read), then successes; first come, first served within each.
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "server/serve_options.hpp"
#include "server/store/job_store.hpp"

namespace kjq::server {

class EvidenceCollector {
 public:
  struct Task {
    JobRecord record;  // as it was before the end was recorded
    Finish finish;     // as recorded
    std::vector<nlohmann::json> pods;
    // The Job's own condition ended it: its end Event follows the condition closely (see
    // has_job_end_event) and is waited for briefly.
    bool ended_by_job_condition = false;
  };

  // A pod's log tail read when its container ended.
  struct KeptLog {
    std::string pod, log;
    bool cut = false;  // longer than the cap: cut from the front
  };

  EvidenceCollector(JobStore& store, kube::KubeApi& api, const ServeOptions& options);
  ~EvidenceCollector();
  EvidenceCollector(const EvidenceCollector&) = delete;
  EvidenceCollector& operator=(const EvidenceCollector&) = delete;

  // Called after a write-back's payload was completed (set before start()).
  void set_on_writeback(std::function<void()> wake) { on_writeback_ = std::move(wake); }
  void start(int threads);
  // Returns once the running captures end; tasks not started are dropped (their write-backs go
  // out without evidence when due).
  void stop();
  void add(Task task);

  // Reads `pod`'s log tail for Job `job_name` soon, ahead of the captures (once per pod).
  void keep_log(const std::string& job_name, const nlohmann::json& pod);
  // The same, now, on the caller's thread, unless a log of the Job is read or being read already
  // (a cancel is about to delete the pods; a read still queued is done now).
  void keep_log_now(const std::string& job_name, const nlohmann::json& pod);
  // The kept log of the Job, once read; it is handed over (no longer kept). nullopt while it is
  // still being read (the Job's capture then waits for it) or when there is none.
  std::optional<KeptLog> take_log(const std::string& job_name);
  // Drops what is kept or being read for the Job (its end was recorded elsewhere).
  void forget_log(const std::string& job_name);

 private:
  struct LogRead {
    std::string job_name;
    nlohmann::json pod;
  };

  void capture(Task& task);
  void read_log(const std::string& job_name, const nlohmann::json& pod);
  // The Job's kept log if it was read, no longer kept (under mu_).
  std::optional<KeptLog> hand_over(const std::string& job_name);
  // The Job's log read still queued, taken out of its queue (under mu_).
  std::optional<LogRead> take_queued_read(const std::string& job_name);
  // For capture(): the log kept for the Job, waiting while it is being read; handed over.
  std::optional<KeptLog> await_log(const std::string& job_name);
  // 0: a failure's write-back into Nautobot waits for it; 1: another failed or cancelled job;
  // 2: it succeeded.
  static std::size_t priority_of(const Task& task);
  bool empty() const;  // under mu_
  template <typename T>
  static T take_front(std::deque<T>& queue) {
    T front = std::move(queue.front());
    queue.pop_front();
    return front;
  }

  JobStore& store_;
  kube::KubeApi& api_;
  const ServeOptions& options_;
  std::function<void()> on_writeback_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_[3];         // by priority_of
  std::deque<LogRead> log_reads_[2];  // 0: the job's container failed (job_container_failed); 1: it did not
  struct LogEntry {
    KeptLog kept;
    bool read = false;  // false: being read
  };
  std::map<std::string, LogEntry> logs_;  // by Job name
  std::condition_variable log_read_cv_;   // a log was read
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kjq::server
