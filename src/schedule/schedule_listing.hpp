#pragma once
// What `kjq schedules` shows: each schedule on a Kubernetes queue, whether kjq fires it (and if
// not, why), and its next due times in UTC and in the schedule's own time zone.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "schedule/schedule_database.hpp"
#include "schedule/schedule_runner.hpp"

namespace kjq::schedule {

struct ListedSchedule {
  ScheduleRow row;
  std::string not_fired_because;  // "" when kjq fires it
  std::vector<Instant> next;      // up to N due times after `now` (the first may be overdue)
};

// The next `count` runs of each row as seen at `now`: the first is the run due after last_run_at
// (earlier than `now` when it is overdue: kjq fires it on its next tick, per the catch-up policy).
std::vector<ListedSchedule> list_schedules(const std::vector<ScheduleRow>& rows, Instant now, int count);

// A table: NAME, INTERVAL, RULE, TIME ZONE, QUEUE, LAST RUN, NEXT (UTC, then local), FIRED.
std::string format_schedules(const std::vector<ListedSchedule>& schedules);
nlohmann::json schedules_to_json(const std::vector<ListedSchedule>& schedules);

// GET /api/v1/schedules: what the runner of `kjq serve --run-schedules` holds. Each item as in
// schedules_to_json (its next run only), plus `late`: the run is due and has not been fired for
// more than 1 s at `now` (the database unreachable, another replica holding the row).
nlohmann::json schedule_views_to_json(const std::vector<ScheduleView>& views, Instant now);

}  // namespace kjq::schedule
