#include "kube/config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "util/base64.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"

namespace kjq::kube {

namespace fs = std::filesystem;

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string base64_decode(const std::string& in) {
  auto out = kjq::base64_decode(in);
  if (!out) throw InputError(Diagnostic{"", 0, 0, "", "invalid base64 data (standard alphabet with padding expected)"});
  return *out;
}

namespace {

// A kubeconfig is YAML with a few certificates; nothing legitimate comes near this.
constexpr std::size_t kMaxKubeconfigBytes = 16 * 1024 * 1024;
constexpr std::size_t kMaxNamespaceFileBytes = 4096;

// The service account's namespace file, trimmed; "" when it does not exist.
std::string read_namespace_file(const std::string& path) {
  std::string s;
  try {
    s = read_file_bounded(path, {kMaxNamespaceFileBytes, /*allow_special=*/false});
  } catch (const FileReadError& e) {
    if (e.problem() == FileReadProblem::not_found) return "";
    throw InputError(Diagnostic{path, 0, 0, "", "cannot read the service account's namespace: " + e.reason()});
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

struct Kubeconfig {
  std::map<std::string, YAML::Node> clusters, users, contexts;
  std::map<std::string, std::string> dirs;  // "cluster:<name>" / "user:<name>" → file's directory
  std::string current_context;
};

InputError config_error(const std::string& file, const std::string& message) {
  return InputError(Diagnostic{file, 0, 0, "", message});
}

void merge_file(Kubeconfig& kc, const std::string& file) {
  YAML::Node root;
  std::string text;
  try {
    text = read_file_bounded(file, {kMaxKubeconfigBytes, /*allow_special=*/false});
  } catch (const FileReadError& e) {
    throw config_error(file, "cannot read kubeconfig: " + e.reason());
  }
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(Diagnostic{file, e.mark.line + 1, e.mark.column + 1, "", "invalid kubeconfig: " + e.msg});
  }
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw config_error(file, "kubeconfig is not a mapping");
  const std::string dir = fs::absolute(fs::path(file)).parent_path().string();
  auto take = [&](const char* list, const char* inner, std::map<std::string, YAML::Node>& into, const char* kind) {
    if (!root[list]) return;
    if (!root[list].IsSequence()) throw config_error(file, std::string(list) + " is not a list");
    for (const auto& item : root[list]) {
      if (!item.IsMap() || !item["name"]) throw config_error(file, std::string(list) + ": entry without a name");
      std::string name = item["name"].as<std::string>();
      if (into.count(name)) continue;  // first file wins
      into[name] = item[inner] ? item[inner] : YAML::Node(YAML::NodeType::Map);
      kc.dirs[std::string(kind) + ":" + name] = dir;
    }
  };
  take("clusters", "cluster", kc.clusters, "cluster");
  take("users", "user", kc.users, "user");
  take("contexts", "context", kc.contexts, "context");
  if (kc.current_context.empty() && root["current-context"] && root["current-context"].IsScalar())
    kc.current_context = root["current-context"].as<std::string>();
}

std::string str(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>();
}

std::string resolve_path(const std::string& p, const std::string& dir) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(dir) / p).string();
}

}  // namespace

ClusterConfig load_kubeconfig(const std::vector<std::string>& files, const std::string& context) {
  Kubeconfig kc;
  for (const auto& f : files)
    if (!f.empty()) merge_file(kc, f);
  std::string files_text;
  for (const auto& f : files) files_text += (files_text.empty() ? "" : ":") + f;
  const std::string ctx_name = context.empty() ? kc.current_context : context;
  if (ctx_name.empty()) throw config_error(files_text, "no current-context set; pass --context");
  auto ctx = kc.contexts.find(ctx_name);
  if (ctx == kc.contexts.end()) throw config_error(files_text, "context \"" + ctx_name + "\" not found");
  const std::string cluster_name = str(ctx->second, "cluster");
  const std::string user_name = str(ctx->second, "user");
  auto cl = kc.clusters.find(cluster_name);
  if (cl == kc.clusters.end())
    throw config_error(files_text, "context \"" + ctx_name + "\": cluster \"" + cluster_name + "\" not found");
  ClusterConfig c;
  c.source = "kubeconfig " + files_text + " (context " + ctx_name + ")";
  const YAML::Node& cluster = cl->second;
  const std::string cdir = kc.dirs["cluster:" + cluster_name];
  c.server = str(cluster, "server");
  if (c.server.empty()) throw config_error(files_text, "cluster \"" + cluster_name + "\" has no server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  c.ca_file = resolve_path(str(cluster, "certificate-authority"), cdir);
  if (auto d = str(cluster, "certificate-authority-data"); !d.empty()) c.ca_data = base64_decode(d);
  c.insecure_skip_tls_verify = str(cluster, "insecure-skip-tls-verify") == "true";
  if (!user_name.empty()) {
    auto us = kc.users.find(user_name);
    if (us == kc.users.end())
      throw config_error(files_text, "context \"" + ctx_name + "\": user \"" + user_name + "\" not found");
    const YAML::Node& user = us->second;
    const std::string udir = kc.dirs["user:" + user_name];
    if (user["exec"] || user["auth-provider"])
      throw config_error(files_text, "user \"" + user_name +
                                         "\": exec and auth-provider credentials are not supported; use a token, "
                                         "tokenFile or a client certificate");
    c.token = str(user, "token");
    c.token_file = resolve_path(str(user, "tokenFile"), udir);
    c.client_cert_file = resolve_path(str(user, "client-certificate"), udir);
    c.client_key_file = resolve_path(str(user, "client-key"), udir);
    if (auto d = str(user, "client-certificate-data"); !d.empty()) c.client_cert_data = base64_decode(d);
    if (auto d = str(user, "client-key-data"); !d.empty()) c.client_key_data = base64_decode(d);
  }
  if (auto ns = str(ctx->second, "namespace"); !ns.empty()) {
    if (auto problem = namespace_problem(ns); !problem.empty())
      throw config_error(files_text, "context \"" + ctx_name + "\": namespace \"" + ns + "\" " + problem);
    c.namespace_name = ns;
    c.namespace_source = "context " + ctx_name;
  }
  return c;
}

std::string namespace_problem(const std::string& ns) {
  if (ns.empty()) return "is empty";
  if (ns.size() > 63) return "is longer than 63 characters";
  auto alnum = [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); };
  const bool chars_ok = std::all_of(ns.begin(), ns.end(), [&](char ch) { return alnum(ch) || ch == '-'; });
  if (!chars_ok || !alnum(ns.front()) || !alnum(ns.back()))
    return "is not a valid namespace: expected a DNS-1123 label (lower-case letters, digits and '-', starting and "
           "ending with a letter or digit, at most 63 characters)";
  return "";
}

ClusterConfig load_cluster_config(const ConfigRequest& r) {
  auto env = [&](const char* name) { return r.env(name).value_or(""); };
  ClusterConfig c;
  bool found = false;
  auto from_kubeconfig_list = [&](const std::string& list) {
    std::vector<std::string> files;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) files.push_back(item);
    c = load_kubeconfig(files, r.context);
    found = true;
  };
  // A namespace given on the command line is checked before any file is read.
  if (!r.namespace_name.empty())
    if (auto problem = namespace_problem(r.namespace_name); !problem.empty())
      throw InputError(Diagnostic{"", 0, 0, "--namespace", "\"" + r.namespace_name + "\" " + problem});
  const bool nautobot = !env("NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS").empty() ||
                        !env("NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH").empty() ||
                        !env("NAUTOBOT_KUBERNETES_TOKEN_PATH").empty();
  if (!r.kubeconfig.empty()) {
    from_kubeconfig_list(r.kubeconfig);
  } else if (!env("KUBECONFIG").empty()) {
    from_kubeconfig_list(env("KUBECONFIG"));
  } else if (nautobot && r.context.empty()) {
    auto or_default = [&](const char* name, const std::string& def) {
      auto v = env(name);
      return v.empty() ? def : v;
    };
    c.server = or_default("NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", "https://kubernetes.default.svc");
    while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
    c.ca_file = or_default("NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", r.service_account_dir + "/ca.crt");
    c.token_file = or_default("NAUTOBOT_KUBERNETES_TOKEN_PATH", r.service_account_dir + "/token");
    c.source = "Nautobot settings (NAUTOBOT_KUBERNETES_*)";
    found = true;
  } else if (!env("KUBERNETES_SERVICE_HOST").empty() && !env("KUBERNETES_SERVICE_PORT").empty() && r.context.empty()) {
    std::string host = env("KUBERNETES_SERVICE_HOST");
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    c.server = "https://" + host + ":" + env("KUBERNETES_SERVICE_PORT");
    c.ca_file = r.service_account_dir + "/ca.crt";
    c.token_file = r.service_account_dir + "/token";
    const std::string ns_file = r.service_account_dir + "/namespace";
    if (auto ns = read_namespace_file(ns_file); !ns.empty()) {
      if (auto problem = namespace_problem(ns); !problem.empty())
        throw InputError(Diagnostic{ns_file, 0, 0, "", "namespace \"" + ns + "\" " + problem});
      c.namespace_name = ns;
      c.namespace_source = ns_file;
    }
    c.source = "in-cluster service account";
    found = true;
  } else {
    std::string home = r.home.empty() ? env("HOME") : r.home;
    std::string def = home.empty() ? "" : home + "/.kube/config";
    if (!def.empty() && fs::exists(def)) from_kubeconfig_list(def);
  }
  if (!found)
    throw RuntimeError(
        "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, set "
        "NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS/NAUTOBOT_KUBERNETES_TOKEN_PATH, or run in a pod");
  // Nautobot creates its Jobs in KUBERNETES_JOB_POD_NAMESPACE, "default" when unset, whatever the
  // cluster configuration says; kjq acting as Nautobot does the same.
  const bool acting_as_nautobot =
      std::any_of(std::begin(kNautobotKubernetesVariables), std::end(kNautobotKubernetesVariables),
                  [&](const char* v) { return !env(v).empty(); });
  if (!r.namespace_name.empty()) {
    c.namespace_name = r.namespace_name;
    c.namespace_source = "--namespace";
  } else if (auto ns = env("NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE"); !ns.empty()) {
    if (auto problem = namespace_problem(ns); !problem.empty())
      throw InputError(Diagnostic{"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", 0, 0, "", "\"" + ns + "\" " + problem});
    c.namespace_name = ns;
    c.namespace_source = "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE";
  } else if (acting_as_nautobot) {
    c.namespace_name = "default";
    c.namespace_source =
        "Nautobot's default: NAUTOBOT_KUBERNETES_* is set, NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE is not";
  }
  // A bearer token over plain HTTP can be read, and replayed, by anyone on the path.
  std::string scheme = c.server.substr(0, c.server.find("://"));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (scheme == "http" && (!c.token.empty() || !c.token_file.empty()) && !r.allow_token_over_http)
    throw InsecureTokenError(
        "refusing to send the bearer token (" +
        (c.token_file.empty() ? std::string("the kubeconfig user's token") : "from " + c.token_file) + ") to " +
        c.server + " over plain HTTP (configuration: " + c.source +
        "): anyone on the path could read and reuse it. Use an https:// server address, or pass "
        "--allow-insecure-token-over-http (for a local test server only)");
  return c;
}

}  // namespace kjq::kube
