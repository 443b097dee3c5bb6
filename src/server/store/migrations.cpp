#include "server/store/migrations.hpp"

namespace kjq::server {

const char* const kCreateSchemaMigrationsSql =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at_ms BIGINT NOT NULL)";

const char* const kJobColumns =
    "seq, id, queue, state, reason, message, data_json, time_limit_seconds, kube_name, kube_uid,"
    " exit_code, log_tail, events_json, owner, cancel_requested, cancel_grace_seconds,"
    " created_ms, submitted_ms, started_ms, finished_ms, updated_ms, origin, job_result_id, evidence_truncated";

const char* const kWriteBackColumns = "job_id, payload_json, attempts, next_attempt_ms, last_error, created_ms";

const char* const kNotFinalSql = "state NOT IN ('Succeeded','Failed','Cancelled')";

const char* const kClaimableSql = "reason NOT IN ('WaitingForKueue','Suspended')";

const char* const kNotPausedSql = "queue NOT IN (SELECT queue FROM queue_settings WHERE paused)";

namespace {

// Version 1: one row per job. The state CHECK keeps a bad write from ever producing a record the
// stores cannot read back. (queue, state, seq) serves claim and the per-queue list; (state, seq)
// serves unfinished() and the state filter; kube_name serves the informer's lookups.
const char* const kJobsV1Sqlite = R"sql(
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('Queued','Submitted','Scheduled','Running','Succeeded','Failed','Cancelled')),
  reason TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  data_json TEXT NOT NULL DEFAULT '{}',
  time_limit_seconds INTEGER,
  kube_name TEXT NOT NULL DEFAULT '',
  kube_uid TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  log_tail TEXT NOT NULL DEFAULT '',
  events_json TEXT NOT NULL DEFAULT '[]',
  owner TEXT NOT NULL DEFAULT '',
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  cancel_grace_seconds INTEGER,
  created_ms BIGINT NOT NULL,
  submitted_ms BIGINT NOT NULL DEFAULT 0,
  started_ms BIGINT NOT NULL DEFAULT 0,
  finished_ms BIGINT NOT NULL DEFAULT 0,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX jobs_queue_state_seq ON jobs (queue, state, seq);
CREATE INDEX jobs_state_seq ON jobs (state, seq);
CREATE INDEX jobs_kube_name ON jobs (kube_name);
)sql";

const char* const kJobsV1Postgres = R"sql(
CREATE TABLE jobs (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('Queued','Submitted','Scheduled','Running','Succeeded','Failed','Cancelled')),
  reason TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  data_json TEXT NOT NULL DEFAULT '{}',
  time_limit_seconds INTEGER,
  kube_name TEXT NOT NULL DEFAULT '',
  kube_uid TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  log_tail TEXT NOT NULL DEFAULT '',
  events_json TEXT NOT NULL DEFAULT '[]',
  owner TEXT NOT NULL DEFAULT '',
  cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
  cancel_grace_seconds INTEGER,
  created_ms BIGINT NOT NULL,
  submitted_ms BIGINT NOT NULL DEFAULT 0,
  started_ms BIGINT NOT NULL DEFAULT 0,
  finished_ms BIGINT NOT NULL DEFAULT 0,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX jobs_queue_state_seq ON jobs (queue, state, seq);
CREATE INDEX jobs_state_seq ON jobs (state, seq);
CREATE INDEX jobs_kube_name ON jobs (kube_name);
)sql";

// Version 2: Nautobot's own Jobs and the writes back into Nautobot's database. Existing rows
// become origin 'kjq' (the only kind there was). (origin, seq) serves list() filtered by origin.
// writebacks holds one row per finished job whose end must be written into Nautobot (job_id is
// the jobs.id); done_ms stays NULL until it is done, and the partial index serves the due scan
// and the pending count.
const char* const kNautobotV2Sqlite = R"sql(
ALTER TABLE jobs ADD COLUMN origin TEXT NOT NULL DEFAULT 'kjq' CHECK (origin IN ('kjq','nautobot'));
ALTER TABLE jobs ADD COLUMN job_result_id TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_origin_seq ON jobs (origin, seq);
CREATE TABLE writebacks (
  job_id TEXT PRIMARY KEY NOT NULL,
  payload_json TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  done_ms BIGINT,
  outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX writebacks_pending ON writebacks (created_ms, job_id) WHERE done_ms IS NULL;
)sql";

const char* const kNautobotV2Postgres = R"sql(
ALTER TABLE jobs
  ADD COLUMN origin TEXT NOT NULL DEFAULT 'kjq' CHECK (origin IN ('kjq','nautobot')),
  ADD COLUMN job_result_id TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_origin_seq ON jobs (origin, seq);
CREATE TABLE writebacks (
  job_id TEXT PRIMARY KEY,
  payload_json TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  created_ms BIGINT NOT NULL,
  done_ms BIGINT,
  outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX writebacks_pending ON writebacks (created_ms, job_id) WHERE done_ms IS NULL;
)sql";

// Version 3: history. The counts per state of a filtered list (and an overview's "ended in the
// last hour, per queue") must not read the rows, which carry the log tail and the Events: the
// time, reason and origin indexes end in (queue,) state, so those counts are answered from the index
// alone. (finished_ms, queue, state) also serves retention's oldest-finished-first scan. In
// SQLite every index carries seq (the rowid), so a filtered list sorts by seq without reading
// the rows either; PostgreSQL's reason index names it. evidence_truncated notes a log tail or
// Events cut to the per-job cap. PostgreSQL gets jobs_id_pattern for the id-prefix filter
// (LIKE 'abc%' under any collation); SQLite serves it from the id's unique index (a range;
// BINARY collation).
const char* const kHistoryV3Sqlite = R"sql(
ALTER TABLE jobs ADD COLUMN evidence_truncated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_created_queue_state ON jobs (created_ms, queue, state);
CREATE INDEX jobs_finished_queue_state ON jobs (finished_ms, queue, state);
CREATE INDEX jobs_reason_state ON jobs (reason, state);
CREATE INDEX jobs_origin_state ON jobs (origin, state);
)sql";

const char* const kHistoryV3Postgres = R"sql(
ALTER TABLE jobs ADD COLUMN evidence_truncated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX jobs_created_queue_state ON jobs (created_ms, queue, state);
CREATE INDEX jobs_finished_queue_state ON jobs (finished_ms, queue, state);
CREATE INDEX jobs_reason_state ON jobs (reason, state, seq);
CREATE INDEX jobs_origin_state ON jobs (origin, state);
CREATE INDEX jobs_id_pattern ON jobs (id text_pattern_ops);
)sql";

// Version 4: settings an operator gives a queue, shared by every replica. A paused queue keeps its
// jobs Queued: claim() takes none from it (and admission does not look at it) until resumed.
const char* const kQueueSettingsV4Sqlite = R"sql(
CREATE TABLE queue_settings (
  queue TEXT PRIMARY KEY NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  changed_ms BIGINT NOT NULL
);
)sql";

const char* const kQueueSettingsV4Postgres = R"sql(
CREATE TABLE queue_settings (
  queue TEXT PRIMARY KEY,
  paused BOOLEAN NOT NULL DEFAULT FALSE,
  changed_ms BIGINT NOT NULL
);
)sql";

// Version 5: counts of jobs per (queue, state) kept by PostgreSQL itself, so the overview, /metrics
// and the unfiltered counts of the job list read a few rows instead of counting every index entry
// (about 60 ms for 100,000 jobs). The triggers only ever insert into job_count_deltas: no row that
// every claim and finish of a queue would have to lock. The store folds the deltas into
// job_counts now and then (PostgresStore::compact_counts); a count is job_counts plus the deltas.
// The triggers are created before the backfill: CREATE TRIGGER locks out writes to jobs until the
// migration commits, so no change falls between the two. SQLite counts its (queue, state, seq)
// index fast enough (about 7 ms) and gets nothing.
const char* const kJobCountsV5Sqlite = "-- nothing: SQLite keeps counting its (queue, state, seq) index\n";

const char* const kJobCountsV5Postgres = R"sql(
CREATE TABLE job_counts (
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (queue, state)
);
CREATE TABLE job_count_deltas (
  queue TEXT NOT NULL,
  state TEXT NOT NULL,
  n BIGINT NOT NULL
);
CREATE FUNCTION kjq_jobs_counted_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (queue, state, n) SELECT queue, state, COUNT(*) FROM kjq_new_jobs GROUP BY queue, state;
  RETURN NULL;
END $$;
CREATE FUNCTION kjq_jobs_counted_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (queue, state, n) SELECT queue, state, -COUNT(*) FROM kjq_old_jobs GROUP BY queue, state;
  RETURN NULL;
END $$;
CREATE FUNCTION kjq_jobs_counted_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO job_count_deltas (queue, state, n) VALUES (OLD.queue, OLD.state, -1), (NEW.queue, NEW.state, 1);
  RETURN NULL;
END $$;
CREATE FUNCTION kjq_jobs_counted_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM job_count_deltas;
  DELETE FROM job_counts;
  RETURN NULL;
END $$;
-- One trigger call per statement for inserts and deletes (a submitted batch, a retention batch);
-- per row for a change of state, and only when the state or queue did change.
CREATE TRIGGER jobs_counted_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS kjq_new_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION kjq_jobs_counted_inserted();
CREATE TRIGGER jobs_counted_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS kjq_old_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION kjq_jobs_counted_deleted();
CREATE TRIGGER jobs_counted_moved AFTER UPDATE OF queue, state ON jobs FOR EACH ROW
  WHEN (OLD.queue IS DISTINCT FROM NEW.queue OR OLD.state IS DISTINCT FROM NEW.state)
  EXECUTE FUNCTION kjq_jobs_counted_moved();
CREATE TRIGGER jobs_counted_truncated AFTER TRUNCATE ON jobs
  FOR EACH STATEMENT EXECUTE FUNCTION kjq_jobs_counted_truncated();
INSERT INTO job_counts (queue, state, n) SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all{
      {1, "jobs table and its indexes", kJobsV1Sqlite, kJobsV1Postgres},
      {2, "job origin and JobResult id; Nautobot write-backs", kNautobotV2Sqlite, kNautobotV2Postgres},
      {3, "history: list indexes, evidence truncation note", kHistoryV3Sqlite, kHistoryV3Postgres},
      {4, "queue settings (paused)", kQueueSettingsV4Sqlite, kQueueSettingsV4Postgres},
      {5, "PostgreSQL: job counts per queue and state kept by triggers", kJobCountsV5Sqlite, kJobCountsV5Postgres},
  };
  return all;
}

int latest_schema_version() { return migrations().back().version; }

}  // namespace kjq::server
