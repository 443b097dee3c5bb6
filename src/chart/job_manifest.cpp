#include "chart/job_manifest.hpp"

#include <deque>
#include <set>

#include "util/value_path.hpp"
#include "values/job_queues.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::is_truthy;
using values::merge_overwrite;

namespace {

const json& null_value() {
  static const json null;
  return null;
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

// W (values::queue_settings) read key by key: nothing of kubernetesJobs or the worker is copied
// but what the manifest holds.
class Settings {
 public:
  Settings(const json& values, const std::string& queue) : view_(values, queue) {}
  // W.<key>, or null when missing (the chart emits missing keys as null); valid as long as this
  // object (a merge of two maps is kept in scratch_).
  const json& ref(const char* key) {
    scratch_.emplace_back();
    const json* found = view_.find(key, scratch_.back());
    return found ? *found : null_value();
  }
  // W.<key> as a value of its own (moved out of the merge when there is one).
  json value(const char* key) {
    json scratch;
    const json* found = view_.find(key, scratch);
    if (!found) return json();
    if (found == &scratch) return scratch;
    return *found;
  }
  const values::QueueSettings& view() const { return view_; }

 private:
  values::QueueSettings view_;
  std::deque<json> scratch_;  // stable addresses for the merges ref() returns
};

}  // namespace

json render_job_manifest(const ChartContext& context, const std::string& queue) {
  Settings w(context.values, queue);
  const json worker_name = {{kWorkerNameAnnotation, queue}};
  const json component = {{"app.kubernetes.io/component", "nautobot-job"}};
  const json& annotations = w.ref("annotations");
  const json& pod_annotations = w.ref("podAnnotations");
  const json& labels = w.ref("labels");
  const json& pod_labels = w.ref("podLabels");

  json env = context.credentials_env;
  append_all(env, w.ref("extraEnvVars"));
  env.push_back({{"name", "NAUTOBOT_JOB_QUEUE_NAME"}, {"value", queue}});

  json env_from = context.base_env_from;
  if (const json& cms = w.ref("extraEnvVarsCM"); cms.is_array()) {
    for (const auto& name : cms) env_from.push_back({{"configMapRef", {{"name", name}}}});
  }
  if (const json& secrets = w.ref("extraEnvVarsSecret"); secrets.is_array()) {
    for (const auto& name : secrets) env_from.push_back({{"secretRef", {{"name", name}}}});
  }

  json volumes = context.job_volumes;
  append_all(volumes, w.ref("extraVolumes"));
  json mounts = context.job_volume_mounts;
  append_all(mounts, w.ref("extraVolumeMounts"));

  json containers = json::array({{
      {"env", std::move(env)},
      {"envFrom", std::move(env_from)},
      {"image", context.image},
      {"imagePullPolicy", w.value("imagePullPolicy")},
      {"name", kMainContainerName},
      {"resources", w.value("resources")},
      {"volumeMounts", std::move(mounts)},
  }});
  append_all(containers, w.ref("sidecars"));

  const json& sa = w.ref("serviceAccountName");
  json pod_template = {
      {"metadata",
       {{"annotations", layered({&worker_name, &pod_annotations})},
        {"labels", layered({&context.standard_labels, &context.common_labels, &pod_labels, &component})}}},
      {"spec",
       {{"containers", std::move(containers)},
        {"imagePullSecrets", context.image_pull_secrets},
        {"initContainers", w.value("initContainers")},
        {"restartPolicy", "Never"},
        {"serviceAccountName", is_truthy(sa) ? sa : json(context.service_account)},
        {"volumes", std::move(volumes)}}},
  };
  if (const json& overrides = w.ref("overrides"); overrides.is_object()) {
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
       {{"backoffLimit", w.value("backoffLimit")},
        {"template", std::move(pod_template)},
        {"ttlSecondsAfterFinished", w.value("ttlSecondsAfterFinished")}}},
  };
  if (const json& deadline = w.ref("activeDeadlineSeconds"); !deadline.is_null()) {
    job["spec"]["activeDeadlineSeconds"] = deadline;
  }
  if (const json& job_overrides = w.ref("jobOverrides"); job_overrides.is_object()) {
    merge_overwrite(job["spec"], job_overrides);
  }
  // Who admits the Job (kjq extensions), on the Job only: kjq serve and Kueue act on Jobs, and
  // the pods exist only once the Job is admitted. Validation allows one admitter per queue and
  // no jobOverrides.suspend but true with admission: kjq.
  if (w.view().admits_by_kjq()) {
    job["metadata"]["labels"][values::kAdmissionLabel] = values::kAdmissionKjq;
    job["spec"]["suspend"] = true;
  }
  // Kueue's webhook suspends the Job itself (its docs: no need to create it suspended).
  if (const auto kueue = w.view().kueue_queue_name(); !kueue.empty()) {
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
