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
bool owned_by(const json& pod, const std::string& uid) {
  for (const auto& ref : pod["metadata"].value("ownerReferences", json::array()))
    if (ref.value("uid", "") == uid) return true;
  return false;
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
      if (!wake) cv_.wait(lock, ready);
      else cv_.wait_until(lock, *wake, ready);
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
      if (!next) jobs_by_uid_.erase(it);
      else schedule(it->second, *next);
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

void JobController::advance_pod(SimJob& sj, SimPod& pod, SteadyTime now) {
  (void)sj;
  int target = pod.stage;
  for (int s = pod.stage + 1; s <= final_stage(pod.plan.outcome); ++s) {
    double off = stage_offset_seconds(pod.plan, s);
    if (off < 0 || now < pod.created + clock_.scaled(off)) break;
    target = s;
  }
  if (target == pod.stage) {
    if (!store_.get(pods_, sj.ns, pod.name)) pod.gone = true;
    return;
  }
  for (int s = pod.stage + 1; s <= target; ++s) {
    if (stage_is_running(pod.plan.outcome, s) || (s == 2 && stage_is_terminated(pod.plan.outcome, s) && pod.times.started.empty()))
      pod.times.started = rfc3339_now();
    if (stage_is_terminated(pod.plan.outcome, s)) pod.times.finished = rfc3339_now();
  }
  ObjectPtr updated = store_.update(pods_, sj.ns, pod.name, [&](json& obj) {
    obj["status"] = pod_status(obj, pod.plan, target, pod.times);
    return true;
  });
  if (!updated) {
    pod.gone = true;
    return;
  }
  const json now_pod = updated->parse();
  for (int s = pod.stage + 1; s <= target; ++s)
    for (const auto& e : pod_stage_events(now_pod, pod.plan, s, node_)) record_event(now_pod, e);
  pod.stage = target;
}

namespace {
json job_condition(const char* type, const std::string& reason, const std::string& message) {
  const std::string now = rfc3339_now();
  return json{{"type", type}, {"status", "True"}, {"lastProbeTime", now}, {"lastTransitionTime", now},
              {"reason", reason}, {"message", message}};
}
}  // namespace

void JobController::finish(SimJob& sj, bool complete, const std::string& reason, const std::string& message) {
  if (complete) {
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
  ObjectPtr job_ptr = store_.update(jobs_, sj.ns, sj.name, [&](json& obj) {
    if (obj["status"] == status) return false;
    obj["status"] = status;
    return true;
  }, sj.uid);
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

ObjectPtr JobController::delete_job_foreground(const std::string& ns, const std::string& name, const std::string& uid) {
  ObjectPtr marked = store_.update(jobs_, ns, name, [&](json& o) {
    o["metadata"]["deletionTimestamp"] = rfc3339_now();
    o["metadata"]["deletionGracePeriodSeconds"] = 0;
    o["metadata"]["finalizers"] = json::array({"foregroundDeletion"});
    return true;
  }, uid);
  if (!marked) return nullptr;
  delete_dependents(marked->parse(), "Foreground");
  finish_foreground_deletion(ns, name, uid);
  return marked;
}

std::vector<ObjectPtr> JobController::owned_pods(const std::string& ns, const std::string& job_uid) const {
  // A cheap text search first; the owner reference decides.
  return store_.list(pods_, ns, [&](const StoredObject& pod) {
    return pod.text().find(job_uid) != std::string::npos && owned_by(pod.parse(), job_uid);
  }).items;
}

void JobController::delete_dependents(const json& job, const std::string& propagation) {
  const std::string ns = job["metadata"].value("namespace", "");
  const std::string uid = job["metadata"].value("uid", "");
  for (const auto& pod : owned_pods(ns, uid)) {
    const std::string& name = pod->name();
    if (propagation == "Orphan") {
      store_.update(pods_, ns, name, [&](json& obj) {
        auto& refs = obj["metadata"]["ownerReferences"];
        json kept = json::array();
        for (const auto& r : refs)
          if (r.value("uid", "") != uid) kept.push_back(r);
        if (kept.empty()) obj["metadata"].erase("ownerReferences");
        else refs = kept;
        return true;
      });
    } else {
      delete_pod(ns, name, std::nullopt, pod->uid());
    }
  }
}

ObjectPtr JobController::delete_pod(const std::string& ns, const std::string& name, std::optional<long long> grace,
                                    const std::string& uid) {
  ObjectPtr current = store_.get(pods_, ns, name);
  if (!current || (!uid.empty() && current->uid() != uid)) return nullptr;
  const json pod = current->parse();
  const json& spec = pod["spec"];
  long long seconds = grace ? *grace : spec_int(spec, "terminationGracePeriodSeconds", 30);
  if (seconds < 0) seconds = 0;
  std::string job_uid, job_name;
  for (const auto& ref : pod["metadata"].value("ownerReferences", json::array()))
    if (ref.value("kind", "") == "Job") {
      job_uid = ref.value("uid", "");
      job_name = ref.value("name", "");
    }
  const std::string phase = pod.value("status", json::object()).value("phase", "");
  // The API server deletes at once what no kubelet has to stop (pod registry's graceful-delete check).
  const bool at_once = seconds == 0 || spec.value("nodeName", "").empty() || phase == "Succeeded" || phase == "Failed";
  if (at_once) {
    ObjectPtr removed = store_.remove(pods_, ns, name, current->uid());
    if (!job_uid.empty()) {
      poke(job_uid);
      finish_foreground_deletion(ns, job_name, job_uid);
    }
    return removed ? current : nullptr;
  }
  const auto& meta = pod["metadata"];
  if (meta.contains("deletionGracePeriodSeconds") && meta["deletionGracePeriodSeconds"].is_number_integer() &&
      meta["deletionGracePeriodSeconds"].get<long long>() <= seconds)
    return current;  // already terminating with a grace period no longer than this one
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            clock_.scaled(static_cast<double>(seconds)));
  ObjectPtr marked = store_.update(pods_, ns, name, [&](json& obj) {
    obj["metadata"]["deletionTimestamp"] = rfc3339(deadline);
    obj["metadata"]["deletionGracePeriodSeconds"] = seconds;
    return true;
  }, current->uid());
  if (!marked) return nullptr;
  {
    std::lock_guard lock(mu_);
    terminations_.push_back({ns, name, current->uid(), job_uid, job_name, seconds});
  }
  cv_.notify_one();
  return marked;
}

JobController::SimPod* JobController::find_sim_pod(const std::string& job_uid, const std::string& pod_name,
                                                   SimJob** job) {
  auto it = jobs_by_uid_.find(job_uid);
  if (it == jobs_by_uid_.end()) return nullptr;
  for (auto& p : it->second.pods)
    if (p.name == pod_name) {
      if (job) *job = &it->second;
      return &p;
    }
  return nullptr;
}

void JobController::begin_termination(const Termination& t, SteadyTime now) {
  const std::string key = t.ns + "/" + t.name;
  if (auto it = stopping_pods_.find(key); it != stopping_pods_.end()) {
    // A shorter grace period: the kill comes sooner.
    if (it->second.t.uid != t.uid || t.grace >= it->second.t.grace) return;
    it->second.t.grace = t.grace;
    if (it->second.exit_code == 137) pod_exits_.emplace(now + clock_.scaled(static_cast<double>(t.grace)), key);
    return;
  }
  ObjectPtr pod = store_.get(pods_, t.ns, t.name);
  if (!pod || pod->uid() != t.uid) return;
  // What the kubelet stops is the stored pod: whether it runs, its plan (from its annotations,
  // as its log is) and its times. The Job's simulation may already have forgotten it (the Job
  // deleted first, in a Background deletion).
  const json obj = pod->parse();
  const json status = obj.value("status", json::object());
  SimJob* sj = nullptr;
  if (SimPod* sp = find_sim_pod(t.job_uid, t.name, &sj); sp && !stage_is_terminated(sp->plan.outcome, sp->stage))
    sp->terminating = true;
  if (sj) schedule(*sj, now);
  if (status.value("phase", "") != "Running") {  // nothing to stop: the kubelet confirms the deletion at once
    store_.remove(pods_, t.ns, t.name, t.uid);
    if (SimPod* sp = find_sim_pod(t.job_uid, t.name)) sp->terminating = false;
    if (!t.job_uid.empty()) finish_foreground_deletion(t.ns, t.job_name, t.job_uid);
    return;
  }
  PodPlan plan = plan_from_template(obj, defaults_, std::string(pod->labels().find("job-name").value_or("")));
  PodTimes times{status.value("startTime", ""), "", ""};
  for (const auto& cs : status.value("containerStatuses", json::array()))
    if (cs.contains("state") && cs["state"].contains("running")) {
      times.started = cs["state"]["running"].value("startedAt", "");
      break;
    }
  StoppingPod stop{t, plan, times, plan.outcome == Outcome::Hang ? 137 : 143};
  for (const auto& c : obj["spec"].value("containers", json::array()))
    record_event(obj, {"Normal", "Killing", "Stopping container " + c.value("name", ""), "kubelet",
                       "spec.containers{" + c.value("name", "") + "}"});
  // A `hang` process ignores SIGTERM and is killed when the grace period ends; others exit at once.
  const double after = stop.exit_code == 137 ? static_cast<double>(t.grace) : 0.0;
  stopping_pods_.emplace(key, std::move(stop));
  pod_exits_.emplace(now + clock_.scaled(after), key);
}

void JobController::complete_termination(const std::string& key) {
  auto it = stopping_pods_.find(key);
  if (it == stopping_pods_.end()) return;  // already done (an earlier, longer timer)
  StoppingPod stop = std::move(it->second);
  stopping_pods_.erase(it);
  const Termination& t = stop.t;
  PodPlan ended = stop.plan;
  ended.outcome = Outcome::Fail;
  ended.exit_code = stop.exit_code;
  stop.times.finished = rfc3339_now();
  if (stop.times.started.empty()) stop.times.started = stop.times.finished;
  // The kubelet's last status update, then its delete with grace 0.
  store_.update(pods_, t.ns, t.name, [&](json& obj) {
    obj["status"] = pod_status(obj, ended, final_stage(Outcome::Fail), stop.times);
    return true;
  }, t.uid);
  store_.remove(pods_, t.ns, t.name, t.uid);
  SimJob* sj = nullptr;
  if (SimPod* sp = find_sim_pod(t.job_uid, t.name, &sj)) {
    sp->terminating = false;
    schedule(*sj, clock_.now());
  }
  if (!t.job_uid.empty()) finish_foreground_deletion(t.ns, t.job_name, t.job_uid);
}

void JobController::finish_foreground_deletion(const std::string& ns, const std::string& job_name,
                                               const std::string& job_uid) {
  ObjectPtr job = store_.get(jobs_, ns, job_name);
  if (!job || job->uid() != job_uid) return;
  const json obj = job->parse();
  bool foreground = false;
  for (const auto& f : obj["metadata"].value("finalizers", json::array()))
    if (f == "foregroundDeletion") foreground = true;
  if (foreground && owned_pods(ns, job_uid).empty()) store_.remove(jobs_, ns, job_name, job_uid);
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
  if (spec.value("suspend", false)) return std::nullopt;
  if (sj.start_wall.empty()) {
    sj.start_wall = rfc3339_now();
    sj.start = now;
  }

  // Move every live pod forward.
  for (auto& p : sj.pods) {
    if (p.gone || stage_is_terminated(p.plan.outcome, p.stage)) continue;
    if (p.terminating) p.gone = true;  // being stopped: counts as failed, and may be replaced at once
    else advance_pod(sj, p, now);
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
  if (deadline > 0 && now >= sj.start + clock_.scaled(static_cast<double>(deadline))) {
    kill_active();
    finish(sj, false, "DeadlineExceeded", "Job was active longer than specified deadline");
  } else if (sj.failed > backoff_limit) {
    kill_active();
    finish(sj, false, "BackoffLimitExceeded", "Job has reached the specified backoff limit");
  } else if (sj.succeeded >= completions) {
    finish(sj, true, "CompletionsReached", "Reached expected number of succeeded pods");
  } else {
    if (deadline > 0) consider(sj.start + clock_.scaled(static_cast<double>(deadline)));
    long long want = std::min(parallelism, completions - sj.succeeded) - active;
    if ((*job)["metadata"].contains("deletionTimestamp")) want = 0;  // being deleted: no new pods
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

std::optional<std::string> JobController::pod_log(const std::string& ns, const std::string& pod_name) const {
  ObjectPtr pod = store_.get(pods_, ns, pod_name);
  if (!pod) return std::nullopt;
  return plan_from_template(pod->parse(), defaults_, std::string(pod->labels().find("job-name").value_or(""))).log;
}

}  // namespace kjq::emulator
