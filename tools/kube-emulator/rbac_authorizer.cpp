#include "rbac_authorizer.hpp"

#include <algorithm>

namespace kjq::emulator {

using nlohmann::json;

namespace {

bool contains(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  for (const auto& v : list)
    if (v.is_string() && v.get_ref<const std::string&>() == value) return true;
  return false;
}

bool resource_matches(const json& resources, const std::string& resource, const std::string& sub) {
  if (!resources.is_array()) return false;
  std::string combined = sub.empty() ? resource : resource + "/" + sub;
  for (const auto& v : resources) {
    if (!v.is_string()) continue;
    const auto& r = v.get_ref<const std::string&>();
    if (r == "*" || r == combined) return true;
    if (!sub.empty() && (r == "*/" + sub || r == resource + "/*")) return true;
  }
  return false;
}

bool rule_allows(const json& rule, const RequestAttributes& a) {
  if (!a.resource_request) {
    if (!(contains(rule.value("verbs", json::array()), a.verb) || contains(rule.value("verbs", json::array()), "*")))
      return false;
    for (const auto& u : rule.value("nonResourceURLs", json::array())) {
      if (!u.is_string()) continue;
      std::string p = u.get<std::string>();
      if (p == "*" || p == a.path) return true;
      if (!p.empty() && p.back() == '*' && a.path.rfind(p.substr(0, p.size() - 1), 0) == 0) return true;
    }
    return false;
  }
  const json verbs = rule.value("verbs", json::array());
  if (!contains(verbs, a.verb) && !contains(verbs, "*")) return false;
  const json groups = rule.value("apiGroups", json::array());
  if (!contains(groups, a.group) && !contains(groups, "*")) return false;
  if (!resource_matches(rule.value("resources", json::array()), a.resource, a.subresource)) return false;
  const json names = rule.value("resourceNames", json::array());
  if (names.is_array() && !names.empty()) {
    if (a.name.empty() || !contains(names, a.name)) return false;
  }
  return true;
}

// Describes the subject in the RBAC reason string, or "" when it does not match the user.
std::string subject_match(const json& subject, const UserInfo& user, const std::string& binding_ns) {
  std::string kind = subject.value("kind", "");
  std::string name = subject.value("name", "");
  if (kind == "User") {
    if (user.name == name) return "User \"" + name + "\"";
  } else if (kind == "Group") {
    if (std::find(user.groups.begin(), user.groups.end(), name) != user.groups.end()) return "Group \"" + name + "\"";
  } else if (kind == "ServiceAccount") {
    std::string ns = subject.value("namespace", binding_ns);
    if (user.name == "system:serviceaccount:" + ns + ":" + name) return "ServiceAccount \"" + name + "/" + ns + "\"";
  }
  return "";
}

}  // namespace

RbacAuthorizer::RbacAuthorizer(const ObjectStore& store, const ResourceRegistry& registry, bool enabled)
    : store_(store), registry_(registry), enabled_(enabled) {}

AuthorizationDecision RbacAuthorizer::authorize(const RequestAttributes& a) const {
  if (!enabled_) return {true, "AlwaysAllow"};
  if (std::find(a.user.groups.begin(), a.user.groups.end(), "system:masters") != a.user.groups.end())
    return {true, "allowed by group \"system:masters\""};
  if (!a.resource_request) {
    // system:discovery / system:public-info-viewer grant discovery to every authenticated user.
    return {true, "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole \"system:discovery\""};
  }
  const ResourceType* role_t = registry_.find("rbac.authorization.k8s.io", "v1", "roles");
  const ResourceType* crole_t = registry_.find("rbac.authorization.k8s.io", "v1", "clusterroles");
  const ResourceType* rb_t = registry_.find("rbac.authorization.k8s.io", "v1", "rolebindings");
  const ResourceType* crb_t = registry_.find("rbac.authorization.k8s.io", "v1", "clusterrolebindings");

  auto role_allows = [&](const json& ref, const std::string& binding_ns) -> std::pair<bool, std::string> {
    std::string kind = ref.value("kind", "");
    std::string name = ref.value("name", "");
    ObjectPtr role;
    if (kind == "ClusterRole")
      role = store_.get(*crole_t, "", name);
    else if (kind == "Role" && !binding_ns.empty())
      role = store_.get(*role_t, binding_ns, name);
    if (!role) return {false, ""};
    for (const auto& rule : role->parse().value("rules", json::array()))
      if (rule_allows(rule, a)) return {true, kind + " \"" + name + "\""};
    return {false, ""};
  };

  for (const auto& crb_ptr : store_.list(*crb_t, "").items) {
    const json crb = crb_ptr->parse();
    for (const auto& s : crb.value("subjects", json::array())) {
      std::string who = subject_match(s, a.user, "");
      if (who.empty()) continue;
      auto [ok, role] = role_allows(crb.value("roleRef", json::object()), "");
      if (ok)
        return {true, "RBAC: allowed by ClusterRoleBinding \"" + crb_ptr->name() + "\" of " + role + " to " + who};
      break;
    }
  }
  if (!a.ns.empty()) {
    for (const auto& rb_ptr : store_.list(*rb_t, a.ns).items) {
      const json rb = rb_ptr->parse();
      for (const auto& s : rb.value("subjects", json::array())) {
        std::string who = subject_match(s, a.user, a.ns);
        if (who.empty()) continue;
        auto [ok, role] = role_allows(rb.value("roleRef", json::object()), a.ns);
        if (ok)
          return {true,
                  "RBAC: allowed by RoleBinding \"" + rb_ptr->name() + "/" + a.ns + "\" of " + role + " to " + who};
        break;
      }
    }
  }
  return {false, ""};
}

std::string forbidden_reason(const RequestAttributes& a) {
  if (!a.resource_request) return "User \"" + a.user.name + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  std::string s = "User \"" + a.user.name + "\" cannot " + a.verb + " resource \"" + resource + "\" in API group \"" +
                  a.group + "\"";
  if (!a.ns.empty()) return s + " in the namespace \"" + a.ns + "\"";
  return s + " at the cluster scope";
}

ApiError forbidden(const RequestAttributes& a) {
  if (!a.resource_request) return ApiError(403, "Forbidden", "forbidden: " + forbidden_reason(a), json{});
  std::string qr = qualified_resource(a.resource, a.group);
  std::string head = a.name.empty() ? qr : qr + " \"" + a.name + "\"";
  return ApiError(403, "Forbidden", head + " is forbidden: " + forbidden_reason(a),
                  status_details(a.name, a.group, a.resource));
}

}  // namespace kjq::emulator
