#include "resource_registry.hpp"

#include <set>

namespace kjq::emulator {

using nlohmann::json;

namespace {
const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get",
                                            "list",   "patch",  "update",           "watch"};
const std::vector<std::string> kReadDelete = {"delete", "deletecollection", "get", "list", "watch"};
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
      {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, kAllVerbs, {}, {}, true},
      {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", false, {"create"}, {}, {}, false},
  };
  subresources_ = {{"pods", "log", "Pod", {"get"}}};
}

const ResourceType* ResourceRegistry::find(const std::string& group, const std::string& version,
                                           const std::string& resource) const {
  for (const auto& t : types_)
    if (t.group == group && t.version == version && t.resource == resource) return &t;
  return nullptr;
}

const ResourceType* ResourceRegistry::find_kind(const std::string& api_version,
                                                const std::string& kind) const {
  for (const auto& t : types_)
    if (t.api_version() == api_version && t.kind == kind) return &t;
  return nullptr;
}

json ResourceRegistry::version_doc() const {
  return {{"major", "1"},          {"minor", "32"},        {"gitVersion", "v1.32.0-kube-emulator"},
          {"gitCommit", "kube-emulator"}, {"gitTreeState", "clean"}, {"buildDate", "2026-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},  {"compiler", "gc"},     {"platform", "linux/amd64"}};
}

json ResourceRegistry::core_versions_doc() const {
  return {{"kind", "APIVersions"}, {"versions", {"v1"}},
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

json ResourceRegistry::resource_list_doc(const std::string& group, const std::string& version) const {
  json resources = json::array();
  for (const auto& t : types_) {
    if (t.group != group || t.version != version) continue;
    json r = {{"name", t.resource}, {"singularName", t.singular}, {"namespaced", t.namespaced},
              {"kind", t.kind},     {"verbs", t.verbs}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(r);
    for (const auto& s : subresources_) {
      if (s.parent != t.resource) continue;
      resources.push_back({{"name", t.resource + "/" + s.name}, {"singularName", ""},
                           {"namespaced", t.namespaced}, {"kind", s.kind}, {"verbs", s.verbs}});
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
      return json{{"operationId", id}, {"parameters", params},
                  {"x-kubernetes-action", id}, {"x-kubernetes-group-version-kind", gvk},
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

}  // namespace kjq::emulator
