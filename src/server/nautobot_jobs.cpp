#include "server/nautobot_jobs.hpp"

#include "dispatch/lifecycle.hpp"
#include "kube/object_meta.hpp"
#include "nautobot/job_end.hpp"
#include "queue/job_preparation.hpp"
#include "server/serve_options.hpp"
#include "values/job_queues.hpp"

namespace kjq::server {

using nlohmann::json;

std::string job_result_id_of(const std::string& job_name) {
  constexpr std::size_t kUuidLength = 36;
  if (job_name.size() < kUuidLength + 2 || job_name[job_name.size() - kUuidLength - 1] != '-') return "";
  return nautobot::canonical_uuid(job_name.substr(job_name.size() - kUuidLength)).value_or("");
}

bool is_suspended(const json& job) {
  const auto spec = job.find("spec");
  if (spec == job.end() || !spec->is_object()) return false;
  const auto suspend = spec->find("suspend");
  return suspend != spec->end() && suspend->is_boolean() && suspend->get<bool>();
}

AdoptedJob adopted_job(const json& job, std::int64_t now_ms) {
  AdoptedJob a;
  a.origin = JobOrigin::Nautobot;
  a.kube_name = kube::name_of(job);
  a.kube_uid = kube::uid_of(job);
  a.job_result_id = job_result_id_of(a.kube_name);
  a.id = a.job_result_id.empty() ? a.kube_name : a.job_result_id;
  a.queue = kube::annotation_of(job, kNautobotQueueAnnotation);
  if (a.queue.empty()) a.queue = kube::annotation_of(job, queue::kQueueAnnotation);
  if (a.queue.empty()) a.queue = kube::label_of(job, queue::kQueueLabel);
  if (a.queue.empty()) a.queue = "default";  // Nautobot's default queue name
  if (is_suspended(job)) {
    a.state = JobState::Queued;
    if (kube::label_of(job, values::kAdmissionLabel) == values::kAdmissionKjq)
      a.reason = kWaitingForAdmission;
    else if (!kube::label_of(job, values::kKueueQueueLabel).empty())
      a.reason = kWaitingForKueue;
    else
      a.reason = kSuspended;
  } else {
    a.state = JobState::Submitted;
    a.reason = "Created";
  }
  const auto created = dispatch::parse_rfc3339(kube::creation_timestamp_of(job));
  a.created_ms =
      created ? std::chrono::duration_cast<std::chrono::milliseconds>(created->time_since_epoch()).count() : now_ms;
  a.now_ms = now_ms;
  return a;
}

std::optional<std::string> writeback_payload(const JobRecord& r, const Finish& f) {
  if (r.origin != JobOrigin::Nautobot || r.job_result_id.empty()) return std::nullopt;
  json p;
  p["kind"] = f.state == JobState::Succeeded ? "check" : "failure";
  p["job_result_id"] = r.job_result_id;
  p["ended_ms"] = f.now_ms;
  p["reason"] = f.reason;
  p["exit_code"] = f.exit_code ? json(*f.exit_code) : json();
  p["message"] = f.message;
  p["events"] = f.events_json ? json::parse(*f.events_json, nullptr, /*allow_exceptions=*/false) : json::array();
  if (!p["events"].is_array()) p["events"] = json::array();
  p["log_tail"] = f.log_tail.value_or("");
  // Invalid UTF-8 from a pod's log is replaced rather than refused: the payload must be storable.
  return p.dump(-1, ' ', false, json::error_handler_t::replace);
}

nautobot::JobEnd job_end_from_payload(const json& p) {
  nautobot::JobEnd end;
  end.job_result_id = p.at("job_result_id").get<std::string>();
  end.ended_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(p.at("ended_ms").get<std::int64_t>()));
  end.reason = p.value("reason", "");
  if (p.contains("exit_code") && p["exit_code"].is_number_integer()) end.exit_code = p["exit_code"].get<int>();
  end.message = p.value("message", "");
  for (const json& e : p.value("events", json::array())) {
    if (!e.is_object()) continue;
    nautobot::KubeEvent ke;
    ke.type = e.value("type", "Normal");
    ke.reason = e.value("reason", "");
    ke.message = e.value("message", "");
    if (const auto io = e.find("involvedObject"); io != e.end() && io->is_object()) {
      std::string kind = io->value("kind", "");
      for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      ke.object = kind + "/" + io->value("name", "");
    }
    for (const char* k : {"lastTimestamp", "eventTime", "firstTimestamp"}) {
      if (e.contains(k) && e[k].is_string())
        if (auto t = dispatch::parse_rfc3339(e[k].get<std::string>())) {
          ke.time = *t;
          break;
        }
    }
    end.events.push_back(std::move(ke));
  }
  const std::string tail = p.value("log_tail", "");
  std::size_t start = 0;
  while (start < tail.size()) {
    const auto nl = tail.find('\n', start);
    end.log_tail.push_back(tail.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return end;
}

}  // namespace kjq::server
