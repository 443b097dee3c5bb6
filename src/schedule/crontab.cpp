#include "schedule/crontab.hpp"

#include <array>
#include <cctype>
#include <optional>
#include <vector>

#include "util/diagnostic.hpp"
#include "util/display_text.hpp"

namespace kjq::schedule {

namespace {

struct Field {
  const char* name;
  int min;
  int max;  // inclusive
  bool day_names;
};

constexpr std::array<Field, 5> kFields{{{"minute", 0, 59, false},
                                        {"hour", 0, 23, false},
                                        {"day_of_month", 1, 31, false},
                                        {"month_of_year", 1, 12, false},
                                        {"day_of_week", 0, 6, true}}};

// Text from the database in a message: escaped, and cut when long.
std::string shown(const std::string& text, std::size_t max) {
  return display_text(text.size() > max ? text.substr(0, max) + "…" : text);
}

[[noreturn]] void refuse(const std::string& path, const std::string& message) {
  Diagnostic d;
  d.path = path;
  d.message = message;
  throw InputError(std::move(d));
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

// Celery reads a day name by its first three letters (weekday()).
std::optional<int> day_name(const std::string& token) {
  static constexpr std::array<const char*, 7> kNames{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  if (token.size() < 3) return std::nullopt;
  for (char c : token)
    if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
  std::string head;
  for (std::size_t i = 0; i < 3; ++i) head += static_cast<char>(std::tolower(static_cast<unsigned char>(token[i])));
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (head == kNames[i]) return static_cast<int>(i);
  return std::nullopt;
}

int number(const Field& field, const std::string& path, const std::string& token) {
  if (token.empty()) refuse(path, "expected a number, got an empty value");
  if (token.find_first_not_of("0123456789") != std::string::npos) {
    if (field.day_names)
      if (auto day = day_name(token)) return *day;
    refuse(path, "expected a number from " + std::to_string(field.min) + " to " + std::to_string(field.max) +
                     (field.day_names ? " or a day name (sun … sat)" : "") + ", got \"" + shown(token, 40) + "\"");
  }
  if (token.size() > 3) refuse(path, "the number " + shown(token, 40) + " is out of range");
  const int value = std::stoi(token);
  if (value < field.min || value > field.max)
    refuse(path, "expected a number from " + std::to_string(field.min) + " to " + std::to_string(field.max) + ", got " +
                     token);
  return value;
}

// The values of one comma-separated part, in Celery's order (a wrapping range runs to the end and
// starts again at the minimum); a step keeps every n-th of them.
std::vector<int> expand_part(const Field& field, const std::string& path, const std::string& part) {
  if (part.empty()) refuse(path, "expected a value between the commas, got an empty one");
  std::string base = part;
  int step = 1;
  if (const auto slash = part.find('/'); slash != std::string::npos) {
    base = part.substr(0, slash);
    const auto step_text = part.substr(slash + 1);
    if (step_text.empty() || step_text.find_first_not_of("0123456789") != std::string::npos || step_text.size() > 3)
      refuse(path, "expected a step of 1 to 999 after \"/\", got \"" + shown(step_text, 40) + "\"");
    step = std::stoi(step_text);
    if (step == 0) refuse(path, "a step of 0 never advances");
    if (base != "*" && base.find('-') == std::string::npos)
      refuse(path, "a step applies to \"*\" or a range a-b (as in Celery), got \"" + shown(part, 40) + "\"");
  }
  std::vector<int> values;
  if (base == "*") {
    for (int v = field.min; v <= field.max; ++v) values.push_back(v);
  } else if (const auto dash = base.find('-'); dash != std::string::npos) {
    if (dash == 0) refuse(path, "negative numbers are not allowed, got \"" + shown(part, 40) + "\"");
    const int from = number(field, path, base.substr(0, dash));
    const int to = number(field, path, base.substr(dash + 1));
    if (to >= from) {
      for (int v = from; v <= to; ++v) values.push_back(v);
    } else {  // wraps around, as Celery's ranges do
      for (int v = from; v <= field.max; ++v) values.push_back(v);
      for (int v = field.min; v <= to; ++v) values.push_back(v);
    }
  } else {
    values.push_back(number(field, path, base));
  }
  std::vector<int> kept;
  for (std::size_t i = 0; i < values.size(); i += static_cast<std::size_t>(step)) kept.push_back(values[i]);
  return kept;
}

template <std::size_t N>
std::bitset<N> parse_field(const Field& field, const std::string& text) {
  const std::string path = std::string("crontab.") + field.name;
  std::bitset<N> bits;
  for (const auto& part : split(text, ',')) {
    for (int v : expand_part(field, path, part)) bits.set(static_cast<std::size_t>(v));
  }
  return bits;
}

template <std::size_t N>
std::bitset<N> all_of(int min, int max) {
  std::bitset<N> bits;
  for (int v = min; v <= max; ++v) bits.set(static_cast<std::size_t>(v));
  return bits;
}

}  // namespace

Crontab Crontab::parse(const std::string& text) {
  if (text.size() > 255) refuse("crontab", "expected at most 255 characters (Nautobot's column)");
  const auto fields = split(text, ' ');
  if (fields.size() != 5)
    refuse("crontab",
           "expected five fields separated by single spaces (minute hour day_of_month month_of_year day_of_week), "
           "got " +
               std::to_string(fields.size()) + " in \"" + shown(text, 80) + "\"");
  Crontab c;
  c.minutes = parse_field<60>(kFields[0], fields[0]);
  c.hours = parse_field<24>(kFields[1], fields[1]);
  c.days_of_month = parse_field<32>(kFields[2], fields[2]);
  c.months = parse_field<13>(kFields[3], fields[3]);
  c.days_of_week = parse_field<7>(kFields[4], fields[4]);
  return c;
}

Crontab Crontab::every_hour_at(int minute) {
  Crontab c;
  c.minutes.set(static_cast<std::size_t>(minute));
  c.hours = all_of<24>(0, 23);
  c.days_of_month = all_of<32>(1, 31);
  c.months = all_of<13>(1, 12);
  c.days_of_week = all_of<7>(0, 6);
  return c;
}

Crontab Crontab::every_day_at(int hour, int minute) {
  Crontab c = every_hour_at(minute);
  c.hours.reset();
  c.hours.set(static_cast<std::size_t>(hour));
  return c;
}

Crontab Crontab::every_week_at(int day_of_week, int hour, int minute) {
  Crontab c = every_day_at(hour, minute);
  c.days_of_week.reset();
  c.days_of_week.set(static_cast<std::size_t>(day_of_week));
  return c;
}

}  // namespace kjq::schedule
