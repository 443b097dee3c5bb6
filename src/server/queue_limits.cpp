#include "server/queue_limits.hpp"

#include "values/job_queues.hpp"

namespace kjq::server {

namespace {
int cap_of(const nlohmann::json& settings) {
  if (!settings.is_object() || !settings.contains("maxConcurrency")) return 0;
  // Values carry numbers as Helm does (float64); validation has made sure it is a whole number.
  const auto& v = settings["maxConcurrency"];
  return v.is_number() && v.get<double>() >= 1 ? static_cast<int>(v.get<double>()) : 0;
}
}  // namespace

QueueLimits QueueLimits::from_values(const nlohmann::json& values) {
  QueueLimits out;
  if (values.contains("kubernetesJobs")) out.default_ = cap_of(values["kubernetesJobs"]);
  for (const auto& q : values::kubernetes_queue_names(values)) out.limits_[q] = cap_of(values::queue_settings(values, q));
  return out;
}

int QueueLimits::limit(const std::string& queue) const {
  auto it = limits_.find(queue);
  return it == limits_.end() ? default_ : it->second;
}

}  // namespace kjq::server
