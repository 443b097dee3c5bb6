#include "postrender/serve_objects.hpp"

#include "chart/object_metadata.hpp"
#include "chart/rbac.hpp"
#include "chart/value_access.hpp"
#include "util/diagnostic.hpp"
#include "values/job_queues.hpp"

namespace kjq::postrender {

using nlohmann::json;

namespace {

constexpr const char* kComponent = "kjq-serve";

struct ServeSettings {
  std::string image;
  std::string token_secret;
  json replicas = 1;
  json database;  // a string, or null: the Nautobot database
  json resources;
};

ServeSettings read_settings(const values::ValuesDocument& doc) {
  const json& serve = chart::value_at(doc.user, {"kjqServe"});
  std::vector<Diagnostic> problems;
  ServeSettings settings;
  if (!serve.is_object()) {
    throw InputError(doc.at("kjqServe",
                            "--with-serve needs the kjqServe settings in the values: at least image "
                            "(the kjq image) and apiTokenSecret (a Secret with the API token under the key "
                            "\"token\")"));
  }
  auto text = [&](const char* key, std::string& out) {
    auto it = serve.find(key);
    if (it == serve.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      problems.push_back(doc.at(std::string("kjqServe.") + key, "expected a non-empty string"));
    } else {
      out = it->get<std::string>();
    }
  };
  text("image", settings.image);
  text("apiTokenSecret", settings.token_secret);
  if (auto it = serve.find("replicas"); it != serve.end()) {
    if (!it->is_number() || it->get<double>() < 1 || it->get<double>() != static_cast<double>(it->get<int>())) {
      problems.push_back(doc.at("kjqServe.replicas", "expected a whole number of at least 1"));
    } else {
      settings.replicas = it->get<int>();
    }
  }
  if (auto it = serve.find("database"); it != serve.end() && !it->is_null()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      problems.push_back(doc.at("kjqServe.database", "expected a database name"));
    } else {
      settings.database = *it;
    }
  }
  if (auto it = serve.find("resources"); it != serve.end() && !it->is_null()) {
    if (!it->is_object()) {
      problems.push_back(doc.at("kjqServe.resources", "expected a map (requests, limits)"));
    } else {
      settings.resources = *it;
    }
  }
  for (const auto& [key, value] : serve.items()) {
    if (key != "image" && key != "apiTokenSecret" && key != "replicas" && key != "database" && key != "resources") {
      problems.push_back(
          doc.at("kjqServe." + key, "unknown setting (expected image, apiTokenSecret, replicas, database, resources)"));
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
  return settings;
}

json from_configmap(const std::string& configmap, const char* key) {
  return {{"configMapKeyRef", {{"name", configmap}, {"key", key}}}};
}

// The values kjq serve needs to know the queues and their caps, as --set arguments.
void append_queue_args(json& args, const std::vector<std::string>& queues, const json& values) {
  const json& shared_cap = chart::value_at(values, {"kubernetesJobs", "maxConcurrency"});
  if (shared_cap.is_number()) {
    args.push_back("--set");
    args.push_back("kubernetesJobs.maxConcurrency=" + std::to_string(shared_cap.get<long long>()));
  }
  for (const auto& queue : queues) {
    std::string set = "workers." + queue + ".enabled=true,workers." + queue + ".type=kubernetes";
    const json* worker = &chart::value_at(values, {"workers"});
    if (worker->is_object() && worker->contains(queue)) {
      const json& cap = chart::value_at((*worker)[queue], {"maxConcurrency"});
      if (cap.is_number()) set += ",workers." + queue + ".maxConcurrency=" + std::to_string(cap.get<long long>());
    }
    args.push_back("--set");
    args.push_back(std::move(set));
  }
}

}  // namespace

std::string serve_name(const chart::ChartContext& context) { return context.fullname + "-" + kComponent; }

namespace {

// The parts of render_serve_objects, one object or part each.

json serve_metadata(const chart::ChartContext& context) {
  json meta = chart::object_metadata(context, serve_name(context), json::object());
  meta["labels"]["app.kubernetes.io/component"] = kComponent;
  return meta;
}

json serve_selector(const chart::ChartContext& context) {
  return {{"app.kubernetes.io/name", context.standard_labels["app.kubernetes.io/name"]},
          {"app.kubernetes.io/instance", context.release.name},
          {"app.kubernetes.io/component", kComponent}};
}

json serve_rules(const ServeInputs& inputs, const values::ValuesDocument& doc) {
  json rules = json::array({chart::job_creator_rule()});
  for (auto& rule : chart::follow_and_cancel_rules()) rules.push_back(std::move(rule));
  bool admission = false;
  for (const auto& queue : inputs.queues)
    admission = admission || values::QueueSettings(doc.merged, queue).admits_by_kjq();
  if (admission) rules.push_back(chart::admission_rule());
  return rules;
}

json serve_env(const ServeInputs& inputs, const ServeSettings& settings) {
  json user = inputs.db_user_env;
  user["name"] = "KJQ_DB_USER";
  json password = inputs.db_password_env;
  password["name"] = "PGPASSWORD";  // libpq reads it; it never appears in a URL or a log line
  json env =
      json::array({user,
                   password,
                   {{"name", "KJQ_DB_HOST"}, {"valueFrom", from_configmap(inputs.env_configmap, "NAUTOBOT_DB_HOST")}},
                   {{"name", "KJQ_DB_PORT"}, {"valueFrom", from_configmap(inputs.env_configmap, "NAUTOBOT_DB_PORT")}}});
  if (settings.database.is_string()) {
    env.push_back({{"name", "KJQ_DB_NAME"}, {"value", settings.database}});
  } else {
    env.push_back({{"name", "KJQ_DB_NAME"}, {"valueFrom", from_configmap(inputs.env_configmap, "NAUTOBOT_DB_NAME")}});
  }
  return env;
}

json serve_container(const chart::ChartContext& context, const chart::ManifestsWiring& wiring,
                     const ServeInputs& inputs, const ServeSettings& settings, const values::ValuesDocument& doc) {
  json args = json::array({"serve", "--listen", "0.0.0.0:" + std::to_string(kServeApiPort), "--metrics-listen",
                           "0.0.0.0:" + std::to_string(kServeMetricsPort), "--api-token-file",
                           std::string(kServeTokenDirectory) + "/token", "--store",
                           "postgresql://$(KJQ_DB_USER)@$(KJQ_DB_HOST):$(KJQ_DB_PORT)/$(KJQ_DB_NAME)",
                           "--job-queues-dir", wiring.mount_path, "--namespace", context.release.namespace_});
  append_queue_args(args, inputs.queues, doc.merged);
  json container = {
      {"name", kComponent},
      {"image", settings.image},
      {"args", std::move(args)},
      {"env", serve_env(inputs, settings)},
      {"ports", json::array({{{"name", "http"}, {"containerPort", kServeApiPort}},
                             {{"name", "metrics"}, {"containerPort", kServeMetricsPort}}})},
      {"readinessProbe", {{"httpGet", {{"path", "/readyz"}, {"port", "metrics"}}}, {"periodSeconds", 10}}},
      {"livenessProbe", {{"httpGet", {{"path", "/healthz"}, {"port", "metrics"}}}, {"periodSeconds", 30}}},
      {"volumeMounts", json::array({wiring.volume_mount,
                                    {{"name", "api-token"}, {"mountPath", kServeTokenDirectory}, {"readOnly", true}}})},
  };
  if (settings.resources.is_object()) container["resources"] = settings.resources;
  return container;
}

json serve_deployment(const chart::ChartContext& context, const chart::ManifestsWiring& wiring,
                      const ServeSettings& settings, json container) {
  const json selector = serve_selector(context);
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", serve_metadata(context)},
      {"spec",
       {{"replicas", settings.replicas},
        {"selector", {{"matchLabels", selector}}},
        {"template",
         {{"metadata", {{"labels", selector}}},
          {"spec",
           {{"serviceAccountName", serve_name(context)},
            {"automountServiceAccountToken", true},
            {"volumes",
             json::array(
                 {wiring.volume, {{"name", "api-token"}, {"secret", {{"secretName", settings.token_secret}}}}})}}}}}}},
  };
  // Moved in after the literal: a move inside it cost clang-tidy's use-after-move check 50 s.
  deployment["spec"]["template"]["spec"]["containers"] = json::array({std::move(container)});
  return deployment;
}

json serve_service(const chart::ChartContext& context) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", serve_metadata(context)},
          {"spec",
           {{"type", "ClusterIP"},
            {"selector", serve_selector(context)},
            {"ports", json::array({{{"name", "http"}, {"port", kServeApiPort}, {"targetPort", "http"}},
                                   {{"name", "metrics"}, {"port", kServeMetricsPort}, {"targetPort", "metrics"}}})}}}};
}

json serve_role_binding(const chart::ChartContext& context) {
  const std::string name = serve_name(context);
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", serve_metadata(context)},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
          {"subjects",
           json::array({{{"kind", "ServiceAccount"}, {"name", name}, {"namespace", context.release.namespace_}}})}};
}

}  // namespace

std::vector<json> render_serve_objects(const chart::ChartContext& context, const chart::ManifestsWiring& wiring,
                                       const ServeInputs& inputs, const values::ValuesDocument& doc) {
  const ServeSettings settings = read_settings(doc);
  if (!inputs.db_user_env.is_object() || !inputs.db_password_env.is_object() || inputs.env_configmap.empty()) {
    throw InputError(Diagnostic{"<stdin>", 0, 0, "",
                                "--with-serve: no pod of the chart has NAUTOBOT_DB_USER and NAUTOBOT_DB_PASSWORD from "
                                "a Secret and the <fullname>-env ConfigMap, so there are no database credentials to "
                                "give kjq serve"});
  }
  if (!wiring.enabled()) {
    throw InputError(Diagnostic{"<stdin>", 0, 0, "",
                                "--with-serve: the chart rendered no job-manifests ConfigMap (no enabled Kubernetes "
                                "queue), so kjq serve would have nothing to run"});
  }
  std::vector<json> objects;
  objects.push_back({{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", serve_metadata(context)}});
  objects.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "Role"},
                     {"metadata", serve_metadata(context)},
                     {"rules", serve_rules(inputs, doc)}});
  objects.push_back(serve_role_binding(context));
  objects.push_back(serve_service(context));
  objects.push_back(
      serve_deployment(context, wiring, settings, serve_container(context, wiring, inputs, settings, doc)));
  return objects;
}

}  // namespace kjq::postrender
