#pragma once
// What the job store tests share: the two backends as a test parameter, a fresh database per
// test, and short-hands for building jobs.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>

#include "server/store/job_store.hpp"
#include "support/postgres_server.hpp"
#include "support/test_support.hpp"

namespace kjq::server {
// gtest prints states by name.
inline void PrintTo(JobState state, std::ostream* os) { *os << state_name(state); }
inline void PrintTo(JobOrigin origin, std::ostream* os) { *os << origin_name(origin); }
}  // namespace kjq::server

namespace kjq::test {

enum class StoreBackend { Sqlite, Postgres };

// gtest and CTest show the backend by name.
inline void PrintTo(StoreBackend backend, std::ostream* os) {
  *os << (backend == StoreBackend::Sqlite ? "Sqlite" : "Postgres");
}

inline std::string backend_name(const testing::TestParamInfo<StoreBackend>& info) {
  return info.param == StoreBackend::Sqlite ? "Sqlite" : "Postgres";
}

// A new empty database: a file in a temporary directory, or a new database on the shared
// PostgreSQL server. open() opens (and migrates) one more store on it, as another process would.
class StoreDatabase {
 public:
  explicit StoreDatabase(StoreBackend backend) {
    if (backend == StoreBackend::Sqlite) {
      dir_ = std::make_unique<TempDir>();
      url_ = "sqlite:" + (dir_->path() / "jobs.db").string();
    } else {
      url_ = PostgresServer::shared().create_database();
    }
  }
  const std::string& url() const { return url_; }
  std::unique_ptr<server::JobStore> open() const { return server::open_store(url_); }

  // Runs SQL (several statements allowed) on the database directly, outside any store: to build
  // an old schema, or to look at what a store wrote. Throws std::runtime_error on failure.
  void exec(const std::string& sql) const {
    if (!dir_) {
      PostgresServer::shared().psql(sql, url_.substr(url_.rfind('/') + 1));
      return;
    }
    sqlite3* db = nullptr;
    const auto file = dir_->path() / "jobs.db";
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
      sqlite3_close(db);
      throw std::runtime_error("cannot open " + file.string());
    }
    sqlite3_busy_timeout(db, 10'000);
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string why = error ? error : "unknown error";
      sqlite3_free(error);
      sqlite3_close(db);
      throw std::runtime_error("SQL failed: " + why);
    }
    sqlite3_close(db);
  }

 private:
  std::unique_ptr<TempDir> dir_;
  std::string url_;
};

// A test run once per backend, with a store on a fresh database.
class StoreTest : public testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreBackend::Postgres) KJQ_REQUIRE_POSTGRES();
    db_ = std::make_unique<StoreDatabase>(GetParam());
    store_ = db_->open();
  }

  std::unique_ptr<StoreDatabase> db_;
  std::unique_ptr<server::JobStore> store_;
};

inline server::NewJob new_job(const std::string& id, const std::string& queue = "default", std::int64_t now_ms = 1000) {
  server::NewJob job;
  job.id = id;
  job.queue = queue;
  job.now_ms = now_ms;
  return job;
}

inline server::Finish finish_as(server::JobState state, std::int64_t now_ms = 9000,
                                const std::string& reason = "Completed") {
  server::Finish f;
  f.state = state;
  f.reason = reason;
  f.now_ms = now_ms;
  return f;
}

inline server::JobFilter job_filter(const std::string& queue, std::optional<server::JobState> state = std::nullopt,
                                    int limit = 100, std::int64_t after_seq = 0,
                                    std::optional<server::JobOrigin> origin = std::nullopt) {
  server::JobFilter filter;
  filter.queue = queue;
  filter.state = state;
  filter.limit = limit;
  filter.after_seq = after_seq;
  filter.origin = origin;
  return filter;
}

// A Job Nautobot created, as the informer would adopt it: running (Submitted) unless `suspended`.
inline server::AdoptedJob adopted_job(const std::string& id, const std::string& queue = "default",
                                      bool suspended = false, std::int64_t created_ms = 500,
                                      std::int64_t now_ms = 1000) {
  server::AdoptedJob job;
  job.id = id;
  job.queue = queue;
  job.origin = server::JobOrigin::Nautobot;
  job.job_result_id = id;
  job.kube_name = "nautobot-job-" + id;
  job.kube_uid = "uid-" + id;
  job.state = suspended ? server::JobState::Queued : server::JobState::Submitted;
  job.reason = suspended ? "WaitingForAdmission" : "Adopted";
  job.created_ms = created_ms;
  job.now_ms = now_ms;
  return job;
}

inline std::vector<std::string> ids_of(const std::vector<server::JobRecord>& records) {
  std::vector<std::string> ids;
  for (const auto& r : records) ids.push_back(r.id);
  return ids;
}

// Every field, so a test can compare whole records.
inline void expect_same_record(const server::JobRecord& a, const server::JobRecord& b) {
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.queue, b.queue);
  EXPECT_EQ(a.origin, b.origin);
  EXPECT_EQ(a.job_result_id, b.job_result_id);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.data_json, b.data_json);
  EXPECT_EQ(a.time_limit_seconds, b.time_limit_seconds);
  EXPECT_EQ(a.kube_name, b.kube_name);
  EXPECT_EQ(a.kube_uid, b.kube_uid);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.log_tail, b.log_tail);
  EXPECT_EQ(a.events_json, b.events_json);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.cancel_requested, b.cancel_requested);
  EXPECT_EQ(a.cancel_grace_seconds, b.cancel_grace_seconds);
  EXPECT_EQ(a.created_ms, b.created_ms);
  EXPECT_EQ(a.submitted_ms, b.submitted_ms);
  EXPECT_EQ(a.started_ms, b.started_ms);
  EXPECT_EQ(a.finished_ms, b.finished_ms);
  EXPECT_EQ(a.updated_ms, b.updated_ms);
}

}  // namespace kjq::test
