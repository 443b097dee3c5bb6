// What `kjq schedules` prints, from rows and a fixed time (no database, no clock).
#include <gtest/gtest.h>

#include "schedule/schedule_listing.hpp"

namespace kjq::schedule {
namespace {

ScheduleRow row(const std::string& name, const std::string& interval, const std::string& crontab,
                const std::string& zone) {
  ScheduleRow r;
  r.id = "0b7a2f8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  r.name = name;
  r.interval = interval;
  r.crontab = crontab;
  r.time_zone = zone;
  r.start_time = parse_instant("2026-03-01T01:30:00Z").value();
  r.state = "active";
  r.enabled = true;
  r.queue_name = "kubernetes";
  r.queue_type = "kubernetes";
  r.job_exists = r.job_enabled = r.user_exists = true;
  return r;
}

TEST(ScheduleListing, ShowsNextRunsInUtcAndLocalTimeAndWhyOthersAreNotFired) {
  auto berlin = row("nightly", "custom", "30 2 * * *", "Europe/Berlin");
  berlin.last_run_at = parse_instant("2026-03-28T01:30:00Z");
  auto pending = row("needs approval", "daily", "", "UTC");
  pending.state = "pending";
  auto bad = row("bad\x1b[2J", "custom", "61 * * * *", "UTC");
  const auto now = parse_instant("2026-03-28T12:00:00Z").value();
  const auto listed = list_schedules({berlin, pending, bad}, now, 2);
  // 02:30 does not exist in Berlin on 29 March: the run is at the jump (03:00 CEST). The pending
  // daily schedule shows its overdue first run, then the one after `now`.
  EXPECT_EQ(
      format_schedules(listed),
      R"(NAME            INTERVAL  RULE                       TIME ZONE      QUEUE       LAST RUN              NEXT (UTC)            NEXT (LOCAL)                    FIRED BY KJQ
nightly         custom    30 2 * * *                 Europe/Berlin  kubernetes  2026-03-28T01:30:00Z  2026-03-29T01:00:00Z  2026-03-29 03:00:00+02:00 CEST  yes
                                                                                                      2026-03-30T00:30:00Z  2026-03-30 02:30:00+02:00 CEST
needs approval  daily     from 2026-03-01T01:30:00Z  UTC            kubernetes  never                 2026-03-01T01:30:00Z  2026-03-01 01:30:00+00:00 UTC   no: state is pending
                                                                                                      2026-03-29T01:30:00Z  2026-03-29 01:30:00+00:00 UTC
bad\x1b[2J      custom    61 * * * *                 UTC            kubernetes  never                 -                     -                               no: invalid: crontab.minute: expected a number from 0 to 59, got 61
)");
  const auto json = schedules_to_json(listed);
  EXPECT_EQ(json["items"][0]["next"][0]["local"], "2026-03-29 03:00:00+02:00 CEST");
  EXPECT_EQ(json["items"][1]["notFiredBecause"], "state is pending");
  EXPECT_EQ(json["items"][2]["firedByKjq"], false);
}

TEST(ScheduleListing, ApiViewMarksARunLateOnlyWhenItIsDueForMoreThanASecond) {
  ScheduleView due, fresh, off;
  due.row = row("overdue", "custom", "* * * * *", "UTC");
  due.next = parse_instant("2026-03-28T11:59:58Z");
  fresh.row = row("just due", "custom", "* * * * *", "UTC");
  fresh.next = parse_instant("2026-03-28T11:59:59.5Z");
  off.row = row("pending", "custom", "* * * * *", "UTC");
  off.not_fired_because = "state is pending";
  off.next = parse_instant("2026-03-28T11:00:00Z");
  const auto j = schedule_views_to_json({due, fresh, off}, parse_instant("2026-03-28T12:00:00Z").value());
  EXPECT_EQ(j["items"][0]["late"], true);
  EXPECT_EQ(j["items"][1]["late"], false);
  EXPECT_EQ(j["items"][2]["late"], false);  // not kjq's to fire
  EXPECT_EQ(j["items"][0]["next"][0]["utc"], "2026-03-28T11:59:58Z");
}

}  // namespace
}  // namespace kjq::schedule
