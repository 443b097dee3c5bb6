#include "nautobot/pg_connection.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace kjq::nautobot {

namespace {

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

PgConnection::PgConnection(const NautobotDatabase& db, std::string schema_hint)
    : name_(db.display_name()), schema_hint_(std::move(schema_hint)) {
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
    exec("cannot set the time zone", "SET TIME ZONE 'UTC'", {});
  } catch (...) {
    PQfinish(conn_);  // a constructor that throws runs no destructor
    conn_ = nullptr;
    throw;
  }
}

PgConnection::~PgConnection() {
  if (conn_) PQfinish(conn_);
}

bool PgConnection::broken() const { return !conn_ || PQstatus(conn_) != CONNECTION_OK; }

PgResult PgConnection::exec(const std::string& what, const std::string& sql,
                            const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  PgResult result(
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  fail(what, result.get());
}

PgResult PgConnection::exec_script(const std::string& what, const std::string& sql) {
  PgResult result(PQexec(conn_, sql.c_str()));
  const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  fail(what, result.get());
}

void PgConnection::rollback() noexcept {
  if (broken()) return;
  PgResult result(PQexec(conn_, "ROLLBACK"));
}

std::string PgConnection::prefix(const std::string& what) const {
  return "Nautobot database " + name_ + ": " + what + ": ";
}

void PgConnection::fail(const std::string& what, PGresult* result) {
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
      throw SchemaError(message + " (" + schema_hint_ + ")", sqlstate);
    case ErrorClass::Other:
      break;
  }
  throw NautobotDbError(message, sqlstate);
}

std::string PgConnection::scrub(std::string text) const {
  for (const auto& secret : secrets_) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

}  // namespace kjq::nautobot
