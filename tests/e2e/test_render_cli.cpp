// `kjq render` and `kjq values` as a user runs them: real process, real files, exit codes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/process.hpp"
#include "support/test_support.hpp"
#include "values/yaml_loader.hpp"

namespace fs = std::filesystem;
using kjq::test::run_process;
using kjq::test::TempDir;
using nlohmann::json;

namespace {

const std::string kKjq = KJQ_BIN;
const fs::path kSource = KJQ_SOURCE_DIR;

kjq::test::ProcessResult kjq_run(std::vector<std::string> args) {
  args.insert(args.begin(), kKjq);
  return run_process(args, 120);
}

std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    // Links are not followed; a timestamped data directory (..2026_12_02_...) shows as "..<stamp>".
    std::string rel = e.path().lexically_relative(dir).string();
    if (rel.size() > 2 && rel.compare(0, 2, "..") == 0 && std::isdigit(static_cast<unsigned char>(rel[2])))
      rel = "..<stamp>" + (rel.find('/') == std::string::npos ? "" : rel.substr(rel.find('/')));
    files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string example() { return (kSource / "examples" / "values.yaml").string(); }

}  // namespace

TEST(RenderCli, HelpAndUsageErrors) {
  auto help = kjq_run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("render"), std::string::npos);
  auto render_help = kjq_run({"render", "--help"});
  EXPECT_EQ(render_help.exit_code, 0);
  for (const char* flag : {"--values", "--set", "--set-string", "--release-name", "--namespace", "--chart-version",
                           "--app-version", "--managed-by", "--output", "--job-queues-dir"}) {
    EXPECT_NE(render_help.out.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(kjq_run({"render", "-o", "xml"}).exit_code, 2);
  EXPECT_EQ(kjq_run({"render", "-f", "/nonexistent/values.yaml"}).exit_code, 2);
  EXPECT_EQ(kjq_run({}).exit_code, 2);
  auto bad_release = kjq_run({"render", "--release-name", "Bad_Name"});
  EXPECT_EQ(bad_release.exit_code, 3);
  EXPECT_NE(bad_release.err.find("invalid release name"), std::string::npos);
}

TEST(RenderCli, YamlStreamReadsBackAsTheJsonList) {
  auto yaml = kjq_run({"render", "-f", example(), "-n", "netauto"});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  auto list = kjq_run({"render", "-f", example(), "-n", "netauto", "-o", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto parsed = json::parse(list.out);
  EXPECT_EQ(parsed["kind"], "List");
  EXPECT_EQ(parsed["apiVersion"], "v1");
  std::vector<std::string> kinds;
  for (const auto& item : parsed["items"]) kinds.push_back(item["kind"].get<std::string>());
  ASSERT_GE(kinds.size(), 4u);
  EXPECT_EQ((std::vector<std::string>(kinds.begin(), kinds.begin() + 4)),
            (std::vector<std::string>{"ServiceAccount", "Role", "RoleBinding", "ConfigMap"}));
  // Read the YAML back with the same (YAML 1.1) typing kubectl uses: identical objects.
  auto documents = kjq::values::parse_yaml_stream(yaml.out, "stdout");
  ASSERT_EQ(documents.size(), parsed["items"].size());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    // nlohmann compares numbers by value (YAML gives 2.0 where JSON gives 2), strings exactly.
    EXPECT_EQ(documents[i].value, parsed["items"][i]) << i;
  }
  EXPECT_EQ(yaml.out.rfind("---\n", 0), 0u);
}

TEST(RenderCli, JobQueuesDirMatchesConfigMapAndRemovesOnlyWhatKjqWrote) {
  TempDir tmp;
  const auto dir = tmp.path() / "job-queues";
  fs::create_directories(dir / "not-ours");
  std::ofstream(dir / "not-ours" / "manifest.json") << "{}";
  std::ofstream(dir / "README") << "keep me";

  auto first = kjq_run({"render", "-f", example(), "--job-queues-dir", dir.string(), "-o", "json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto items = json::parse(first.out)["items"];
  json configmap;
  for (const auto& item : items) {
    if (item["kind"] == "ConfigMap") configmap = item;
  }
  ASSERT_TRUE(configmap.is_object());
  for (const auto& [queue, text] : configmap["data"].items()) {
    EXPECT_EQ(kjq::test::read_text(dir / queue / "manifest.json"), text.get<std::string>()) << queue;
  }
  EXPECT_FALSE(fs::exists(dir / "gpu"));  // disabled queue: nothing

  auto second = kjq_run({"render", "-f", example(), "--set", "workers.reports.enabled=false", "--job-queues-dir",
                         dir.string(), "-o", "none"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(second.out.empty());
  EXPECT_NE(second.err.find("removed queue \"reports\""), std::string::npos) << second.err;
  // quick is a link into ..data (docs/values.md: the tree switches atomically, as a ConfigMap volume).
  EXPECT_EQ(files_under(dir),
            (std::vector<std::string>{"..<stamp>", "..<stamp>/quick", "..<stamp>/quick/manifest.json", "..data",
                                      ".kjq-queues", "README", "not-ours", "not-ours/manifest.json", "quick"}));
  EXPECT_EQ(fs::read_symlink(dir / "quick"), "..data/quick");
  EXPECT_EQ(kjq::test::read_text(dir / "README"), "keep me");
}

TEST(RenderCli, QueueDirectoryThatIsASymlinkIsRefused) {
  TempDir tmp;
  const auto dir = tmp.path() / "job-queues";
  fs::create_directories(dir);
  fs::create_directories(tmp.path() / "elsewhere");
  fs::create_directory_symlink(tmp.path() / "elsewhere", dir / "quick");
  auto result = kjq_run({"render", "-f", example(), "--job-queues-dir", dir.string(), "-o", "none"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("symlink"), std::string::npos) << result.err;
  EXPECT_TRUE(fs::is_empty(tmp.path() / "elsewhere"));
}

TEST(RenderCli, ValuesCommandPrintsDefaultsAndComputedValues) {
  auto defaults = kjq_run({"values"});
  ASSERT_EQ(defaults.exit_code, 0);
  EXPECT_EQ(defaults.out, kjq::test::read_text(kSource / "src" / "values" / "defaults.yaml"));
  auto computed = kjq_run({"values", "--set", "kubernetesJobs.backoffLimit=2"});
  ASSERT_EQ(computed.exit_code, 0) << computed.err;
  auto doc = kjq::values::parse_yaml(computed.out, "stdout");
  EXPECT_EQ(doc.value["kubernetesJobs"]["backoffLimit"], 2);
  EXPECT_EQ(doc.value["kubernetesJobs"]["ttlSecondsAfterFinished"], 60);
}

// Every broken values file: exit 3, a message naming the file, no stdout, nothing written, and
// what an earlier good render wrote is left exactly as it was.
class BadValues : public ::testing::TestWithParam<std::string> {};

TEST_P(BadValues, FailCleanlyAndLoseNothing) {
  TempDir tmp;
  const auto dir = tmp.path() / "job-queues";
  ASSERT_EQ(kjq_run({"render", "-f", example(), "--job-queues-dir", dir.string(), "-o", "none"}).exit_code, 0);
  const auto before = files_under(dir);
  const auto quick_before = kjq::test::read_text(dir / "quick" / "manifest.json");

  const auto file = kjq::test::fixtures_dir() / "bad-values" / GetParam();
  auto result = kjq_run({"render", "-f", example(), "-f", file.string(), "--job-queues-dir", dir.string()});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_TRUE(result.out.empty()) << result.out;
  EXPECT_NE(result.err.find(GetParam()), std::string::npos) << result.err;
  EXPECT_EQ(result.err.rfind("kjq: error: ", 0), 0u) << result.err;
  EXPECT_EQ(files_under(dir), before);
  EXPECT_EQ(kjq::test::read_text(dir / "quick" / "manifest.json"), quick_before);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadValues,
                         ::testing::Values("syntax-error.yaml", "wrong-type.yaml", "bad-worker-name.yaml",
                                           "duplicate-keys.yaml", "unknown-key.yaml", "bad-type.yaml",
                                           "enabled-not-boolean.yaml", "mount-without-volume.yaml",
                                           "overrides-drop-main-container.yaml", "extra-objects-template.yaml",
                                           "top-level-list.yaml", "infinity.yaml", "env-without-name.yaml"),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// `kjq values` runs render's checks: the same corpus fails there the same way, with or without
// --computed (the stderr is identical to render's).
TEST_P(BadValues, ValuesCommandRefusesThemLikeRender) {
  const auto file = (kjq::test::fixtures_dir() / "bad-values" / GetParam()).string();
  auto render = kjq_run({"render", "-f", example(), "-f", file, "-o", "none"});
  ASSERT_EQ(render.exit_code, 3) << render.err;
  for (bool computed : {false, true}) {
    std::vector<std::string> args = {"values", "-f", example(), "-f", file};
    if (computed) args.push_back("--computed");
    auto values = kjq_run(args);
    EXPECT_EQ(values.exit_code, 3) << values.err;
    EXPECT_TRUE(values.out.empty()) << values.out;
    EXPECT_EQ(values.err, render.err);
  }
}

TEST(BadValuesMessages, SayWhatWasExpectedAndWhere) {
  auto message = [](const std::string& file) {
    return kjq_run({"render", "-f", (kjq::test::fixtures_dir() / "bad-values" / file).string()}).err;
  };
  EXPECT_NE(message("wrong-type.yaml").find("wrong-type.yaml:5:5: workers.alpha.backoffLimit: expected a whole number"),
            std::string::npos);
  EXPECT_NE(
      message("unknown-key.yaml")
          .find("workers.alpha.extraEnvVar: unknown key for a Kubernetes job queue; did you mean \"extraEnvVars\"?"),
      std::string::npos);
  EXPECT_NE(message("duplicate-keys.yaml").find("duplicate-keys.yaml:5:"), std::string::npos);
  EXPECT_NE(message("env-without-name.yaml").find("workers.alpha.extraEnvVars[0]: missing required key \"name\""),
            std::string::npos);
  EXPECT_NE(message("extra-objects-template.yaml").find("extraObjects[0]: unsupported template expression"),
            std::string::npos);
  EXPECT_NE(message("bad-worker-name.yaml").find("invalid worker name \"bad.name\""), std::string::npos);
}

// Hostile inputs generated at test time: each must fail fast with a clear message.
TEST(HostileValues, DeepNestingAliasBombsAndHugeFilesAreRejected) {
  TempDir tmp;
  struct Case {
    std::string name;
    std::string content;
    std::string expect;
  };
  std::string laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    laughs += std::string(1, c) + ": &" + c + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev +
              ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n";
  }
  std::string deep_flow = "x: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  std::string deep_maps = "x: ";
  for (int i = 0; i < 100000; ++i) deep_maps += "{a: ";
  deep_maps += "1" + std::string(100000, '}') + "\n";
  std::string deep_block = "x: ";
  for (int i = 0; i < 100000; ++i) deep_block += "- ";
  deep_block += "1\n";
  std::string huge = "workers:\n";
  huge.reserve(50u << 20);
  for (int i = 0; huge.size() < (50u << 20); ++i) {
    huge += "  w" + std::to_string(i) + ": {enabled: false, type: kubernetes}  # padding padding padding\n";
  }
  std::vector<Case> cases = {
      {"laughs.yaml", laughs, ""},         {"deep-flow.yaml", deep_flow, ""},       {"deep-maps.yaml", deep_maps, ""},
      {"deep-block.yaml", deep_block, ""}, {"self-alias.yaml", "x: &a [*a]\n", ""}, {"huge.yaml", huge, "limit"}};
  for (const auto& c : cases) {
    auto file = tmp.write(c.name, c.content);
    const auto dir = tmp.path() / ("out-" + c.name);
    auto start = std::chrono::steady_clock::now();
    auto result = kjq_run({"render", "-f", file.string(), "--job-queues-dir", dir.string()});
    auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(result.exit_code, 3) << c.name << ": " << result.err;
    EXPECT_NE(result.err.find(c.name), std::string::npos) << c.name << ": " << result.err;
    EXPECT_NE(result.err.find(c.expect), std::string::npos) << c.name << ": " << result.err;
    EXPECT_TRUE(result.out.empty()) << c.name;
    EXPECT_FALSE(fs::exists(dir)) << c.name;
    EXPECT_LT(seconds, 20.0) << c.name;
  }
}

// Inputs YAML itself refuses, and values that give names Kubernetes refuses: exit 3 with the file,
// line, column and (where there is one) the values path.
TEST(BadValuesMessages, YamlAndNameErrorsArePositionedInputErrors) {
  TempDir tmp;
  struct Case {
    std::string name;
    std::string content;
    std::string expect;  // in stderr, after "kjq: error: <dir>/"
  };
  const std::vector<Case> cases = {
      {"binary.yaml", "workers:\n  alpha:\n    type: !!binary /w==\n",
       "binary.yaml:3:11: workers.alpha.type: !!binary value decodes to bytes that are not valid UTF-8"},
      {"nul.yaml", std::string("kubernetesJobs:\n  backoffLimit: 1\0\nworkers: {}\n", 47),
       "nul.yaml:2:18: invalid YAML: control character U+0000 is not allowed"},
      {"trailing.yaml", "{workers: {}}\n{}x\n", "trailing.yaml:2:1: invalid YAML: unexpected content after"},
      {"flow-trailing.yaml", "{}x\n", "flow-trailing.yaml:1:3: invalid YAML: unexpected content after"},
      {"no-colon.yaml", "workers:\n  alpha:\n    enabled: true\nfoo\n",
       "no-colon.yaml:4:1: invalid YAML: could not find the expected ':' after \"foo\""},
      {"fullname.yaml", "fullnameOverride: Acme_Nautobot\n",
       "fullname.yaml:1:1: fullnameOverride: fullnameOverride \"Acme_Nautobot\" gives the object names"},
      {"name.yaml", "nameOverride: My.Nautobot\n",
       "name.yaml:1:1: nameOverride: nameOverride \"My.Nautobot\" gives the object names \"nautobot-My.Nautobot\""},
  };
  for (const auto& c : cases) {
    const auto file = tmp.write(c.name, c.content);
    for (const char* command : {"render", "values"}) {
      auto result = kjq_run({command, "-f", file.string()});
      EXPECT_EQ(result.exit_code, 3) << command << " " << c.name << ": " << result.err;
      EXPECT_TRUE(result.out.empty()) << command << " " << c.name;
      EXPECT_NE(result.err.find("kjq: error: " + (tmp.path() / c.expect).string()), std::string::npos)
          << command << " " << c.name << ": " << result.err;
    }
  }
}

// The reference chart's schema demands `taskQueues: null` to turn the default Celery worker into
// a Kubernetes queue; the null deletes the default before validation, as Helm's coalescing does.
TEST(RenderCli, NullDeletingADefaultKeyRendersLikeTheChart) {
  TempDir tmp;
  const auto file = tmp.write("queue.yaml", "workers:\n  default:\n    type: kubernetes\n    taskQueues: null\n");
  const auto dir = tmp.path() / "job-queues";
  auto result = kjq_run({"render", "-f", file.string(), "-o", "json", "--job-queues-dir", dir.string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto manifest = json::parse(kjq::test::read_text(dir / "default" / "manifest.json"));
  EXPECT_EQ(manifest["kind"], "Job");
  EXPECT_EQ(manifest.dump().find("taskQueues"), std::string::npos);
  EXPECT_EQ(manifest.dump().find("CELERY_TASK_QUEUES"), std::string::npos);
  std::vector<std::string> deployments;
  const auto list = json::parse(result.out);
  for (const auto& item : list["items"]) {
    if (item["kind"] == "Deployment") deployments.push_back(item["metadata"]["name"]);
    if (item["kind"] == "ConfigMap") {
      EXPECT_EQ(item["data"].size(), 1u) << item.dump();  // the one queue, "default"
      EXPECT_EQ(item["data"]["default"], kjq::test::read_text(dir / "default" / "manifest.json"));
    }
  }
  // No Celery worker Deployment for "default" any more; Beat stays.
  EXPECT_EQ(deployments, (std::vector<std::string>{"nautobot-celery-beat"}));
  // `kjq values` agrees, and prints the worker without the deleted key.
  auto values = kjq_run({"values", "-f", file.string()});
  ASSERT_EQ(values.exit_code, 0) << values.err;
  const auto merged = kjq::values::parse_yaml(values.out, "stdout").value;
  EXPECT_EQ(merged["workers"]["default"], json::parse(R"({"enabled":true,"type":"kubernetes"})"));
}

// Every object kjq renders is valid against the Kubernetes schema (npm kubernetes-models).
TEST(RenderCli, RenderedObjectsPassKubernetesSchemaValidation) {
  const auto schema_dir = kSource / "tests" / "schema";
  if (!fs::exists(schema_dir / "node_modules" / "kubernetes-models")) {
    if (std::getenv("CI")) FAIL() << "tests/schema/node_modules missing: run scripts/install-test-tools.sh";
    GTEST_SKIP() << "run scripts/install-test-tools.sh to enable schema validation";
  }
  TempDir tmp;
  std::vector<std::vector<std::string>> renders = {{"-f", example()}};
  for (const char* folder : {"chart-cases", "render-cases"}) {
    for (const auto& e : fs::directory_iterator(kjq::test::fixtures_dir() / folder)) {
      renders.push_back({"-f", (e.path() / "values.yaml").string()});
    }
  }
  int index = 0;
  for (auto args : renders) {
    args.insert(args.begin(), "render");
    args.insert(args.end(), {"-o", "json"});
    auto rendered = kjq_run(args);
    ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
    auto file = tmp.write("list-" + std::to_string(index++) + ".json", rendered.out);
    auto check = run_process({"/usr/bin/env", "node", (schema_dir / "validate.mjs").string(), file.string()});
    EXPECT_EQ(check.exit_code, 0) << args[2] << "\n" << check.out << check.err;
    EXPECT_NE(check.out.find("valid"), std::string::npos);
    EXPECT_EQ(check.out.find("invalid"), std::string::npos) << check.out;
  }
}
