#include "values/validate_celery.hpp"

#include <cmath>

#include "util/value_path.hpp"
#include "values/job_queues.hpp"
#include "values/value_shape.hpp"

namespace kjq::values {

namespace {

using nlohmann::json;

class CeleryChecker {
 public:
  CeleryChecker(const ValuesDocument& doc, std::vector<Diagnostic>& out) : doc_(doc), out_(out) {}

  void check(const json& settings, const std::string& path) {
    if (settings.is_null()) return;
    if (!settings.is_object()) {
      error(path, "expected a map of Celery worker settings, got " + describe_value(settings));
      return;
    }
    settings_ = &settings;
    path_ = path;
    for (auto key : {"replicaCount", "revisionHistoryLimit", "terminationGracePeriodSeconds", "concurrency",
                     "worker_prefetch_multiplier"}) {
      whole_number(key, 0, 2147483647);
    }
    whole_number("metricsPort", 1, 65535);
    if (const json* v = find("task_acks_late"); v && !v->is_null() && !v->is_boolean()) {
      error(key_path("task_acks_late"), "expected true or false, got " + describe_value(*v));
    }
    for (auto key : {"taskQueues", "priorityClassName"}) {
      if (const json* v = find(key); v && !v->is_null() && !v->is_string()) {
        error(key_path(key), "expected a string, got " + describe_value(*v));
      }
    }
    for (auto key : {"podAffinityPreset", "podAntiAffinityPreset"}) preset(find(key), key_path(key));
    if (const json* node = find("nodeAffinityPreset"); node && node->is_object()) {
      auto it = node->find("type");
      preset(it == node->end() ? nullptr : &*it, path_key(key_path("nodeAffinityPreset"), "type"));
    }
    for (auto key : {"command", "args", "extraEnvVarsCM", "extraEnvVarsSecret"}) list_of_strings(key);
    for (auto key : {"extraEnvVars", "initContainers", "sidecars", "extraVolumes"}) list_of_named(key, Items::Named);
    list_of_named("extraVolumeMounts", Items::VolumeMounts);
    for (auto key : {"tolerations", "hostAliases"}) {
      if (const json* v = find(key); v && !v->is_null() && !v->is_array()) {
        error(key_path(key), "expected a list, got " + describe_value(*v));
      }
    }
    for (auto key : {"nodeSelector", "affinity", "podSecurityContext", "containerSecurityContext", "livenessProbe",
                     "readinessProbe", "lifecycleHooks", "updateStrategy", "autoscaling", "resources"}) {
      if (const json* v = find(key); v && !v->is_null() && !v->is_object()) {
        error(key_path(key), "expected a map, got " + describe_value(*v));
      }
    }
    for (auto key : {"annotations", "podAnnotations", "podLabels"}) string_map(key);
  }

 private:
  void error(const std::string& path, std::string message) { out_.push_back(doc_.at(path, std::move(message))); }
  std::string key_path(std::string_view key) const { return path_key(path_, key); }

  const json* find(std::string_view key) const {
    auto it = settings_->find(key);
    return it == settings_->end() ? nullptr : &*it;
  }

  void whole_number(const char* key, double minimum, double maximum) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!is_whole_number(*v) || v->get<double>() < minimum || v->get<double>() > maximum) {
      error(key_path(key), "expected a whole number from " + std::to_string(static_cast<long>(minimum)) + " to " +
                               std::to_string(static_cast<long>(maximum)) + ", got " + describe_value(*v));
    }
  }

  void preset(const json* v, const std::string& path) {
    if (!v || v->is_null()) return;
    if (!v->is_string() || (*v != "" && *v != "soft" && *v != "hard")) {
      error(path, "expected \"\", \"soft\" or \"hard\", got " + describe_value(*v));
    }
  }

  void list_of_strings(const char* key) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_array()) {
      error(key_path(key), "expected a list of strings, got " + describe_value(*v));
      return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        error(path_index(key_path(key), i), "expected a string (quote it), got " + describe_value((*v)[i]));
      }
    }
  }

  // The items of a list of maps: each needs a "name"; volume mounts also need a "mountPath".
  enum class Items { Named, VolumeMounts };

  void list_of_named(const char* key, Items items) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_array()) {
      error(key_path(key), "expected a list, got " + describe_value(*v));
      return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
      const json& item = (*v)[i];
      auto item_path = path_index(key_path(key), i);
      if (!item.is_object()) {
        error(item_path, "expected a map, got " + describe_value(item));
        continue;
      }
      for (const char* field : {"name", items == Items::VolumeMounts ? "mountPath" : nullptr}) {
        if (!field) continue;
        auto it = item.find(field);
        if (it == item.end()) {
          error(item_path, std::string("missing required key \"") + field + "\"");
        } else if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
          error(path_key(item_path, field), "expected a non-empty string, got " + describe_value(*it));
        }
      }
    }
  }

  void string_map(const char* key) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_object()) {
      error(key_path(key), "expected a map of strings, got " + describe_value(*v));
      return;
    }
    for (const auto& [k, item] : v->items()) {
      if (!item.is_string()) {
        error(path_key(key_path(key), k),
              "expected a string (label and annotation values are strings; quote it), got " + describe_value(item));
      }
    }
  }

  const ValuesDocument& doc_;
  std::vector<Diagnostic>& out_;
  const json* settings_ = nullptr;
  std::string path_;
};

}  // namespace

namespace {

// nautobot.scheduledJobsIn (kjq extension): "beat" or "kjq"; with kjq, Beat is not rendered, so
// no enabled queue may be a Celery queue (its schedules would have no one to fire them).
void validate_scheduled_jobs_in(const ValuesDocument& doc, std::vector<Diagnostic>& diagnostics) {
  const json& values = doc.merged;
  const auto nautobot = values.find("nautobot");
  if (nautobot == values.end() || !nautobot->is_object()) return;
  const auto in = nautobot->find("scheduledJobsIn");
  if (in == nautobot->end() || in->is_null()) return;
  const std::string path = "nautobot.scheduledJobsIn";
  if (!in->is_string() || (*in != "beat" && *in != "kjq")) {
    diagnostics.push_back(doc.at(path, "expected \"beat\" or \"kjq\", got " + describe_value(*in)));
    return;
  }
  if (*in != "kjq") return;
  std::string celery_queues;
  const auto workers = values.find("workers");
  if (workers != values.end() && workers->is_object()) {
    for (const auto& [name, worker] : workers->items()) {
      if (name == "beat" || !worker.is_object()) continue;
      const auto enabled = worker.find("enabled");
      if (enabled == worker.end() || !is_truthy(*enabled)) continue;
      const auto type = worker.find("type");
      if (type != worker.end() && !type->is_null() && !type->is_string()) continue;  // reported elsewhere
      if (worker_type(worker) == "celery") celery_queues += (celery_queues.empty() ? "" : ", ") + name;
    }
  }
  if (!celery_queues.empty())
    diagnostics.push_back(
        doc.at(path,
               "kjq fires the schedules of Kubernetes queues only, and with \"kjq\" Celery Beat is not rendered; "
               "the enabled Celery queue(s) " +
                   celery_queues +
                   " would have no one to fire theirs (disable them, e.g. workers.default.enabled: false, or keep "
                   "\"beat\")"));
}

}  // namespace

void validate_celery_values(const ValuesDocument& doc, std::vector<Diagnostic>& diagnostics) {
  validate_scheduled_jobs_in(doc, diagnostics);
  CeleryChecker checker(doc, diagnostics);
  const json& values = doc.merged;
  for (auto key : {"celery", "celeryWorker", "celeryBeat"}) {
    if (auto it = values.find(key); it != values.end()) checker.check(*it, key);
  }
  auto workers = values.find("workers");
  if (workers == values.end() || !workers->is_object()) return;
  for (const auto& [name, worker] : workers->items()) {
    if (!worker.is_object()) continue;  // reported by validate_values
    auto type = worker.find("type");
    if (type != worker.end() && !type->is_null() && !type->is_string()) continue;  // reported there too
    if (worker_type(worker) == "celery") checker.check(worker, path_key("workers", name));
  }
}

}  // namespace kjq::values
