#pragma once
// What kjq serve reads of a Job that Nautobot created itself from a rendered manifest: its
// JobResult id (the name is <KUBERNETES_JOB_POD_NAME>-<JobResult uuid>), its queue (the chart's
// annotation nautobot-job.io/worker-name, else kjq's queue label) and whether it waits, suspended,
// for an admission (kjq's label kjq.nautobot.com/admission, Kueue's queue-name label, or a person).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "nautobot/job_end.hpp"
#include "server/store/job_record.hpp"

namespace kjq::server {

// Reasons of an adopted, suspended Job's Queued record. Only kWaitingForAdmission is kjq's to
// admit (store claim()); the others are resumed by someone else and only followed.
inline constexpr const char* kWaitingForAdmission = "WaitingForAdmission";
inline constexpr const char* kWaitingForKueue = "WaitingForKueue";
inline constexpr const char* kSuspended = "Suspended";

// The lowercase uuid at the end of a Job's name ("" when the name does not end in -<uuid>).
std::string job_result_id_of(const std::string& job_name);
// spec.suspend is true.
bool is_suspended(const nlohmann::json& job);
// The record of a Nautobot Job found by the informer.
AdoptedJob adopted_job(const nlohmann::json& job, std::int64_t now_ms);

// What a finished Nautobot Job leaves to write into Nautobot (WriteBack::payload_json): a
// failure to record on its JobResult, or, for a Job that succeeded, a check that the pod wrote
// its JobResult's end itself. nullopt for a kjq job, or one without a JobResult id.
// {"kind":"failure"|"check", "job_result_id", "ended_ms", "reason", "exit_code", "message",
//  "events": [Kubernetes Events], "log_tail": "text"}
std::optional<std::string> writeback_payload(const JobRecord& record, const Finish& finish);
// The failure in a payload (kind "failure"). Throws nlohmann::json::exception on a malformed one.
nautobot::JobEnd job_end_from_payload(const nlohmann::json& payload);

}  // namespace kjq::server
