// The garbage collector's part of the simulation: a Job's dependents (its pods, found by owner
// reference) deleted or orphaned, and foreground deletion (the Job goes with its last pod).
#include "job_controller.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {
bool owned_by(const json& pod, const std::string& uid) {
  for (const auto& ref : pod["metadata"].value("ownerReferences", json::array()))
    if (ref.value("uid", "") == uid) return true;
  return false;
}
}  // namespace

std::vector<ObjectPtr> JobController::owned_pods(const std::string& ns, const std::string& job_uid) const {
  // A cheap text search first; the owner reference decides.
  return store_
      .list(pods_, ns,
            [&](const StoredObject& pod) {
              return pod.text().find(job_uid) != std::string::npos && owned_by(pod.parse(), job_uid);
            })
      .items;
}

void JobController::delete_dependents(const json& job, const std::string& propagation) {
  const std::string ns = job["metadata"].value("namespace", "");
  const std::string uid = job["metadata"].value("uid", "");
  for (const auto& pod : owned_pods(ns, uid)) {
    const std::string& name = pod->name();
    if (propagation == "Orphan") {
      store_.update(pods_, ns, name, [&](json& obj) {
        auto& refs = obj["metadata"]["ownerReferences"];
        json kept = json::array();
        for (const auto& r : refs)
          if (r.value("uid", "") != uid) kept.push_back(r);
        if (kept.empty())
          obj["metadata"].erase("ownerReferences");
        else
          refs = kept;
        return true;
      });
    } else {
      delete_pod(ns, name, std::nullopt, pod->uid());
    }
  }
}

ObjectPtr JobController::delete_job_foreground(const std::string& ns, const std::string& name, const std::string& uid) {
  ObjectPtr marked = store_.update(
      jobs_, ns, name,
      [&](json& o) {
        o["metadata"]["deletionTimestamp"] = rfc3339_now();
        o["metadata"]["deletionGracePeriodSeconds"] = 0;
        o["metadata"]["finalizers"] = json::array({"foregroundDeletion"});
        return true;
      },
      uid);
  if (!marked) return nullptr;
  delete_dependents(marked->parse(), "Foreground");
  finish_foreground_deletion(ns, name, uid);
  return marked;
}

void JobController::finish_foreground_deletion(const std::string& ns, const std::string& job_name,
                                               const std::string& job_uid) {
  ObjectPtr job = store_.get(jobs_, ns, job_name);
  if (!job || job->uid() != job_uid) return;
  const json obj = job->parse();
  bool foreground = false;
  for (const auto& f : obj["metadata"].value("finalizers", json::array()))
    if (f == "foregroundDeletion") foreground = true;
  if (foreground && owned_pods(ns, job_uid).empty()) store_.remove(jobs_, ns, job_name, job_uid);
}

}  // namespace kjq::emulator
