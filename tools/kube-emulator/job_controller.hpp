#pragma once
// The simulated job controller, scheduler and kubelet: creates Pods for Jobs, moves them through
// their stages, keeps Job status (active/succeeded/failed, conditions) up to date, honours
// backoffLimit, activeDeadlineSeconds and ttlSecondsAfterFinished, and records Events.
// One class (they share the controller thread and its state), defined in three files as
// Kubernetes keeps the parts apart: job_controller.cpp (the Job and TTL controllers),
// garbage_collector.cpp (dependents, foreground deletion) and kubelet.cpp (pod stages, graceful
// termination, logs).
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "object_store.hpp"
#include "pod_simulation.hpp"
#include "sim_clock.hpp"

namespace kjq::emulator {

class JobController {
 public:
  JobController(ObjectStore& store, const ResourceRegistry& registry, SimClock clock, SimulationDefaults defaults,
                bool record_events = true);
  ~JobController();
  JobController(const JobController&) = delete;
  JobController& operator=(const JobController&) = delete;

  void start();
  void stop();
  // A Job was stored: start simulating it.
  void job_created(const std::string& ns, const std::string& name, const std::string& uid);
  // The container output of a pod; nullopt when the pod is not one of ours.
  std::optional<std::string> pod_log(const std::string& ns, const std::string& pod_name) const;
  const std::string& node_name() const { return node_; }

  // Something about this job changed outside the controller (e.g. one of its pods was deleted).
  void poke(const std::string& job_uid);
  // Delete the Job's pods (cascading deletion, each with its own terminationGracePeriodSeconds,
  // as the garbage collector does) or orphan them.
  void delete_dependents(const nlohmann::json& job, const std::string& propagation);
  // Graceful deletion of a pod, from any thread. A pod that is not on a node or has finished,
  // or a grace of 0, is removed at once; otherwise it gets deletionTimestamp and
  // deletionGracePeriodSeconds (a later delete may only shorten them), and the simulated kubelet
  // stops its container (SIGTERM; a `hang` pod ignores it and is killed at the deadline) and then
  // removes it. `grace` defaults to the pod's terminationGracePeriodSeconds. Returns the pod as
  // it is after the call (with deletionTimestamp), or null when there is no such pod.
  ObjectPtr delete_pod(const std::string& ns, const std::string& name, std::optional<long long> grace,
                       const std::string& uid = "");
  // Foreground deletion (the API's, and the TTL controller's): marks the Job (deletionTimestamp,
  // foregroundDeletion finalizer), deletes its pods, and removes it once the last one is gone.
  // Returns the marked Job, or null when it is not there (or has another uid).
  ObjectPtr delete_job_foreground(const std::string& ns, const std::string& name, const std::string& uid);
  // Removes a Job marked for foreground deletion once it owns no pod.
  void finish_foreground_deletion(const std::string& ns, const std::string& job_name, const std::string& job_uid);

 private:
  struct SimPod {
    std::string name;
    PodPlan plan;
    SteadyTime created;
    int stage = 0;
    bool gone = false;         // deleted before it terminated (counted as failed)
    bool terminating = false;  // marked for deletion; the kubelet has not removed it yet
    PodTimes times;
  };
  struct SimJob {
    std::string ns, name, uid;
    std::vector<SimPod> pods;
    SteadyTime start;
    std::string start_wall;
    SteadyTime last_failure{};
    int failed = 0;
    int succeeded = 0;
    bool finished = false;
    SteadyTime finished_at{};
    nlohmann::json conditions = nlohmann::json::array();
    std::string completion_time;
    std::optional<SteadyTime> wake;
    bool terminal_event_recorded = false;
    // Failed (after FailureTarget) waits until the pods being stopped are gone, as in 1.31+.
    bool failed_condition_pending = false;
    std::string failed_reason, failed_message;
  };
  // A pod whose deletion the kubelet is carrying out.
  struct Termination {
    std::string ns, name, uid, job_uid, job_name;
    long long grace = 0;
  };
  struct StoppingPod {
    Termination t;
    PodPlan plan;
    PodTimes times;
    int exit_code = 143;  // 143: exited on SIGTERM; 137: killed at the end of the grace period
  };

  void run();
  void schedule(SimJob& sj, SteadyTime when);  // controller thread only
  void write_status(SimJob& sj);
  // Returns the next time this job needs attention (nullopt: forget it; SteadyTime::max(): keep
  // it but no timer, e.g. a hanging pod).
  std::optional<SteadyTime> sync_job(SimJob& job);
  void create_pod(SimJob& sj, const nlohmann::json& job);
  void advance_pod(SimJob& sj, SimPod& pod, SteadyTime now);
  enum class JobEnd { Complete, Failed };
  void finish(SimJob& sj, JobEnd end, const std::string& reason, const std::string& message);
  void record_event(const nlohmann::json& object, const EventSpec& spec);
  void delete_job_and_pods(SimJob& sj);
  void begin_termination(const Termination& t, SteadyTime now);  // controller thread
  void complete_termination(const std::string& key);             // controller thread
  SimPod* find_sim_pod(const std::string& job_uid, const std::string& pod_name, SimJob** job = nullptr);
  // The namespace's pods with an owner reference to `job_uid`.
  std::vector<ObjectPtr> owned_pods(const std::string& ns, const std::string& job_uid) const;
  int terminating_pods(const SimJob& sj) const;

  ObjectStore& store_;
  const ResourceType& jobs_;
  const ResourceType& pods_;
  const ResourceType& events_;
  SimClock clock_;
  SimulationDefaults defaults_;
  bool record_events_;
  std::string node_ = "kube-emulator-node";

  // Hand-off from API threads to the controller thread (guarded by mu_).
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<SimJob> created_;
  std::vector<std::string> pokes_;
  std::vector<Termination> terminations_;
  // Owned by the controller thread.
  std::unordered_map<std::string, SimJob> jobs_by_uid_;
  std::multimap<SteadyTime, std::string> timers_;               // wake time -> job uid
  std::unordered_map<std::string, StoppingPod> stopping_pods_;  // "ns/name" -> the pod
  std::multimap<SteadyTime, std::string> pod_exits_;            // exit time -> "ns/name"
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kjq::emulator
