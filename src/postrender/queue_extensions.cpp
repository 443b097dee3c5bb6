#include "postrender/queue_extensions.hpp"

#include <algorithm>

#include "chart/rbac.hpp"
#include "chart/value_access.hpp"
#include "values/job_queues.hpp"
#include "values/merge.hpp"

namespace kjq::postrender {

using nlohmann::json;

bool has_queue_extensions(const json& values, const std::string& queue) {
  const values::QueueSettings w(values, queue);
  const json overrides = w.value("jobOverrides");
  return !w.value("activeDeadlineSeconds").is_null() || (overrides.is_object() && !overrides.empty()) ||
         w.admits_by_kjq() || !w.kueue_queue_name().empty();
}

bool apply_queue_extensions(json& manifest, const json& values, const std::string& queue) {
  const values::QueueSettings w(values, queue);
  const json before = manifest;
  json& spec = manifest["spec"];
  if (json deadline = w.value("activeDeadlineSeconds"); !deadline.is_null()) {
    spec["activeDeadlineSeconds"] = std::move(deadline);
  }
  if (json job_overrides = w.value("jobOverrides"); job_overrides.is_object()) {
    values::merge_overwrite(spec, job_overrides);
  }
  if (w.admits_by_kjq()) {
    manifest["metadata"]["labels"][values::kAdmissionLabel] = values::kAdmissionKjq;
    spec["suspend"] = true;
  }
  if (const auto kueue = w.kueue_queue_name(); !kueue.empty()) {
    manifest["metadata"]["labels"][values::kKueueQueueLabel] = kueue;
  }
  return manifest != before;
}

bool widen_job_creator_role(json& role, const values::ValuesDocument& doc, const std::vector<std::string>& queues) {
  json wanted = json::array();
  if (values::is_truthy(chart::value_at(doc.user, {"serviceAccount", "roles", "jobCreator", "followAndCancel"}))) {
    for (const auto& rule : chart::follow_and_cancel_rules()) wanted.push_back(rule);
  }
  if (std::any_of(queues.begin(), queues.end(),
                  [&](const std::string& q) { return values::QueueSettings(doc.merged, q).admits_by_kjq(); })) {
    wanted.push_back(chart::admission_rule());
  }
  json& rules = role["rules"];
  if (!rules.is_array()) rules = json::array();
  bool changed = false;
  for (const auto& rule : wanted) {
    if (std::find(rules.begin(), rules.end(), rule) != rules.end()) continue;
    rules.push_back(rule);
    changed = true;
  }
  return changed;
}

}  // namespace kjq::postrender
