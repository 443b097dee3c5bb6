#pragma once
// Admission: moves Queued jobs to Submitted under each queue's cap (the store's claim() is the
// one place the cap is enforced, across replicas too), then creates their Kubernetes Jobs on a
// small pool of workers, or, for a Job Nautobot created suspended (admission: kjq), resumes it. The manifest is read
// from disk for every create, never cached. A create that the API refuses for good fails the job with a reason; one
// that could not get an answer leaves the job Submitted for the reconciler to retry (the Job's name is fixed, so a
// retry can never make a second Job).
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
#include <vector>

#include "kube/api.hpp"
#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"
#include "server/serve_metrics.hpp"
#include "server/serve_options.hpp"
#include "server/store/job_store.hpp"

namespace kjq::server {

class Admission {
 public:
  Admission(JobStore& store, kube::KubeApi& api, const queue::ManifestStore& manifests, const ServeOptions& options,
            ServeMetrics& metrics);
  ~Admission();
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  void start();
  void stop();
  // Something changed (a submit, a job ended): look at the queues now rather than at the next tick.
  void wake();
  // Creates the Job of an already claimed record again (the reconciler found no Job for it).
  void recreate(const JobRecord& record);
  // A create for this job is queued or running in this process.
  bool in_flight(const std::string& id) const;
  // This process resumed the job's Job less than kResumeSettle ago: a watch event that still
  // shows it suspended is older than the resume, not a sign that it failed.
  bool resumed_lately(const std::string& id) const;
  static constexpr std::chrono::seconds kResumeSettle{5};
  // The age of the tracker's oldest unprocessed watch event. While it is above
  // kYieldWhenBacklogAbove, each create waits (up to kMaxYield): under a burst, recording what
  // happened to running jobs goes before creating more (set before start()). Resumes of
  // Nautobot's suspended Jobs do not wait (yields_to_backlog).
  void set_event_backlog(std::function<std::chrono::steady_clock::duration()> backlog) {
    event_backlog_ = std::move(backlog);
  }
  static constexpr std::chrono::milliseconds kYieldWhenBacklogAbove{20};
  static constexpr std::chrono::milliseconds kMaxYield{100};

 private:
  void admit_loop();
  void create_loop();
  void create(const JobRecord& record);
  void resume(const JobRecord& record);
  void enqueue(const JobRecord& record);

  JobStore& store_;
  kube::KubeApi& api_;
  const queue::ManifestStore& manifests_;
  const ServeOptions& options_;
  ServeMetrics& metrics_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable wake_cv_, work_cv_;
  bool woken_ = false;
  std::deque<JobRecord> work_;
  std::set<std::string> in_flight_;
  std::map<std::string, std::chrono::steady_clock::time_point> resumed_;  // by job id, pruned past kResumeSettle
  std::thread admit_thread_;
  std::vector<std::thread> workers_;
  std::function<std::chrono::steady_clock::duration()> event_backlog_;
};

// Sleeps in short steps while `backlog()` is above `above`, for at most `at_most` or until `stop`;
// returns the time waited. What Admission's create workers do before each create.
std::chrono::steady_clock::duration yield_to_backlog(
    const std::function<std::chrono::steady_clock::duration()>& backlog, const std::atomic<bool>& stop,
    std::chrono::milliseconds above, std::chrono::milliseconds at_most);

// Whether the work for `record` waits for the tracker's backlog first: a create of kjq's own Job
// does (a manifest read, a Job of pods to come); a resume of a Job Nautobot created does not: it
// is one small patch, and the time from a freed slot to it is what a Nautobot user waits on
// (it waited up to kMaxYield, the tail of the un-suspend latency in docs/performance.md).
bool yields_to_backlog(const JobRecord& record);

// The Job for one record: the queue's manifest prepared as Nautobot does (queue::prepare_job),
// plus the service label on the Job and its pod template, and the time limit as
// activeDeadlineSeconds. Throws kjq::InputError when the manifest or the request is unusable.
queue::PreparedJob prepare_served_job(const queue::ManifestStore& manifests, const JobRecord& record,
                                      const ServeOptions& options);

}  // namespace kjq::server
