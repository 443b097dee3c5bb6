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

// SELECT state, COUNT(*) FROM jobs WHERE <filter without states and cursor> GROUP BY state.
SqlQuery count_states_sql(const JobFilter& filter, SqlDialect dialect);

// The states a filter admits: `state` and `states` combined (AND); empty when any state will do.
// `none` is set when they admit no state at all (e.g. state=Failed with states=Running).
std::vector<JobState> admitted_states(const JobFilter& filter, bool& none);

}  // namespace kjq::server
