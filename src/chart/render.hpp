#pragma once
// The whole render: validated values in, Kubernetes objects and queue manifests out.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/manifests_wiring.hpp"
#include "chart/release.hpp"
#include "values/values_document.hpp"

namespace kjq::chart {

struct RenderedChart {
  // In a stable order: ServiceAccount, Role, RoleBinding, the manifests ConfigMap,
  // extraObjects, then the Celery worker and Beat Deployments (sorted by worker name).
  std::vector<nlohmann::json> objects;
  // Enabled Kubernetes queue → the exact bytes of its manifest.json / ConfigMap value.
  std::map<std::string, std::string> queue_manifests;
  // How the pods that create jobs mount the manifests (applied to Beat; `kjq render
  // --nautobot-wiring` prints it as a patch for the Nautobot web Deployments).
  ManifestsWiring wiring;
  // Things the user should know that do not stop the render (printed on stderr by the CLI).
  std::vector<std::string> warnings;
};

// Validates the values (values::validate_values), renders, and checks each job manifest.
// Throws kjq::InputError listing every problem; nothing is rendered partially.
RenderedChart render_chart(const values::ValuesDocument& doc, const Release& release);

}  // namespace kjq::chart
