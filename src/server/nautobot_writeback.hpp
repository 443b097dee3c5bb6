#pragma once
// Writes the ends of Nautobot's Jobs into Nautobot's database. The tracker queues each one in
// kjq's store, in the transaction that records the end (store finish()); this worker takes the
// due ones, writes them with nautobot::JobResultWriter and marks them done, so a crash, a restart
// or Nautobot's database being down loses none: a failed attempt is retried with backoff (1 s
// doubling to 60 s). Two replicas may take the same one at once; the writer's conditional update
// lets only one of them write.
//
// A "check" (a Job that succeeded) is due after the grace period: when its JobResult is still
// not final then, the pod never recorded its end: a warning and a metric, no write.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nautobot/job_result_writer.hpp"
#include "server/serve_metrics.hpp"
#include "server/store/job_store.hpp"

namespace kjq::server {

class NautobotWriteBack {
 public:
  NautobotWriteBack(JobStore& store, std::unique_ptr<nautobot::JobResultWriter> writer, ServeMetrics& metrics,
                    std::chrono::seconds success_grace);
  ~NautobotWriteBack();
  NautobotWriteBack(const NautobotWriteBack&) = delete;
  NautobotWriteBack& operator=(const NautobotWriteBack&) = delete;

  void start();
  void stop();
  // A write-back was queued: look now rather than at the next tick.
  void wake();
  // One pass over the due write-backs (the worker's; tests call it directly). Returns how many
  // were handled, done or not.
  int run_once();
  // False while Nautobot's database cannot be written (the last attempt failed and could be
  // retried): for /readyz. `why` says what failed.
  bool healthy(std::string* why = nullptr) const;

  static constexpr std::chrono::milliseconds kFirstRetry{1000};
  static constexpr std::chrono::milliseconds kMaxRetry{60000};

 private:
  void loop();
  void handle(const WriteBack& w);

  JobStore& store_;
  std::unique_ptr<nautobot::JobResultWriter> writer_;
  ServeMetrics& metrics_;
  std::chrono::seconds success_grace_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  std::string failing_;  // the last retryable error ("" when the last attempt worked)
  std::thread thread_;
};

}  // namespace kjq::server
