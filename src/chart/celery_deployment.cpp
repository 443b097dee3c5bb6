#include "chart/celery_deployment.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "chart/affinity_presets.hpp"
#include "chart/pod_base.hpp"
#include "chart/value_access.hpp"
#include "chart/value_templates.hpp"
#include "util/diagnostic.hpp"
#include "util/value_path.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::is_truthy;
using values::merge_overwrite;

namespace {

constexpr const char* kContainerName = "nautobot-celery";

json without_enabled(const json& settings) {
  json copy = settings.is_object() ? settings : json::object();
  copy.erase("enabled");
  return copy;
}

// Renders the templates of one setting of one worker, naming the values path the setting most
// likely came from (the worker's own key, else the deprecated key, else `celery`) in errors.
class WorkerValues {
 public:
  WorkerValues(const ChartContext& context, const values::ValuesDocument& doc, const CeleryWorker& worker)
      : context_(context), doc_(doc), worker_(worker), scope_{context.release, context.values} {}

  const json& operator[](const char* key) const { return value_at(worker_.settings, {key}); }

  std::string source_path(const std::string& key) const {
    const std::string& name = worker_.name;
    if (value_at(value_at(context_.values, {"workers"}), {name.c_str()}).contains(key)) {
      return path_key(path_key("workers", name), key);
    }
    const char* deprecated = name == "default" ? "celeryWorker" : name == kBeatWorker ? "celeryBeat" : nullptr;
    if (deprecated && value_at(context_.values, {deprecated}).contains(key)) return path_key(deprecated, key);
    return path_key("celery", key);
  }

  json rendered(const json& value, const std::string& where) const {
    try {
      return render_value_templates(value, scope_, where);
    } catch (const InputError& e) {
      std::vector<Diagnostic> located;
      for (const auto& d : e.diagnostics()) located.push_back(doc_.at(d.path.empty() ? where : d.path, d.message));
      throw InputError(std::move(located));
    }
  }

  json rendered(const char* key) const { return rendered((*this)[key], source_path(key)); }

  [[noreturn]] void fail(const char* key, std::string message) const {
    throw InputError(doc_.at(source_path(key), std::move(message)));
  }

  const TemplateScope& scope() const { return scope_; }

 private:
  const ChartContext& context_;
  const values::ValuesDocument& doc_;
  const CeleryWorker& worker_;
  TemplateScope scope_;
};

json main_container(const ChartContext& context, const WorkerValues& c, const std::string& name,
                    const std::string& component, const ManifestsWiring* wiring) {
  const bool beat = name == kBeatWorker;
  const bool metrics = !beat && is_truthy(value_at(context.values, {"metrics", "enabled"})) &&
                       is_truthy(value_at(context.values, {"nautobot", "metrics"}));
  json container = {{"name", kContainerName},
                    {"tty", true},
                    {"image", context.image},
                    {"imagePullPolicy", value_at(context.values, {"nautobot", "image", "pullPolicy"})}};
  if (is_truthy(c["lifecycleHooks"])) container["lifecycle"] = c.rendered("lifecycleHooks");
  if (is_truthy(value_at(c["containerSecurityContext"], {"enabled"}))) {
    container["securityContext"] = without_enabled(c["containerSecurityContext"]);
  }

  json command = is_truthy(c["command"]) ? c.rendered("command") : json(nullptr);
  // Beat never gets --concurrency: it is a worker flag (docs/differences.md #14).
  if (!beat && template_int(c["concurrency"]) != 0) {
    if (!command.is_array()) {
      c.fail("concurrency", "concurrency " + value_text(c["concurrency"]) +
                                " needs a command list to append --concurrency to, and this worker's "
                                "command is empty");
    }
    command.push_back("--concurrency");
    command.push_back(value_text(c["concurrency"]));
  }
  if (!command.is_null()) container["command"] = std::move(command);
  if (is_truthy(c["args"])) container["args"] = c.rendered("args");

  json env = json::array({{{"name", "NAUTOBOT_K8S_COMPONENT"}, {"value", component}}});
  if (!beat) {
    const json& queues = c["taskQueues"];
    env.push_back({{"name", "CELERY_TASK_QUEUES"}, {"value", queues.is_null() ? "" : value_text(queues)}});
    if (is_truthy(c["task_acks_late"])) {
      env.push_back({{"name", "CELERY_TASK_ACKS_LATE"}, {"value", value_text(c["task_acks_late"])}});
    }
    if (const json& prefetch = c["worker_prefetch_multiplier"]; template_int(prefetch) != 4) {
      env.push_back({{"name", "NAUTOBOT_CELERY_WORKER_PREFETCH_MULTIPLIER"},
                     {"value", prefetch.is_null() ? "" : value_text(prefetch)}});
    }
    if (metrics) {
      env.push_back({{"name", "NAUTOBOT_CELERY_WORKER_PROMETHEUS_PORTS"},
                     {"value", c["metricsPort"].is_null() ? "" : value_text(c["metricsPort"])}});
    }
  }
  if (is_truthy(c["extraEnvVars"])) {
    for (auto& item : c.rendered("extraEnvVars")) env.push_back(std::move(item));
  }
  for (const auto& item : context.credentials_env) env.push_back(item);
  if (wiring) {
    for (const auto& item : wiring->env) env.push_back(item);
  }
  container["env"] = std::move(env);

  json env_from = context.base_env_from;
  for (const auto& [key, ref] :
       {std::pair{"extraEnvVarsCM", "configMapRef"}, std::pair{"extraEnvVarsSecret", "secretRef"}}) {
    const json& names = c[key];
    if (!is_truthy(names) || !names.is_array()) continue;
    const std::string where = c.source_path(key);
    for (std::size_t i = 0; i < names.size(); ++i) {
      json rendered = c.rendered(names[i], path_index(where, i));
      env_from.push_back({{ref, {{"name", rendered.is_string() ? rendered : json(value_text(rendered))}}}});
    }
  }
  container["envFrom"] = std::move(env_from);

  if (is_truthy(c["resources"])) container["resources"] = c["resources"];
  for (const char* probe : {"livenessProbe", "readinessProbe"}) {
    if (is_truthy(value_at(c[probe], {"enabled"}))) {
      container[probe] = c.rendered(without_enabled(c[probe]), c.source_path(probe));
    }
  }
  if (metrics) {
    container["ports"] = json::array({{{"name", "workermetrics"}, {"containerPort", c["metricsPort"]}}});
  }

  json mounts = base_volume_mounts(context.values, /*with_media=*/false);
  if (wiring) mounts.push_back(wiring->volume_mount);
  if (is_truthy(c["extraVolumeMounts"])) {
    for (auto& item : c.rendered("extraVolumeMounts")) mounts.push_back(std::move(item));
  }
  container["volumeMounts"] = std::move(mounts);
  return container;
}

}  // namespace

long long template_int(const json& value) {
  switch (value.type()) {
    case json::value_t::number_integer:
      return value.get<long long>();
    case json::value_t::number_unsigned:
      return static_cast<long long>(value.get<unsigned long long>());
    case json::value_t::number_float: {
      double d = value.get<double>();
      return std::isfinite(d) ? static_cast<long long>(d) : 0;
    }
    case json::value_t::boolean:
      return value.get<bool>() ? 1 : 0;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (s.empty()) return 0;
      errno = 0;
      char* end = nullptr;
      long long n = std::strtoll(s.c_str(), &end, 0);
      if (errno == 0 && end && *end == '\0') return n;
      double d = std::strtod(s.c_str(), &end);  // "2.0" → 2, as cast trims zero decimals
      return end && *end == '\0' && std::isfinite(d) && d == std::floor(d) ? static_cast<long long>(d) : 0;
    }
    default:
      return 0;
  }
}

json render_celery_deployment(const ChartContext& context, const values::ValuesDocument& doc,
                              const CeleryWorker& worker, const ManifestsWiring& manifests) {
  const WorkerValues c(context, doc, worker);
  const std::string component = "nautobot-celery-" + worker.name;
  const ManifestsWiring* wiring = worker.name == kBeatWorker && manifests.enabled() ? &manifests : nullptr;

  json labels = context.standard_labels;
  labels["app.kubernetes.io/component"] = component;
  merge_overwrite(labels, c.rendered(context.common_labels, "commonLabels"));
  json metadata = {{"name", context.fullname + "-celery-" + worker.name},
                   {"namespace", context.release.namespace_},
                   {"labels", std::move(labels)}};
  if (is_truthy(c["annotations"]) || is_truthy(context.common_annotations)) {
    json annotations = c.rendered(context.common_annotations, "commonAnnotations");
    if (c["annotations"].is_object()) merge_overwrite(annotations, c.rendered("annotations"));
    if (!annotations.empty()) metadata["annotations"] = std::move(annotations);
  }

  json match_labels = {{"app.kubernetes.io/name", context.standard_labels["app.kubernetes.io/name"]},
                       {"app.kubernetes.io/instance", context.standard_labels["app.kubernetes.io/instance"]},
                       {"app.kubernetes.io/component", component}};

  json pod_annotations = json::object();
  if (wiring && !wiring->checksum.empty()) pod_annotations[kManifestsChecksumAnnotation] = wiring->checksum;
  if (c["podAnnotations"].is_object()) merge_overwrite(pod_annotations, c.rendered("podAnnotations"));
  json pod_labels = context.standard_labels;
  pod_labels["app.kubernetes.io/component"] = component;
  if (c["podLabels"].is_object()) merge_overwrite(pod_labels, c.rendered("podLabels"));
  json pod_metadata = {{"labels", std::move(pod_labels)}};
  if (!pod_annotations.empty()) pod_metadata["annotations"] = std::move(pod_annotations);

  json pod = {{"serviceAccountName", context.service_account}};
  if (wiring) pod["automountServiceAccountToken"] = true;
  if (!context.image_pull_secrets.empty()) pod["imagePullSecrets"] = context.image_pull_secrets;
  if (is_truthy(c["hostAliases"])) pod["hostAliases"] = c.rendered("hostAliases");
  if (is_truthy(c["affinity"])) {
    pod["affinity"] = c.rendered("affinity");
  } else if (auto presets = affinity_from_presets(worker.settings, match_labels); !presets.empty()) {
    pod["affinity"] = std::move(presets);
  }
  if (is_truthy(c["nodeSelector"])) pod["nodeSelector"] = c.rendered("nodeSelector");
  if (is_truthy(c["tolerations"])) pod["tolerations"] = c.rendered("tolerations");
  if (is_truthy(c["priorityClassName"])) pod["priorityClassName"] = value_text(c["priorityClassName"]);
  if (is_truthy(value_at(c["podSecurityContext"], {"enabled"}))) {
    pod["securityContext"] = without_enabled(c["podSecurityContext"]);
  }
  if (is_truthy(c["initContainers"])) pod["initContainers"] = c.rendered("initContainers");

  json containers = json::array({main_container(context, c, worker.name, component, wiring)});
  if (is_truthy(c["sidecars"])) {
    for (auto& sidecar : c.rendered("sidecars")) containers.push_back(std::move(sidecar));
  }
  pod["containers"] = std::move(containers);
  if (!c["terminationGracePeriodSeconds"].is_null()) {
    pod["terminationGracePeriodSeconds"] = c["terminationGracePeriodSeconds"];
  }
  json volumes = base_volumes(context.values, context.fullname, /*with_media=*/false);
  if (wiring) volumes.push_back(wiring->volume);
  if (is_truthy(c["extraVolumes"])) {
    for (auto& item : c.rendered("extraVolumes")) volumes.push_back(std::move(item));
  }
  pod["volumes"] = std::move(volumes);

  json spec = {{"revisionHistoryLimit", template_int(c["revisionHistoryLimit"])},
               {"selector", {{"matchLabels", match_labels}}},
               {"template", {{"metadata", std::move(pod_metadata)}, {"spec", std::move(pod)}}}};
  if (!is_truthy(value_at(c["autoscaling"], {"enabled"})) && !c["replicaCount"].is_null()) {
    spec["replicas"] = c["replicaCount"];
  }
  if (is_truthy(c["updateStrategy"])) spec["strategy"] = c["updateStrategy"];

  return {
      {"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", std::move(metadata)}, {"spec", std::move(spec)}};
}

std::vector<json> render_celery_deployments(const ChartContext& context, const values::ValuesDocument& doc,
                                            const ManifestsWiring& wiring) {
  std::vector<json> deployments;
  for (const auto& worker : celery_deployment_workers(context.values)) {
    deployments.push_back(render_celery_deployment(context, doc, worker, wiring));
  }
  return deployments;
}

}  // namespace kjq::chart
