#pragma once
// Retention of finished jobs (--retain-finished, --retain-max-finished): a background pass that
// deletes the finished records the limits let go, a small batch per store transaction with a
// pause between batches, so admission, the tracker and the API, which use the same store, never
// wait behind it for more than one short batch. Records that are not final are never deleted
// (JobStore::prune_finished).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/retention_options.hpp"
#include "server/serve_metrics.hpp"
#include "server/store/job_store.hpp"

namespace kjq::server {

// "7d" (whole days) or a duration as kubectl's flags take it ("36h", "90m", "1h30m"); positive.
// Throws kjq::InputError naming `flag`.
std::chrono::milliseconds parse_retention_duration(const std::string& text, const std::string& flag);

class RetentionPruner {
 public:
  RetentionPruner(JobStore& store, RetentionOptions options, ServeMetrics& metrics);
  ~RetentionPruner();
  RetentionPruner(const RetentionPruner&) = delete;
  RetentionPruner& operator=(const RetentionPruner&) = delete;

  // Runs a pass now and then every interval, until stop(). A pass that fails (the store
  // unreachable) is logged and tried again at the next interval.
  void start();
  void stop();

  // One pass, batch after batch until a batch finds less than a full one (or stop()). Returns
  // how many records were deleted. Throws what the store throws.
  std::int64_t prune_now(std::int64_t now_ms);

 private:
  void run();

  JobStore& store_;
  RetentionOptions options_;
  ServeMetrics& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kjq::server
