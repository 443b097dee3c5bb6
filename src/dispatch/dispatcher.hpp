#pragma once
// Creating and cancelling one Job.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "queue/job_preparation.hpp"
#include "util/diagnostic.hpp"

namespace kjq::dispatch {

struct DispatchResult {
  nlohmann::json job;  // as the API server returned it (with metadata_only: apiVersion, kind, metadata)
  std::string name;
  std::string namespace_name;
  bool already_existed = false;  // 409 and the existing Job is ours (same queue and job result)
};

// A Job of that name exists and does not belong to this run.
class JobConflictError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// POST the Job. Retries are safe because the name is fixed: a 409 (after a retry, or a repeated
// dispatch) is success when the existing Job carries the same queue and job-result labels.
// `metadata_only`: the caller needs only the created Job's metadata (uid, name), not the whole
// answer (kjq serve, the benchmark); `kjq dispatch -o json` prints all of it.
DispatchResult dispatch_job(kube::KubeApi& api, const std::string& ns, const queue::PreparedJob& prepared,
                            bool metadata_only = false);

// Deletes the Job (propagationPolicy Background), then its pods that are still running with the
// given grace period: the garbage collector would give them their own terminationGracePeriodSeconds
// whatever the Job's delete said. Pods go after the Job, since before it the Job controller would
// replace them. A role without `delete` on pods leaves them to the garbage collector (a warning).
void cancel_job(kube::KubeApi& api, const std::string& ns, const std::string& name, int grace_period_seconds);

}  // namespace kjq::dispatch
