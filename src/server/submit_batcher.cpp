#include "server/submit_batcher.hpp"

#include <stdexcept>
#include <string>

namespace kjq::server {

SubmitBatcher::SubmitBatcher(JobStore& store, std::size_t max_batch)
    : store_(store), max_batch_(max_batch), writer_([this] { run(); }) {}

SubmitBatcher::~SubmitBatcher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

SubmitResult SubmitBatcher::submit(NewJob job) {
  std::future<SubmitResult> result;
  {
    std::lock_guard lock(mu_);
    pending_.push_back(Pending{std::move(job), {}});
    result = pending_.back().done.get_future();
  }
  cv_.notify_one();
  return result.get();
}

void SubmitBatcher::run() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping with nothing left
      while (!pending_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
    }
    std::vector<NewJob> jobs;
    jobs.reserve(batch.size());
    for (auto& p : batch) jobs.push_back(p.job);
    std::vector<SubmitResult> results;
    try {
      results = store_.submit(jobs);
      if (results.size() != batch.size())
        throw std::runtime_error("the job store answered " + std::to_string(results.size()) + " results for " +
                                 std::to_string(batch.size()) + " submissions");
    } catch (...) {
      for (auto& p : batch) p.done.set_exception(std::current_exception());
      continue;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(results[i]));
  }
}

}  // namespace kjq::server
