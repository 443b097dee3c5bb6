#include "server/store/postgres_store.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "server/store/migrations.hpp"
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
      // One statement per filter shape, so each gets a plan that uses its index.
      {"list_all", kSelectPgJob + " WHERE seq > $1::bigint ORDER BY seq LIMIT $2::integer"},
      {"list_queue", kSelectPgJob + " WHERE seq > $1::bigint AND queue = $2::text ORDER BY seq LIMIT $3::integer"},
      {"list_state", kSelectPgJob + " WHERE seq > $1::bigint AND state = $2::text ORDER BY seq LIMIT $3::integer"},
      {"list_queue_state", kSelectPgJob + " WHERE seq > $1::bigint AND queue = $2::text AND state = $3::text"
                                          " ORDER BY seq LIMIT $4::integer"},
      {"queue_counts", "SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state ORDER BY queue"},
      {"unfinished", kSelectPgJob + " WHERE state IN ('Queued','Submitted','Scheduled','Running') ORDER BY seq"},
      {"claim_lock", "SELECT pg_advisory_xact_lock($1::bigint)"},
      {"count_active",
       "SELECT COUNT(*) FROM jobs WHERE queue = $1::text AND state IN "
       "('Submitted','Scheduled','Running')"},
      // SKIP LOCKED: a row a concurrent cancel holds is left for the next round instead of waited
      // on.
      {"claim",
       "WITH picked AS (SELECT seq AS picked_seq FROM jobs WHERE queue = $1::text AND state = "
       "'Queued'"
       " ORDER BY seq LIMIT $2::bigint FOR UPDATE SKIP LOCKED)"
       " UPDATE jobs SET state = 'Submitted', reason = 'Dispatching', message = '', owner = "
       "$3::text,"
       " kube_name = $4::text || '-' || id, submitted_ms = $5::bigint, updated_ms = $5::bigint"
       " FROM picked WHERE seq = picked.picked_seq RETURNING " +
           kColumns},
      {"waiting_queues", "SELECT DISTINCT queue FROM jobs WHERE state = 'Queued' ORDER BY queue"},
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
       " events_json = COALESCE($7::text, events_json), finished_ms = $8::bigint, updated_ms = "
       "$8::bigint"
       " WHERE id = $1::text AND " +
           std::string(kNotFinalSql)},
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
  return r;
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

std::optional<JobRecord> PostgresStore::get(const std::string& id) {
  return pool_->transact("cannot read a job",
                         [&](pqxx::work& tx) { return read_one_job(tx.exec_prepared("get", id)); });
}

std::optional<JobRecord> PostgresStore::get_by_kube_name(const std::string& kube_name) {
  if (kube_name.empty()) return std::nullopt;  // unclaimed jobs all have an empty kube_name
  return pool_->transact("cannot read a job",
                         [&](pqxx::work& tx) { return read_one_job(tx.exec_prepared("get_by_kube_name", kube_name)); });
}

JobPage PostgresStore::list(const JobFilter& filter) {
  const int limit = std::clamp(filter.limit, 1, 1000);
  const int fetch = limit + 1;  // one row more than asked tells whether another page exists
  auto rows = pool_->transact("cannot list jobs", [&](pqxx::work& tx) {
    const bool by_queue = !filter.queue.empty();
    if (by_queue && filter.state) {
      return tx.exec_prepared("list_queue_state", filter.after_seq, filter.queue, state_name(*filter.state), fetch);
    }
    if (by_queue) return tx.exec_prepared("list_queue", filter.after_seq, filter.queue, fetch);
    if (filter.state) return tx.exec_prepared("list_state", filter.after_seq, state_name(*filter.state), fetch);
    return tx.exec_prepared("list_all", filter.after_seq, fetch);
  });
  JobPage page;
  page.items = read_jobs(rows);
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.resize(static_cast<std::size_t>(limit));
    page.next_after_seq = page.items.back().seq;
  }
  return page;
}

std::vector<QueueCounts> PostgresStore::queue_counts() {
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
    std::int64_t wanted = max_batch;
    if (limit > 0) {
      const auto active = tx.exec_prepared("count_active", queue)[0][0].as<std::int64_t>();
      wanted = std::min<std::int64_t>(wanted, limit - active);
    }
    if (wanted <= 0) return {};
    return read_jobs(tx.exec_prepared("claim", queue, wanted, owner, name_prefix, now_ms));
  });
  std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  return claimed;
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
  return pool_->transact("cannot finish a job", [&](pqxx::work& tx) {
    return tx.exec_prepared("finish", id, state_name(f.state), f.reason, f.message, f.exit_code, f.log_tail,
                            f.events_json, f.now_ms)
               .affected_rows() > 0;
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
    if (current->state == JobState::Queued) {
      result.record = read_jobs(tx.exec_prepared("cancel_queued", id, grace_seconds, now_ms)).at(0);
      result.cancelled_now = true;
    } else if (is_active(current->state)) {
      result.record = read_jobs(tx.exec_prepared("cancel_active", id, grace_seconds, now_ms)).at(0);
    }
    return result;
  });
}

}  // namespace kjq::server
