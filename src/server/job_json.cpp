#include "server/job_json.hpp"

#include "util/json_limits.hpp"

#include <ctime>

#include <fmt/format.h>

namespace kjq::server {

using nlohmann::json;

std::string format_time_ms(std::int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

json job_to_json(const JobRecord& r, const std::string& ns, JobView view) {
  json j = {{"id", r.id}, {"queue", r.queue}, {"origin", origin_name(r.origin)}, {"state", state_name(r.state)}};
  if (!r.job_result_id.empty()) j["jobResultId"] = r.job_result_id;
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (!r.message.empty()) j["message"] = r.message;
  // Rows are read back as untrusted as they came in: one stored before the limits existed must
  // not crash every answer that lists it.
  if (auto why = json_limit_violation(r.data_json, kInputJsonLimits)) {
    j["data"] = nullptr;
    j["dataError"] = "the stored data is refused: " + *why;
  } else {
    json data = json::parse(r.data_json, nullptr, false);
    j["data"] = data.is_discarded() ? json::object() : data;
  }
  if (r.time_limit_seconds) j["timeLimitSeconds"] = *r.time_limit_seconds;
  if (!r.kube_name.empty()) {
    j["kubernetesJob"] = {{"namespace", ns}, {"name", r.kube_name}};
    if (!r.kube_uid.empty()) j["kubernetesJob"]["uid"] = r.kube_uid;
  }
  if (r.exit_code) j["exitCode"] = *r.exit_code;
  if (r.cancel_requested) j["cancelRequested"] = true;
  if (r.evidence_truncated) j["evidenceTruncated"] = true;
  const std::pair<const char*, std::int64_t> times[] = {{"createdAt", r.created_ms},
                                                        {"submittedAt", r.submitted_ms},
                                                        {"startedAt", r.started_ms},
                                                        {"finishedAt", r.finished_ms}};
  for (const auto& [key, ms] : times)
    if (ms > 0) j[key] = format_time_ms(ms);
  if (view == JobView::Detail) {
    // A log is bytes: a binary or Latin-1 line would make the answer unserialisable. Bytes that
    // are not UTF-8 become U+FFFD, the rest is kept as printed.
    j["logTail"] = json::parse(json(r.log_tail).dump(-1, ' ', false, json::error_handler_t::replace));
    json events = json_limit_violation(r.events_json, kApiListJsonLimits) ? json::array()
                                                                          : json::parse(r.events_json, nullptr, false);
    j["events"] = events.is_array() ? events : json::array();
  }
  return j;
}

}  // namespace kjq::server
