#pragma once
// JobStore on one SQLite file in WAL mode. Submissions are fsynced before submit() returns
// (synchronous=FULL for that commit); other writes are synchronous=NORMAL (see sqlite_store.cpp).
// Every write runs in BEGIN IMMEDIATE, which takes the file's write lock up front,
// so several processes on one file serialise their writes (claim's cap holds across them) and
// wait (busy_timeout) instead of failing. Within a process, one connection behind a mutex.
#include <memory>
#include <mutex>
#include <string>

#include "server/store/job_store.hpp"

namespace kjq::server {

class SqliteStore final : public JobStore {
 public:
  // Opens `path`, creating the file when missing. Does not migrate (open_store does).
  // Throws kjq::RuntimeError naming the path.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void migrate() override;
  int schema_version() override;
  std::vector<SubmitResult> submit(const std::vector<NewJob>& jobs) override;
  SubmitResult adopt(const AdoptedJob& job) override;
  std::optional<JobRecord> get(const std::string& id) override;
  std::optional<JobRecord> get_by_kube_name(const std::string& kube_name) override;
  JobPage list(const JobFilter& filter) override;
  StateCounts count_states(const JobFilter& filter) override;
  std::vector<QueueCounts> ended_since(std::int64_t since_ms) override;
  std::vector<QueueCounts> queue_counts() override;
  std::vector<JobRecord> unfinished() override;
  std::vector<JobRecord> claim(const std::string& queue, int limit, int max_batch, const std::string& owner,
                               const std::string& name_prefix, std::int64_t now_ms) override;
  std::vector<std::string> queues_with_waiting_jobs() override;
  bool set_queue_paused(const std::string& queue, bool paused, std::int64_t now_ms) override;
  std::vector<QueueSetting> queue_settings() override;
  std::int64_t queue_position(const std::string& id) override;
  void set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) override;
  bool update_progress(const std::string& id, const Progress& p) override;
  bool finish(const std::string& id, const Finish& f) override;
  bool attach_evidence(const std::string& id, const Evidence& e) override;
  CancelResult request_cancel(const std::string& id, std::optional<int> grace_seconds, std::int64_t now_ms) override;
  std::vector<WriteBack> due_writebacks(std::int64_t now_ms, int limit) override;
  void writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) override;
  void writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                       std::int64_t now_ms) override;
  std::int64_t pending_writebacks() override;
  std::int64_t prune_finished(const Retention& r) override;

  class Connection;  // the sqlite3 handle and its cached statements (sqlite_store.cpp)

 private:
  std::mutex mutex_;  // one statement at a time on the one connection
  std::unique_ptr<Connection> db_;
};

}  // namespace kjq::server
