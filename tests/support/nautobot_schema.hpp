#pragma once
// Nautobot's extras_jobresult and extras_joblogentry tables (nautobot_schema.sql) in a throwaway
// PostgreSQL database, and rows inserted the way Django inserts them: every NOT NULL column given,
// as the tables have no database defaults.
#include <string>

#include "support/postgres_server.hpp"

namespace kjq::test {

// The text of tests/support/nautobot_schema.sql.
std::string nautobot_schema_sql();

// postgresql://…/t_abc → t_abc
std::string database_name(const std::string& url);

// A new database on `server` holding the two tables; returns its URL.
std::string create_nautobot_database(PostgresServer& server);

// A random uuid (version 4, lowercase).
std::string random_uuid();

// Inserts a JobResult as Nautobot's JobResult.enqueue_job would leave it for a Kubernetes queue
// (name, task_name, celery_kwargs with the queue, empty task args, date_created now), with
// `status`; date_done is set for the final statuses. Returns its id (`id` when given).
std::string insert_job_result(const PostgresServer& server, const std::string& database, const std::string& status,
                              const std::string& id = {});

// Inserts one JobLogEntry (grouping "main", as Job.logger writes them) for `job_result_id`.
void insert_job_log_entry(const PostgresServer& server, const std::string& database, const std::string& job_result_id,
                          const std::string& level, const std::string& message);

// 'text' with quotes doubled: a SQL string literal.
std::string sql_literal(const std::string& text);

}  // namespace kjq::test
