#include "support/nautobot_schema.hpp"

#include <random>

#include "support/test_support.hpp"

namespace kjq::test {

std::string nautobot_schema_sql() { return read_text(KJQ_NAUTOBOT_SCHEMA_SQL); }

std::string database_name(const std::string& url) { return url.substr(url.rfind('/') + 1); }

std::string create_nautobot_database(PostgresServer& server) {
  const auto url = server.create_database();
  server.psql(nautobot_schema_sql(), database_name(url));
  return url;
}

std::string random_uuid() {
  static std::mt19937_64 generator{std::random_device{}()};
  static const char* const digits = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    int digit = static_cast<int>(generator() & 0xf);
    if (i == 12) digit = 4;                // version 4
    if (i == 16) digit = 8 | (digit & 3);  // RFC 4122 variant
    out += digits[digit];
  }
  return out;
}

std::string sql_literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

std::string insert_job_result(const PostgresServer& server, const std::string& database, const std::string& status,
                              const std::string& id) {
  const auto pk = id.empty() ? random_uuid() : id;
  const bool final_status = status == "SUCCESS" || status == "FAILURE" || status == "REVOKED";
  server.psql(
      "INSERT INTO extras_jobresult (id, name, date_created, date_done, status, result, user_id, _custom_field_data,"
      " scheduled_job_id, job_model_id, task_args, meta, task_kwargs, task_name, traceback, worker, celery_kwargs,"
      " date_started, debug_log_count, error_log_count, info_log_count, success_log_count, warning_log_count)"
      " VALUES (" +
          sql_literal(pk) + ", 'Example Job', now() - interval '5 minutes', " + (final_status ? "now()" : "NULL") +
          ", " + sql_literal(status) +
          ", NULL, NULL, '{}', NULL, NULL, '[]', NULL, '{}', 'example_jobs.ExampleJob', NULL, NULL,"
          " '{\"queue\": \"kubernetes\", \"nautobot_job_console_log\": false}', " +
          (status == "PENDING" ? "NULL" : "now() - interval '4 minutes'") + ", NULL, NULL, NULL, NULL, NULL)",
      database);
  return pk;
}

void insert_job_log_entry(const PostgresServer& server, const std::string& database, const std::string& job_result_id,
                          const std::string& level, const std::string& message) {
  server.psql(
      "INSERT INTO extras_joblogentry (id, log_level, grouping, message, created, log_object, absolute_url,"
      " job_result_id) VALUES (" +
          sql_literal(random_uuid()) + ", " + sql_literal(level) + ", 'main', " + sql_literal(message) +
          ", now() - interval '3 minutes', '', '', " + sql_literal(job_result_id) + ")",
      database);
}

}  // namespace kjq::test

namespace kjq::test {

namespace {
std::string nullable(const std::string& text, const std::string& cast) {
  return text.empty() ? "NULL" : sql_literal(text) + "::" + cast;
}
}  // namespace

std::string user_sql(const std::string& id, const std::string& username) {
  return "INSERT INTO users_user (id, password, last_login, is_superuser, username, first_name, last_name, email,"
         " is_staff, is_active, date_joined, config_data) VALUES (" +
         sql_literal(id) + ", '!', NULL, false, " + sql_literal(username) + ", '', '', '', false, true, now(), '{}')";
}

std::string insert_user(const PostgresServer& server, const std::string& database, const std::string& username) {
  const auto id = random_uuid();
  server.psql(user_sql(id, username), database);
  return id;
}

std::string job_queue_sql(const std::string& id, const std::string& name, const std::string& queue_type) {
  return "INSERT INTO extras_jobqueue (id, created, last_updated, _custom_field_data, name, description, queue_type,"
         " secrets_group_id, tenant_id) VALUES (" +
         sql_literal(id) + ", now(), now(), '{}', " + sql_literal(name) + ", '', " + sql_literal(queue_type) +
         ", NULL, NULL)";
}

std::string insert_job_queue(const PostgresServer& server, const std::string& database, const std::string& name,
                             const std::string& queue_type) {
  const auto id = random_uuid();
  server.psql(job_queue_sql(id, name, queue_type), database);
  return id;
}

std::string job_sql(const std::string& id, const std::string& name, const std::string& default_queue_id, bool enabled,
                    bool sensitive) {
  return "INSERT INTO extras_job (id, created, last_updated, _custom_field_data, module_name, job_class_name, grouping,"
         " name, description, installed, enabled, is_job_hook_receiver, is_job_button_receiver,"
         " has_sensitive_variables, is_singleton, console_log_default, hidden, dryrun_default, read_only,"
         " soft_time_limit, time_limit, supports_dryrun, default_job_queue_id, grouping_override, name_override,"
         " console_log_default_override, description_override, dryrun_default_override, hidden_override,"
         " soft_time_limit_override, time_limit_override, has_sensitive_variables_override, job_queues_override,"
         " default_job_queue_override, is_singleton_override) VALUES (" +
         sql_literal(id) + ", now(), now(), '{}', 'example_jobs', " + sql_literal(name + "Job") + ", 'Examples', " +
         sql_literal(name) + ", '', true, " + (enabled ? "true" : "false") + ", false, false, " +
         (sensitive ? "true" : "false") + ", false, false, false, false, false, 0, 0, false, " +
         sql_literal(default_queue_id) +
         ", false, false, false, false, false, false, false, false, false, false, false, false)";
}

std::string insert_job(const PostgresServer& server, const std::string& database, const std::string& name,
                       const std::string& default_queue_id, bool enabled, bool sensitive) {
  const auto id = random_uuid();
  server.psql(job_sql(id, name, default_queue_id, enabled, sensitive), database);
  return id;
}

std::string scheduled_job_sql(const std::string& id, const ScheduledJobSpec& spec) {
  const std::string task = "example_jobs.ExampleJob";  // Nautobot's copy of the class path; kjq reads the Job's
  const std::string queue =
      spec.queue_id.empty() ? "" : "(SELECT name FROM extras_jobqueue WHERE id = " + sql_literal(spec.queue_id) + ")";
  return "INSERT INTO extras_scheduledjob (id, name, task, interval, args, kwargs, one_off, start_time, enabled,"
         " last_run_at, total_run_count, date_changed, description, user_id, job_model_id, crontab, celery_kwargs,"
         " time_zone, job_queue_id, state, decision_date, clocked_id, solar_id, exchange, routing_key, headers,"
         " priority, expires, expire_seconds) VALUES (" +
         sql_literal(id) + ", " + sql_literal(spec.name) + ", " + sql_literal(task) + ", " +
         sql_literal(spec.interval) + ", '[]', " + sql_literal(spec.kwargs) + ", " + (spec.one_off ? "true" : "false") +
         ", " + sql_literal(spec.start_time) + ", " + (spec.enabled ? "true" : "false") + ", " +
         nullable(spec.last_run_at, "timestamptz") + ", 0, now(), '', " + nullable(spec.user_id, "uuid") + ", " +
         nullable(spec.job_id, "uuid") + ", " + sql_literal(spec.crontab) + ", " +
         "jsonb_build_object('nautobot_job_profile', false, 'queue', " + (queue.empty() ? "''" : queue) +
         ", 'nautobot_job_ignore_singleton_lock', false, 'nautobot_job_console_log', false), " +
         sql_literal(spec.time_zone) + ", " + nullable(spec.queue_id, "uuid") + ", " + sql_literal(spec.state) +
         ", NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL);"
         " INSERT INTO extras_scheduledjobs (ident, last_update) VALUES (1, now()) ON CONFLICT (ident) DO UPDATE"
         " SET last_update = now()";
}

std::string insert_scheduled_job(const PostgresServer& server, const std::string& database,
                                 const ScheduledJobSpec& spec) {
  const auto id = random_uuid();
  server.psql(scheduled_job_sql(id, spec), database);
  return id;
}

}  // namespace kjq::test
