// The Job controller: pods for each Job (parallelism, completions, backoff), the Job's status
// and conditions, activeDeadlineSeconds, and the TTL-after-finished controller. The garbage
// collector is in garbage_collector.cpp, the simulated kubelet in kubelet.cpp.
#include "job_controller.hpp"

#include <algorithm>
#include <cmath>

namespace kjq::emulator {

using nlohmann::json;

namespace {
const ResourceType& must_find(const ResourceRegistry& r, const char* g, const char* res) {
  const ResourceType* t = r.find(g, "v1", res);
  if (!t) throw std::logic_error(std::string("resource not registered: ") + res);
  return *t;
}
long long spec_int(const json& spec, const char* key, long long fallback) {
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_number_integer()) return fallback;
  return it->get<long long>();
}
}  // namespace

JobController::JobController(ObjectStore& store, const ResourceRegistry& registry, SimClock clock,
                             SimulationDefaults defaults, bool record_events)
    : store_(store),
      jobs_(must_find(registry, "batch", "jobs")),
      pods_(must_find(registry, "", "pods")),
      events_(must_find(registry, "", "events")),
      clock_(clock),
      defaults_(defaults),
      record_events_(record_events) {}

JobController::~JobController() { stop(); }

void JobController::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void JobController::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobController::schedule(SimJob& sj, SteadyTime when) {
  if (when == SteadyTime::max()) return;  // keep the job, no timer
  if (sj.wake && *sj.wake <= when) return;
  sj.wake = when;
  timers_.emplace(when, sj.uid);
}

void JobController::job_created(const std::string& ns, const std::string& name, const std::string& uid) {
  SimJob sj;
  sj.ns = ns;
  sj.name = name;
  sj.uid = uid;
  sj.start = clock_.now();
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;  // controller not running (--no-controller)
    created_.push_back(std::move(sj));
  }
  cv_.notify_one();
}

void JobController::poke(const std::string& job_uid) {
  {
    std::lock_guard lock(mu_);
    pokes_.push_back(job_uid);
  }
  cv_.notify_one();
}

void JobController::run() {
  std::vector<SimJob> created;
  std::vector<std::string> pokes;
  std::vector<Termination> terminations;
  while (true) {
    {
      std::unique_lock lock(mu_);
      auto ready = [&] { return stopping_ || !created_.empty() || !pokes_.empty() || !terminations_.empty(); };
      std::optional<SteadyTime> wake;
      if (!timers_.empty()) wake = timers_.begin()->first;
      if (!pod_exits_.empty() && (!wake || pod_exits_.begin()->first < *wake)) wake = pod_exits_.begin()->first;
      if (!wake)
        cv_.wait(lock, ready);
      else
        cv_.wait_until(lock, *wake, ready);
      if (stopping_) break;
      created.swap(created_);
      pokes.swap(pokes_);
      terminations.swap(terminations_);
    }
    const auto now = clock_.now();
    for (auto& sj : created) {
      std::string uid = sj.uid;
      auto [it, inserted] = jobs_by_uid_.emplace(uid, std::move(sj));
      if (inserted) schedule(it->second, now);
    }
    created.clear();
    for (const auto& uid : pokes) {
      auto it = jobs_by_uid_.find(uid);
      if (it != jobs_by_uid_.end()) schedule(it->second, now);
    }
    pokes.clear();
    for (const auto& t : terminations) begin_termination(t, now);
    terminations.clear();
    while (!pod_exits_.empty() && pod_exits_.begin()->first <= now) {
      std::string key = pod_exits_.begin()->second;
      pod_exits_.erase(pod_exits_.begin());
      complete_termination(key);
    }
    std::vector<std::pair<SteadyTime, std::string>> due;
    while (!timers_.empty() && timers_.begin()->first <= now) {
      due.emplace_back(timers_.begin()->first, timers_.begin()->second);
      timers_.erase(timers_.begin());
    }
    for (const auto& [when, uid] : due) {
      auto it = jobs_by_uid_.find(uid);
      if (it == jobs_by_uid_.end() || !it->second.wake || *it->second.wake != when) continue;
      it->second.wake.reset();
      auto next = sync_job(it->second);
      if (!next)
        jobs_by_uid_.erase(it);
      else
        schedule(it->second, *next);
    }
  }
}

void JobController::record_event(const json& object, const EventSpec& spec) {
  if (!record_events_) return;
  try {
    store_.create(events_, make_event(object, spec, node_));
  } catch (const std::exception&) {
    // A name collision of two random suffixes: drop the event.
  }
}

void JobController::create_pod(SimJob& sj, const json& job) {
  json pod;
  std::string name;
  for (int attempt = 0; attempt < 5; ++attempt) {
    name = sj.name + "-" + random_suffix();
    pod = make_job_pod(job, name, node_);
    PodPlan plan = plan_from_template(job["spec"]["template"], defaults_, sj.name);
    if (plan.outcome == Outcome::Unschedulable) pod["spec"].erase("nodeName");
    SimPod sp{name, plan, clock_.now(), 0, false, false, {rfc3339_now(), "", ""}};
    pod["status"] = pod_status(pod, plan, 0, sp.times);
    try {
      ObjectPtr stored = store_.create(pods_, pod);
      json& created = pod;  // what was stored, plus the fields the store assigned
      created["metadata"]["uid"] = stored->uid();
      created["metadata"]["resourceVersion"] = stored->resource_version();
      record_event(job, {"Normal", "SuccessfulCreate", "Created pod: " + name, "job-controller", ""});
      for (const auto& e : pod_stage_events(created, plan, 0, node_)) record_event(created, e);
      sj.pods.push_back(std::move(sp));
      return;
    } catch (const std::exception&) {
      continue;  // name collision: try another suffix
    }
  }
}

namespace {
json job_condition(const char* type, const std::string& reason, const std::string& message,
                   const char* status = "True") {
  const std::string now = rfc3339_now();
  return json{{"type", type},     {"status", status},  {"lastProbeTime", now}, {"lastTransitionTime", now},
              {"reason", reason}, {"message", message}};
}
// The job controller's ensureJobConditionStatus: replaces the condition of that type when its
// status, reason or message differ, appends it when absent unless the status is "False" (from
// nothing to False means nothing). Returns whether the list changed.
bool ensure_condition(json& conditions, const char* type, const char* status, const std::string& reason,
                      const std::string& message) {
  for (auto& c : conditions)
    if (c.value("type", "") == type) {
      if (c.value("status", "") == status && c.value("reason", "") == reason && c.value("message", "") == message)
        return false;
      c = job_condition(type, reason, message, status);
      return true;
    }
  if (std::string(status) == "False") return false;
  conditions.push_back(job_condition(type, reason, message, status));
  return true;
}
bool spec_bool(const json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_boolean() && it->get<bool>();
}
}  // namespace

void JobController::finish(SimJob& sj, JobEnd end, const std::string& reason, const std::string& message) {
  if (end == JobEnd::Complete) {
    sj.conditions.push_back(job_condition("SuccessCriteriaMet", reason, message));
    sj.conditions.push_back(job_condition("Complete", reason, message));
    sj.completion_time = sj.conditions.back()["lastTransitionTime"];
  } else {
    sj.conditions.push_back(job_condition("FailureTarget", reason, message));
    if (terminating_pods(sj) > 0) {
      sj.failed_condition_pending = true;  // Failed once the pods being stopped are gone
      sj.failed_reason = reason;
      sj.failed_message = message;
    } else {
      sj.conditions.push_back(job_condition("Failed", reason, message));
    }
  }
  sj.finished = true;
  sj.finished_at = clock_.now();
}

int JobController::terminating_pods(const SimJob& sj) const {
  int n = 0;
  for (const auto& p : sj.pods) n += p.terminating ? 1 : 0;
  return n;
}

void JobController::write_status(SimJob& sj) {
  int active = 0, ready = 0;
  for (const auto& p : sj.pods) {
    if (p.gone || stage_is_terminated(p.plan.outcome, p.stage)) continue;
    active++;
    if (stage_is_running(p.plan.outcome, p.stage)) ready++;
  }
  json status = json::object();
  if (!sj.conditions.empty()) status["conditions"] = sj.conditions;
  if (!sj.start_wall.empty()) status["startTime"] = sj.start_wall;
  if (!sj.completion_time.empty()) status["completionTime"] = sj.completion_time;
  if (active) status["active"] = active;
  if (sj.succeeded) status["succeeded"] = sj.succeeded;
  if (sj.failed) status["failed"] = sj.failed;
  status["terminating"] = terminating_pods(sj);
  status["uncountedTerminatedPods"] = json::object();
  status["ready"] = ready;
  ObjectPtr job_ptr = store_.update(
      jobs_, sj.ns, sj.name,
      [&](json& obj) {
        if (obj["status"] == status) return false;
        obj["status"] = status;
        return true;
      },
      sj.uid);
  if (job_ptr && sj.finished && !sj.failed_condition_pending && !sj.terminal_event_recorded) {
    const json job = job_ptr->parse();
    const json& last = sj.conditions.back();
    if (last.value("type", "") == "Complete")
      record_event(job, {"Normal", "Completed", "Job completed", "job-controller", ""});
    else
      record_event(job, {"Warning", last.value("reason", ""), last.value("message", ""), "job-controller", ""});
    sj.terminal_event_recorded = true;
  }
}

void JobController::delete_job_and_pods(SimJob& sj) {
  // The TTL-after-finished controller deletes with Foreground propagation: the Job goes only once
  // its pods are gone (a client that sees the Job 404 finds no pods either).
  delete_job_foreground(sj.ns, sj.name, sj.uid);
}

std::optional<SteadyTime> JobController::sync_job(SimJob& sj) {
  ObjectPtr job_ptr = store_.get(jobs_, sj.ns, sj.name);
  if (!job_ptr || job_ptr->uid() != sj.uid) return std::nullopt;
  const json job_obj = job_ptr->parse();
  const json* job = &job_obj;
  const auto now = clock_.now();
  const json& spec = (*job)["spec"];
  std::optional<SteadyTime> next;
  auto consider = [&](SteadyTime t) {
    if (!next || t < *next) next = t;
  };
  const long long ttl = spec_int(spec, "ttlSecondsAfterFinished", -1);
  if (sj.finished) {
    if (sj.failed_condition_pending && terminating_pods(sj) == 0) {
      sj.conditions.push_back(job_condition("Failed", sj.failed_reason, sj.failed_message));
      sj.failed_condition_pending = false;
      sj.finished_at = now;
    }
    write_status(sj);  // the count of terminating pods, and Failed when they are gone
    if (sj.failed_condition_pending) return SteadyTime::max();  // complete_termination wakes it
    if (ttl < 0) return std::nullopt;
    SteadyTime due = sj.finished_at + clock_.scaled(static_cast<double>(ttl));
    if (now >= due) {
      delete_job_and_pods(sj);
      return std::nullopt;
    }
    return due;
  }
  // A suspended Job keeps no pods and its clock does not run; it starts when first not suspended.
  const bool suspended = spec_bool(spec, "suspend");
  if (!suspended && sj.start_wall.empty()) {
    sj.start_wall = rfc3339_now();
    sj.start = now;
  }

  // Move every live pod forward.
  for (auto& p : sj.pods) {
    if (p.gone || stage_is_terminated(p.plan.outcome, p.stage)) continue;
    if (p.terminating)
      p.gone = true;  // being stopped: counts as failed, and may be replaced at once
    else
      advance_pod(sj, p, now);
    if (p.gone || stage_is_terminated(p.plan.outcome, p.stage)) {
      if (p.gone || p.plan.exit_code != 0) {
        sj.failed++;
        sj.last_failure = now;
      } else {
        sj.succeeded++;
      }
      continue;
    }
    double off = stage_offset_seconds(p.plan, p.stage + 1);
    if (off >= 0) consider(p.created + clock_.scaled(off));
  }
  int active = 0;
  for (const auto& p : sj.pods)
    if (!p.gone && !stage_is_terminated(p.plan.outcome, p.stage)) active++;

  const long long deadline = spec_int(spec, "activeDeadlineSeconds", -1);
  const long long backoff_limit = spec_int(spec, "backoffLimit", 6);
  const long long completions = spec_int(spec, "completions", 1);
  const long long parallelism = spec_int(spec, "parallelism", 1);
  auto kill_active = [&]() {
    for (auto& p : sj.pods) {
      if (p.gone || stage_is_terminated(p.plan.outcome, p.stage)) continue;
      p.gone = true;
      sj.failed++;
      if (delete_pod(sj.ns, p.name, std::nullopt)) {
        record_event(*job, {"Normal", "SuccessfulDelete", "Deleted pod: " + p.name, "job-controller", ""});
        if (store_.get(pods_, sj.ns, p.name)) p.terminating = true;  // the kubelet is stopping it
      }
    }
  };
  // As the job controller's pastActiveDeadline: never while suspended. On the sync that resumes a
  // Job, the deadline is still measured from the startTime it had (as Kubernetes does), and only
  // then is startTime reset.
  if (!suspended && deadline > 0 && !sj.start_wall.empty() &&
      now >= sj.start + clock_.scaled(static_cast<double>(deadline))) {
    kill_active();
    finish(sj, JobEnd::Failed, "DeadlineExceeded", "Job was active longer than specified deadline");
  } else if (sj.failed > backoff_limit) {
    kill_active();
    finish(sj, JobEnd::Failed, "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  } else if (sj.succeeded >= completions) {
    finish(sj, JobEnd::Complete, "CompletionsReached", "Reached expected number of succeeded pods");
  } else if (const bool deleting = (*job)["metadata"].contains("deletionTimestamp"); suspended && !deleting) {
    // Suspended: the active pods are deleted (gracefully) and, their tracking finalizer removed
    // first, never counted as failed or succeeded.
    for (auto& p : sj.pods) {
      if (p.gone || stage_is_terminated(p.plan.outcome, p.stage)) continue;
      p.gone = true;
      if (delete_pod(sj.ns, p.name, std::nullopt)) {
        record_event(*job, {"Normal", "SuccessfulDelete", "Deleted pod: " + p.name, "job-controller", ""});
        if (store_.get(pods_, sj.ns, p.name)) p.terminating = true;  // the kubelet is stopping it
      }
    }
    if (ensure_condition(sj.conditions, "Suspended", "True", "JobSuspended", "Job suspended"))
      record_event(*job, {"Normal", "Suspended", "Job suspended", "job-controller", ""});
  } else {
    if (!deleting && ensure_condition(sj.conditions, "Suspended", "False", "JobResumed", "Job resumed")) {
      // Resumed: startTime is reset, so activeDeadlineSeconds counts from now.
      record_event(*job, {"Normal", "Resumed", "Job resumed", "job-controller", ""});
      sj.start_wall = rfc3339_now();
      sj.start = now;
    }
    if (!suspended && deadline > 0) consider(sj.start + clock_.scaled(static_cast<double>(deadline)));
    long long want = std::min(parallelism, completions - sj.succeeded) - active;
    if (deleting) want = 0;  // being deleted: no new pods
    if (want > 0) {
      SteadyTime allowed = now;
      if (sj.failed > 0) {
        double delay = defaults_.backoff_seconds * std::pow(2.0, std::min(sj.failed - 1, 10));
        allowed = sj.last_failure + clock_.scaled(std::min(delay, 360.0));
      }
      if (now >= allowed) {
        for (long long i = 0; i < want; ++i) create_pod(sj, *job);
        for (const auto& p : sj.pods)
          if (p.stage == 0 && !p.gone) {
            double off = stage_offset_seconds(p.plan, 1);
            if (off >= 0) consider(p.created + clock_.scaled(off));
          }
      } else {
        consider(allowed);
      }
    }
  }
  write_status(sj);
  if (sj.finished) {
    if (sj.failed_condition_pending) return next ? next : SteadyTime::max();
    if (ttl < 0) return std::nullopt;
    consider(sj.finished_at + clock_.scaled(static_cast<double>(ttl)));
  }
  return next ? next : SteadyTime::max();
}

}  // namespace kjq::emulator
