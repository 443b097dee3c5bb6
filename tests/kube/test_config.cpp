#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>

#include "kube/config.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace kjq::kube {
namespace {

using test::TempDir;

EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: aGVsbG8=
- name: c2
  cluster:
    server: https://c2.example:443
    certificate-authority: certs/ca.pem
    insecure-skip-tls-verify: true
users:
- name: u1
  user:
    token: static-token
- name: u2
  user:
    tokenFile: tok
    client-certificate: cert.pem
    client-key-data: a2V5
- name: u3
  user:
    exec: {command: aws}
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: jobs}
- name: prod
  context: {cluster: c2, user: u2}
- name: execctx
  context: {cluster: c1, user: u3}
)";

TEST(KubeConfig, KubeconfigCurrentContextAndDecodedData) {
  TempDir d;
  auto f = d.write("config", kKubeconfig).string();
  ClusterConfig c = load_kubeconfig({f}, "");
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  EXPECT_EQ(c.ca_data, "hello");
  EXPECT_EQ(c.token, "static-token");
  EXPECT_EQ(c.namespace_name, "jobs");
  EXPECT_FALSE(c.insecure_skip_tls_verify);
}

TEST(KubeConfig, ContextFlagRelativePathsAndClientCertificates) {
  TempDir d;
  auto f = d.write("config", kKubeconfig).string();
  ClusterConfig c = load_kubeconfig({f}, "prod");
  EXPECT_EQ(c.ca_file, (d.path() / "certs/ca.pem").string());
  EXPECT_EQ(c.token_file, (d.path() / "tok").string());
  EXPECT_EQ(c.client_cert_file, (d.path() / "cert.pem").string());
  EXPECT_EQ(c.client_key_data, "key");
  EXPECT_TRUE(c.insecure_skip_tls_verify);
  EXPECT_EQ(c.namespace_name, "default");
}

TEST(KubeConfig, ClearErrors) {
  TempDir d;
  auto f = d.write("config", kKubeconfig).string();
  EXPECT_THROW(load_kubeconfig({f}, "nope"), InputError);
  EXPECT_THROW(load_kubeconfig({f}, "execctx"), InputError);
  EXPECT_THROW(load_kubeconfig({(d.path() / "missing").string()}, ""), InputError);
  auto bad = d.write("bad", "clusters: [").string();
  EXPECT_THROW(load_kubeconfig({bad}, ""), InputError);
}

TEST(KubeConfig, MergedKubeconfigFirstFileWins) {
  TempDir d;
  auto a = d.write("a", "clusters:\n- name: c1\n  cluster: {server: https://first}\n").string();
  auto b = d.write("b", kKubeconfig).string();
  ClusterConfig c = load_kubeconfig({a, b}, "");
  EXPECT_EQ(c.server, "https://first");
}

TEST(KubeConfig, Precedence) {
  TempDir d;
  auto kc = d.write("config", kKubeconfig).string();
  d.write("sa/token", "t\n");
  d.write("sa/namespace", "nautobot\n");
  ConfigRequest r;
  r.service_account_dir = (d.path() / "sa").string();
  r.home = d.path().string();
  // In-cluster.
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  ClusterConfig c = load_cluster_config(r);
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token_file, r.service_account_dir + "/token");
  EXPECT_EQ(c.namespace_name, "nautobot");
  // Nautobot's settings beat in-cluster; their defaults fill the gaps.
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                  {"KUBERNETES_SERVICE_PORT", "443"},
                  {"NAUTOBOT_KUBERNETES_TOKEN_PATH", "/tok"},
                  {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", "jobs"}});
  c = load_cluster_config(r);
  EXPECT_EQ(c.server, "https://kubernetes.default.svc");
  EXPECT_EQ(c.token_file, "/tok");
  EXPECT_EQ(c.ca_file, r.service_account_dir + "/ca.crt");
  EXPECT_EQ(c.namespace_name, "jobs");
  // KUBECONFIG beats both; -n beats everything.
  r.env = env_of({{"KUBECONFIG", kc}, {"NAUTOBOT_KUBERNETES_TOKEN_PATH", "/tok"}});
  c = load_cluster_config(r);
  EXPECT_EQ(c.server, "https://10.0.0.1:6443");
  r.namespace_name = "flag";
  EXPECT_EQ(load_cluster_config(r).namespace_name, "flag");
  // --kubeconfig beats KUBECONFIG.
  auto other = d.write("other",
                       "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://other}\n"
                       "contexts:\n- name: x\n  context: {cluster: c}\n")
                   .string();
  r.kubeconfig = other;
  EXPECT_EQ(load_cluster_config(r).server, "https://other");
  // Nothing at all.
  ConfigRequest none;
  none.env = env_of({});
  none.home = (d.path() / "nohome").string();
  EXPECT_THROW(load_cluster_config(none), RuntimeError);
  // ~/.kube/config as the last resort.
  d.write("home/.kube/config", kKubeconfig);
  none.home = (d.path() / "home").string();
  EXPECT_EQ(load_cluster_config(none).server, "https://10.0.0.1:6443");
}

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
  return "no error";
}

std::string runtime_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return std::string("input error: ") + e.what();
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(KubeConfig, ATokenIsNeverSentOverPlainHttpUnlessAllowed) {
  TempDir d;
  auto with_token = d.write("token.yaml",
                            "current-context: x\nclusters:\n- name: c\n  cluster: {server: http://127.0.0.1:8080}\n"
                            "users:\n- name: u\n  user: {token: secret-token-value}\n"
                            "contexts:\n- name: x\n  context: {cluster: c, user: u}\n")
                        .string();
  auto without = d.write("plain.yaml",
                         "current-context: x\nclusters:\n- name: c\n  cluster: {server: HTTP://127.0.0.1:8080}\n"
                         "contexts:\n- name: x\n  context: {cluster: c}\n")
                     .string();
  ConfigRequest r;
  r.env = env_of({});
  r.kubeconfig = with_token;
  const std::string m = runtime_error([&] { load_cluster_config(r); });
  EXPECT_NE(m.find("refusing to send the bearer token"), std::string::npos) << m;
  EXPECT_NE(m.find("http://127.0.0.1:8080"), std::string::npos) << m;
  EXPECT_NE(m.find("--allow-insecure-token-over-http"), std::string::npos) << m;
  EXPECT_EQ(m.find("secret-token-value"), std::string::npos) << m;  // never the token itself
  r.allow_token_over_http = true;
  EXPECT_EQ(load_cluster_config(r).token, "secret-token-value");
  // No token: plain HTTP is fine.
  r.allow_token_over_http = false;
  r.kubeconfig = without;
  EXPECT_EQ(load_cluster_config(r).server, "HTTP://127.0.0.1:8080");
  // Nautobot's settings: a token file for an http:// address, with the scheme in upper case too.
  ConfigRequest n;
  n.env = env_of({{"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", "Http://emulator:8080"},
                  {"NAUTOBOT_KUBERNETES_TOKEN_PATH", "/tok"}});
  const std::string mn = runtime_error([&] { load_cluster_config(n); });
  EXPECT_NE(mn.find("from /tok"), std::string::npos) << mn;
  n.allow_token_over_http = true;
  EXPECT_EQ(load_cluster_config(n).token_file, "/tok");
  // https is untouched.
  ConfigRequest s;
  s.env = env_of({{"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", "https://emulator:8443"}});
  EXPECT_EQ(load_cluster_config(s).server, "https://emulator:8443");
}

TEST(KubeConfig, NamespacesMustBeDns1123Labels) {
  EXPECT_EQ(namespace_problem("kube-system"), "");
  EXPECT_EQ(namespace_problem("a"), "");
  EXPECT_EQ(namespace_problem(std::string(63, 'a')), "");
  for (std::string bad : std::vector<std::string>{"../kube-system", "", "Default", "-a", "a-", "a/b", "a.b",
                                                  std::string(64, 'a'), "a b", "%2e%2e"}) {
    SCOPED_TRACE(bad);
    EXPECT_NE(namespace_problem(bad), "");
  }
  TempDir d;
  d.write("sa/token", "t\n");
  ConfigRequest r;
  r.service_account_dir = (d.path() / "sa").string();
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  // The flag.
  r.namespace_name = "../kube-system";
  std::string m = input_error([&] { load_cluster_config(r); });
  EXPECT_NE(m.find("--namespace: \"../kube-system\" is not a valid namespace"), std::string::npos) << m;
  r.namespace_name.clear();
  // The service account's namespace file.
  d.write("sa/namespace", "../kube-system\n");
  m = input_error([&] { load_cluster_config(r); });
  EXPECT_NE(m.find(r.service_account_dir + "/namespace"), std::string::npos) << m;
  EXPECT_NE(m.find("DNS-1123"), std::string::npos) << m;
  d.write("sa/namespace", "nautobot\n");
  EXPECT_EQ(load_cluster_config(r).namespace_name, "nautobot");
  // The environment.
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                  {"KUBERNETES_SERVICE_PORT", "443"},
                  {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", "a/b"}});
  m = input_error([&] { load_cluster_config(r); });
  EXPECT_NE(m.find("NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE: \"a/b\""), std::string::npos) << m;
  // A kubeconfig context.
  auto kc = d.write("kc",
                    "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k}\n"
                    "contexts:\n- name: x\n  context: {cluster: c, namespace: ../kube-system}\n")
                .string();
  ConfigRequest k;
  k.env = env_of({});
  k.kubeconfig = kc;
  m = input_error([&] { load_cluster_config(k); });
  EXPECT_NE(m.find(kc), std::string::npos) << m;
  EXPECT_NE(m.find("context \"x\": namespace \"../kube-system\""), std::string::npos) << m;
}

TEST(KubeConfig, WithNautobotsVariablesTheNamespaceIsNautobots) {
  TempDir d;
  auto kc = d.write("kc",
                    "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://k}\n"
                    "contexts:\n- name: x\n  context: {cluster: c, namespace: from-context}\n")
                .string();
  d.write("sa/token", "t\n");
  d.write("sa/namespace", "from-sa\n");
  ConfigRequest r;
  r.service_account_dir = (d.path() / "sa").string();
  // Without Nautobot's variables: the context's namespace, the service account's.
  r.env = env_of({{"KUBECONFIG", kc}});
  EXPECT_EQ(load_cluster_config(r).namespace_name, "from-context");
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_EQ(load_cluster_config(r).namespace_name, "from-sa");
  // With any of them: NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE, else "default" — as Nautobot.
  for (const char* var : kNautobotKubernetesVariables) {
    SCOPED_TRACE(var);
    r.env =
        env_of({{"KUBECONFIG", kc}, {var, std::string(var) == "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE" ? "jobs" : "x"}});
    ClusterConfig c = load_cluster_config(r);
    EXPECT_EQ(c.server, "https://k");  // KUBECONFIG still says where the server is
    EXPECT_EQ(c.namespace_name, std::string(var) == "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE" ? "jobs" : "default");
  }
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                  {"KUBERNETES_SERVICE_PORT", "443"},
                  {"NAUTOBOT_KUBERNETES_JOB_POD_NAME", "nb-job"}});
  ClusterConfig c = load_cluster_config(r);
  EXPECT_EQ(c.namespace_name, "default");
  EXPECT_NE(c.namespace_source.find("Nautobot's default"), std::string::npos) << c.namespace_source;
  // -n wins.
  r.namespace_name = "flag";
  EXPECT_EQ(load_cluster_config(r).namespace_name, "flag");
}

TEST(KubeConfig, OversizedOrSpecialKubeconfigsAreRefused) {
  ConfigRequest r;
  r.env = env_of({});
  r.kubeconfig = "/dev/zero";
  std::string m = input_error([&] { load_cluster_config(r); });
  EXPECT_NE(m.find("/dev/zero: cannot read kubeconfig"), std::string::npos) << m;
  EXPECT_NE(m.find("not a regular file"), std::string::npos) << m;
}

}  // namespace
}  // namespace kjq::kube
