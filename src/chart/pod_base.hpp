#pragma once
// What every Nautobot container starts with: credentials env, envFrom, base volumes and mounts
// (docs/values.md: `extraEnvVars`, `extraEnvVarsCM`, `extraVolumes` and the nautobot.db/redis keys).
#include <string>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"

namespace kjq::chart {

// NAUTOBOT_DB_USER, NAUTOBOT_DB_PASSWORD, NAUTOBOT_REDIS_PASSWORD, in that order.
nlohmann::json credentials_env(const nlohmann::json& values, const Release& release, const std::string& fullname);

// configMapRef then secretRef, both <fullname>-env.
nlohmann::json base_env_from(const std::string& fullname);

// git-repos, the config volume (config wins over configCM), the media PVC when enabled.
nlohmann::json base_volumes(const nlohmann::json& values, const std::string& fullname, bool with_media);
nlohmann::json base_volume_mounts(const nlohmann::json& values, bool with_media);

}  // namespace kjq::chart
