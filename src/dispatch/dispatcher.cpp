#include "dispatch/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "kube/errors.hpp"

namespace kjq::dispatch {

using nlohmann::json;

DispatchResult dispatch_job(kube::KubeApi& api, const std::string& ns, const queue::PreparedJob& prepared) {
  const nlohmann::ordered_json& body = prepared.job;
  DispatchResult out;
  out.name = prepared.name;
  out.namespace_name = ns;
  try {
    out.job = api.create_job(ns, body);
    return out;
  } catch (const kube::ApiError& e) {
    if (!e.is(kube::ErrorReason::AlreadyExists) && e.http_code() != 409) throw;
  }
  json existing = api.get_job(ns, prepared.name);
  const std::string want_queue = queue::label_of(body, queue::kQueueLabel);
  const std::string want_id = queue::label_of(body, queue::kJobResultLabel);
  if (queue::label_of(existing, queue::kQueueLabel) != want_queue ||
      queue::label_of(existing, queue::kJobResultLabel) != want_id)
    throw JobConflictError("create job " + prepared.name + " in namespace " + ns +
                           ": a Job with this name already exists and was not created for queue \"" +
                           prepared.job["metadata"]["annotations"].value(queue::kQueueAnnotation, "") +
                           "\" and job result " + want_id + " (its " + queue::kQueueLabel + "/" +
                           queue::kJobResultLabel + " labels differ); refusing to treat it as this run");
  spdlog::info("job {} already exists in namespace {} (created by an earlier attempt); not creating it again",
               prepared.name, ns);
  out.job = std::move(existing);
  out.already_existed = true;
  return out;
}

void cancel_job(kube::KubeApi& api, const std::string& ns, const std::string& name, int grace_period_seconds) {
  api.delete_job(ns, name, grace_period_seconds);
}

}  // namespace kjq::dispatch
