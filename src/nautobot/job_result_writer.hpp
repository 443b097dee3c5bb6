#pragma once
// Records, in Nautobot's own PostgreSQL database, the end of a Kubernetes Job whose pod died
// before Nautobot could (OOM kill, deadline, image pull error, deleted Job): the JobResult becomes
// FAILURE with a traceback, and JobLogEntry rows (grouping "kubernetes") carry the evidence.
// Nautobot is unchanged; kjq writes what Nautobot itself would write when a job fails.
//
// Guarantees of write_failure: one transaction; a JobResult whose status is no longer PENDING,
// RECEIVED, STARTED or RETRY is never changed (SUCCESS, FAILURE and REVOKED are final); the log
// rows are written only by the call whose update changed the row, so two writers at once, or one
// retried, write one set of rows.
//
// Errors: RetryableError (connection, authentication, serialisation, timeouts: keep the pending
// write and retry with backoff), SchemaError (the tables are not Nautobot's as kjq knows them:
// retrying will not help), any other NautobotDbError (a request the database refuses: give up).
// No message carries the password.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "nautobot/database_errors.hpp"
#include "nautobot/job_end.hpp"
#include "nautobot/nautobot_database.hpp"
#include "util/diagnostic.hpp"

namespace kjq::nautobot {

struct WriteOutcome {
  enum class Kind {
    Written,       // the JobResult is now FAILURE, with the log rows and counts
    AlreadyFinal,  // its status was not PENDING, RECEIVED, STARTED or RETRY: nothing changed
    NotFound,      // no JobResult has this id: nothing changed
  };
  Kind kind = Kind::NotFound;
  std::string status;           // the status found (AlreadyFinal) or "FAILURE" (Written)
  bool written_by_kjq = false;  // AlreadyFinal FAILURE whose traceback kjq wrote (an earlier call)
  std::size_t log_entries = 0;  // rows inserted (Written)
};

std::string to_string(WriteOutcome::Kind kind);

class JobResultWriter {
 public:
  // Does not connect; the first call does (and every call after a broken connection).
  explicit JobResultWriter(NautobotDatabase database);
  ~JobResultWriter();
  JobResultWriter(const JobResultWriter&) = delete;
  JobResultWriter& operator=(const JobResultWriter&) = delete;

  // Marks the JobResult `end.job_result_id` FAILURE (date_done = ended_at, traceback), adds the
  // evidence rows and recomputes its five *_log_count columns from all its rows, as Nautobot does
  // when a job ends. Throws NautobotDbError (RetryableError, SchemaError); a job_result_id that is
  // not a uuid is a NautobotDbError (not retryable).
  WriteOutcome write_failure(const JobEnd& end);

  // The JobResult's status, or nullopt when there is no such JobResult.
  std::optional<std::string> read_status(const std::string& job_result_id);

  // Checks that every table and column kjq reads or writes exists (for start-up): throws
  // SchemaError naming what is missing, RetryableError when the database cannot be reached.
  void check_schema();

  const NautobotDatabase& database() const { return database_; }

 private:
  class Connection;
  Connection& connection();
  template <typename Work>
  auto with_connection(Work&& work);

  NautobotDatabase database_;
  std::mutex mutex_;  // one call at a time on the one connection
  std::unique_ptr<Connection> connection_;
};

}  // namespace kjq::nautobot
