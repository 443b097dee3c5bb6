#include "server/job_tracker.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "dispatch/dispatcher.hpp"
#include "kube/errors.hpp"
#include "kube/object_meta.hpp"
#include "util/clock.hpp"

namespace kjq::server {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
// A Job's end can cost its worker API calls (its pods read again when the Job's condition came
// first, the Job deleted when its pod can never start), 20-60 ms each while the API server is
// busy; with 4 workers the events of other Jobs queued behind them (a 5,000-Job burst: event to
// record p99 ~300 ms). 16 keep that queue short; each mostly waits on the network. Logs are read
// by the evidence threads.
constexpr int kWorkers = 16;
constexpr int kEvidenceThreads = 4;

JobState state_of(dispatch::Phase p) {
  switch (p) {
    case dispatch::Phase::Submitted:
      return JobState::Submitted;
    case dispatch::Phase::Scheduled:
      return JobState::Scheduled;
    case dispatch::Phase::Running:
      return JobState::Running;
    case dispatch::Phase::Succeeded:
      return JobState::Succeeded;
    case dispatch::Phase::Failed:
      return JobState::Failed;
  }
  return JobState::Submitted;
}

}  // namespace

JobTracker::JobTracker(JobStore& store, kube::KubeApi& api, JobInformer& informer, Admission& admission,
                       const ServeOptions& options, ServeMetrics& metrics)
    : store_(store),
      api_(api),
      informer_(informer),
      admission_(admission),
      options_(options),
      metrics_(metrics),
      evidence_(store, api, options) {}

JobTracker::~JobTracker() { stop(); }

void JobTracker::start() {
  stop_ = false;
  evidence_.start(kEvidenceThreads);
  thread_ = std::thread([this] { loop(); });
  for (int i = 0; i < kWorkers; ++i)
    workers_.emplace_back([this] {
      while (true) {
        std::string name;
        std::optional<Clock::time_point> seen;
        {
          std::unique_lock lock(mu_);
          auto pick = [&] {
            auto item = dirty_.take(busy_);
            if (!item) return false;
            name = std::move(item->name);
            seen = item->seen;
            return true;
          };
          cv_.wait(lock, [&] { return stop_ || pick(); });
          if (stop_) return;
          busy_.insert(name);
        }
        try {
          sync(name, seen);
        } catch (const std::exception& e) {
          spdlog::warn("job {}: {}", name, e.what());
        }
        bool more;
        {
          std::lock_guard lock(mu_);
          busy_.erase(name);
          more = dirty_.contains(name);  // changed again while this worker had it
        }
        if (more) cv_.notify_one();
      }
    });
}

void JobTracker::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  tick_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
  evidence_.stop();
}

void JobTracker::changed(const std::string& job_name, Clock::time_point seen) {
  {
    std::lock_guard lock(mu_);
    dirty_.event(job_name, seen);
  }
  cv_.notify_one();  // one worker is enough; waking all of them for every event costs more than it does
}

void JobTracker::recheck(const std::string& job_name) {
  {
    std::lock_guard lock(mu_);
    dirty_.recheck(job_name);
  }
  cv_.notify_one();
}

Clock::duration JobTracker::event_backlog_age() {
  std::lock_guard lock(mu_);
  return dirty_.oldest_event_age(Clock::now());
}

void JobTracker::loop() {
  auto next = Clock::now();
  while (true) {
    {
      std::unique_lock lock(mu_);
      // Ticks once a second: pods stuck before starting must fail at their deadline even when
      // nothing changes on the cluster.
      tick_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_.load(); });
      if (stop_) return;
    }
    if (!informer_.synced()) continue;
    recheck_waiting();
    if (Clock::now() >= next) {
      reconcile_all();
      next = Clock::now() + options_.reconcile_interval;
    }
  }
}

void JobTracker::recheck_waiting() {
  // Deadlines pass without any event: a pod stuck before it starts must fail on time.
  std::vector<std::string> waiting;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, written] : written_)
      if (written.first == JobState::Submitted || written.first == JobState::Scheduled) waiting.push_back(name);
  }
  for (const auto& n : waiting) recheck(n);
}

std::optional<JobRecord> JobTracker::record_for(const std::string& job_name) {
  const std::string prefix = options_.name_prefix + "-";
  if (job_name.rfind(prefix, 0) == 0)
    if (auto r = store_.get(job_name.substr(prefix.size())); r && r->kube_name == job_name) return r;
  return store_.get_by_kube_name(job_name);
}

void JobTracker::forget(const std::string& job_name, bool keep_log) {
  {
    std::lock_guard lock(mu_);
    written_.erase(job_name);
  }
  if (!keep_log) evidence_.forget_log(job_name);
}

void JobTracker::sync(const std::string& job_name, std::optional<Clock::time_point> seen) {
  auto observe = [&] {
    if (seen) metrics_.observe_event_to_record(std::chrono::duration<double>(Clock::now() - *seen).count());
  };
  // One snapshot and one derivation per pass: a change after the snapshot marks the name dirty
  // again, so a later pass sees it.
  const JobSnapshot snap = informer_.snapshot(job_name);
  dispatch::LifecycleOptions lo;
  lo.start_deadline = options_.start_deadline;
  lo.never_start_grace = options_.start_deadline;
  std::optional<dispatch::Lifecycle> l;
  if (snap.job) {
    l = dispatch::derive_lifecycle(*snap.job, snap.pods, {}, lo);
    // Fast path: most events change nothing the record shows (a pod's IP, a condition's probe
    // time). When the derived state is the one last written, the store is not touched.
    std::lock_guard lock(mu_);
    auto it = written_.find(job_name);
    if (!l->terminal() && it != written_.end() && it->second == std::make_pair(state_of(l->phase), l->reason)) {
      observe();
      return;
    }
  }
  auto record = record_for(job_name);
  if (!record && snap.job) record = record_adopted(*snap.job);  // record_for found none
  if (!record) return;  // a Job with our label but no record: not ours to decide
  if (is_final(record->state)) return forget(job_name);
  if (!snap.job) {
    if (informer_.synced()) handle_missing_job(*record);
  } else {
    sync_record(*record, snap, *l, lo);
  }
  observe();
}

std::optional<JobRecord> JobTracker::adopt(const json& job) {
  if (auto known = record_for(kube::name_of(job))) return known;
  return record_adopted(job);
}

std::optional<JobRecord> JobTracker::record_adopted(const json& job) {
  if (informer_.origin_of(job) != JobOrigin::Nautobot) return std::nullopt;
  AdoptedJob a = adopted_job(job, now_ms());
  SubmitResult stored = store_.adopt(a);
  if (stored.record.kube_name != a.kube_name) {
    // A record with this id follows another Job: this one is not the JobResult's.
    spdlog::warn("Job {}: job {} already follows Job {}; not following this one", a.kube_name, a.id,
                 stored.record.kube_name);
    return std::nullopt;
  }
  if (stored.inserted)
    spdlog::info("job {} ({}): Nautobot's Job on queue {}, followed from {}", a.id, a.kube_name, a.queue,
                 state_name(a.state) + (a.reason.empty() ? "" : "/" + a.reason));
  return stored.record;
}

void JobTracker::sync_record(const JobRecord& r, const JobSnapshot& snap, dispatch::Lifecycle l,
                             const dispatch::LifecycleOptions& lo) {
  const json& job = *snap.job;
  // A suspended Job has no pods: it waits for its admission (kjq's, Kueue's or a person's), and
  // its record stays Queued meanwhile. Once resumed by anyone it runs and counts against the cap.
  if (r.state == JobState::Queued && is_suspended(job)) return;
  // Claimed for kjq's admission but still suspended: the resume failed or got no answer. Again
  // (its preconditions make a second resume harmless), unless this process resumed it a moment
  // ago and the watch has not shown that yet.
  if (r.origin == JobOrigin::Nautobot && r.state == JobState::Submitted && is_suspended(job) &&
      (r.reason == "Dispatching" || r.reason == "ResumeFailed")) {
    if (!admission_.in_flight(r.id) && !admission_.resumed_lately(r.id)) admission_.recreate(r);
    return;
  }
  const std::string uid = kube::meta_string(job, "uid");
  if (r.kube_uid.empty() && !uid.empty()) store_.set_kube_uid(r.id, uid, now_ms());  // adopted after a restart
  // The cached pods, unless the Job's end came before theirs and they are read again below.
  std::vector<json> listed;
  const std::vector<json>* pods_ptr = &snap.pods;
  if (l.phase == dispatch::Phase::Failed && !l.exit_code && l.reason == l.job_reason &&
      l.reason != "DeadlineExceeded") {
    // The Job's Failed condition can come before the pod watch delivers the pod's end: read the
    // pods once so the reason names the container's failure.
    try {
      kube::ListOptions o;
      o.label_selector = "job-name=" + r.kube_name;
      listed = api_.list_pods(options_.namespace_name, o).items;
      l = dispatch::derive_lifecycle(job, listed, {}, lo);
      pods_ptr = &listed;
    } catch (const std::exception&) {
    }
  }
  const std::vector<json>& pods = *pods_ptr;
  keep_log_early(r.kube_name, pods);
  if (l.terminal()) {
    // An end the cluster reached before a cancel took effect is the job's real end.
    finish_with_evidence(r, state_of(l.phase), l.reason, l.message, l.exit_code, pods, l.job_ended);
    // A pod that can never start leaves an active Job behind: delete it so it stops holding
    // a node's resources and the queue's slot.
    if (l.phase == dispatch::Phase::Failed && !l.job_ended) {
      try {
        dispatch::cancel_job(api_, options_.namespace_name, r.kube_name, 0);
      } catch (const std::exception& e) {
        spdlog::warn("job {}: delete of {} after {} failed: {}", r.id, r.kube_name, l.reason, e.what());
      }
    }
    return;
  }
  if (r.cancel_requested) {
    send_cancel(r);  // again after a restart; the DELETED event records Cancelled
    return;
  }
  const JobState state = state_of(l.phase);
  {
    std::lock_guard lock(mu_);
    auto it = written_.find(r.kube_name);
    if (it != written_.end() && it->second == std::make_pair(state, l.reason)) return;
    written_[r.kube_name] = {state, l.reason};
    if (it == written_.end() && r.state == state && r.reason == l.reason) return;
  }
  Progress p;
  p.state = state;
  p.reason = l.reason;
  p.message = l.message;
  p.exit_code = l.exit_code;
  p.now_ms = now_ms();
  store_.update_progress(r.id, p);
}

void JobTracker::keep_log_early(const std::string& job_name, const std::vector<json>& pods) {
  if (auto pod = newest_terminated_pod(pods))
    if (const json* p = find_pod(pods, *pod)) evidence_.keep_log(job_name, *p);
}

void JobTracker::finish_with_evidence(const JobRecord& r, JobState state, const std::string& reason,
                                      const std::string& message, std::optional<int> exit_code,
                                      const std::vector<json>& pods, bool ended_by_job_condition) {
  // The end first (the queue's slot frees now); the rest of the evidence follows from the
  // collector. A log kept when the container ended goes in with the end.
  Finish f;
  f.state = state;
  f.reason = reason;
  f.message = message;
  f.exit_code = exit_code;
  if (auto early = evidence_.take_log(r.kube_name)) {
    f.log_tail = std::move(early->log);
    f.evidence_truncated = early->cut;
  }
  f.now_ms = now_ms();
  if (options_.nautobot_writeback) {
    f.writeback_json = writeback_payload(r, f);
    // Due without the evidence only if the collector never completes it (kjq stopped meanwhile).
    if (f.writeback_json) f.writeback_due_ms = f.now_ms + kEvidenceWait.count();
  }
  if (store_.finish(r.id, f)) {
    spdlog::info("job {} ({}): {}{}", r.id, r.kube_name, state_name(state), reason.empty() ? "" : "/" + reason);
    admission_.wake();  // a slot of the queue's cap is free
    evidence_.add({r, std::move(f), pods, ended_by_job_condition});
    return forget(r.kube_name, /*keep_log=*/true);  // a log still being read is the capture's
  }
  forget(r.kube_name);
}

void JobTracker::send_cancel(const JobRecord& r) {
  if (r.kube_name.empty()) return;
  // The pods go with the Job: keep what the job has printed so far.
  JobSnapshot snap = informer_.snapshot(r.kube_name);
  if (auto pod = pod_with_log(snap.pods))
    if (const json* p = find_pod(snap.pods, *pod)) evidence_.keep_log_now(r.kube_name, *p);
  try {
    dispatch::cancel_job(api_, options_.namespace_name, r.kube_name,
                         r.cancel_grace_seconds.value_or(options_.default_cancel_grace_seconds));
  } catch (const kube::ApiError& e) {
    if (e.http_code() != 404) throw;
  }
  // The Job is gone (or going): the DELETED event, or the reconcile, records Cancelled.
}

void JobTracker::handle_missing_job(const JobRecord& r) {
  if (r.kube_name.empty()) return;
  if (admission_.in_flight(r.id)) return;  // its create is queued or running here: not missing
  JobSnapshot none;
  if (r.cancel_requested) {
    if (r.kube_uid.empty())  // its create never went through (CreateFailed): nothing ever ran
      return finish_with_evidence(r, JobState::Cancelled, "CancelledBeforeStart",
                                  "cancelled before its Job was created", std::nullopt, none.pods);
    return finish_with_evidence(r, JobState::Cancelled, "Cancelled", "cancelled through the API; the Job was deleted",
                                std::nullopt, none.pods);
  }
  // Confirm with the API server before deciding: the cache may lag behind a create.
  try {
    json job = api_.get_job(options_.namespace_name, r.kube_name);
    if (r.kube_uid.empty()) store_.set_kube_uid(r.id, kube::meta_string(job, "uid"), now_ms());
    return;  // it exists; the watch will deliver it
  } catch (const kube::ApiError& e) {
    if (e.http_code() != 404) throw;
  }
  const json events = capture_events(api_, options_.namespace_name, r.kube_name, {});
  if (r.kube_uid.empty()) {
    if (events.empty()) {
      // Never created (a crash between claim and create, or a create that got no answer).
      const bool mine = r.owner == options_.replica;
      const auto age = std::chrono::milliseconds(now_ms() - r.submitted_ms);
      if (mine || age > options_.orphan_grace) {
        spdlog::info("job {}: no Job {} exists; creating it", r.id, r.kube_name);
        admission_.recreate(r);
      }
      return;
    }
  }
  // The Job existed and is gone before its end was recorded (TTL while we were down, a manual
  // delete). Its Events still tell how it ended when the Job controller recorded that.
  JobState state = JobState::Failed;
  std::string reason = "Deleted";
  std::string message = "the Job was deleted before kjq serve recorded its end";
  for (const auto& e : events) {
    const std::string why = e.value("reason", "");
    if (why == "Completed") {
      state = JobState::Succeeded;
      reason = "Completed";
      message = "recorded from the Job's events; the Job was deleted before kjq serve saw it end";
    } else if (why == "BackoffLimitExceeded" || why == "DeadlineExceeded") {
      reason = why;
      message = e.value("message", "");
    }
  }
  Finish f;
  f.state = state;
  f.reason = reason;
  f.message = message;
  if (auto early = evidence_.take_log(r.kube_name)) {
    f.log_tail = std::move(early->log);
    f.evidence_truncated = early->cut;
  }
  json kept_events = events;
  if (cap_events(kept_events, options_.evidence)) f.evidence_truncated = true;
  f.events_json = kept_events.dump();
  f.now_ms = now_ms();
  if (options_.nautobot_writeback) f.writeback_json = writeback_payload(r, f);
  if (store_.finish(r.id, f)) {
    spdlog::info("job {} ({}): {}/{} (the Job is gone)", r.id, r.kube_name, state_name(state), reason);
    admission_.wake();
    if (f.writeback_json && on_writeback_) on_writeback_();
  }
  forget(r.kube_name);
}

void JobTracker::reconcile_all() {
  metrics_.count_reconcile();
  std::vector<JobRecord> records;
  try {
    records = store_.unfinished();
  } catch (const std::exception& e) {
    spdlog::error("reconcile: {}", e.what());
    return;
  }
  for (const auto& r : records) {
    if (stop_) return;
    // kjq's own Queued jobs are admission's; an adopted suspended Job is looked at (it may have
    // been deleted while serve was down).
    if (r.state == JobState::Queued && r.kube_name.empty()) continue;
    if (r.kube_name.empty()) continue;
    if (r.cancel_requested) {
      // The API's delete may have failed, or this process restarted since: send it again.
      try {
        send_cancel(r);
      } catch (const std::exception& e) {
        spdlog::warn("job {}: cancel of {} failed, will retry: {}", r.id, r.kube_name, e.what());
      }
    }
    recheck(r.kube_name);
  }
}

}  // namespace kjq::server
