// Celery worker and Beat Deployments: selection, merge precedence, the settings forced on Beat,
// and each rule of docs/values.md "Celery workers, Beat and manifest wiring" that the golden
// files do not make obvious.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "celery_test_helpers.hpp"
#include "chart/celery_deployment.hpp"
#include "chart/celery_workers.hpp"
#include "util/diagnostic.hpp"

using nlohmann::json;
using ::testing::HasSubstr;
using namespace kjq::test::celery;

namespace {

std::vector<std::string> deployment_names(const kjq::chart::RenderedChart& rendered) {
  std::vector<std::string> names;
  for (const auto& d : of_kind(rendered.objects, "Deployment")) names.push_back(d["metadata"]["name"]);
  return names;
}

const json& container(const json& deployment) { return deployment["spec"]["template"]["spec"]["containers"][0]; }

json deployment(const kjq::chart::RenderedChart& rendered, const std::string& worker) {
  const json* d = find(rendered.objects, "Deployment", "nautobot-celery-" + worker);
  return d ? *d : json();
}

std::string env_value(const json& deployment, const std::string& name) {
  for (const auto& e : container(deployment)["env"]) {
    if (e["name"] == name) return e.value("value", "<valueFrom>");
  }
  return "<absent>";
}

TEST(CeleryWorkers, DefaultsRenderTheDefaultWorkerAndBeatAfterEverythingElse) {
  auto rendered = render_yaml("{}");
  EXPECT_THAT(deployment_names(rendered), ::testing::ElementsAre("nautobot-celery-beat", "nautobot-celery-default"));
  EXPECT_EQ(rendered.objects.back()["kind"], "Deployment");
  EXPECT_EQ(deployment(rendered, "default")["spec"]["replicas"], 2);
  EXPECT_EQ(deployment(rendered, "beat")["spec"]["replicas"], 1);
}

TEST(CeleryWorkers, KubernetesAndDisabledWorkersGetNoDeployment) {
  auto rendered = render_yaml(R"(
workers:
  default: {enabled: false}
  beat: {enabled: false}
  alpha: {enabled: true, type: kubernetes}
  off-celery: {enabled: false, taskQueues: x}
  off-k8s: {enabled: false, type: kubernetes}
)");
  EXPECT_TRUE(deployment_names(rendered).empty());
}

TEST(CeleryWorkers, DisablingDefaultKeepsBeat) {
  auto rendered = render_yaml("workers: {default: {enabled: false}}");
  EXPECT_THAT(deployment_names(rendered), ::testing::ElementsAre("nautobot-celery-beat"));
}

TEST(CeleryWorkers, PrecedenceIsWorkerOverDeprecatedOverCelery) {
  auto set = kjq::chart::celery_worker_set(kjq::test::values_from_yaml(R"(
celery: {replicaCount: 4, priorityClassName: from-celery, terminationGracePeriodSeconds: 10}
celeryWorker: {replicaCount: 5, priorityClassName: from-celery-worker}
celeryBeat: {priorityClassName: from-celery-beat, replicaCount: 7}
workers:
  default: {replicaCount: 6}
  other: {enabled: true, taskQueues: other}
)")
                                               .merged);
  EXPECT_EQ(set.at("default")["replicaCount"], 6);
  EXPECT_EQ(set.at("default")["priorityClassName"], "from-celery-worker");
  EXPECT_EQ(set.at("default")["terminationGracePeriodSeconds"], 10);
  EXPECT_EQ(set.at("beat")["priorityClassName"], "from-celery-beat");
  EXPECT_EQ(set.at("other")["priorityClassName"], "from-celery");  // deprecated keys: default/beat only
  EXPECT_EQ(set.at("other")["replicaCount"], 4);
  EXPECT_EQ(set.at("other")["component"], "nautobot-celery");
}

TEST(CeleryWorkers, BeatIsForcedToOneReplicaWithoutAutoscalerOrPdb) {
  auto set = kjq::chart::celery_worker_set(kjq::test::values_from_yaml(R"(
workers:
  beat: {replicaCount: 3, autoscaling: {enabled: true}, pdb: {create: true}}
)")
                                               .merged);
  EXPECT_EQ(set.at("beat")["replicaCount"], 1);
  EXPECT_EQ(set.at("beat")["autoscaling"]["enabled"], false);
  EXPECT_EQ(set.at("beat")["pdb"]["create"], false);
  auto rendered = render_yaml("workers: {beat: {replicaCount: 3, autoscaling: {enabled: true}}}");
  EXPECT_EQ(deployment(rendered, "beat")["spec"]["replicas"], 1);
}

TEST(CeleryWorkers, AutoscalingLeavesReplicasToTheAutoscaler) {
  auto rendered = render_yaml("workers: {default: {autoscaling: {enabled: true}}}");
  EXPECT_FALSE(deployment(rendered, "default")["spec"].contains("replicas"));
}

TEST(CeleryWorkers, ConcurrencyIsAppendedToWorkersButNeverToBeat) {
  // docs/differences.md #14: the chart appends --concurrency to Beat's command too.
  auto rendered = render_yaml("celery: {concurrency: 3}");
  auto command = container(deployment(rendered, "default"))["command"];
  EXPECT_EQ(command[command.size() - 2], "--concurrency");
  EXPECT_EQ(command.back(), "3");
  auto beat = container(deployment(rendered, "beat"))["command"];
  EXPECT_EQ(beat, json({"nautobot-server", "celery", "beat", "--loglevel", "$(NAUTOBOT_LOG_LEVEL)"}));
}

TEST(CeleryWorkers, ConcurrencyWithoutCommandIsAnErrorNotBrokenYaml) {
  try {
    render_yaml("workers: {default: {command: [], concurrency: 2}}");
    FAIL() << "expected an InputError";
  } catch (const kjq::InputError& e) {
    EXPECT_EQ(e.diagnostics().at(0).path, "workers.default.concurrency");
    EXPECT_THAT(e.diagnostics().at(0).message, HasSubstr("command"));
  }
}

TEST(CeleryWorkers, EnvFollowsTheReferenceOrder) {
  auto rendered = render_yaml(R"(
celery: {task_acks_late: true, worker_prefetch_multiplier: 4}
workers:
  default:
    extraEnvVars: [{name: EXTRA, value: "x"}]
)");
  std::vector<std::string> names;
  const json worker = deployment(rendered, "default");
  for (const auto& e : container(worker)["env"]) names.push_back(e["name"]);
  EXPECT_THAT(names,
              ::testing::ElementsAre("NAUTOBOT_K8S_COMPONENT", "CELERY_TASK_QUEUES", "CELERY_TASK_ACKS_LATE", "EXTRA",
                                     "NAUTOBOT_DB_USER", "NAUTOBOT_DB_PASSWORD", "NAUTOBOT_REDIS_PASSWORD"));
  EXPECT_EQ(env_value(deployment(rendered, "beat"), "CELERY_TASK_QUEUES"), "<absent>");
  EXPECT_EQ(env_value(deployment(rendered, "beat"), "CELERY_TASK_ACKS_LATE"), "<absent>");
}

TEST(CeleryWorkers, MetricsNeedBothSwitchesAndSkipBeat) {
  auto rendered = render_yaml("metrics: {enabled: true}\nnautobot: {metrics: true}");
  const auto worker = deployment(rendered, "default");
  EXPECT_EQ(env_value(worker, "NAUTOBOT_CELERY_WORKER_PROMETHEUS_PORTS"), "8080");
  EXPECT_EQ(container(worker)["ports"], json::parse(R"([{"containerPort": 8080, "name": "workermetrics"}])"));
  EXPECT_FALSE(container(deployment(rendered, "beat")).contains("ports"));
  auto off = render_yaml("metrics: {enabled: true}");
  EXPECT_FALSE(container(deployment(off, "default")).contains("ports"));
}

TEST(CeleryWorkers, DisabledProbesAndSecurityContextsAreLeftOut) {
  auto rendered = render_yaml(R"(
workers:
  default:
    livenessProbe: {enabled: false}
    podSecurityContext: {enabled: false}
    containerSecurityContext: {enabled: false}
)");
  const auto d = deployment(rendered, "default");
  EXPECT_FALSE(container(d).contains("livenessProbe"));
  EXPECT_TRUE(container(d).contains("readinessProbe"));
  EXPECT_FALSE(container(d).contains("securityContext"));
  EXPECT_FALSE(d["spec"]["template"]["spec"].contains("securityContext"));
  EXPECT_FALSE(container(d)["readinessProbe"].contains("enabled"));
}

TEST(CeleryWorkers, AffinityReplacesThePresetsAndPresetsCanBeTurnedOff) {
  auto rendered = render_yaml(R"(
workers:
  default: {affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: []}}}
  beat: {podAntiAffinityPreset: ""}
)");
  EXPECT_EQ(deployment(rendered, "default")["spec"]["template"]["spec"]["affinity"],
            json::parse(R"({"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}})"));
  EXPECT_FALSE(deployment(rendered, "beat")["spec"]["template"]["spec"].contains("affinity"));
}

TEST(CeleryWorkers, AnnotationsAndLabelsFollowTheReferenceLayers) {
  auto rendered = render_yaml(R"(
commonLabels: {team: netops}
commonAnnotations: {a: common, b: common}
workers:
  default:
    annotations: {b: worker}
    podLabels: {tier: "{{ .Release.Name }}"}
)");
  const auto d = deployment(rendered, "default");
  EXPECT_EQ(d["metadata"]["annotations"], json({{"a", "common"}, {"b", "worker"}}));
  EXPECT_EQ(d["metadata"]["labels"]["team"], "netops");
  // Pod labels: standard + component + podLabels (templates substituted), no commonLabels.
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"]["tier"], "nautobot");
  EXPECT_FALSE(d["spec"]["template"]["metadata"]["labels"].contains("team"));
  EXPECT_FALSE(d["spec"]["template"]["metadata"].contains("annotations"));
}

TEST(CeleryWorkers, UnsupportedTemplatesAreErrorsAtTheirValuesPath) {
  try {
    render_yaml("workers: {default: {command: [\"{{ include \\\"x\\\" . }}\"]}}");
    FAIL() << "expected an InputError";
  } catch (const kjq::InputError& e) {
    EXPECT_EQ(e.diagnostics().at(0).path, "workers.default.command[0]");
  }
}

TEST(CeleryWorkers, TemplateIntFollowsSprig) {
  using kjq::chart::template_int;
  EXPECT_EQ(template_int(json(2.9)), 2);
  EXPECT_EQ(template_int(json("4")), 4);
  EXPECT_EQ(template_int(json("0x10")), 16);
  EXPECT_EQ(template_int(json("2.0")), 2);
  EXPECT_EQ(template_int(json("many")), 0);
  EXPECT_EQ(template_int(json()), 0);
  EXPECT_EQ(template_int(json(true)), 1);
}

TEST(CeleryValidation, BadCelerySettingsAreReportedWithTheirPath) {
  try {
    render_yaml(R"(
celery: {replicaCount: "two"}
celeryWorker: {command: nautobot-server}
workers:
  reports:
    enabled: true
    podAntiAffinityPreset: sometimes
    extraEnvVarsCM: reports-env
    task_acks_late: "yes please"
)");
    FAIL() << "expected an InputError";
  } catch (const kjq::InputError& e) {
    std::vector<std::string> paths;
    for (const auto& d : e.diagnostics()) paths.push_back(d.path);
    EXPECT_THAT(paths, ::testing::UnorderedElementsAre(
                           "celery.replicaCount", "celeryWorker.command", "workers.reports.podAntiAffinityPreset",
                           "workers.reports.extraEnvVarsCM", "workers.reports.task_acks_late"));
  }
}

TEST(CeleryValidation, KubernetesWorkersAreNotCheckedAsCelery) {
  EXPECT_NO_THROW(render_yaml("workers: {alpha: {enabled: true, type: kubernetes, extraEnvVarsCM: [a]}}"));
}

}  // namespace

namespace {

// nautobot.scheduledJobsIn: kjq (kjq extension): kjq serve --run-schedules fires the schedules.
TEST(CeleryWorkers, SchedulesInKjqLeavesBeatOutEvenWhenItIsEnabled) {
  const std::string values =
      "nautobot: {scheduledJobsIn: kjq}\n"
      "workers:\n  default: {enabled: false}\n  beat: {enabled: true}\n  jobs: {enabled: true, type: kubernetes}\n";
  EXPECT_TRUE(deployment_names(render_yaml(values)).empty());
  EXPECT_THAT(deployment_names(render_yaml(values, {"nautobot.scheduledJobsIn=beat"})),
              ::testing::ElementsAre("nautobot-celery-beat"));
}

TEST(CeleryWorkers, SchedulesInKjqIsRefusedWhileACeleryQueueIsEnabled) {
  for (const auto& [values, expected] :
       {std::pair<std::string, std::string>{"nautobot: {scheduledJobsIn: kjq}\n", "Celery queue(s) default"},
        {"nautobot: {scheduledJobsIn: kjq}\nworkers: {default: {enabled: false}, extra: {enabled: true}}\n",
         "Celery queue(s) extra"},
        {"nautobot: {scheduledJobsIn: celery}\n", "expected \"beat\" or \"kjq\""}}) {
    try {
      render_yaml(values);
      FAIL() << "accepted: " << values;
    } catch (const kjq::InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("nautobot.scheduledJobsIn")) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(expected)) << e.what();
    }
  }
}

}  // namespace
