#pragma once
// Group commit for submissions: API threads hand their job to one writer thread, which stores
// everything waiting in one transaction (one fsync) and then answers them all. A reply is sent
// only after the job is durable, and under load the cost of the fsync is shared.
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "server/store/job_store.hpp"

namespace kjq::server {

class SubmitBatcher {
 public:
  explicit SubmitBatcher(JobStore& store, std::size_t max_batch = 512);
  ~SubmitBatcher();
  SubmitBatcher(const SubmitBatcher&) = delete;
  SubmitBatcher& operator=(const SubmitBatcher&) = delete;

  // Blocks until stored; rethrows the store's error.
  SubmitResult submit(NewJob job);

 private:
  struct Pending {
    NewJob job;
    std::promise<SubmitResult> done;
  };
  void run();

  JobStore& store_;
  std::size_t max_batch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace kjq::server
