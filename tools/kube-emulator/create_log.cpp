#include "create_log.hpp"

namespace kjq::emulator {

void CreateLog::add(CreateRecord r) {
  std::lock_guard lock(mu_);
  records_.push_back(std::move(r));
}

nlohmann::json CreateLog::to_json(const std::string& resource) const {
  nlohmann::json items = nlohmann::json::array();
  std::lock_guard lock(mu_);
  for (const auto& r : records_)
    if (resource.empty() || r.resource == resource)
      items.push_back(
          {{"resource", r.resource}, {"namespace", r.ns}, {"name", r.name}, {"uid", r.uid}, {"time", r.time}});
  return {{"items", std::move(items)}};
}

void CreateLog::clear() {
  std::lock_guard lock(mu_);
  records_.clear();
}

}  // namespace kjq::emulator
