#pragma once
// The SQL of JobStore::list and JobStore::count_states for a JobFilter, written once for both
// dialects. A filter has too many shapes (queue, states, origin, reason, id prefix, time range,
// order, cursor) for a prepared statement per shape; each store runs the text built here, with
// every value bound as a parameter, never spliced into the SQL.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "server/store/job_record.hpp"

namespace kjq::server {

enum class SqlDialect { Sqlite, Postgres };

using SqlParam = std::variant<std::int64_t, std::string>;

struct SqlQuery {
  std::string sql;
  std::vector<SqlParam> params;  // ?1, ?2, … (SQLite) or $1, $2, … (PostgreSQL), in order
};

// SELECT <kJobColumns> FROM jobs WHERE <filter and cursor> ORDER BY seq [DESC] LIMIT `fetch`.
SqlQuery list_jobs_sql(const JobFilter& filter, SqlDialect dialect, int fetch);

// The count of each state of the jobs matching the filter without its states and cursor: rows of
// (state, count), or one row ('sums', count of each state in JobState order, NULL for none).
// read_state_counts decodes either, from the rows as text (NULL as "").
SqlQuery count_states_sql(const JobFilter& filter, SqlDialect dialect);
void read_state_counts(const std::vector<std::vector<std::string>>& rows, StateCounts& counts);

// (queue, state, count) of the jobs that ended at or after since_ms, by queue.
SqlQuery ended_since_sql(std::int64_t since_ms, SqlDialect dialect);

// The states a filter admits: `state` and `states` combined (AND); empty when any state will do.
// `none` is set when they admit no state at all (e.g. state=Failed with states=Running).
std::vector<JobState> admitted_states(const JobFilter& filter, bool& none);

}  // namespace kjq::server
