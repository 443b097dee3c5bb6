// Runs tests/schema/validate.mjs (kubernetes-models schemas) on manifests written by kjq's Go
// JSON encoder. Skipped unless `npm install` was run in tests/schema.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "output/go_json.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;

namespace {

struct RunResult {
  int exit_code = -1;
  std::string output;
};

class SchemaValidator : public ::testing::Test {
 protected:
  void SetUp() override {
    schema_dir_ = fs::path(KJQ_SOURCE_DIR) / "tests" / "schema";
    if (!fs::exists(schema_dir_ / "node_modules" / "kubernetes-models"))
      GTEST_SKIP() << "run `npm install` in tests/schema to enable schema validation";
    if (std::system("node --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "node not found";
    std::string tmpl = (fs::temp_directory_path() / "kjq-schema-XXXXXX").string();
    tmp_ = ::mkdtemp(tmpl.data());
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  RunResult validate(const json& input) {
    const fs::path file = tmp_ / "input.json";
    std::ofstream(file, std::ios::binary) << kjq::output::to_go_pretty_json(input);
    const std::string cmd = "node '" + (schema_dir_ / "validate.mjs").string() + "' '" + file.string() + "' 2>&1";
    RunResult result;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return result;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) result.output.append(buf, n);
    const int status = ::pclose(pipe);
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    return result;
  }

  static json fixture(const std::string& case_name, const std::string& queue) {
    std::ifstream in(fs::path(KJQ_FIXTURES_DIR) / "go-json" / case_name / "expected-text" / (queue + ".json"));
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
  }

  fs::path schema_dir_;
  fs::path tmp_;
};

}  // namespace

TEST_F(SchemaValidator, ChartJobManifestIsValid) {
  const auto r = validate(fixture("04-worker-options-set", "example"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "valid Job/nautobot-job\n");
}

TEST_F(SchemaValidator, BrokenJobManifestIsInvalid) {
  json job = fixture("02-single-worker-defaults", "example");
  job["spec"]["backoffLimit"] = "three";
  job["spec"]["template"]["spec"]["containers"][0].erase("name");
  const auto r = validate(job);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("invalid Job/nautobot-job"));
  EXPECT_THAT(r.output, HasSubstr("/spec/backoffLimit must be integer"));
  EXPECT_THAT(r.output, HasSubstr("must have required property name"));
}

TEST_F(SchemaValidator, ConfigMapManifestsAreValidatedAsJobs) {
  json data = json::object();
  data["alpha"] = kjq::output::to_go_pretty_json(fixture("05-defaults-and-overrides", "alpha")) + "\n";
  json broken = fixture("05-defaults-and-overrides", "beta");
  broken["spec"]["template"]["spec"]["restartPolicy"] = "Sometimes";
  data["beta"] = kjq::output::to_go_pretty_json(broken) + "\n";
  const json list = {{"apiVersion", "v1"},
                     {"kind", "List"},
                     {"items",
                      {{{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", {{"name", "test-nautobot-k8s-jobs-manifests"}}},
                        {"data", data}},
                       {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}}}}};
  const auto r = validate(list);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("valid ConfigMap/test-nautobot-k8s-jobs-manifests\n"));
  EXPECT_THAT(r.output, HasSubstr("valid Job/nautobot-job (ConfigMap/test-nautobot-k8s-jobs-manifests data.alpha)\n"));
  EXPECT_THAT(r.output, HasSubstr("invalid Job/nautobot-job (ConfigMap/test-nautobot-k8s-jobs-manifests data.beta): "
                                  "/spec/template/spec/restartPolicy"));
  EXPECT_THAT(r.output, HasSubstr("valid Widget/w (generic check)\n"));
}
