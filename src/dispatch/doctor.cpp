#include "dispatch/doctor.hpp"

#include <filesystem>
#include <fstream>

#include "kube/api.hpp"
#include "kube/errors.hpp"
#include "queue/job_preparation.hpp"
#include "util/diagnostic.hpp"

namespace kjq::dispatch {

namespace fs = std::filesystem;

namespace {
std::string diagnostics_text(const InputError& e) {
  std::string s;
  for (const auto& d : e.diagnostics()) s += (s.empty() ? "" : "; ") + d.format();
  return s;
}
}  // namespace

std::vector<CheckResult> run_doctor(const DoctorInput& in) {
  std::vector<CheckResult> out;
  kube::ClusterConfig cfg;
  try {
    cfg = kube::load_cluster_config(in.config);
    out.push_back({"configuration", true, cfg.source + ", server " + cfg.server, ""});
  } catch (const InputError& e) {
    out.push_back({"configuration", false, diagnostics_text(e), "fix the kubeconfig or pass --kubeconfig/--context"});
    return out;
  } catch (const std::exception& e) {
    out.push_back({"configuration", false, e.what(),
                   "run inside the cluster, set NAUTOBOT_KUBERNETES_* settings, or pass --kubeconfig"});
    return out;
  }
  bool credentials_ok = true;
  if (!cfg.token_file.empty()) {
    std::ifstream t(cfg.token_file);
    std::string token((std::istreambuf_iterator<char>(t)), std::istreambuf_iterator<char>());
    if (!t || token.find_first_not_of(" \n\r\t") == std::string::npos) {
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
    out.push_back({"CA certificate", false, cfg.ca_file + " does not exist",
                   "mount the cluster CA and point NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH / certificate-authority at it"});
  out.push_back({"namespace", true, cfg.namespace_name, ""});
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
                   cfg.server + " reachable, TLS verified" + std::string(cfg.insecure_skip_tls_verify ? " (DISABLED)" : "") +
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
  if (reachable && credentials_ok) {
    const std::vector<kube::AccessCheck> needed = {
        {"create", "batch", "jobs", ""}, {"get", "batch", "jobs", ""},  {"list", "batch", "jobs", ""},
        {"watch", "batch", "jobs", ""},  {"delete", "batch", "jobs", ""}, {"list", "", "pods", ""},
        {"watch", "", "pods", ""},       {"delete", "", "pods", ""},     {"get", "", "pods", "log"},
        {"list", "", "events", ""}};
    for (const auto& c : needed) {
      std::string what = c.verb + " " + (c.group.empty() ? "" : c.group + "/") + c.resource +
                         (c.subresource.empty() ? "" : "/" + c.subresource);
      try {
        std::string why;
        bool ok = api.can_i(ns, c, &why);
        out.push_back({"permission " + what, ok, ok ? "allowed in " + ns : "denied in " + ns + (why.empty() ? "" : ": " + why),
                       ok ? "" : "grant it: a Role in " + ns + " with apiGroups [\"" + c.group + "\"], resources [\"" +
                                     c.resource + (c.subresource.empty() ? "" : "/" + c.subresource) + "\"], verbs [\"" +
                                     c.verb + "\"], bound to the service account"});
      } catch (const std::exception& e) {
        out.push_back({"permission " + what, false, e.what(), "check the credentials (SelfSubjectAccessReview failed)"});
      }
    }
  }
  // Manifests.
  std::error_code ec;
  auto queues = in.store.queues();
  if (!fs::is_directory(in.store.base(), ec)) {
    out.push_back({"job queues", false, in.store.base().string() + " is not a directory",
                   "mount the job-manifests ConfigMap there or set NAUTOBOT_JOB_QUEUE_PATH"});
  } else if (queues.empty()) {
    out.push_back({"job queues", false, "no <queue>/manifest.json under " + in.store.base().string(),
                   "render the chart with kubernetes workers (kjq render) and mount its manifests"});
  }
  for (const auto& q : queues) {
    try {
      auto m = in.store.load(q);
      auto p = queue::prepare_job(m.manifest, {q, "00000000-0000-0000-0000-000000000000", "{}",
                                               queue::kDefaultConfigPath, in.pod_name_prefix});
      out.push_back({"queue " + q, true, m.source + " is a valid Job (name " + p.name + ")", ""});
    } catch (const InputError& e) {
      out.push_back({"queue " + q, false, diagnostics_text(e), "re-render the manifest with kjq render"});
    }
  }
  return out;
}

}  // namespace kjq::dispatch
