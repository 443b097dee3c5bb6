#include "postrender/manifests_configmap.hpp"

#include "chart/job_manifest.hpp"
#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"
#include "util/json_limits.hpp"
#include "values/validate.hpp"

namespace kjq::postrender {

using nlohmann::json;

namespace {

// A JobResult primary key as Nautobot prints it into the Job's name.
constexpr const char* kSampleUuid = "00000000-0000-0000-0000-000000000000";

bool is_manifests_configmap(const json& object) {
  if (object.value("apiVersion", json()) != "v1" || object.value("kind", json()) != "ConfigMap") return false;
  const std::string& name = object["metadata"]["name"].get_ref<const std::string&>();
  const std::string suffix = kManifestsConfigMapSuffix;
  return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

// restartPolicy of a Job's pods: the API server accepts only these two.
std::optional<std::string> restart_policy_problem(const json& manifest) {
  const json* pod_spec = &manifest;
  for (const char* key : {"spec", "template", "spec"}) {
    if (!pod_spec->is_object() || !pod_spec->contains(key)) return std::nullopt;
    pod_spec = &(*pod_spec)[key];
  }
  if (!pod_spec->is_object()) return std::nullopt;
  auto it = pod_spec->find("restartPolicy");
  if (it == pod_spec->end()) return "spec.template.spec.restartPolicy is missing: a Job's pods need Never or OnFailure";
  if (*it == "Never" || *it == "OnFailure") return std::nullopt;
  return "spec.template.spec.restartPolicy is " + it->dump() + ": a Job's pods need Never or OnFailure";
}

}  // namespace

std::size_t data_bytes(const std::map<std::string, std::string>& manifests) {
  std::size_t bytes = 0;
  for (const auto& [queue, text] : manifests) bytes += queue.size() + text.size();
  return bytes;
}

std::optional<ManifestsConfigMap> find_manifests_configmap(const std::vector<StreamDocument>& documents) {
  std::optional<ManifestsConfigMap> found;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const json& object = documents[i].object;
    if (!is_manifests_configmap(object)) continue;
    const json& meta = object["metadata"];
    if (found) {
      throw InputError(Diagnostic{kStdinName, documents[i].line, 0, "metadata.name",
                                  "a second job-manifests ConfigMap " + in_quotes(meta["name"].get<std::string>()) +
                                      " (the first is " + in_quotes(found->name) +
                                      "): kjq cannot tell which one the pods mount"});
    }
    ManifestsConfigMap configmap;
    configmap.document = i;
    configmap.name = meta["name"].get<std::string>();
    configmap.fullname =
        configmap.name.substr(0, configmap.name.size() - std::string(kManifestsConfigMapSuffix).size());
    if (auto ns = meta.find("namespace"); ns != meta.end() && ns->is_string())
      configmap.namespace_ = ns->get<std::string>();
    if (auto data = object.find("data"); data != object.end() && !data->is_null()) {
      if (!data->is_object()) {
        throw InputError(Diagnostic{kStdinName, documents[i].line, 0, "data",
                                    "ConfigMap " + in_quotes(configmap.name) + ": expected a map of queue → manifest"});
      }
      for (const auto& [queue, text] : data->items()) {
        if (!text.is_string()) {
          throw InputError(Diagnostic{kStdinName, documents[i].line, 0, "data." + queue,
                                      "ConfigMap " + in_quotes(configmap.name) + ", queue " + in_quotes(queue) +
                                          ": expected the manifest as a string, got " + text.type_name()});
        }
        configmap.manifests.emplace(queue, text.get<std::string>());
      }
    }
    found = std::move(configmap);
  }
  return found;
}

std::vector<Diagnostic> check_queue_manifests(const ManifestsConfigMap& configmap, int line,
                                              const std::string& pod_name_prefix, const values::ValuesDocument& doc) {
  std::vector<Diagnostic> problems;
  const std::string where = "ConfigMap " + in_quotes(configmap.name) + ", queue ";
  auto problem = [&](const std::string& queue, const std::string& message) {
    problems.push_back(Diagnostic{kStdinName, line, 0, "data." + queue, where + in_quotes(queue) + ": " + message});
  };
  for (const auto& [queue, text] : configmap.manifests) {
    if (!values::is_valid_worker_name(queue)) {
      problem(queue,
              "not a usable queue name: 1 to 63 letters, digits and hyphens, starting and ending with a letter or "
              "digit (it is a directory name and a label value)");
      continue;
    }
    if (auto too_big = json_limit_violation(text, kInputJsonLimits)) {
      problem(queue, "the manifest is refused: " + *too_big);
      continue;
    }
    nlohmann::ordered_json ordered;
    try {
      ordered = nlohmann::ordered_json::parse(text);
    } catch (const std::exception& e) {
      problem(queue, "the manifest is not valid JSON: " + json_error_text(e));
      continue;
    }
    try {
      queue::validate_job_manifest(ordered, configmap.name + "[" + queue + "]");
    } catch (const InputError& e) {
      problem(queue, e.diagnostics().front().message);
      continue;
    }
    const json manifest = json(ordered);
    if (auto bad = restart_policy_problem(manifest)) problem(queue, *bad);
    for (auto& found : chart::check_job_manifest(manifest, queue, doc)) problem(queue, found.message);
  }
  // Nautobot names each Job <KUBERNETES_JOB_POD_NAME>-<JobResult uuid>; the API server refuses a
  // name that is longer than 63 characters or not a DNS-1123 label, and only when a job runs.
  const std::string sample = pod_name_prefix + "-" + kSampleUuid;
  if (!configmap.manifests.empty() && !queue::is_dns1123_label(sample)) {
    std::string queues;
    for (const auto& [queue, text] : configmap.manifests) queues += (queues.empty() ? "" : ", ") + queue;
    problems.push_back(Diagnostic{
        kStdinName, line, 0, "",
        "NAUTOBOT_KUBERNETES_JOB_POD_NAME " + in_quotes(pod_name_prefix) + " leaves no room for the Job names " +
            in_quotes(pod_name_prefix + "-<JobResult uuid>") + " (" + std::to_string(sample.size()) +
            " characters; Kubernetes allows at most 63 lower-case letters, digits and '-'): every job of the "
            "queues " +
            queues + " would fail to start; use a prefix of at most 26 such characters"});
  }
  return problems;
}

}  // namespace kjq::postrender
