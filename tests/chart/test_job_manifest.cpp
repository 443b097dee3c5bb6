// Merge semantics of a queue's manifest (docs/values.md, "How values are combined"), kjq's
// extensions, and the checks
// that catch manifests Kubernetes would reject only when the first job runs.
#include <gtest/gtest.h>

#include "chart/render.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

using kjq::test::values_from_yaml;
using nlohmann::json;

namespace {

json manifest_of(const std::string& yaml, const std::string& queue, std::vector<std::string> set = {}) {
  auto doc = values_from_yaml(yaml, "values.yaml", std::move(set));
  auto rendered = kjq::chart::render_chart(doc, kjq::chart::Release{});
  return json::parse(rendered.queue_manifests.at(queue));
}

std::string render_error(const std::string& yaml) {
  try {
    auto doc = values_from_yaml(yaml);
    kjq::chart::render_chart(doc, kjq::chart::Release{});
  } catch (const kjq::InputError& e) {
    return e.what();
  }
  return "no error";
}

const json& main_container(const json& job) { return job["spec"]["template"]["spec"]["containers"][0]; }

}  // namespace

TEST(JobManifest, WorkerListsReplaceInheritedListsAndMapsMerge) {
  auto job = manifest_of(R"(
kubernetesJobs:
  backoffLimit: 4
  serviceAccountName: jobs-sa
  annotations: {team: netops}
  extraEnvVars: [{name: A, value: "1"}]
  resources: {requests: {cpu: 100m, memory: 1G}, limits: {cpu: "1", memory: 2G}}
workers:
  q:
    enabled: true
    type: kubernetes
    backoffLimit: 0
    serviceAccountName: ""
    annotations: {}
    extraEnvVars: []
    resources: {requests: {cpu: 300m}}
)",
                         "q");
  EXPECT_EQ(job["spec"]["backoffLimit"], 0);
  // An empty worker serviceAccountName overrides the default and falls back to the chart's SA.
  EXPECT_EQ(job["spec"]["template"]["spec"]["serviceAccountName"], "nautobot");
  EXPECT_EQ(job["metadata"]["annotations"]["team"], "netops");
  const auto& env = main_container(job)["env"];
  ASSERT_EQ(env.size(), 4u);  // 3 credentials + NAUTOBOT_JOB_QUEUE_NAME, inherited A removed
  EXPECT_EQ(env[3], json({{"name", "NAUTOBOT_JOB_QUEUE_NAME"}, {"value", "q"}}));
  EXPECT_EQ(main_container(job)["resources"],
            json::parse(R"({"requests":{"cpu":"300m","memory":"1G"},"limits":{"cpu":"1","memory":"2G"}})"));
}

TEST(JobManifest, NullResourcesAreEmittedAsNull) {
  auto job = manifest_of("workers: {q: {enabled: true, type: kubernetes}}\nkubernetesJobs: {resources: null}\n", "q");
  ASSERT_TRUE(main_container(job).contains("resources"));
  EXPECT_TRUE(main_container(job)["resources"].is_null());
}

TEST(JobManifest, CommonAnnotationsOnJobOnlyCommonLabelsOnBoth) {
  auto job = manifest_of(R"(
commonAnnotations: {owner: ops}
commonLabels: {team: net}
workers: {q: {enabled: true, type: kubernetes, overrides: {metadata: {labels: {app.kubernetes.io/component: custom}}}}}
)",
                         "q");
  EXPECT_EQ(job["metadata"]["annotations"]["owner"], "ops");
  EXPECT_FALSE(job["spec"]["template"]["metadata"]["annotations"].contains("owner"));
  EXPECT_EQ(job["metadata"]["labels"]["team"], "net");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["team"], "net");
  EXPECT_EQ(job["metadata"]["labels"]["app.kubernetes.io/component"], "nautobot-job");
  // Only overrides can change the pod's component label.
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"], "custom");
}

TEST(JobManifest, ActiveDeadlineSecondsAndJobOverridesAreKjqExtensions) {
  const std::string values = R"(
kubernetesJobs:
  activeDeadlineSeconds: 600
  jobOverrides: {completions: 1, podFailurePolicy: {rules: []}}
workers:
  a: {enabled: true, type: kubernetes}
  b: {enabled: true, type: kubernetes, activeDeadlineSeconds: 30, jobOverrides: {completions: 2}}
  c: {enabled: true, type: kubernetes, activeDeadlineSeconds: null}
)";
  auto a = manifest_of(values, "a");
  EXPECT_EQ(a["spec"]["activeDeadlineSeconds"], 600);
  EXPECT_EQ(a["spec"]["completions"], 1);
  auto b = manifest_of(values, "b");
  EXPECT_EQ(b["spec"]["activeDeadlineSeconds"], 30);
  EXPECT_EQ(b["spec"]["completions"], 2);
  EXPECT_TRUE(b["spec"].contains("podFailurePolicy"));
  EXPECT_FALSE(manifest_of(values, "c")["spec"].contains("activeDeadlineSeconds"));
  // Without the extensions, the manifest has no such keys (as the reference).
  auto plain = manifest_of("workers: {q: {enabled: true, type: kubernetes}}\n", "q");
  EXPECT_FALSE(plain["spec"].contains("activeDeadlineSeconds"));
  EXPECT_FALSE(plain["spec"].contains("completions"));
}

TEST(JobManifest, SetValuesAreTypedLikeHelm) {
  auto job = manifest_of("workers: {q: {enabled: true, type: kubernetes}}\n", "q",
                         {"workers.q.ttlSecondsAfterFinished=300,workers.q.labels.tier=gold"});
  EXPECT_EQ(job["spec"]["ttlSecondsAfterFinished"], 300);
  EXPECT_EQ(job["metadata"]["labels"]["tier"], "gold");
}

TEST(QueueSelection, OnlyEnabledKubernetesWorkersInSortedOrder) {
  auto doc = values_from_yaml(R"(
workers:
  zeta: {enabled: true, type: kubernetes}
  alpha: {enabled: true, type: kubernetes}
  off: {enabled: false, type: kubernetes}
  reports: {enabled: true, taskQueues: reports}
)");
  auto rendered = kjq::chart::render_chart(doc, kjq::chart::Release{});
  std::vector<std::string> queues;
  for (const auto& [q, text] : rendered.queue_manifests) queues.push_back(q);
  EXPECT_EQ(queues, (std::vector<std::string>{"alpha", "zeta"}));
}

TEST(JobManifestChecks, OverridesThatDropTheMainContainerAreRejected) {
  auto message = render_error(R"(
workers:
  q:
    enabled: true
    type: kubernetes
    overrides:
      spec:
        containers: [{name: other, image: busybox}]
)");
  EXPECT_NE(message.find("workers.q.overrides.spec.containers"), std::string::npos) << message;
  EXPECT_NE(message.find("first container must be \"nautobot-job\""), std::string::npos) << message;
  EXPECT_NE(message.find("values.yaml:8:"), std::string::npos) << message;
}

TEST(JobManifestChecks, AMountWithoutItsVolumeIsRejected) {
  auto message = render_error(R"(
kubernetesJobs:
  extraVolumes: [{name: data, emptyDir: {}}]
  extraVolumeMounts: [{name: data, mountPath: /data}]
workers:
  q:
    enabled: true
    type: kubernetes
    extraVolumes: [{name: other, emptyDir: {}}]
)");
  EXPECT_NE(message.find("workers.q"), std::string::npos) << message;
  EXPECT_NE(message.find("mounts volume \"data\""), std::string::npos) << message;
}

// admission and kueueQueueName (kjq extensions): who starts the queue's Jobs.
namespace {
const char* kAdmissionValues = R"(
kubernetesJobs:
  admission: kjq
workers:
  inherits: {enabled: true, type: kubernetes}
  back-to-none: {enabled: true, type: kubernetes, admission: none}
  back-to-null: {enabled: true, type: kubernetes, admission: null}
  kueued: {enabled: true, type: kubernetes, admission: none, kueueQueueName: team-batch}
)";

std::string manifest_text(const std::string& yaml, const std::string& queue, std::vector<std::string> set = {}) {
  auto doc = values_from_yaml(yaml, "values.yaml", std::move(set));
  return kjq::chart::render_chart(doc, kjq::chart::Release{}).queue_manifests.at(queue);
}

const std::string kPlainQueue = "workers: {q: {enabled: true, type: kubernetes}}\n";
}  // namespace

TEST(JobManifestAdmission, DefaultNoneRendersTheManifestUnchanged) {
  const auto plain = manifest_text(kPlainQueue, "q");
  auto job = json::parse(plain);
  EXPECT_FALSE(job["spec"].contains("suspend"));
  EXPECT_FALSE(job["metadata"]["labels"].contains("kjq.nautobot.com/admission"));
  EXPECT_FALSE(job["metadata"]["labels"].contains("kueue.x-k8s.io/queue-name"));
  // none and null said explicitly are the default, byte for byte.
  EXPECT_EQ(manifest_text(kPlainQueue, "q", {"kubernetesJobs.admission=none"}), plain);
  EXPECT_EQ(manifest_text(kPlainQueue, "q", {"workers.q.admission=null"}), plain);
  EXPECT_EQ(manifest_text(kPlainQueue, "q", {"kubernetesJobs.admission=null"}), plain);
  EXPECT_EQ(manifest_text(kPlainQueue, "q", {"workers.q.kueueQueueName="}), plain);
}

TEST(JobManifestAdmission, KjqSuspendsTheJobAndLabelsItButNotItsPods) {
  const auto plain = json::parse(manifest_text(kPlainQueue, "q"));
  for (const auto& set : {"kubernetesJobs.admission=kjq", "workers.q.admission=kjq"}) {
    SCOPED_TRACE(set);
    auto job = manifest_of(kPlainQueue, "q", {set});
    EXPECT_EQ(job["spec"]["suspend"], true);
    EXPECT_EQ(job["metadata"]["labels"]["kjq.nautobot.com/admission"], "kjq");
    // Nothing else changes: not the pod template, not the other labels.
    job["spec"].erase("suspend");
    job["metadata"]["labels"].erase("kjq.nautobot.com/admission");
    EXPECT_EQ(job, plain);
  }
}

TEST(JobManifestAdmission, WorkersInheritKjqAndMayGoBackToNone) {
  EXPECT_EQ(manifest_of(kAdmissionValues, "inherits")["spec"]["suspend"], true);
  for (const char* queue : {"back-to-none", "back-to-null", "kueued"}) {
    auto job = manifest_of(kAdmissionValues, queue);
    EXPECT_FALSE(job["spec"].contains("suspend")) << queue;
    EXPECT_FALSE(job["metadata"]["labels"].contains("kjq.nautobot.com/admission")) << queue;
  }
  // A worker's kjq over the default none.
  auto own = manifest_of(
      "workers: {a: {enabled: true, type: kubernetes, admission: kjq}, b: {enabled: true, type: "
      "kubernetes}}\n",
      "b");
  EXPECT_FALSE(own["spec"].contains("suspend"));
}

TEST(JobManifestAdmission, JobOverridesSuspendTrueAgreesWithKjqAndPassesThroughWithoutIt) {
  auto job = manifest_of(kPlainQueue, "q", {"workers.q.admission=kjq", "workers.q.jobOverrides.suspend=true"});
  EXPECT_EQ(job["spec"]["suspend"], true);
  // Without admission, jobOverrides is rendered as written (someone else resumes those Jobs).
  auto as_written = manifest_of(kPlainQueue, "q", {"workers.q.jobOverrides.suspend=true"});
  EXPECT_EQ(as_written["spec"]["suspend"], true);
  EXPECT_FALSE(as_written["metadata"]["labels"].contains("kjq.nautobot.com/admission"));
  EXPECT_EQ(manifest_of(kPlainQueue, "q", {"workers.q.jobOverrides.suspend=false"})["spec"]["suspend"], false);
}

TEST(JobManifestAdmission, KueueQueueNameLabelsTheJobOnlyAndDoesNotSuspendIt) {
  auto job = manifest_of(kAdmissionValues, "kueued");
  EXPECT_EQ(job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "team-batch");
  EXPECT_FALSE(job["spec"]["template"]["metadata"]["labels"].contains("kueue.x-k8s.io/queue-name"));
  EXPECT_FALSE(job["spec"].contains("suspend"));  // Kueue's webhook suspends it
  // Inherited, and over a hand-set label.
  auto inherited = manifest_of(
      "kubernetesJobs: {kueueQueueName: shared, labels: {kueue.x-k8s.io/queue-name: old}}\n" + kPlainQueue, "q");
  EXPECT_EQ(inherited["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "shared");
}

TEST(JobManifestAdmission, KjqAndKueueOnOneQueueAreRefused) {
  auto message = render_error(
      "kubernetesJobs: {admission: kjq}\n"
      "workers: {q: {enabled: true, type: kubernetes, kueueQueueName: batch}}\n");
  EXPECT_NE(message.find("workers.q: kubernetesJobs.admission: kjq and workers.q.kueueQueueName: \"batch\" both "
                         "admit this queue's Jobs"),
            std::string::npos)
      << message;
  EXPECT_NE(render_error("workers: {q: {enabled: true, type: kubernetes, admission: maybe}}\n")
                .find("workers.q.admission: expected kjq or none"),
            std::string::npos);
}
