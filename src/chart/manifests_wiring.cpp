#include "chart/manifests_wiring.hpp"

#include "chart/job_manifests_configmap.hpp"
#include "chart/value_access.hpp"
#include "output/go_json.hpp"
#include "util/sha256.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;

namespace {
// Bytes of the checksum's JSON handed to SHA-256 at a time.
constexpr std::size_t kChecksumChunk = 64 * 1024;

std::string normalized_mount_path(const json& values) {
  const json& raw = value_at(values, {"nautobot", "jobsManifestsMountPath"});
  std::string path = raw.is_string() ? raw.get<std::string>() : kDefaultJobQueuePath;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}
}  // namespace

std::string manifests_checksum(const std::map<std::string, std::string>& queue_manifests) {
  // SHA-256 of to_go_json({queue: text, ...}) (a std::map iterates in Go's sorted key order),
  // hashed as it is written: neither a copy of the manifests nor the whole text is held.
  Sha256 sha;
  std::string chunk;
  chunk.reserve(kChecksumChunk + 8192);
  auto update = [&] {
    sha.update(chunk);
    chunk.clear();
  };
  chunk += '{';
  bool first = true;
  for (const auto& [queue, text] : queue_manifests) {
    if (!first) chunk += ',';
    first = false;
    output::append_go_json_string(chunk, queue);
    chunk += ':';
    output::append_go_json_string(chunk, text);
    if (chunk.size() >= kChecksumChunk) update();
  }
  chunk += '}';
  update();
  return sha.hex_digest();
}

ManifestsWiring manifests_wiring(const ChartContext& context,
                                 const std::map<std::string, std::string>& queue_manifests) {
  ManifestsWiring wiring;
  wiring.mount_path = normalized_mount_path(context.values);
  for (const auto& [queue, text] : queue_manifests) wiring.queues.push_back(queue);
  if (!wiring.enabled()) return wiring;

  json items = json::array();
  for (const auto& queue : wiring.queues) {
    items.push_back({{"key", queue}, {"path", queue + "/manifest.json"}});
  }
  wiring.volume = {{"name", kManifestsVolumeName},
                   {"configMap", {{"name", manifests_configmap_name(context.fullname)}, {"items", std::move(items)}}}};
  wiring.volume_mount = {{"name", kManifestsVolumeName}, {"mountPath", wiring.mount_path}, {"readOnly", true}};
  if (wiring.mount_path != kDefaultJobQueuePath) {
    wiring.env.push_back({{"name", "NAUTOBOT_JOB_QUEUE_PATH"}, {"value", wiring.mount_path}});
  }
  if (context.release.namespace_ != kDefaultJobPodNamespace) {
    wiring.env.push_back({{"name", "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE"}, {"value", context.release.namespace_}});
  }
  if (values::is_truthy(value_at(context.values, {"nautobot", "jobsManifestsRestartOnChange"}))) {
    wiring.checksum = manifests_checksum(queue_manifests);
  }
  return wiring;
}

json nautobot_wiring_patch(const ManifestsWiring& wiring, const std::string& container) {
  json pod_spec = json::object();
  json main = {{"name", container}};
  json annotations = json::object();
  if (wiring.enabled()) {
    pod_spec["automountServiceAccountToken"] = true;
    pod_spec["volumes"] = json::array({wiring.volume});
    main["volumeMounts"] = json::array({wiring.volume_mount});
    if (!wiring.env.empty()) main["env"] = wiring.env;
    // Without restart-on-change, drop a checksum left by an earlier patch.
    annotations[kManifestsChecksumAnnotation] = wiring.checksum.empty() ? json(nullptr) : json(wiring.checksum);
  } else {
    pod_spec["volumes"] = json::array({{{"name", kManifestsVolumeName}, {"$patch", "delete"}}});
    main["volumeMounts"] = json::array({{{"mountPath", wiring.mount_path}, {"$patch", "delete"}}});
    main["env"] = json::array({{{"name", "NAUTOBOT_JOB_QUEUE_PATH"}, {"$patch", "delete"}},
                               {{"name", "NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE"}, {"$patch", "delete"}}});
    annotations[kManifestsChecksumAnnotation] = nullptr;
  }
  pod_spec["containers"] = json::array({std::move(main)});
  return {{"spec",
           {{"template", {{"metadata", {{"annotations", std::move(annotations)}}}, {"spec", std::move(pod_spec)}}}}}};
}

}  // namespace kjq::chart
