#pragma once
// Nautobot's schedules as kjq serve fires them, in Nautobot's own PostgreSQL database
// (extras_scheduledjob with its Job, JobQueue and User; JobResult and JobLogEntry written as
// NautobotDatabaseScheduler.apply_async writes them for a Kubernetes queue).
//
// claim() is the one place a run is decided: in one transaction it locks the schedules' rows
// (FOR UPDATE SKIP LOCKED: a row another replica is firing is left to it), re-reads them, plans
// the runs from the row as it is now (an edit made while due counts), inserts each run's JobResult
// under its name-based id (run_id.hpp; ON CONFLICT DO NOTHING) with Nautobot's "Creating job pod"
// log entry, and advances last_run_at and total_run_count (a one-off is completed). Replicas and
// restarts therefore never fire a run twice: the second claimer finds last_run_at moved on, or
// the JobResult's primary key taken. The caller creates the Kubernetes Jobs after the commit, as
// Nautobot does in transaction.on_commit.
//
// A due schedule whose user is gone gets a FAILURE JobResult and is disabled and set `errored`
// (Nautobot since nb#8934); one whose Job is gone is disabled and `errored` (Beat's _disable).
// Schedules that are not `active` and enabled, whose Job is disabled, or whose queue is not a
// Kubernetes queue never fire. Nothing else of Nautobot's rows is changed (not date_changed: it
// records edits by people).
//
// Errors: nautobot::RetryableError (try again on the next tick), nautobot::SchemaError.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nautobot/nautobot_database.hpp"
#include "schedule/catch_up.hpp"
#include "schedule/timetable.hpp"

namespace kjq::nautobot {
class PgConnection;
}

namespace kjq::schedule {

// One extras_scheduledjob row with what kjq needs of its Job, JobQueue and User.
struct ScheduleRow {
  std::string id, name, interval, crontab, time_zone, state;
  Instant start_time{};
  std::optional<Instant> last_run_at;
  bool enabled = false, one_off = false;
  std::int64_t total_run_count = 0;
  std::string kwargs_json = "{}", celery_kwargs_json = "{}";
  std::string user_id, job_model_id, job_queue_id;  // "" when NULL
  bool user_exists = false;
  bool job_exists = false, job_enabled = false, job_has_sensitive_variables = true;
  std::string job_name, job_class_path;  // <module_name>.<job_class_name>
  std::string queue_name, queue_type;
};

// Why the schedule is not fired ("" when it is: active, enabled, its Job enabled, its queue a
// Kubernetes queue). A missing Job or user is not a reason here: claim() records those.
std::string why_not_fired(const ScheduleRow& row);
// The rule of the row (throws kjq::InputError for an unknown interval, time zone or bad crontab).
Rule rule_of(const ScheduleRow& row);

// A run that claim() recorded: its Kubernetes Job is to be created now.
struct FiredRun {
  std::string job_result_id;
  std::string schedule_id, schedule_name;
  Instant due{};
  std::string queue;
  std::string data_json = "{}";  // the schedule's kwargs: the job's --data
};

struct ClaimOutcome {
  enum class Kind {
    Fired,        // runs recorded (`runs`), maybe with some skipped
    NotDue,       // nothing to fire now (maybe runs skipped by the catch-up policy)
    NotFired,     // the schedule is not to be fired (why_not_fired) or is gone
    Locked,       // another replica holds the row: it fires it
    MissingUser,  // a FAILURE JobResult recorded; the schedule disabled and errored
    MissingJob,   // the schedule disabled and errored
    Invalid,      // its rule cannot be read (message); nothing changed
  };
  std::string schedule_id;
  Kind kind = Kind::NotDue;
  std::optional<ScheduleRow> row;  // as read under the lock, with the changes made
  std::vector<FiredRun> runs;
  std::int64_t skipped = 0;
  std::optional<Instant> next;  // the next run after this claim
  std::string message;
};
std::string to_string(ClaimOutcome::Kind kind);

// A JobResult of a scheduled run on a Kubernetes queue still PENDING: its Job may not exist yet
// (kjq stopped between the claim and the create).
struct PendingRun {
  std::string job_result_id, schedule_id, queue, data_json;
  Instant created{};
};

struct ClaimContext {
  std::string namespace_name = "default";  // for the "Creating job pod … in namespace …" entry
  std::string name_prefix = "nautobot-job";
  CatchUpOptions catch_up;
};

class ScheduleDatabase {
 public:
  // `connections`: how many claims may run at once (claim()'s `slot`, 0 … connections-1); the
  // other calls use slot 0.
  explicit ScheduleDatabase(nautobot::NautobotDatabase database, int connections = 1);
  ~ScheduleDatabase();
  ScheduleDatabase(const ScheduleDatabase&) = delete;
  ScheduleDatabase& operator=(const ScheduleDatabase&) = delete;

  // Reads the columns of every table kjq reads or writes from information_schema. Throws
  // SchemaError naming what is missing, or naming each NOT NULL column of extras_jobresult
  // without a default that kjq does not know (a newer Nautobot: kjq would write broken rows).
  // claim() calls it first when it has not succeeded yet. `writes` false (kjq schedules, which
  // only reads): the JobResult columns are not looked at.
  void check_schema(bool writes = true);

  // Changes whenever a schedule, a Job or a JobQueue is added, edited or deleted (Nautobot's
  // extras_scheduledjobs.last_update, and the tables' own times and counts, so a database whose
  // extras_scheduledjobs has no row yet is no blind spot: nb#4411).
  std::string change_marker();

  // Every schedule whose job queue is a Kubernetes queue, by name.
  std::vector<ScheduleRow> load();

  // Claims what is due at `now` of the schedules `ids`, in one transaction, on connection `slot`
  // (claims on different slots run at the same time; the row locks keep them apart).
  // `before_commit`, when given, is called with the work done and the rows locked, just before the
  // commit: a claim prepared ahead of `now` waits there for it (nothing is visible before the
  // commit). When it returns false the transaction is rolled back and nothing is claimed.
  std::vector<ClaimOutcome> claim(const std::vector<std::string>& ids, Instant now, const ClaimContext& context,
                                  int slot = 0, const std::function<bool()>& before_commit = {});
  int connections() const { return static_cast<int>(slots_.size()); }

  // PENDING JobResults of scheduled runs on Kubernetes queues created in [since, before).
  std::vector<PendingRun> pending_runs(Instant since, Instant before, int limit = 1000);

  // Statements run so far (for the figures of bench/).
  std::uint64_t statements() const { return statements_; }

 private:
  struct Slot {
    std::mutex mutex;  // one call at a time on the slot's connection
    std::unique_ptr<nautobot::PgConnection> connection;
  };
  // Runs `work` on the slot's connection (the caller holds its mutex); rolls back an open
  // transaction when it throws, and drops the connection when it broke.
  template <typename Work>
  auto with_connection(Slot& slot, Work&& work);
  // claim()'s work for the schedules `wanted` (canonical ids) in the open transaction on `c`:
  // lock, plan, record; their outcomes are appended.
  void claim_locked(nautobot::PgConnection& c, const std::vector<std::string>& wanted, Instant now,
                    const ClaimContext& context, std::vector<ClaimOutcome>& outcomes);

  nautobot::NautobotDatabase database_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex schema_mutex_;
  std::atomic<bool> schema_checked_{false};
  std::vector<std::string> jobresult_columns_;  // the known columns the table has, in order
  std::atomic<std::uint64_t> statements_{0};
};

}  // namespace kjq::schedule
