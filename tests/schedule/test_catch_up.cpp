// Runs fired after downtime under each catch-up policy, and run ids.
#include <gtest/gtest.h>

#include <set>

#include "schedule/catch_up.hpp"
#include "schedule/run_id.hpp"

namespace kjq::schedule {
namespace {

Instant utc(const std::string& text) { return parse_instant(text).value(); }

Timetable every(const std::string& crontab) {
  Rule r;
  r.interval = Interval::Custom;
  r.crontab = crontab;
  r.start_time = utc("2026-01-01T00:00:00Z");
  return Timetable::compile(r);
}

// Down from 09:00:30 (the 09:00 run was fired) to 12:00:20: three hours.
const Instant kLast = parse_instant("2026-06-01T09:00:00Z").value();
const Instant kNow = parse_instant("2026-06-01T12:00:20Z").value();

TEST(CatchUp, OnceFiresTheLatestMissedRun) {
  const auto plan = plan_runs(every("*/15 * * * *"), kLast, kNow, {CatchUp::Once, std::chrono::seconds(0), 100});
  ASSERT_EQ(plan.fire.size(), 1u);
  EXPECT_EQ(format_instant(plan.fire[0]), "2026-06-01T12:00:00Z");
  EXPECT_EQ(plan.skipped, 11);
  EXPECT_EQ(format_instant(*plan.last_due), "2026-06-01T12:00:00Z");
  EXPECT_EQ(format_instant(*plan.next), "2026-06-01T12:15:00Z");
}

TEST(CatchUp, AllFiresEachMissedRunUpToTheBound) {
  const auto quarter = plan_runs(every("*/15 * * * *"), kLast, kNow, {CatchUp::All, std::chrono::seconds(0), 100});
  EXPECT_EQ(quarter.fire.size(), 12u);
  EXPECT_EQ(format_instant(quarter.fire.front()), "2026-06-01T09:15:00Z");
  EXPECT_EQ(quarter.skipped, 0);
  const auto minute = plan_runs(every("* * * * *"), kLast, kNow, {CatchUp::All, std::chrono::seconds(0), 100});
  ASSERT_EQ(minute.fire.size(), 100u);  // of 180
  EXPECT_EQ(minute.skipped, 80);
  EXPECT_EQ(format_instant(minute.fire.front()), "2026-06-01T10:21:00Z");
  EXPECT_EQ(format_instant(minute.fire.back()), "2026-06-01T12:00:00Z");
}

TEST(CatchUp, NoneSkipsMissedRunsButFiresOneJustDue) {
  const auto plan = plan_runs(every("*/15 * * * *"), kLast, kNow, {CatchUp::None, std::chrono::seconds(0), 100});
  ASSERT_EQ(plan.fire.size(), 1u);  // 12:00 is 20 s late: within the 60 s grace
  EXPECT_EQ(plan.skipped, 11);
  const auto later = plan_runs(every("*/15 * * * *"), kLast, kNow + std::chrono::minutes(2),
                               {CatchUp::None, std::chrono::seconds(0), 100});
  EXPECT_TRUE(later.fire.empty());
  EXPECT_EQ(later.skipped, 12);
  EXPECT_EQ(format_instant(*later.last_due), "2026-06-01T12:00:00Z");
}

TEST(CatchUp, StartingDeadlineSkipsRunsLaterThanIt) {
  const auto plan = plan_runs(every("*/15 * * * *"), kLast, kNow, {CatchUp::All, std::chrono::seconds(3600), 100});
  EXPECT_EQ(plan.fire.size(), 4u);  // 11:15 … 12:00; 11:00 is 1 h 20 s late
  EXPECT_EQ(plan.skipped, 8);
}

TEST(CatchUp, NothingDueMeansAnEmptyPlanWithTheNextRun) {
  const auto plan = plan_runs(every("*/15 * * * *"), utc("2026-06-01T12:00:00Z"), kNow, {});
  EXPECT_TRUE(plan.fire.empty());
  EXPECT_EQ(plan.skipped, 0);
  EXPECT_FALSE(plan.last_due);
  EXPECT_EQ(format_instant(*plan.next), "2026-06-01T12:15:00Z");
}

TEST(CatchUp, AYearDownDoesNotWalkEveryMinute) {
  const auto plan = plan_runs(every("* * * * *"), utc("2024-01-01T00:00:00Z"), kNow, {});
  ASSERT_EQ(plan.fire.size(), 1u);
  EXPECT_EQ(format_instant(plan.fire[0]), "2026-06-01T12:00:00Z");
  EXPECT_GE(plan.skipped, 1);
  EXPECT_LE(plan.skipped, 26 * 60);  // only the last 26 hours are walked
  const auto all = plan_runs(every("* * * * *"), utc("2024-01-01T00:00:00Z"), kNow, {CatchUp::All, {}, 100});
  ASSERT_EQ(all.fire.size(), 100u);
  EXPECT_EQ(format_instant(all.fire.back()), "2026-06-01T12:00:00Z");
  const auto monthly = plan_runs(every("0 0 1 * *"), utc("2024-01-01T00:00:00Z"), kNow, {});
  ASSERT_EQ(monthly.fire.size(), 1u);
  EXPECT_EQ(format_instant(monthly.fire[0]), "2026-06-01T00:00:00Z");
}

TEST(RunId, IsAVersion5UuidOfTheScheduleAndTheDueTime) {
  // RFC 4122's example namespace (DNS) and Python's uuid.uuid5(NAMESPACE_DNS, "python.org").
  EXPECT_EQ(uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  const std::string schedule = "0b7a2f8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  const auto a = run_id(schedule, utc("2026-06-01T12:00:00Z"));
  EXPECT_EQ(a, run_id("0B7A2F8E-1C2D-4E5F-8A9B-0C1D2E3F4A5B", utc("2026-06-01T14:00:00+02:00")));
  EXPECT_EQ(a[14], '5');
  // Two schedules on the same crontab: two runs (nb#5018); the next minute: another run.
  std::set<std::string> ids{a, run_id("1b7a2f8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", utc("2026-06-01T12:00:00Z")),
                            run_id(schedule, utc("2026-06-01T12:01:00Z"))};
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_THROW(uuid5("not-a-uuid", "x"), std::invalid_argument);
}

}  // namespace
}  // namespace kjq::schedule
