#pragma once
// Turns a queue's manifest into the Job for one run, exactly as Nautobot does
// (nautobot.extras.utils / JobResult.enqueue_job for Kubernetes queues):
//   metadata.name = <pod name prefix>-<job result id>           (≤ 63 chars, DNS-1123 label)
//   spec.template.spec.containers[0].command =
//     ["nautobot-server", "runjob_with_job_result", <id>, "--config=<settings path>", "--data", <json>]
// where <json> is the job kwargs encoded like NautobotKombuJSONEncoder(ensure_ascii=False)
// (Python json.dumps separators ", " and ": ", key order kept). Nothing else of the manifest
// changes, except labels kjq adds to the Job's metadata to tie it to its queue and job result:
//   kjq.nautobot.com/queue, kjq.nautobot.com/job-result-id (and the queue name as annotation).
#include <string>

#include <nlohmann/json.hpp>

namespace kjq::queue {

inline constexpr const char* kDefaultPodNamePrefix = "nautobot-job";  // NAUTOBOT_KUBERNETES_JOB_POD_NAME
inline constexpr const char* kDefaultConfigPath = "/opt/nautobot/nautobot_config.py";  // NAUTOBOT_CONFIG
inline constexpr const char* kQueueLabel = "kjq.nautobot.com/queue";
inline constexpr const char* kJobResultLabel = "kjq.nautobot.com/job-result-id";
inline constexpr const char* kQueueAnnotation = "kjq.nautobot.com/queue";

struct RunRequest {
  std::string queue;
  std::string job_result_id;
  std::string data_json = "{}";  // the job kwargs (a JSON object)
  std::string config_path = kDefaultConfigPath;
  std::string name_prefix = kDefaultPodNamePrefix;
};

struct PreparedJob {
  nlohmann::ordered_json job;
  std::string name;
};

// Throws kjq::InputError (bad id, name too long or not DNS-1123, data not a JSON object).
PreparedJob prepare_job(nlohmann::ordered_json manifest, const RunRequest& request);

// Python json.dumps(value, ensure_ascii=False) formatting.
std::string python_json_dumps(const nlohmann::ordered_json& value);

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters.
bool is_dns1123_label(const std::string& s);
// The label value that stands for `queue` (the name itself when it is a valid label value,
// otherwise "q-" + a 16-hex-digit hash of it).
std::string queue_label_value(const std::string& queue);
// Settings from the environment: NAUTOBOT_KUBERNETES_JOB_POD_NAME; NAUTOBOT_CONFIG, else
// $NAUTOBOT_ROOT/nautobot_config.py, else /opt/nautobot/nautobot_config.py (Nautobot's image root).
std::string pod_name_prefix_from_env();
std::string config_path_from_env();

}  // namespace kjq::queue
