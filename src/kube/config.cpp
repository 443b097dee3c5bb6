#include "kube/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "util/diagnostic.hpp"

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
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -8;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    auto pos = chars.find(c);
    if (pos == std::string::npos) throw InputError(Diagnostic{"", 0, 0, "", "invalid base64 data"});
    value = (value << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

namespace {

std::string read_trimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
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
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw config_error(file, "cannot read kubeconfig");
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
  if (auto ns = str(ctx->second, "namespace"); !ns.empty()) c.namespace_name = ns;
  return c;
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
  } else if (!env("KUBERNETES_SERVICE_HOST").empty() && !env("KUBERNETES_SERVICE_PORT").empty() &&
             r.context.empty()) {
    std::string host = env("KUBERNETES_SERVICE_HOST");
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    c.server = "https://" + host + ":" + env("KUBERNETES_SERVICE_PORT");
    c.ca_file = r.service_account_dir + "/ca.crt";
    c.token_file = r.service_account_dir + "/token";
    if (auto ns = read_trimmed(r.service_account_dir + "/namespace"); !ns.empty()) c.namespace_name = ns;
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
  if (auto ns = env("NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE"); !ns.empty()) c.namespace_name = ns;
  if (!r.namespace_name.empty()) c.namespace_name = r.namespace_name;
  return c;
}

}  // namespace kjq::kube
