#include "server/nautobot_writeback.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "server/nautobot_jobs.hpp"
#include "util/clock.hpp"

namespace kjq::server {

using nlohmann::json;

NautobotWriteBack::NautobotWriteBack(JobStore& store, std::unique_ptr<nautobot::JobResultWriter> writer,
                                     ServeMetrics& metrics, std::chrono::seconds success_grace)
    : store_(store), writer_(std::move(writer)), metrics_(metrics), success_grace_(success_grace) {}

NautobotWriteBack::~NautobotWriteBack() { stop(); }

void NautobotWriteBack::start() {
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void NautobotWriteBack::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NautobotWriteBack::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool NautobotWriteBack::healthy(std::string* why) const {
  std::lock_guard lock(mu_);
  if (why) *why = failing_;
  return failing_.empty();
}

void NautobotWriteBack::loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      // The tick makes due retries and checks happen without a wake.
      cv_.wait_for(lock, std::chrono::milliseconds(250), [&] { return woken_ || stop_.load(); });
      if (stop_) return;
      woken_ = false;
    }
    try {
      // Drain what is due now; a full batch means more may be waiting.
      while (!stop_ && run_once() == 64) {
      }
    } catch (const std::exception& e) {
      spdlog::error("nautobot write-back: {}", e.what());  // kjq's own store: tried again next tick
    }
  }
}

int NautobotWriteBack::run_once() {
  const std::vector<WriteBack> due = store_.due_writebacks(now_ms(), 64);
  for (const WriteBack& w : due) {
    if (stop_) break;
    handle(w);
  }
  return static_cast<int>(due.size());
}

void NautobotWriteBack::handle(const WriteBack& w) {
  json payload;
  try {
    payload = json::parse(w.payload_json);
  } catch (const std::exception& e) {
    metrics_.count_writeback("failed");
    store_.writeback_done(w.job_id, "failed: unreadable payload", now_ms());
    spdlog::error("job {}: write-back payload unreadable ({}); dropped", w.job_id, e.what());
    return;
  }
  const std::string kind = payload.value("kind", "");
  const std::string result_id = payload.value("job_result_id", "");
  try {
    if (kind == "check") {
      // Due once the grace period has passed since the Job's end.
      const std::int64_t due_ms = payload.value("ended_ms", std::int64_t{0}) +
                                  std::chrono::duration_cast<std::chrono::milliseconds>(success_grace_).count();
      if (now_ms() < due_ms) {
        store_.writeback_retry(w.job_id, due_ms, "", now_ms());
        return;
      }
      const std::optional<std::string> status = writer_->read_status(result_id);
      static const char* const kFinal[] = {"SUCCESS", "FAILURE", "REVOKED"};
      const bool final = status && std::find(std::begin(kFinal), std::end(kFinal), *status) != std::end(kFinal);
      if (status && !final) {
        metrics_.count_writeback("not_final_after_success");
        spdlog::warn("job {}: its Kubernetes Job succeeded but JobResult {} is still {} after {} s; not changed",
                     w.job_id, result_id, *status, success_grace_.count());
      } else {
        metrics_.count_writeback(status ? "checked" : "not_found");
      }
      store_.writeback_done(w.job_id, status ? "checked: " + *status : "not_found", now_ms());
    } else {
      const nautobot::JobEnd end = job_end_from_payload(payload);
      const nautobot::WriteOutcome out = writer_->write_failure(end);
      std::string outcome;
      switch (out.kind) {
        case nautobot::WriteOutcome::Kind::Written:
          outcome = "written";
          spdlog::info("job {}: JobResult {} marked FAILURE ({}), {} log entries", w.job_id, result_id, end.reason,
                       out.log_entries);
          metrics_.observe_end_to_writeback(static_cast<double>(now_ms() - payload.value("ended_ms", std::int64_t{0})) /
                                            1000.0);
          break;
        case nautobot::WriteOutcome::Kind::AlreadyFinal:
          outcome = out.written_by_kjq ? "written" : "already_final";
          if (!out.written_by_kjq)
            spdlog::info("job {}: JobResult {} is {} already; not changed", w.job_id, result_id, out.status);
          break;
        case nautobot::WriteOutcome::Kind::NotFound:
          outcome = "not_found";
          spdlog::warn("job {}: no JobResult {} in Nautobot's database; nothing written", w.job_id, result_id);
          break;
      }
      metrics_.count_writeback(outcome);
      store_.writeback_done(w.job_id, outcome + (out.status.empty() ? "" : ": " + out.status), now_ms());
    }
    std::lock_guard lock(mu_);
    failing_.clear();
  } catch (const nautobot::NautobotDbError& e) {
    if (!e.retryable()) {
      metrics_.count_writeback("failed");
      store_.writeback_done(w.job_id, std::string("failed: ") + e.what(), now_ms());
      spdlog::error("job {}: write-back into Nautobot failed for good: {}", w.job_id, e.what());
      return;
    }
    metrics_.count_writeback_error();
    const auto backoff = std::min<std::int64_t>(kMaxRetry.count(), kFirstRetry.count() << std::min(w.attempts, 6));
    store_.writeback_retry(w.job_id, now_ms() + backoff, e.what(), now_ms());
    spdlog::warn("job {}: write-back into Nautobot failed (attempt {}), retrying in {} ms: {}", w.job_id,
                 w.attempts + 1, backoff, e.what());
    std::lock_guard lock(mu_);
    failing_ = e.what();
  } catch (const std::exception& e) {  // a malformed payload
    metrics_.count_writeback("failed");
    store_.writeback_done(w.job_id, std::string("failed: ") + e.what(), now_ms());
    spdlog::error("job {}: write-back payload unusable ({}); dropped", w.job_id, e.what());
  }
}

}  // namespace kjq::server
