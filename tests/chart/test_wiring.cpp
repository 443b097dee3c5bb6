// The manifests wiring (chart/manifests_wiring.hpp): what Beat gets and what
// `kjq render --nautobot-wiring` prints, the SA token, and the follow-and-cancel Role switch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "celery_test_helpers.hpp"
#include "chart/manifests_wiring.hpp"
#include "chart/rbac.hpp"
#include "output/go_json.hpp"
#include "util/sha256.hpp"

using nlohmann::json;
using ::testing::HasSubstr;
using namespace kjq::test::celery;

namespace {

const json& beat_pod(const kjq::chart::RenderedChart& rendered) {
  return find(rendered.objects, "Deployment", "nautobot-celery-beat")->at("spec").at("template");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(kjq::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(kjq::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(kjq::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(kjq::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Wiring, OnlyEnabledQueuesAreMountedAsOneDirectory) {
  auto rendered = render_yaml(R"(
workers:
  alpha: {enabled: true, type: kubernetes}
  retired: {enabled: false, type: kubernetes}
  zulu: {enabled: true, type: kubernetes}
)");
  const json& pod = beat_pod(rendered)["spec"];
  json manifests_volume;
  for (const auto& v : pod["volumes"]) {
    if (v["name"] == kjq::chart::kManifestsVolumeName) manifests_volume = v;
  }
  EXPECT_EQ(manifests_volume, json::parse(R"({"name": "nautobot-k8s-jobs-manifests", "configMap": {
      "name": "nautobot-k8s-jobs-manifests",
      "items": [{"key": "alpha", "path": "alpha/manifest.json"}, {"key": "zulu", "path": "zulu/manifest.json"}]}})"));
  std::vector<json> mounts;
  for (const auto& m : pod["containers"][0]["volumeMounts"]) {
    if (m["name"] == kjq::chart::kManifestsVolumeName) mounts.push_back(m);
  }
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0], json::parse(R"({"name": "nautobot-k8s-jobs-manifests",
                                       "mountPath": "/etc/nautobot/job-queues", "readOnly": true})"));
  EXPECT_FALSE(mounts[0].contains("subPath"));
  EXPECT_EQ(pod["automountServiceAccountToken"], true);
  // Default mount path and namespace: Nautobot's defaults already match, no env is added.
  EXPECT_TRUE(rendered.wiring.env.empty());
}

TEST(Wiring, NoKubernetesQueueNoWiring) {
  auto rendered = render_yaml("workers: {alpha: {enabled: false, type: kubernetes}}");
  const json& pod = beat_pod(rendered);
  EXPECT_FALSE(pod["spec"].contains("automountServiceAccountToken"));
  EXPECT_EQ(pod["spec"]["volumes"].size(), 1u);
  EXPECT_FALSE(pod["metadata"].contains("annotations"));
  EXPECT_FALSE(rendered.wiring.enabled());
}

TEST(Wiring, ChecksumIsTheSha256OfTheConfigMapDataAndFollowsTheManifests) {
  const std::string base = "workers: {alpha: {enabled: true, type: kubernetes}}\n";
  auto a = render_yaml(base);
  auto b = render_yaml(base + "kubernetesJobs: {backoffLimit: 2}\n");
  const json* configmap = find(a.objects, "ConfigMap", "nautobot-k8s-jobs-manifests");
  ASSERT_NE(configmap, nullptr);
  const std::string checksum = kjq::sha256_hex(kjq::output::to_go_json((*configmap)["data"]));
  EXPECT_EQ(beat_pod(a)["metadata"]["annotations"][kjq::chart::kManifestsChecksumAnnotation], checksum);
  EXPECT_NE(beat_pod(b)["metadata"]["annotations"][kjq::chart::kManifestsChecksumAnnotation], checksum);
  auto live = render_yaml(base + "nautobot: {jobsManifestsRestartOnChange: false}\n");
  EXPECT_FALSE(beat_pod(live)["metadata"].contains("annotations"));
  EXPECT_EQ(kjq::chart::nautobot_wiring_patch(
                live.wiring,
                "nautobot")["spec"]["template"]["metadata"]["annotations"][kjq::chart::kManifestsChecksumAnnotation],
            json());
}

TEST(Wiring, EnvOnlyWhereNautobotsDefaultsAreWrong) {
  kjq::chart::Release release;
  release.namespace_ = "netauto";
  auto rendered = kjq::chart::render_chart(
      kjq::test::values_from_yaml(
          "nautobot: {jobsManifestsMountPath: /srv/queues/}\nworkers: {alpha: {enabled: true, type: kubernetes}}"),
      release);
  EXPECT_EQ(rendered.wiring.env, json::parse(R"([{"name": "NAUTOBOT_JOB_QUEUE_PATH", "value": "/srv/queues"},
      {"name": "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", "value": "netauto"}])"));
  EXPECT_EQ(rendered.wiring.volume_mount["mountPath"], "/srv/queues");
}

TEST(Wiring, PatchTargetsTheNamedContainer) {
  auto rendered = render_yaml("workers: {alpha: {enabled: true, type: kubernetes}}");
  auto patch = kjq::chart::nautobot_wiring_patch(rendered.wiring, "web");
  const json& spec = patch["spec"]["template"]["spec"];
  EXPECT_EQ(spec["containers"][0]["name"], "web");
  EXPECT_EQ(spec["containers"][0]["volumeMounts"][0], rendered.wiring.volume_mount);
  EXPECT_EQ(spec["volumes"][0], rendered.wiring.volume);
  EXPECT_EQ(spec["automountServiceAccountToken"], true);
  EXPECT_FALSE(spec["containers"][0].contains("env"));
}

TEST(ServiceAccountToken, ExplicitFalseIsWarnedAboutAndOverriddenOnJobCreatingPods) {
  auto rendered = render_yaml(R"(
serviceAccount: {automountServiceAccountToken: false}
workers: {alpha: {enabled: true, type: kubernetes}}
)");
  ASSERT_EQ(rendered.warnings.size(), 1u);
  EXPECT_THAT(rendered.warnings[0], HasSubstr("automountServiceAccountToken"));
  EXPECT_EQ(find(rendered.objects, "ServiceAccount", "nautobot")->at("automountServiceAccountToken"), false);
  EXPECT_EQ(beat_pod(rendered)["spec"]["automountServiceAccountToken"], true);
  // The default (false, not written by the user) and no queues: no warning.
  EXPECT_TRUE(render_yaml("workers: {alpha: {enabled: true, type: kubernetes}}").warnings.empty());
  EXPECT_TRUE(render_yaml("serviceAccount: {automountServiceAccountToken: false}").warnings.empty());
}

TEST(JobCreatorRole, FollowAndCancelIsASwitch) {
  const std::string values = "serviceAccount: {roles: {jobCreator: {create: true}}}\n";
  auto on = render_yaml(values);
  const json& rules = find(on.objects, "Role", "nautobot-job-creator")->at("rules");
  EXPECT_EQ(rules, json::parse(R"([
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["delete"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]}])"));
  auto off = render_yaml(values, {"serviceAccount.roles.jobCreator.followAndCancel=false"});
  EXPECT_EQ(
      find(off.objects, "Role", "nautobot-job-creator")->at("rules"),
      json::parse(R"([{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "get", "list", "watch"]}])"));
  EXPECT_THROW(render_yaml(values, {"serviceAccount.roles.jobCreator.followAndCancel=maybe"}), kjq::InputError);
}

}  // namespace
