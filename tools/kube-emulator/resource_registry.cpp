#include "resource_registry.hpp"

#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

namespace kjq::emulator {

using nlohmann::json;

namespace {
const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kReadDelete = {"delete", "deletecollection", "get", "list", "watch"};

std::string media_trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string media_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One Accept clause ("type/subtype;k=v;..."): the discovery version it asks for, or "".
std::string discovery_version_of_clause(const std::string& clause) {
  std::map<std::string, std::string> params;
  std::string media_type;
  std::size_t start = 0;
  for (bool first = true;; first = false) {
    const auto semi = clause.find(';', start);
    const std::string part =
        media_trim(clause.substr(start, semi == std::string::npos ? std::string::npos : semi - start));
    if (first) {
      media_type = media_lower(part);
    } else if (const auto eq = part.find('='); eq != std::string::npos) {
      std::string value = media_trim(part.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      params[media_lower(media_trim(part.substr(0, eq)))] = value;
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (media_type != "application/json") return "";  // answers are JSON only
  if (auto q = params.find("q"); q != params.end() && std::strtod(q->second.c_str(), nullptr) <= 0) return "";
  if (params["g"] != "apidiscovery.k8s.io" || params["as"] != "APIGroupDiscoveryList") return "";
  const std::string& v = params["v"];
  return v == "v2" || v == "v2beta1" ? v : "";
}
}  // namespace

ResourceRegistry::ResourceRegistry() {
  types_ = {
      {"", "v1", "pods", "pod", "Pod", true, kReadDelete, {"po"}, {"all"}, true},
      {"", "v1", "events", "event", "Event", true, kAllVerbs, {"ev"}, {}, true},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, kAllVerbs, {"cm"}, {}, true},
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, kAllVerbs, {"sa"}, {}, true},
      {"batch", "v1", "jobs", "job", "Job", true, kAllVerbs, {}, {"all"}, true},
      {"rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, kAllVerbs, {}, {}, true},
      {"rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, kAllVerbs, {}, {}, true},
      {"rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, kAllVerbs, {}, {}, true},
      {"rbac.authorization.k8s.io",
       "v1",
       "clusterrolebindings",
       "clusterrolebinding",
       "ClusterRoleBinding",
       false,
       kAllVerbs,
       {},
       {},
       true},
      {"authorization.k8s.io",
       "v1",
       "selfsubjectaccessreviews",
       "selfsubjectaccessreview",
       "SelfSubjectAccessReview",
       false,
       {"create"},
       {},
       {},
       false},
  };
  subresources_ = {{"pods", "log", "Pod", {"get"}}};
}

const ResourceType* ResourceRegistry::find(const std::string& group, const std::string& version,
                                           const std::string& resource) const {
  for (const auto& t : types_)
    if (t.group == group && t.version == version && t.resource == resource) return &t;
  return nullptr;
}

const ResourceType* ResourceRegistry::find_kind(const std::string& api_version, const std::string& kind) const {
  for (const auto& t : types_)
    if (t.api_version() == api_version && t.kind == kind) return &t;
  return nullptr;
}

json ResourceRegistry::version_doc() const {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-kube-emulator"},
          {"gitCommit", "kube-emulator"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json ResourceRegistry::core_versions_doc() const {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", "127.0.0.1"}}}}};
}

json ResourceRegistry::group_list_doc() const {
  json groups = json::array();
  std::set<std::string> seen;
  for (const auto& t : types_) {
    if (t.group.empty() || !seen.insert(t.group).second) continue;
    json gv = {{"groupVersion", t.group_version()}, {"version", t.version}};
    groups.push_back({{"name", t.group}, {"versions", {gv}}, {"preferredVersion", gv}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json ResourceRegistry::aggregated_discovery_doc(bool core, const std::string& discovery_version) const {
  json items = json::array();
  std::map<std::string, std::size_t> group_index;  // group name -> position in items
  for (const auto& t : types_) {
    if (t.group.empty() != core) continue;
    auto [g, added] = group_index.try_emplace(t.group, items.size());
    if (added) items.push_back({{"metadata", {{"name", t.group}}}, {"versions", json::array()}});
    json& versions = items[g->second]["versions"];
    json* entry = nullptr;
    for (auto& v : versions)
      if (v["version"] == t.version) entry = &v;
    if (!entry) {
      versions.push_back({{"version", t.version}, {"resources", json::array()}, {"freshness", "Current"}});
      entry = &versions.back();
    }
    json r = {{"resource", t.resource},
              {"responseKind", {{"group", t.group}, {"version", t.version}, {"kind", t.kind}}},
              {"scope", t.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", t.singular},
              {"verbs", t.verbs}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    for (const auto& s : subresources_) {
      if (s.parent != t.resource) continue;
      r["subresources"].push_back({{"subresource", s.name},
                                   {"responseKind", {{"group", t.group}, {"version", t.version}, {"kind", s.kind}}},
                                   {"verbs", s.verbs}});
    }
    (*entry)["resources"].push_back(r);
  }
  return {{"apiVersion", "apidiscovery.k8s.io/" + discovery_version},
          {"kind", "APIGroupDiscoveryList"},
          {"metadata", json::object()},
          {"items", items}};
}

json ResourceRegistry::resource_list_doc(const std::string& group, const std::string& version) const {
  json resources = json::array();
  for (const auto& t : types_) {
    if (t.group != group || t.version != version) continue;
    json r = {{"name", t.resource},
              {"singularName", t.singular},
              {"namespaced", t.namespaced},
              {"kind", t.kind},
              {"verbs", t.verbs}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(r);
    for (const auto& s : subresources_) {
      if (s.parent != t.resource) continue;
      resources.push_back({{"name", t.resource + "/" + s.name},
                           {"singularName", ""},
                           {"namespaced", t.namespaced},
                           {"kind", s.kind},
                           {"verbs", s.verbs}});
    }
  }
  if (resources.empty()) return nullptr;
  std::string gv = group.empty() ? version : group + "/" + version;
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv}, {"resources", resources}};
}

json ResourceRegistry::openapi_v3_root() const {
  json paths = json::object();
  std::set<std::string> seen;
  for (const auto& t : types_) {
    std::string key = t.group.empty() ? "api/" + t.version : "apis/" + t.group + "/" + t.version;
    if (!seen.insert(key).second) continue;
    paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=kube-emulator"}};
  }
  return {{"paths", paths}};
}

json ResourceRegistry::openapi_v3_group_version(const std::string& group, const std::string& version) const {
  json paths = json::object();
  bool any = false;
  for (const auto& t : types_) {
    if (t.group != group || t.version != version) continue;
    any = true;
    std::string prefix = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    std::string collection = prefix + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource;
    json gvk = {{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
    json params = json::array();
    for (const char* p : {"dryRun", "fieldManager", "fieldValidation"})
      params.push_back({{"name", p}, {"in", "query"}, {"schema", {{"type", "string"}, {"uniqueItems", true}}}});
    auto op = [&](const std::string& id) {
      return json{{"operationId", id},
                  {"parameters", params},
                  {"x-kubernetes-action", id},
                  {"x-kubernetes-group-version-kind", gvk},
                  {"responses", {{"200", {{"description", "OK"}}}}}};
    };
    paths[collection] = {{"post", op("post")}};
    paths[collection + "/{name}"] = {{"patch", op("patch")}, {"put", op("put")}};
  }
  if (!any) return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", paths},
          {"components", {{"schemas", json::object()}}}};
}

std::string aggregated_discovery_version(const std::string& accept) {
  bool v2beta1 = false;
  std::size_t start = 0;
  while (start <= accept.size()) {
    const auto comma = accept.find(',', start);
    std::string v = discovery_version_of_clause(
        accept.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (v == "v2") return v;
    if (v == "v2beta1") v2beta1 = true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v2beta1 ? "v2beta1" : "";
}

std::string aggregated_discovery_content_type(const std::string& discovery_version) {
  return "application/json;g=apidiscovery.k8s.io;v=" + discovery_version + ";as=APIGroupDiscoveryList";
}

}  // namespace kjq::emulator
