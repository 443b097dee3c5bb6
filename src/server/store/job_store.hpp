#pragma once
// The durable record of every job `kjq serve` accepted. Two implementations share one schema and
// one set of versioned migrations (store/migrations.hpp): SQLite (WAL, one file) and PostgreSQL.
// Every method is one transaction and is safe to call from several threads and from several
// processes on the same database (two serve replicas on PostgreSQL, or on one SQLite file).
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "server/store/job_record.hpp"

namespace kjq::server {

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Applies the migrations not yet applied (recorded in schema_migrations). Called by open_store.
  virtual void migrate() = 0;
  // The schema version now in place.
  virtual int schema_version() = 0;

  // Inserts each job as Queued, in order, in one transaction (group commit: durable when this
  // returns). An id that exists already is not inserted again: its stored record comes back with
  // inserted=false.
  virtual std::vector<SubmitResult> submit(const std::vector<NewJob>& jobs) = 0;

  // Records a Job someone else created (origin, kube_name, kube_uid, job_result_id as given;
  // seq after every existing record, created_ms from the Job). Idempotent across replicas: when
  // a record with this id exists nothing is inserted and the stored record comes back with
  // inserted=false. state must be Queued (submitted_ms 0) or Submitted (submitted_ms = now_ms):
  // anything else throws std::invalid_argument. data_json is "{}".
  virtual SubmitResult adopt(const AdoptedJob& job) = 0;

  virtual std::optional<JobRecord> get(const std::string& id) = 0;
  virtual std::optional<JobRecord> get_by_kube_name(const std::string& kube_name) = 0;
  // A page of jobs matching every filter, in the filter's order, after its cursor. Keyset paging
  // on seq: jobs that arrive while a client pages never shift the pages it has not read yet.
  virtual JobPage list(const JobFilter& filter) = 0;
  // How many jobs match each state under `filter`, ignoring its state, states, order, limit and
  // cursor (the counts a Jobs view shows beside its state filter).
  virtual StateCounts count_states(const JobFilter& filter) = 0;
  // Per queue (by name), the jobs that ended (finished_ms) at or after since_ms, by final state:
  // an overview's "succeeded and failed in the last hour". Read from an index alone.
  virtual std::vector<QueueCounts> ended_since(std::int64_t since_ms) = 0;
  virtual std::vector<QueueCounts> queue_counts() = 0;
  // Every record not in a final state, oldest first.
  virtual std::vector<JobRecord> unfinished() = 0;

  // Moves the oldest Queued jobs of `queue` to Submitted (reason "Dispatching", owner, kube_name
  // = name_prefix + "-" + id unless the record has one already (an adopted, suspended Job),
  // submitted_ms = now_ms), at most `max_batch`, and only as many as keep
  // the queue's active count (Submitted + Scheduled + Running) at or below `limit` (0: no limit);
  // none from a paused queue.
  // Serialised per queue across processes, so replicas together never exceed the limit.
  virtual std::vector<JobRecord> claim(const std::string& queue, int limit, int max_batch, const std::string& owner,
                                       const std::string& name_prefix, std::int64_t now_ms) = 0;
  // Queues that have Queued jobs and are not paused.
  virtual std::vector<std::string> queues_with_waiting_jobs() = 0;
  // Pauses (claim() takes nothing from the queue, in any process, once this returns) or resumes a
  // queue. Ordered against claims of the queue: a claim running meanwhile commits first. Returns
  // false when the queue was in that state already.
  virtual bool set_queue_paused(const std::string& queue, bool paused, std::int64_t now_ms) = 0;
  // Every queue that has a setting, by name.
  virtual std::vector<QueueSetting> queue_settings() = 0;
  // 1 + the number of Queued jobs of the record's queue ahead of it (lower seq); 0 unless Queued.
  // 0 as well for a missing record.
  virtual std::int64_t queue_position(const std::string& id) = 0;

  // Records the created Job's uid (first writer wins; later calls are no-ops).
  virtual void set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) = 0;
  // Applies a non-final change; false when the record is missing or already final.
  virtual bool update_progress(const std::string& id, const Progress& p) = 0;
  // Makes the record final; true only for the one call that did (a record is final once). That
  // call alone also queues f.writeback_json (when set) as a WriteBack due at f.now_ms, in the same
  // transaction. A writeback_json that is not valid UTF-8 or holds a NUL byte (which PostgreSQL
  // cannot store) throws std::invalid_argument before anything is changed.
  virtual bool finish(const std::string& id, const Finish& f) = 0;
  // Stores the evidence of a final record (nothing for one that is not final) and, in the same
  // transaction, completes its untried write-back (see Evidence). True when the record was final.
  // Text that is not valid UTF-8 or holds a NUL byte throws std::invalid_argument.
  virtual bool attach_evidence(const std::string& id, const Evidence& e) = 0;
  // Queued → Cancelled (reason "CancelledBeforeStart") at once; an active job, or a Queued one
  // whose Job exists (an adopted suspended Job), gets cancel_requested (and the grace period) for
  // the caller to delete its Job; final: unchanged.
  virtual CancelResult request_cancel(const std::string& id, std::optional<int> grace_seconds, std::int64_t now_ms) = 0;

  // Write-backs into Nautobot (queued by finish()): those not done and due (next_attempt_ms <=
  // now), oldest (created_ms, then job_id) first, at most `limit` (1..1000).
  virtual std::vector<WriteBack> due_writebacks(std::int64_t now_ms, int limit) = 0;
  // Done (written, or nothing to write: `outcome` says which); it is no longer returned. Only the
  // first call counts; a missing job_id is a no-op.
  virtual void writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) = 0;
  // Failed for now: attempts + 1, last_error = error, tried again at next_attempt_ms. A no-op once
  // done or for a missing job_id. NUL bytes and invalid UTF-8 in `error` (and in writeback_done's
  // `outcome`) are stored as U+FFFD.
  virtual void writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                               std::int64_t now_ms) = 0;
  // How many are not done yet (metrics, /readyz).
  virtual std::int64_t pending_writebacks() = 0;

  // Deletes at most `r.batch` final records that retention lets go: finished before
  // r.finished_before_ms, or beyond the newest r.keep_max_finished finished ones (oldest finish
  // first). Records that are not final, and those whose write-back into Nautobot is not done
  // yet, are never deleted; a done write-back goes with its record. One short transaction;
  // returns how many were deleted (call again while it returns r.batch).
  virtual std::int64_t prune_finished(const Retention& r) = 0;
};

// "sqlite:PATH" (created on first start, WAL) or "postgresql://…" / "postgres://…".
// Migrates before returning. Throws kjq::InputError for a malformed URL, kjq::RuntimeError when
// the database cannot be opened or migrated. Never puts a password in an error message.
std::unique_ptr<JobStore> open_store(const std::string& url);

// The URL with any password replaced by "***" (for logs and errors).
std::string redact_store_url(const std::string& url);

}  // namespace kjq::server
