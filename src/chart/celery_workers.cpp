#include "chart/celery_workers.hpp"

#include "values/job_queues.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::merge_overwrite;

namespace {
const json& map_at(const json& values, const char* key) {
  static const json kEmpty = json::object();
  auto it = values.find(key);
  return it != values.end() && it->is_object() ? *it : kEmpty;
}
}  // namespace

bool schedules_in_kjq(const json& values) {
  const json& nautobot = map_at(values, "nautobot");
  auto it = nautobot.find("scheduledJobsIn");
  return it != nautobot.end() && it->is_string() && *it == "kjq";
}

std::map<std::string, json> celery_worker_set(const json& values) {
  const json& celery = map_at(values, "celery");
  const json& workers = map_at(values, "workers");
  std::map<std::string, json> set;

  // The deprecated keys sit between `celery` and workers.default/beat. (The reference merges
  // workers.<name> over a fresh copy of `celery` and that over the deprecated entry, which lets
  // celery's own scalars and lists beat celeryWorker/celeryBeat; kjq applies the precedence the
  // chart documents. See docs/differences.md.)
  for (const auto& [name, deprecated] : {std::pair{"default", "celeryWorker"}, std::pair{"beat", "celeryBeat"}}) {
    json entry = celery;
    merge_overwrite(entry, map_at(values, deprecated));
    set[name] = std::move(entry);
  }
  for (const auto& [name, worker] : workers.items()) {
    // A worker whose own type is another type (a job queue) never becomes a Deployment, and
    // copying the celery defaults into thousands of queues would dominate a large render.
    if (worker.is_object() && name != kBeatWorker && name != "default") {
      auto type = worker.find("type");
      if (type != worker.end() && values::is_truthy(*type) && *type != "celery") continue;
    }
    json& entry = set.try_emplace(name, celery).first->second;
    if (worker.is_object()) merge_overwrite(entry, worker);
    entry["component"] = "nautobot-celery";
  }
  json& beat = set[kBeatWorker];
  beat["replicaCount"] = 1;
  // nautobot.scheduledJobsIn: kjq — kjq serve fires the schedules; Beat would fire them again.
  if (schedules_in_kjq(values)) beat["enabled"] = false;
  merge_overwrite(beat, json{{"autoscaling", {{"enabled", false}}}, {"pdb", {{"create", false}}}});
  return set;
}

std::vector<CeleryWorker> celery_deployment_workers(const json& values) {
  std::vector<CeleryWorker> selected;
  for (auto& [name, settings] : celery_worker_set(values)) {
    auto enabled = settings.find("enabled");
    if (enabled == settings.end() || !values::is_truthy(*enabled)) continue;
    if (values::worker_type(settings) != "celery") continue;
    selected.push_back({name, std::move(settings)});
  }
  return selected;
}

}  // namespace kjq::chart
