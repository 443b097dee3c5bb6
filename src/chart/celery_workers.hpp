#pragma once
// The Celery worker set (the reference's "nautobot.workers" helper): every workers.<name> merged
// over the `celery` defaults, the deprecated celeryWorker/celeryBeat keys, and the settings
// forced on Beat (docs/values.md, "Which Deployments are rendered").
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::chart {

// The worker whose Deployment runs `celery beat`: no task queues, always one replica.
inline constexpr const char* kBeatWorker = "beat";

// nautobot.scheduledJobsIn is "kjq" (kjq extension): kjq serve fires the schedules, so the set's
// beat gets enabled: false.
bool schedules_in_kjq(const nlohmann::json& values);

// name → merged settings, for `default`, `beat` and every workers.<name>, whatever their type.
// Precedence (mergeOverwrite, later wins): celery < celeryWorker (default) / celeryBeat (beat)
// < workers.<name> < {component: nautobot-celery}; then beat gets replicaCount 1,
// autoscaling.enabled false and pdb.create false.
std::map<std::string, nlohmann::json> celery_worker_set(const nlohmann::json& values);

struct CeleryWorker {
  std::string name;
  nlohmann::json settings;  // the merged settings (docs/values.md, "Which Deployments are rendered")
};

// The workers that get a Deployment, in sorted name order: `enabled` truthy and type celery
// (unset or "celery"). Kubernetes queues and disabled workers produce nothing.
std::vector<CeleryWorker> celery_deployment_workers(const nlohmann::json& values);

}  // namespace kjq::chart
