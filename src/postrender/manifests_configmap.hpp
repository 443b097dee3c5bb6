#pragma once
// The chart's `<fullname>-k8s-jobs-manifests` ConfigMap in the stream, and the checks each of its
// job manifests gets before Helm installs anything: a Job Nautobot can create (kind, containers,
// the main container first, mounts that name volumes, restartPolicy), within the size and depth
// every manifest kjq reads is held to, and a Job name <prefix>-<JobResult uuid> that fits in 63
// characters. The chart would install these unchecked; the first job of a queue would fail.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "postrender/manifest_stream.hpp"
#include "util/diagnostic.hpp"
#include "values/values_document.hpp"

namespace kjq::postrender {

inline constexpr const char* kManifestsConfigMapSuffix = "-k8s-jobs-manifests";
// Kubernetes refuses a ConfigMap whose data is larger than this (validation.MaxSecretSize).
inline constexpr std::size_t kMaxConfigMapBytes = 1024 * 1024;

struct ManifestsConfigMap {
  std::size_t document = 0;                      // index in the stream
  std::string name;                              // <fullname>-k8s-jobs-manifests
  std::string fullname;                          // the chart's object-name prefix
  std::string namespace_;                        // metadata.namespace, "" when the chart left it out
  std::map<std::string, std::string> manifests;  // queue → manifest text, as the chart wrote it
};

// A v1 ConfigMap named *-k8s-jobs-manifests, or nullopt when the chart rendered none (no enabled
// Kubernetes queue). Throws kjq::InputError for two of them or data that is not a map of strings.
std::optional<ManifestsConfigMap> find_manifests_configmap(const std::vector<StreamDocument>& documents);

// Every problem of every manifest, each naming the ConfigMap, the queue and what to fix.
// `pod_name_prefix` is the Nautobot setting KUBERNETES_JOB_POD_NAME the Jobs get their names from.
// `doc` locates the values a problem comes from when the user gave them (-f).
std::vector<Diagnostic> check_queue_manifests(const ManifestsConfigMap& configmap, int line,
                                              const std::string& pod_name_prefix, const values::ValuesDocument& doc);

// The bytes the API server counts for the ConfigMap's data (keys and values).
std::size_t data_bytes(const std::map<std::string, std::string>& manifests);

}  // namespace kjq::postrender
