// kjq post-render over the reference chart's full `helm template` output
// (tests/fixtures/post-render-cases, copied from the shared acceptance data): the objects, what
// changes and what does not, idempotence, and schema validity (tests/schema/validate.mjs).
#include <gtest/gtest.h>
#include <filesystem>
#include <set>

#include "chart/job_manifests_configmap.hpp"
#include "chart/manifests_wiring.hpp"
#include "output/go_json.hpp"
#include "postrender/manifest_stream.hpp"
#include "postrender/pod_template_wiring.hpp"
#include "postrender/post_render.hpp"
#include "schema_validation.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kjq::postrender;

namespace {

fs::path cases_dir() { return kjq::test::fixtures_dir() / "post-render-cases"; }

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(cases_dir())) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

using Key = std::pair<std::string, std::string>;
std::map<Key, json> by_kind_and_name(const std::vector<StreamDocument>& documents) {
  std::map<Key, json> objects;
  for (const auto& d : documents) objects[{d.object["kind"], d.object["metadata"]["name"]}] = d.object;
  return objects;
}

// The pod template with kjq's wiring taken out (and the chart's subPath mounts of the manifests):
// what must be left equal to the chart's.
json without_manifests_wiring(json object) {
  json* tpl = pod_template(object);
  if (!tpl) return object;
  json& spec = (*tpl)["spec"];
  const auto names = manifests_volume_names(spec, "");
  auto drop = [&](json& list, const char* key) {
    json kept = json::array();
    for (auto& item : list) {
      if (std::find(names.begin(), names.end(), item.value(key, "")) == names.end()) kept.push_back(item);
    }
    list = kept;
  };
  if (spec.contains("volumes")) drop(spec["volumes"], "name");
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (auto& c : spec[list]) {
      if (c.contains("volumeMounts")) drop(c["volumeMounts"], "name");
      if (!c.contains("env")) continue;
      json kept = json::array();
      for (auto& e : c["env"]) {
        if (e["name"] != "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE" && e["name"] != "NAUTOBOT_JOB_QUEUE_PATH") {
          kept.push_back(e);
        }
      }
      c["env"] = kept;
    }
  }
  spec.erase("automountServiceAccountToken");
  if (tpl->contains("metadata") && (*tpl)["metadata"].contains("annotations")) {
    (*tpl)["metadata"]["annotations"].erase(kjq::chart::kManifestsChecksumAnnotation);
  }
  return object;
}

class PostRenderCase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = cases_dir() / GetParam();
    input_ = kjq::test::read_text(dir_ / "chart-output.yaml");
    result_ = post_render(input_, kjq::values::values_from_json(json::object(), "none"), {});
    in_ = read_manifest_stream(input_);
    out_ = read_manifest_stream(result_.output);
  }
  fs::path dir_;
  std::string input_;
  PostRenderResult result_;
  std::vector<StreamDocument> in_, out_;
};

TEST_P(PostRenderCase, KeepsEveryObjectInItsOrderAndAddsNone) {
  ASSERT_EQ(out_.size(), in_.size());
  for (std::size_t i = 0; i < in_.size(); ++i) {
    EXPECT_EQ(object_label(out_[i].object), object_label(in_[i].object));
    EXPECT_EQ(out_[i].source, in_[i].source);
  }
  EXPECT_TRUE(result_.warnings.empty());
}

TEST_P(PostRenderCase, ObjectsOtherThanTheWiringAreEqual) {
  const auto before = by_kind_and_name(in_);
  const auto after = by_kind_and_name(out_);
  int rewired = 0;
  for (const auto& [key, object] : before) {
    ASSERT_TRUE(after.count(key)) << key.first << "/" << key.second;
    if (after.at(key) != object) ++rewired;
    EXPECT_EQ(without_manifests_wiring(after.at(key)), without_manifests_wiring(object)) << key.second;
  }
  EXPECT_EQ(rewired, result_.rewired_pods);
  EXPECT_GE(result_.rewired_pods, 2);  // the web Deployment and Celery Beat
}

TEST_P(PostRenderCase, NoPodMountsTheManifestsWithSubPathAndEachHasTheWiring) {
  const auto after = by_kind_and_name(out_);
  json configmap;
  for (const auto& [key, object] : after) {
    if (key.second.ends_with("-k8s-jobs-manifests")) configmap = object;
  }
  ASSERT_TRUE(configmap.is_object());
  std::map<std::string, std::string> data;
  for (const auto& [queue, text] : configmap["data"].items()) data[queue] = text;
  const std::string checksum = kjq::chart::manifests_checksum(data);
  for (const auto& d : out_) {
    const json* tpl = pod_template(d.object);
    if (!tpl) continue;
    const auto names = manifests_volume_names((*tpl)["spec"], configmap["metadata"]["name"]);
    if (names.empty()) continue;
    EXPECT_EQ(names, std::vector<std::string>{kjq::chart::kManifestsVolumeName});
    EXPECT_EQ((*tpl)["spec"]["automountServiceAccountToken"], true);
    EXPECT_EQ((*tpl)["metadata"]["annotations"][kjq::chart::kManifestsChecksumAnnotation], checksum);
    for (const auto& volume : (*tpl)["spec"]["volumes"]) {
      if (volume["name"] != kjq::chart::kManifestsVolumeName) continue;
      ASSERT_EQ(volume["configMap"]["items"].size(), data.size());
      for (const auto& item : volume["configMap"]["items"]) {
        EXPECT_EQ(item["path"], item["key"].get<std::string>() + "/manifest.json");
      }
    }
    int mounts = 0;
    for (const auto& c : (*tpl)["spec"]["containers"]) {
      for (const auto& m : c.value("volumeMounts", json::array())) {
        if (m["name"] != kjq::chart::kManifestsVolumeName) continue;
        ++mounts;
        EXPECT_FALSE(m.contains("subPath")) << object_label(d.object);
        EXPECT_EQ(m["mountPath"], "/etc/nautobot/job-queues");
        EXPECT_EQ(m["readOnly"], true);
      }
    }
    EXPECT_EQ(mounts, 1) << object_label(d.object);
  }
}

TEST_P(PostRenderCase, ManifestsAreByteIdentical) {
  for (std::size_t i = 0; i < in_.size(); ++i) {
    if (in_[i].object["kind"] != "ConfigMap") continue;
    EXPECT_EQ(out_[i].object, in_[i].object);  // the data strings included, byte for byte
  }
}

TEST_P(PostRenderCase, ThePodsOfTheReleaseNamespaceGetItAsTheJobNamespace) {
  const json release = kjq::test::read_json(dir_ / "release.json");
  for (const auto& d : out_) {
    const json* tpl = pod_template(d.object);
    if (!tpl || manifests_volume_names((*tpl)["spec"], "").empty()) continue;
    bool found = false;
    for (const auto& e : (*tpl)["spec"]["containers"][0]["env"]) {
      if (e["name"] == "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE") found = e["value"] == release["namespace"];
    }
    EXPECT_EQ(found, release["namespace"] != "default") << object_label(d.object);
  }
}

TEST_P(PostRenderCase, FeedingTheOutputBackGivesTheSameOutput) {
  const auto again = post_render(result_.output, kjq::values::values_from_json(json::object(), "none"), {});
  EXPECT_EQ(again.output, result_.output);
}

TEST_P(PostRenderCase, TheChartsOwnValuesFileChangesNothingMore) {
  // The values the chart was rendered with, given to kjq too (-f): they use no kjq extension.
  const auto doc = kjq::test::values_from_yaml(kjq::test::read_text(dir_ / "values.yaml"));
  EXPECT_EQ(post_render(input_, doc, {}).output, result_.output);
}

TEST_P(PostRenderCase, EveryOutputObjectIsSchemaValid) {
  if (!kjq::test::schema_validator_installed()) GTEST_SKIP() << "run scripts/install-test-tools.sh";
  json objects = json::array();
  for (const auto& d : out_) objects.push_back(d.object);  // the chart's nulls (podAffinity: null) included
  const auto result = kjq::test::validate_schemas(objects);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("invalid"), std::string::npos) << result.out;
}

INSTANTIATE_TEST_SUITE_P(Cases, PostRenderCase, ::testing::ValuesIn(case_names()), [](const auto& info) {
  std::string name = info.param;
  for (auto& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
});

}  // namespace
