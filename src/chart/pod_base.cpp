#include "chart/pod_base.hpp"

#include "chart/value_access.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::is_truthy;

namespace {

std::string first_truthy(std::initializer_list<const json*> candidates, std::string fallback) {
  for (const json* c : candidates) {
    if (is_truthy(*c)) return value_text(*c);
  }
  return fallback;
}

json secret_env(const char* name, const std::string& key, const std::string& secret) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"key", key}, {"name", secret}}}}}};
}
}  // namespace

json credentials_env(const json& values, const Release& release, const std::string& fullname) {
  json env = json::array();
  const bool bundled_postgres = value_at(values, {"postgresql", "enabled"}) == json(true);
  const json& db_secret = value_at(values, {"nautobot", "db", "existingSecret"});
  const std::string own_db_secret = fullname + "-db";

  if (bundled_postgres) {
    const json& user = value_at(values, {"postgresql", "auth", "username"});
    env.push_back({{"name", "NAUTOBOT_DB_USER"}, {"value", user.is_null() ? "" : value_text(user)}});
    const json& pg_secret = value_at(values, {"postgresql", "auth", "existingSecret"});
    if (is_truthy(pg_secret)) {
      env.push_back(secret_env(
          "NAUTOBOT_DB_PASSWORD",
          first_truthy({&value_at(values, {"postgresql", "auth", "secretKeys", "userPasswordKey"})}, "password"),
          value_text(pg_secret)));
    } else {
      env.push_back(secret_env(
          "NAUTOBOT_DB_PASSWORD", "password",
          release.name + "-" + first_truthy({&value_at(values, {"postgresql", "nameOverride"})}, "postgresql")));
    }
  } else if (is_truthy(db_secret)) {
    env.push_back(secret_env("NAUTOBOT_DB_USER",
                             value_text(value_at(values, {"nautobot", "db", "existingSecretUsernameKey"})),
                             value_text(db_secret)));
    env.push_back(secret_env("NAUTOBOT_DB_PASSWORD",
                             value_text(value_at(values, {"nautobot", "db", "existingSecretPasswordKey"})),
                             value_text(db_secret)));
  } else {
    env.push_back(secret_env("NAUTOBOT_DB_USER", "username", own_db_secret));
    env.push_back(secret_env("NAUTOBOT_DB_PASSWORD", "password", own_db_secret));
  }

  const json& redis_override = value_at(values, {"redis", "nameOverride"});
  std::string redis_secret =
      first_truthy({&value_at(values, {"nautobot", "redis", "existingSecret"}),
                    &value_at(values, {"redis", "auth", "existingSecret"})},
                   release.name + "-" + (is_truthy(redis_override) ? value_text(redis_override) : "redis"));
  std::string redis_key = first_truthy({&value_at(values, {"nautobot", "redis", "existingSecretPasswordKey"}),
                                        &value_at(values, {"redis", "auth", "existingSecretPasswordKey"})},
                                       "redis-password");
  env.push_back(secret_env("NAUTOBOT_REDIS_PASSWORD", redis_key, redis_secret));
  return env;
}

json base_env_from(const std::string& fullname) {
  return json::array(
      {{{"configMapRef", {{"name", fullname + "-env"}}}}, {{"secretRef", {{"name", fullname + "-env"}}}}});
}

json base_volumes(const json& values, const std::string& fullname, bool with_media) {
  json volumes = json::array({{{"name", "git-repos"}, {"emptyDir", json::object()}}});
  if (is_truthy(value_at(values, {"nautobot", "config"}))) {
    volumes.push_back({{"name", "nautobot-config"}, {"configMap", {{"name", fullname + "-config"}}}});
  } else if (const json& cm = value_at(values, {"nautobot", "configCM"}); is_truthy(cm)) {
    volumes.push_back({{"name", "nautobot-config-custom"}, {"configMap", {{"name", value_text(cm)}}}});
  }
  if (with_media && is_truthy(value_at(values, {"nautobot", "persistenceMediaFiles", "enabled"}))) {
    volumes.push_back({{"name", "nautobot-media"}, {"persistentVolumeClaim", {{"claimName", fullname + "-media"}}}});
  }
  return volumes;
}

json base_volume_mounts(const json& values, bool with_media) {
  json mounts = json::array({{{"name", "git-repos"}, {"mountPath", "/opt/nautobot/git"}}});
  const char* config_volume = nullptr;
  if (is_truthy(value_at(values, {"nautobot", "config"}))) {
    config_volume = "nautobot-config";
  } else if (is_truthy(value_at(values, {"nautobot", "configCM"}))) {
    config_volume = "nautobot-config-custom";
  }
  if (config_volume) {
    mounts.push_back({{"name", config_volume},
                      {"mountPath", "/opt/nautobot/nautobot_config.py"},
                      {"subPath", "nautobot_config.py"}});
  }
  if (with_media && is_truthy(value_at(values, {"nautobot", "persistenceMediaFiles", "enabled"}))) {
    mounts.push_back({{"name", "nautobot-media"}, {"mountPath", "/opt/nautobot/media"}});
  }
  return mounts;
}

}  // namespace kjq::chart
