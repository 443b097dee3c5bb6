#include "chart/job_manifest.hpp"

#include <set>

#include "util/value_path.hpp"
#include "values/job_queues.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::is_truthy;
using values::merge_overwrite;

namespace {

// W.<key>, or null when missing (the chart emits missing keys as null).
json setting(const json& w, const char* key) {
  auto it = w.find(key);
  return it == w.end() ? json() : *it;
}

// Lists in W may be null or missing; treat those as empty when appending.
void append_all(json& list, const json& items) {
  if (!items.is_array()) return;
  for (const auto& item : items) list.push_back(item);
}

json layered(std::initializer_list<const json*> layers) {
  json result = json::object();
  for (const json* layer : layers) {
    if (layer->is_object()) merge_overwrite(result, *layer);
  }
  return result;
}

}  // namespace

json render_job_manifest(const ChartContext& context, const std::string& queue) {
  const json w = values::queue_settings(context.values, queue);
  const json worker_name = {{kWorkerNameAnnotation, queue}};
  const json component = {{"app.kubernetes.io/component", "nautobot-job"}};
  const json annotations = setting(w, "annotations");
  const json pod_annotations = setting(w, "podAnnotations");
  const json labels = setting(w, "labels");
  const json pod_labels = setting(w, "podLabels");

  json env = context.credentials_env;
  append_all(env, setting(w, "extraEnvVars"));
  env.push_back({{"name", "NAUTOBOT_JOB_QUEUE_NAME"}, {"value", queue}});

  json env_from = context.base_env_from;
  if (const json cms = setting(w, "extraEnvVarsCM"); cms.is_array()) {
    for (const auto& name : cms) env_from.push_back({{"configMapRef", {{"name", name}}}});
  }
  if (const json secrets = setting(w, "extraEnvVarsSecret"); secrets.is_array()) {
    for (const auto& name : secrets) env_from.push_back({{"secretRef", {{"name", name}}}});
  }

  json volumes = context.job_volumes;
  append_all(volumes, setting(w, "extraVolumes"));
  json mounts = context.job_volume_mounts;
  append_all(mounts, setting(w, "extraVolumeMounts"));

  json containers = json::array({{
      {"env", std::move(env)},
      {"envFrom", std::move(env_from)},
      {"image", context.image},
      {"imagePullPolicy", setting(w, "imagePullPolicy")},
      {"name", kMainContainerName},
      {"resources", setting(w, "resources")},
      {"volumeMounts", std::move(mounts)},
  }});
  append_all(containers, setting(w, "sidecars"));

  const json sa = setting(w, "serviceAccountName");
  json pod_template = {
      {"metadata",
       {{"annotations", layered({&worker_name, &pod_annotations})},
        {"labels", layered({&context.standard_labels, &context.common_labels, &pod_labels, &component})}}},
      {"spec",
       {{"containers", std::move(containers)},
        {"imagePullSecrets", context.image_pull_secrets},
        {"initContainers", setting(w, "initContainers")},
        {"restartPolicy", "Never"},
        {"serviceAccountName", is_truthy(sa) ? sa : json(context.service_account)},
        {"volumes", std::move(volumes)}}},
  };
  if (const json overrides = setting(w, "overrides"); overrides.is_object()) {
    merge_overwrite(pod_template, overrides);
  }

  json job = {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata",
       {{"annotations", layered({&worker_name, &context.common_annotations, &annotations})},
        {"labels", layered({&context.standard_labels, &context.common_labels, &labels, &component})},
        {"name", kMainContainerName}}},
      {"spec",
       {{"backoffLimit", setting(w, "backoffLimit")},
        {"template", std::move(pod_template)},
        {"ttlSecondsAfterFinished", setting(w, "ttlSecondsAfterFinished")}}},
  };
  if (const json deadline = setting(w, "activeDeadlineSeconds"); !deadline.is_null()) {
    job["spec"]["activeDeadlineSeconds"] = deadline;
  }
  if (const json job_overrides = setting(w, "jobOverrides"); job_overrides.is_object()) {
    merge_overwrite(job["spec"], job_overrides);
  }
  // Who admits the Job (kjq extensions), on the Job only: kjq serve and Kueue act on Jobs, and
  // the pods exist only once the Job is admitted. Validation allows one admitter per queue and
  // no jobOverrides.suspend but true with admission: kjq.
  if (values::admits_by_kjq(w)) {
    job["metadata"]["labels"][values::kAdmissionLabel] = values::kAdmissionKjq;
    job["spec"]["suspend"] = true;
  }
  // Kueue's webhook suspends the Job itself (its docs: no need to create it suspended).
  if (const auto kueue = values::kueue_queue_name(w); !kueue.empty()) {
    job["metadata"]["labels"][values::kKueueQueueLabel] = kueue;
  }
  return job;
}

std::vector<Diagnostic> check_job_manifest(const json& manifest, const std::string& queue,
                                           const values::ValuesDocument& doc) {
  std::vector<Diagnostic> problems;
  const auto worker_path = path_key("workers", queue);
  const json* pod_spec = nullptr;
  if (auto spec = manifest.find("spec"); spec != manifest.end() && spec->is_object()) {
    if (auto tpl = spec->find("template"); tpl != spec->end() && tpl->is_object()) {
      if (auto ps = tpl->find("spec"); ps != tpl->end() && ps->is_object()) pod_spec = &*ps;
    }
  }
  const json* containers = nullptr;
  if (pod_spec) {
    if (auto c = pod_spec->find("containers"); c != pod_spec->end() && c->is_array()) {
      containers = &*c;
    }
  }
  if (!containers || containers->empty() || !(*containers)[0].is_object() ||
      (*containers)[0].value("name", json()) != kMainContainerName) {
    problems.push_back(doc.at(path_key(path_key(path_key(worker_path, "overrides"), "spec"), "containers"),
                              std::string("the job's first container must be \"") + kMainContainerName +
                                  "\": Nautobot puts the job command into containers[0]; overrides.spec.containers "
                                  "replaces the whole list, so repeat the main container first or use sidecars"));
    return problems;
  }
  std::set<std::string> volume_names;
  if (auto v = pod_spec->find("volumes"); v != pod_spec->end() && v->is_array()) {
    for (const auto& volume : *v) {
      if (volume.is_object() && volume.contains("name") && volume["name"].is_string()) {
        volume_names.insert(volume["name"].get<std::string>());
      }
    }
  }
  for (const char* list : {"initContainers", "containers"}) {
    auto it = pod_spec->find(list);
    if (it == pod_spec->end() || !it->is_array()) continue;
    for (const auto& container : *it) {
      if (!container.is_object()) continue;
      auto mounts = container.find("volumeMounts");
      if (mounts == container.end() || !mounts->is_array()) continue;
      for (const auto& mount : *mounts) {
        if (!mount.is_object() || !mount.contains("name") || !mount["name"].is_string()) continue;
        const auto name = mount["name"].get<std::string>();
        if (volume_names.count(name)) continue;
        problems.push_back(doc.at(
            worker_path, "container \"" + container.value("name", std::string("?")) + "\" mounts volume \"" + name +
                             "\", which is not in the job's volumes; lists replace rather than merge, so a "
                             "worker that sets extraVolumes must also set the extraVolumeMounts that go with "
                             "them (and the other way round)"));
      }
    }
  }
  return problems;
}

}  // namespace kjq::chart
