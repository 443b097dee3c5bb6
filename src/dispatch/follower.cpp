#include "dispatch/follower.hpp"

#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "kube/watch.hpp"
#include "util/diagnostic.hpp"

namespace kjq::dispatch {

using nlohmann::json;

namespace {

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  json job;
  bool job_listed = false, job_seen = false, pods_listed = false;
  std::map<std::string, json> pods;
  std::exception_ptr error;
  bool changed = false;
};

std::string name_of(const json& o) {
  return o.contains("metadata") && o["metadata"].is_object() ? o["metadata"].value("name", "") : "";
}

}  // namespace

Lifecycle follow_job(kube::KubeApi& api, const std::string& ns, const std::string& name,
                     const std::function<void(const Lifecycle&)>& on_change, const std::atomic<bool>* cancel,
                     const FollowOptions& options) {
  Shared s;
  std::atomic<bool> stop{false};
  auto notify = [&] {
    s.changed = true;
    s.cv.notify_all();
  };
  auto guarded = [&](auto body) {
    return std::thread([&, body] {
      try {
        body();
      } catch (...) {
        std::lock_guard lock(s.mu);
        if (!s.error) s.error = std::current_exception();
        notify();
      }
    });
  };
  kube::ListOptions job_sel;
  job_sel.field_selector = "metadata.name=" + name;
  kube::ListOptions pod_sel;
  pod_sel.label_selector = "job-name=" + name;
  kube::ListWatch job_watch(api, kube::jobs_resource(), ns, job_sel, options.watch_timeout_seconds);
  kube::ListWatch pod_watch(api, kube::pods_resource(), ns, pod_sel, options.watch_timeout_seconds);

  std::thread jt = guarded([&] {
    job_watch.run({[&](const std::vector<json>& items) {
                     std::lock_guard lock(s.mu);
                     s.job = items.empty() ? json() : items.front();
                     s.job_listed = true;
                     if (!items.empty()) s.job_seen = true;
                     notify();
                     return !stop.load();
                   },
                   [&](const kube::WatchEvent& ev) {
                     std::lock_guard lock(s.mu);
                     if (name_of(ev.object) != name) return !stop.load();
                     s.job = ev.type == "DELETED" ? json() : ev.object;
                     if (ev.type != "DELETED") s.job_seen = true;
                     notify();
                     return !stop.load();
                   }},
                  &stop);
  });
  std::thread pt = guarded([&] {
    pod_watch.run({[&](const std::vector<json>& items) {
                     std::lock_guard lock(s.mu);
                     s.pods.clear();
                     for (const auto& p : items) s.pods[name_of(p)] = p;
                     s.pods_listed = true;
                     notify();
                     return !stop.load();
                   },
                   [&](const kube::WatchEvent& ev) {
                     std::lock_guard lock(s.mu);
                     if (ev.type == "DELETED")
                       s.pods.erase(name_of(ev.object));
                     else
                       s.pods[name_of(ev.object)] = ev.object;
                     notify();
                     return !stop.load();
                   }},
                  &stop);
  });

  const auto started = std::chrono::steady_clock::now();
  std::optional<Lifecycle> last;
  std::exception_ptr error;
  {
    std::unique_lock lock(s.mu);
    while (true) {
      s.cv.wait_for(lock, options.tick, [&] { return s.changed; });
      s.changed = false;
      if (s.error) {
        error = s.error;
        break;
      }
      if (cancel && cancel->load()) break;
      if (options.timeout && std::chrono::steady_clock::now() - started > *options.timeout) break;
      if (!s.job_listed || !s.pods_listed) continue;
      if (s.job.is_null() && !s.job_seen) {
        error = std::make_exception_ptr(RuntimeError("job " + name + " not found in namespace " + ns));
        break;
      }
      std::vector<json> pods;
      for (const auto& [_, p] : s.pods) pods.push_back(p);
      LifecycleOptions lo = options.lifecycle;
      lo.now = std::chrono::system_clock::now();
      Lifecycle l = derive_lifecycle(s.job, pods, {}, lo);
      if (l.phase == Phase::Failed && !l.exit_code && !s.job.is_null() && l.reason == l.job_reason &&
          l.reason != "DeadlineExceeded") {
        // The Job's Failed condition can arrive before the pod watch has delivered the pod's
        // final state: read the pods once more so the reason names the container's failure.
        const json job = s.job;
        lock.unlock();
        try {
          kube::ListOptions o;
          o.label_selector = "job-name=" + name;
          l = derive_lifecycle(job, api.list_pods(ns, o).items, {}, lo);
        } catch (const std::exception&) {
          // keep the Job's own reason
        }
        lock.lock();
      }
      if (!last || !(*last == l)) {
        last = l;
        lock.unlock();
        on_change(l);
        lock.lock();
      }
      if (l.terminal()) break;
    }
  }
  stop = true;
  jt.join();
  pt.join();
  if (error) std::rethrow_exception(error);
  return last.value_or(Lifecycle{});
}

}  // namespace kjq::dispatch
