#pragma once
// Follows one Job to its end: a ListWatch on the Job (fieldSelector metadata.name) and one on its
// pods (labelSelector job-name), each in its own thread, feed one state; the lifecycle is derived
// again on every change and once per tick (for the unschedulable start deadline). A Job that does
// not exist is NotFound at once, or once `wait_for_create` has passed without it being created.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dispatch/lifecycle.hpp"
#include "kube/api.hpp"

namespace kjq::dispatch {

struct FollowOptions {
  LifecycleOptions lifecycle;  // `now` is refreshed on every derivation
  std::chrono::milliseconds tick{1000};
  std::optional<std::chrono::seconds> timeout;  // give up (returns the last lifecycle)
  int watch_timeout_seconds = 300;
  // A Job that does not exist yet: wait this long for it to be created (nullopt: NotFound at once).
  std::optional<std::chrono::milliseconds> wait_for_create;
  // Called on every tick (and first once the watches are synced) while waiting for the Job to be
  // created, with the time waited so far.
  std::function<void(std::chrono::milliseconds)> on_waiting;
};

// Calls `on_change` for every new lifecycle (first one included). Returns the terminal lifecycle,
// or the last one seen when cancelled or timed out. Throws what the watches throw (403, ...), and
// kube::ApiError NotFound for a Job that does not exist (after `wait_for_create`).
Lifecycle follow_job(kube::KubeApi& api, const std::string& ns, const std::string& name,
                     const std::function<void(const Lifecycle&)>& on_change, const std::atomic<bool>* cancel = nullptr,
                     const FollowOptions& options = {});

// A duration as kubectl's flags take it: "90s", "2m", "1h30m", "1.5s", "500ms", "0"; a bare number
// is seconds. nullopt when it is none of these or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace kjq::dispatch
