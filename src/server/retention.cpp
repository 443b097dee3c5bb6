#include "server/retention.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "dispatch/follower.hpp"
#include "util/clock.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

std::chrono::milliseconds parse_retention_duration(const std::string& text, const std::string& flag) {
  std::optional<std::chrono::milliseconds> d;
  if (text.size() >= 2 && text.back() == 'd' && text.size() <= 7 &&
      std::all_of(text.begin(), text.end() - 1, [](unsigned char c) { return std::isdigit(c); })) {
    d = std::chrono::hours(24) * std::stoll(text.substr(0, text.size() - 1));
  } else {
    d = dispatch::parse_duration(text);
  }
  if (!d || d->count() <= 0) {
    throw InputError(
        Diagnostic{flag, 0, 0, "", "expected a positive duration such as 7d, 36h or 90m, got \"" + text + "\""});
  }
  return *d;
}

RetentionPruner::RetentionPruner(JobStore& store, RetentionOptions options, ServeMetrics& metrics)
    : store_(store), options_(options), metrics_(metrics) {
  options_.batch = std::max(1, options_.batch);
}

RetentionPruner::~RetentionPruner() { stop(); }

void RetentionPruner::start() {
  if (!options_.enabled() || thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void RetentionPruner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::int64_t RetentionPruner::prune_now(std::int64_t now) {
  Retention r;
  if (options_.finished_for) r.finished_before_ms = now - options_.finished_for->count();
  r.keep_max_finished = options_.max_finished;
  r.batch = options_.batch;
  std::int64_t total = 0;
  while (true) {
    const std::int64_t n = store_.prune_finished(r);
    total += n;
    if (n > 0) metrics_.count_pruned(n);
    if (n < r.batch) break;
    // Between two batches the store is free for everyone else.
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, options_.pause, [this] { return stopping_; })) break;
  }
  return total;
}

void RetentionPruner::run() {
  while (true) {
    try {
      const std::int64_t n = prune_now(now_ms());
      if (n > 0) spdlog::info("retention: deleted {} finished job(s)", n);
    } catch (const std::exception& e) {
      metrics_.count_prune_error();
      spdlog::warn("retention: pruning failed, tried again in {} ms: {}", options_.interval.count(), e.what());
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, options_.interval, [this] { return stopping_; })) return;
  }
}

}  // namespace kjq::server
