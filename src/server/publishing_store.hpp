#pragma once
// A JobStore that tells the change feed (GET /api/v1/events) about every change it makes: it
// forwards each call to the real store and, for a call that changed something, publishes a small
// event. Every part of serve (API, admission, tracker) writes through it, so no change made by
// this process is missed and none is published that did not happen.
//
//   event: job    data: {"id","state","reason","at"[,"queue","origin","exitCode","cancelRequested"]}
//   event: queue  data: {"name","paused","at"}
//
// Events say what changed, not the whole record: a page that wants more asks the API.
#include <memory>

#include "server/change_feed.hpp"
#include "server/store/job_store.hpp"

namespace kjq::server {

class PublishingStore final : public JobStore {
 public:
  PublishingStore(std::unique_ptr<JobStore> inner, ChangeFeed& feed) : inner_(std::move(inner)), feed_(feed) {}

  void migrate() override { inner_->migrate(); }
  int schema_version() override { return inner_->schema_version(); }
  std::vector<SubmitResult> submit(const std::vector<NewJob>& jobs) override;
  SubmitResult adopt(const AdoptedJob& job) override;
  std::optional<JobRecord> get(const std::string& id) override { return inner_->get(id); }
  std::optional<JobRecord> get_by_kube_name(const std::string& kube_name) override {
    return inner_->get_by_kube_name(kube_name);
  }
  JobPage list(const JobFilter& filter) override { return inner_->list(filter); }
  StateCounts count_states(const JobFilter& filter) override { return inner_->count_states(filter); }
  std::vector<QueueCounts> ended_since(std::int64_t since_ms) override { return inner_->ended_since(since_ms); }
  std::vector<QueueCounts> queue_counts() override { return inner_->queue_counts(); }
  std::vector<JobRecord> unfinished() override { return inner_->unfinished(); }
  std::vector<JobRecord> claim(const std::string& queue, int limit, int max_batch, const std::string& owner,
                               const std::string& name_prefix, std::int64_t now_ms) override;
  std::vector<std::string> queues_with_waiting_jobs() override { return inner_->queues_with_waiting_jobs(); }
  bool set_queue_paused(const std::string& queue, bool paused, std::int64_t now_ms) override;
  std::vector<QueueSetting> queue_settings() override { return inner_->queue_settings(); }
  std::int64_t queue_position(const std::string& id) override { return inner_->queue_position(id); }
  void set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) override {
    inner_->set_kube_uid(id, uid, now_ms);
  }
  bool update_progress(const std::string& id, const Progress& p) override;
  bool finish(const std::string& id, const Finish& f) override;
  // The evidence follows the end: its event makes an open job page read the record again.
  bool attach_evidence(const std::string& id, const Evidence& e) override;
  CancelResult request_cancel(const std::string& id, std::optional<int> grace_seconds, std::int64_t now_ms) override;
  std::vector<WriteBack> due_writebacks(std::int64_t now_ms, int limit) override {
    return inner_->due_writebacks(now_ms, limit);
  }
  void writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) override {
    inner_->writeback_done(job_id, outcome, now_ms);
  }
  void writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                       std::int64_t now_ms) override {
    inner_->writeback_retry(job_id, next_attempt_ms, error, now_ms);
  }
  std::int64_t pending_writebacks() override { return inner_->pending_writebacks(); }
  // Retention deletes finished records; pages drop them on their next read, so no event is sent.
  std::int64_t prune_finished(const Retention& r) override { return inner_->prune_finished(r); }

 private:
  void publish_record(const JobRecord& r);
  std::unique_ptr<JobStore> inner_;
  ChangeFeed& feed_;
};

}  // namespace kjq::server
