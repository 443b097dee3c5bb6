#pragma once
// Per-queue concurrency caps (a kjq extension of values.yaml): `workers.<name>.maxConcurrency`,
// inherited from `kubernetesJobs.maxConcurrency` like every other kubernetesJobs key. A queue
// with no maxConcurrency anywhere in the values gets the default (`kjq serve --max-concurrency`);
// 0 means no limit. Jobs over the cap wait in state Queued, first in first out.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::server {

class QueueLimits {
 public:
  QueueLimits() = default;
  // From merged, validated values: the caps the values set (explicitly, or through
  // kubernetesJobs) for enabled kubernetes queues.
  static QueueLimits from_values(const nlohmann::json& values);

  void set(const std::string& queue, int limit) { limits_[queue] = limit; }
  void set_default(int limit) { default_ = limit; }
  // The cap of `queue` (0: none): the values' cap, else the default.
  int limit(const std::string& queue) const;
  // The caps of `queues` and of every queue with an explicit cap.
  std::map<std::string, int> all(const std::vector<std::string>& queues = {}) const;
  int default_limit() const { return default_; }

 private:
  std::map<std::string, int> limits_;
  int default_ = 0;
};

}  // namespace kjq::server
