#include "values/validate.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "util/value_path.hpp"
#include "values/job_queues.hpp"
#include "values/merge.hpp"
#include "values/validate_celery.hpp"
#include "values/value_shape.hpp"

namespace kjq::values {

namespace {

using nlohmann::json;

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      bool same =
          std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

class Validator {
 public:
  explicit Validator(const ValuesDocument& doc) : doc_(doc) {}

  std::vector<Diagnostic> run() {
    const json& v = doc_.merged;
    check_string_or_absent(v, "nameOverride");
    check_string_or_absent(v, "fullnameOverride");
    check_string_map(v, "", "commonLabels");
    check_string_map(v, "", "commonAnnotations");
    check_service_account(v);
    check_mount_path(v);
    check_extra_objects(v);
    if (auto it = v.find("kubernetesJobs"); it != v.end()) {
      if (!it->is_object()) {
        error("kubernetesJobs", "expected a map of job defaults, got " + describe_value(*it));
      } else {
        check_unknown_keys("kubernetesJobs");
        check_kubernetes_settings(*it, "kubernetesJobs");
      }
    }
    check_workers(v);
    validate_celery_values(doc_, diagnostics_);
    return std::move(diagnostics_);
  }

 private:
  void error(std::string_view path, std::string message) { diagnostics_.push_back(doc_.at(path, std::move(message))); }

  static const json* find(const json& map, std::string_view key) {
    if (!map.is_object()) return nullptr;
    auto it = map.find(key);
    return it == map.end() ? nullptr : &*it;
  }

  void check_string_or_absent(const json& map, std::string_view key) {
    const json* value = find(map, key);
    if (value && !value->is_null() && !value->is_string()) {
      error(path_key("", key), "expected a string, got " + describe_value(*value));
    }
  }

  // A map of string values (labels, annotations); null or absent is fine.
  void check_string_map(const json& parent, const std::string& parent_path, std::string_view key) {
    const json* value = find(parent, key);
    if (!value || value->is_null()) return;
    auto path = path_key(parent_path, key);
    if (!value->is_object()) {
      error(path, "expected a map of strings, got " + describe_value(*value));
      return;
    }
    for (const auto& [k, item] : value->items()) {
      if (!item.is_string()) {
        error(path_key(path, k),
              "expected a string (Kubernetes label and annotation values are "
              "strings; quote it), got " +
                  describe_value(item));
      }
    }
  }

  enum class Presence { Optional, Required };

  void check_bool(const json& parent, const std::string& parent_path, std::string_view key, Presence presence) {
    const json* value = find(parent, key);
    auto path = path_key(parent_path, key);
    if (!value) {
      if (presence == Presence::Required) error(path, "is required: set it to true or false");
      return;
    }
    if (!value->is_boolean()) error(path, "expected true or false, got " + describe_value(*value));
  }

  void check_string(const json& parent, const std::string& parent_path, std::string_view key) {
    const json* value = find(parent, key);
    if (value && !value->is_null() && !value->is_string()) {
      error(path_key(parent_path, key), "expected a string, got " + describe_value(*value));
    }
  }

  void check_integer(const json& parent, const std::string& parent_path, std::string_view key, double minimum) {
    const json* value = find(parent, key);
    if (!value || value->is_null()) return;
    auto path = path_key(parent_path, key);
    bool integral = is_whole_number(*value);
    if (!integral || value->get<double>() < minimum || value->get<double>() > 2147483647.0) {
      error(path, "expected a whole number from " + std::to_string(static_cast<long>(minimum)) +
                      " to 2147483647, got " + describe_value(*value));
    }
  }

  void check_map(const json& parent, const std::string& parent_path, std::string_view key) {
    const json* value = find(parent, key);
    if (value && !value->is_null() && !value->is_object()) {
      error(path_key(parent_path, key), "expected a map, got " + describe_value(*value));
    }
  }

  // A list of maps that each need the given string keys (containers, env vars, volumes...).
  void check_list_of_named(const json& parent, const std::string& parent_path, std::string_view key,
                           std::initializer_list<std::string_view> required) {
    const json* value = find(parent, key);
    if (!value || value->is_null()) return;
    auto path = path_key(parent_path, key);
    if (!value->is_array()) {
      error(path, "expected a list, got " + describe_value(*value));
      return;
    }
    for (std::size_t i = 0; i < value->size(); ++i) {
      const json& item = (*value)[i];
      auto item_path = path_index(path, i);
      if (!item.is_object()) {
        error(item_path, "expected a map, got " + describe_value(item));
        continue;
      }
      for (auto field : required) {
        const json* f = find(item, field);
        if (!f) {
          error(item_path, "missing required key \"" + std::string(field) + "\"");
        } else if (!f->is_string() || f->get_ref<const std::string&>().empty()) {
          error(path_key(item_path, field), "expected a non-empty string, got " + describe_value(*f));
        }
      }
    }
  }

  void check_list_of_strings(const json& parent, const std::string& parent_path, std::string_view key) {
    const json* value = find(parent, key);
    if (!value || value->is_null()) return;
    auto path = path_key(parent_path, key);
    if (!value->is_array()) {
      error(path, "expected a list of names, got " + describe_value(*value));
      return;
    }
    for (std::size_t i = 0; i < value->size(); ++i) {
      const json& item = (*value)[i];
      if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
        error(path_index(path, i), "expected a non-empty name, got " + describe_value(item));
      }
    }
  }

  void check_env_values(const json& parent, const std::string& parent_path) {
    const json* env = find(parent, "extraEnvVars");
    if (!env || !env->is_array()) return;
    for (std::size_t i = 0; i < env->size(); ++i) {
      const json* value = find((*env)[i], "value");
      if (value && !value->is_string() && !value->is_null()) {
        error(path_key(path_index(path_key(parent_path, "extraEnvVars"), i), "value"),
              "expected a string (environment values are strings; quote it), got " + describe_value(*value));
      }
    }
  }

  void check_resources(const json& parent, const std::string& parent_path) {
    const json* resources = find(parent, "resources");
    if (!resources || resources->is_null()) return;
    auto path = path_key(parent_path, "resources");
    if (!resources->is_object()) {
      error(path, "expected a map with requests and limits, got " + describe_value(*resources));
      return;
    }
    for (const auto& [key, section] : resources->items()) {
      auto section_path = path_key(path, key);
      if (key != "requests" && key != "limits" && key != "claims") {
        error(section_path, "unknown key (expected requests, limits or claims)");
        continue;
      }
      if (key == "claims" || section.is_null()) continue;
      if (!section.is_object()) {
        error(section_path, "expected a map of resource quantities, got " + describe_value(section));
        continue;
      }
      for (const auto& [name, quantity] : section.items()) {
        if (!quantity.is_string() && !quantity.is_number()) {
          error(path_key(section_path, name),
                "expected a quantity such as \"500m\" or \"1Gi\", got " + describe_value(quantity));
        }
      }
    }
  }

  void check_kubernetes_settings(const json& m, const std::string& path) {
    check_integer(m, path, "ttlSecondsAfterFinished", 0);
    check_integer(m, path, "backoffLimit", 0);
    check_integer(m, path, "activeDeadlineSeconds", 1);
    check_integer(m, path, "maxConcurrency", 0);  // kjq serve: 0 means no limit
    if (const json* policy = find(m, "imagePullPolicy"); policy && !policy->is_null()) {
      if (!policy->is_string() || (*policy != "Always" && *policy != "Never" && *policy != "IfNotPresent")) {
        error(path_key(path, "imagePullPolicy"),
              "expected Always, Never or IfNotPresent, got " + describe_value(*policy));
      }
    }
    check_string(m, path, "serviceAccountName");
    for (auto key : {"annotations", "podAnnotations", "labels", "podLabels"}) {
      check_string_map(m, path, key);
    }
    check_list_of_named(m, path, "initContainers", {"name"});
    check_list_of_named(m, path, "sidecars", {"name"});
    check_list_of_named(m, path, "extraEnvVars", {"name"});
    check_env_values(m, path);
    check_list_of_strings(m, path, "extraEnvVarsCM");
    check_list_of_strings(m, path, "extraEnvVarsSecret");
    check_list_of_named(m, path, "extraVolumes", {"name"});
    check_list_of_named(m, path, "extraVolumeMounts", {"name", "mountPath"});
    check_resources(m, path);
    check_map(m, path, "overrides");
    check_map(m, path, "jobOverrides");
    check_admission(m, path);
  }

  // admission and kueueQueueName (kjq extensions): who admits the queue's Jobs.
  void check_admission(const json& m, const std::string& path) {
    if (const json* admission = find(m, "admission"); admission && !admission->is_null()) {
      if (!admission->is_string() || (*admission != kAdmissionKjq && *admission != kAdmissionNone)) {
        error(path_key(path, "admission"),
              "expected kjq or none (kjq: the Job is created suspended and kjq serve starts it when the queue is "
              "below its cap; none, the default: it starts at once), got " +
                  describe_value(*admission));
      }
    }
    if (const json* kueue = find(m, "kueueQueueName"); kueue && !kueue->is_null()) {
      if (!kueue->is_string() || (!kueue->get_ref<const std::string&>().empty() &&
                                  !is_valid_label_value(kueue->get_ref<const std::string&>()))) {
        error(path_key(path, "kueueQueueName"),
              "expected the name of a Kueue LocalQueue, which becomes the label value of " +
                  std::string(kKueueQueueLabel) +
                  ": at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit "
                  "(\"\" or null: no Kueue), got " +
                  describe_value(*kueue));
      }
    }
    if (const json* labels = find(m, "labels"); labels && labels->is_object() && labels->contains(kAdmissionLabel)) {
      error(path_key(path_key(path, "labels"), kAdmissionLabel),
            "this label is kjq's: it marks the Jobs kjq serve starts; set admission: kjq instead");
    }
  }

  // Where a queue's effective `key` comes from: the worker's own key, else kubernetesJobs'.
  static std::string origin(const json& worker, const std::string& worker_path, std::string_view key) {
    return find(worker, key) ? path_key(worker_path, key) : path_key("kubernetesJobs", key);
  }

  // One admitter per queue: kjq (admission: kjq) never starts a Job that Kueue holds, and a
  // jobOverrides.suspend other than true would start the Job past kjq's cap.
  void check_admission_conflicts(const std::string& name, const json& worker, const std::string& path) {
    // W is built only for a queue that admits by kjq (rare); the others read one key.
    if (!QueueSettings(doc_.merged, name).admits_by_kjq()) return;
    const json w = queue_settings(doc_.merged, name);
    const std::string admission = origin(worker, path, "admission") + ": kjq";
    std::string kueue = kueue_queue_name(w);
    std::string kueue_from = origin(worker, path, "kueueQueueName");
    if (kueue.empty()) {  // the Kueue label set by hand also hands the Job to Kueue
      const json* labels = find(w, "labels");
      const json* label = labels ? find(*labels, kKueueQueueLabel) : nullptr;
      if (label && label->is_string() && !label->get_ref<const std::string&>().empty()) {
        kueue = label->get<std::string>();
        const json* own_labels = find(worker, "labels");
        kueue_from = path_key(own_labels && find(*own_labels, kKueueQueueLabel) ? path_key(path, "labels")
                                                                                : std::string("kubernetesJobs.labels"),
                              kKueueQueueLabel);
      }
    }
    if (!kueue.empty()) {
      error(path, admission + " and " + kueue_from + ": \"" + kueue +
                      "\" both admit this queue's Jobs, but kjq never starts a Job that Kueue manages (Kueue "
                      "suspends it and starts it itself): keep one, e.g. admission: none or kueueQueueName: null on "
                      "this worker");
    }
    const json* job_overrides = find(w, "jobOverrides");
    const json* suspend = job_overrides ? find(*job_overrides, "suspend") : nullptr;
    if (suspend && *suspend != true) {
      const json* own = find(worker, "jobOverrides");
      const std::string from = path_key(
          own && find(*own, "suspend") ? path_key(path, "jobOverrides") : std::string("kubernetesJobs.jobOverrides"),
          "suspend");
      error(path, admission + " renders spec.suspend: true, but " + from + " is " + describe_value(*suspend) +
                      ", which would start the Job without waiting for kjq serve: remove it or set it to true");
    }
  }

  // Resolves "kubernetesJobs" or "workers.<name>" in `root` (the user or the merged tree).
  static const json* find_map(const json& root, const std::string& path) {
    const json* map = nullptr;
    auto dot = path.find('.');
    if (dot == std::string::npos) {
      map = find(root, path);
    } else {
      map = find(root, path.substr(0, dot));
      map = map ? find(*map, path.substr(dot + 1)) : nullptr;
    }
    return map && map->is_object() ? map : nullptr;
  }

  // Unknown keys are judged on what the user wrote, not on what the defaults contribute.
  void check_unknown_keys(const std::string& path_in_user) {
    const json* user_map = find_map(doc_.user, path_in_user);
    if (!user_map) return;
    const json* merged_map = find_map(doc_.merged, path_in_user);
    const auto& allowed = kubernetes_worker_keys();
    for (const auto& [key, value] : user_map->items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      // A null that deleted a default key (Helm's coalescing, done before validation) is not a
      // setting: `workers.default: {type: kubernetes, taskQueues: null}` is how the reference
      // chart's schema wants the default Celery worker turned into a queue.
      if (value.is_null() && merged_map && !merged_map->contains(key)) continue;
      std::string message = "unknown key for a Kubernetes job queue";
      if (auto hint = closest_match(key, allowed); !hint.empty()) {
        message += "; did you mean \"" + hint + "\"?";
      } else {
        message += " (allowed: see docs/values.md, section kubernetesJobs)";
      }
      error(path_key(path_in_user, key), message);
    }
  }

  void check_workers(const json& v) {
    const json* workers = find(v, "workers");
    if (!workers || workers->is_null()) return;
    if (!workers->is_object()) {
      error("workers", "expected a map of worker name to settings, got " + describe_value(*workers));
      return;
    }
    for (const auto& [name, worker] : workers->items()) {
      auto path = path_key("workers", name);
      if (!is_valid_worker_name(name)) {
        error(path, "invalid worker name \"" + name +
                        "\": use 1 to 63 letters, digits and hyphens, starting and ending with a "
                        "letter or digit (it becomes a directory name, a ConfigMap key and a "
                        "label value)");
      }
      if (!worker.is_object()) {
        error(path, "expected a map of worker settings, got " + describe_value(worker));
        continue;
      }
      check_bool(worker, path, "enabled", Presence::Required);
      const json* type = find(worker, "type");
      bool kubernetes = false;
      if (type && is_truthy(*type)) {
        if (!type->is_string() || (*type != "celery" && *type != "kubernetes")) {
          error(path_key(path, "type"), "expected \"celery\" or \"kubernetes\", got " + describe_value(*type));
          continue;
        }
        kubernetes = *type == "kubernetes";
      }
      const json* enabled = find(worker, "enabled");
      bool is_enabled = enabled && is_truthy(*enabled);
      if (kubernetes) {
        check_unknown_keys(path);
        check_kubernetes_settings(worker, path);
        check_admission_conflicts(name, worker, path);
      } else if (is_enabled && std::any_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        error(path, "Celery worker names become Deployment names and must be lowercase");
      }
    }
  }

  void check_service_account(const json& v) {
    const json* sa = find(v, "serviceAccount");
    if (!sa || sa->is_null()) return;
    if (!sa->is_object()) {
      error("serviceAccount", "expected a map, got " + describe_value(*sa));
      return;
    }
    check_bool(*sa, "serviceAccount", "create", Presence::Optional);
    check_bool(*sa, "serviceAccount", "automountServiceAccountToken", Presence::Optional);
    check_string(*sa, "serviceAccount", "name");
    check_string_map(*sa, "serviceAccount", "annotations");
    if (const json* roles = find(*sa, "roles"); roles && roles->is_object()) {
      if (const json* creator = find(*roles, "jobCreator"); creator && creator->is_object()) {
        check_bool(*creator, "serviceAccount.roles.jobCreator", "create", Presence::Optional);
        check_bool(*creator, "serviceAccount.roles.jobCreator", "followAndCancel", Presence::Optional);
        check_string(*creator, "serviceAccount.roles.jobCreator", "name");
      }
    }
  }

  void check_mount_path(const json& v) {
    const json* nautobot = find(v, "nautobot");
    if (!nautobot) return;
    const json* mount = find(*nautobot, "jobsManifestsMountPath");
    if (!mount) return;
    if (!mount->is_string() || mount->get_ref<const std::string&>().empty() ||
        mount->get_ref<const std::string&>()[0] != '/') {
      error("nautobot.jobsManifestsMountPath",
            "expected an absolute path such as /etc/nautobot/job-queues, got " + describe_value(*mount));
    }
  }

  void check_extra_objects(const json& v) {
    const json* objects = find(v, "extraObjects");
    if (!objects || objects->is_null()) return;
    if (!objects->is_array()) {
      error("extraObjects", "expected a list of objects, got " + describe_value(*objects));
      return;
    }
    for (std::size_t i = 0; i < objects->size(); ++i) {
      const json& item = (*objects)[i];
      if (!item.is_object() && !item.is_string()) {
        error(path_index("extraObjects", i),
              "expected an object (a map) or a YAML string, got " + describe_value(item));
      }
    }
  }

  const ValuesDocument& doc_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace

bool is_valid_worker_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    auto d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::vector<Diagnostic> validate_values(const ValuesDocument& doc) { return Validator(doc).run(); }

}  // namespace kjq::values
