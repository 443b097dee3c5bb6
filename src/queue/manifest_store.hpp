#pragma once
// Nautobot's manifest lookup (get_kubernetes_job_manifest), made strict:
// - the file is <base>/<queue>/manifest.json, read on every call (never cached);
// - a queue name that would resolve outside the base is refused before anything is read or sent:
//   absolute names, `..` components, names of the kubelet's hidden `..` entries, NUL bytes, and
//   any path whose resolved location (symbolic links followed) is not inside the resolved base.
//   Links that stay inside are followed: a ConfigMap volume makes every queue directory a link
//   into `..data/`. Names with `/` are accepted when they stay inside (Nautobot allows them too);
// - when the file does not exist, NAUTOBOT_KUBERNETES_JOB_MANIFEST (a JSON string) is used when it
//   is truthy (not {} / null / "");
// - otherwise, or when the manifest is not a Job with at least one container: a clear error.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::queue {

inline constexpr const char* kDefaultQueueBase = "/etc/nautobot/job-queues";

struct LoadedManifest {
  nlohmann::ordered_json manifest;
  std::string source;  // the file path, or "NAUTOBOT_KUBERNETES_JOB_MANIFEST"
};

class ManifestStore {
 public:
  ManifestStore(std::filesystem::path base, std::optional<std::string> fallback_json = std::nullopt);
  // NAUTOBOT_JOB_QUEUE_PATH (default /etc/nautobot/job-queues), NAUTOBOT_KUBERNETES_JOB_MANIFEST.
  static ManifestStore from_env();

  const std::filesystem::path& base() const { return base_; }
  // The manifest path for `queue`, or throws kjq::InputError when the name is unsafe.
  std::filesystem::path resolve_queue_path(const std::string& queue) const;
  // Refuses (kjq::InputError) names that are empty, absolute, or hold NUL, ".." or a "..x" entry.
  void check_queue_name(const std::string& queue) const;
  // Reads and validates the manifest now. Throws kjq::InputError.
  LoadedManifest load(const std::string& queue) const;
  // Queue names that have a manifest.json directly below the base (for `kjq doctor`).
  std::vector<std::string> queues() const;

 private:
  std::filesystem::path base_;
  std::optional<std::string> fallback_;
};

// Throws kjq::InputError unless `m` is an object of kind Job with a non-empty
// spec.template.spec.containers whose first element is an object.
void validate_job_manifest(const nlohmann::ordered_json& m, const std::string& source);

}  // namespace kjq::queue
