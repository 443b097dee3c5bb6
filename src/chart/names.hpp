#pragma once
// Object names and standard labels, as the chart's helpers compute them (the reference's
// charts/nautobot/templates/_helpers.tpl; docs/values.md, "Top-level keys").
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"
#include "util/diagnostic.hpp"
#include "values/values_document.hpp"

namespace kjq::chart {

// nameOverride or "nautobot", truncated to 63 and one trailing "-" removed.
std::string chart_name(const nlohmann::json& values);

// fullnameOverride, else <release>-<name> (or just the release when it already contains name).
std::string fullname(const nlohmann::json& values, const Release& release);

// helm.sh/chart: "nautobot-<version>" with "+" → "_".
std::string chart_label(const Release& release);

// app.kubernetes.io/{name,instance,managed-by,version} and helm.sh/chart. Values are always
// strings (the reference YAML-types them: a release named "123" gives a number label).
nlohmann::json standard_labels(const nlohmann::json& values, const Release& release);

// The service account every Nautobot pod and (by default) every job pod runs as.
std::string service_account_name(const nlohmann::json& values, const Release& release);

// Go template truncation helpers used by the names above.
std::string trunc63_trim_dash(std::string s);

// nameOverride and fullnameOverride that still give names Kubernetes refuses once the chart has
// truncated them: the app.kubernetes.io/name label value, and the object-name prefix (a DNS-1123
// subdomain). Each problem is located at the value that caused it. Non-string values are left to
// values::validate_values.
std::vector<Diagnostic> name_override_problems(const values::ValuesDocument& doc, const Release& release);

}  // namespace kjq::chart
