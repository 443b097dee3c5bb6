#include "schedule/schedule_listing.hpp"

#include <algorithm>

#include "util/diagnostic.hpp"
#include "util/display_text.hpp"

namespace kjq::schedule {

std::vector<ListedSchedule> list_schedules(const std::vector<ScheduleRow>& rows, Instant now, int count) {
  std::vector<ListedSchedule> out;
  for (const auto& row : rows) {
    ListedSchedule s;
    s.row = row;
    s.not_fired_because = why_not_fired(row);
    try {
      const auto timetable = Timetable::compile(rule_of(row));
      auto due = timetable.next_due(row.last_run_at);
      // An overdue run shows once; the ones after it are those after `now`.
      if (due && *due <= now) {
        s.next.push_back(*due);
        due = timetable.next_after(now);
      }
      while (due && static_cast<int>(s.next.size()) < count) {
        s.next.push_back(*due);
        due = timetable.next_after(*due);
      }
      if (s.next.empty() && s.not_fired_because.empty()) s.not_fired_because = "never due again";
    } catch (const InputError& e) {
      s.not_fired_because = std::string("invalid: ") + e.what();
    }
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

std::string rule_text(const ScheduleRow& r) {
  if (r.interval == "custom") return r.crontab;
  if (r.interval == "future" || r.interval == "immediately") return "at " + format_instant(r.start_time);
  return "from " + format_instant(r.start_time);
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  auto width = [](const std::string& s) {  // characters, not bytes
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string format_schedules(const std::vector<ListedSchedule>& schedules) {
  if (schedules.empty()) return "No schedules on Kubernetes queues.\n";
  std::vector<std::vector<std::string>> rows{
      {"NAME", "INTERVAL", "RULE", "TIME ZONE", "QUEUE", "LAST RUN", "NEXT (UTC)", "NEXT (LOCAL)", "FIRED BY KJQ"}};
  for (const auto& s : schedules) {
    const auto& r = s.row;
    const std::string fired = s.not_fired_because.empty() ? "yes" : "no: " + display_text(s.not_fired_because);
    const std::string last = r.last_run_at ? format_instant(*r.last_run_at) : "never";
    if (s.next.empty()) {
      rows.push_back({display_text(r.name), r.interval, display_text(rule_text(r)), display_text(r.time_zone),
                      display_text(r.queue_name), last, "-", "-", fired});
      continue;
    }
    for (std::size_t i = 0; i < s.next.size(); ++i) {
      const auto utc = format_instant(s.next[i]);
      const auto local = format_local(s.next[i], r.time_zone);
      if (i == 0)
        rows.push_back({display_text(r.name), r.interval, display_text(rule_text(r)), display_text(r.time_zone),
                        display_text(r.queue_name), last, utc, local, fired});
      else
        rows.push_back({"", "", "", "", "", "", utc, local, ""});
    }
  }
  return table(rows);
}

nlohmann::json schedules_to_json(const std::vector<ListedSchedule>& schedules) {
  auto items = nlohmann::json::array();
  for (const auto& s : schedules) {
    const auto& r = s.row;
    nlohmann::json j;
    j["id"] = r.id;
    j["name"] = r.name;
    j["interval"] = r.interval;
    j["crontab"] = r.crontab;
    j["startTime"] = format_instant(r.start_time);
    j["timeZone"] = r.time_zone;
    j["state"] = r.state;
    j["enabled"] = r.enabled;
    j["queue"] = r.queue_name;
    j["job"] = r.job_name;
    j["lastRunAt"] = r.last_run_at ? nlohmann::json(format_instant(*r.last_run_at)) : nlohmann::json();
    j["totalRunCount"] = r.total_run_count;
    j["firedByKjq"] = s.not_fired_because.empty();
    if (!s.not_fired_because.empty()) j["notFiredBecause"] = s.not_fired_because;
    auto next = nlohmann::json::array();
    for (const auto& t : s.next) next.push_back({{"utc", format_instant(t)}, {"local", format_local(t, r.time_zone)}});
    j["next"] = next;
    items.push_back(std::move(j));
  }
  return nlohmann::json{{"items", items}};
}

nlohmann::json schedule_views_to_json(const std::vector<ScheduleView>& views, Instant now) {
  std::vector<ListedSchedule> listed;
  listed.reserve(views.size());
  for (const auto& v : views) {
    ListedSchedule s;
    s.row = v.row;
    s.not_fired_because = v.not_fired_because;
    if (v.next) s.next.push_back(*v.next);
    listed.push_back(std::move(s));
  }
  auto out = schedules_to_json(listed);
  auto& items = out["items"];
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto& v = views[i];
    items[i]["late"] = v.not_fired_because.empty() && v.next && now - *v.next > std::chrono::seconds(1);
  }
  return out;
}

}  // namespace kjq::schedule
