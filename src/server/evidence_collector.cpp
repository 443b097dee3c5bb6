#include "server/evidence_collector.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "kube/object_meta.hpp"
#include "server/evidence.hpp"
#include "server/nautobot_jobs.hpp"
#include "util/clock.hpp"

namespace kjq::server {

using nlohmann::json;

EvidenceCollector::EvidenceCollector(JobStore& store, kube::KubeApi& api, const ServeOptions& options)
    : store_(store), api_(api), options_(options) {}

EvidenceCollector::~EvidenceCollector() { stop(); }

void EvidenceCollector::start(int threads) {
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      while (true) {
        std::optional<LogRead> log_read;
        Task task;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] { return stop_ || !empty(); });
          if (stop_) return;
          // Reads of failed containers' logs, failures' write-backs, the other reads, the rest.
          if (!log_reads_[0].empty()) {
            log_read = take_front(log_reads_[0]);
          } else if (!tasks_[0].empty()) {
            task = take_front(tasks_[0]);
          } else if (!log_reads_[1].empty()) {
            log_read = take_front(log_reads_[1]);
          } else {
            for (auto& queue : tasks_) {
              if (queue.empty()) continue;
              task = take_front(queue);
              break;
            }
          }
        }
        if (log_read) {
          read_log(log_read->job_name, log_read->pod);
          continue;
        }
        try {
          capture(task);
        } catch (const std::exception& e) {
          spdlog::warn("job {}: its evidence was not stored: {}", task.record.id, e.what());
        }
      }
    });
}

void EvidenceCollector::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (auto& queue : tasks_) queue.clear();
    for (auto& queue : log_reads_) queue.clear();
  }
  cv_.notify_all();
  log_read_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::size_t EvidenceCollector::priority_of(const Task& task) {
  if (task.finish.state == JobState::Succeeded) return 2;  // its write-back is a check, due much later
  return task.finish.writeback_json ? 0 : 1;
}

bool EvidenceCollector::empty() const {
  for (const auto& queue : tasks_)
    if (!queue.empty()) return false;
  for (const auto& queue : log_reads_)
    if (!queue.empty()) return false;
  return true;
}

void EvidenceCollector::add(Task task) {
  {
    std::lock_guard lock(mu_);
    tasks_[priority_of(task)].push_back(std::move(task));
  }
  cv_.notify_one();
}

void EvidenceCollector::keep_log(const std::string& job_name, const json& pod) {
  {
    std::lock_guard lock(mu_);
    const std::string name = kube::name_of(pod);
    auto it = logs_.find(job_name);
    if (it != logs_.end() && it->second.kept.pod == name) return;  // read, or being read
    logs_[job_name] = LogEntry{KeptLog{name, "", false}, false};
    log_reads_[job_container_failed(pod) ? 0 : 1].push_back({job_name, pod});
  }
  cv_.notify_one();
}

void EvidenceCollector::keep_log_now(const std::string& job_name, const json& pod) {
  std::optional<LogRead> read;
  {
    std::lock_guard lock(mu_);
    if (logs_.count(job_name)) {
      read = take_queued_read(job_name);  // queued behind others: read it now instead
      if (!read) return;                  // read, or being read
    } else {
      logs_[job_name] = LogEntry{KeptLog{kube::name_of(pod), "", false}, false};
      read = LogRead{job_name, pod};
    }
  }
  read_log(read->job_name, read->pod);
}

std::optional<EvidenceCollector::LogRead> EvidenceCollector::take_queued_read(const std::string& job_name) {
  for (auto& queue : log_reads_) {
    auto queued = std::find_if(queue.begin(), queue.end(), [&](const LogRead& r) { return r.job_name == job_name; });
    if (queued == queue.end()) continue;
    LogRead read = std::move(*queued);
    queue.erase(queued);
    return read;
  }
  return std::nullopt;
}

void EvidenceCollector::read_log(const std::string& job_name, const json& pod) {
  bool cut = false;
  std::string log = capture_log_tail(api_, options_.namespace_name, pod, options_.evidence, &cut);
  {
    std::lock_guard lock(mu_);
    auto it = logs_.find(job_name);
    // Kept only if still wanted for this pod (not forgotten, not replaced by a newer pod's).
    if (it != logs_.end() && it->second.kept.pod == kube::name_of(pod)) {
      it->second.kept.log = std::move(log);
      it->second.kept.cut = cut;
      it->second.read = true;
    }
  }
  log_read_cv_.notify_all();
}

std::optional<EvidenceCollector::KeptLog> EvidenceCollector::hand_over(const std::string& job_name) {
  auto it = logs_.find(job_name);
  if (it == logs_.end() || !it->second.read) return std::nullopt;
  KeptLog kept = std::move(it->second.kept);
  logs_.erase(it);
  return kept;
}

std::optional<EvidenceCollector::KeptLog> EvidenceCollector::take_log(const std::string& job_name) {
  std::lock_guard lock(mu_);
  return hand_over(job_name);
}

std::optional<EvidenceCollector::KeptLog> EvidenceCollector::await_log(const std::string& job_name) {
  std::unique_lock lock(mu_);
  // Still queued (a succeeded container's read comes after failures' captures): read it here.
  if (auto read = take_queued_read(job_name)) {
    lock.unlock();
    read_log(read->job_name, read->pod);
    lock.lock();
  }
  // Being read on another thread: a moment.
  log_read_cv_.wait_for(lock, std::chrono::seconds(30), [&] {
    auto it = logs_.find(job_name);
    return stop_ || it == logs_.end() || it->second.read;
  });
  return hand_over(job_name);
}

void EvidenceCollector::forget_log(const std::string& job_name) {
  std::lock_guard lock(mu_);
  logs_.erase(job_name);
}

void EvidenceCollector::capture(Task& task) {
  const JobRecord& r = task.record;
  Finish& f = task.finish;
  std::vector<std::string> pod_names;
  for (const auto& p : task.pods) pod_names.push_back(kube::name_of(p));
  Evidence e;
  if (!f.log_tail)
    if (auto kept = await_log(r.kube_name)) {
      e.log_tail = f.log_tail = std::move(kept->log);
      e.evidence_truncated = kept->cut;
    }
  if (!f.log_tail)
    if (auto pod = pod_with_log(task.pods))
      if (const json* p = find_pod(task.pods, *pod))
        e.log_tail = f.log_tail =
            capture_log_tail(api_, options_.namespace_name, *p, options_.evidence, &e.evidence_truncated);
  json events = capture_events(api_, options_.namespace_name, r.kube_name, pod_names);
  // The Job controller records its end Event just after the condition that told us: read again
  // briefly so the record keeps it (a TTL may delete the Job's Events right after).
  auto pause = std::chrono::milliseconds(25);
  for (int i = 0; task.ended_by_job_condition && i < 5 && !has_job_end_event(events, r.kube_name); ++i) {
    std::this_thread::sleep_for(pause);
    pause *= 2;
    events = capture_events(api_, options_.namespace_name, r.kube_name, pod_names);
  }
  if (cap_events(events, options_.evidence)) e.evidence_truncated = true;
  f.evidence_truncated = f.evidence_truncated || e.evidence_truncated;
  f.events_json = events.dump();
  e.events_json = f.events_json;
  e.now_ms = now_ms();
  if (f.writeback_json) e.writeback_json = writeback_payload(r, f);
  if (store_.attach_evidence(r.id, e) && e.writeback_json && on_writeback_) on_writeback_();
  forget_log(r.kube_name);  // whatever is still kept of this Job (a log read too late)
}

}  // namespace kjq::server
