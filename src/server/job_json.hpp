#pragma once
// The API's JSON form of a job record (docs/api.md). Times are RFC 3339 UTC with milliseconds,
// absent until they happen.
#include <string>

#include <nlohmann/json.hpp>

#include "server/store/job_record.hpp"

namespace kjq::server {

// Detail: with the captured log tail and events (GET of one job); Summary: without (lists).
enum class JobView { Summary, Detail };
nlohmann::json job_to_json(const JobRecord& r, const std::string& ns, JobView view);
std::string format_time_ms(std::int64_t ms);

}  // namespace kjq::server
