#pragma once
// How the pods that create jobs (Nautobot web, Celery Beat) read the job manifests: the
// manifests ConfigMap mounted as a directory with one item per enabled queue
// (<queue> → <queue>/manifest.json), so changes reach running pods without a restart; the
// environment Nautobot needs to find it; an optional checksum annotation; the SA token.
// (The reference mounts one subPath per Kubernetes-type worker, disabled ones included:
// docs/differences.md #1–#3; docs/values.md, "Wiring the manifests into the pods that create jobs".)
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"

namespace kjq::chart {

inline constexpr const char* kManifestsVolumeName = "nautobot-k8s-jobs-manifests";
inline constexpr const char* kManifestsChecksumAnnotation = "checksum/k8s-jobs-manifests";
inline constexpr const char* kDefaultJobQueuePath = "/etc/nautobot/job-queues";  // Nautobot's default
inline constexpr const char* kDefaultJobPodNamespace = "default";                // Nautobot's default

struct ManifestsWiring {
  std::vector<std::string> queues;               // enabled Kubernetes queues; empty: nothing to wire
  std::string mount_path;                        // nautobot.jobsManifestsMountPath without trailing '/'
  nlohmann::json volume;                         // configMap volume with items (null when no queues)
  nlohmann::json volume_mount;                   // the directory mount, read-only (null when no queues)
  nlohmann::json env = nlohmann::json::array();  // NAUTOBOT_JOB_QUEUE_PATH / _POD_NAMESPACE
  std::string checksum;                          // checksum/k8s-jobs-manifests value; "" when not wanted

  bool enabled() const { return !queues.empty(); }
};

// sha256 (hex) of the manifests ConfigMap's data as compact JSON with sorted keys
// (Go json.Marshal of the data map).
std::string manifests_checksum(const std::map<std::string, std::string>& queue_manifests);

// The wiring for the enabled queues (`queue_manifests` keys). Env entries are added only where
// Nautobot's defaults would be wrong: NAUTOBOT_JOB_QUEUE_PATH when the mount path is not
// /etc/nautobot/job-queues, NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE when the release namespace is
// not "default". The checksum is set when nautobot.jobsManifestsRestartOnChange is truthy.
ManifestsWiring manifests_wiring(const ChartContext& context,
                                 const std::map<std::string, std::string>& queue_manifests);

// A strategic-merge patch for a Deployment running Nautobot (`kubectl patch deployment X
// --patch-file`, or a Kustomize patch): pod annotation, automountServiceAccountToken: true,
// the volume, and the mount and env on the container named `container`. With no enabled queue
// it removes them instead ($patch: delete directives, the annotation set to null).
nlohmann::json nautobot_wiring_patch(const ManifestsWiring& wiring, const std::string& container);

}  // namespace kjq::chart
