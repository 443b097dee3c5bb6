#pragma once
// When a Nautobot schedule is due, as Celery Beat means it (ScheduledJob.schedule / to_cron and
// NautobotScheduleEntry in nautobot/core/celery/schedulers.py), in the schedule's own IANA time
// zone read from the system's tz database (Howard Hinnant's date/tz, USE_OS_TZDB):
//   future, immediately  one run at start_time, then the schedule is complete (a `future` schedule
//                        whose one_off is false runs once too: nb#5887)
//   hourly               every hour at start_time's minute (local time)
//   daily                every day at start_time's hour and minute
//   weekly               every week on start_time's day of week, hour and minute
//   custom               the crontab (crontab.hpp), matched against local wall-clock time
// The first run of a recurring schedule is its first match at or after start_time's minute (Beat
// since nb#8316: last_run_at = start_time - 1 minute); each next one is the first match after the
// previous run (last_run_at).
//
// Daylight saving: a wall-clock time that happens twice (clocks go back) runs once, at its first
// occurrence; one that does not happen (clocks go forward) runs at the jump, and all the skipped
// times of one jump make one run.
#include <chrono>
#include <optional>
#include <string>

#include "schedule/crontab.hpp"

namespace date {
class time_zone;
}

namespace kjq::schedule {

// PostgreSQL's timestamptz resolution.
using Instant = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

enum class Interval { Immediately, Future, Hourly, Daily, Weekly, Custom };
std::optional<Interval> parse_interval(const std::string& name);
std::string interval_name(Interval interval);

struct Rule {
  Interval interval = Interval::Future;
  std::string crontab;  // custom only
  Instant start_time{};
  std::string time_zone = "UTC";  // an IANA name
};

class Timetable {
 public:
  // Throws kjq::InputError: an unknown time zone (path "time_zone"), a bad crontab
  // ("crontab.<field>").
  static Timetable compile(const Rule& rule);

  // One run only (future, immediately).
  bool one_off() const { return one_off_; }
  // The first run (nullopt: none ever, a crontab no date matches such as `0 0 31 2 *`).
  std::optional<Instant> first_due() const;
  // The first run strictly after `after` (nullopt: none within 30 years, or a one-off).
  std::optional<Instant> next_after(Instant after) const;
  // The run due after `last_run_at` (nullopt: first_due()).
  std::optional<Instant> next_due(std::optional<Instant> last_run_at) const;

  const Rule& rule() const { return rule_; }
  const Crontab& crontab() const { return crontab_; }

 private:
  Rule rule_;
  Crontab crontab_;
  const date::time_zone* zone_ = nullptr;
  bool one_off_ = false;
};

// "2026-03-29T01:00:00Z" (microseconds only when there are any).
std::string format_instant(Instant t);
// The same instant in `zone`'s wall-clock time with its offset, "2026-03-29 03:00:00+02:00 CEST".
std::string format_local(Instant t, const std::string& zone);
// RFC 3339 / PostgreSQL text ("2026-03-29 01:00:00+00", "…T…Z", fraction and offset optional);
// nullopt when it is neither.
std::optional<Instant> parse_instant(const std::string& text);

}  // namespace kjq::schedule
