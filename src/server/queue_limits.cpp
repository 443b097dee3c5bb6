#include "server/queue_limits.hpp"

#include <optional>

#include "values/job_queues.hpp"

namespace kjq::server {

namespace {
std::optional<int> cap_of(const nlohmann::json& settings) {
  if (!settings.is_object() || !settings.contains("maxConcurrency")) return std::nullopt;
  // Values carry numbers as Helm does (float64); validation has made sure it is a whole number.
  const auto& v = settings["maxConcurrency"];
  if (!v.is_number()) return std::nullopt;
  return v.get<double>() >= 1 ? static_cast<int>(v.get<double>()) : 0;
}
}  // namespace

QueueLimits QueueLimits::from_values(const nlohmann::json& values) {
  QueueLimits out;
  for (const auto& q : values::kubernetes_queue_names(values))
    if (auto cap = cap_of(values::queue_settings(values, q))) out.limits_[q] = *cap;
  return out;
}

int QueueLimits::limit(const std::string& queue) const {
  auto it = limits_.find(queue);
  return it == limits_.end() ? default_ : it->second;
}

std::map<std::string, int> QueueLimits::all(const std::vector<std::string>& queues) const {
  std::map<std::string, int> out = limits_;
  for (const auto& q : queues) out[q] = limit(q);
  return out;
}

}  // namespace kjq::server
