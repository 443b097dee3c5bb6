#include "schedule/timetable.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <array>
#include <cctype>

#include "util/diagnostic.hpp"
#include "util/display_text.hpp"

namespace kjq::schedule {

namespace {

using std::chrono::duration_cast;
using std::chrono::floor;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Beyond this a crontab that matches no date (31 February) is declared never due. Celery gives
// up after 2000 month roll-overs, about 166 years; 30 years of days is ample for any real one
// (29 February on a Monday recurs within 28 years).
constexpr int kSearchDays = 366 * 30;

[[noreturn]] void refuse_rule(const std::string& path, const std::string& message) {
  Diagnostic d;
  d.path = path;
  d.message = message;
  throw InputError(std::move(d));
}

}  // namespace

std::optional<Interval> parse_interval(const std::string& name) {
  if (name == "immediately") return Interval::Immediately;
  if (name == "future") return Interval::Future;
  if (name == "hourly") return Interval::Hourly;
  if (name == "daily") return Interval::Daily;
  if (name == "weekly") return Interval::Weekly;
  if (name == "custom") return Interval::Custom;
  return std::nullopt;
}

std::string interval_name(Interval interval) {
  switch (interval) {
    case Interval::Immediately:
      return "immediately";
    case Interval::Future:
      return "future";
    case Interval::Hourly:
      return "hourly";
    case Interval::Daily:
      return "daily";
    case Interval::Weekly:
      return "weekly";
    case Interval::Custom:
      return "custom";
  }
  return "?";
}

Timetable Timetable::compile(const Rule& rule) {
  Timetable t;
  t.rule_ = rule;
  try {
    t.zone_ = date::locate_zone(rule.time_zone);
  } catch (const std::exception&) {
    const auto name = rule.time_zone.size() > 64 ? rule.time_zone.substr(0, 64) + "…" : rule.time_zone;
    refuse_rule("time_zone", "unknown time zone \"" + display_text(name) +
                                 "\" (expected an IANA name such as Europe/Berlin from the system's tz database)");
  }
  // The start time as the schedule's people see it: hourly, daily and weekly repeat its fields.
  const auto local = t.zone_->to_local(floor<minutes>(rule.start_time));
  const auto day = floor<date::days>(local);
  const auto time = date::hh_mm_ss<minutes>(floor<minutes>(local - day));
  const int hour = static_cast<int>(time.hours().count());
  const int minute = static_cast<int>(time.minutes().count());
  const int weekday = static_cast<int>(date::weekday(day).c_encoding());
  switch (rule.interval) {
    case Interval::Immediately:
    case Interval::Future:
      t.one_off_ = true;
      break;
    case Interval::Hourly:
      t.crontab_ = Crontab::every_hour_at(minute);
      break;
    case Interval::Daily:
      t.crontab_ = Crontab::every_day_at(hour, minute);
      break;
    case Interval::Weekly:
      t.crontab_ = Crontab::every_week_at(weekday, hour, minute);
      break;
    case Interval::Custom:
      t.crontab_ = Crontab::parse(rule.crontab);
      break;
  }
  return t;
}

std::optional<Instant> Timetable::first_due() const {
  if (one_off_) return rule_.start_time;
  // Beat's last_run_at = start_time - 1 minute: the first match at or after start_time's minute.
  return next_after(floor<minutes>(rule_.start_time) - microseconds(1));
}

std::optional<Instant> Timetable::next_due(std::optional<Instant> last_run_at) const {
  if (!last_run_at) return first_due();
  if (one_off_) return std::nullopt;  // it ran
  return next_after(*last_run_at);
}

std::optional<Instant> Timetable::next_after(Instant after) const {
  if (one_off_) return after < rule_.start_time ? std::optional<Instant>(rule_.start_time) : std::nullopt;
  // Wall-clock candidates from the minute `after` falls in, in increasing local order; each maps
  // to its first occurrence (or to the jump when it does not exist), so the first one whose
  // instant lies after `after` is the next run. A wall-clock time earlier than after's own has
  // its first occurrence before `after`, so none is missed by starting there.
  const auto from = floor<minutes>(zone_->to_local(after));
  const auto first_day = floor<date::days>(from);
  for (int d = 0; d < kSearchDays; ++d) {
    const date::local_days day = first_day + date::days(d);
    const date::year_month_day ymd(day);
    const int dow = static_cast<int>(date::weekday(day).c_encoding());
    if (!crontab_.matches_date(static_cast<int>(static_cast<unsigned>(ymd.month())),
                               static_cast<int>(static_cast<unsigned>(ymd.day())), dow))
      continue;
    for (int h = 0; h < 24; ++h) {
      if (!crontab_.hours.test(static_cast<std::size_t>(h))) continue;
      const auto hour_start = day + hours(h);
      if (hour_start + hours(1) <= from) continue;
      for (int m = 0; m < 60; ++m) {
        if (!crontab_.minutes.test(static_cast<std::size_t>(m))) continue;
        const date::local_seconds wall = hour_start + minutes(m);
        if (wall < from) continue;
        const auto info = zone_->get_info(wall);
        date::sys_seconds at;
        switch (info.result) {
          case date::local_info::unique:
          case date::local_info::ambiguous:  // the first of the two
            at = date::sys_seconds((wall - info.first.offset).time_since_epoch());
            break;
          case date::local_info::nonexistent:  // in the gap: at the jump
            at = info.first.end;
            break;
        }
        const Instant instant(duration_cast<microseconds>(at.time_since_epoch()));
        if (instant > after) return instant;
      }
    }
  }
  return std::nullopt;
}

std::string format_instant(Instant t) {
  const auto whole = floor<seconds>(t);
  const auto micros = (t - whole).count();
  std::string out = date::format("%FT%T", whole);
  if (micros != 0) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), ".%06lld", static_cast<long long>(micros));
    out += buf.data();
  }
  return out + "Z";
}

std::string format_local(Instant t, const std::string& zone) {
  try {
    const auto zoned = date::make_zoned(zone, floor<seconds>(t));
    const auto info = zoned.get_info();
    const auto offset = duration_cast<minutes>(info.offset).count();
    std::array<char, 48> buf{};
    std::snprintf(buf.data(), buf.size(), "%c%02lld:%02lld", offset < 0 ? '-' : '+',
                  static_cast<long long>((offset < 0 ? -offset : offset) / 60),
                  static_cast<long long>((offset < 0 ? -offset : offset) % 60));
    return date::format("%F %T", zoned.get_local_time()) + buf.data() + " " + info.abbrev;
  } catch (const std::exception&) {
    return format_instant(t);
  }
}

std::optional<Instant> parse_instant(const std::string& text) {
  // YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}](Z|±HH[:MM])
  auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  if (text.size() < 20) return std::nullopt;
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
             s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || text[4] != '-' || text[7] != '-' || (text[10] != ' ' && text[10] != 'T') ||
      text[13] != ':' || text[16] != ':')
    return std::nullopt;
  const date::year_month_day ymd{date::year(*y), date::month(static_cast<unsigned>(*mo)),
                                 date::day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::size_t at = 19;
  long long micros = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int n = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (n < 6) {
        micros = micros * 10 + (text[at] - '0');
        ++n;
      }
      ++at;
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  long long offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '-' ? -1 : 1;
    const auto oh = digits(at + 1, 2);
    if (!oh) return std::nullopt;
    at += 3;
    int om = 0;
    if (at < text.size() && text[at] == ':') {
      const auto m = digits(at + 1, 2);
      if (!m) return std::nullopt;
      om = *m;
      at += 3;
    } else if (at + 2 <= text.size() && digits(at, 2)) {
      om = *digits(at, 2);
      at += 2;
    }
    offset_minutes = sign * (*oh * 60LL + om);
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const auto local = date::sys_days(ymd) + hours(*h) + minutes(*mi) + seconds(*s);
  return Instant(duration_cast<microseconds>(local.time_since_epoch()) + microseconds(micros) -
                 duration_cast<microseconds>(minutes(offset_minutes)));
}

}  // namespace kjq::schedule
