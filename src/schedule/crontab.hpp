#pragma once
// A crontab in the syntax Nautobot accepts for a `custom` schedule (ScheduledJob.get_crontab:
// five fields separated by single spaces, handed to Celery's crontab): minute (0-59), hour
// (0-23), day of month (1-31), month (1-12), day of week (0-6, Sunday = 0; Celery's day names
// sun..sat and sunday..saturday too). Each field is `*`, a number, a range `a-b` (a range that
// ends below its start wraps around, as in Celery: hours `22-2` are 22, 23, 0, 1, 2), a step
// `*/n` or `a-b/n`, or a comma-separated list of those. No L, W, #, ? or @ strings.
//
// Unlike Vixie cron, Celery requires a day to match the day of month AND the day of week AND the
// month: `0 0 1-7 * 1` is the first Monday of each month, not "the 1st to 7th and every Monday".
#include <bitset>
#include <string>

namespace kjq::schedule {

struct Crontab {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit 0 unused
  std::bitset<13> months;         // bit 0 unused
  std::bitset<7> days_of_week;    // 0 = Sunday

  // Throws kjq::InputError naming the field (path "crontab.<field>") and what was expected.
  static Crontab parse(const std::string& text);
  // Minute, hour and day of week fixed: what Nautobot makes of `hourly`, `daily`, `weekly`.
  static Crontab every_hour_at(int minute);
  static Crontab every_day_at(int hour, int minute);
  static Crontab every_week_at(int day_of_week, int hour, int minute);

  // The date matches (all three day fields, Celery's AND).
  bool matches_date(int month, int day_of_month, int day_of_week) const {
    return months.test(static_cast<std::size_t>(month)) && days_of_month.test(static_cast<std::size_t>(day_of_month)) &&
           days_of_week.test(static_cast<std::size_t>(day_of_week));
  }
};

}  // namespace kjq::schedule
