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

namespace kjq::test {

// Rows of the tables kjq reads to fire schedules, as Django inserts them (every NOT NULL column).
// Each returns the new row's id.
std::string insert_user(const PostgresServer& server, const std::string& database, const std::string& username);
std::string insert_job_queue(const PostgresServer& server, const std::string& database, const std::string& name,
                             const std::string& queue_type = "kubernetes");
std::string insert_job(const PostgresServer& server, const std::string& database, const std::string& name,
                       const std::string& default_queue_id, bool enabled = true, bool sensitive = false);

struct ScheduledJobSpec {
  std::string name;
  std::string job_id, queue_id, user_id;  // "" → NULL
  std::string interval = "custom";
  std::string crontab;
  std::string start_time = "2026-06-01T00:00:00Z";
  std::string time_zone = "UTC";
  std::string last_run_at;  // "" → NULL
  bool one_off = false, enabled = true;
  std::string state = "active";
  std::string kwargs = "{\"devices\": 3}";
};
// Inserts the schedule as ScheduledJob.create_schedule leaves it (celery_kwargs with the queue),
// and moves extras_scheduledjobs.last_update as Nautobot's signal does.
std::string insert_scheduled_job(const PostgresServer& server, const std::string& database,
                                 const ScheduledJobSpec& spec);

// The SQL of the inserts above, for a test that runs it on its own connection.
std::string user_sql(const std::string& id, const std::string& username);
std::string job_queue_sql(const std::string& id, const std::string& name, const std::string& queue_type);
std::string job_sql(const std::string& id, const std::string& name, const std::string& default_queue_id, bool enabled,
                    bool sensitive);
std::string scheduled_job_sql(const std::string& id, const ScheduledJobSpec& spec);

}  // namespace kjq::test
