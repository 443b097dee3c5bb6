#pragma once
// How one simulated pod of a Job evolves: its outcome (from the pod template's kube-emulator/*
// annotations), its stages over time, the Pod object and status at each stage, its Events and
// its log.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kjq::emulator {

enum class Outcome { Succeed, Fail, Oom, ImagePullError, ConfigError, InvalidImage, Unschedulable, Hang };

std::optional<Outcome> parse_outcome(const std::string& text);
std::string outcome_name(Outcome o);

struct SimulationDefaults {
  Outcome outcome = Outcome::Succeed;
  double run_seconds = 1.0;     // kube-emulator/run-seconds
  double pull_seconds = 0.2;    // kube-emulator/pull-seconds (ContainerCreating / image pull)
  double backoff_seconds = 10;  // base of the exponential pod-failure backoff
};

// The per-pod plan read from the Job's pod template annotations.
struct PodPlan {
  Outcome outcome = Outcome::Succeed;
  double pull_seconds = 0.2;
  double run_seconds = 1.0;
  int exit_code = 0;
  std::string log;  // full container output
};

PodPlan plan_from_template(const nlohmann::json& pod_template, const SimulationDefaults& defaults,
                           const std::string& job_name);

// Stages: 0 created (ContainerCreating, or Unschedulable); 1 Running, or ErrImagePull;
// 2 terminated, or ImagePullBackOff.
int final_stage(Outcome o);
bool stage_is_terminated(Outcome o, int stage);  // the container has exited
bool stage_is_running(Outcome o, int stage);
// Simulated seconds from pod creation until `stage` is reached (negative: never).
double stage_offset_seconds(const PodPlan& plan, int stage);

struct PodTimes {
  std::string created;   // RFC 3339
  std::string started;   // container start ("" before)
  std::string finished;  // container end ("" before)
};

// A new Pod object for a Job (labels, owner reference, spec from the template).
nlohmann::json make_job_pod(const nlohmann::json& job, const std::string& pod_name, const std::string& node);
// The pod's status at `stage`.
nlohmann::json pod_status(const nlohmann::json& pod, const PodPlan& plan, int stage, const PodTimes& times);

struct EventSpec {
  std::string type;    // Normal or Warning
  std::string reason;  // Scheduled, Pulling, Pulled, Created, Started, Failed, BackOff, ...
  std::string message;
  std::string component;   // kubelet, default-scheduler, job-controller
  std::string field_path;  // spec.containers{main}
};
// Events emitted on entering `stage`.
std::vector<EventSpec> pod_stage_events(const nlohmann::json& pod, const PodPlan& plan, int stage,
                                        const std::string& node);
// A v1 Event about `object`.
nlohmann::json make_event(const nlohmann::json& object, const EventSpec& spec, const std::string& node);

}  // namespace kjq::emulator
