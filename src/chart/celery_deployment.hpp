#pragma once
// One Celery worker or Beat Deployment, apps/v1, as the reference's celery-deployment.yaml
// renders it (docs/values.md, "Celery workers, Beat and manifest wiring"), with kjq's fixes
// (docs/differences.md): Beat gets the manifests wiring of chart/manifests_wiring.hpp instead of
// per-queue subPath mounts (#1–#3), and --concurrency is never added to Beat's command (#14).
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/celery_workers.hpp"
#include "chart/chart_context.hpp"
#include "chart/manifests_wiring.hpp"
#include "values/values_document.hpp"

namespace kjq::chart {

// `<fullname>-celery-<worker>`. `wiring` is applied only to Beat, and only when it is enabled.
// Throws kjq::InputError (located in `doc`) for a template reference kjq cannot substitute, or
// a worker with a concurrency but no command to append --concurrency to.
nlohmann::json render_celery_deployment(const ChartContext& context, const values::ValuesDocument& doc,
                                        const CeleryWorker& worker, const ManifestsWiring& wiring);

// Every Deployment of celery_deployment_workers(), in sorted worker order.
std::vector<nlohmann::json> render_celery_deployments(const ChartContext& context, const values::ValuesDocument& doc,
                                                      const ManifestsWiring& wiring);

// Sprig's `int` (cast.ToInt): numbers truncated, numeric strings parsed, true → 1, else 0.
long long template_int(const nlohmann::json& value);

}  // namespace kjq::chart
