// Every object kjq renders for the render-cases and the Celery and admission golden values (the
// job manifests in the ConfigMap as Jobs), and a Nautobot
// web Deployment with the --nautobot-wiring patch applied, validated against the
// kubernetes-models schemas by tests/schema/validate.mjs. Skipped when its node_modules is absent.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <ostream>

#include "celery_test_helpers.hpp"
#include "chart/manifests_wiring.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kjq::test::celery;

namespace {

struct CaseDir {
  std::string folder;  // render-cases, golden/celery or golden/admission
  std::string name;
};

std::vector<CaseDir> all_cases() {
  std::vector<CaseDir> cases;
  for (const char* folder : {"render-cases", "golden/celery", "golden/admission"}) {
    for (const auto& name : dir_names(kjq::test::fixtures_dir() / folder)) cases.push_back({folder, name});
  }
  return cases;
}

void PrintTo(const CaseDir& c, std::ostream* os) { *os << c.folder << "/" << c.name; }

// Merges `items` into `list` the way a strategic merge does for a list keyed by `key`: an item
// with "$patch": "delete" removes its match, any other item replaces its match or is appended.
void merge_keyed(json& list, const json& items, const char* key) {
  if (!list.is_array()) list = json::array();
  for (const auto& item : items) {
    json kept = json::array();
    for (const auto& existing : list) {
      if (existing.value(key, json()) != item.value(key, json())) kept.push_back(existing);
    }
    list = kept;
    if (item.value("$patch", "") != "delete") list.push_back(item);
  }
}

// Applies the wiring patch as `kubectl patch` does for the shapes it holds: annotations merge
// (null deletes), volumes merge by name, containers by name, their volumeMounts by mountPath and
// env by name.
void apply_patch(json& deployment, const json& patch) {
  json& pod = deployment["spec"]["template"];
  const json& p = patch["spec"]["template"];
  json annotations = pod["metadata"].value("annotations", json::object());
  for (const auto& [key, value] : p["metadata"]["annotations"].items()) {
    if (value.is_null()) {
      annotations.erase(key);
    } else {
      annotations[key] = value;
    }
  }
  pod["metadata"].erase("annotations");
  if (!annotations.empty()) pod["metadata"]["annotations"] = annotations;
  if (p["spec"].contains("automountServiceAccountToken")) {
    pod["spec"]["automountServiceAccountToken"] = p["spec"]["automountServiceAccountToken"];
  }
  merge_keyed(pod["spec"]["volumes"], p["spec"]["volumes"], "name");
  for (const auto& c : p["spec"]["containers"]) {
    for (auto& target : pod["spec"]["containers"]) {
      if (target["name"] != c["name"]) continue;
      merge_keyed(target["volumeMounts"], c.value("volumeMounts", json::array()), "mountPath");
      merge_keyed(target["env"], c.value("env", json::array()), "name");
    }
  }
}

class Schema : public ::testing::TestWithParam<CaseDir> {
 protected:
  void SetUp() override {
    schema_dir_ = fs::path(KJQ_SOURCE_DIR) / "tests" / "schema";
    if (!fs::exists(schema_dir_ / "node_modules" / "kubernetes-models")) {
      GTEST_SKIP() << "run `npm ci` in tests/schema to enable schema validation";
    }
    if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node not found";
  }

  // Exit status and output of validate.mjs for a JSON array of objects.
  std::pair<int, std::string> validate(const json& objects) {
    kjq::test::TempDir tmp;
    auto file = tmp.write("objects.json", kjq::output::to_go_pretty_json(objects));
    const std::string cmd = "node '" + (schema_dir_ / "validate.mjs").string() + "' '" + file.string() + "' 2>&1";
    std::string output;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) return {-1, "popen failed"};
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
    int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }

  fs::path schema_dir_;
};

TEST_P(Schema, EveryRenderedObjectIsValid) {
  const auto rendered = render_dir(kjq::test::fixtures_dir() / GetParam().folder / GetParam().name);
  auto [status, output] = validate(json(rendered.objects));
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output.find("invalid"), std::string::npos) << output;
}

TEST_P(Schema, AWebDeploymentWithTheWiringPatchIsValid) {
  const auto rendered = render_dir(kjq::test::fixtures_dir() / GetParam().folder / GetParam().name);
  // Stand-in for the chart's web Deployment: a rendered Celery one whose container is "nautobot".
  auto deployments = of_kind(rendered.objects, "Deployment");
  if (deployments.empty()) GTEST_SKIP() << "no Deployment in this case";
  json web = deployments.back();
  web["metadata"]["name"] = "nautobot-default";
  web["spec"]["template"]["spec"]["containers"][0]["name"] = "nautobot";
  apply_patch(web, kjq::chart::nautobot_wiring_patch(rendered.wiring, "nautobot"));
  if (rendered.wiring.enabled()) {
    EXPECT_EQ(web["spec"]["template"]["spec"]["automountServiceAccountToken"], true);
  }
  auto [status, output] = validate(json::array({web}));
  EXPECT_EQ(status, 0) << output;
}

INSTANTIATE_TEST_SUITE_P(Cases, Schema, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  std::string name = info.param.folder + "_" + info.param.name;
  for (auto& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
});

}  // namespace
