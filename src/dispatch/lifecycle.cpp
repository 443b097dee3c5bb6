#include "dispatch/lifecycle.hpp"
#include "kube/object_meta.hpp"

#include <ctime>

namespace kjq::dispatch {

using nlohmann::json;

std::string phase_name(Phase p) {
  switch (p) {
    case Phase::Submitted:
      return "Submitted";
    case Phase::Scheduled:
      return "Scheduled";
    case Phase::Running:
      return "Running";
    case Phase::Succeeded:
      return "Succeeded";
    case Phase::Failed:
      return "Failed";
  }
  return "Submitted";
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

namespace {

const json& field(const json& obj, const char* key) {
  static const json empty = json::object();
  if (obj.is_object() && obj.contains(key) && !obj[key].is_null()) return obj[key];
  return empty;
}

std::string str(const json& obj, const char* key) {
  const json& v = field(obj, key);
  return v.is_string() ? v.get<std::string>() : "";
}

const json* condition(const json& obj, const std::string& type) {
  const json& conds = field(field(obj, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds)
    if (c.is_object() && c.value("type", "") == type && c.value("status", "") == "True") return &c;
  return nullptr;
}

const json* pod_condition(const json& pod, const std::string& type) {
  const json& conds = field(field(pod, "status"), "conditions");
  if (!conds.is_array()) return nullptr;
  for (const auto& c : conds)
    if (c.is_object() && c.value("type", "") == type) return &c;
  return nullptr;
}

std::vector<json> container_statuses(const json& pod) {
  std::vector<json> out;
  for (const char* k : {"initContainerStatuses", "containerStatuses"}) {
    const json& l = field(field(pod, "status"), k);
    if (l.is_array())
      for (const auto& c : l) out.push_back(c);
  }
  return out;
}

std::string pod_name(const json& pod) { return kube::name_of(pod); }

std::string creation(const json& obj) { return kube::creation_timestamp_of(obj); }

bool never_starts(const std::string& reason) {
  return reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "CreateContainerConfigError" ||
         reason == "InvalidImageName" || reason == "CreateContainerError";
}

// The most telling terminated container of the failed pods (newest pod first).
std::optional<Lifecycle> failed_pod_detail(const std::vector<json>& pods) {
  std::vector<const json*> sorted;
  sorted.reserve(pods.size());
  for (const auto& p : pods) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const json* a, const json* b) { return creation(*a) > creation(*b); });
  for (const json* p : sorted) {
    for (const auto& cs : container_statuses(*p)) {
      const json& term = field(field(cs, "state"), "terminated");
      const json& last = field(field(cs, "lastState"), "terminated");
      const json& t = term.empty() ? last : term;
      if (t.empty()) continue;
      const int code = t.value("exitCode", 0);
      const std::string r = t.value("reason", "");
      if (r == "OOMKilled" || code != 0) {
        Lifecycle l;
        l.phase = Phase::Failed;
        l.reason = r == "OOMKilled" ? "OOMKilled" : "Error";
        l.exit_code = code;
        l.pod = pod_name(*p);
        l.message = "container " + cs.value("name", "") +
                    (r == "OOMKilled" ? " was killed: out of memory" : " exited with code " + std::to_string(code));
        if (t.contains("message") && t["message"].is_string() && !t["message"].get<std::string>().empty())
          l.message += ": " + t["message"].get<std::string>();
        return l;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Lifecycle derive_lifecycle(const json& job, const std::vector<json>& pods, const std::vector<json>& events,
                           const LifecycleOptions& o) {
  Lifecycle l;
  if (job.is_null() || job.empty()) {
    l.phase = Phase::Failed;
    l.reason = "Deleted";
    l.message = "the Job no longer exists";
    return l;
  }
  if (const json* c = condition(job, "Complete"); c || condition(job, "SuccessCriteriaMet")) {
    if (!c) c = condition(job, "SuccessCriteriaMet");
    l.phase = Phase::Succeeded;
    l.reason = "Completed";
    l.job_ended = true;
    l.job_reason = c->value("reason", "");
    l.message = c->value("message", "");
    l.exit_code = 0;
    return l;
  }
  if (const json* c = condition(job, "Failed"); c || condition(job, "FailureTarget")) {
    if (!c) c = condition(job, "FailureTarget");
    l.phase = Phase::Failed;
    l.job_ended = true;
    l.job_reason = c->value("reason", "");
    l.message = c->value("message", "");
    if (l.job_reason == "DeadlineExceeded") {
      l.reason = "DeadlineExceeded";
      return l;
    }
    if (auto detail = failed_pod_detail(pods)) {
      detail->job_ended = true;
      detail->job_reason = l.job_reason;
      if (!l.message.empty()) detail->message += " (" + l.message + ")";
      return *detail;
    }
    l.reason = l.job_reason.empty() ? "Failed" : l.job_reason;
    return l;
  }
  // Active: look at the pods, newest first.
  std::vector<const json*> live;
  for (const auto& p : pods) {
    const std::string phase = str(field(p, "status"), "phase");
    if (phase == "Succeeded" || phase == "Failed") continue;
    if (!kube::meta_string(p, "deletionTimestamp").empty()) continue;
    live.push_back(&p);
  }
  std::sort(live.begin(), live.end(), [](const json* a, const json* b) { return creation(*a) > creation(*b); });
  bool any_scheduled = false, any_running = false;
  std::string sched_reason, sched_pod;
  for (const json* p : live) {
    for (const auto& cs : container_statuses(*p)) {
      const json& waiting = field(field(cs, "state"), "waiting");
      const std::string wr = waiting.value("reason", "");
      if (never_starts(wr) && o.never_start_grace) {
        auto since = parse_rfc3339(creation(*p));
        if (since && o.now - *since < *o.never_start_grace) {
          if (sched_reason.empty()) sched_reason = wr;  // still waiting: reported, not final
          continue;
        }
      }
      if (never_starts(wr)) {
        l.phase = Phase::Failed;
        l.reason = wr;
        l.pod = pod_name(*p);
        l.message = "container " + cs.value("name", "") + ": " + waiting.value("message", wr);
        return l;
      }
      if (!field(field(cs, "state"), "running").empty()) any_running = true;
      if (!wr.empty() && sched_reason.empty()) sched_reason = wr;
    }
    if (str(field(*p, "status"), "phase") == "Running") any_running = true;
    const json* sc = pod_condition(*p, "PodScheduled");
    if ((sc && sc->value("status", "") == "True") || !str(field(*p, "spec"), "nodeName").empty()) {
      any_scheduled = true;
      if (sched_pod.empty()) sched_pod = pod_name(*p);
    } else if (sc && sc->value("reason", "") == "Unschedulable") {
      auto since = parse_rfc3339(sc->value("lastTransitionTime", creation(*p)));
      if (!since) since = parse_rfc3339(creation(*p));
      if (since && o.now - *since >= o.start_deadline) {
        l.phase = Phase::Failed;
        l.reason = "Unschedulable";
        l.pod = pod_name(*p);
        l.message = "pod unschedulable for more than " + std::to_string(o.start_deadline.count()) +
                    "s: " + sc->value("message", "");
        return l;
      }
      if (l.reason.empty()) {
        l.reason = "Unschedulable";
        l.pod = pod_name(*p);
        l.message = sc->value("message", "");
      }
    }
  }
  if (any_running) {
    l = Lifecycle{};
    l.phase = Phase::Running;
    l.reason = "Running";
    l.pod = live.empty() ? "" : pod_name(*live.front());
    return l;
  }
  if (any_scheduled) {
    l = Lifecycle{};
    l.phase = Phase::Scheduled;
    l.reason = sched_reason.empty() ? "ContainerCreating" : sched_reason;
    l.pod = sched_pod;
    return l;
  }
  if (live.empty() && !pods.empty()) {
    // Every pod has ended but the Job has no final condition yet.
    bool any_succeeded = false;
    for (const auto& p : pods) any_succeeded = any_succeeded || str(field(p, "status"), "phase") == "Succeeded";
    l = Lifecycle{};
    if (any_succeeded) {
      l.phase = Phase::Running;  // the Job controller is about to mark it Complete
      l.reason = "Completing";
      return l;
    }
    l.phase = Phase::Submitted;  // a failed pod will be replaced (backoffLimit not reached yet)
    l.reason = "Retrying";
    if (auto detail = failed_pod_detail(pods)) {
      l.message = "previous pod: " + detail->message;
      l.pod = detail->pod;
    }
    return l;
  }
  l.phase = Phase::Submitted;
  if (l.reason.empty()) {
    l.reason = live.empty() ? "Created" : "Pending";
    // A FailedCreate / FailedScheduling event explains a pod that is not there yet.
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (it->value("type", "") == "Warning") {
        l.message = it->value("reason", "") + ": " + it->value("message", "");
        break;
      }
  }
  return l;
}

json lifecycle_to_json(const Lifecycle& l) {
  json j = {{"phase", phase_name(l.phase)}, {"reason", l.reason}, {"terminal", l.terminal()}};
  if (!l.message.empty()) j["message"] = l.message;
  if (l.exit_code) j["exitCode"] = *l.exit_code;
  if (!l.pod.empty()) j["pod"] = l.pod;
  if (!l.job_reason.empty()) j["jobReason"] = l.job_reason;
  return j;
}

std::string lifecycle_summary(const Lifecycle& l) {
  std::string s = phase_name(l.phase) + "/" + l.reason;
  if (l.exit_code && l.phase == Phase::Failed) s += " (exit " + std::to_string(*l.exit_code) + ")";
  if (!l.message.empty()) s += ": " + l.message;
  return s;
}

}  // namespace kjq::dispatch
