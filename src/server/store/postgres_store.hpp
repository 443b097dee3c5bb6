#pragma once
// JobStore on PostgreSQL, for several serve replicas sharing one database. A small pool of
// connections serves the threads of this process; a connection found broken is dropped and the
// operation retried once on a fresh one (it had not committed). Claims are serialised per queue
// across processes by a transaction-scoped advisory lock; finishing is first-writer-wins.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "server/store/job_store.hpp"

namespace kjq::server {

class PostgresStore final : public JobStore {
 public:
  // Opens one connection right away, so a bad URL or an unreachable server fails here. Does not
  // migrate (open_store does). Throws kjq::RuntimeError without the password.
  explicit PostgresStore(const std::string& url, int pool_size = 4);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

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

  // Folds job_count_deltas into job_counts (migration 5) in one transaction: returns how many
  // delta rows it folded, or -1 when another process was folding them (nothing done). Vacuums
  // job_count_deltas once 10,000 folded rows have piled up dead in it. The reads and claim() call
  // it at most once a second; the counts are exact either way.
  std::int64_t compact_counts();

  class Pool;  // connections, retries and error wording (postgres_store.cpp)

 private:
  void maybe_compact_counts();

  std::unique_ptr<Pool> pool_;
  std::atomic<std::int64_t> next_compaction_ms_{0};  // steady clock
  std::atomic<std::int64_t> folded_since_vacuum_{0};
};

// The advisory-lock key for claims on `queue`: FNV-1a 64 of a kjq-specific prefix and the name,
// the same in every process and every build.
std::int64_t claim_lock_key(const std::string& queue);

}  // namespace kjq::server
