#pragma once
// Which workers are Kubernetes job queues, and the merged settings (W) of one queue.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::values {

// `type` when truthy, else "celery" (docs/values.md, "kubernetesJobs and workers.<name>").
std::string worker_type(const nlohmann::json& worker);

// Enabled workers whose type is exactly "kubernetes", in byte-wise sorted order.
std::vector<std::string> kubernetes_queue_names(const nlohmann::json& values);

// Enabled workers whose type is "celery" (or unset), in sorted order.
std::vector<std::string> celery_worker_names(const nlohmann::json& values);

// W: a fresh copy of kubernetesJobs with workers.<queue> merged over it (mergeOverwrite).
nlohmann::json queue_settings(const nlohmann::json& values, std::string_view queue);

// W read key by key without building it: a key's value is the worker's, else kubernetesJobs',
// and only a key that is a map on both sides is merged (into a scratch value the caller owns).
// Exactly what queue_settings(values, queue).<key> would be; when kubernetesJobs or the worker
// is not a map, W is built once and read instead.
class QueueSettings {
 public:
  QueueSettings(const nlohmann::json& values, std::string_view queue);
  // W.<key>, or nullptr when W has no such key. `scratch` holds the merge of two maps.
  const nlohmann::json* find(const std::string& key, nlohmann::json& scratch) const;
  // W.<key> as a value: a copy, or the merge; null when missing.
  nlohmann::json value(const std::string& key) const;
  bool admits_by_kjq() const;
  std::string kueue_queue_name() const;

 private:
  const nlohmann::json* defaults_ = nullptr;  // a map, or nullptr when absent
  const nlohmann::json* worker_ = nullptr;    // a map, or nullptr when absent
  nlohmann::json built_;                      // W itself when one side is not a map
  bool use_built_ = false;
};

// Keys a kubernetesJobs map or a kubernetes worker may hold (reference schema + kjq extensions).
const std::vector<std::string>& kubernetes_worker_keys();

// `admission` (kjq extension): who starts a queue's Jobs. "none" (the default; null or absent
// too): they start at once. "kjq": the manifest says spec.suspend: true and kjq serve
// un-suspends each Job when its queue is below its cap.
inline constexpr const char* kAdmissionNone = "none";
inline constexpr const char* kAdmissionKjq = "kjq";
// On the Job (metadata.labels) of a queue with admission: kjq, with the value "kjq". kjq doctor
// (dispatch/doctor.hpp) and kjq serve find such queues by it.
inline constexpr const char* kAdmissionLabel = "kjq.nautobot.com/admission";
// Kueue's label on the Job that names its LocalQueue (kueueQueueName).
inline constexpr const char* kKueueQueueLabel = "kueue.x-k8s.io/queue-name";

// True when a queue's merged settings (queue_settings) hold admission: kjq.
bool admits_by_kjq(const nlohmann::json& settings);

// True when any enabled kubernetes queue admits by kjq (the job-creator Role then needs patch).
bool any_queue_admits_by_kjq(const nlohmann::json& values);

// A queue's `kueueQueueName` (kjq extension): its Kueue LocalQueue, or "" when absent, null or "".
std::string kueue_queue_name(const nlohmann::json& settings);

// Kubernetes label values: at most 63 characters of [A-Za-z0-9._-], starting and ending with a
// letter or digit (the empty value is not accepted here).
bool is_valid_label_value(std::string_view value);

}  // namespace kjq::values
