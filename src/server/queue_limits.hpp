#pragma once
// Per-queue concurrency caps (a kjq extension of values.yaml): `workers.<name>.maxConcurrency`,
// inherited from `kubernetesJobs.maxConcurrency` like every other kubernetesJobs key.
// 0 or absent: no limit. Jobs over the cap wait in state Queued, first in first out.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace kjq::server {

class QueueLimits {
 public:
  QueueLimits() = default;
  // From merged, validated values: every enabled kubernetes queue's cap.
  static QueueLimits from_values(const nlohmann::json& values);

  void set(const std::string& queue, int limit) { limits_[queue] = limit; }
  void set_default(int limit) { default_ = limit; }
  // The cap of `queue` (0: none). Queues not in the values use the default.
  int limit(const std::string& queue) const;
  const std::map<std::string, int>& all() const { return limits_; }
  int default_limit() const { return default_; }

 private:
  std::map<std::string, int> limits_;
  int default_ = 0;
};

}  // namespace kjq::server
