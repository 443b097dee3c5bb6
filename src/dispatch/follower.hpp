#pragma once
// Follows one Job to its end: a ListWatch on the Job (fieldSelector metadata.name) and one on its
// pods (labelSelector job-name), each in its own thread, feed one state; the lifecycle is derived
// again on every change and once per tick (for the unschedulable start deadline).
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "dispatch/lifecycle.hpp"
#include "kube/api.hpp"

namespace kjq::dispatch {

struct FollowOptions {
  LifecycleOptions lifecycle;  // `now` is refreshed on every derivation
  std::chrono::milliseconds tick{1000};
  std::optional<std::chrono::seconds> timeout;  // give up (returns the last lifecycle)
  int watch_timeout_seconds = 300;
};

// Calls `on_change` for every new lifecycle (first one included). Returns the terminal lifecycle,
// or the last one seen when cancelled or timed out. Throws what the watches throw (403, ...).
Lifecycle follow_job(kube::KubeApi& api, const std::string& ns, const std::string& name,
                     const std::function<void(const Lifecycle&)>& on_change, const std::atomic<bool>* cancel = nullptr,
                     const FollowOptions& options = {});

}  // namespace kjq::dispatch
