#pragma once
// The whole render: validated values in, Kubernetes objects and queue manifests out.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"
#include "values/values_document.hpp"

namespace kjq::chart {

struct RenderedChart {
  // In a stable order: ServiceAccount, Role, RoleBinding, the manifests ConfigMap,
  // extraObjects (then, once rendered, the Celery Deployments).
  std::vector<nlohmann::json> objects;
  // Enabled Kubernetes queue → the exact bytes of its manifest.json / ConfigMap value.
  std::map<std::string, std::string> queue_manifests;
};

// Validates the values (values::validate_values), renders, and checks each job manifest.
// Throws kjq::InputError listing every problem; nothing is rendered partially.
RenderedChart render_chart(const values::ValuesDocument& doc, const Release& release);

}  // namespace kjq::chart
