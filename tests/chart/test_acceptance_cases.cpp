// The reference chart's own outputs (tests/fixtures/chart-cases, render-cases), compared byte
// for byte (manifest texts) and as parsed objects (everything around them).
#include <gtest/gtest.h>

#include <filesystem>

#include "chart/manifests_wiring.hpp"
#include "chart/rbac.hpp"
#include "chart/render.hpp"
#include "support/test_support.hpp"
#include "values/values_document.hpp"

namespace fs = std::filesystem;
using kjq::test::fixtures_dir;
using kjq::test::read_json;
using kjq::test::read_text;
using nlohmann::json;

namespace {

std::vector<std::string> case_names(const char* folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() / folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

kjq::chart::RenderedChart render_case(const fs::path& dir, std::vector<std::string> set = {}) {
  kjq::values::ValuesOptions options;
  options.files.push_back(dir / "values.yaml");
  options.set = std::move(set);
  auto doc = kjq::values::load_values(options);
  return kjq::chart::render_chart(doc, kjq::test::release_from_json(read_json(dir / "release.json")));
}

const json* find_object(const std::vector<json>& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : objects) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  }
  return nullptr;
}

class ChartCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ChartCase, ManifestsMatchTheReferenceByteForByte) {
  const auto dir = fixtures_dir() / "chart-cases" / GetParam();
  const auto expected = read_json(dir / "expected.json");
  const auto rendered = render_case(dir);
  const auto release = read_json(dir / "release.json");
  const std::string cm_name = release["name"].get<std::string>() + "-nautobot-k8s-jobs-manifests";

  const json* configmap = find_object(rendered.objects, "ConfigMap", cm_name);
  ASSERT_EQ(configmap != nullptr, expected["configMapRendered"].get<bool>());
  if (!configmap) {
    EXPECT_TRUE(rendered.queue_manifests.empty());
    return;
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : (*configmap)["data"].items()) keys.push_back(key);
  EXPECT_EQ(json(keys), expected["dataKeys"]);

  for (const auto& [queue, object] : expected["data"].items()) {
    const auto& text = (*configmap)["data"][queue].get_ref<const std::string&>();
    EXPECT_EQ(json::parse(text), object) << queue;
    EXPECT_EQ(text, read_text(dir / "expected-text" / (queue + ".json"))) << queue;
    EXPECT_EQ(rendered.queue_manifests.at(queue), text) << queue;
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, ChartCase, ::testing::ValuesIn(case_names("chart-cases")));

// Drops the manifests volume and every mount of it (the reference's per-queue subPath mounts,
// kjq's one directory mount).
void erase_manifests_wiring(json& pod_spec) {
  auto drop = [](json& list) {
    json kept = json::array();
    for (auto& item : list) {
      if (item["name"] != kjq::chart::kManifestsVolumeName) kept.push_back(item);
    }
    list = kept;
  };
  if (pod_spec.contains("volumes")) drop(pod_spec["volumes"]);
  for (auto& container : pod_spec["containers"]) {
    if (container.contains("volumeMounts")) drop(container["volumeMounts"]);
  }
}

// kjq's Beat carries the wiring of docs/values.md instead of the reference's mounts (docs/differences.md
// #1–#3): assert it, then take it out of both sides so the rest compares as it is.
void check_and_strip_beat_wiring(json& actual, json& want, const kjq::chart::RenderedChart& rendered,
                                 const std::string& ns) {
  json& pod = actual["spec"]["template"]["spec"];
  json& container = pod["containers"][0];
  if (!rendered.wiring.enabled()) {
    EXPECT_FALSE(pod.contains("automountServiceAccountToken"));
    return;
  }
  // Defect 3: the token is mounted on the pod that creates jobs.
  EXPECT_EQ(pod["automountServiceAccountToken"], true);
  pod.erase("automountServiceAccountToken");
  // Defects 1 and 2: one read-only directory mount; the volume lists only the enabled queues.
  json items = json::array();
  for (const auto& [queue, text] : rendered.queue_manifests) {
    items.push_back({{"key", queue}, {"path", queue + "/manifest.json"}});
  }
  json want_volume = want["spec"]["template"]["spec"]["volumes"];
  bool found_volume = false;
  for (const auto& volume : pod["volumes"]) {
    if (volume["name"] != kjq::chart::kManifestsVolumeName) continue;
    found_volume = true;
    EXPECT_EQ(volume["configMap"]["items"], items);
    EXPECT_EQ(volume["configMap"]["name"], items.empty() ? json() : want_volume[1]["configMap"]["name"]);
  }
  EXPECT_TRUE(found_volume);
  std::size_t reference_mounts = 0;
  for (const auto& mount : want["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]) {
    if (mount["name"] != kjq::chart::kManifestsVolumeName) continue;
    ++reference_mounts;
    EXPECT_TRUE(mount.contains("subPath"));  // the reference: one subPath mount per worker
  }
  EXPECT_GE(reference_mounts, rendered.queue_manifests.size());
  json mounts = json::array();
  for (const auto& mount : container["volumeMounts"]) {
    if (mount["name"] == kjq::chart::kManifestsVolumeName) mounts.push_back(mount);
  }
  EXPECT_EQ(mounts, json::array({{{"name", kjq::chart::kManifestsVolumeName},
                                  {"mountPath", kjq::chart::kDefaultJobQueuePath},
                                  {"readOnly", true}}}));
  erase_manifests_wiring(pod);
  erase_manifests_wiring(want["spec"]["template"]["spec"]);
  // Restart on change (default on): the checksum of the manifests ConfigMap's data.
  json& annotations = actual["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(annotations[kjq::chart::kManifestsChecksumAnnotation],
            kjq::chart::manifests_checksum(rendered.queue_manifests));
  annotations.erase(kjq::chart::kManifestsChecksumAnnotation);
  if (annotations.empty()) actual["spec"]["template"]["metadata"].erase("annotations");
  // The reference gets the job namespace from its env ConfigMap; kjq's Beat sets it itself.
  if (ns != kjq::chart::kDefaultJobPodNamespace) {
    json& env = container["env"];
    ASSERT_FALSE(env.empty());
    EXPECT_EQ(env.back(), json({{"name", "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE"}, {"value", ns}}));
    env.erase(env.size() - 1);
  }
}

void compare_deployment(json actual, json want, const kjq::chart::RenderedChart& rendered, const std::string& ns) {
  // checksum/config and checksum/config-env hash ConfigMaps kjq does not render: not compared.
  json& want_meta = want["spec"]["template"]["metadata"];
  want_meta["annotations"].erase("checksum/config");
  want_meta["annotations"].erase("checksum/config-env");
  if (want_meta["annotations"].empty()) want_meta.erase("annotations");
  const auto name = want["metadata"]["name"].get<std::string>();
  if (name.size() > 12 && name.substr(name.size() - 12) == "-celery-beat") {
    check_and_strip_beat_wiring(actual, want, rendered, ns);
  }
  EXPECT_EQ(kjq::test::without_nulls(actual), kjq::test::without_nulls(want)) << "Deployment/" << name;
}

class RenderCase : public ::testing::TestWithParam<std::string> {};

TEST_P(RenderCase, ObjectsMatchTheReference) {
  const auto dir = fixtures_dir() / "render-cases" / GetParam();
  const auto expected = read_json(dir / "expected-objects.json");
  const auto release = read_json(dir / "release.json");
  const auto rendered = render_case(dir);
  std::size_t compared = 0;
  for (const auto& want : expected) {
    const auto kind = want["kind"].get<std::string>();
    const auto name = want["metadata"]["name"].get<std::string>();
    const json* got = find_object(rendered.objects, kind, name);
    ASSERT_NE(got, nullptr) << kind << "/" << name << " not rendered";
    ++compared;
    if (kind == "Deployment") {
      compare_deployment(*got, want, rendered, release["namespace"].get<std::string>());
      continue;
    }
    json actual = *got;
    if (kind == "ConfigMap" && name.find("-k8s-jobs-manifests") != std::string::npos) {
      // docs/differences.md #6: the chart's manifests ConfigMap has no labels; kjq labels it like
      // every other object (standard labels + commonLabels).
      const auto& labels = actual["metadata"]["labels"];
      EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "Helm");
      EXPECT_EQ(labels["app.kubernetes.io/instance"], release["name"]);
      actual["metadata"].erase("labels");
    }
    if (kind == "Role") {
      // docs/differences.md #5: with serviceAccount.roles.jobCreator.followAndCancel (kjq extension,
      // default true) the reference's rule is followed by the follow-and-cancel rules.
      json& rules = actual["rules"];
      ASSERT_EQ(rules.size(), 1 + kjq::chart::follow_and_cancel_rules().size());
      json extra = json::array();
      for (std::size_t i = 1; i < rules.size(); ++i) extra.push_back(rules[i]);
      EXPECT_EQ(extra, kjq::chart::follow_and_cancel_rules());
      rules = json::array({rules[0]});
    }
    EXPECT_EQ(kjq::test::without_nulls(actual), kjq::test::without_nulls(want)) << kind << "/" << name;
  }
  EXPECT_EQ(compared, rendered.objects.size()) << "kjq rendered objects the reference does not";
}

TEST_P(RenderCase, WithoutFollowAndCancelTheRoleIsTheReferenceRole) {
  const auto dir = fixtures_dir() / "render-cases" / GetParam();
  const auto expected = read_json(dir / "expected-objects.json");
  const auto rendered = render_case(dir, {"serviceAccount.roles.jobCreator.followAndCancel=false"});
  for (const auto& want : expected) {
    if (want["kind"] != "Role") continue;
    const json* got = find_object(rendered.objects, "Role", want["metadata"]["name"].get<std::string>());
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(kjq::test::without_nulls(*got), kjq::test::without_nulls(want));
  }
}

INSTANTIATE_TEST_SUITE_P(Reference, RenderCase, ::testing::ValuesIn(case_names("render-cases")));

}  // namespace
