#pragma once
// The errors of kjq's work in Nautobot's PostgreSQL database, by what the caller should do.
#include <string>

#include "util/diagnostic.hpp"

namespace kjq::nautobot {

class NautobotDbError : public RuntimeError {
 public:
  NautobotDbError(const std::string& message, std::string sqlstate)
      : RuntimeError(message), sqlstate_(std::move(sqlstate)) {}
  // PostgreSQL's SQLSTATE ("40001", "42703", …); "" when there is none (no connection).
  const std::string& sqlstate() const { return sqlstate_; }
  virtual bool retryable() const { return false; }

 private:
  std::string sqlstate_;
};

// Worth retrying later: the database is unreachable, refused the login, restarted, timed out, or
// rolled the transaction back (serialisation failure, deadlock). Nothing was committed, or, when
// the connection broke during COMMIT, a retry finds the JobResult final (AlreadyFinal with
// written_by_kjq) and writes nothing twice.
class RetryableError : public NautobotDbError {
 public:
  using NautobotDbError::NautobotDbError;
  bool retryable() const override { return true; }
};

// A table or column kjq writes is missing: not Nautobot's schema, or a Nautobot older than 3.0
// (the *_log_count columns).
class SchemaError : public NautobotDbError {
 public:
  using NautobotDbError::NautobotDbError;
};

// Which error class a SQLSTATE belongs to ("" = no server answer: a connection problem).
enum class ErrorClass { Retryable, Schema, Other };
ErrorClass classify_sqlstate(const std::string& sqlstate);

}  // namespace kjq::nautobot
