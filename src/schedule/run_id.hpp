#pragma once
// The JobResult id of one run: a name-based UUID (RFC 4122 version 5, SHA-1) of the schedule's id
// and the run's due time. Every replica, and the same replica after a restart, derives the same
// id for the same run, and the JobResult's primary key lets only one of them insert it: a run is
// fired once, and its Kubernetes Job `<prefix>-<id>` is unique per run.
#include <string>

#include "schedule/timetable.hpp"

namespace kjq::schedule {

// kjq's namespace for these names (a fixed random UUID).
inline constexpr const char* kRunIdNamespace = "6f0d6c1e-3b7a-4e59-9a51-2c4d8f1b7e03";

// uuid5(kRunIdNamespace, "<schedule id, lowercase>@<due, format_instant>").
std::string run_id(const std::string& schedule_id, Instant due);

// RFC 4122 version 5 of `name` in `namespace_uuid` (lowercase text form).
std::string uuid5(const std::string& namespace_uuid, const std::string& name);

}  // namespace kjq::schedule
