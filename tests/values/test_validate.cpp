// Validation errors name the file, line, column and values path, and say what was expected.
#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "values/validate.hpp"

using kjq::test::values_from_yaml;
using kjq::values::validate_values;

namespace {
std::vector<std::string> problems(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& d : validate_values(values_from_yaml(yaml))) out.push_back(d.format());
  return out;
}

testing::AssertionResult has_problem(const std::vector<std::string>& all, const std::string& text) {
  for (const auto& p : all) {
    if (p.find(text) != std::string::npos) return testing::AssertionSuccess();
  }
  std::string joined;
  for (const auto& p : all) joined += "\n  " + p;
  return testing::AssertionFailure() << "no problem containing [" << text << "] among:" << joined;
}
}  // namespace

TEST(Validate, DefaultsAndAcceptanceStyleValuesAreValid) {
  EXPECT_TRUE(problems("{}\n").empty());
  EXPECT_TRUE(problems("workers: {example: {enabled: true, type: kubernetes}}\n").empty());
}

TEST(Validate, PointsAtFileLineColumnAndPath) {
  auto p = problems(R"(workers:
  alpha:
    enabled: true
    type: kubernetes
    extraEnvVars:
      - value: "x"
)");
  EXPECT_TRUE(has_problem(p, "values.yaml:6:9: workers.alpha.extraEnvVars[0]: missing required key \"name\""));
}

TEST(Validate, WorkerTypeEnabledAndNames) {
  auto p = problems(R"(workers:
  a: {enabled: "yes", type: kubernetes}
  b: {enabled: true, type: k8s}
  bad_name: {enabled: true, type: kubernetes}
  c: {type: kubernetes}
  Reports: {enabled: true}
  Jobs: {enabled: true, type: kubernetes}
)");
  EXPECT_TRUE(has_problem(p, "values.yaml:2:7: workers.a.enabled: expected true or false, got the string \"yes\""));
  EXPECT_TRUE(has_problem(p, "workers.b.type: expected \"celery\" or \"kubernetes\", got the string \"k8s\""));
  EXPECT_TRUE(has_problem(p, "workers.bad_name: invalid worker name"));
  EXPECT_TRUE(has_problem(p, "workers.c.enabled: is required"));
  EXPECT_TRUE(has_problem(p, "workers.Reports: Celery worker names become Deployment names and must be lowercase"));
  EXPECT_FALSE(has_problem(p, "workers.Jobs"));  // job queues may use capitals
  std::string long_name(64, 'a');
  EXPECT_TRUE(has_problem(problems("workers: {" + long_name + ": {enabled: true}}\n"), "invalid worker name"));
}

TEST(Validate, UnknownKeysGetADidYouMeanHint) {
  auto p = problems(R"(kubernetesJobs:
  ttlSecondsAfterFinish: 10
workers:
  alpha:
    enabled: true
    type: kubernetes
    extraEnvVar: []
    taskQueues: nope
)");
  EXPECT_TRUE(has_problem(p,
                          "values.yaml:2:3: kubernetesJobs.ttlSecondsAfterFinish: unknown key for a Kubernetes job "
                          "queue; did you mean \"ttlSecondsAfterFinished\"?"));
  EXPECT_TRUE(has_problem(
      p, "workers.alpha.extraEnvVar: unknown key for a Kubernetes job queue; did you mean \"extraEnvVars\"?"));
  EXPECT_TRUE(has_problem(p, "workers.alpha.taskQueues: unknown key"));
}

TEST(Validate, DefaultWorkerCanBecomeAQueueWithoutNullingTaskQueues) {
  // The reference schema rejects this (docs/differences.md #17); kjq judges only keys the user wrote.
  EXPECT_TRUE(problems("workers: {default: {type: kubernetes}}\n").empty());
}

TEST(Validate, NullThatDeletesADefaultKeyIsGoneBeforeValidation) {
  // What the reference chart's schema demands: taskQueues (a Celery setting the defaults give
  // workers.default) deleted with null. Coalescing removes it first, so it is not unknown.
  EXPECT_TRUE(problems("workers: {default: {type: kubernetes, taskQueues: null}}\n").empty());
  // The same for the Beat worker, whose defaults carry more Celery-only keys.
  EXPECT_TRUE(problems(R"(workers:
  beat:
    type: kubernetes
    concurrency: null
    replicaCount: null
    command: null
    livenessProbe: null
    readinessProbe: null
)")
                  .empty());
  // A null on a key the defaults do not have stays (Helm keeps it), so it is still unknown.
  auto p = problems("workers: {alpha: {enabled: true, type: kubernetes, taskQueues: null}}\n");
  EXPECT_TRUE(has_problem(p, "values.yaml:1:52: workers.alpha.taskQueues: unknown key"));
  // And a non-null value for a default key is still the user's setting.
  EXPECT_TRUE(has_problem(problems("workers: {default: {type: kubernetes, taskQueues: x}}\n"),
                          "workers.default.taskQueues: unknown key"));
}

TEST(Validate, ShapesOfQueueSettings) {
  auto p = problems(R"(kubernetesJobs:
  backoffLimit: three
  ttlSecondsAfterFinished: -1
  activeDeadlineSeconds: 0
  imagePullPolicy: Sometimes
  labels: {tier: 1}
  extraEnvVars: [{name: PORT, value: 8080}]
  extraEnvVarsCM: [""]
  extraVolumeMounts: [{name: data}]
  resources: {requests: {cpu: [1]}, limit: {}}
  overrides: []
)");
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.backoffLimit: expected a whole number from 0"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.ttlSecondsAfterFinished: expected a whole number from 0"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.activeDeadlineSeconds: expected a whole number from 1"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.imagePullPolicy: expected Always, Never or IfNotPresent"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.labels.tier: expected a string"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.extraEnvVars[0].value: expected a string"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.extraEnvVarsCM[0]: expected a non-empty name"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.extraVolumeMounts[0]: missing required key \"mountPath\""));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.resources.requests.cpu: expected a quantity"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.resources.limit: unknown key"));
  EXPECT_TRUE(has_problem(p, "kubernetesJobs.overrides: expected a map"));
}

TEST(Validate, TopLevelShapes) {
  auto p = problems(R"(serviceAccount: {create: "true"}
nautobot: {jobsManifestsMountPath: relative/path}
extraObjects: [42]
commonLabels: {a: {b: c}}
)");
  EXPECT_TRUE(has_problem(p, "serviceAccount.create: expected true or false"));
  EXPECT_TRUE(has_problem(p, "nautobot.jobsManifestsMountPath: expected an absolute path"));
  EXPECT_TRUE(has_problem(p, "extraObjects[0]: expected an object"));
  EXPECT_TRUE(has_problem(p, "commonLabels.a: expected a string"));
}

TEST(Validate, SetValuesAreLocatedOnTheCommandLine) {
  auto doc = values_from_yaml("workers: {q: {enabled: true, type: kubernetes}}\n", "values.yaml",
                              {"workers.q.backoffLimit=abc"});
  auto found = validate_values(doc);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].format(),
            "--set: workers.q.backoffLimit: expected a whole number from 0 to 2147483647, got the string \"abc\"");
}

// admission and kueueQueueName (kjq extensions): who starts a queue's Jobs.
TEST(ValidateAdmission, KjqNoneNullAndAbsentAreValidOnDefaultsAndWorkers) {
  EXPECT_TRUE(problems(R"(kubernetesJobs: {admission: kjq}
workers:
  a: {enabled: true, type: kubernetes}
  b: {enabled: true, type: kubernetes, admission: none}
  c: {enabled: true, type: kubernetes, admission: null}
)")
                  .empty());
  EXPECT_TRUE(problems("kubernetesJobs: {admission: null}\nworkers: {a: {enabled: true, type: kubernetes}}\n").empty());
}

TEST(ValidateAdmission, AnyOtherValueIsAnErrorWithFilePathAndTheAllowedValues) {
  auto p = problems(R"(kubernetesJobs:
  admission: Kjq
workers:
  alpha:
    enabled: true
    type: kubernetes
    admission: kueue
  beta: {enabled: false, type: kubernetes, admission: true}
)");
  EXPECT_TRUE(has_problem(p, "values.yaml:2:3: kubernetesJobs.admission: expected kjq or none"));
  EXPECT_TRUE(has_problem(p, "got the string \"Kjq\""));
  EXPECT_TRUE(has_problem(p, "values.yaml:7:5: workers.alpha.admission: expected kjq or none"));
  EXPECT_TRUE(has_problem(p, "workers.beta.admission: expected kjq or none"));
  EXPECT_EQ(p.size(), 3u);
  auto set = validate_values(
      values_from_yaml("workers: {q: {enabled: true, type: kubernetes}}\n", "values.yaml", {"workers.q.admission=on"}));
  ASSERT_EQ(set.size(), 1u);
  EXPECT_NE(set[0].format().find("--set: workers.q.admission: expected kjq or none"), std::string::npos);
}

TEST(ValidateAdmission, KueueQueueNameMustBeALabelValue) {
  EXPECT_TRUE(problems(R"(kubernetesJobs: {kueueQueueName: team-a.batch_1}
workers:
  a: {enabled: true, type: kubernetes}
  b: {enabled: true, type: kubernetes, kueueQueueName: ""}
  c: {enabled: true, type: kubernetes, kueueQueueName: null}
  d: {enabled: true, type: kubernetes, kueueQueueName: Q}
)")
                  .empty());
  const std::string longest(63, 'q');
  EXPECT_TRUE(problems("workers: {a: {enabled: true, type: kubernetes, kueueQueueName: " + longest + "}}\n").empty());
  auto p = problems(R"(kubernetesJobs:
  kueueQueueName: -batch
workers:
  a: {enabled: true, type: kubernetes, kueueQueueName: "team/a"}
  b: {enabled: true, type: kubernetes, kueueQueueName: 42}
  c: {enabled: true, type: kubernetes, kueueQueueName: "batch."}
)");
  EXPECT_TRUE(
      has_problem(p, "values.yaml:2:3: kubernetesJobs.kueueQueueName: expected the name of a Kueue LocalQueue"));
  EXPECT_TRUE(has_problem(p, "kueue.x-k8s.io/queue-name: at most 63 letters"));
  EXPECT_TRUE(has_problem(p, "workers.a.kueueQueueName: expected the name of a Kueue LocalQueue"));
  EXPECT_TRUE(has_problem(p, "workers.b.kueueQueueName: expected the name of a Kueue LocalQueue"));
  EXPECT_TRUE(has_problem(p, "workers.c.kueueQueueName: expected the name of a Kueue LocalQueue"));
  EXPECT_TRUE(
      has_problem(problems("workers: {a: {enabled: true, type: kubernetes, kueueQueueName: " + longest + "q}}\n"),
                  "workers.a.kueueQueueName: expected the name of a Kueue LocalQueue"));
}

TEST(ValidateAdmission, KjqAndKueueOnTheSameQueueAreAnError) {
  auto p = problems(R"(kubernetesJobs:
  admission: kjq
workers:
  own:
    enabled: true
    type: kubernetes
    kueueQueueName: batch
  handed-back: {enabled: true, type: kubernetes, kueueQueueName: batch, admission: none}
  plain: {enabled: true, type: kubernetes}
  by-label: {enabled: true, type: kubernetes, labels: {kueue.x-k8s.io/queue-name: batch}}
)");
  EXPECT_TRUE(has_problem(p,
                          "values.yaml:4:3: workers.own: kubernetesJobs.admission: kjq and "
                          "workers.own.kueueQueueName: \"batch\" both admit this queue's Jobs"));
  EXPECT_TRUE(has_problem(p, "kjq never starts a Job that Kueue manages"));
  // The Kueue label set by hand hands the Job to Kueue just the same.
  EXPECT_TRUE(has_problem(p,
                          "workers.by-label: kubernetesJobs.admission: kjq and "
                          "workers.by-label.labels[\"kueue.x-k8s.io/queue-name\"]: \"batch\" both admit"));
  EXPECT_EQ(p.size(), 2u);  // handed-back and plain are fine
  // Inherited Kueue, the worker's own kjq.
  auto q = problems(R"(kubernetesJobs: {kueueQueueName: batch}
workers:
  a: {enabled: true, type: kubernetes, admission: kjq}
  b: {enabled: true, type: kubernetes, admission: kjq, kueueQueueName: ""}
)");
  EXPECT_TRUE(has_problem(q, "workers.a: workers.a.admission: kjq and kubernetesJobs.kueueQueueName: \"batch\""));
  EXPECT_EQ(q.size(), 1u);
}

TEST(ValidateAdmission, KjqWithAJobOverridesSuspendOtherThanTrueIsAnError) {
  auto p = problems(R"(kubernetesJobs:
  jobOverrides: {suspend: false}
workers:
  a: {enabled: true, type: kubernetes, admission: kjq}
  b: {enabled: true, type: kubernetes, admission: kjq, jobOverrides: {suspend: true}}
  c: {enabled: true, type: kubernetes}
  d: {enabled: true, type: kubernetes, admission: kjq, jobOverrides: {suspend: null}}
)");
  EXPECT_TRUE(has_problem(p,
                          "workers.a: workers.a.admission: kjq renders spec.suspend: true, but "
                          "kubernetesJobs.jobOverrides.suspend is the boolean false"));
  EXPECT_TRUE(has_problem(p,
                          "workers.d: workers.d.admission: kjq renders spec.suspend: true, but "
                          "workers.d.jobOverrides.suspend is null"));
  EXPECT_EQ(p.size(), 2u);  // b says the same as admission; c has no admission
}

TEST(ValidateAdmission, TheAdmissionLabelIsKjqs) {
  auto p = problems("workers: {a: {enabled: true, type: kubernetes, labels: {kjq.nautobot.com/admission: kjq}}}\n");
  EXPECT_TRUE(has_problem(p, "workers.a.labels[\"kjq.nautobot.com/admission\"]: this label is kjq's"));
}
