#include "server/job_informer.hpp"

#include <memory>
#include <set>

#include <spdlog/spdlog.h>

#include "kube/watch.hpp"

namespace kjq::server {

using nlohmann::json;

namespace {
std::string meta_string(const json& o, const char* key) {
  if (!o.contains("metadata") || !o["metadata"].is_object()) return "";
  const json& v = o["metadata"].value(key, json());
  return v.is_string() ? v.get<std::string>() : "";
}
std::string job_name_of_pod(const json& pod) {
  if (!pod.contains("metadata") || !pod["metadata"].is_object()) return "";
  const json labels = pod["metadata"].value("labels", json::object());
  if (!labels.is_object()) return "";
  std::string n = labels.value("batch.kubernetes.io/job-name", "");
  return n.empty() ? labels.value("job-name", "") : n;
}
// What the tracker reads of a Job or pod (lifecycle, logs, evidence), as compact JSON text: the
// caches keep only this. A Job from the chart carries its whole pod template (env, volumes,
// probes) and a parsed tree costs several times its text; 10,000 live jobs in full would cost
// hundreds of MiB.
std::string slim(const json& o) {
  json out = json::object();
  if (o.contains("metadata") && o["metadata"].is_object()) {
    const json& meta = o["metadata"];
    json& m = out["metadata"] = json::object();
    for (const char* k : {"name", "uid", "creationTimestamp", "deletionTimestamp"})
      if (meta.contains(k)) m[k] = meta[k];
    if (meta.contains("labels") && meta["labels"].is_object())
      for (const char* k : {"job-name", "batch.kubernetes.io/job-name"})
        if (meta["labels"].contains(k)) m["labels"][k] = meta["labels"][k];
  }
  if (o.contains("spec") && o["spec"].is_object()) {
    const json& spec = o["spec"];
    json& s = out["spec"] = json::object();
    if (spec.contains("nodeName")) s["nodeName"] = spec["nodeName"];
    if (spec.contains("containers") && spec["containers"].is_array()) {
      s["containers"] = json::array();
      for (const auto& c : spec["containers"]) s["containers"].push_back({{"name", c.value("name", "")}});
    }
  }
  if (o.contains("status") && o["status"].is_object()) {
    json status = o["status"];
    for (const char* k : {"hostIP", "hostIPs", "podIP", "podIPs", "qosClass", "uncountedTerminatedPods"})
      status.erase(k);
    if (status.contains("containerStatuses") && status["containerStatuses"].is_array())
      for (auto& cs : status["containerStatuses"])
        for (const char* k : {"image", "imageID", "containerID"}) cs.erase(k);
    out["status"] = std::move(status);
  }
  std::string text = out.dump();
  text.shrink_to_fit();
  return text;
}

// Drops, while parsing, what slim() would throw away anyway: the Job's pod template and the pod's
// spec (env, volumes, probes: most of each object's bytes), containers' fields other than their
// name, managedFields and annotations. Decided on the path of each key: keys[d] is the key being
// read at depth d ("[]" for array elements).
nlohmann::json::parser_callback_t make_parse_filter() {
  auto keys = std::make_shared<std::vector<std::string>>();
  return [keys](int depth, json::parse_event_t event, json& parsed) {
    auto& k = *keys;
    const auto d = static_cast<std::size_t>(depth);
    if (event == json::parse_event_t::array_start) {
      if (k.size() < d + 2) k.resize(d + 2);
      k[d + 1] = "[]";
      return true;
    }
    if (event != json::parse_event_t::key) return true;
    if (k.size() < d + 1) k.resize(d + 1);
    k[d] = parsed.get<std::string>();
    if (d < 1) return true;
    const std::string& key = k[d];
    const std::string& parent = k[d - 1];
    if (parent == "metadata") return key != "managedFields" && key != "annotations";
    if (parent == "spec") return key == "nodeName" || key == "containers";
    if (d >= 2 && parent == "[]" && k[d - 2] == "containers") return key == "name";
    return true;
  };
}

}  // namespace

JobInformer::JobInformer(kube::KubeApi& api, std::string ns, std::string label_selector, int watch_timeout_seconds)
    : api_(api), ns_(std::move(ns)), selector_(std::move(label_selector)), watch_timeout_(watch_timeout_seconds) {}

JobInformer::~JobInformer() { stop(); }

void JobInformer::start(ChangeHandler on_change) {
  on_change_ = std::move(on_change);
  stop_ = false;
  job_thread_ = std::thread([this] { run_guarded("jobs", jobs_failing_, [this] { run_jobs(); }); });
  pod_thread_ = std::thread([this] { run_guarded("pods", pods_failing_, [this] { run_pods(); }); });
}

void JobInformer::stop() {
  stop_ = true;
  if (job_thread_.joinable()) job_thread_.join();
  if (pod_thread_.joinable()) pod_thread_.join();
}

void JobInformer::changed(const std::string& name) {
  if (!name.empty() && on_change_) on_change_(name, std::chrono::steady_clock::now());
}

void JobInformer::run_guarded(const char* what, std::atomic<bool>& failing, const std::function<void()>& body) {
  int failures = 0;
  while (!stop_) {
    try {
      body();
      failures = 0;
    } catch (const std::exception& e) {
      // A list succeeded since the last failure (it cleared `failing`): this is a new first one.
      failures = failing ? failures + 1 : 1;
      failing = true;
      {
        std::lock_guard lock(mu_);
        ++stats_.failures;
        last_error_ = std::string("watch ") + what + ": " + e.what();
      }
      spdlog::warn("watch {} failed ({}); retrying", what, e.what());
    }
    // Back off 0.2 s, 0.4 s, ... up to 10 s, waking early on stop.
    const auto wait = std::chrono::milliseconds(std::min(10000, 200 << std::min(failures, 6)));
    for (auto until = std::chrono::steady_clock::now() + wait; !stop_ && std::chrono::steady_clock::now() < until;)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void JobInformer::run_jobs() {
  kube::ListOptions sel;
  sel.label_selector = selector_;
  sel.parse_filter = make_parse_filter();
  kube::ListWatch watch(api_, kube::jobs_resource(), ns_, sel, watch_timeout_);
  watch.max_failures = 1000000;  // the informer never gives up on transient failures
  kube::WatchStats seen;
  auto note_stats = [&] {
    std::lock_guard lock(mu_);
    stats_.job_watch_restarts += (watch.stats().resumes - seen.resumes) + (watch.stats().relists - seen.relists);
    stats_.relists += watch.stats().relists - seen.relists;
    seen = watch.stats();
  };
  watch.run({[&](const std::vector<json>& items) {
               std::vector<std::string> touched;
               std::map<std::string, std::string> fresh;  // slimmed outside the lock
               for (const auto& j : items) fresh[meta_string(j, "name")] = slim(j);
               {
                 std::lock_guard lock(mu_);
                 for (const auto& [n, _] : jobs_)
                   if (!fresh.count(n)) touched.push_back(n);  // vanished while we were not watching
                 for (const auto& [n, _] : fresh) touched.push_back(n);
                 jobs_ = std::move(fresh);
               }
               note_stats();
               jobs_synced_ = true;
               jobs_failing_ = false;
               for (const auto& n : touched) changed(n);
               return !stop_.load();
             },
             [&](const kube::WatchEvent& ev) {
               const std::string name = meta_string(ev.object, "name");
               std::string text = ev.type == "DELETED" ? std::string() : slim(ev.object);
               {
                 std::lock_guard lock(mu_);
                 if (ev.type == "DELETED")
                   jobs_.erase(name);
                 else
                   jobs_[name] = std::move(text);
               }
               note_stats();
               changed(name);
               return !stop_.load();
             }},
            &stop_);
}

void JobInformer::run_pods() {
  kube::ListOptions sel;
  sel.label_selector = selector_;
  sel.parse_filter = make_parse_filter();
  kube::ListWatch watch(api_, kube::pods_resource(), ns_, sel, watch_timeout_);
  watch.max_failures = 1000000;
  kube::WatchStats seen;
  auto note_stats = [&] {
    std::lock_guard lock(mu_);
    stats_.pod_watch_restarts += (watch.stats().resumes - seen.resumes) + (watch.stats().relists - seen.relists);
    stats_.relists += watch.stats().relists - seen.relists;
    seen = watch.stats();
  };
  watch.run({[&](const std::vector<json>& items) {
               std::set<std::string> touched;
               std::map<std::string, std::map<std::string, std::string>> fresh;  // slimmed outside the lock
               for (const auto& p : items) {
                 const std::string job = job_name_of_pod(p);
                 fresh[job][meta_string(p, "name")] = slim(p);
                 touched.insert(job);
               }
               {
                 std::lock_guard lock(mu_);
                 for (const auto& [job, _] : pods_by_job_) touched.insert(job);
                 pods_by_job_ = std::move(fresh);
               }
               note_stats();
               pods_synced_ = true;
               pods_failing_ = false;
               for (const auto& n : touched) changed(n);
               return !stop_.load();
             },
             [&](const kube::WatchEvent& ev) {
               const std::string job = job_name_of_pod(ev.object);
               const std::string pod = meta_string(ev.object, "name");
               std::string text = ev.type == "DELETED" ? std::string() : slim(ev.object);
               {
                 std::lock_guard lock(mu_);
                 auto& pods = pods_by_job_[job];
                 if (ev.type == "DELETED") {
                   pods.erase(pod);
                   if (pods.empty()) pods_by_job_.erase(job);
                 } else {
                   pods[pod] = std::move(text);
                 }
               }
               note_stats();
               changed(job);
               return !stop_.load();
             }},
            &stop_);
}

JobSnapshot JobInformer::snapshot(const std::string& job_name) const {
  // Copies the texts under the lock and parses them after it: the watch threads and the other
  // tracker workers need the lock far more often than a parse takes.
  std::optional<std::string> job_text;
  std::vector<std::string> pod_texts;
  {
    std::lock_guard lock(mu_);
    if (auto it = jobs_.find(job_name); it != jobs_.end()) job_text = it->second;
    if (auto it = pods_by_job_.find(job_name); it != pods_by_job_.end())
      for (const auto& [_, p] : it->second) pod_texts.push_back(p);
  }
  JobSnapshot s;
  if (job_text) s.job = json::parse(*job_text);
  s.pods.reserve(pod_texts.size());
  for (const auto& p : pod_texts) s.pods.push_back(json::parse(p));
  return s;
}

std::vector<std::string> JobInformer::job_names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [n, _] : jobs_) out.push_back(n);
  return out;
}

InformerStats JobInformer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string JobInformer::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace kjq::server
