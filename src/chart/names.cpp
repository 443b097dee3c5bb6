#include "chart/names.hpp"

#include <algorithm>

#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;
using values::is_truthy;

namespace {

std::string string_at(const json& map, const char* key) {
  if (!map.is_object()) return {};
  auto it = map.find(key);
  if (it == map.end() || !is_truthy(*it)) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

bool allowed_in_release(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

// regexReplaceAll "(-?[^a-z\d\-])+-?" "-" over the lower-cased release name.
std::string sanitize_release(const std::string& release) {
  std::string lower = release;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string out;
  std::size_t i = 0;
  while (i < lower.size()) {
    std::size_t j = i;
    int repeats = 0;
    for (;;) {
      std::size_t k = j;
      if (k < lower.size() && lower[k] == '-') ++k;
      if (k < lower.size() && !allowed_in_release(lower[k])) {
        j = k + 1;
        ++repeats;
      } else {
        break;
      }
    }
    if (repeats == 0) {
      out += lower[i++];
      continue;
    }
    if (j < lower.size() && lower[j] == '-') ++j;
    out += '-';
    i = j;
  }
  return out;
}

}  // namespace

std::string trunc63_trim_dash(std::string s) {
  if (s.size() > 63) s.resize(63);
  if (!s.empty() && s.back() == '-') s.pop_back();
  return s;
}

std::string chart_name(const json& values) {
  auto override_name = string_at(values, "nameOverride");
  return trunc63_trim_dash(override_name.empty() ? "nautobot" : override_name);
}

std::string fullname(const json& values, const Release& release) {
  if (auto full = string_at(values, "fullnameOverride"); !full.empty()) {
    return trunc63_trim_dash(full);
  }
  auto name = string_at(values, "nameOverride");
  if (name.empty()) name = "nautobot";
  auto release_part = sanitize_release(release.name);
  if (release_part.find(name) != std::string::npos) return trunc63_trim_dash(release_part);
  return trunc63_trim_dash(release_part + "-" + name);
}

std::string chart_label(const Release& release) {
  std::string label = "nautobot-" + release.chart_version;
  std::replace(label.begin(), label.end(), '+', '_');
  return trunc63_trim_dash(label);
}

json standard_labels(const json& values, const Release& release) {
  json labels = json::object();
  labels["app.kubernetes.io/name"] = chart_name(values);
  labels["helm.sh/chart"] = chart_label(release);
  labels["app.kubernetes.io/instance"] = release.name;
  labels["app.kubernetes.io/managed-by"] = release.managed_by;
  if (!release.app_version.empty()) {
    std::string version = release.app_version;
    std::replace(version.begin(), version.end(), '+', '_');
    labels["app.kubernetes.io/version"] = version;
  }
  return labels;
}

std::string service_account_name(const json& values, const Release& release) {
  json sa = values.contains("serviceAccount") ? values["serviceAccount"] : json::object();
  auto name = string_at(sa, "name");
  bool create = sa.is_object() && sa.contains("create") && is_truthy(sa["create"]);
  if (!name.empty()) return name;
  return create ? fullname(values, release) : "default";
}

}  // namespace kjq::chart
