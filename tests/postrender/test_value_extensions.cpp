// -f values with kjq's extensions, applied by post-render to the official chart's objects exactly
// as `kjq render` renders them; plus the wiring settings the values can change.
#include <gtest/gtest.h>

#include "chart/job_manifests_configmap.hpp"
#include "chart/render.hpp"
#include "postrender/manifest_stream.hpp"
#include "postrender/pod_template_wiring.hpp"
#include "postrender/post_render.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kjq::postrender;

namespace {

const fs::path kCase = kjq::test::fixtures_dir() / "post-render-cases" / "01-two-kubernetes-queues";

const json* find_object(const std::vector<StreamDocument>& documents, const std::string& kind,
                        const std::string& name) {
  for (const auto& d : documents) {
    if (d.object["kind"] == kind && d.object["metadata"]["name"] == name) return &d.object;
  }
  return nullptr;
}

// The case's own values with `extra` YAML appended (top-level keys the case does not set).
kjq::values::ValuesDocument case_values(const std::string& extra, std::vector<std::string> set = {}) {
  return kjq::test::values_from_yaml(kjq::test::read_text(kCase / "values.yaml") + extra, "values.yaml",
                                     std::move(set));
}

TEST(PostRenderExtensions, WithoutExtensionsTheChartsManifestsAreKjqRendersOwn) {
  // The premise of the comparisons below: kjq render reproduces the chart's ConfigMap.
  const auto doc = case_values("");
  const auto rendered =
      kjq::chart::render_chart(doc, kjq::test::release_from_json(kjq::test::read_json(kCase / "release.json")));
  const auto out = read_manifest_stream(post_render(kjq::test::read_text(kCase / "chart-output.yaml"), doc, {}).output);
  const json* cm = find_object(out, "ConfigMap", "nautobot-k8s-jobs-manifests");
  ASSERT_NE(cm, nullptr);
  for (const auto& [queue, text] : rendered.queue_manifests) EXPECT_EQ((*cm)["data"][queue], text) << queue;
}

TEST(PostRenderExtensions, TheManifestsAndRoleAreWhatKjqRenderRendersForTheSameValues) {
  const std::string extensions =
      "kubernetesJobs:\n  activeDeadlineSeconds: 3600\n  admission: kjq\n  maxConcurrency: 2\n"
      "  jobOverrides:\n    podFailurePolicy:\n      rules:\n        - action: FailJob\n"
      "          onExitCodes: {operator: In, values: [42]}\n";
  const auto doc = case_values(extensions, {"workers.beta.admission=none", "workers.beta.kueueQueueName=team-b",
                                            "serviceAccount.roles.jobCreator.followAndCancel=true"});
  const auto rendered =
      kjq::chart::render_chart(doc, kjq::test::release_from_json(kjq::test::read_json(kCase / "release.json")));
  const std::string input = kjq::test::read_text(kCase / "chart-output.yaml");
  const auto result = post_render(input, doc, {});
  const auto out = read_manifest_stream(result.output);
  const json* cm = find_object(out, "ConfigMap", "nautobot-k8s-jobs-manifests");
  ASSERT_NE(cm, nullptr);
  ASSERT_EQ(rendered.queue_manifests.size(), 2u);
  for (const auto& [queue, text] : rendered.queue_manifests) EXPECT_EQ((*cm)["data"][queue], text) << queue;
  EXPECT_NE(rendered.queue_manifests.at("alpha").find("\"suspend\": true"), std::string::npos);
  EXPECT_NE(rendered.queue_manifests.at("beta").find("team-b"), std::string::npos);

  const json* role = find_object(out, "Role", "nautobot-job-creator");
  ASSERT_NE(role, nullptr);
  json kjq_role;
  for (const auto& object : rendered.objects) {
    if (object["kind"] == "Role") kjq_role = object;
  }
  EXPECT_EQ((*role)["rules"], kjq_role["rules"]);

  // The pods' checksum follows the changed manifests, and a second pass changes nothing.
  std::map<std::string, std::string> data(rendered.queue_manifests.begin(), rendered.queue_manifests.end());
  const json* beat = find_object(out, "Deployment", "nautobot-celery-beat");
  ASSERT_NE(beat, nullptr);
  EXPECT_EQ((*beat)["spec"]["template"]["metadata"]["annotations"]["checksum/k8s-jobs-manifests"],
            kjq::chart::manifests_checksum(data));
  EXPECT_EQ(post_render(result.output, doc, {}).output, result.output);
}

TEST(PostRenderExtensions, TheFollowAndCancelRulesComeOnlyWhenTheValuesAskForThem) {
  const std::string input = kjq::test::read_text(kCase / "chart-output.yaml");
  const auto in = read_manifest_stream(input);
  const auto out = read_manifest_stream(post_render(input, case_values(""), {}).output);
  EXPECT_EQ(*find_object(out, "Role", "nautobot-job-creator"), *find_object(in, "Role", "nautobot-job-creator"));
}

TEST(PostRenderExtensions, AnotherMountPathIsMountedAndPassedToNautobot) {
  const auto doc = case_values("", {"nautobot.jobsManifestsMountPath=/srv/queues/"});
  const auto out = read_manifest_stream(post_render(kjq::test::read_text(kCase / "chart-output.yaml"), doc, {}).output);
  const json* web = find_object(out, "Deployment", "nautobot-default");
  ASSERT_NE(web, nullptr);
  const json& container = (*web)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_NE(
      std::find(container["volumeMounts"].begin(), container["volumeMounts"].end(),
                json({{"name", "nautobot-k8s-jobs-manifests"}, {"mountPath", "/srv/queues"}, {"readOnly", true}})),
      container["volumeMounts"].end());
  EXPECT_NE(std::find(container["env"].begin(), container["env"].end(),
                      json({{"name", "NAUTOBOT_JOB_QUEUE_PATH"}, {"value", "/srv/queues"}})),
            container["env"].end());
}

TEST(PostRenderExtensions, RestartOnChangeOffLeavesNoChecksum) {
  const auto doc = case_values("", {"nautobot.jobsManifestsRestartOnChange=false"});
  const auto out = read_manifest_stream(post_render(kjq::test::read_text(kCase / "chart-output.yaml"), doc, {}).output);
  for (const auto& d : out) {
    const json* tpl = pod_template(d.object);
    if (!tpl || !(*tpl)["metadata"].contains("annotations")) continue;
    EXPECT_FALSE((*tpl)["metadata"]["annotations"].contains("checksum/k8s-jobs-manifests")) << object_label(d.object);
  }
}

TEST(PostRenderExtensions, InvalidExtensionValuesAreRefusedWithTheirFileAndLine) {
  const auto doc = case_values("kubernetesJobs:\n  admission: sometimes\n");
  try {
    (void)post_render(kjq::test::read_text(kCase / "chart-output.yaml"), doc, {});
    FAIL() << "accepted admission: sometimes";
  } catch (const kjq::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("values.yaml:36:"), std::string::npos) << e.what();
  }
}

TEST(PostRenderWiring, PodsMountingAConfigMapThatIsNotRenderedLoseTheMount) {
  // The chart mounts the manifests but rendered no ConfigMap (no enabled queue): the pods would
  // wait for it forever, so the mount goes.
  std::string input = kjq::test::read_text(kCase / "chart-output.yaml");
  const auto start = input.find("---\n# Source: nautobot/templates/configmap-k8s-jobs.yaml");
  const auto end = input.find("---\n", start + 4);
  input.erase(start, end - start);
  const auto out =
      read_manifest_stream(post_render(input, kjq::values::values_from_json(json::object(), "none"), {}).output);
  for (const auto& d : out) {
    const json* tpl = pod_template(d.object);
    if (!tpl) continue;
    EXPECT_TRUE(manifests_volume_names((*tpl)["spec"], "").empty()) << object_label(d.object);
    EXPECT_EQ(d.object.dump().find("k8s-jobs-manifests"), std::string::npos) << object_label(d.object);
  }
}

}  // namespace
