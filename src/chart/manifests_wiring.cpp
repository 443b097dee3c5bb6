#include "chart/manifests_wiring.hpp"

#include "chart/job_manifests_configmap.hpp"
#include "chart/value_access.hpp"
#include "output/go_json.hpp"
#include "values/merge.hpp"

#include <openssl/evp.h>

#include <stdexcept>

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
  struct Context {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
  } sha;
  std::string chunk;
  chunk.reserve(kChecksumChunk + 8192);
  auto update = [&] {
    if (EVP_DigestUpdate(sha.ctx, chunk.data(), chunk.size()) != 1) throw std::runtime_error("SHA-256 failed");
    chunk.clear();
  };
  if (!sha.ctx || EVP_DigestInit_ex(sha.ctx, EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 failed");
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
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(sha.ctx, digest, &length) != 1) throw std::runtime_error("SHA-256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  return hex;
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
