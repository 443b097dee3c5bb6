#include "postrender/post_render.hpp"

#include <algorithm>
#include <optional>

#include "chart/chart_context.hpp"
#include "chart/job_manifests_configmap.hpp"
#include "chart/manifests_wiring.hpp"
#include "chart/rbac.hpp"
#include "chart/value_access.hpp"
#include "output/yaml_emitter.hpp"
#include "postrender/kustomize_patches.hpp"
#include "postrender/manifests_configmap.hpp"
#include "postrender/pod_template_wiring.hpp"
#include "postrender/queue_extensions.hpp"
#include "postrender/release_identity.hpp"
#include "postrender/serve_objects.hpp"
#include "queue/job_preparation.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"
#include "util/json_limits.hpp"
#include "values/validate.hpp"

namespace kjq::postrender {

using nlohmann::json;

namespace {

constexpr const char* kServeSource = "kjq post-render --with-serve";

// Where the pods should find the manifests: the user's nautobot.jobsManifestsMountPath when the
// values set it, else where the chart mounted them, else kjq's default.
std::string mount_directory(const std::vector<StreamDocument>& documents, const std::string& configmap_name,
                            const values::ValuesDocument& doc) {
  const json& chosen = chart::value_at(doc.user, {"nautobot", "jobsManifestsMountPath"});
  if (chosen.is_string() && !chosen.get_ref<const std::string&>().empty()) return chosen.get<std::string>();
  for (const auto& document : documents) {
    const json* tpl = pod_template(document.object);
    if (!tpl) continue;
    if (auto directory = manifests_mount_directory(*tpl, configmap_name)) return *directory;
  }
  const json& fallback = chart::value_at(doc.merged, {"nautobot", "jobsManifestsMountPath"});
  return fallback.is_string() ? fallback.get<std::string>() : chart::kDefaultJobQueuePath;
}

// NAUTOBOT_KUBERNETES_JOB_POD_NAME as the pods that create Jobs get it: from a container's env or
// from a ConfigMap of the stream (the chart's <fullname>-env); Nautobot's default otherwise.
std::string pod_name_prefix(const std::vector<StreamDocument>& documents) {
  constexpr const char* kSetting = "NAUTOBOT_KUBERNETES_JOB_POD_NAME";
  for (const auto& document : documents) {
    const json& object = document.object;
    if (object["kind"] == "ConfigMap" && object.contains("data") && object["data"].is_object()) {
      if (auto it = object["data"].find(kSetting); it != object["data"].end() && it->is_string()) return *it;
    }
    const json* tpl = pod_template(object);
    if (!tpl || !tpl->contains("spec") || !(*tpl)["spec"].contains("containers")) continue;
    for (const auto& container : (*tpl)["spec"]["containers"]) {
      if (!container.is_object() || !container.contains("env") || !container["env"].is_array()) continue;
      for (const auto& env : container["env"]) {
        if (env.is_object() && env.value("name", json()) == kSetting && env.contains("value") &&
            env["value"].is_string()) {
          return env["value"];
        }
      }
    }
  }
  return queue::kDefaultPodNamePrefix;
}

// The manifest texts after kjq's extensions; a text that does not parse stays as it is (the check
// reports it), one the values leave alone keeps its bytes.
std::map<std::string, std::string> extended_manifests(const std::map<std::string, std::string>& manifests,
                                                      const json& values) {
  std::map<std::string, std::string> result;
  for (const auto& [queue, text] : manifests) {
    std::string& out = result[queue] = text;
    if (!has_queue_extensions(values, queue) || json_limit_violation(text, kInputJsonLimits)) continue;
    json manifest;
    try {
      manifest = json::parse(text);
    } catch (const std::exception&) {
      continue;
    }
    if (!manifest.is_object() || !manifest.contains("spec") || !manifest["spec"].is_object()) continue;
    if (!manifest.contains("metadata") || !manifest["metadata"].is_object()) continue;
    if (apply_queue_extensions(manifest, values, queue)) out = chart::manifest_text(manifest);
  }
  return result;
}

// Where the chart keeps the database credentials, for kjq serve.
ServeInputs serve_inputs(const std::vector<StreamDocument>& documents, const std::vector<std::string>& queues) {
  ServeInputs inputs;
  inputs.queues = queues;
  for (const auto& document : documents) {
    const json& object = document.object;
    if (object["kind"] == "ConfigMap" && inputs.env_configmap.empty() && object.contains("data") &&
        object["data"].is_object() && object["data"].contains("NAUTOBOT_DB_HOST")) {
      inputs.env_configmap = object["metadata"]["name"];
    }
    const json* tpl = pod_template(object);
    if (!tpl || !tpl->contains("spec") || !(*tpl)["spec"].contains("containers")) continue;
    for (const auto& container : (*tpl)["spec"]["containers"]) {
      if (!container.is_object() || !container.contains("env") || !container["env"].is_array()) continue;
      for (const auto& env : container["env"]) {
        if (!env.is_object() || !env.contains("valueFrom")) continue;
        if (env.value("name", json()) == "NAUTOBOT_DB_USER" && inputs.db_user_env.is_null()) inputs.db_user_env = env;
        if (env.value("name", json()) == "NAUTOBOT_DB_PASSWORD" && inputs.db_password_env.is_null()) {
          inputs.db_password_env = env;
        }
      }
    }
  }
  return inputs;
}

// The serve objects in place of those of an earlier pass (so the output stays idempotent), the
// others appended.
void put_serve_objects(std::vector<StreamDocument>& documents, std::vector<json> objects) {
  for (auto& object : objects) {
    auto same = std::find_if(documents.begin(), documents.end(), [&](const StreamDocument& d) {
      return d.object["kind"] == object["kind"] && d.object["metadata"]["name"] == object["metadata"]["name"] &&
             d.object["apiVersion"] == object["apiVersion"];
    });
    if (same != documents.end()) {
      same->object = std::move(object);
    } else {
      documents.push_back({kServeSource, 0, std::move(object)});
    }
  }
}

}  // namespace

PostRenderResult post_render(std::string_view input, const values::ValuesDocument& doc,
                             const PostRenderOptions& options) {
  if (auto invalid = values::validate_values(doc); !invalid.empty()) throw InputError(std::move(invalid));
  if (options.with_serve && options.kustomize_patches) {
    throw InputError(
        Diagnostic{"", 0, 0, "", "--with-serve adds objects, which Kustomize patches cannot: use one or the other"});
  }
  auto documents = read_manifest_stream(input, options.limits);
  PostRenderResult result;
  std::vector<StreamDocument> chart_output;
  if (options.kustomize_patches) chart_output = documents;
  const auto configmap = find_manifests_configmap(documents);
  const std::string configmap_name = configmap ? configmap->name : std::string();

  chart::Release release = release_identity(documents);
  release.namespace_ = !options.namespace_.empty()                   ? options.namespace_
                       : configmap && !configmap->namespace_.empty() ? configmap->namespace_
                                                                     : std::string(chart::kDefaultJobPodNamespace);
  if (auto problem = chart::namespace_problem(release.namespace_); !problem.empty()) {
    throw InputError(Diagnostic{"", 0, 0, "", "namespace \"" + release.namespace_ + "\": " + problem});
  }

  // The wiring is computed from values that say where the chart mounts the manifests.
  json values = doc.merged;
  values["nautobot"]["jobsManifestsMountPath"] = mount_directory(documents, configmap_name, doc);
  chart::ChartContext context = chart::ChartContext::build(values, release);
  if (auto name = chart_name_label(documents); !name.empty()) context.standard_labels["app.kubernetes.io/name"] = name;

  std::map<std::string, std::string> manifests;
  if (configmap) {
    context.fullname = configmap->fullname;
    manifests = extended_manifests(configmap->manifests, values);
    ManifestsConfigMap checked = *configmap;
    checked.manifests = manifests;
    const int line = documents[configmap->document].line;
    if (auto problems = check_queue_manifests(checked, line, pod_name_prefix(documents), doc); !problems.empty()) {
      throw InputError(std::move(problems));
    }
    json& data = documents[configmap->document].object["data"];
    for (const auto& [queue, text] : manifests) {
      if (text != configmap->manifests.at(queue)) data[queue] = text;
    }
    if (data_bytes(manifests) > kMaxConfigMapBytes) {
      result.warnings.push_back("ConfigMap \"" + configmap->name + "\" holds " + std::to_string(data_bytes(manifests)) +
                                " bytes of manifests; Kubernetes refuses " + "more than " +
                                describe_byte_limit(kMaxConfigMapBytes) + " in one ConfigMap");
    }
  }
  const chart::ManifestsWiring wiring = chart::manifests_wiring(context, manifests);

  const std::string role_name = chart::job_creator_role_name(context);
  const std::vector<std::string> queues = wiring.queues;
  for (auto& document : documents) {
    json& object = document.object;
    if (json* tpl = pod_template(object)) {
      try {
        if (rewire_pod_template(*tpl, configmap_name, wiring, object_label(object))) ++result.rewired_pods;
      } catch (const InputError& e) {
        auto diagnostics = e.diagnostics();
        for (auto& d : diagnostics) d.line = document.line;
        throw InputError(std::move(diagnostics));
      }
    }
    if (object["kind"] == "Role" && object["metadata"]["name"] == role_name &&
        object.value("apiVersion", "") == "rbac.authorization.k8s.io/v1") {
      widen_job_creator_role(object, doc, queues);
    }
  }
  if (configmap && !manifests.empty() && result.rewired_pods == 0) {
    result.warnings.push_back("no pod template mounts ConfigMap \"" + configmap->name +
                              "\": Nautobot's web and Celery Beat pods will not find the job manifests");
  }
  if (options.with_serve) {
    put_serve_objects(documents, render_serve_objects(context, wiring, serve_inputs(documents, queues), doc));
  }
  if (options.kustomize_patches) {
    result.output = output::to_yaml(kustomize_patches(chart_output, documents));
  } else {
    result.output = write_manifest_stream(documents);
  }
  return result;
}

}  // namespace kjq::postrender
