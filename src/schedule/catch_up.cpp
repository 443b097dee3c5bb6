#include "schedule/catch_up.hpp"

#include <algorithm>
#include <deque>

namespace kjq::schedule {

std::optional<CatchUp> parse_catch_up(const std::string& name) {
  if (name == "none") return CatchUp::None;
  if (name == "once") return CatchUp::Once;
  if (name == "all") return CatchUp::All;
  return std::nullopt;
}

std::string catch_up_name(CatchUp policy) {
  switch (policy) {
    case CatchUp::None:
      return "none";
    case CatchUp::Once:
      return "once";
    case CatchUp::All:
      return "all";
  }
  return "?";
}

RunPlan plan_runs(const Timetable& timetable, std::optional<Instant> last_run_at, Instant now,
                  const CatchUpOptions& options) {
  RunPlan plan;
  auto due = timetable.next_due(last_run_at);
  if (!due || *due > now) {
    plan.next = due;
    return plan;
  }
  // Far behind (a schedule every minute, a year down: half a million runs): rather than walk every
  // missed run, start from the smallest window before `now` that holds what the policy needs
  // (one run, or max_runs for `all`); the runs before it count as one skipped.
  const std::size_t wanted =
      options.policy == CatchUp::All ? static_cast<std::size_t>(std::max(options.max_runs, 1)) : 1;
  if (!timetable.one_off() && *due < now - std::chrono::hours(26)) {
    for (auto window : {std::chrono::hours(26), std::chrono::hours(24 * 32), kLookBack}) {
      if (*due >= now - window) break;
      auto from = timetable.next_after(now - window);
      std::size_t count = 0;
      for (auto d = from; d && *d <= now && count < wanted; d = timetable.next_after(*d)) ++count;
      if (count >= wanted || window == kLookBack) {
        plan.skipped = 1;            // at least one run before the window
        if (!from || *from > now) {  // nothing within the window: only old runs, all skipped
          plan.last_due = now - kLookBack;
          plan.next = from;
          return plan;
        }
        due = from;
        break;
      }
    }
  }
  std::chrono::microseconds deadline = options.starting_deadline;
  if (deadline.count() <= 0 && options.policy == CatchUp::None) deadline = kNoneGrace;
  const std::size_t keep = wanted;
  std::deque<Instant> candidates;  // the latest `keep` missed runs within the deadline
  while (due && *due <= now) {
    plan.last_due = *due;
    const bool in_time = deadline.count() <= 0 || now - *due <= deadline;
    if (in_time) {
      candidates.push_back(*due);
      if (candidates.size() > keep) {
        candidates.pop_front();
        ++plan.skipped;
      }
    } else {
      ++plan.skipped;
    }
    due = timetable.next_due(*due);
  }
  plan.next = due;
  plan.fire.assign(candidates.begin(), candidates.end());
  return plan;
}

}  // namespace kjq::schedule
