#pragma once
// kjq's manifests wiring (chart/manifests_wiring.hpp, docs/values.md "Wiring the manifests into
// the pods that create jobs") applied to the chart's own pod templates: wherever a pod mounts the
// job-manifests ConfigMap (the reference: one subPath mount per queue, which never sees an
// update), the volume becomes the wiring's (items per enabled queue), the mounts one read-only
// directory mount, and the pod gets the checksum annotation, the token and the job namespace and
// queue path variables. Applying it twice changes nothing the second time.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chart/manifests_wiring.hpp"

namespace kjq::postrender {

// The pod template ({metadata, spec}) of a workload: Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job, ReplicationController (spec.template), CronJob (spec.jobTemplate.spec.template),
// or a Pod itself. nullptr for other objects.
nlohmann::json* pod_template(nlohmann::json& object);
const nlohmann::json* pod_template(const nlohmann::json& object);

// Names of the pod's volumes that are the ConfigMap `configmap_name` ("" matches any name ending
// in -k8s-jobs-manifests, for a stream without the ConfigMap).
std::vector<std::string> manifests_volume_names(const nlohmann::json& pod_spec, const std::string& configmap_name);

// Where the chart mounts the manifests, as the directory Nautobot reads (NAUTOBOT_JOB_QUEUE_PATH):
// a subPath mount <dir>/<queue>/manifest.json gives <dir>; a directory mount its path. nullopt
// when the pod does not mount them.
std::optional<std::string> manifests_mount_directory(const nlohmann::json& pod_template,
                                                     const std::string& configmap_name);

// Rewires one pod template. With an enabled wiring: as described above, on every container that
// mounted the manifests. With no enabled queue: the manifests volume, its mounts and the checksum
// annotation are removed (the pods would otherwise wait for a ConfigMap that does not exist).
// Returns false (and changes nothing) when the pod does not mount the manifests. Throws
// kjq::InputError when a volume of another ConfigMap already uses the wiring's volume name.
bool rewire_pod_template(nlohmann::json& pod_template, const std::string& configmap_name,
                         const chart::ManifestsWiring& wiring, const std::string& object_label);

}  // namespace kjq::postrender
