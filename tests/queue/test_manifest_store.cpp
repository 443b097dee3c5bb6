#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "output/job_queues_dir.hpp"
#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace kjq::queue {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using test::TempDir;

const char* kJob = R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"nautobot-job","labels":{"a":"b"}},
  "spec":{"template":{"spec":{"containers":[{"name":"nautobot-job","image":"x","command":["old"]},{"name":"side"}]}}}})";

std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.diagnostics().at(0).format();
  }
  return "";
}

TEST(ManifestStore, ReadsAtCallTimeNeverCached) {
  TempDir d;
  d.write("q/default/manifest.json", kJob);
  ManifestStore s(d.path() / "q");
  EXPECT_EQ(s.load("default").manifest["metadata"]["labels"]["a"], "b");
  d.write("q/default/manifest.json", std::string(kJob).replace(std::string(kJob).find("\"b\""), 3, "\"c\""));
  EXPECT_EQ(s.load("default").manifest["metadata"]["labels"]["a"], "c");
  EXPECT_EQ(s.queues(), std::vector<std::string>{"default"});
}

TEST(ManifestStore, RefusesNamesThatLeaveTheBase) {
  TempDir d;
  d.write("q/default/manifest.json", kJob);
  d.write("outside/manifest.json", kJob);
  fs::create_directory_symlink(d.path() / "outside", d.path() / "q" / "link");
  fs::create_directories(d.path() / "q" / "f");
  fs::create_symlink(d.path() / "outside" / "manifest.json", d.path() / "q" / "f" / "manifest.json");
  ManifestStore s(d.path() / "q");
  for (std::string q : {"../outside", "/etc", "default/../../outside", "..", "link", "f", "link/x", "..data"}) {
    SCOPED_TRACE(q);
    EXPECT_NE(message([&] { s.load(q); }).find("refusing"), std::string::npos);
  }
  EXPECT_NE(message([&] { s.load(""); }).find("no queue name"), std::string::npos);
  // Names with '/' that stay inside are fine (Nautobot allows them).
  d.write("q/team/a/manifest.json", kJob);
  EXPECT_NO_THROW(s.load("team/a"));
}

TEST(ManifestStore, FollowsTheLinksOfAConfigMapVolume) {
  // The kubelet's atomic writer: a timestamped directory, ..data pointing at it, and each
  // top-level entry a link into ..data/. An update swaps ..data; the next load sees it.
  TempDir d;
  d.write("q/..2026_11_27_01_00_00.1/default/manifest.json", kJob);
  fs::create_directory_symlink("..2026_11_27_01_00_00.1", d.path() / "q" / "..data");
  fs::create_directory_symlink("..data/default", d.path() / "q" / "default");
  ManifestStore s(d.path() / "q");
  EXPECT_EQ(s.load("default").manifest["metadata"]["labels"]["a"], "b");
  d.write("q/..2026_11_27_01_05_00.2/default/manifest.json",
          std::string(kJob).replace(std::string(kJob).find("\"b\""), 3, "\"c\""));
  fs::remove(d.path() / "q" / "..data");
  fs::create_directory_symlink("..2026_11_27_01_05_00.2", d.path() / "q" / "..data");
  EXPECT_EQ(s.load("default").manifest["metadata"]["labels"]["a"], "c");
  // A link inside the volume that points out of it is still refused.
  d.write("outside/manifest.json", kJob);
  fs::create_directory_symlink(d.path() / "outside", d.path() / "q" / "..2026_11_27_01_05_00.2" / "escape");
  fs::create_directory_symlink("..data/escape", d.path() / "q" / "escape");
  EXPECT_NE(message([&] { s.load("escape"); }).find("outside"), std::string::npos);
}

TEST(ManifestStore, ReadsTheTreeKjqRenderWritesAndStillRefusesLinksOut) {
  TempDir d;
  const std::string other = std::string(kJob).replace(std::string(kJob).find("\"b\""), 3, "\"c\"");
  output::write_job_queues_dir(d.path() / "q", {{"alpha", kJob}, {"beta", kJob}});
  ManifestStore s(d.path() / "q");
  EXPECT_EQ(s.queues(), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(s.load("alpha").manifest["metadata"]["labels"]["a"], "b");
  output::write_job_queues_dir(d.path() / "q", {{"alpha", other}});  // beta removed, alpha changed
  EXPECT_EQ(s.load("alpha").manifest["metadata"]["labels"]["a"], "c");
  EXPECT_NE(message([&] { s.load("beta"); }).find("unable to retrieve"), std::string::npos);
  EXPECT_EQ(s.queues(), std::vector<std::string>{"alpha"});
  for (std::string q : {"..data/alpha", "..data"})
    EXPECT_NE(message([&] { s.load(q); }).find("refusing"), std::string::npos);
  // ..data pointed out of the base, then a queue link pointed out of it: refused.
  d.write("outside/alpha/manifest.json", kJob);
  const fs::path data = d.path() / "q" / "..data";
  const fs::path kept = fs::read_symlink(data);
  fs::remove(data);
  fs::create_directory_symlink(d.path() / "outside", data);
  EXPECT_NE(message([&] { s.load("alpha"); }).find("outside"), std::string::npos);
  fs::remove(data);
  fs::create_directory_symlink(kept, data);
  EXPECT_NO_THROW(s.load("alpha"));
  fs::remove(d.path() / "q" / "alpha");
  fs::create_directory_symlink("../outside/alpha", d.path() / "q" / "alpha");
  EXPECT_NE(message([&] { s.load("alpha"); }).find("refusing"), std::string::npos);
}

TEST(ManifestStore, AnAbsoluteLinkThatStaysInsideIsFollowed) {
  // The kernel's beneath-the-base open refuses absolute links; the full check then accepts one
  // that resolves inside the base.
  TempDir d;
  d.write("q/real/manifest.json", kJob);
  fs::create_directory_symlink(d.path() / "q" / "real", d.path() / "q" / "abs");
  EXPECT_EQ(ManifestStore(d.path() / "q").load("abs").manifest["metadata"]["labels"]["a"], "b");
}

TEST(ManifestStore, AFifoIsRefusedNotWaitedOn) {
  TempDir d;
  fs::create_directories(d.path() / "q" / "pipe");
  ASSERT_EQ(::mkfifo((d.path() / "q" / "pipe" / "manifest.json").c_str(), 0600), 0);
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q").load("pipe"); }).find("not a regular file"), std::string::npos);
}

TEST(ManifestStore, TheBaseItselfMayBeALink) {
  TempDir d;
  d.write("real/default/manifest.json", kJob);
  fs::create_directory_symlink(d.path() / "real", d.path() / "base");
  EXPECT_NO_THROW(ManifestStore(d.path() / "base").load("default"));
}

TEST(ManifestStore, FallbackAndClearErrors) {
  TempDir d;
  fs::create_directories(d.path() / "q");
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q").load("x"); }).find("unable to retrieve"), std::string::npos);
  EXPECT_EQ(ManifestStore(d.path() / "q", std::string(kJob)).load("x").source, "NAUTOBOT_KUBERNETES_JOB_MANIFEST");
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q", std::string("{}")).load("x"); }).find("unable to retrieve"),
            std::string::npos);
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q", std::string("{nope")).load("x"); }).find("invalid JSON"),
            std::string::npos);
  d.write("q/bad/manifest.json", "[1");
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q").load("bad"); }).find("invalid JSON"), std::string::npos);
  d.write("q/cm/manifest.json", R"({"kind":"ConfigMap"})");
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q").load("cm"); }).find("not a Job"), std::string::npos);
  d.write("q/empty/manifest.json", R"({"kind":"Job","spec":{"template":{"spec":{"containers":[]}}}})");
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q").load("empty"); }).find("no containers"), std::string::npos);
  fs::create_directories(d.path() / "q" / "dir" / "manifest.json");
  EXPECT_NE(message([&] { ManifestStore(d.path() / "q").load("dir"); }).find("not a regular file"), std::string::npos);
}

TEST(ManifestStore, AManifestAboveOneMiBIsRefusedWithTheLimit) {
  TempDir d;
  std::string big = kJob;
  big.insert(big.size() - 1, ",\"pad\":\"" + std::string(1024 * 1024, 'x') + "\"");
  d.write("q/big/manifest.json", big);
  ManifestStore s(d.path() / "q");
  const std::string m = message([&] { s.load("big"); });
  EXPECT_NE(m.find("q/big/manifest.json"), std::string::npos) << m;
  EXPECT_NE(m.find("limit of 1048576 bytes (1 MiB)"), std::string::npos) << m;
}

TEST(ManifestStore, NulBytesAnywhereAreRefused) {
  TempDir d;
  d.write("q/trailing/manifest.json", std::string(kJob) + std::string(4, '\0'));
  std::string inside = kJob;
  inside.insert(inside.find("nautobot-job"), std::string(1, '\0'));
  d.write("q/inside/manifest.json", inside);
  ManifestStore s(d.path() / "q");
  for (std::string q : {"trailing", "inside"}) {
    SCOPED_TRACE(q);
    const std::string m = message([&] { s.load(q); });
    EXPECT_NE(m.find("NUL byte"), std::string::npos) << m;
  }
}

TEST(ManifestStore, DeepFallbackManifestIsRefusedNotACrash) {
  TempDir d;
  fs::create_directories(d.path() / "q");
  const std::string deep = std::string(60000, '[') + std::string(60000, ']');
  ManifestStore s(d.path() / "q", deep);
  const std::string m = message([&] { s.load("absent"); });
  EXPECT_NE(m.find("NAUTOBOT_KUBERNETES_JOB_MANIFEST"), std::string::npos) << m;
  EXPECT_NE(m.find("nested deeper than"), std::string::npos) << m;
}

TEST(JobPreparation, ExactlyAsNautobot) {
  RunRequest r{"default", "4f8c2d1e-9b7a-4c3d-8e2f-1a2b3c4d5e6f", R"({"b": 2, "a": "é\n", "l": [1, 2.5, null, true]})",
               "/opt/nautobot/nautobot_config.py", "nautobot-job"};
  PreparedJob p = prepare_job(ojson::parse(kJob), r);
  EXPECT_EQ(p.name, "nautobot-job-4f8c2d1e-9b7a-4c3d-8e2f-1a2b3c4d5e6f");
  EXPECT_EQ(p.name.size(), 49u);
  EXPECT_EQ(p.job["metadata"]["name"], p.name);
  EXPECT_EQ(p.job["spec"]["template"]["spec"]["containers"][0]["command"],
            ojson::array({"nautobot-server", "runjob_with_job_result", r.job_result_id,
                          "--config=/opt/nautobot/nautobot_config.py", "--data",
                          "{\"b\": 2, \"a\": \"é\\n\", \"l\": [1, 2.5, null, true]}"}));
  EXPECT_FALSE(p.job["spec"]["template"]["spec"]["containers"][1].contains("command"));
  EXPECT_EQ(p.job["metadata"]["labels"]["a"], "b");
  EXPECT_EQ(p.job["metadata"]["labels"][kQueueLabel], "default");
  EXPECT_EQ(p.job["metadata"]["labels"][kJobResultLabel], r.job_result_id);
  EXPECT_FALSE(p.job["metadata"].contains("namespace"));
}

TEST(JobPreparation, NameAndDataValidation) {
  RunRequest r{"default", std::string(60, 'a'), "{}", kDefaultConfigPath, "nautobot-job"};
  EXPECT_THROW(prepare_job(ojson::parse(kJob), r), InputError);  // 73 characters
  r.job_result_id = "Upper_Case";
  EXPECT_THROW(prepare_job(ojson::parse(kJob), r), InputError);
  r.job_result_id = "abc";
  r.data_json = "[1]";
  EXPECT_THROW(prepare_job(ojson::parse(kJob), r), InputError);
  r.data_json = "{";
  EXPECT_THROW(prepare_job(ojson::parse(kJob), r), InputError);
  ojson nometa = ojson::parse(kJob);
  nometa.erase("metadata");
  r.data_json = "{}";
  EXPECT_EQ(prepare_job(nometa, r).job["metadata"]["name"], "nautobot-job-abc");
}

TEST(JobPreparation, PythonJsonDumpsAndLabels) {
  EXPECT_EQ(python_json_dumps(ojson::parse(R"({"x":{"y":[]},"z":"\u0001\"\\"})")),
            "{\"x\": {\"y\": []}, \"z\": \"\\u0001\\\"\\\\\"}");
  EXPECT_TRUE(is_dns1123_label("nautobot-job-1"));
  EXPECT_FALSE(is_dns1123_label("-a"));
  EXPECT_EQ(queue_label_value("default"), "default");
  EXPECT_EQ(queue_label_value("My/Job/Queue").substr(0, 2), "q-");
  EXPECT_EQ(queue_label_value("My/Job/Queue"), queue_label_value("My/Job/Queue"));
}

}  // namespace
}  // namespace kjq::queue

namespace kjq::queue {
namespace {

// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(JobPreparation, ConfigPathFollowsNautobotConfigThenNautobotRoot) {
  {
    ScopedEnv c("NAUTOBOT_CONFIG", nullptr), r("NAUTOBOT_ROOT", nullptr);
    EXPECT_EQ(config_path_from_env(), "/opt/nautobot/nautobot_config.py");
  }
  {
    ScopedEnv c("NAUTOBOT_CONFIG", nullptr), r("NAUTOBOT_ROOT", "/srv/nautobot/");
    EXPECT_EQ(config_path_from_env(), "/srv/nautobot/nautobot_config.py");
  }
  {
    ScopedEnv c("NAUTOBOT_CONFIG", "/etc/nb.py"), r("NAUTOBOT_ROOT", "/srv/nautobot");
    EXPECT_EQ(config_path_from_env(), "/etc/nb.py");
  }
  {
    ScopedEnv c("NAUTOBOT_CONFIG", ""), r("NAUTOBOT_ROOT", "");
    EXPECT_EQ(config_path_from_env(), "/opt/nautobot/nautobot_config.py");
  }
}

TEST(JobPreparation, IntegersBeyondSixtyFourBitsAreRefusedNotRounded) {
  // nlohmann would keep 2^64 as the double 1.8446744073709552e+19; Nautobot's Python would have
  // received the exact integer.
  RunRequest r{"default", "abc", R"({"n": [1, 18446744073709551616]})", kDefaultConfigPath, "nautobot-job"};
  try {
    prepare_job(ojson::parse(kJob), r);
    FAIL() << "an inexact integer was passed on";
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().front().path, "--data");
    EXPECT_EQ(e.diagnostics().front().message,
              "n[1]: the integer 18446744073709551616 is outside the 64-bit range; send it as a string");
  }
  r.data_json = R"({"n": 18446744073709551615, "m": -9223372036854775808})";
  EXPECT_EQ(prepare_job(ojson::parse(kJob), r).job["spec"]["template"]["spec"]["containers"][0]["command"][5],
            "{\"n\": 18446744073709551615, \"m\": -9223372036854775808}");
}

}  // namespace
}  // namespace kjq::queue
