#pragma once
// The Nautobot image reference and pull secrets (docs/values.md, "Top-level keys": nautobot.image.*;
// docs/differences.md #11).
#include <string>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"

namespace kjq::chart {

// [registry/]repository(@digest|:tag). global.imageRegistry wins over nautobot.image.registry.
// An empty or missing tag falls back to the app version (the reference prints "repo:" or
// "repo:<nil>"; see docs/differences.md).
std::string image_reference(const nlohmann::json& values, const Release& release);

// [{"name": ...}] from global.imagePullSecrets then nautobot.image.pullSecrets, first
// occurrence kept; names are always strings. [] when there are none.
nlohmann::json image_pull_secrets(const nlohmann::json& values);

}  // namespace kjq::chart
