#pragma once
// What a finished job leaves behind, captured into the store before the Job's TTL can delete it:
// the tail of its log and the Events of the Job and its pods.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"

namespace kjq::server {

// The per-job cap on stored evidence: whatever a job's pods print or its Events say, its record
// stays small. What is cut is noted (JobRecord::evidence_truncated, the job's evidenceTruncated).
struct EvidenceOptions {
  int log_tail_lines = 100;
  std::size_t log_tail_max_bytes = 64 * 1024;  // a tail of very long lines is cut from the front
  std::size_t max_events = 100;                // the newest ones are kept
  std::size_t event_message_max_bytes = 2 * 1024;
  std::size_t events_max_bytes = 64 * 1024;  // the whole array as stored (JSON)
};

// The pod whose log tells the story: the newest pod whose job container (spec.containers[0],
// found by name among the statuses) started (terminated or running); nullopt when none did.
std::optional<std::string> pod_with_log(const std::vector<nlohmann::json>& pods);

// The newest pod whose job container has terminated: its log is complete and worth keeping
// now, before the Job's TTL can take the pod. nullopt when none has.
std::optional<std::string> newest_terminated_pod(const std::vector<nlohmann::json>& pods);

// Whether the job's container of `pod` ended with a non-zero exit code (OOMKilled included), or
// the pod failed without one: whose log matters first when many Jobs end at once.
bool job_container_failed(const nlohmann::json& pod);

// The log tail of the first container of `pod` ("" when the API has none, e.g. the pod is gone).
// Never throws.
// `cut` (when given) is set when the tail was longer than log_tail_max_bytes and was cut.
std::string capture_log_tail(kube::KubeApi& api, const std::string& ns, const nlohmann::json& pod,
                             const EvidenceOptions& options, bool* cut = nullptr);
// The pod named `name` among `pods` (null when absent).
const nlohmann::json* find_pod(const std::vector<nlohmann::json>& pods, const std::string& name);

// Events of the Job and of the given pods, oldest first, reduced to what people read:
// [{"time","type","reason","object","message"}]. Never throws ([] when unavailable).
nlohmann::json capture_events(kube::KubeApi& api, const std::string& ns, const std::string& job_name,
                              const std::vector<std::string>& pod_names);

// Cuts `events` (as capture_events returns them, oldest first) to the cap: each message to
// event_message_max_bytes (ending in "…"), then the oldest dropped until at most max_events
// remain and their JSON fits events_max_bytes. True when anything was cut.
bool cap_events(nlohmann::json& events, const EvidenceOptions& options);

// Whether `events` (as capture_events returns them) hold the Job controller's Event for the end
// of Job `job_name` (Completed, BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy, ...).
bool has_job_end_event(const nlohmann::json& events, const std::string& job_name);

}  // namespace kjq::server
