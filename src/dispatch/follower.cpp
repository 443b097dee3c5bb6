#include "dispatch/follower.hpp"

#include <cctype>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>

#include "kube/errors.hpp"
#include "kube/informer.hpp"
#include "util/diagnostic.hpp"

namespace kjq::dispatch {

using nlohmann::json;

namespace {
// 500ms, 30s, 90s, 1.5s: as parse_duration reads it back.
std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string frac = std::to_string(1000 + ms % 1000).substr(1);  // three digits
  while (frac.back() == '0') frac.pop_back();
  return std::to_string(ms / 1000) + "." + frac + "s";
}
}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto number = [](std::string_view t, std::size_t& pos) -> std::optional<double> {
    const std::size_t start = pos;
    bool digits = false, dot = false;
    while (pos < t.size() && (std::isdigit(static_cast<unsigned char>(t[pos])) || (t[pos] == '.' && !dot))) {
      if (t[pos] == '.')
        dot = true;
      else
        digits = true;
      ++pos;
    }
    if (!digits || pos - start > 15) return std::nullopt;
    return std::stod(std::string(t.substr(start, pos - start)));
  };
  std::size_t pos = 0;
  if (text.find_first_not_of("0123456789.") == std::string_view::npos) {  // bare seconds
    auto v = number(text, pos);
    if (!v || pos != text.size()) return std::nullopt;
    return std::chrono::milliseconds(std::llround(*v * 1000));
  }
  double total_ms = 0;
  while (pos < text.size()) {
    auto v = number(text, pos);
    if (!v) return std::nullopt;
    const std::size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    double scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else
      return std::nullopt;
    total_ms += *v * scale;
  }
  if (total_ms > 1e12) return std::nullopt;  // over 30 years: a typo
  return std::chrono::milliseconds(std::llround(total_ms));
}

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
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        if (options.wait_for_create && waited < *options.wait_for_create) {
          if (options.on_waiting) {
            lock.unlock();
            options.on_waiting(waited);
            lock.lock();
          }
          continue;
        }
        // As `kjq status` says it (the API server's NotFound), so that it exits the same way.
        const std::string message = "jobs.batch \"" + name + "\" not found";
        std::string what = "watch job " + name + " in namespace " + ns + ": NotFound: " + message;
        if (options.wait_for_create) what += " (not created within " + format_duration(*options.wait_for_create) + ")";
        error =
            std::make_exception_ptr(kube::ApiError(404, kube::ErrorReason::NotFound, "NotFound", message, {}, what));
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
