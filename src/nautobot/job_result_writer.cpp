#include "nautobot/job_result_writer.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <utility>
#include <vector>

namespace kjq::nautobot {

namespace {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

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

// libpq's message on one line, without the "ERROR:  " decoration's trailing newline.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

void ignore_notice(void*, const char*) {}

}  // namespace

ErrorClass classify_sqlstate(const std::string& sqlstate) {
  if (sqlstate.empty()) return ErrorClass::Retryable;  // no answer from the server
  const auto klass = sqlstate.substr(0, 2);
  // 08 connection exception, 40 transaction rollback (40001 serialisation, 40P01 deadlock),
  // 53 insufficient resources, 57 operator intervention (shutdown, query_canceled by the
  // statement timeout), 55P03 lock not available, 25006 read-only transaction (a standby
  // during a failover), 28 invalid authorisation (a password rotated before its file).
  if (klass == "08" || klass == "40" || klass == "53" || klass == "57" || klass == "28" || sqlstate == "55P03" ||
      sqlstate == "25006") {
    return ErrorClass::Retryable;
  }
  // 42P01 undefined table, 42703 undefined column, 3F000 invalid schema, 42883 undefined function
  // (a type or operator missing: the column has another type), 42804 datatype mismatch.
  if (sqlstate == "42P01" || sqlstate == "42703" || sqlstate == "3F000" || sqlstate == "42883" || sqlstate == "42804") {
    return ErrorClass::Schema;
  }
  return ErrorClass::Other;
}

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

class JobResultWriter::Connection {
 public:
  explicit Connection(const NautobotDatabase& db) : name_(db.display_name()) {
    std::string password;
    if (!db.password_file.empty()) {
      try {
        password = read_password_file(db.password_file);
      } catch (const InputError& e) {
        // A Secret being replaced can be missing for a moment: worth another try later.
        throw RetryableError(prefix("cannot connect") + e.what(), "");
      }
    }
    if (const char* env = std::getenv("PGPASSWORD")) secrets_.emplace_back(env);
    if (!password.empty()) secrets_.push_back(password);

    const auto timeout = std::to_string(std::max<long long>(db.connect_timeout.count(), 1));
    // Processed in order with the URL expanded first, so what follows overrides it.
    std::vector<const char*> keys{"dbname", "connect_timeout", "client_encoding", "fallback_application_name"};
    std::vector<const char*> values{db.url.c_str(), timeout.c_str(), "UTF8", "kjq"};
    if (!password.empty()) {
      keys.push_back("password");
      values.push_back(password.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (!conn_) throw RetryableError(prefix("cannot connect") + "libpq is out of memory", "");
    if (PQstatus(conn_) != CONNECTION_OK) {
      auto message = scrub(one_line(PQerrorMessage(conn_)));
      PQfinish(conn_);
      conn_ = nullptr;
      throw RetryableError(prefix("cannot connect") + message, "");
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    const auto ms = std::to_string(std::max<long long>(db.statement_timeout.count(), 1) * 1000);
    try {
      exec("cannot set the statement timeout", "SET statement_timeout = " + ms, {});
    } catch (...) {
      PQfinish(conn_);  // a constructor that throws runs no destructor
      conn_ = nullptr;
      throw;
    }
  }

  ~Connection() {
    if (conn_) PQfinish(conn_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool broken() const { return !conn_ || PQstatus(conn_) != CONNECTION_OK; }

  // Runs one statement (text parameters; nullopt is NULL). Throws the error's class.
  Result exec(const std::string& what, const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    Result result(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
    fail(what, result.get());
  }

  // ROLLBACK after a failed statement, when the connection still works; never throws.
  void rollback() noexcept {
    if (broken()) return;
    Result result(PQexec(conn_, "ROLLBACK"));
  }

  std::string prefix(const std::string& what) const { return "Nautobot database " + name_ + ": " + what + ": "; }

 private:
  [[noreturn]] void fail(const std::string& what, PGresult* result) {
    const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    const std::string sqlstate = state ? state : "";
    std::string message = result ? PQresultErrorMessage(result) : "";
    if (message.empty()) message = PQerrorMessage(conn_);
    message = prefix(what) + scrub(one_line(message));
    const auto klass = broken() ? ErrorClass::Retryable : classify_sqlstate(sqlstate);
    switch (klass) {
      case ErrorClass::Retryable:
        throw RetryableError(message, sqlstate);
      case ErrorClass::Schema:
        throw SchemaError(message +
                              " (kjq writes extras_jobresult and extras_joblogentry as Nautobot 3.0 and later define "
                              "them; is this Nautobot's database, migrated?)",
                          sqlstate);
      case ErrorClass::Other:
        break;
    }
    throw NautobotDbError(message, sqlstate);
  }

  // libpq does not quote passwords in its messages; this makes sure of it.
  std::string scrub(std::string text) const {
    for (const auto& secret : secrets_) {
      if (secret.empty()) continue;
      for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
        text.replace(at, secret.size(), "***");
      }
    }
    return text;
  }

  std::string name_;
  std::vector<std::string> secrets_;
  PGconn* conn_ = nullptr;
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
