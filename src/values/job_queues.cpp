#include "values/job_queues.hpp"

#include "values/merge.hpp"

namespace kjq::values {

std::string worker_type(const nlohmann::json& worker) {
  if (!worker.is_object()) return "celery";
  auto it = worker.find("type");
  if (it == worker.end() || !is_truthy(*it)) return "celery";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

namespace {
std::vector<std::string> enabled_workers_of_type(const nlohmann::json& values, std::string_view type) {
  std::vector<std::string> names;
  auto workers = values.find("workers");
  if (workers == values.end() || !workers->is_object()) return names;
  for (const auto& [name, worker] : workers->items()) {  // std::map: already sorted
    if (!worker.is_object()) continue;
    auto enabled = worker.find("enabled");
    if (enabled == worker.end() || !is_truthy(*enabled)) continue;
    if (worker_type(worker) == type) names.push_back(name);
  }
  return names;
}
}  // namespace

std::vector<std::string> kubernetes_queue_names(const nlohmann::json& values) {
  return enabled_workers_of_type(values, "kubernetes");
}

std::vector<std::string> celery_worker_names(const nlohmann::json& values) {
  return enabled_workers_of_type(values, "celery");
}

nlohmann::json queue_settings(const nlohmann::json& values, std::string_view queue) {
  nlohmann::json settings = nlohmann::json::object();
  if (auto defaults = values.find("kubernetesJobs"); defaults != values.end()) {
    merge_overwrite(settings, *defaults);
  }
  if (auto workers = values.find("workers"); workers != values.end() && workers->is_object()) {
    if (auto worker = workers->find(std::string(queue)); worker != workers->end()) {
      merge_overwrite(settings, *worker);
    }
  }
  return settings;
}

QueueSettings::QueueSettings(const nlohmann::json& values, std::string_view queue) {
  if (auto defaults = values.find("kubernetesJobs"); defaults != values.end()) defaults_ = &*defaults;
  if (auto workers = values.find("workers"); workers != values.end() && workers->is_object()) {
    if (auto worker = workers->find(std::string(queue)); worker != workers->end()) worker_ = &*worker;
  }
  if ((defaults_ && !defaults_->is_object()) || (worker_ && !worker_->is_object())) {
    built_ = queue_settings(values, queue);
    use_built_ = true;
  }
}

const nlohmann::json* QueueSettings::find(const std::string& key, nlohmann::json& scratch) const {
  auto member = [&key](const nlohmann::json* map) -> const nlohmann::json* {
    if (!map || !map->is_object()) return nullptr;
    const auto& members = map->get_ref<const nlohmann::json::object_t&>();
    auto it = members.find(key);
    return it == members.end() ? nullptr : &it->second;
  };
  if (use_built_) return member(&built_);
  const nlohmann::json* own = member(worker_);
  const nlohmann::json* fallback = member(defaults_);
  if (!own) return fallback;
  if (!fallback || !own->is_object() || !fallback->is_object()) return own;
  scratch = *fallback;
  merge_overwrite(scratch, *own);
  return &scratch;
}

nlohmann::json QueueSettings::value(const std::string& key) const {
  nlohmann::json scratch;
  const nlohmann::json* found = find(key, scratch);
  if (!found) return nullptr;
  if (found == &scratch) return scratch;
  return *found;
}

bool QueueSettings::admits_by_kjq() const {
  nlohmann::json scratch;
  const nlohmann::json* admission = find("admission", scratch);
  return admission && admission->is_string() && *admission == kAdmissionKjq;
}

std::string QueueSettings::kueue_queue_name() const {
  nlohmann::json scratch;
  const nlohmann::json* name = find("kueueQueueName", scratch);
  return name && name->is_string() ? name->get<std::string>() : "";
}

const std::vector<std::string>& kubernetes_worker_keys() {
  static const std::vector<std::string> keys = {
      // reference chart schema (kubernetesWorker)
      "enabled", "type", "ttlSecondsAfterFinished", "backoffLimit", "imagePullPolicy", "annotations", "podAnnotations",
      "labels", "podLabels", "initContainers", "sidecars", "extraEnvVars", "extraEnvVarsCM", "extraEnvVarsSecret",
      "extraVolumes", "extraVolumeMounts", "resources", "serviceAccountName", "overrides",
      // kjq extensions
      "activeDeadlineSeconds", "jobOverrides", "maxConcurrency", "admission", "kueueQueueName"};
  return keys;
}

bool admits_by_kjq(const nlohmann::json& settings) {
  if (!settings.is_object()) return false;
  auto it = settings.find("admission");
  return it != settings.end() && it->is_string() && *it == kAdmissionKjq;
}

bool any_queue_admits_by_kjq(const nlohmann::json& values) {
  for (const auto& queue : kubernetes_queue_names(values)) {
    if (QueueSettings(values, queue).admits_by_kjq()) return true;
  }
  return false;
}

std::string kueue_queue_name(const nlohmann::json& settings) {
  if (!settings.is_object()) return "";
  auto it = settings.find("kueueQueueName");
  return it != settings.end() && it->is_string() ? it->get<std::string>() : "";
}

bool is_valid_label_value(std::string_view value) {
  if (value.empty() || value.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(value.front()) || !alnum(value.back())) return false;
  for (char c : value) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace kjq::values
