#include "chart/names.hpp"

#include <algorithm>
#include <string_view>

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
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Kubernetes' label value rule: at most 63 characters, [A-Za-z0-9] at both ends, and
// letters, digits, '-', '_' and '.' between; empty is allowed.
bool is_label_value(const std::string& s) {
  if (s.empty()) return true;
  if (s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// Kubernetes' object name rule (DNS-1123 subdomain): dot-separated lowercase labels of letters,
// digits and inner '-'. Every object the chart names from the fullname (ServiceAccount, Role,
// ConfigMaps, Secrets, Deployments) uses it, and the suffixes it appends all start with '-'.
bool is_dns1123_subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = s.find('.', start);
    const std::string_view part(s.data() + start, (dot == std::string::npos ? s.size() : dot) - start);
    if (part.empty() || !lower_alnum(part.front()) || !lower_alnum(part.back())) return false;
    if (!std::all_of(part.begin(), part.end(), [&](char c) { return lower_alnum(c) || c == '-'; })) return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

std::string quoted(const std::string& s) { return json(s).dump(); }

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

std::vector<Diagnostic> name_override_problems(const values::ValuesDocument& doc, const Release& release) {
  std::vector<Diagnostic> problems;
  const json& values = doc.merged;
  auto is_set = [&](const char* key) {
    auto it = values.find(key);
    return it != values.end() && it->is_string() && is_truthy(*it);
  };
  auto after_truncation = [](const std::string& original, const std::string& result) {
    return result == original ? std::string{}
                              : " (" + quoted(result) + " once cut to 63 characters and one trailing \"-\" removed)";
  };
  if (is_set("nameOverride")) {
    const std::string& original = values["nameOverride"].get_ref<const std::string&>();
    const std::string name = chart_name(values);
    if (!is_label_value(name)) {
      problems.push_back(
          doc.at("nameOverride", "nameOverride " + quoted(original) + after_truncation(original, name) +
                                     " is the app.kubernetes.io/name label, which Kubernetes refuses: use letters, "
                                     "digits, '-', '_' and '.', starting and ending with a letter or digit"));
    }
  }
  // The object-name prefix comes from fullnameOverride, else from the release and nameOverride
  // (the release name itself is checked by release_name_problem).
  const char* source = is_set("fullnameOverride") ? "fullnameOverride"
                       : is_set("nameOverride")   ? "nameOverride"
                                                  : nullptr;
  if (source == nullptr || !release_name_problem(release.name).empty()) return problems;
  const std::string full = fullname(values, release);
  if (is_dns1123_subdomain(full)) return problems;
  if (!problems.empty() && problems.back().path == source) return problems;  // said once is enough
  const std::string& original = values[source].get_ref<const std::string&>();
  std::string message = std::string(source) + " " + quoted(original) + " gives the object names ";
  message += source == std::string_view("fullnameOverride")
                 ? quoted(full) + (full == original ? ""
                                                    : " (once cut to 63 characters and one "
                                                      "trailing \"-\" removed)")
                 : quoted(full) +
                       " (<release>-<nameOverride>, cut to 63 characters and one "
                       "trailing \"-\" removed)";
  message +=
      " and their -celery-<worker>, -k8s-jobs-manifests... variants, which Kubernetes "
      "refuses: use lowercase letters, digits, '-' and '.', starting and ending with a "
      "letter or digit";
  problems.push_back(doc.at(source, std::move(message)));
  return problems;
}

}  // namespace kjq::chart
