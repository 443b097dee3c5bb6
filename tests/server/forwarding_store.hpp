#pragma once
// A JobStore wrapper for tests of the parts that use the store (the submit batcher, retention).
#include <optional>
#include <string>
#include <vector>

#include "server/store/job_store.hpp"

namespace kjq::test {

using server::AdoptedJob;
using server::CancelResult;
using server::Evidence;
using server::Finish;
using server::JobFilter;
using server::JobPage;
using server::JobRecord;
using server::JobStore;
using server::NewJob;
using server::Progress;
using server::QueueCounts;
using server::QueueSetting;
using server::Retention;
using server::StateCounts;
using server::SubmitResult;
using server::WriteBack;

// A JobStore that forwards every call to a real one; a test overrides what it watches or holds.
class ForwardingStore : public JobStore {
 public:
  explicit ForwardingStore(JobStore& inner) : inner_(inner) {}
  void migrate() override { inner_.migrate(); }
  int schema_version() override { return inner_.schema_version(); }
  std::vector<SubmitResult> submit(const std::vector<NewJob>& jobs) override { return inner_.submit(jobs); }
  std::optional<JobRecord> get(const std::string& id) override { return inner_.get(id); }
  std::optional<JobRecord> get_by_kube_name(const std::string& kube_name) override {
    return inner_.get_by_kube_name(kube_name);
  }
  JobPage list(const JobFilter& filter) override { return inner_.list(filter); }
  StateCounts count_states(const JobFilter& filter) override { return inner_.count_states(filter); }
  std::vector<QueueCounts> ended_since(std::int64_t since_ms) override { return inner_.ended_since(since_ms); }
  std::vector<QueueCounts> queue_counts() override { return inner_.queue_counts(); }
  std::vector<JobRecord> unfinished() override { return inner_.unfinished(); }
  std::vector<JobRecord> claim(const std::string& queue, int limit, int max_batch, const std::string& owner,
                               const std::string& name_prefix, std::int64_t now_ms) override {
    return inner_.claim(queue, limit, max_batch, owner, name_prefix, now_ms);
  }
  std::vector<std::string> queues_with_waiting_jobs() override { return inner_.queues_with_waiting_jobs(); }
  bool set_queue_paused(const std::string& q, bool paused, std::int64_t now) override {
    return inner_.set_queue_paused(q, paused, now);
  }
  std::vector<QueueSetting> queue_settings() override { return inner_.queue_settings(); }
  void set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) override {
    inner_.set_kube_uid(id, uid, now_ms);
  }
  bool update_progress(const std::string& id, const Progress& p) override { return inner_.update_progress(id, p); }
  bool finish(const std::string& id, const Finish& f) override { return inner_.finish(id, f); }
  bool attach_evidence(const std::string& id, const Evidence& e) override { return inner_.attach_evidence(id, e); }
  CancelResult request_cancel(const std::string& id, std::optional<int> grace_seconds, std::int64_t now_ms) override {
    return inner_.request_cancel(id, grace_seconds, now_ms);
  }
  SubmitResult adopt(const AdoptedJob& job) override { return inner_.adopt(job); }
  std::int64_t queue_position(const std::string& id) override { return inner_.queue_position(id); }
  std::vector<WriteBack> due_writebacks(std::int64_t now_ms, int limit) override {
    return inner_.due_writebacks(now_ms, limit);
  }
  void writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) override {
    inner_.writeback_done(job_id, outcome, now_ms);
  }
  void writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                       std::int64_t now_ms) override {
    inner_.writeback_retry(job_id, next_attempt_ms, error, now_ms);
  }
  std::int64_t pending_writebacks() override { return inner_.pending_writebacks(); }
  std::int64_t prune_finished(const Retention& r) override { return inner_.prune_finished(r); }

 protected:
  JobStore& inner_;
};

}  // namespace kjq::test
