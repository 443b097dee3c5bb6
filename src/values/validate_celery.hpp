#pragma once
// Type checks for the Celery worker settings: `celery`, the deprecated `celeryWorker` and
// `celeryBeat`, and every workers.<name> of type celery. Modest on purpose: it catches values
// that would render a Deployment the API server rejects (a string replica count, a command that
// is not a list, an unknown affinity preset), not every Kubernetes field.
#include <vector>

#include "util/diagnostic.hpp"
#include "values/values_document.hpp"

namespace kjq::values {

// Appends one diagnostic per problem to `diagnostics`.
void validate_celery_values(const ValuesDocument& doc, std::vector<Diagnostic>& diagnostics);

}  // namespace kjq::values
