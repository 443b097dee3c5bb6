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
