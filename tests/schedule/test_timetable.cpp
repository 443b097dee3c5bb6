// Next-due times of Nautobot's interval types in IANA time zones, daylight saving both ways, and
// the Beat bugs kjq must not repeat. Times are fixed instants: no clock is read.
#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include <vector>

#include "schedule/timetable.hpp"
#include "util/diagnostic.hpp"

namespace kjq::schedule {
namespace {

Instant when(const std::string& text) {
  auto t = parse_instant(text);
  EXPECT_TRUE(t) << text;
  return t.value_or(Instant{});
}

Timetable table(Interval interval, const std::string& start, const std::string& zone, const std::string& crontab = "") {
  Rule r;
  r.interval = interval;
  r.start_time = when(start);
  r.time_zone = zone;
  r.crontab = crontab;
  return Timetable::compile(r);
}

// The runs after `from`, `n` of them, as UTC text.
std::vector<std::string> runs(const Timetable& t, const std::string& from, int n) {
  std::vector<std::string> out;
  std::optional<Instant> last = when(from);
  for (int i = 0; i < n && last; ++i) {
    last = t.next_after(*last);
    if (last) out.push_back(format_instant(*last));
  }
  return out;
}

using Runs = std::vector<std::string>;

TEST(Timetable, ParsesPostgresAndRfc3339Instants) {
  EXPECT_EQ(format_instant(when("2026-03-29 01:00:00+00")), "2026-03-29T01:00:00Z");
  EXPECT_EQ(format_instant(when("2026-03-29T03:00:00.5+02:00")), "2026-03-29T01:00:00.500000Z");
  EXPECT_EQ(format_instant(when("2026-03-28T20:00:00-0500")), "2026-03-29T01:00:00Z");
  EXPECT_EQ(format_instant(when("2026-03-29T01:00:00.123456789Z")), "2026-03-29T01:00:00.123456Z");
  for (const char* bad : {"", "2026-03-29", "2026-02-30 00:00:00+00", "2026-03-29 01:00:00", "2026-03-29 01:00:00+00x",
                          "2026-03-29 25:00:00Z", "２026-03-29 01:00:00Z"})
    EXPECT_FALSE(parse_instant(bad)) << bad;
}

TEST(Timetable, HourlyDailyAndWeeklyRepeatTheStartTimeInItsZone) {
  // Monday 2026-01-05 23:30 in New York is Tuesday 04:30 UTC: a weekly schedule runs on Mondays.
  const auto weekly = table(Interval::Weekly, "2026-01-06T04:30:00Z", "America/New_York");
  EXPECT_EQ(runs(weekly, "2026-01-06T04:30:00Z", 2), (Runs{"2026-01-13T04:30:00Z", "2026-01-20T04:30:00Z"}));
  const auto daily = table(Interval::Daily, "2026-01-06T04:30:00Z", "America/New_York");
  EXPECT_EQ(runs(daily, "2026-01-06T04:30:00Z", 1), (Runs{"2026-01-07T04:30:00Z"}));
  const auto hourly = table(Interval::Hourly, "2026-01-06T04:30:00Z", "Asia/Kolkata");  // +05:30
  EXPECT_EQ(runs(hourly, "2026-01-06T04:30:00Z", 2), (Runs{"2026-01-06T05:30:00Z", "2026-01-06T06:30:00Z"}));
}

TEST(Timetable, FirstRunIsTheFirstMatchAtOrAfterTheStartMinute) {
  const auto hourly = table(Interval::Hourly, "2026-05-04T10:05:30Z", "UTC");
  EXPECT_EQ(format_instant(*hourly.first_due()), "2026-05-04T10:05:00Z");
  EXPECT_EQ(format_instant(*hourly.next_due(std::nullopt)), "2026-05-04T10:05:00Z");
  EXPECT_EQ(format_instant(*hourly.next_due(when("2026-05-04T10:05:00.2Z"))), "2026-05-04T11:05:00Z");
}

TEST(Timetable, CrontabScheduleCreatedThroughTheApiDoesNotRunAtOnce) {  // nb#8316
  const auto custom = table(Interval::Custom, "2026-05-04T10:00:07Z", "UTC", "0 3 * * *");
  EXPECT_EQ(format_instant(*custom.first_due()), "2026-05-05T03:00:00Z");
}

TEST(Timetable, FutureAndImmediatelyRunOnceAtTheStartTime) {
  for (auto interval : {Interval::Future, Interval::Immediately}) {
    const auto once = table(interval, "2026-05-04T10:00:07.25Z", "Europe/Berlin");
    EXPECT_TRUE(once.one_off());
    EXPECT_EQ(format_instant(*once.first_due()), "2026-05-04T10:00:07.250000Z");
    EXPECT_FALSE(once.next_due(when("2026-05-04T10:00:08Z")));  // it ran: never again (nb#5887)
    EXPECT_FALSE(once.next_after(when("2026-05-04T10:00:08Z")));
  }
}

TEST(Timetable, DailyRunInTheSkippedHourFiresAtTheJumpInBerlin) {
  // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist that day.
  const auto daily = table(Interval::Custom, "2026-03-01T00:00:00Z", "Europe/Berlin", "30 2 * * *");
  EXPECT_EQ(runs(daily, "2026-03-27T12:00:00Z", 3),
            (Runs{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}));
}

TEST(Timetable, AllSkippedTimesOfOneJumpMakeOneRun) {
  const auto quarter = table(Interval::Custom, "2026-03-01T00:00:00Z", "Europe/Berlin", "*/15 * * * *");
  // 01:45 CET, then 02:00-02:45 do not exist and 03:00 CEST is the jump itself: one run at 01:00Z.
  EXPECT_EQ(runs(quarter, "2026-03-29T00:40:00Z", 3),
            (Runs{"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"}));
}

TEST(Timetable, RunInTheRepeatedHourFiresOnceInBerlin) {
  // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 happen twice.
  const auto daily = table(Interval::Daily, "2026-10-01T00:30:00Z", "Europe/Berlin");  // 02:30 CEST
  EXPECT_EQ(runs(daily, "2026-10-24T12:00:00Z", 2), (Runs{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  const auto half = table(Interval::Custom, "2026-10-01T00:00:00Z", "Europe/Berlin", "*/30 * * * *");
  EXPECT_EQ(runs(half, "2026-10-24T23:50:00Z", 4),
            (Runs{"2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:30:00Z"}));
  // Resuming from inside the second pass does not fire the repeated times again.
  EXPECT_EQ(runs(half, "2026-10-25T01:10:00Z", 1), (Runs{"2026-10-25T02:00:00Z"}));
}

TEST(Timetable, DaylightSavingBothWaysInNewYork) {
  // 2026-03-08 02:00 EST → 03:00 EDT (07:00 UTC); 2026-11-01 02:00 EDT → 01:00 EST (06:00 UTC).
  const auto daily = table(Interval::Custom, "2026-03-01T00:00:00Z", "America/New_York", "15 2 * * *");
  EXPECT_EQ(runs(daily, "2026-03-07T00:00:00Z", 3),
            (Runs{"2026-03-07T07:15:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:15:00Z"}));
  const auto hourly = table(Interval::Hourly, "2026-10-01T04:30:00Z", "America/New_York");  // :30
  EXPECT_EQ(runs(hourly, "2026-11-01T04:00:00Z", 3),
            (Runs{"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:30:00Z"}));
}

TEST(Timetable, KeepsTheLocalTimeAcrossRunsAndSeasons) {                                  // nb#5591, nb#3349
  const auto daily = table(Interval::Daily, "2026-01-05T14:00:00Z", "America/New_York");  // 09:00 EST
  std::optional<Instant> last;
  std::vector<std::string> local;
  for (int i = 0; i < 70; ++i) {
    last = daily.next_due(last);
    ASSERT_TRUE(last);
    local.push_back(format_local(*last, "America/New_York").substr(11, 8));
  }
  for (const auto& l : local) EXPECT_EQ(l, "09:00:00");
  EXPECT_EQ(format_instant(*last), "2026-03-15T13:00:00Z");  // 09:00 EDT
}

TEST(Timetable, DayFieldsAllMatchAsInCelery) {
  // First Monday of each month, not "days 1-7 or Mondays".
  const auto first_monday = table(Interval::Custom, "2026-01-01T00:00:00Z", "UTC", "0 6 1-7 * 1");
  EXPECT_EQ(runs(first_monday, "2026-01-01T00:00:00Z", 3),
            (Runs{"2026-01-05T06:00:00Z", "2026-02-02T06:00:00Z", "2026-03-02T06:00:00Z"}));
}

TEST(Timetable, RareAndImpossibleDates) {
  const auto leap_monday = table(Interval::Custom, "2026-01-01T00:00:00Z", "UTC", "0 0 29 2 1");
  const auto next = leap_monday.next_after(when("2026-01-01T00:00:00Z"));
  ASSERT_TRUE(next);
  const date::year_month_day ymd(date::floor<date::days>(*next));
  EXPECT_EQ(static_cast<unsigned>(ymd.month()), 2u);
  EXPECT_EQ(static_cast<unsigned>(ymd.day()), 29u);
  EXPECT_EQ(date::weekday(date::floor<date::days>(*next)).c_encoding(), 1u);
  const auto never = table(Interval::Custom, "2026-01-01T00:00:00Z", "UTC", "0 0 31 2 *");
  EXPECT_FALSE(never.first_due());
}

TEST(Timetable, RefusesAnUnknownTimeZoneNamingIt) {
  try {
    table(Interval::Daily, "2026-01-01T00:00:00Z", "Mars/Olympus_Mons");
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("time_zone"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Mars/Olympus_Mons"), std::string::npos) << e.what();
  }
  EXPECT_THROW(table(Interval::Daily, "2026-01-01T00:00:00Z", "../../etc/passwd"), InputError);
}

}  // namespace
}  // namespace kjq::schedule
