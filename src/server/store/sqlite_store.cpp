#include "server/store/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "server/store/list_query.hpp"
#include "server/store/migrations.hpp"
#include "server/store/store_text.hpp"
#include "util/clock.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

namespace {
constexpr int kBusyTimeoutMs = 10'000;
}  // namespace

class SqliteStore::Connection {
 public:
  explicit Connection(const std::string& path) : path_(path) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw RuntimeError("job store sqlite:" + path_ + ": cannot open: " + why);
    }
    sqlite3_extended_result_codes(db_, 1);
    // Set before anything else touches the file, so even the WAL switch waits for other processes.
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    try {
      if (pragma("PRAGMA journal_mode=WAL") != "wal") {
        throw RuntimeError("job store sqlite:" + path_ + ": cannot switch to WAL journal mode");
      }
      // NORMAL in WAL mode: a commit survives the process being killed (it is in the OS), and
      // only a power loss can take the last ones back. Submissions, which must survive anything
      // once acknowledged, switch to FULL for their own commit (submit()). Everything else is
      // state re-derived from the cluster after a restart, and an fsync per watch event would
      // cap the service at the disk's fsync rate.
      exec("PRAGMA synchronous=NORMAL");
      exec("PRAGMA foreign_keys=ON");
    } catch (...) {
      sqlite3_close(db_);
      throw;
    }
  }

  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* handle() const { return db_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw RuntimeError("job store sqlite:" + path_ + ": " + what + ": " + sqlite3_errmsg(db_));
  }

  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail("cannot run SQL");
  }

  // A statement compiled once per connection and reused (callers reset it after use).
  sqlite3_stmt* statement(const std::string& sql) {
    auto found = cache_.find(sql);
    if (found != cache_.end()) return found->second;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      fail("cannot prepare SQL");
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

 private:
  std::string pragma(const char* sql) {
    std::string value;
    auto collect = [](void* out, int columns, char** values, char**) {
      if (columns > 0 && values[0]) *static_cast<std::string*>(out) = values[0];
      return 0;
    };
    if (sqlite3_exec(db_, sql, collect, &value, nullptr) != SQLITE_OK) fail("cannot run SQL");
    return value;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

namespace {

using Connection = SqliteStore::Connection;

// One use of a cached statement: binds parameters ?1, ?2, … in order, steps, and on scope exit
// resets the statement so the next use (and the file's locks) start clean.
class Query {
 public:
  template <typename... Args>
  Query(Connection& db, const std::string& sql, const Args&... args) : db_(db), stmt_(db.statement(sql)) {
    int index = 0;
    (bind(++index, args), ...);
  }
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // True while a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail("statement failed");
  }
  void run() {
    while (step()) {
    }
  }
  // Binds ?1, ?2, … from a list built at run time (list_query.hpp).
  void bind_all(const std::vector<SqlParam>& params) {
    int index = 0;
    for (const auto& p : params) {
      ++index;
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        bind(index, *n);
      } else {
        bind(index, std::get<std::string>(p));
      }
    }
  }

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  sqlite3_stmt* handle() const { return stmt_; }
  std::optional<int> optional_int(int col) const {
    if (sqlite3_column_type(stmt_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int(stmt_, col);
  }
  std::string text(int col) const {
    const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return bytes ? std::string(bytes, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) db_.fail("cannot bind a parameter");
  }
  void bind(int i, std::int64_t v) { check(sqlite3_bind_int64(stmt_, i, v)); }
  void bind(int i, int v) { check(sqlite3_bind_int(stmt_, i, v)); }
  void bind(int i, bool v) { check(sqlite3_bind_int(stmt_, i, v ? 1 : 0)); }
  void bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  void bind(int i, const char* v) { bind(i, std::string(v)); }
  template <typename T>
  void bind(int i, const std::optional<T>& v) {
    if (v) {
      bind(i, *v);
    } else {
      check(sqlite3_bind_null(stmt_, i));
    }
  }

  Connection& db_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE … COMMIT; rolls back when left without commit (an exception).
class WriteTransaction {
 public:
  explicit WriteTransaction(Connection& db) : db_(db) { Query(db_, "BEGIN IMMEDIATE").run(); }
  ~WriteTransaction() {
    if (!committed_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit() {
    Query(db_, "COMMIT").run();
    committed_ = true;
  }

 private:
  Connection& db_;
  bool committed_ = false;
};

// Decodes a row selected as kJobColumns.
JobRecord read_job(const Query& q) {
  JobRecord r;
  r.seq = q.int64(0);
  r.id = q.text(1);
  r.queue = q.text(2);
  const auto state_text = q.text(3);
  const auto state = parse_state(state_text);
  if (!state) throw RuntimeError("job store: job " + r.id + " has an unknown state \"" + state_text + "\"");
  r.state = *state;
  r.reason = q.text(4);
  r.message = q.text(5);
  r.data_json = q.text(6);
  r.time_limit_seconds = q.optional_int(7);
  r.kube_name = q.text(8);
  r.kube_uid = q.text(9);
  r.exit_code = q.optional_int(10);
  r.log_tail = q.text(11);
  r.events_json = q.text(12);
  r.owner = q.text(13);
  r.cancel_requested = q.int64(14) != 0;
  r.cancel_grace_seconds = q.optional_int(15);
  r.created_ms = q.int64(16);
  r.submitted_ms = q.int64(17);
  r.started_ms = q.int64(18);
  r.finished_ms = q.int64(19);
  r.updated_ms = q.int64(20);
  const auto origin_text = q.text(21);
  const auto origin = parse_origin(origin_text);
  if (!origin) throw RuntimeError("job store: job " + r.id + " has an unknown origin \"" + origin_text + "\"");
  r.origin = *origin;
  r.job_result_id = q.text(22);
  r.evidence_truncated = q.int64(23) != 0;
  return r;
}

std::vector<JobRecord> read_jobs(Query& q) {
  std::vector<JobRecord> out;
  while (q.step()) out.push_back(read_job(q));
  return out;
}

std::optional<JobRecord> read_one_job(Query& q) {
  auto jobs = read_jobs(q);
  if (jobs.empty()) return std::nullopt;
  return std::move(jobs.front());
}

const std::string kSelectSqliteJob = std::string("SELECT ") + kJobColumns + " FROM jobs";

std::optional<JobRecord> select_by_id(Connection& db, const std::string& id) {
  Query q(db, kSelectSqliteJob + " WHERE id = ?1", id);
  return read_one_job(q);
}

// Decodes a row selected as kWriteBackColumns.
WriteBack read_writeback(const Query& q) {
  WriteBack w;
  w.job_id = q.text(0);
  w.payload_json = q.text(1);
  w.attempts = static_cast<int>(q.int64(2));
  w.next_attempt_ms = q.int64(3);
  w.last_error = q.text(4);
  w.created_ms = q.int64(5);
  return w;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path) : db_(std::make_unique<Connection>(path)) {}

SqliteStore::~SqliteStore() = default;

void SqliteStore::migrate() {
  std::lock_guard lock(mutex_);
  {
    WriteTransaction tx(*db_);
    db_->exec(kCreateSchemaMigrationsSql);
    tx.commit();
  }
  // One transaction per migration; the write lock makes a second process wait and then see the
  // version recorded, so it skips it.
  for (const auto& m : migrations()) {
    WriteTransaction tx(*db_);
    bool applied = false;
    {
      Query q(*db_, "SELECT 1 FROM schema_migrations WHERE version = ?1", m.version);
      applied = q.step();
    }
    if (applied) continue;
    db_->exec(m.sqlite_sql);
    Query(*db_, "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)", m.version, now_ms()).run();
    tx.commit();
  }
}

int SqliteStore::schema_version() {
  std::lock_guard lock(mutex_);
  {
    Query exists(*db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists.step()) return 0;
  }
  Query q(*db_, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return q.step() ? static_cast<int>(q.int64(0)) : 0;
}

std::vector<SubmitResult> SqliteStore::submit(const std::vector<NewJob>& jobs) {
  std::lock_guard lock(mutex_);
  std::vector<SubmitResult> results;
  results.reserve(jobs.size());
  // Acknowledged submissions are fsynced (the WAL) before this returns, whatever the default.
  struct FullSync {
    Connection& db;
    explicit FullSync(Connection& c) : db(c) { db.exec("PRAGMA synchronous=FULL"); }
    ~FullSync() { sqlite3_exec(db.handle(), "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr); }
  } full_sync(*db_);
  WriteTransaction tx(*db_);
  for (const auto& job : jobs) {
    SubmitResult result;
    {
      Query insert(*db_,
                   "INSERT INTO jobs (id, queue, state, data_json, time_limit_seconds, created_ms, "
                   "updated_ms)"
                   " VALUES (?1, ?2, 'Queued', ?3, ?4, ?5, ?5) ON CONFLICT (id) DO NOTHING RETURNING " +
                       std::string(kJobColumns),
                   job.id, job.queue, job.data_json, job.time_limit_seconds, job.now_ms);
      auto inserted = read_one_job(insert);
      if (inserted) {
        result.record = std::move(*inserted);
        result.inserted = true;
      }
    }
    if (!result.inserted) {
      auto existing = select_by_id(*db_, job.id);
      if (!existing) db_->fail("job " + job.id + " neither inserted nor found");
      result.record = std::move(*existing);
    }
    results.push_back(std::move(result));
  }
  tx.commit();
  return results;
}

SubmitResult SqliteStore::adopt(const AdoptedJob& job) {
  if (job.state != JobState::Queued && job.state != JobState::Submitted) {
    throw std::invalid_argument("adopt: " + state_name(job.state) + " is neither Queued nor Submitted");
  }
  const std::int64_t submitted_ms = job.state == JobState::Submitted ? job.now_ms : 0;
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  SubmitResult result;
  {
    Query insert(*db_,
                 "INSERT INTO jobs (id, queue, origin, job_result_id, state, reason, kube_name, kube_uid,"
                 " data_json, created_ms, submitted_ms, updated_ms)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '{}', ?9, ?10, ?11)"
                 " ON CONFLICT (id) DO NOTHING RETURNING " +
                     std::string(kJobColumns),
                 job.id, job.queue, origin_name(job.origin), job.job_result_id, state_name(job.state), job.reason,
                 job.kube_name, job.kube_uid, job.created_ms, submitted_ms, job.now_ms);
    auto inserted = read_one_job(insert);
    if (inserted) {
      result.record = std::move(*inserted);
      result.inserted = true;
    }
  }
  if (!result.inserted) {
    auto existing = select_by_id(*db_, job.id);
    if (!existing) db_->fail("job " + job.id + " neither inserted nor found");
    result.record = std::move(*existing);
  }
  tx.commit();
  return result;
}

std::optional<JobRecord> SqliteStore::get(const std::string& id) {
  std::lock_guard lock(mutex_);
  return select_by_id(*db_, id);
}

std::optional<JobRecord> SqliteStore::get_by_kube_name(const std::string& kube_name) {
  if (kube_name.empty()) return std::nullopt;  // unclaimed jobs all have an empty kube_name
  std::lock_guard lock(mutex_);
  Query q(*db_, kSelectSqliteJob + " WHERE kube_name = ?1 ORDER BY seq LIMIT 1", kube_name);
  return read_one_job(q);
}

JobPage SqliteStore::list(const JobFilter& filter) {
  const int limit = std::clamp(filter.limit, 1, 1000);
  // One row more than asked tells whether another page exists.
  const SqlQuery sql = list_jobs_sql(filter, SqlDialect::Sqlite, limit + 1);
  std::lock_guard lock(mutex_);
  Query q(*db_, sql.sql);
  q.bind_all(sql.params);
  JobPage page;
  page.items = read_jobs(q);
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.resize(static_cast<std::size_t>(limit));
    page.next_after_seq = page.items.back().seq;
  }
  return page;
}

StateCounts SqliteStore::count_states(const JobFilter& filter) {
  const SqlQuery sql = count_states_sql(filter, SqlDialect::Sqlite);
  std::lock_guard lock(mutex_);
  Query q(*db_, sql.sql);
  q.bind_all(sql.params);
  std::vector<std::vector<std::string>> rows;
  const int columns = sqlite3_column_count(q.handle());
  while (q.step()) {
    auto& row = rows.emplace_back();
    for (int i = 0; i < columns; ++i) row.push_back(q.text(i));  // NULL reads as ""
  }
  StateCounts counts;
  read_state_counts(rows, counts);
  return counts;
}

std::vector<QueueCounts> SqliteStore::ended_since(std::int64_t since_ms) {
  const SqlQuery sql = ended_since_sql(since_ms, SqlDialect::Sqlite);
  std::lock_guard lock(mutex_);
  Query q(*db_, sql.sql);
  q.bind_all(sql.params);
  std::map<std::string, QueueCounts> by_queue;  // by name, whatever order the rows come in
  while (q.step()) {
    auto& c = by_queue[q.text(0)];
    c.queue = q.text(0);
    c.add(parse_state(q.text(1)).value_or(JobState::Queued), q.int64(2));
  }
  std::vector<QueueCounts> out;
  out.reserve(by_queue.size());
  for (auto& [_, c] : by_queue) out.push_back(std::move(c));
  return out;
}

std::int64_t SqliteStore::prune_finished(const Retention& r) {
  if (r.batch <= 0 || (!r.finished_before_ms && !r.keep_max_finished)) return 0;
  const std::string candidates = std::string("SELECT id FROM jobs WHERE state IN ('Succeeded','Failed','Cancelled')") +
                                 " AND NOT EXISTS (SELECT 1 FROM writebacks AS w WHERE w.job_id = jobs.id"
                                 " AND w.done_ms IS NULL)";
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  std::vector<std::string> doomed;
  if (r.finished_before_ms) {
    Query q(*db_, candidates + " AND finished_ms < ?1 ORDER BY finished_ms, seq LIMIT ?2", *r.finished_before_ms,
            r.batch);
    while (q.step()) doomed.push_back(q.text(0));
  }
  if (r.keep_max_finished && static_cast<int>(doomed.size()) < r.batch) {
    std::int64_t finished = 0;
    {
      Query count(*db_, "SELECT COUNT(*) FROM jobs WHERE state IN ('Succeeded','Failed','Cancelled')");
      if (count.step()) finished = count.int64(0);
    }
    const std::int64_t excess =
        std::min<std::int64_t>(finished - static_cast<std::int64_t>(doomed.size()) - *r.keep_max_finished,
                               r.batch - static_cast<std::int64_t>(doomed.size()));
    if (excess > 0) {
      // Those picked above are the oldest anyway; skip past them.
      Query q(*db_, candidates + " ORDER BY finished_ms, seq LIMIT ?1 OFFSET ?2", excess,
              static_cast<std::int64_t>(doomed.size()));
      while (q.step()) doomed.push_back(q.text(0));
    }
  }
  for (const auto& id : doomed) {
    Query(*db_, "DELETE FROM writebacks WHERE job_id = ?1", id).run();
    Query(*db_, "DELETE FROM jobs WHERE id = ?1", id).run();
  }
  tx.commit();
  return static_cast<std::int64_t>(doomed.size());
}

std::vector<QueueCounts> SqliteStore::queue_counts() {
  std::lock_guard lock(mutex_);
  Query q(*db_, "SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state ORDER BY queue");
  std::vector<QueueCounts> out;
  while (q.step()) {
    const auto queue = q.text(0);
    if (out.empty() || out.back().queue != queue) {
      out.emplace_back();
      out.back().queue = queue;
    }
    const auto n = q.int64(2);
    out.back().add(parse_state(q.text(1)).value_or(JobState::Queued), n);
  }
  return out;
}

std::vector<JobRecord> SqliteStore::unfinished() {
  std::lock_guard lock(mutex_);
  Query q(*db_, kSelectSqliteJob + " WHERE state IN ('Queued','Submitted','Scheduled','Running') ORDER BY seq");
  return read_jobs(q);
}

std::vector<JobRecord> SqliteStore::claim(const std::string& queue, int limit, int max_batch, const std::string& owner,
                                          const std::string& name_prefix, std::int64_t now_ms) {
  if (max_batch <= 0) return {};
  std::lock_guard lock(mutex_);
  // The write lock is taken before counting, so no other process can claim between the count
  // and the update.
  WriteTransaction tx(*db_);
  {
    Query paused(*db_, "SELECT paused FROM queue_settings WHERE queue = ?1", queue);
    if (paused.step() && paused.int64(0) != 0) return {};
  }
  std::int64_t wanted = max_batch;
  if (limit > 0) {
    Query active(*db_,
                 "SELECT COUNT(*) FROM jobs WHERE queue = ?1 AND state IN "
                 "('Submitted','Scheduled','Running')",
                 queue);
    active.step();
    wanted = std::min<std::int64_t>(wanted, limit - active.int64(0));
  }
  if (wanted <= 0) return {};
  std::vector<JobRecord> claimed;
  {
    Query q(*db_,
            "UPDATE jobs SET state = 'Submitted', reason = 'Dispatching', message = '', owner = ?3,"
            " kube_name = CASE WHEN kube_name = '' THEN ?4 || '-' || id ELSE kube_name END,"
            " submitted_ms = ?5, updated_ms = ?5"
            " WHERE seq IN (SELECT seq FROM jobs WHERE queue = ?1 AND state = 'Queued' AND " +
                std::string(kClaimableSql) +
                " ORDER BY seq LIMIT ?2)"
                " RETURNING " +
                std::string(kJobColumns),
            queue, wanted, owner, name_prefix, now_ms);
    claimed = read_jobs(q);
  }
  tx.commit();
  std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  return claimed;
}

std::vector<std::string> SqliteStore::queues_with_waiting_jobs() {
  std::lock_guard lock(mutex_);
  Query q(*db_, std::string("SELECT DISTINCT queue FROM jobs WHERE state = 'Queued' AND ") + kClaimableSql + " AND " +
                    kNotPausedSql + " ORDER BY queue");
  std::vector<std::string> out;
  while (q.step()) out.push_back(q.text(0));
  return out;
}

bool SqliteStore::set_queue_paused(const std::string& queue, bool paused, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  // BEGIN IMMEDIATE: the same write lock claim() holds, so a claim is either before or after.
  WriteTransaction tx(*db_);
  {
    Query now(*db_, "SELECT paused FROM queue_settings WHERE queue = ?1", queue);
    const bool was_paused = now.step() && now.int64(0) != 0;
    if (was_paused == paused) return false;
  }
  Query(*db_,
        "INSERT INTO queue_settings (queue, paused, changed_ms) VALUES (?1, ?2, ?3)"
        " ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused, changed_ms = excluded.changed_ms",
        queue, paused, now_ms)
      .run();
  tx.commit();
  return true;
}

std::vector<QueueSetting> SqliteStore::queue_settings() {
  std::lock_guard lock(mutex_);
  Query q(*db_, "SELECT queue, paused, changed_ms FROM queue_settings ORDER BY queue");
  std::vector<QueueSetting> out;
  while (q.step()) out.push_back({q.text(0), q.int64(1) != 0, q.int64(2)});
  return out;
}

std::int64_t SqliteStore::queue_position(const std::string& id) {
  std::lock_guard lock(mutex_);
  // Counts the record itself too: 1 + those ahead of it; no row for `id` (or not Queued): 0.
  Query q(*db_,
          "SELECT COUNT(*) FROM jobs AS me JOIN jobs AS ahead ON ahead.queue = me.queue"
          " AND ahead.state = 'Queued' AND ahead.seq <= me.seq WHERE me.id = ?1 AND me.state = 'Queued'",
          id);
  return q.step() ? q.int64(0) : 0;
}

void SqliteStore::set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) {
  if (uid.empty()) return;
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  Query(*db_, "UPDATE jobs SET kube_uid = ?2, updated_ms = ?3 WHERE id = ?1 AND kube_uid = ''", id, uid, now_ms).run();
  tx.commit();
}

bool SqliteStore::update_progress(const std::string& id, const Progress& p) {
  if (!is_active(p.state))
    throw std::invalid_argument("update_progress: " + state_name(p.state) + " is not an active state");
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  Query(*db_,
        std::string("UPDATE jobs SET state = ?2, reason = ?3, message = ?4, exit_code = COALESCE(?5, "
                    "exit_code),"
                    " started_ms = CASE WHEN ?2 = 'Running' AND started_ms = 0 THEN ?6 ELSE started_ms END,"
                    " updated_ms = ?6 WHERE id = ?1 AND ") +
            kNotFinalSql,
        id, state_name(p.state), p.reason, p.message, p.exit_code, p.now_ms)
      .run();
  const bool changed = sqlite3_changes(db_->handle()) > 0;
  tx.commit();
  return changed;
}

bool SqliteStore::finish(const std::string& id, const Finish& f) {
  if (!is_final(f.state)) throw std::invalid_argument("finish: " + state_name(f.state) + " is not a final state");
  if (f.writeback_json && !is_storable_text(*f.writeback_json)) {
    throw std::invalid_argument("finish: the write-back of job " + id + " is not valid UTF-8 or holds a NUL byte");
  }
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  // The state condition makes the first finish the only one that changes the row.
  Query(*db_,
        std::string("UPDATE jobs SET state = ?2, reason = ?3, message = ?4, exit_code = "
                    "COALESCE(?5, exit_code),"
                    " log_tail = COALESCE(?6, log_tail), events_json = COALESCE(?7, events_json),"
                    " evidence_truncated = ?9, finished_ms = ?8, updated_ms = ?8 WHERE id = ?1 AND ") +
            kNotFinalSql,
        id, state_name(f.state), f.reason, f.message, f.exit_code, f.log_tail, f.events_json, f.now_ms,
        f.evidence_truncated)
      .run();
  const bool changed = sqlite3_changes(db_->handle()) > 0;
  if (changed && f.writeback_json) {
    Query(*db_,
          "INSERT INTO writebacks (job_id, payload_json, attempts, next_attempt_ms, last_error, created_ms)"
          " VALUES (?1, ?2, 0, ?3, '', ?4)",
          id, *f.writeback_json, f.writeback_due_ms ? f.writeback_due_ms : f.now_ms, f.now_ms)
        .run();
  }
  tx.commit();
  return changed;
}

bool SqliteStore::attach_evidence(const std::string& id, const Evidence& e) {
  for (const auto* text : {&e.log_tail, &e.events_json, &e.writeback_json})
    if (*text && !is_storable_text(**text))
      throw std::invalid_argument("attach_evidence: the evidence of job " + id +
                                  " is not valid UTF-8 or holds a NUL byte");
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  Query(*db_,
        std::string("UPDATE jobs SET log_tail = COALESCE(?2, log_tail), events_json = COALESCE(?3, events_json),"
                    " evidence_truncated = MAX(evidence_truncated, ?4) WHERE id = ?1 AND NOT (") +
            kNotFinalSql + ")",
        id, e.log_tail, e.events_json, e.evidence_truncated)
      .run();
  const bool final_record = sqlite3_changes(db_->handle()) > 0;
  if (final_record && e.writeback_json) {
    Query(*db_,
          "UPDATE writebacks SET payload_json = ?2, next_attempt_ms = ?3"
          " WHERE job_id = ?1 AND done_ms IS NULL AND attempts = 0",
          id, *e.writeback_json, e.now_ms)
        .run();
  }
  tx.commit();
  return final_record;
}

CancelResult SqliteStore::request_cancel(const std::string& id, std::optional<int> grace_seconds, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  CancelResult result;
  auto current = select_by_id(*db_, id);
  if (!current) return result;
  result.found = true;
  // A Queued job whose Job exists already (Nautobot's, suspended) is cancelled like an active
  // one: its Job must be deleted first.
  if (current->state == JobState::Queued && current->kube_name.empty()) {
    Query(*db_,
          "UPDATE jobs SET state = 'Cancelled', reason = 'CancelledBeforeStart',"
          " message = 'cancelled before it was dispatched', cancel_requested = 1,"
          " cancel_grace_seconds = COALESCE(?2, cancel_grace_seconds), finished_ms = ?3, "
          "updated_ms = ?3"
          " WHERE id = ?1",
          id, grace_seconds, now_ms)
        .run();
    result.cancelled_now = true;
  } else if (is_active(current->state) || current->state == JobState::Queued) {
    Query(*db_,
          "UPDATE jobs SET cancel_requested = 1, cancel_grace_seconds = COALESCE(?2, "
          "cancel_grace_seconds),"
          " updated_ms = ?3 WHERE id = ?1",
          id, grace_seconds, now_ms)
        .run();
  }
  result.record = select_by_id(*db_, id).value_or(*current);
  tx.commit();
  return result;
}

std::vector<WriteBack> SqliteStore::due_writebacks(std::int64_t now_ms, int limit) {
  std::lock_guard lock(mutex_);
  Query q(*db_,
          std::string("SELECT ") + kWriteBackColumns +
              " FROM writebacks WHERE done_ms IS NULL AND next_attempt_ms <= ?1 ORDER BY created_ms, job_id LIMIT ?2",
          now_ms, std::clamp(limit, 1, 1000));
  std::vector<WriteBack> out;
  while (q.step()) out.push_back(read_writeback(q));
  return out;
}

void SqliteStore::writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  Query(*db_, "UPDATE writebacks SET done_ms = ?2, outcome = ?3 WHERE job_id = ?1 AND done_ms IS NULL", job_id, now_ms,
        storable_text(outcome))
      .run();
  tx.commit();
}

void SqliteStore::writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                                  std::int64_t /*now_ms*/) {
  std::lock_guard lock(mutex_);
  WriteTransaction tx(*db_);
  Query(*db_,
        "UPDATE writebacks SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3"
        " WHERE job_id = ?1 AND done_ms IS NULL",
        job_id, next_attempt_ms, storable_text(error))
      .run();
  tx.commit();
}

std::int64_t SqliteStore::pending_writebacks() {
  std::lock_guard lock(mutex_);
  Query q(*db_, "SELECT COUNT(*) FROM writebacks WHERE done_ms IS NULL");
  return q.step() ? q.int64(0) : 0;
}

}  // namespace kjq::server
