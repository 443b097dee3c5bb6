#include "nautobot/job_result_writer.hpp"

#include "nautobot/pg_connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <utility>
#include <vector>

namespace kjq::nautobot {

namespace {

// The statuses a Kubernetes job's JobResult can be left in; any other is not kjq's to change.
constexpr const char* kOpenStatuses = "('PENDING', 'RECEIVED', 'STARTED', 'RETRY')";
constexpr std::size_t kRowsPerInsert = 250;

const std::vector<std::pair<std::string, std::vector<std::string>>>& required_columns() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> all{
      {"extras_jobresult",
       {"id", "status", "date_done", "traceback", "debug_log_count", "info_log_count", "success_log_count",
        "warning_log_count", "error_log_count"}},
      {"extras_joblogentry",
       {"id", "job_result_id", "log_level", "grouping", "message", "created", "log_object", "absolute_url"}},
  };
  return all;
}

}  // namespace

std::string to_string(WriteOutcome::Kind kind) {
  switch (kind) {
    case WriteOutcome::Kind::Written:
      return "Written";
    case WriteOutcome::Kind::AlreadyFinal:
      return "AlreadyFinal";
    case WriteOutcome::Kind::NotFound:
      return "NotFound";
  }
  return "?";
}

// The writer's connection: PgConnection with the writer's schema hint.
class JobResultWriter::Connection : public PgConnection {
 public:
  explicit Connection(const NautobotDatabase& db)
      : PgConnection(db,
                     "kjq writes extras_jobresult and extras_joblogentry as Nautobot 3.0 and later define them; is "
                     "this Nautobot's database, migrated?") {}
};

JobResultWriter::JobResultWriter(NautobotDatabase database) : database_(std::move(database)) {}

JobResultWriter::~JobResultWriter() = default;

JobResultWriter::Connection& JobResultWriter::connection() {
  if (connection_ && connection_->broken()) connection_.reset();
  if (!connection_) connection_ = std::make_unique<Connection>(database_);
  return *connection_;
}

// Runs `work` on the writer's connection (the caller holds mutex_); rolls back an open
// transaction when it throws, and drops the connection when it broke.
template <typename Work>
auto JobResultWriter::with_connection(Work&& work) {
  auto& conn = connection();
  try {
    return work(conn);
  } catch (...) {
    conn.rollback();
    if (conn.broken()) connection_.reset();
    throw;
  }
}

WriteOutcome JobResultWriter::write_failure(const JobEnd& end) {
  const auto id = canonical_uuid(end.job_result_id);
  if (!id) {
    throw NautobotDbError("Nautobot database " + database_.display_name() +
                              ": the JobResult id is not a uuid: " + clean_text(end.job_result_id, 80),
                          "");
  }
  const auto entries = evidence_entries(end);
  const auto traceback = failure_traceback(end);
  const auto date_done = format_utc(end.ended_at);

  std::lock_guard lock(mutex_);
  return with_connection([&](Connection& c) {
    c.exec("cannot begin a transaction", "BEGIN ISOLATION LEVEL READ COMMITTED", {});
    // A concurrent writer's update holds the row until it commits; this one then re-reads the
    // row, finds FAILURE and matches nothing.
    auto updated = c.exec("cannot update the JobResult",
                          "UPDATE extras_jobresult SET status = 'FAILURE', date_done = $2::timestamptz,"
                          " traceback = $3::text WHERE id = $1::uuid AND status IN " +
                              std::string(kOpenStatuses),
                          {*id, date_done, traceback});
    WriteOutcome outcome;
    if (std::string(PQcmdTuples(updated.get())) != "1") {
      auto found = c.exec("cannot read the JobResult",
                          "SELECT status, traceback FROM extras_jobresult WHERE id = $1::uuid", {*id});
      c.exec("cannot end the transaction", "COMMIT", {});
      if (PQntuples(found.get()) == 0) {
        outcome.kind = WriteOutcome::Kind::NotFound;
        return outcome;
      }
      outcome.kind = WriteOutcome::Kind::AlreadyFinal;
      outcome.status = PQgetvalue(found.get(), 0, 0);
      const std::string found_traceback = PQgetisnull(found.get(), 0, 1) ? "" : PQgetvalue(found.get(), 0, 1);
      outcome.written_by_kjq = outcome.status == "FAILURE" && found_traceback.rfind(kTracebackMarker, 0) == 0;
      return outcome;
    }

    for (std::size_t first = 0; first < entries.size(); first += kRowsPerInsert) {
      const auto last = std::min(entries.size(), first + kRowsPerInsert);
      std::string sql =
          "INSERT INTO extras_joblogentry (id, job_result_id, log_level, grouping, message, created, log_object,"
          " absolute_url) VALUES ";
      std::vector<std::optional<std::string>> params{*id};
      for (auto i = first; i < last; ++i) {
        const auto n = params.size();
        if (i > first) sql += ", ";
        sql += "($" + std::to_string(n + 1) + "::uuid, $1::uuid, $" + std::to_string(n + 2) +
               "::text, 'kubernetes', $" + std::to_string(n + 3) + "::text, $" + std::to_string(n + 4) +
               "::timestamptz, '', '')";
        params.emplace_back(new_uuid4());
        params.emplace_back(entries[i].level);
        params.emplace_back(entries[i].message);
        params.emplace_back(format_utc(entries[i].created));
      }
      c.exec("cannot add the log entries", sql, params);
    }
    // As JobResult.count_logs_by_level(): failure, error and critical all count as errors.
    c.exec("cannot count the log entries",
           "UPDATE extras_jobresult AS jr SET debug_log_count = c.debug, success_log_count = c.success,"
           " info_log_count = c.info, warning_log_count = c.warning, error_log_count = c.error"
           " FROM (SELECT COUNT(*) FILTER (WHERE log_level = 'debug') AS debug,"
           " COUNT(*) FILTER (WHERE log_level = 'success') AS success,"
           " COUNT(*) FILTER (WHERE log_level = 'info') AS info,"
           " COUNT(*) FILTER (WHERE log_level = 'warning') AS warning,"
           " COUNT(*) FILTER (WHERE log_level IN ('failure', 'error', 'critical')) AS error"
           " FROM extras_joblogentry WHERE job_result_id = $1::uuid) AS c WHERE jr.id = $1::uuid",
           {*id});
    c.exec("cannot commit", "COMMIT", {});
    outcome.kind = WriteOutcome::Kind::Written;
    outcome.status = "FAILURE";
    outcome.log_entries = entries.size();
    return outcome;
  });
}

std::optional<std::string> JobResultWriter::read_status(const std::string& job_result_id) {
  const auto id = canonical_uuid(job_result_id);
  if (!id) return std::nullopt;  // no JobResult has an id that is not a uuid
  std::lock_guard lock(mutex_);
  return with_connection([&](Connection& c) -> std::optional<std::string> {
    auto found = c.exec("cannot read the JobResult", "SELECT status FROM extras_jobresult WHERE id = $1::uuid", {*id});
    if (PQntuples(found.get()) == 0) return std::nullopt;
    return std::string(PQgetvalue(found.get(), 0, 0));
  });
}

void JobResultWriter::check_schema() {
  std::lock_guard lock(mutex_);
  with_connection([&](Connection& c) {
    std::vector<std::string> missing;
    for (const auto& [table, columns] : required_columns()) {
      auto rows = c.exec("cannot read the schema",
                         "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1::text)"
                         " AND attnum > 0 AND NOT attisdropped",
                         {table});
      if (PQntuples(rows.get()) == 0) {
        missing.push_back("table " + table);
        continue;
      }
      std::vector<std::string> present;
      present.reserve(static_cast<std::size_t>(PQntuples(rows.get())));
      for (int i = 0; i < PQntuples(rows.get()); ++i) present.emplace_back(PQgetvalue(rows.get(), i, 0));
      for (const auto& column : columns) {
        if (std::find(present.begin(), present.end(), column) == present.end()) missing.push_back(table + "." + column);
      }
    }
    if (missing.empty()) return;
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    throw SchemaError(c.prefix("not Nautobot's schema as kjq knows it") + "missing " + list +
                          " (kjq needs the tables of Nautobot 3.0 or later, migrated)",
                      "");
  });
}

}  // namespace kjq::nautobot
