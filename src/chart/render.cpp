#include "chart/render.hpp"

#include "chart/celery_deployment.hpp"
#include "chart/chart_context.hpp"
#include "chart/extra_objects.hpp"
#include "chart/job_manifest.hpp"
#include "chart/job_manifests_configmap.hpp"
#include "chart/names.hpp"
#include "chart/rbac.hpp"
#include "chart/value_access.hpp"
#include "util/diagnostic.hpp"
#include "values/job_queues.hpp"
#include "values/merge.hpp"
#include "values/validate.hpp"

namespace kjq::chart {

RenderedChart render_chart(const values::ValuesDocument& doc, const Release& release) {
  auto invalid = values::validate_values(doc);
  auto bad_names = name_override_problems(doc, release);
  invalid.insert(invalid.end(), bad_names.begin(), bad_names.end());
  if (!invalid.empty()) throw InputError(std::move(invalid));
  const auto context = ChartContext::build(doc.merged, release);
  RenderedChart rendered;
  std::vector<Diagnostic> problems;
  for (const auto& queue : values::kubernetes_queue_names(doc.merged)) {
    auto manifest = render_job_manifest(context, queue);
    auto found = check_job_manifest(manifest, queue, doc);
    problems.insert(problems.end(), found.begin(), found.end());
    rendered.queue_manifests.emplace(queue, manifest_text(manifest));
  }
  if (!problems.empty()) throw InputError(std::move(problems));

  const nlohmann::json& sa = value_at(doc.merged, {"serviceAccount", "create"});
  if (values::is_truthy(sa)) rendered.objects.push_back(render_service_account(context));
  if (values::is_truthy(value_at(doc.merged, {"serviceAccount", "roles", "jobCreator", "create"}))) {
    rendered.objects.push_back(render_job_creator_role(context));
    rendered.objects.push_back(render_job_creator_role_binding(context));
  }
  if (!rendered.queue_manifests.empty()) {
    rendered.objects.push_back(render_manifests_configmap(context, rendered.queue_manifests));
  }
  for (auto& object : render_extra_objects(context, doc)) rendered.objects.push_back(std::move(object));

  rendered.wiring = manifests_wiring(context, rendered.queue_manifests);
  for (auto& object : render_celery_deployments(context, doc, rendered.wiring)) {
    rendered.objects.push_back(std::move(object));
  }
  if (rendered.wiring.enabled() &&
      value_at(doc.user, {"serviceAccount", "automountServiceAccountToken"}) == nlohmann::json(false)) {
    rendered.warnings.emplace_back(
        "serviceAccount.automountServiceAccountToken is false, but Nautobot needs the service account "
        "token to create Kubernetes jobs: kjq sets automountServiceAccountToken: true on the pods "
        "that create jobs (Celery Beat, and the --nautobot-wiring patch for the web pods); the "
        "ServiceAccount keeps false, so other pods get no token");
  }
  return rendered;
}

}  // namespace kjq::chart
