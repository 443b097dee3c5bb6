#include "dispatch/job_logs.hpp"

#include <algorithm>
#include <thread>

#include "dispatch/lifecycle.hpp"
#include "kube/object_meta.hpp"
#include "util/diagnostic.hpp"

namespace kjq::dispatch {

using nlohmann::json;

namespace {
bool started(const json& pod) {
  if (!pod.contains("status") || !pod["status"].contains("containerStatuses")) return false;
  for (const auto& cs : pod["status"]["containerStatuses"])
    if (cs.contains("state") && (cs["state"].contains("running") || cs["state"].contains("terminated"))) return true;
  return false;
}
}  // namespace

void job_logs(kube::KubeApi& api, const std::string& ns, const std::string& job, kube::LogOptions options,
              const std::function<bool(std::string_view)>& out, const std::atomic<bool>* cancel,
              std::chrono::seconds max_wait) {
  const json job_obj = api.get_job(ns, job);
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  kube::ListOptions sel;
  sel.label_selector = "job-name=" + job;
  std::string pod;
  while (true) {
    auto pods = api.list_pods(ns, sel).items;
    std::sort(pods.begin(), pods.end(), [](const json& a, const json& b) {
      return kube::creation_timestamp_of(a) > kube::creation_timestamp_of(b);
    });
    for (const auto& p : pods)
      if (started(p)) {
        pod = kube::name_of(p);
        break;
      }
    if (!pod.empty()) break;
    Lifecycle l = derive_lifecycle(api.get_job(ns, job), pods);
    if (!options.follow || l.terminal())
      throw RuntimeError("job " + job + " has no pod whose container started (" + lifecycle_summary(l) + ")");
    if (std::chrono::steady_clock::now() > deadline || (cancel && cancel->load()))
      throw RuntimeError("job " + job + ": no container started within " + std::to_string(max_wait.count()) + "s");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  if (options.container.empty()) {
    const json& cs = job_obj["spec"]["template"]["spec"]["containers"];
    if (cs.is_array() && !cs.empty()) options.container = cs[0].value("name", "");
  }
  if (options.follow)
    api.follow_pod_logs(ns, pod, options, out, cancel);
  else
    out(api.pod_logs(ns, pod, options));
}

}  // namespace kjq::dispatch
