#include "server/store/list_query.hpp"

#include <algorithm>

#include "server/store/migrations.hpp"
#include "server/store/store_text.hpp"

namespace kjq::server {

namespace {

// Collects WHERE conditions and their parameters in the dialect's placeholder style.
class Conditions {
 public:
  explicit Conditions(SqlDialect dialect) : dialect_(dialect) {}

  // The placeholder for a new parameter; `pg_type` is its PostgreSQL cast.
  std::string param(SqlParam value, const char* pg_type) {
    params_.push_back(std::move(value));
    const std::string n = std::to_string(params_.size());
    return dialect_ == SqlDialect::Sqlite ? "?" + n : "$" + n + "::" + pg_type;
  }
  std::string text(const std::string& v) { return param(v, "text"); }
  std::string int64(std::int64_t v) { return param(v, "bigint"); }

  void add(std::string condition) { conditions_.push_back(std::move(condition)); }

  std::string where() const {
    if (conditions_.empty()) return "";
    std::string out = " WHERE ";
    for (std::size_t i = 0; i < conditions_.size(); ++i) out += (i ? " AND " : "") + conditions_[i];
    return out;
  }

  SqlDialect dialect() const { return dialect_; }
  std::vector<SqlParam> take_params() { return std::move(params_); }

 private:
  SqlDialect dialect_;
  std::vector<std::string> conditions_;
  std::vector<SqlParam> params_;
};

// The smallest string greater than every string that starts with `prefix` (bytewise), or ""
// when there is none (a prefix of 0xFF bytes only).
std::string prefix_upper_bound(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xFF) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

// LIKE pattern that matches exactly the strings starting with `prefix` ('\' is the escape).
std::string like_prefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// Every condition of the filter except its states and cursor.
void add_filter(Conditions& c, const JobFilter& f) {
  // Text no stored value can equal (invalid UTF-8, a NUL byte) matches nothing; PostgreSQL would
  // refuse it as a parameter.
  for (const auto* text : {&f.queue, &f.reason, &f.id_prefix}) {
    if (!is_storable_text(*text)) {
      c.add("1 = 0");
      return;
    }
  }
  // Without statistics SQLite's planner prefers any equality to a range, and would read a whole
  // queue's rows to count the few that ended in the last hour. With a time range, "+queue" (no
  // index for this term) leaves it the time index, which also holds queue and state.
  const bool time_range = f.since_ms || f.until_ms;
  const std::string no_index = c.dialect() == SqlDialect::Sqlite && time_range ? "+" : "";
  if (!f.queue.empty()) c.add(no_index + "queue = " + c.text(f.queue));
  if (f.origin) c.add(no_index + "origin = " + c.text(origin_name(*f.origin)));
  if (!f.reason.empty()) c.add("reason = " + c.text(f.reason));
  if (!f.id_prefix.empty()) {
    if (c.dialect() == SqlDialect::Sqlite) {
      // A range on the id's unique index (BINARY collation compares bytes).
      c.add("id >= " + c.text(f.id_prefix));
      const auto upper = prefix_upper_bound(f.id_prefix);
      if (!upper.empty()) c.add("id < " + c.text(upper));
    } else {
      // jobs_id_pattern (text_pattern_ops) serves a LIKE with a fixed prefix, whatever the
      // database's collation.
      c.add("id LIKE " + c.text(like_prefix(f.id_prefix)) + " ESCAPE '\\'");
    }
  }
  if (time_range) {
    const char* column = f.time_field == TimeField::Finished ? "finished_ms" : "created_ms";
    // An unfinished job has finished_ms 0: it never matches a range of finish times.
    if (f.time_field == TimeField::Finished) c.add("finished_ms > 0");
    if (f.since_ms) c.add(std::string(column) + " >= " + c.int64(*f.since_ms));
    if (f.until_ms) c.add(std::string(column) + " < " + c.int64(*f.until_ms));
  }
}

}  // namespace

std::vector<JobState> admitted_states(const JobFilter& filter, bool& none) {
  none = false;
  std::vector<JobState> out;
  for (auto s : filter.states)
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  if (filter.state) {
    if (out.empty()) {
      out.push_back(*filter.state);
    } else if (std::find(out.begin(), out.end(), *filter.state) != out.end()) {
      out = {*filter.state};
    } else {
      out.clear();
      none = true;
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

SqlQuery list_jobs_sql(const JobFilter& filter, SqlDialect dialect, int fetch) {
  Conditions c(dialect);
  const bool newest = filter.order == ListOrder::Newest;
  if (filter.after_seq > 0) c.add(std::string("seq ") + (newest ? "< " : "> ") + c.int64(filter.after_seq));
  add_filter(c, filter);
  bool none = false;
  const auto states = admitted_states(filter, none);
  if (none) {
    c.add("1 = 0");
  } else if (states.size() == 1) {
    c.add("state = " + c.text(state_name(states[0])));
  } else if (!states.empty()) {
    std::string in;
    for (auto s : states) in += (in.empty() ? "" : ", ") + c.text(state_name(s));
    c.add("state IN (" + in + ")");
  }
  SqlQuery q;
  q.sql = std::string("SELECT ") + kJobColumns + " FROM jobs" + c.where() + " ORDER BY seq" + (newest ? " DESC" : "") +
          " LIMIT " + c.int64(fetch);
  q.params = c.take_params();
  return q;
}

SqlQuery count_states_sql(const JobFilter& filter, SqlDialect dialect) {
  Conditions c(dialect);
  add_filter(c, filter);
  SqlQuery q;
  // Grouped by state where an index yields the rows in state order for the filter (none, queue,
  // origin, reason: each has an index that is (column,) state, …), so the count streams it. A
  // time range or an id prefix has no such index: there one row of seven sums over the range's
  // index (covering for time) costs nothing to sort, where GROUP BY state would make the planner
  // walk the whole state index and read every row.
  if (filter.since_ms || filter.until_ms || !filter.id_prefix.empty()) {
    std::string sums;
    for (int s = 0; s < 7; ++s) {
      sums += std::string(s ? ", " : "") + "SUM(CASE WHEN state = '" + state_name(static_cast<JobState>(s)) +
              "' THEN 1 ELSE 0 END)";
    }
    q.sql = "SELECT 'sums', " + sums + " FROM jobs" + c.where();
  } else {
    q.sql = "SELECT state, COUNT(*) FROM jobs" + c.where() + " GROUP BY state";
  }
  q.params = c.take_params();
  return q;
}

SqlQuery ended_since_sql(std::int64_t since_ms, SqlDialect dialect) {
  Conditions c(dialect);
  c.add("finished_ms >= " + c.int64(std::max<std::int64_t>(since_ms, 1)));
  SqlQuery q;
  // "+queue, +state" in SQLite: grouping in the order of the (queue, state, seq) index would walk
  // all of it and read every row for finished_ms; the (finished_ms, queue, state) index covers
  // the range, and a small temporary B-tree groups it.
  q.sql = "SELECT queue, state, COUNT(*) FROM jobs" + c.where() +
          (dialect == SqlDialect::Sqlite ? " GROUP BY +queue, +state" : " GROUP BY queue, state");
  q.params = c.take_params();
  return q;
}

void read_state_counts(const std::vector<std::vector<std::string>>& rows, StateCounts& counts) {
  for (const auto& row : rows) {
    if (row.empty()) continue;
    if (row[0] == "sums") {
      for (int i = 0; i < 7 && i + 1 < static_cast<int>(row.size()); ++i)
        counts.by_state[i] =
            row[static_cast<std::size_t>(i) + 1].empty() ? 0 : std::stoll(row[static_cast<std::size_t>(i) + 1]);
    } else if (row.size() >= 2) {
      if (auto state = parse_state(row[0])) counts[*state] = std::stoll(row[1]);
    }
  }
}

}  // namespace kjq::server
