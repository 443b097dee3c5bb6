#include "chart/rbac.hpp"

#include "chart/object_metadata.hpp"
#include "chart/value_access.hpp"
#include "values/job_queues.hpp"
#include "values/merge.hpp"

namespace kjq::chart {

using nlohmann::json;

namespace {
const json& sa_annotations(const ChartContext& context) {
  return value_at(context.values, {"serviceAccount", "annotations"});
}
}  // namespace

json render_service_account(const ChartContext& context) {
  const json& automount = value_at(context.values, {"serviceAccount", "automountServiceAccountToken"});
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", object_metadata(context, context.service_account, sa_annotations(context))},
          {"automountServiceAccountToken", automount}};
}

std::string job_creator_role_name(const ChartContext& context) {
  const json& name = value_at(context.values, {"serviceAccount", "roles", "jobCreator", "name"});
  return values::is_truthy(name) ? value_text(name) : context.fullname + "-job-creator";
}

json follow_and_cancel_rules() {
  return json::array(
      {{{"apiGroups", json::array({"batch"})},
        {"resources", json::array({"jobs"})},
        {"verbs", json::array({"delete"})}},
       {{"apiGroups", json::array({""})},
        {"resources", json::array({"pods"})},
        {"verbs", json::array({"list", "watch", "delete"})}},
       {{"apiGroups", json::array({""})}, {"resources", json::array({"pods/log"})}, {"verbs", json::array({"get"})}},
       {{"apiGroups", json::array({""})}, {"resources", json::array({"events"})}, {"verbs", json::array({"list"})}}});
}

json admission_rule() {
  return {
      {"apiGroups", json::array({"batch"})}, {"resources", json::array({"jobs"})}, {"verbs", json::array({"patch"})}};
}

json job_creator_rule() {
  return {{"apiGroups", json::array({"batch"})},
          {"resources", json::array({"jobs"})},
          {"verbs", json::array({"create", "get", "list", "watch"})}};
}

json render_job_creator_role(const ChartContext& context) {
  json rules = json::array({job_creator_rule()});
  if (values::is_truthy(value_at(context.values, {"serviceAccount", "roles", "jobCreator", "followAndCancel"}))) {
    for (auto& rule : follow_and_cancel_rules()) rules.push_back(std::move(rule));
  }
  if (values::any_queue_admits_by_kjq(context.values)) rules.push_back(admission_rule());
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", object_metadata(context, job_creator_role_name(context), sa_annotations(context))},
          {"rules", std::move(rules)}};
}

json render_job_creator_role_binding(const ChartContext& context) {
  const auto role = job_creator_role_name(context);
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", object_metadata(context, role, sa_annotations(context))},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", role}}},
          {"subjects", json::array({{{"kind", "ServiceAccount"},
                                     {"name", context.service_account},
                                     {"namespace", context.release.namespace_}}})}};
}

}  // namespace kjq::chart
