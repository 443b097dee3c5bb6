#include "server/store/job_record.hpp"

#include <array>
#include <utility>

namespace kjq::server {

namespace {
// The stored and displayed spelling of every state, in enum order.
constexpr std::array<std::pair<JobState, const char*>, 7> kStateNames{{
    {JobState::Queued, "Queued"},
    {JobState::Submitted, "Submitted"},
    {JobState::Scheduled, "Scheduled"},
    {JobState::Running, "Running"},
    {JobState::Succeeded, "Succeeded"},
    {JobState::Failed, "Failed"},
    {JobState::Cancelled, "Cancelled"},
}};
}  // namespace

std::string state_name(JobState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "Unknown";
}

std::optional<JobState> parse_state(const std::string& s) {
  for (const auto& [state, name] : kStateNames) {
    if (s == name) return state;
  }
  return std::nullopt;
}

std::string origin_name(JobOrigin o) { return o == JobOrigin::Nautobot ? "nautobot" : "kjq"; }

std::optional<JobOrigin> parse_origin(const std::string& s) {
  if (s == "kjq") return JobOrigin::Kjq;
  if (s == "nautobot") return JobOrigin::Nautobot;
  return std::nullopt;
}

bool is_final(JobState s) { return s == JobState::Succeeded || s == JobState::Failed || s == JobState::Cancelled; }

bool is_active(JobState s) { return s == JobState::Submitted || s == JobState::Scheduled || s == JobState::Running; }

void QueueCounts::add(JobState s, std::int64_t n) {
  switch (s) {
    case JobState::Queued:
      queued += n;
      break;
    case JobState::Submitted:
      submitted += n;
      break;
    case JobState::Scheduled:
      scheduled += n;
      break;
    case JobState::Running:
      running += n;
      break;
    case JobState::Succeeded:
      succeeded += n;
      break;
    case JobState::Failed:
      failed += n;
      break;
    case JobState::Cancelled:
      cancelled += n;
      break;
  }
}

}  // namespace kjq::server
