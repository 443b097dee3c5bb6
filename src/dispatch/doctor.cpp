#include "dispatch/doctor.hpp"

#include <filesystem>

#include "kube/api.hpp"
#include "kube/errors.hpp"
#include "queue/job_preparation.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"

namespace kjq::dispatch {

namespace fs = std::filesystem;

namespace {
std::string diagnostics_text(const InputError& e) {
  std::string s;
  for (const auto& d : e.diagnostics()) s += (s.empty() ? "" : "; ") + d.format();
  return s;
}
// A manifest rendered with admission: kjq (its Job is created suspended; kjq serve starts it).
bool admits_by_kjq(const nlohmann::ordered_json& manifest) {
  auto metadata = manifest.find("metadata");
  if (metadata == manifest.end() || !metadata->is_object()) return false;
  auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return false;
  auto label = labels->find(kAdmissionLabel);
  return label != labels->end() && label->is_string() && *label == "kjq";
}
}  // namespace

const std::vector<VerbNeed>& verb_needs() {
  static const std::vector<VerbNeed> needs = {
      {"create", "batch", "jobs", "", true, "dispatch: creating the Job is all Nautobot does"},
      {"get", "batch", "jobs", "", true,
       "dispatch: a repeated dispatch (409) reads the Job to tell its own run from another's; kjq status"},
      {"list", "batch", "jobs", "", false, "kjq list, kjq watch, and following a job (dispatch --wait, watch JOB)"},
      {"watch", "batch", "jobs", "", false, "following a job (dispatch --wait, kjq watch); kjq serve's informer"},
      {"delete", "batch", "jobs", "", false, "kjq cancel"},
      {"list", "", "pods", "", false,
       "the lifecycle's pod detail (ErrImagePull, OOMKilled, exit codes) in status and --wait; kjq logs"},
      {"watch", "", "pods", "", false, "seeing pod failures as they happen in kjq watch and --wait"},
      {"delete", "", "pods", "", false,
       "kjq cancel --grace-period: without it the Job's pods keep their own terminationGracePeriodSeconds"},
      {"get", "", "pods", "log", false, "kjq logs and the log tail kjq serve records"},
      {"list", "", "events", "", false, "the events in kjq status and in kjq serve's records"},
  };
  return needs;
}

const VerbNeed& admission_verb_need() {
  static const VerbNeed need{"patch",
                             "batch",
                             "jobs",
                             "",
                             false,
                             "admission by suspend: suspended Jobs will wait forever (kjq serve starts them with a "
                             "patch)"};
  return need;
}

CheckResult beat_check(const nlohmann::json& deployments, const std::string& ns) {
  std::string running;
  for (const auto& d : deployments.value("items", nlohmann::json::array())) {
    if (!d.is_object()) continue;
    const auto spec = d.value("spec", nlohmann::json::object());
    const auto status = d.value("status", nlohmann::json::object());
    const auto wanted = spec.value("replicas", 1);
    const auto have = status.value("replicas", 0);
    if (wanted <= 0 && have <= 0) continue;
    const auto name = d.value("metadata", nlohmann::json::object()).value("name", "?");
    running += (running.empty() ? "" : ", ") + name + " (" + std::to_string(wanted) + " wanted, " +
               std::to_string(have) + " running)";
  }
  if (running.empty())
    return {"Celery Beat", true, "no Beat Deployment runs in " + ns + "; kjq serve --run-schedules fires the schedules",
            ""};
  return {"Celery Beat", false,
          "Beat runs in " + ns + ": " + running +
              ", while kjq serve fires the schedules (--run-schedules): every schedule on a Kubernetes queue would "
              "fire twice",
          "turn Beat off (values workers.beat.enabled: false, or scale its Deployment to 0), or run kjq serve without "
          "--run-schedules"};
}

std::vector<CheckResult> run_doctor(const DoctorInput& in) {
  std::vector<CheckResult> out;
  kube::ClusterConfig cfg;
  try {
    cfg = kube::load_cluster_config(in.config);
    out.push_back({"configuration", true, cfg.source + ", server " + cfg.server, ""});
  } catch (const InputError& e) {
    out.push_back({"configuration", false, diagnostics_text(e), "fix the kubeconfig or pass --kubeconfig/--context"});
    return out;
  } catch (const kube::InsecureTokenError& e) {
    out.push_back({"configuration", false, e.what(),
                   "give the API server's https:// address (NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS or the "
                   "kubeconfig's server); --allow-insecure-token-over-http is for a local test server only"});
    return out;
  } catch (const std::exception& e) {
    out.push_back({"configuration", false, e.what(),
                   "run inside the cluster, set NAUTOBOT_KUBERNETES_* settings, or pass --kubeconfig"});
    return out;
  }
  bool credentials_ok = true;
  if (!cfg.token_file.empty()) {
    std::string token;
    bool readable = true;
    try {
      token = read_file_bounded(cfg.token_file, {64 * 1024, /*allow_special=*/false});
    } catch (const FileReadError&) {
      readable = false;
    }
    if (!readable || token.find_first_not_of(" \n\r\t") == std::string::npos) {
      credentials_ok = false;
      out.push_back({"token file", false, cfg.token_file + " is missing or empty",
                     "mount a service-account token: the reference chart sets automountServiceAccountToken: false, so "
                     "set it to true on the pod (or add a projected serviceAccountToken volume) and point "
                     "NAUTOBOT_KUBERNETES_TOKEN_PATH at it"});
    } else {
      out.push_back({"token file", true, cfg.token_file + " present", ""});
    }
  } else if (cfg.token.empty() && cfg.client_cert_file.empty() && cfg.client_cert_data.empty()) {
    out.push_back({"credentials", false, "no token, token file or client certificate configured",
                   "configure a user with a token, tokenFile or client certificate"});
  }
  if (!cfg.ca_file.empty() && !fs::exists(cfg.ca_file))
    out.push_back(
        {"CA certificate", false, cfg.ca_file + " does not exist",
         "mount the cluster CA and point NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH / certificate-authority at it"});
  out.push_back({"namespace", true, cfg.namespace_name + " (from " + cfg.namespace_source + ")", ""});
  const std::string ns = cfg.namespace_name;
  kube::ClientOptions co = in.client;
  co.max_retries = 1;
  kube::RestClient client(cfg, co);
  kube::KubeApi api(client);
  bool reachable = false;
  try {
    kube::RestRequest r;
    r.path = "/version";
    auto v = nlohmann::json::parse(client.send(r, "GET /version").body, nullptr, false);
    reachable = true;
    out.push_back({"API server", true,
                   cfg.server + " reachable, TLS verified" +
                       std::string(cfg.insecure_skip_tls_verify ? " (DISABLED)" : "") +
                       (v.is_object() ? ", version " + v.value("gitVersion", "?") : ""),
                   ""});
  } catch (const kube::TransportError& e) {
    out.push_back({"API server", false, e.what(),
                   e.tls_problem() ? "use the cluster's CA certificate (NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH or "
                                     "certificate-authority); never disable verification in production"
                                   : "check NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS / the kubeconfig server and "
                                     "network policies"});
  } catch (const std::exception& e) {
    reachable = true;  // it answered
    out.push_back({"API server", false, e.what(), "check the token and the API server address"});
  }
  // Manifests, read first (reported last): the queues with admission: kjq need one more verb.
  std::vector<CheckResult> queue_checks;
  std::vector<std::string> admission_queues;
  std::error_code ec;
  auto queues = in.store.queues();
  if (!fs::is_directory(in.store.base(), ec)) {
    queue_checks.push_back({"job queues", false, in.store.base().string() + " is not a directory",
                            "mount the job-manifests ConfigMap there or set NAUTOBOT_JOB_QUEUE_PATH"});
  } else if (queues.empty()) {
    queue_checks.push_back({"job queues", false, "no <queue>/manifest.json under " + in.store.base().string(),
                            "render the chart with kubernetes workers (kjq render) and mount its manifests"});
  }
  for (const auto& q : queues) {
    try {
      auto m = in.store.load(q);
      auto p = queue::prepare_job(
          m.manifest, {q, "00000000-0000-0000-0000-000000000000", "{}", queue::kDefaultConfigPath, in.pod_name_prefix});
      queue_checks.push_back({"queue " + q, true, m.source + " is a valid Job (name " + p.name + ")", ""});
      if (admits_by_kjq(m.manifest)) admission_queues.push_back(q);
    } catch (const InputError& e) {
      queue_checks.push_back({"queue " + q, false, diagnostics_text(e), "re-render the manifest with kjq render"});
    }
  }
  if (reachable && credentials_ok) {
    std::vector<VerbNeed> needs = verb_needs();
    if (!admission_queues.empty()) {
      VerbNeed admission = admission_verb_need();
      std::string names;
      for (const auto& q : admission_queues) names += (names.empty() ? "" : ", ") + q;
      admission.feature += "; queues with admission: kjq: " + names;
      needs.push_back(std::move(admission));
    }
    for (const auto& need : needs) {
      const kube::AccessCheck c{need.verb, need.group, need.resource, need.subresource};
      std::string what = c.verb + " " + (c.group.empty() ? "" : c.group + "/") + c.resource +
                         (c.subresource.empty() ? "" : "/" + c.subresource);
      try {
        std::string why;
        const bool allowed = api.can_i(ns, c, &why);
        CheckResult r{"permission " + what, allowed || !need.required, "", "", !allowed && !need.required};
        if (allowed) {
          r.detail = "allowed in " + ns;
        } else {
          r.detail =
              "denied in " + ns + (why.empty() ? "" : ": " + why) +
              (need.required ? "; Nautobot's dispatch needs it (" + need.feature + ")" : "; limits " + need.feature);
          r.fix = "grant it: a Role in " + ns + " with apiGroups [\"" + c.group + "\"], resources [\"" + c.resource +
                  (c.subresource.empty() ? "" : "/" + c.subresource) + "\"], verbs [\"" + c.verb +
                  "\"], bound to the service account";
        }
        out.push_back(std::move(r));
      } catch (const std::exception& e) {
        out.push_back(
            {"permission " + what, false, e.what(), "check the credentials (SelfSubjectAccessReview failed)"});
      }
    }
  }
  if (in.run_schedules && reachable && credentials_ok) {
    try {
      kube::RestRequest r;
      r.path = "/apis/apps/v1/namespaces/" + ns + "/deployments";
      r.query = {{"labelSelector", kBeatSelector}};
      out.push_back(beat_check(nlohmann::json::parse(client.send(r, "GET deployments").body), ns));
    } catch (const std::exception& e) {
      out.push_back({"Celery Beat", false, std::string("cannot list the Deployments: ") + e.what(),
                     "grant list on apps/deployments to check that Beat is off, or check it by hand"});
    }
  }
  for (auto& check : queue_checks) out.push_back(std::move(check));
  return out;
}

}  // namespace kjq::dispatch
