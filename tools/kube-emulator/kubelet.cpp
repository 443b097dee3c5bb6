// The simulated kubelet (and the pod registry's graceful-deletion rule): pods move through their
// stages, a deleted pod's container is stopped (SIGTERM, or killed when the grace period ends)
// before the kubelet removes it, and pods/log serves the container output.
#include "job_controller.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {
long long grace_seconds_field(const json& spec, const char* key, long long fallback) {
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_number_integer()) return fallback;
  return it->get<long long>();
}
}  // namespace

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
    if (stage_is_running(pod.plan.outcome, s) ||
        (s == 2 && stage_is_terminated(pod.plan.outcome, s) && pod.times.started.empty()))
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

ObjectPtr JobController::delete_pod(const std::string& ns, const std::string& name, std::optional<long long> grace,
                                    const std::string& uid) {
  ObjectPtr current = store_.get(pods_, ns, name);
  if (!current || (!uid.empty() && current->uid() != uid)) return nullptr;
  const json pod = current->parse();
  const json& spec = pod["spec"];
  long long seconds = grace ? *grace : grace_seconds_field(spec, "terminationGracePeriodSeconds", 30);
  if (seconds < 0) seconds = 0;
  std::string job_uid, job_name;
  for (const auto& ref : pod["metadata"].value("ownerReferences", json::array()))
    if (ref.value("kind", "") == "Job") {
      job_uid = ref.value("uid", "");
      job_name = ref.value("name", "");
    }
  const std::string phase = pod.value("status", json::object()).value("phase", "");
  // The API server deletes at once what no kubelet has to stop (pod registry's graceful-delete
  // check).
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
  const auto deadline =
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(clock_.scaled(static_cast<double>(seconds)));
  ObjectPtr marked = store_.update(
      pods_, ns, name,
      [&](json& obj) {
        obj["metadata"]["deletionTimestamp"] = rfc3339(deadline);
        obj["metadata"]["deletionGracePeriodSeconds"] = seconds;
        return true;
      },
      current->uid());
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
  store_.update(
      pods_, t.ns, t.name,
      [&](json& obj) {
        obj["status"] = pod_status(obj, ended, final_stage(Outcome::Fail), stop.times);
        return true;
      },
      t.uid);
  store_.remove(pods_, t.ns, t.name, t.uid);
  SimJob* sj = nullptr;
  if (SimPod* sp = find_sim_pod(t.job_uid, t.name, &sj)) {
    sp->terminating = false;
    schedule(*sj, clock_.now());
  }
  if (!t.job_uid.empty()) finish_foreground_deletion(t.ns, t.job_name, t.job_uid);
}

std::optional<std::string> JobController::pod_log(const std::string& ns, const std::string& pod_name) const {
  ObjectPtr pod = store_.get(pods_, ns, pod_name);
  if (!pod) return std::nullopt;
  return plan_from_template(pod->parse(), defaults_, std::string(pod->labels().find("job-name").value_or(""))).log;
}

}  // namespace kjq::emulator
