#pragma once
// RBAC authorization (rbac.authorization.k8s.io/v1) evaluated against the Role, ClusterRole,
// RoleBinding and ClusterRoleBinding objects currently in the store, with the API server's
// 403 message format.
#include <string>

#include "api_status.hpp"
#include "object_store.hpp"
#include "token_auth.hpp"

namespace kjq::emulator {

struct RequestAttributes {
  UserInfo user;
  std::string verb;  // get list watch create update patch delete deletecollection
  bool resource_request = true;
  std::string ns;
  std::string group;
  std::string resource;
  std::string subresource;
  std::string name;
  std::string path;  // for non-resource requests
};

struct AuthorizationDecision {
  bool allowed = false;
  std::string reason;
};

class RbacAuthorizer {
 public:
  // enabled=false: AlwaysAllow.
  RbacAuthorizer(const ObjectStore& store, const ResourceRegistry& registry, bool enabled);
  AuthorizationDecision authorize(const RequestAttributes& attrs) const;
  bool enabled() const { return enabled_; }

 private:
  const ObjectStore& store_;
  const ResourceRegistry& registry_;
  bool enabled_;
};

// `User "u" cannot create resource "jobs" in API group "batch" in the namespace "default"`
std::string forbidden_reason(const RequestAttributes& attrs);
// 403 Forbidden: `jobs.batch is forbidden: User ... `
ApiError forbidden(const RequestAttributes& attrs);

}  // namespace kjq::emulator
