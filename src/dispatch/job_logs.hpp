#pragma once
// Logs of a job: the newest pod whose container has started; with follow, wait for it (the pod
// may still be pulling its image) and stream until the container ends.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "kube/api.hpp"

namespace kjq::dispatch {

// Writes the log to `out` (return false to stop). Throws RuntimeError when the job has no pod
// that started (and, with follow, none starts within `max_wait` or the job fails before).
void job_logs(kube::KubeApi& api, const std::string& ns, const std::string& job, kube::LogOptions options,
              const std::function<bool(std::string_view)>& out, const std::atomic<bool>* cancel = nullptr,
              std::chrono::seconds max_wait = std::chrono::seconds(600));

}  // namespace kjq::dispatch
