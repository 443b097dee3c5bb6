#include "server/store/postgres_store.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "server/store/list_query.hpp"
#include "server/store/migrations.hpp"
#include "server/store/store_text.hpp"
#include "util/clock.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

namespace {

std::uint64_t fnv1a64(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// Session lock held by the one process migrating; others wait, then find nothing left to do.
const std::int64_t kMigrationLockKey = static_cast<std::int64_t>(fnv1a64("kjq/job-store/migrate"));

// Only compaction writes job_counts: one at a time across processes, the others skip it.
const std::int64_t kCompactionLockKey = static_cast<std::int64_t>(fnv1a64("kjq/job-store/compact-counts"));

// The reads fold the deltas into job_counts at most this often (per process).
constexpr std::int64_t kCompactionIntervalMs = 1000;
// A process vacuums job_count_deltas once it has folded (deleted) this many deltas.
constexpr std::int64_t kVacuumAfterFolded = 10'000;

const std::string kCountRows =
    "(SELECT queue, state, n FROM job_counts UNION ALL SELECT queue, state, n FROM job_count_deltas)";

const std::string kColumns = kJobColumns;
const std::string kSelectPgJob = "SELECT " + kColumns + " FROM jobs";

// Every statement, prepared on each connection the first time it is used there.
const std::vector<std::pair<std::string, std::string>>& statements() {
  static const std::vector<std::pair<std::string, std::string>> all{
      {"get", kSelectPgJob + " WHERE id = $1::text"},
      {"get_by_kube_name", kSelectPgJob + " WHERE kube_name = $1::text ORDER BY seq LIMIT 1"},
      {"insert",
       "INSERT INTO jobs (id, queue, state, data_json, time_limit_seconds, created_ms, updated_ms)"
       " VALUES ($1::text, $2::text, 'Queued', $3::text, $4::integer, $5::bigint, $5::bigint)"
       " ON CONFLICT (id) DO NOTHING RETURNING " +
           kColumns},
      {"adopt",
       "INSERT INTO jobs (id, queue, origin, job_result_id, state, reason, kube_name, kube_uid, data_json,"
       " created_ms, submitted_ms, updated_ms)"
       " VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, '{}',"
       " $9::bigint, $10::bigint, $11::bigint)"
       " ON CONFLICT (id) DO NOTHING RETURNING " +
           kColumns},
      // Counts from job_counts and the deltas not folded in yet (migration 5), read in one
      // snapshot. A (queue, state) whose jobs are all gone sums to 0 and is left out, as counting
      // the jobs would.
      {"queue_counts", "SELECT queue, state, SUM(n) FROM " + kCountRows +
                           " AS c GROUP BY queue, state HAVING SUM(n) <> 0 ORDER BY queue"},
      {"state_counts", "SELECT state, SUM(n) FROM " + kCountRows + " AS c GROUP BY state HAVING SUM(n) <> 0"},
      {"queue_state_counts",
       "SELECT state, SUM(n) FROM " + kCountRows + " AS c WHERE queue = $1::text GROUP BY state HAVING SUM(n) <> 0"},
      {"compact_lock", "SELECT pg_try_advisory_xact_lock($1::bigint)"},
      {"compact_counts",
       "WITH moved AS (DELETE FROM job_count_deltas RETURNING queue, state, n),"
       " folded AS (INSERT INTO job_counts (queue, state, n) SELECT queue, state, SUM(n) FROM moved"
       " GROUP BY queue, state ON CONFLICT (queue, state) DO UPDATE SET n = job_counts.n + EXCLUDED.n)"
       " SELECT COUNT(*) FROM moved"},
      {"drop_zero_counts", "DELETE FROM job_counts WHERE n = 0"},
      {"unfinished", kSelectPgJob + " WHERE state IN ('Queued','Submitted','Scheduled','Running') ORDER BY seq"},
      {"claim_lock", "SELECT pg_advisory_xact_lock($1::bigint)"},
      {"count_active",
       "SELECT COUNT(*) FROM jobs WHERE queue = $1::text AND state IN "
       "('Submitted','Scheduled','Running')"},
      // SKIP LOCKED: a row a concurrent cancel holds is left for the next round instead of waited
      // on.
      {"claim",
       "WITH picked AS (SELECT seq AS picked_seq FROM jobs WHERE queue = $1::text AND state = "
       "'Queued' AND " +
           std::string(kClaimableSql) +
           " ORDER BY seq LIMIT $2::bigint FOR UPDATE SKIP LOCKED)"
           " UPDATE jobs SET state = 'Submitted', reason = 'Dispatching', message = '', owner = "
           "$3::text,"
           " kube_name = CASE WHEN kube_name = '' THEN $4::text || '-' || id ELSE kube_name END,"
           " submitted_ms = $5::bigint, updated_ms = $5::bigint"
           " FROM picked WHERE seq = picked.picked_seq RETURNING " +
           kColumns},
      {"waiting_queues", std::string("SELECT DISTINCT queue FROM jobs WHERE state = 'Queued' AND ") + kClaimableSql +
                             " AND " + kNotPausedSql + " ORDER BY queue"},
      {"queue_paused", "SELECT paused FROM queue_settings WHERE queue = $1::text"},
      {"set_queue_paused",
       "INSERT INTO queue_settings (queue, paused, changed_ms) VALUES ($1::text, $2::boolean, $3::bigint)"
       " ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, changed_ms = excluded.changed_ms"},
      {"queue_settings", "SELECT queue, paused, changed_ms FROM queue_settings ORDER BY queue"},
      // Counts the record itself too: 1 + those ahead of it; no row for $1 (or not Queued): 0.
      {"queue_position",
       "SELECT COUNT(*) FROM jobs AS me JOIN jobs AS ahead ON ahead.queue = me.queue"
       " AND ahead.state = 'Queued' AND ahead.seq <= me.seq WHERE me.id = $1::text AND me.state = 'Queued'"},
      {"set_kube_uid",
       "UPDATE jobs SET kube_uid = $2::text, updated_ms = $3::bigint WHERE id = $1::text AND "
       "kube_uid = ''"},
      {"update_progress",
       "UPDATE jobs SET state = $2::text, reason = $3::text, message = $4::text,"
       " exit_code = COALESCE($5::integer, exit_code),"
       " started_ms = CASE WHEN $2::text = 'Running' AND started_ms = 0 THEN $6::bigint ELSE "
       "started_ms END,"
       " updated_ms = $6::bigint WHERE id = $1::text AND " +
           std::string(kNotFinalSql)},
      // The state condition makes the first finish the only one that changes the row: a second
      // finish waits for the first's row lock, then re-checks the condition and matches nothing.
      {"finish",
       "UPDATE jobs SET state = $2::text, reason = $3::text, message = $4::text,"
       " exit_code = COALESCE($5::integer, exit_code), log_tail = COALESCE($6::text, log_tail),"
       " events_json = COALESCE($7::text, events_json), evidence_truncated = $9::boolean,"
       " finished_ms = $8::bigint, updated_ms = $8::bigint"
       " WHERE id = $1::text AND " +
           std::string(kNotFinalSql)},
      {"insert_writeback",
       "INSERT INTO writebacks (job_id, payload_json, attempts, next_attempt_ms, last_error, created_ms)"
       " VALUES ($1::text, $2::text, 0, $3::bigint, '', $4::bigint)"},
      {"attach_evidence",
       "UPDATE jobs SET log_tail = COALESCE($2::text, log_tail), events_json = COALESCE($3::text, events_json),"
       " evidence_truncated = evidence_truncated OR $4::boolean WHERE id = $1::text AND NOT (" +
           std::string(kNotFinalSql) + ")"},
      {"complete_writeback",
       "UPDATE writebacks SET payload_json = $2::text, next_attempt_ms = $3::bigint"
       " WHERE job_id = $1::text AND done_ms IS NULL AND attempts = 0"},
      {"due_writebacks", std::string("SELECT ") + kWriteBackColumns +
                             " FROM writebacks WHERE done_ms IS NULL AND next_attempt_ms <= $1::bigint"
                             " ORDER BY created_ms, job_id LIMIT $2::integer"},
      {"writeback_done",
       "UPDATE writebacks SET done_ms = $2::bigint, outcome = $3::text WHERE job_id = $1::text AND done_ms IS "
       "NULL"},
      {"writeback_retry",
       "UPDATE writebacks SET attempts = attempts + 1, next_attempt_ms = $2::bigint, last_error = $3::text"
       " WHERE job_id = $1::text AND done_ms IS NULL"},
      {"pending_writebacks", "SELECT COUNT(*) FROM writebacks WHERE done_ms IS NULL"},
      // Retention: final records whose write-back (if any) is done, oldest finish first. SKIP
      // LOCKED leaves a row another transaction holds for the next round; the done write-backs
      // go with their records.
      {"prune_finished_before",
       "WITH doomed AS (SELECT id FROM jobs WHERE state IN ('Succeeded','Failed','Cancelled')"
       " AND finished_ms < $1::bigint AND NOT EXISTS (SELECT 1 FROM writebacks AS w WHERE w.job_id = jobs.id"
       " AND w.done_ms IS NULL) ORDER BY finished_ms, seq LIMIT $2::integer FOR UPDATE SKIP LOCKED),"
       " gone AS (DELETE FROM writebacks WHERE job_id IN (SELECT id FROM doomed))"
       " DELETE FROM jobs WHERE id IN (SELECT id FROM doomed)"},
      {"count_finished", "SELECT COUNT(*) FROM jobs WHERE state IN ('Succeeded','Failed','Cancelled')"},
      {"prune_oldest_finished",
       "WITH doomed AS (SELECT id FROM jobs WHERE state IN ('Succeeded','Failed','Cancelled')"
       " AND NOT EXISTS (SELECT 1 FROM writebacks AS w WHERE w.job_id = jobs.id AND w.done_ms IS NULL)"
       " ORDER BY finished_ms, seq LIMIT $1::bigint FOR UPDATE SKIP LOCKED),"
       " gone AS (DELETE FROM writebacks WHERE job_id IN (SELECT id FROM doomed))"
       " DELETE FROM jobs WHERE id IN (SELECT id FROM doomed)"},
      {"lock_job", kSelectPgJob + " WHERE id = $1::text FOR UPDATE"},
      {"cancel_queued",
       "UPDATE jobs SET state = 'Cancelled', reason = 'CancelledBeforeStart',"
       " message = 'cancelled before it was dispatched', cancel_requested = TRUE,"
       " cancel_grace_seconds = COALESCE($2::integer, cancel_grace_seconds),"
       " finished_ms = $3::bigint, updated_ms = $3::bigint WHERE id = $1::text RETURNING " +
           kColumns},
      {"cancel_active",
       "UPDATE jobs SET cancel_requested = TRUE, cancel_grace_seconds = COALESCE($2::integer, "
       "cancel_grace_seconds),"
       " updated_ms = $3::bigint WHERE id = $1::text RETURNING " +
           kColumns},
  };
  return all;
}

std::optional<int> optional_int(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int>();
}

// Decodes a row selected as kJobColumns.
JobRecord read_job(const pqxx::row& row) {
  JobRecord r;
  r.seq = row[0].as<std::int64_t>();
  r.id = row[1].as<std::string>();
  r.queue = row[2].as<std::string>();
  const auto state_text = row[3].as<std::string>();
  const auto state = parse_state(state_text);
  if (!state) throw RuntimeError("job store: job " + r.id + " has an unknown state \"" + state_text + "\"");
  r.state = *state;
  r.reason = row[4].as<std::string>();
  r.message = row[5].as<std::string>();
  r.data_json = row[6].as<std::string>();
  r.time_limit_seconds = optional_int(row[7]);
  r.kube_name = row[8].as<std::string>();
  r.kube_uid = row[9].as<std::string>();
  r.exit_code = optional_int(row[10]);
  r.log_tail = row[11].as<std::string>();
  r.events_json = row[12].as<std::string>();
  r.owner = row[13].as<std::string>();
  r.cancel_requested = row[14].as<bool>();
  r.cancel_grace_seconds = optional_int(row[15]);
  r.created_ms = row[16].as<std::int64_t>();
  r.submitted_ms = row[17].as<std::int64_t>();
  r.started_ms = row[18].as<std::int64_t>();
  r.finished_ms = row[19].as<std::int64_t>();
  r.updated_ms = row[20].as<std::int64_t>();
  const auto origin_text = row[21].as<std::string>();
  const auto origin = parse_origin(origin_text);
  if (!origin) throw RuntimeError("job store: job " + r.id + " has an unknown origin \"" + origin_text + "\"");
  r.origin = *origin;
  r.job_result_id = row[22].as<std::string>();
  r.evidence_truncated = row[23].as<bool>();
  return r;
}

// Decodes a row selected as kWriteBackColumns.
WriteBack read_writeback(const pqxx::row& row) {
  WriteBack w;
  w.job_id = row[0].as<std::string>();
  w.payload_json = row[1].as<std::string>();
  w.attempts = row[2].as<int>();
  w.next_attempt_ms = row[3].as<std::int64_t>();
  w.last_error = row[4].as<std::string>();
  w.created_ms = row[5].as<std::int64_t>();
  return w;
}

std::vector<JobRecord> read_jobs(const pqxx::result& rows) {
  std::vector<JobRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_job(row));
  return out;
}

std::optional<JobRecord> read_one_job(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return read_job(rows[0]);
}

// The password of postgresql://user:PASSWORD@host/… ("" when none). libpq's messages do not
// quote it, but every message is scrubbed of it anyway: a leak would be a credential in a log.
std::string url_password(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  const auto authority_begin = scheme_end + 3;
  const auto authority_end = std::min(url.find_first_of("/?#", authority_begin), url.size());
  const auto at = url.rfind('@', authority_end - 1);
  if (at == std::string::npos || at < authority_begin) return {};
  const auto colon = url.find(':', authority_begin);
  if (colon == std::string::npos || colon > at) return {};
  return url.substr(colon + 1, at - colon - 1);
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::int64_t claim_lock_key(const std::string& queue) {
  return static_cast<std::int64_t>(fnv1a64("kjq/job-store/claim/" + queue));
}

bool queue_paused(pqxx::work& tx, const std::string& queue) {
  const auto rows = tx.exec_prepared("queue_paused", queue);
  return !rows.empty() && rows[0][0].as<bool>();
}

class PostgresStore::Pool {
 public:
  Pool(const std::string& url, int size)
      : url_(url), redacted_url_(redact_store_url(url)), password_(url_password(url)), capacity_(std::max(size, 1)) {}

  // A connection borrowed for one operation; goes back to the pool unless discarded.
  class Lease {
   public:
    explicit Lease(Pool& pool) : pool_(pool), conn_(pool.acquire()) {}
    ~Lease() { pool_.release(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    pqxx::connection& conn() { return *conn_; }
    void discard() { conn_.reset(); }

   private:
    Pool& pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Runs `work` in one read-committed transaction and commits. A connection that broke before the
  // commit is replaced and the work run once more (nothing of it was committed); a deadlock or
  // serialisation failure rolled back everything, so it is retried a few times too.
  template <typename Work>
  auto transact(const std::string& what, Work&& work) {
    using Result = std::invoke_result_t<Work&, pqxx::work&>;
    constexpr int kAttempts = 3;
    for (int attempt = 1;; ++attempt) {
      Lease lease(*this);
      try {
        pqxx::work tx(lease.conn());
        if constexpr (std::is_void_v<Result>) {
          work(tx);
          tx.commit();
          return;
        } else {
          Result result = work(tx);
          tx.commit();
          return result;
        }
      } catch (const pqxx::in_doubt_error& e) {
        if (!lease.conn().is_open()) lease.discard();
        throw error(what, e);
      } catch (const pqxx::transaction_rollback& e) {
        if (attempt >= kAttempts) throw error(what, e);
      } catch (const pqxx::failure& e) {
        const bool broken = !lease.conn().is_open();
        if (!broken || attempt >= 2) throw error(what, e);
        // The server restarted or dropped us: the idle connections are most likely dead too.
        lease.discard();
        drop_idle();
      }
    }
  }

  std::unique_ptr<pqxx::connection> connect() {
    try {
      auto conn = std::make_unique<pqxx::connection>(url_);
      // Notices such as "relation already exists, skipping" are not worth a line on stderr.
      pqxx::nontransaction(*conn).exec0("SET client_min_messages TO warning");
      for (const auto& [name, sql] : statements()) conn->prepare(name, sql);
      return conn;
    } catch (const pqxx::failure& e) {
      throw error("cannot connect", e);
    }
  }

  RuntimeError error(const std::string& what, const std::exception& e) const {
    std::string detail = trimmed(e.what());
    if (!password_.empty()) {
      for (auto at = detail.find(password_); at != std::string::npos; at = detail.find(password_, at + 3)) {
        detail.replace(at, password_.size(), "***");
      }
    }
    return RuntimeError("job store " + redacted_url_ + ": " + what + ": " + detail);
  }

 private:
  std::unique_ptr<pqxx::connection> acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || open_ < capacity_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;  // reserve the slot, connect without holding the lock
    lock.unlock();
    try {
      return connect();
    } catch (...) {
      lock.lock();
      --open_;
      available_.notify_one();
      throw;
    }
  }

  void drop_idle() {
    std::lock_guard lock(mutex_);
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
    available_.notify_all();
  }

  void release(std::unique_ptr<pqxx::connection> conn) {
    std::lock_guard lock(mutex_);
    if (conn && conn->is_open()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;  // broken or discarded: the next acquire opens a fresh one
    }
    available_.notify_one();
  }

  std::string url_, redacted_url_, password_;
  int capacity_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // idle plus leased
};

PostgresStore::PostgresStore(const std::string& url, int pool_size) : pool_(std::make_unique<Pool>(url, pool_size)) {
  Pool::Lease first(*pool_);  // fail now, not on the first request
}

PostgresStore::~PostgresStore() = default;

void PostgresStore::migrate() {
  Pool::Lease lease(*pool_);
  auto& conn = lease.conn();
  try {
    pqxx::nontransaction(conn).exec_params("SELECT pg_advisory_lock($1::bigint)", kMigrationLockKey);
    try {
      {
        pqxx::work tx(conn);
        tx.exec0(kCreateSchemaMigrationsSql);
        tx.commit();
      }
      for (const auto& m : migrations()) {
        pqxx::work tx(conn);
        if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1::integer", m.version).empty()) {
          continue;
        }
        tx.exec0(m.postgres_sql);
        tx.exec_params0(
            "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1::integer, "
            "$2::bigint)",
            m.version, now_ms());
        tx.commit();
      }
    } catch (...) {
      // The lock goes with the session anyway; unlock here only so a kept connection is clean.
      if (conn.is_open()) {
        try {
          pqxx::nontransaction(conn).exec_params("SELECT pg_advisory_unlock($1::bigint)", kMigrationLockKey);
        } catch (const pqxx::failure&) {
          lease.discard();
        }
      }
      throw;
    }
    pqxx::nontransaction(conn).exec_params("SELECT pg_advisory_unlock($1::bigint)", kMigrationLockKey);
  } catch (const pqxx::failure& e) {
    if (!conn.is_open()) lease.discard();
    throw pool_->error("cannot migrate", e);
  }
}

int PostgresStore::schema_version() {
  return pool_->transact("cannot read the schema version", [](pqxx::work& tx) {
    if (tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>() == false) return 0;
    return tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
  });
}

std::vector<SubmitResult> PostgresStore::submit(const std::vector<NewJob>& jobs) {
  return pool_->transact("cannot submit", [&](pqxx::work& tx) {
    std::vector<SubmitResult> results;
    results.reserve(jobs.size());
    for (const auto& job : jobs) {
      SubmitResult result;
      auto inserted = read_one_job(
          tx.exec_prepared("insert", job.id, job.queue, job.data_json, job.time_limit_seconds, job.now_ms));
      if (inserted) {
        result.record = std::move(*inserted);
        result.inserted = true;
      } else {
        // ON CONFLICT waited for any concurrent insert of this id; read committed sees it now.
        auto existing = read_one_job(tx.exec_prepared("get", job.id));
        if (!existing) throw RuntimeError("job store: job " + job.id + " neither inserted nor found");
        result.record = std::move(*existing);
      }
      results.push_back(std::move(result));
    }
    return results;
  });
}

SubmitResult PostgresStore::adopt(const AdoptedJob& job) {
  if (job.state != JobState::Queued && job.state != JobState::Submitted) {
    throw std::invalid_argument("adopt: " + state_name(job.state) + " is neither Queued nor Submitted");
  }
  const std::int64_t submitted_ms = job.state == JobState::Submitted ? job.now_ms : 0;
  return pool_->transact("cannot adopt a job", [&](pqxx::work& tx) {
    SubmitResult result;
    auto inserted = read_one_job(tx.exec_prepared("adopt", job.id, job.queue, origin_name(job.origin),
                                                  job.job_result_id, state_name(job.state), job.reason, job.kube_name,
                                                  job.kube_uid, job.created_ms, submitted_ms, job.now_ms));
    if (inserted) {
      result.record = std::move(*inserted);
      result.inserted = true;
    } else {
      // ON CONFLICT waited for any concurrent insert of this id; read committed sees it now.
      auto existing = read_one_job(tx.exec_prepared("get", job.id));
      if (!existing) throw RuntimeError("job store: job " + job.id + " neither inserted nor found");
      result.record = std::move(*existing);
    }
    return result;
  });
}

std::optional<JobRecord> PostgresStore::get(const std::string& id) {
  return pool_->transact("cannot read a job",
                         [&](pqxx::work& tx) { return read_one_job(tx.exec_prepared("get", id)); });
}

std::optional<JobRecord> PostgresStore::get_by_kube_name(const std::string& kube_name) {
  if (kube_name.empty()) return std::nullopt;  // unclaimed jobs all have an empty kube_name
  return pool_->transact("cannot read a job",
                         [&](pqxx::work& tx) { return read_one_job(tx.exec_prepared("get_by_kube_name", kube_name)); });
}

namespace {
// Every parameter as text; the statement casts each ($1::bigint, $2::text, …).
std::vector<std::string> text_params(const std::vector<SqlParam>& params) {
  std::vector<std::string> out;
  out.reserve(params.size());
  for (const auto& p : params) {
    if (const auto* n = std::get_if<std::int64_t>(&p)) {
      out.push_back(std::to_string(*n));
    } else {
      out.push_back(std::get<std::string>(p));
    }
  }
  return out;
}
}  // namespace

JobPage PostgresStore::list(const JobFilter& filter) {
  const int limit = std::clamp(filter.limit, 1, 1000);
  // One row more than asked tells whether another page exists. Not prepared: the filter has too
  // many shapes, and a plan made for the values at hand suits each (a rare reason, a wide range).
  const SqlQuery sql = list_jobs_sql(filter, SqlDialect::Postgres, limit + 1);
  const auto params = text_params(sql.params);
  auto rows = pool_->transact("cannot list jobs", [&](pqxx::work& tx) {
    return tx.exec_params(sql.sql, pqxx::prepare::make_dynamic_params(params));
  });
  JobPage page;
  page.items = read_jobs(rows);
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.resize(static_cast<std::size_t>(limit));
    page.next_after_seq = page.items.back().seq;
  }
  return page;
}

namespace {
// True when the filter counts every job, or every job of one queue (count_states ignores the
// states): job_counts answers that without reading the jobs.
bool counted_by_job_counts(const JobFilter& f) {
  return !f.origin && f.reason.empty() && f.id_prefix.empty() && !f.since_ms && !f.until_ms &&
         is_storable_text(f.queue);
}
}  // namespace

StateCounts PostgresStore::count_states(const JobFilter& filter) {
  if (counted_by_job_counts(filter)) {
    maybe_compact_counts();
    auto rows = pool_->transact("cannot count jobs", [&](pqxx::work& tx) {
      return filter.queue.empty() ? tx.exec_prepared("state_counts")
                                  : tx.exec_prepared("queue_state_counts", filter.queue);
    });
    StateCounts counts;
    for (const auto& row : rows)
      if (auto state = parse_state(row[0].as<std::string>())) counts[*state] = row[1].as<std::int64_t>();
    return counts;
  }
  const SqlQuery sql = count_states_sql(filter, SqlDialect::Postgres);
  const auto params = text_params(sql.params);
  auto rows = pool_->transact("cannot count jobs", [&](pqxx::work& tx) {
    return tx.exec_params(sql.sql, pqxx::prepare::make_dynamic_params(params));
  });
  std::vector<std::vector<std::string>> text;
  for (const auto& row : rows) {
    auto& out = text.emplace_back();
    for (const auto& field : row) out.push_back(field.is_null() ? "" : field.as<std::string>());
  }
  StateCounts counts;
  read_state_counts(text, counts);
  return counts;
}

std::vector<QueueCounts> PostgresStore::ended_since(std::int64_t since_ms) {
  const SqlQuery sql = ended_since_sql(since_ms, SqlDialect::Postgres);
  const auto params = text_params(sql.params);
  auto rows = pool_->transact("cannot count jobs", [&](pqxx::work& tx) {
    return tx.exec_params(sql.sql, pqxx::prepare::make_dynamic_params(params));
  });
  std::map<std::string, QueueCounts> by_queue;  // by name, whatever order the rows come in
  for (const auto& row : rows) {
    auto& c = by_queue[row[0].as<std::string>()];
    c.queue = row[0].as<std::string>();
    c.add(parse_state(row[1].as<std::string>()).value_or(JobState::Queued), row[2].as<std::int64_t>());
  }
  std::vector<QueueCounts> out;
  out.reserve(by_queue.size());
  for (auto& [_, c] : by_queue) out.push_back(std::move(c));
  return out;
}

std::int64_t PostgresStore::prune_finished(const Retention& r) {
  if (r.batch <= 0 || (!r.finished_before_ms && !r.keep_max_finished)) return 0;
  return pool_->transact("cannot prune finished jobs", [&](pqxx::work& tx) -> std::int64_t {
    std::int64_t deleted = 0;
    if (r.finished_before_ms) {
      deleted += static_cast<std::int64_t>(
          tx.exec_prepared("prune_finished_before", *r.finished_before_ms, r.batch).affected_rows());
    }
    if (r.keep_max_finished && deleted < r.batch) {
      const auto finished = tx.exec_prepared("count_finished")[0][0].as<std::int64_t>();
      const std::int64_t excess = std::min<std::int64_t>(finished - *r.keep_max_finished, r.batch - deleted);
      if (excess > 0)
        deleted += static_cast<std::int64_t>(tx.exec_prepared("prune_oldest_finished", excess).affected_rows());
    }
    return deleted;
  });
}

std::int64_t PostgresStore::compact_counts() {
  const auto folded = pool_->transact("cannot fold the job counts", [](pqxx::work& tx) -> std::int64_t {
    if (!tx.exec_prepared("compact_lock", kCompactionLockKey)[0][0].as<bool>()) return -1;
    const auto n = tx.exec_prepared("compact_counts")[0][0].as<std::int64_t>();
    if (n > 0) tx.exec_prepared("drop_zero_counts");
    return n;
  });
  // The folded deltas stay in the table's pages, dead, until a vacuum: every count reads them
  // (about 50 ms after 300,000, a burst of 75,000 jobs), and autovacuum may come a minute later.
  if (folded > 0 && folded_since_vacuum_.fetch_add(folded) + folded >= kVacuumAfterFolded) {
    folded_since_vacuum_ = 0;
    Pool::Lease lease(*pool_);
    try {
      // Outside a transaction, as VACUUM must be; SKIP_LOCKED: another replica's vacuum will do.
      pqxx::nontransaction(lease.conn()).exec0("VACUUM (SKIP_LOCKED) job_count_deltas");
    } catch (const pqxx::failure& e) {
      if (!lease.conn().is_open()) lease.discard();
      throw pool_->error("cannot vacuum the job count deltas", e);
    }
  }
  return folded;
}

void PostgresStore::maybe_compact_counts() {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  std::int64_t due = next_compaction_ms_.load();
  // One thread of this process folds; the others read on (the deltas count all the same).
  if (now < due || !next_compaction_ms_.compare_exchange_strong(due, now + kCompactionIntervalMs)) return;
  try {
    compact_counts();
  } catch (const std::exception&) {
    // Folding is housekeeping: the counts are exact without it, and the next call tries again.
    // A claim that committed must still return its jobs.
  }
}

std::vector<QueueCounts> PostgresStore::queue_counts() {
  maybe_compact_counts();
  auto rows = pool_->transact("cannot count jobs", [](pqxx::work& tx) { return tx.exec_prepared("queue_counts"); });
  std::vector<QueueCounts> out;
  for (const auto& row : rows) {
    const auto queue = row[0].as<std::string>();
    if (out.empty() || out.back().queue != queue) {
      out.emplace_back();
      out.back().queue = queue;
    }
    const auto n = row[2].as<std::int64_t>();
    out.back().add(parse_state(row[1].as<std::string>()).value_or(JobState::Queued), n);
  }
  return out;
}

std::vector<JobRecord> PostgresStore::unfinished() {
  return pool_->transact("cannot list unfinished jobs",
                         [](pqxx::work& tx) { return read_jobs(tx.exec_prepared("unfinished")); });
}

std::vector<JobRecord> PostgresStore::claim(const std::string& queue, int limit, int max_batch,
                                            const std::string& owner, const std::string& name_prefix,
                                            std::int64_t now_ms) {
  if (max_batch <= 0) return {};
  auto claimed = pool_->transact("cannot claim jobs", [&](pqxx::work& tx) -> std::vector<JobRecord> {
    // Held until commit: claims on this queue from every process run one after another, and
    // each counts the active jobs only after the previous one's update is committed and
    // visible.
    tx.exec_prepared("claim_lock", claim_lock_key(queue));
    if (queue_paused(tx, queue)) return {};
    std::int64_t wanted = max_batch;
    if (limit > 0) {
      const auto active = tx.exec_prepared("count_active", queue)[0][0].as<std::int64_t>();
      wanted = std::min<std::int64_t>(wanted, limit - active);
    }
    if (wanted <= 0) return {};
    return read_jobs(tx.exec_prepared("claim", queue, wanted, owner, name_prefix, now_ms));
  });
  std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  // Admission claims every few seconds whether or not anyone reads the counts: the deltas stay
  // few without a dashboard or a scrape.
  maybe_compact_counts();
  return claimed;
}

bool PostgresStore::set_queue_paused(const std::string& queue, bool paused, std::int64_t now_ms) {
  return pool_->transact("cannot pause or resume a queue", [&](pqxx::work& tx) {
    // The claim lock of the queue: a claim in progress commits first, and none after this one
    // commits can take from a paused queue.
    tx.exec_prepared("claim_lock", claim_lock_key(queue));
    if (queue_paused(tx, queue) == paused) return false;
    tx.exec_prepared("set_queue_paused", queue, paused, now_ms);
    return true;
  });
}

std::vector<QueueSetting> PostgresStore::queue_settings() {
  return pool_->transact("cannot read queue settings", [](pqxx::work& tx) {
    std::vector<QueueSetting> out;
    for (const auto& row : tx.exec_prepared("queue_settings"))
      out.push_back({row[0].as<std::string>(), row[1].as<bool>(), row[2].as<std::int64_t>()});
    return out;
  });
}

std::int64_t PostgresStore::queue_position(const std::string& id) {
  return pool_->transact("cannot read a queue position", [&](pqxx::work& tx) {
    return tx.exec_prepared("queue_position", id)[0][0].as<std::int64_t>();
  });
}

std::vector<std::string> PostgresStore::queues_with_waiting_jobs() {
  return pool_->transact("cannot list queues", [](pqxx::work& tx) {
    std::vector<std::string> out;
    for (const auto& row : tx.exec_prepared("waiting_queues")) out.push_back(row[0].as<std::string>());
    return out;
  });
}

void PostgresStore::set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) {
  if (uid.empty()) return;
  pool_->transact("cannot record a uid", [&](pqxx::work& tx) { tx.exec_prepared("set_kube_uid", id, uid, now_ms); });
}

bool PostgresStore::update_progress(const std::string& id, const Progress& p) {
  if (!is_active(p.state))
    throw std::invalid_argument("update_progress: " + state_name(p.state) + " is not an active state");
  return pool_->transact("cannot record progress", [&](pqxx::work& tx) {
    return tx.exec_prepared("update_progress", id, state_name(p.state), p.reason, p.message, p.exit_code, p.now_ms)
               .affected_rows() > 0;
  });
}

bool PostgresStore::finish(const std::string& id, const Finish& f) {
  if (!is_final(f.state)) throw std::invalid_argument("finish: " + state_name(f.state) + " is not a final state");
  if (f.writeback_json && !is_storable_text(*f.writeback_json)) {
    throw std::invalid_argument("finish: the write-back of job " + id + " is not valid UTF-8 or holds a NUL byte");
  }
  return pool_->transact("cannot finish a job", [&](pqxx::work& tx) {
    const bool changed = tx.exec_prepared("finish", id, state_name(f.state), f.reason, f.message, f.exit_code,
                                          f.log_tail, f.events_json, f.now_ms, f.evidence_truncated)
                             .affected_rows() > 0;
    if (changed && f.writeback_json)
      tx.exec_prepared("insert_writeback", id, *f.writeback_json, f.writeback_due_ms ? f.writeback_due_ms : f.now_ms,
                       f.now_ms);
    return changed;
  });
}

bool PostgresStore::attach_evidence(const std::string& id, const Evidence& e) {
  for (const auto* text : {&e.log_tail, &e.events_json, &e.writeback_json})
    if (*text && !is_storable_text(**text))
      throw std::invalid_argument("attach_evidence: the evidence of job " + id +
                                  " is not valid UTF-8 or holds a NUL byte");
  return pool_->transact("cannot store a job's evidence", [&](pqxx::work& tx) {
    const bool final_record =
        tx.exec_prepared("attach_evidence", id, e.log_tail, e.events_json, e.evidence_truncated).affected_rows() > 0;
    if (final_record && e.writeback_json) tx.exec_prepared("complete_writeback", id, *e.writeback_json, e.now_ms);
    return final_record;
  });
}

CancelResult PostgresStore::request_cancel(const std::string& id, std::optional<int> grace_seconds,
                                           std::int64_t now_ms) {
  return pool_->transact("cannot cancel a job", [&](pqxx::work& tx) {
    CancelResult result;
    // The row lock orders this against a concurrent claim or finish of the same job.
    auto current = read_one_job(tx.exec_prepared("lock_job", id));
    if (!current) return result;
    result.found = true;
    result.record = *current;
    // A Queued job whose Job exists already (Nautobot's, suspended) is cancelled like an active
    // one: its Job must be deleted first.
    if (current->state == JobState::Queued && current->kube_name.empty()) {
      result.record = read_jobs(tx.exec_prepared("cancel_queued", id, grace_seconds, now_ms)).at(0);
      result.cancelled_now = true;
    } else if (is_active(current->state) || current->state == JobState::Queued) {
      result.record = read_jobs(tx.exec_prepared("cancel_active", id, grace_seconds, now_ms)).at(0);
    }
    return result;
  });
}

std::vector<WriteBack> PostgresStore::due_writebacks(std::int64_t now_ms, int limit) {
  return pool_->transact("cannot list write-backs", [&](pqxx::work& tx) {
    std::vector<WriteBack> out;
    for (const auto& row : tx.exec_prepared("due_writebacks", now_ms, std::clamp(limit, 1, 1000))) {
      out.push_back(read_writeback(row));
    }
    return out;
  });
}

void PostgresStore::writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) {
  pool_->transact("cannot record a write-back",
                  [&](pqxx::work& tx) { tx.exec_prepared("writeback_done", job_id, now_ms, storable_text(outcome)); });
}

void PostgresStore::writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                                    std::int64_t /*now_ms*/) {
  pool_->transact("cannot record a write-back", [&](pqxx::work& tx) {
    tx.exec_prepared("writeback_retry", job_id, next_attempt_ms, storable_text(error));
  });
}

std::int64_t PostgresStore::pending_writebacks() {
  return pool_->transact("cannot count write-backs", [](pqxx::work& tx) {
    return tx.exec_prepared("pending_writebacks")[0][0].as<std::int64_t>();
  });
}

}  // namespace kjq::server
