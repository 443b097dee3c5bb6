#pragma once
// One libpq connection to Nautobot's database, as every kjq part that reads or writes it uses
// one: the password from its file (read again on each connect), a bounded connect and statement
// time, UTF-8, UTC, and errors thrown by class (database_errors.hpp) with the password scrubbed
// from every message. Not thread-safe: its owner serialises the calls.
#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nautobot/database_errors.hpp"
#include "nautobot/nautobot_database.hpp"

namespace kjq::nautobot {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

class PgConnection {
 public:
  // Connects now; throws RetryableError when it cannot. `schema_hint` ends a SchemaError's
  // message (what the caller expected of the tables).
  PgConnection(const NautobotDatabase& db, std::string schema_hint);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  bool broken() const;
  // Runs one statement (text parameters; nullopt is NULL). Throws the error's class.
  PgResult exec(const std::string& what, const std::string& sql, const std::vector<std::optional<std::string>>& params);
  // Runs statements separated by ";" with no parameters (libpq's simple protocol); the last
  // one's result. For fixed SQL only: nothing from outside may be part of it.
  PgResult exec_script(const std::string& what, const std::string& sql);
  // ROLLBACK after a failed statement, when the connection still works; never throws.
  void rollback() noexcept;
  // "Nautobot database HOST:PORT/DB as USER: <what>: "
  std::string prefix(const std::string& what) const;

 private:
  [[noreturn]] void fail(const std::string& what, PGresult* result);
  // libpq does not quote passwords in its messages; this makes sure of it.
  std::string scrub(std::string text) const;

  std::string name_;
  std::string schema_hint_;
  std::vector<std::string> secrets_;
  PGconn* conn_ = nullptr;
};

// A text column of row `row` ("" when NULL) and whether it is NULL.
inline std::string pg_text(const PgResult& r, int row, int column) {
  return PQgetisnull(r.get(), row, column) ? std::string() : std::string(PQgetvalue(r.get(), row, column));
}
inline bool pg_null(const PgResult& r, int row, int column) { return PQgetisnull(r.get(), row, column) != 0; }

}  // namespace kjq::nautobot
