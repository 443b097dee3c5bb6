#pragma once
// Where the API server is and how to authenticate to it.
//
// Precedence (first match wins; documented in docs/runtime.md):
//   1. --kubeconfig PATH                      → that kubeconfig (with --context)
//   2. $KUBECONFIG (colon-separated list)     → merged kubeconfig (first file wins per name)
//   3. any of NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS, _SSL_CA_CERT_PATH, _TOKEN_PATH
//                                             → Nautobot's settings, Nautobot's defaults for the rest
//   4. $KUBERNETES_SERVICE_HOST and _PORT     → in-cluster service account
//   5. ~/.kube/config when it exists          → kubeconfig
// --context skips 3 and 4. The namespace is -n; else, when any of Nautobot's NAUTOBOT_KUBERNETES_*
// variables is set, Nautobot's: NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE, else "default"; else the
// context's / service account's namespace, else "default". Every namespace must be a DNS-1123 label.
// A bearer token is never sent to a plain http:// server unless the request allows it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/diagnostic.hpp"

namespace kjq::kube {

struct ClusterConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string ca_file;
  std::string ca_data;  // PEM
  bool insecure_skip_tls_verify = false;
  std::string client_cert_file, client_cert_data, client_key_file, client_key_data;
  std::string token;       // static bearer token (kubeconfig `token`)
  std::string token_file;  // re-read periodically (service account, `tokenFile`)
  std::string namespace_name = "default";
  std::string namespace_source = "the default";  // "--namespace", "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", ...
  std::string source;                            // human description: "kubeconfig /x (context y)", "in-cluster", ...
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

struct ConfigRequest {
  std::string kubeconfig;      // --kubeconfig
  std::string context;         // --context
  std::string namespace_name;  // -n/--namespace
  EnvLookup env = process_env();
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::string home;  // "" → $HOME
  // --allow-insecure-token-over-http: send the token to an http:// server (tests, kube-emulator).
  bool allow_token_over_http = false;
};

// The variables that make kjq act as Nautobot (their namespace rule applies when any is set).
inline constexpr const char* kNautobotKubernetesVariables[] = {"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS",
                                                               "NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH",
                                                               "NAUTOBOT_KUBERNETES_TOKEN_PATH",
                                                               "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE",
                                                               "NAUTOBOT_KUBERNETES_JOB_POD_NAME",
                                                               "NAUTOBOT_KUBERNETES_JOB_MANIFEST"};

// Why `ns` is not a valid namespace (a DNS-1123 label: at most 63 of [a-z0-9-], starting and
// ending with a letter or digit), or "" when it is.
std::string namespace_problem(const std::string& ns);

// A token would go to a plain http:// server and the request does not allow it.
class InsecureTokenError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// Throws kjq::InputError (bad kubeconfig, unknown context, invalid namespace),
// InsecureTokenError, or
// kjq::RuntimeError (nothing found; a token for an http:// server without allow_token_over_http).
ClusterConfig load_cluster_config(const ConfigRequest& request);

// Loads one kubeconfig file list (already split) for `context` ("" → current-context).
ClusterConfig load_kubeconfig(const std::vector<std::string>& files, const std::string& context);

std::string base64_decode(const std::string& in);  // throws kjq::InputError on bad input

}  // namespace kjq::kube
