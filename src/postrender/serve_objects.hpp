#pragma once
// `kjq post-render --with-serve`: the objects that run `kjq serve` beside Nautobot, so one
// `helm install` brings both: a Deployment, its Service, ServiceAccount, Role and RoleBinding.
// The service reads the same manifests ConfigMap (as a directory), stores its jobs in the
// chart's PostgreSQL with the chart's own database credentials, and knows each queue's
// maxConcurrency from the values. Settings: the `kjqServe` map of the values (docs/post-render.md).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/chart_context.hpp"
#include "chart/manifests_wiring.hpp"
#include "values/values_document.hpp"

namespace kjq::postrender {

inline constexpr int kServeApiPort = 8080;
inline constexpr int kServeMetricsPort = 9090;
inline constexpr const char* kServeTokenDirectory = "/etc/kjq/api-token";

// What the chart's stream tells about the database and the manifests.
struct ServeInputs {
  std::vector<std::string> queues;  // the manifests ConfigMap's keys
  nlohmann::json db_user_env;       // the chart's NAUTOBOT_DB_USER env entry (valueFrom a Secret)
  nlohmann::json db_password_env;   // the chart's NAUTOBOT_DB_PASSWORD env entry
  std::string env_configmap;        // the ConfigMap with NAUTOBOT_DB_HOST, _PORT and _NAME
};

// <fullname>-kjq-serve
std::string serve_name(const chart::ChartContext& context);

// ServiceAccount, Role, RoleBinding, Service and Deployment, in that order. Throws
// kjq::InputError naming the values path for missing or invalid kjqServe settings, and when the
// stream gives no database credentials to wire.
std::vector<nlohmann::json> render_serve_objects(const chart::ChartContext& context,
                                                 const chart::ManifestsWiring& wiring, const ServeInputs& inputs,
                                                 const values::ValuesDocument& doc);

}  // namespace kjq::postrender
