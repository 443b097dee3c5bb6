// The Job `kjq serve` creates for a record (prepare_served_job): the queue's manifest prepared as
// Nautobot does, plus the serve label on the Job and its pod template and the time limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"
#include "server/admission.hpp"
#include "server/serve_options.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace {

using kjq::server::JobRecord;
using kjq::server::kServeLabel;
using kjq::server::prepare_served_job;
using kjq::server::ServeOptions;
using ojson = nlohmann::ordered_json;

constexpr const char* kManifest = R"({
  "apiVersion": "batch/v1",
  "kind": "Job",
  "metadata": {"labels": {"team": "netops"}},
  "spec": {
    "backoffLimit": 0,
    "template": {
      "metadata": {"labels": {"app": "nautobot"}, "annotations": {"a": "b"}},
      "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "nautobot-job", "image": "nautobot:2", "command": ["sleep", "1"]},
                       {"name": "sidecar", "image": "busybox"}]
      }
    }
  }
})";

// The same Job with no pod template metadata, and its own deadline.
constexpr const char* kBareManifest = R"({
  "apiVersion": "batch/v1",
  "kind": "Job",
  "spec": {
    "activeDeadlineSeconds": 100,
    "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "job", "image": "nautobot:2"}]}}
  }
})";

class PrepareServedJob : public testing::Test {
 protected:
  PrepareServedJob() : manifests_(dir_.path()) {
    dir_.write("default/manifest.json", kManifest);
    dir_.write("bare/manifest.json", kBareManifest);
    options_.instance = "serve-under-test";
    options_.config_path = "/etc/nautobot/config.py";
  }

  JobRecord record(const std::string& queue = "default") {
    JobRecord r;
    r.id = "0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f";
    r.queue = queue;
    r.data_json = R"({"b": 1, "a": "x"})";
    return r;
  }

  kjq::test::TempDir dir_;
  kjq::queue::ManifestStore manifests_;
  ServeOptions options_;
};

}  // namespace

TEST_F(PrepareServedJob, TheServeLabelIsOnTheJobAndItsPodTemplate) {
  ojson job = prepare_served_job(manifests_, record(), options_).job;
  EXPECT_EQ(job["metadata"]["labels"][kServeLabel], "serve-under-test");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"][kServeLabel], "serve-under-test");
  // What the manifest had is kept beside it, and the queue's own labels are there too.
  EXPECT_EQ(job["metadata"]["labels"]["team"], "netops");
  EXPECT_EQ(job["metadata"]["labels"][kjq::queue::kQueueLabel], "default");
  EXPECT_EQ(job["metadata"]["labels"][kjq::queue::kJobResultLabel], "0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["app"], "nautobot");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["annotations"]["a"], "b");
  EXPECT_EQ(job["spec"]["backoffLimit"], 0);
}

TEST_F(PrepareServedJob, APodTemplateWithoutMetadataGetsTheLabel) {
  ojson job = prepare_served_job(manifests_, record("bare"), options_).job;
  ASSERT_TRUE(job["spec"]["template"].contains("metadata"));
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"], (ojson{{kServeLabel, "serve-under-test"}}));
  EXPECT_EQ(job["metadata"]["labels"][kServeLabel], "serve-under-test");
}

TEST_F(PrepareServedJob, PodTemplateLabelsThatAreNotAnObjectAreReplaced) {
  dir_.write("odd/manifest.json", R"({"kind": "Job", "spec": {"template": {"metadata": {"labels": null, "name": "n"},
      "spec": {"containers": [{"name": "job"}]}}}})");
  ojson job = prepare_served_job(manifests_, record("odd"), options_).job;
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"], (ojson{{kServeLabel, "serve-under-test"}}));
  EXPECT_EQ(job["spec"]["template"]["metadata"]["name"], "n");
}

TEST_F(PrepareServedJob, TheTimeLimitBecomesActiveDeadlineSeconds) {
  JobRecord r = record();
  r.time_limit_seconds = 600;
  EXPECT_EQ(prepare_served_job(manifests_, r, options_).job["spec"]["activeDeadlineSeconds"], 600);

  // It replaces the manifest's own deadline.
  r.queue = "bare";
  EXPECT_EQ(prepare_served_job(manifests_, r, options_).job["spec"]["activeDeadlineSeconds"], 600);
}

TEST_F(PrepareServedJob, WithoutATimeLimitTheManifestDecides) {
  EXPECT_FALSE(prepare_served_job(manifests_, record(), options_).job["spec"].contains("activeDeadlineSeconds"));
  EXPECT_EQ(prepare_served_job(manifests_, record("bare"), options_).job["spec"]["activeDeadlineSeconds"], 100);
}

TEST_F(PrepareServedJob, TheJobIsNamedPrefixDashId) {
  auto prepared = prepare_served_job(manifests_, record(), options_);
  EXPECT_EQ(prepared.name, "nautobot-job-0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f");
  EXPECT_EQ(prepared.job["metadata"]["name"], prepared.name);

  options_.name_prefix = "kjq-run";
  prepared = prepare_served_job(manifests_, record(), options_);
  EXPECT_EQ(prepared.name, "kjq-run-0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f");
  EXPECT_EQ(prepared.job["metadata"]["name"], "kjq-run-0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f");
}

TEST_F(PrepareServedJob, TheDataIsInTheFirstContainersCommand) {
  ojson job = prepare_served_job(manifests_, record(), options_).job;
  ojson& containers = job["spec"]["template"]["spec"]["containers"];
  // Python's json.dumps form, in the order submitted.
  EXPECT_EQ(containers[0]["command"],
            (ojson{"nautobot-server", "runjob_with_job_result", "0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f",
                   "--config=/etc/nautobot/config.py", "--data", R"({"b": 1, "a": "x"})"}));
  EXPECT_EQ(containers[0]["image"], "nautobot:2");
  EXPECT_FALSE(containers[1].contains("command"));  // the sidecar is left alone
}

TEST_F(PrepareServedJob, TheManifestIsReadForEveryJob) {
  EXPECT_EQ(prepare_served_job(manifests_, record(), options_).job["spec"]["backoffLimit"], 0);
  std::string changed = kManifest;
  changed.replace(changed.find("\"backoffLimit\": 0"), 17, "\"backoffLimit\": 4");
  dir_.write("default/manifest.json", changed);
  EXPECT_EQ(prepare_served_job(manifests_, record(), options_).job["spec"]["backoffLimit"], 4);
}

TEST_F(PrepareServedJob, AMissingManifestIsAnInputError) {
  try {
    prepare_served_job(manifests_, record("nowhere"), options_);
    FAIL() << "no InputError";
  } catch (const kjq::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("nowhere"), std::string::npos) << what;
    EXPECT_NE(what.find("manifest.json"), std::string::npos) << what;
  }
}

TEST_F(PrepareServedJob, AFallbackManifestServesQueuesWithoutAFile) {
  kjq::queue::ManifestStore with_fallback(dir_.path(), std::string(kBareManifest));
  ojson job = prepare_served_job(with_fallback, record("nowhere"), options_).job;
  EXPECT_EQ(job["metadata"]["labels"][kServeLabel], "serve-under-test");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"][kServeLabel], "serve-under-test");
}

TEST_F(PrepareServedJob, UnusableManifestsAndRequestsAreInputErrors) {
  dir_.write("deployment/manifest.json", R"({"kind": "Deployment", "spec": {}})");
  EXPECT_THROW(prepare_served_job(manifests_, record("deployment"), options_), kjq::InputError);
  dir_.write("broken/manifest.json", R"({"kind": "Job",)");
  EXPECT_THROW(prepare_served_job(manifests_, record("broken"), options_), kjq::InputError);
  EXPECT_THROW(prepare_served_job(manifests_, record("../default"), options_), kjq::InputError);

  JobRecord r = record();
  r.data_json = "[1]";  // not an object
  EXPECT_THROW(prepare_served_job(manifests_, r, options_), kjq::InputError);
  r = record();
  r.id = std::string(60, 'a');  // nautobot-job-<60>: longer than 63
  EXPECT_THROW(prepare_served_job(manifests_, r, options_), kjq::InputError);
}
