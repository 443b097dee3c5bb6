#pragma once
// `kjq doctor`: catch misconfiguration before the first job. Each check says what it found and,
// when it fails, how to fix it.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/config.hpp"
#include "kube/rest_client.hpp"
#include "queue/manifest_store.hpp"

namespace kjq::dispatch {

// A check passes, fails (kjq doctor exits 8: Nautobot's dispatch cannot work), or passes with a
// warning (ok and warning both true: a kjq extra such as cancel or logs is limited; exit 0).
struct CheckResult {
  std::string name;
  bool ok = true;
  std::string detail;
  std::string fix;  // empty when ok and not a warning
  bool warning = false;
};

// A permission kjq asks the API server about, and what depends on it.
struct VerbNeed {
  std::string verb, group, resource, subresource;
  bool required;        // Nautobot's dispatch needs it: doctor fails without it
  std::string feature;  // what it is for / what is limited without it
};
// The verbs kjq checks: create and get on jobs are required; the rest only limit kjq's extras.
const std::vector<VerbNeed>& verb_needs();

// The label `kjq render` puts on the Job of a queue with admission: kjq (with the value "kjq"; the
// same as values::kAdmissionLabel, which kjq_dispatch does not link).
inline constexpr const char* kAdmissionLabel = "kjq.nautobot.com/admission";

// patch on batch/jobs: kjq serve un-suspends the Jobs of queues with admission: kjq. Checked
// (a warning when denied) only when a queue's manifest carries kAdmissionLabel: kjq.
const VerbNeed& admission_verb_need();

// The label of the chart's (and kjq render's) Celery Beat Deployment and pods.
inline constexpr const char* kBeatSelector = "app.kubernetes.io/component=nautobot-celery-beat";

struct DoctorInput {
  kube::ConfigRequest config;
  kube::ClientOptions client;
  queue::ManifestStore store;
  std::string pod_name_prefix;
  // kjq serve fires Nautobot's schedules (--run-schedules): Celery Beat must not run as well, or
  // every schedule fires twice. Checked by listing the Deployments labelled kBeatSelector.
  bool run_schedules = false;
};

// The "Celery Beat" check from a DeploymentList (what run_doctor asks the API server for): fails
// when a Deployment wants or has a Beat replica.
CheckResult beat_check(const nlohmann::json& deployments, const std::string& namespace_name);

std::vector<CheckResult> run_doctor(const DoctorInput& input);

}  // namespace kjq::dispatch
