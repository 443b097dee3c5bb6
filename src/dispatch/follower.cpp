#include "dispatch/follower.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>

#include "kube/informer.hpp"
#include "util/diagnostic.hpp"

namespace kjq::dispatch {

using nlohmann::json;

Lifecycle follow_job(kube::KubeApi& api, const std::string& ns, const std::string& name,
                     const std::function<void(const Lifecycle&)>& on_change, const std::atomic<bool>* cancel,
                     const FollowOptions& options) {
  // Two informers, the Job (by name) and its pods (by the job-name label); each change wakes the
  // loop below, which derives the lifecycle from the stores.
  std::mutex mu;
  std::condition_variable cv;
  bool changed = false, job_seen = false;
  auto notify = [&] {
    std::lock_guard lock(mu);
    changed = true;
    cv.notify_all();
  };
  auto informer_options = [&](const char* what) {
    kube::InformerOptions o;
    o.what = what;
    o.watch_timeout_seconds = options.watch_timeout_seconds;
    o.on_failure = kube::OnFailure::Stop;  // a command reports a 403 instead of retrying it
    return o;
  };
  kube::InformerOptions job_options = informer_options("jobs");
  job_options.selectors.field_selector = "metadata.name=" + name;
  kube::InformerOptions pod_options = informer_options("pods");
  pod_options.selectors.label_selector = "job-name=" + name;
  kube::Informer job_informer(api, kube::jobs_resource(), ns, job_options);
  kube::Informer pod_informer(api, kube::pods_resource(), ns, pod_options);
  job_informer.start({[&](const kube::InformerChange& c) {
                        if (c.kind != kube::ChangeKind::Deleted) {
                          std::lock_guard lock(mu);
                          job_seen = true;
                        }
                        notify();
                      },
                      notify, notify});
  pod_informer.start({[&](const kube::InformerChange&) { notify(); }, notify, notify});

  const auto started = std::chrono::steady_clock::now();
  std::optional<Lifecycle> last;
  std::exception_ptr error;
  {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait_for(lock, options.tick, [&] { return changed; });
      changed = false;
      error = job_informer.error() ? job_informer.error() : pod_informer.error();
      if (error) break;
      if (cancel && cancel->load()) break;
      if (options.timeout && std::chrono::steady_clock::now() - started > *options.timeout) break;
      if (!job_informer.synced() || !pod_informer.synced()) continue;
      const kube::ObjectPtr job_ptr = job_informer.get(name);
      const json job = job_ptr ? *job_ptr : json();
      if (job.is_null() && !job_seen) {
        error = std::make_exception_ptr(RuntimeError("job " + name + " not found in namespace " + ns));
        break;
      }
      std::vector<json> pods;
      for (const kube::ObjectPtr& p : pod_informer.list()) pods.push_back(*p);
      LifecycleOptions lo = options.lifecycle;
      lo.now = std::chrono::system_clock::now();
      Lifecycle l = derive_lifecycle(job, pods, {}, lo);
      if (l.phase == Phase::Failed && !l.exit_code && !job.is_null() && l.reason == l.job_reason &&
          l.reason != "DeadlineExceeded") {
        // The Job's Failed condition can arrive before the pod watch has delivered the pod's
        // final state: read the pods once more so the reason names the container's failure.
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
  job_informer.stop();
  pod_informer.stop();
  if (error) std::rethrow_exception(error);
  return last.value_or(Lifecycle{});
}

}  // namespace kjq::dispatch
