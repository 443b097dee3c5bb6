#pragma once
// The API resources the emulator serves, and the discovery / OpenAPI documents derived from them:
// legacy discovery, aggregated discovery (apidiscovery.k8s.io) and OpenAPI v3.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kjq::emulator {

struct ResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, e.g. "jobs"
  std::string singular;  // e.g. "job"
  std::string kind;      // e.g. "Job"
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool stored = true;  // false for virtual resources (selfsubjectaccessreviews)

  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
  std::string api_version() const { return group_version(); }
};

struct SubresourceType {
  std::string parent;  // "pods"
  std::string name;    // "log"
  std::string kind;    // "Pod"
  std::vector<std::string> verbs;
};

class ResourceRegistry {
 public:
  ResourceRegistry();  // the built-in set
  const ResourceType* find(const std::string& group, const std::string& version, const std::string& resource) const;
  const ResourceType* find_kind(const std::string& api_version, const std::string& kind) const;
  const std::vector<ResourceType>& all() const { return types_; }

  nlohmann::json version_doc() const;        // /version
  nlohmann::json core_versions_doc() const;  // /api
  nlohmann::json group_list_doc() const;     // /apis
  // Aggregated discovery: the APIGroupDiscoveryList of /api (core == true: the "" group only) or
  // /apis (every named group), as apidiscovery.k8s.io/<discovery_version> ("v2" or "v2beta1").
  nlohmann::json aggregated_discovery_doc(bool core, const std::string& discovery_version) const;
  // /api/v1 or /apis/G/V; null when the group-version is unknown.
  nlohmann::json resource_list_doc(const std::string& group, const std::string& version) const;
  nlohmann::json openapi_v3_root() const;  // /openapi/v3
  // /openapi/v3/api/v1 or /openapi/v3/apis/G/V (enough for kubectl's field-validation check).
  nlohmann::json openapi_v3_group_version(const std::string& group, const std::string& version) const;

 private:
  std::vector<ResourceType> types_;
  std::vector<SubresourceType> subresources_;
};

// Which aggregated-discovery version an Accept header asks for on /api and /apis: "v2" when any
// acceptable application/json clause has g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,
// else "v2beta1" when one asks for that, else "" (the legacy documents).
std::string aggregated_discovery_version(const std::string& accept);
// The Content-Type kube-apiserver answers aggregated discovery with, for that version.
std::string aggregated_discovery_content_type(const std::string& discovery_version);

}  // namespace kjq::emulator
