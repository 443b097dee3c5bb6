#pragma once
// Which runs of a schedule to fire now, given its last run and the time: the runs that fell due
// while no kjq was firing (downtime, Nautobot's database unreachable) are handled by a policy.
//   once  (default; what Beat does) the latest missed run fires, the others are skipped
//   all   each missed run fires, oldest first, at most max_runs (the latest ones; like a
//         CronJob's 100), the older ones skipped
//   none  missed runs are skipped; only a run late by less than the starting deadline (60 s when
//         none is given) fires
// A starting deadline (like a CronJob's startingDeadlineSeconds) skips, under every policy, a run
// later than it. The schedule then continues from the latest run considered (last_run_at), so a
// skipped run is never fired later either.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "schedule/timetable.hpp"

namespace kjq::schedule {

enum class CatchUp { None, Once, All };
std::optional<CatchUp> parse_catch_up(const std::string& name);
std::string catch_up_name(CatchUp policy);

struct CatchUpOptions {
  CatchUp policy = CatchUp::Once;
  std::chrono::seconds starting_deadline{0};  // 0: none (with policy none: 60 s)
  int max_runs = 100;                         // policy all
};

inline constexpr std::chrono::seconds kNoneGrace{60};
// Missed runs older than this are never looked at (a schedule every minute, a year down: half a
// million of them).
inline constexpr std::chrono::hours kLookBack{24 * 400};

struct RunPlan {
  std::vector<Instant> fire;        // due times to fire now, oldest first
  std::int64_t skipped = 0;         // missed runs not fired (those long before `now` count as one)
  std::optional<Instant> last_due;  // the latest due time considered (the new last_run_at)
  std::optional<Instant> next;      // the next due time after this plan (nullopt: none)
};

// Nothing is due when the next run lies after `now`: an empty plan whose `next` is that run.
RunPlan plan_runs(const Timetable& timetable, std::optional<Instant> last_run_at, Instant now,
                  const CatchUpOptions& options);

}  // namespace kjq::schedule
