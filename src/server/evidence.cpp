#include "server/evidence.hpp"
#include "kube/object_meta.hpp"

#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "util/utf8.hpp"

namespace kjq::server {

using nlohmann::json;

namespace {
const json& field(const json& o, const char* key) {
  static const json null;
  return o.is_object() && o.contains(key) ? o[key] : null;
}

std::string event_time(const json& e) {
  for (const char* k : {"lastTimestamp", "eventTime", "firstTimestamp"}) {
    const json& v = field(e, k);
    if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
  }
  return kube::creation_timestamp_of(e);
}

std::string text(const json& o, const char* key) {
  const json& v = field(o, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// The state of the job's container: spec.containers[0] (Nautobot's contract), found by name,
// since the kubelet lists containerStatuses by name, not in spec order (a sidecar named
// istio-proxy comes first). Without a spec, the first status.
const json& job_container_state(const json& pod) {
  static const json none = json::object();
  const json& statuses = field(field(pod, "status"), "containerStatuses");
  if (!statuses.is_array() || statuses.empty()) return none;
  const json& containers = field(field(pod, "spec"), "containers");
  if (!containers.is_array() || containers.empty()) return field(statuses[0], "state");
  const std::string name = text(containers[0], "name");
  for (const auto& cs : statuses)
    if (text(cs, "name") == name) return field(cs, "state");
  return none;
}
}  // namespace

std::optional<std::string> pod_with_log(const std::vector<json>& pods) {
  std::optional<std::string> best;
  std::string best_created;
  for (const auto& p : pods) {
    const json& state = job_container_state(p);
    const bool started = state.is_object() && (state.contains("running") || state.contains("terminated"));
    const std::string created = kube::creation_timestamp_of(p);
    if (started && (!best || created >= best_created)) {
      best = kube::name_of(p);
      best_created = created;
    }
  }
  return best;
}

std::optional<std::string> newest_terminated_pod(const std::vector<json>& pods) {
  std::optional<std::string> best;
  std::string best_created;
  for (const auto& p : pods) {
    const json& state = job_container_state(p);
    if (!state.is_object() || !state.contains("terminated")) continue;
    const std::string created = kube::creation_timestamp_of(p);
    if (!best || created >= best_created) {
      best = kube::name_of(p);
      best_created = created;
    }
  }
  return best;
}

bool job_container_failed(const json& pod) {
  const json& code = field(field(job_container_state(pod), "terminated"), "exitCode");
  if (code.is_number_integer()) return code.get<long long>() != 0;
  return text(field(pod, "status"), "phase") == "Failed";
}

const json* find_pod(const std::vector<json>& pods, const std::string& name) {
  for (const auto& p : pods)
    if (kube::name_of(p) == name) return &p;
  return nullptr;
}

std::string capture_log_tail(kube::KubeApi& api, const std::string& ns, const json& pod, const EvidenceOptions& options,
                             bool* cut_note) {
  const std::string name = kube::name_of(pod);
  try {
    kube::LogOptions o;
    o.tail_lines = options.log_tail_lines;
    // Name the container: a pod with sidecars has several, and the API server refuses a log
    // request that does not say which. The job runs in the first one (Nautobot's contract).
    const json& containers = field(field(pod, "spec"), "containers");
    if (containers.is_array() && !containers.empty()) o.container = text(containers[0], "name");
    std::string log = api.pod_logs(ns, name, o);
    if (log.size() > options.log_tail_max_bytes) {
      std::size_t cut = log.size() - options.log_tail_max_bytes;
      // Never start inside a UTF-8 character: skip its continuation bytes (10xxxxxx).
      while (cut < log.size() && utf8::is_continuation_byte(log[cut])) ++cut;
      log.erase(0, cut);
      if (cut_note) *cut_note = true;
    }
    return log;
  } catch (const std::exception& e) {
    spdlog::debug("log of pod {} not captured: {}", name, e.what());
    return "";
  }
}

json capture_events(kube::KubeApi& api, const std::string& ns, const std::string& job_name,
                    const std::vector<std::string>& pod_names) {
  std::vector<json> all;
  auto collect = [&](const std::string& kind, const std::string& name) {
    try {
      for (auto& e : api.events_for(ns, kind, name)) all.push_back(std::move(e));
    } catch (const std::exception& e) {
      spdlog::debug("events of {} {} not captured: {}", kind, name, e.what());
    }
  };
  collect("Job", job_name);
  for (const auto& p : pod_names) collect("Pod", p);
  std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) { return event_time(a) < event_time(b); });
  json out = json::array();
  for (const auto& e : all) {
    const json& obj = field(e, "involvedObject");
    out.push_back({{"time", event_time(e)},
                   {"type", text(e, "type")},
                   {"reason", text(e, "reason")},
                   {"object", text(obj, "kind") + "/" + text(obj, "name")},
                   {"message", text(e, "message")}});
  }
  return out;
}

bool cap_events(json& events, const EvidenceOptions& options) {
  if (!events.is_array()) return false;
  bool cut = false;
  for (auto& e : events) {
    if (!e.is_object() || !e.contains("message") || !e["message"].is_string()) continue;
    auto message = e["message"].get<std::string>();
    if (message.size() <= options.event_message_max_bytes) continue;
    std::size_t keep = options.event_message_max_bytes;
    // Never end inside a UTF-8 character.
    while (keep > 0 && utf8::is_continuation_byte(message[keep])) --keep;
    message.resize(keep);
    e["message"] = message + "\u2026";
    cut = true;
  }
  if (events.size() > options.max_events) {
    events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(events.size() - options.max_events));
    cut = true;
  }
  // Each Event's share of the JSON: the array's brackets and commas are a byte per element.
  std::size_t total = 2;
  std::vector<std::size_t> sizes;
  for (const auto& e : events) {
    sizes.push_back(e.dump(-1, ' ', false, json::error_handler_t::replace).size() + 1);
    total += sizes.back();
  }
  std::size_t drop = 0;
  while (drop < sizes.size() && total > options.events_max_bytes) total -= sizes[drop++];
  if (drop > 0) {
    events.erase(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(drop));
    cut = true;
  }
  return cut;
}

bool has_job_end_event(const json& events, const std::string& job_name) {
  // The reasons the Job controller gives its terminal Events (pkg/controller/job).
  static const std::set<std::string> kEndReasons = {
      "Completed",     "BackoffLimitExceeded",     "DeadlineExceeded", "PodFailurePolicy",
      "FailedIndexes", "MaxFailedIndexesExceeded", "SuccessPolicy"};
  if (!events.is_array()) return false;
  const std::string object = "Job/" + job_name;
  for (const auto& e : events)
    if (text(e, "object") == object && kEndReasons.count(text(e, "reason"))) return true;
  return false;
}

}  // namespace kjq::server
