#include "dispatch/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include "kube/errors.hpp"
#include "kube/object_meta.hpp"

namespace kjq::dispatch {

using nlohmann::json;

DispatchResult dispatch_job(kube::KubeApi& api, const std::string& ns, const queue::PreparedJob& prepared,
                            bool metadata_only) {
  const nlohmann::ordered_json& body = prepared.job;
  DispatchResult out;
  out.name = prepared.name;
  out.namespace_name = ns;
  try {
    out.job = api.create_job(ns, body, metadata_only);
    return out;
  } catch (const kube::ApiError& e) {
    if (!e.is(kube::ErrorReason::AlreadyExists) && e.http_code() != 409) throw;
  }
  json existing = api.get_job(ns, prepared.name);
  const std::string want_queue = kube::label_of(body, queue::kQueueLabel);
  const std::string want_id = kube::label_of(body, queue::kJobResultLabel);
  if (kube::label_of(existing, queue::kQueueLabel) != want_queue ||
      kube::label_of(existing, queue::kJobResultLabel) != want_id)
    throw JobConflictError("create job " + prepared.name + " in namespace " + ns +
                           ": a Job with this name already exists and was not created for queue \"" +
                           kube::annotation_of(prepared.job, queue::kQueueAnnotation) + "\" and job result " + want_id +
                           " (its " + queue::kQueueLabel + "/" + queue::kJobResultLabel +
                           " labels differ); refusing to treat it as this run");
  spdlog::info("job {} already exists in namespace {} (created by an earlier attempt); not creating it again",
               prepared.name, ns);
  out.job = std::move(existing);
  out.already_existed = true;
  return out;
}

void cancel_job(kube::KubeApi& api, const std::string& ns, const std::string& name, int grace_period_seconds) {
  kube::ListOptions o;
  o.label_selector = "job-name=" + name;
  std::vector<json> pods;
  try {
    pods = api.list_pods(ns, o).items;
  } catch (const kube::ApiError& e) {
    spdlog::warn("cancel {}: cannot list its pods ({}); they stop within their own grace period", name, e.what());
  }
  api.delete_job(ns, name, grace_period_seconds);
  for (const auto& pod : pods) {
    const std::string phase = pod.value("status", json::object()).value("phase", "");
    if (phase == "Succeeded" || phase == "Failed") continue;  // nothing left to stop
    const std::string pod_name = kube::name_of(pod);
    try {
      api.delete_pod(ns, pod_name, grace_period_seconds, kube::uid_of(pod));
    } catch (const kube::ApiError& e) {
      if (e.http_code() == 404 || e.http_code() == 409) continue;  // gone already, or a namesake
      if (e.http_code() == 403) {
        spdlog::warn(
            "cancel {}: the role may not delete pods, so they stop within their own "
            "terminationGracePeriodSeconds, not {} s (grant `delete` on pods)",
            name, grace_period_seconds);
        break;
      }
      spdlog::warn("cancel {}: delete of pod {} failed: {}", name, pod_name, e.what());
    }
  }
}

}  // namespace kjq::dispatch
