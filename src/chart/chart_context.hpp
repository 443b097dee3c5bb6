#pragma once
// Everything a render derives once from the values and the release (names, labels, image,
// base env and volumes), so rendering thousands of queues does not recompute it per queue.
#include <string>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"

namespace kjq::chart {

struct ChartContext {
  const nlohmann::json& values;  // the coalesced values
  Release release;
  std::string fullname;
  std::string service_account;
  nlohmann::json standard_labels;
  nlohmann::json common_labels;       // {} when unset
  nlohmann::json common_annotations;  // {} when unset
  std::string image;
  nlohmann::json image_pull_secrets;
  nlohmann::json credentials_env;
  nlohmann::json base_env_from;
  nlohmann::json job_volumes;
  nlohmann::json job_volume_mounts;

  static ChartContext build(const nlohmann::json& values, const Release& release);
};

}  // namespace kjq::chart
