#include <gtest/gtest.h>

#include <fstream>
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
  r.env = env_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"},
                  {"NAUTOBOT_KUBERNETES_TOKEN_PATH", "/tok"}, {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", "jobs"}});
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
  auto other = d.write("other", "current-context: x\nclusters:\n- name: c\n  cluster: {server: https://other}\n"
                                "contexts:\n- name: x\n  context: {cluster: c}\n").string();
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

}  // namespace
}  // namespace kjq::kube
