#pragma once
// Where a dispatched job is, derived from its Job, its pods and (optionally) its Events, with a
// machine-readable reason (documented in docs/runtime.md):
//   Submitted  — Job exists, no pod scheduled yet            (reason: Created | Pending | Unschedulable)
//   Scheduled  — a pod is on a node, container not running   (reason: ContainerCreating | PodInitializing | ...)
//   Running    — a container runs                            (reason: Running | Completing: the pod
//                succeeded, the Job's Complete condition is not there yet)
//   Submitted  — also after a failed pod that will be retried (reason: Retrying)
//   Succeeded  — Job condition Complete                      (reason: Completed)
//   Failed     — Job condition Failed, or a pod that can never start:
//       DeadlineExceeded, OOMKilled, Error (exit code), BackoffLimitExceeded (no pod detail),
//       ErrImagePull, ImagePullBackOff, CreateContainerConfigError, InvalidImageName,
//       Unschedulable (still unschedulable past the start deadline), Deleted
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::dispatch {

enum class Phase { Submitted, Scheduled, Running, Succeeded, Failed };
std::string phase_name(Phase p);

struct Lifecycle {
  Phase phase = Phase::Submitted;
  std::string reason;
  std::string message;
  std::optional<int> exit_code;
  std::string pod;         // the pod the reason comes from ("" when none)
  std::string job_reason;  // the Job condition's own reason (BackoffLimitExceeded, ...)
  // The Job controller has decided the end: Complete/SuccessCriteriaMet or Failed/FailureTarget
  // (since Kubernetes 1.31 the target conditions come first, the final ones once the pods are
  // gone). False when the end is read from the pods of a still-active Job.
  bool job_ended = false;
  bool terminal() const { return phase == Phase::Succeeded || phase == Phase::Failed; }
  bool operator==(const Lifecycle&) const = default;
};

struct LifecycleOptions {
  std::chrono::seconds start_deadline{300};  // how long a pod may stay unschedulable
  // How long a container may wait in ErrImagePull, ImagePullBackOff, CreateContainerConfigError...
  // before the job counts as failed. nullopt: at once (kjq status reports what it sees); kjq serve
  // waits start_deadline, since a registry hiccup or a Secret created late can still recover.
  std::optional<std::chrono::seconds> never_start_grace;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

Lifecycle derive_lifecycle(const nlohmann::json& job, const std::vector<nlohmann::json>& pods,
                           const std::vector<nlohmann::json>& events = {}, const LifecycleOptions& options = {});

nlohmann::json lifecycle_to_json(const Lifecycle& l);
// "Failed/OOMKilled (exit 137): ..." — one line for people.
std::string lifecycle_summary(const Lifecycle& l);

// RFC 3339 "2026-11-26T22:17:16Z" → time point (nullopt when unparsable).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& s);

}  // namespace kjq::dispatch
