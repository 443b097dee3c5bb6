#include "server/job_list_query.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "util/base64.hpp"

namespace kjq::server {

namespace {

constexpr const char* kStatesExpected =
    "expected Queued, Submitted, Scheduled, Running, Succeeded, Failed or Cancelled";

bool whole_number(const std::string& text, long long& out) {
  if (text.empty() || text.size() > 18) return false;
  if (!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  out = std::stoll(text);
  return true;
}

bool digits(const std::string& s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

// An id prefix: what an id may hold (lower-case letters, digits, '-'), at most 63 characters.
bool valid_id_prefix(const std::string& p) {
  return !p.empty() && p.size() <= 63 && std::all_of(p.begin(), p.end(), [](unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// A reason as kjq and Kubernetes write them: a CamelCase word, at most 128 characters.
bool valid_reason(const std::string& r) {
  return !r.empty() && r.size() <= 128 && std::all_of(r.begin(), r.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':';
  });
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(const std::string& s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::size_t at = 19;
  std::int64_t ms = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    const std::size_t begin = at;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) {
      if (at - begin < 3) ms = ms * 10 + (s[at] - '0');
      ++at;
    }
    if (at == begin || at - begin > 9) return std::nullopt;
    for (std::size_t n = at - begin; n < 3; ++n) ms *= 10;
  }
  if (at >= s.size()) return std::nullopt;
  std::int64_t offset_minutes = 0;
  if (s[at] == 'Z' || s[at] == 'z') {
    ++at;
  } else if (s[at] == '+' || s[at] == '-') {
    int oh, om;
    if (!digits(s, at + 1, 2, oh) || at + 3 >= s.size() || s[at + 3] != ':' || !digits(s, at + 4, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_minutes = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != s.size()) return std::nullopt;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t seconds = days * 86400 + h * 3600 + mi * 60 + sec - offset_minutes * 60;
  return seconds * 1000 + ms;
}

std::string encode_list_cursor(ListOrder order, std::int64_t seq) {
  return base64_encode(
      std::string("kjq1:") + (order == ListOrder::Newest ? "newest:" : "oldest:") + std::to_string(seq),
      Base64::UrlUnpadded);
}

std::optional<std::int64_t> decode_list_cursor(const std::string& cursor, ListOrder order) {
  long long n = 0;
  if (order == ListOrder::Oldest && whole_number(cursor, n)) return n;
  if (cursor.size() > 64) return std::nullopt;
  const auto text = base64_decode(cursor, Base64::UrlUnpadded);
  if (!text) return std::nullopt;
  const std::string prefix = std::string("kjq1:") + (order == ListOrder::Newest ? "newest:" : "oldest:");
  if (text->rfind(prefix, 0) != 0) return std::nullopt;
  if (!whole_number(text->substr(prefix.size()), n) || n <= 0) return std::nullopt;
  return n;
}

ListQuery parse_list_query(const std::vector<std::pair<std::string, std::string>>& params) {
  static const std::set<std::string> kKnown = {"queue", "state", "states",    "origin", "reason", "idPrefix",
                                               "since", "until", "timeField", "order",  "limit",  "continue"};
  ListQuery out;
  JobFilter& f = out.filter;
  auto fail = [&](std::string message) {
    out.error = std::move(message);
    return out;
  };
  std::set<std::string> seen;
  for (const auto& [key, value] : params) {
    if (!kKnown.count(key)) {
      return fail(key +
                  ": unknown parameter (expected queue, state, states, origin, reason, idPrefix, since, until, "
                  "timeField, order, limit, continue)");
    }
    if (!seen.insert(key).second) return fail(key + ": given more than once");
  }
  auto get = [&](const char* key) -> std::optional<std::string> {
    for (const auto& [k, v] : params)
      if (k == key) return v;
    return std::nullopt;
  };

  if (auto q = get("queue")) f.queue = *q;
  if (auto s = get("state")) {
    f.state = parse_state(*s);
    if (!f.state) return fail(std::string("state: ") + kStatesExpected);
  }
  if (auto list = get("states")) {
    std::size_t begin = 0;
    while (true) {
      const auto comma = list->find(',', begin);
      const std::string name = list->substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
      const auto state = parse_state(name);
      if (!state) {
        return fail(std::string("states: ") + (name.empty() ? "an empty name" : "\"" + name.substr(0, 40) + "\"") +
                    " in the comma-separated list; " + kStatesExpected);
      }
      f.states.push_back(*state);
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
  }
  if (auto o = get("origin")) {
    f.origin = parse_origin(*o);
    if (!f.origin) return fail("origin: expected kjq or nautobot");
  }
  if (auto r = get("reason")) {
    if (!valid_reason(*r)) {
      return fail(
          "reason: expected a reason such as Error or DeadlineExceeded (letters, digits, '_', '-', '.', ':'; "
          "at most 128)");
    }
    f.reason = *r;
  }
  if (auto p = get("idPrefix")) {
    if (!valid_id_prefix(*p)) {
      return fail("idPrefix: expected the start of a job id (lower-case letters, digits and '-', 1 to 63)");
    }
    f.id_prefix = *p;
  }
  if (auto t = get("timeField")) {
    if (*t == "createdAt") {
      f.time_field = TimeField::Created;
    } else if (*t == "finishedAt") {
      f.time_field = TimeField::Finished;
    } else {
      return fail("timeField: expected createdAt or finishedAt");
    }
  }
  for (const char* key : {"since", "until"}) {
    if (auto t = get(key)) {
      auto ms = parse_rfc3339_ms(*t);
      if (!ms) {
        return fail(std::string(key) +
                    ": expected an RFC 3339 time with a time zone, such as 2026-11-27T10:15:02Z or "
                    "2026-11-27T12:15:02.417+02:00");
      }
      (std::string(key) == "since" ? f.since_ms : f.until_ms) = *ms;
    }
  }
  if (f.since_ms && f.until_ms && *f.since_ms >= *f.until_ms) return fail("until: expected a time after since");
  if (auto o = get("order")) {
    if (*o == "oldest") {
      f.order = ListOrder::Oldest;
    } else if (*o == "newest") {
      f.order = ListOrder::Newest;
    } else {
      return fail("order: expected newest or oldest");
    }
  }
  if (auto l = get("limit")) {
    long long n = 0;
    if (!whole_number(*l, n)) return fail("limit: expected an integer from 1 to 1000");
    if (n < 1 || n > 1000) return fail("limit: expected 1 to 1000");
    f.limit = static_cast<int>(n);
  }
  if (auto c = get("continue")) {
    auto seq = decode_list_cursor(*c, f.order);
    if (!seq) {
      return fail("continue: expected the value of a previous page's \"continue\", with the same order");
    }
    f.after_seq = *seq;
  }
  return out;
}

}  // namespace kjq::server
