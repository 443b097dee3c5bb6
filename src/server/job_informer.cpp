#include "server/job_informer.hpp"

#include <algorithm>
#include <memory>

#include "kube/object_meta.hpp"

namespace kjq::server {

using nlohmann::json;

namespace {
// What the tracker reads of a Job or pod (lifecycle, logs, evidence): the informers keep only
// this. A Job from the chart carries its whole pod template (env, volumes, probes); 10,000 live
// jobs in full would cost hundreds of MiB.
json slim(const json& o) {
  json out = json::object();
  if (o.contains("metadata") && o["metadata"].is_object()) {
    const json& meta = o["metadata"];
    json& m = out["metadata"] = json::object();
    for (const char* k : {"name", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "labels"})
      if (meta.contains(k)) m[k] = meta[k];
    // Nautobot's Jobs name their queue here; nothing else of the annotations is read.
    if (const std::string q = kube::annotation_of(o, kNautobotQueueAnnotation); !q.empty())
      m["annotations"][kNautobotQueueAnnotation] = q;
  }
  if (o.contains("spec") && o["spec"].is_object()) {
    const json& spec = o["spec"];
    json& s = out["spec"] = json::object();
    if (spec.contains("nodeName")) s["nodeName"] = spec["nodeName"];  // a pod's
    if (spec.contains("suspend")) s["suspend"] = spec["suspend"];     // a Job's
    if (spec.contains("containers") && spec["containers"].is_array()) {
      s["containers"] = json::array();
      for (const auto& c : spec["containers"]) s["containers"].push_back({{"name", c.value("name", "")}});
    }
  }
  if (o.contains("status") && o["status"].is_object()) {
    json status = o["status"];
    for (const char* k : {"hostIP", "hostIPs", "podIP", "podIPs", "qosClass", "uncountedTerminatedPods"})
      status.erase(k);
    if (status.contains("containerStatuses") && status["containerStatuses"].is_array())
      for (auto& cs : status["containerStatuses"])
        for (const char* k : {"image", "imageID", "containerID"}) cs.erase(k);
    out["status"] = std::move(status);
  }
  return out;
}

// Drops, while parsing, what slim() would throw away anyway: the Job's pod template and the pod's
// spec (env, volumes, probes: most of each object's bytes), containers' fields other than their
// name, managedFields and the annotations but Nautobot's queue. Decided on the path of each key:
// keys[d] is the key being read at depth d ("[]" for array elements).
nlohmann::json::parser_callback_t make_parse_filter() {
  auto keys = std::make_shared<std::vector<std::string>>();
  return [keys](int depth, json::parse_event_t event, json& parsed) {
    auto& k = *keys;
    const auto d = static_cast<std::size_t>(depth);
    if (event == json::parse_event_t::array_start) {
      if (k.size() < d + 2) k.resize(d + 2);
      k[d + 1] = "[]";
      return true;
    }
    if (event != json::parse_event_t::key) return true;
    if (k.size() < d + 1) k.resize(d + 1);
    k[d] = parsed.get<std::string>();
    if (d < 1) return true;
    const std::string& key = k[d];
    const std::string& parent = k[d - 1];
    if (parent == "metadata") return key != "managedFields";
    if (parent == "annotations" && d == 2 && k[0] == "metadata") return key == kNautobotQueueAnnotation;
    if (parent == "spec") return key == "nodeName" || key == "containers" || key == "suspend";
    if (d >= 2 && parent == "[]" && k[d - 2] == "containers") return key == "name";
    return true;
  };
}

kube::InformerOptions informer_options(const char* what, const std::string& label_selector, int watch_timeout_seconds) {
  kube::InformerOptions o;
  o.what = what;
  o.selectors.label_selector = label_selector;
  o.selectors.parse_filter = make_parse_filter();
  o.watch_timeout_seconds = watch_timeout_seconds;
  o.transform = slim;
  return o;
}

// Creation order: creationTimestamp (whole seconds), then the resourceVersion of the create when
// both are numbers (etcd's revisions grow), then the name.
bool created_before(const kube::ObjectPtr& a, const kube::ObjectPtr& b) {
  const std::string ca = kube::creation_timestamp_of(*a), cb = kube::creation_timestamp_of(*b);
  if (ca != cb) return ca < cb;
  const std::string ra = kube::resource_version_of(*a), rb = kube::resource_version_of(*b);
  const bool numeric = !ra.empty() && !rb.empty() && ra.find_first_not_of("0123456789") == std::string::npos &&
                       rb.find_first_not_of("0123456789") == std::string::npos;
  if (numeric && ra != rb) return ra.size() != rb.size() ? ra.size() < rb.size() : ra < rb;
  return kube::name_of(*a) < kube::name_of(*b);
}

}  // namespace

JobInformer::JobInformer(kube::KubeApi& api, const std::string& ns, const std::string& instance,
                         kube::LabelSelector nautobot_jobs, int watch_timeout_seconds)
    : instance_(instance),
      nautobot_jobs_(std::move(nautobot_jobs)),
      // Without Nautobot's Jobs, the server selects this service's Jobs and pods by label. With
      // them, it cannot OR two selectors: the Jobs of the namespace are listed and kept when
      // either matches, and so are the pods of any Job (a pod does not carry its Job's labels).
      jobs_(api, kube::jobs_resource(), ns,
            [&] {
              kube::InformerOptions o =
                  informer_options("jobs", nautobot_jobs_.empty() ? std::string(kServeLabel) + "=" + instance : "",
                                   watch_timeout_seconds);
              if (!nautobot_jobs_.empty()) o.keep = [this](const json& job) { return origin_of(job).has_value(); };
              return o;
            }()),
      pods_(api, kube::pods_resource(), ns, [&] {
        kube::InformerOptions o =
            informer_options("pods", nautobot_jobs_.empty() ? std::string(kServeLabel) + "=" + instance : "job-name",
                             watch_timeout_seconds);
        o.index = [](const json& pod) { return kube::job_name_of_pod(pod); };
        return o;
      }()) {}

std::optional<JobOrigin> JobInformer::origin_of(const json& job) const {
  const std::string serve = kube::label_of(job, kServeLabel);
  if (serve == instance_) return JobOrigin::Kjq;
  if (!serve.empty()) return std::nullopt;  // another kjq serve's (--instance): its to follow
  if (!nautobot_jobs_.empty() && nautobot_jobs_.matches(kube::labels_of(job))) return JobOrigin::Nautobot;
  return std::nullopt;
}

JobInformer::~JobInformer() { stop(); }

void JobInformer::start(const ChangeHandler& on_change, const NewJobHandler& on_new_nautobot_job) {
  // Both informers name the Job a change concerns: a Job by its name, a pod by its Job.
  // Nautobot's new Jobs also go to `on_new_nautobot_job` first, on this thread and in the order
  // they were created: a queue's FIFO order is the order they are recorded in. A watch delivers
  // them in that order; a (re)list in name order, so its new ones are sorted before they go.
  auto pending = std::make_shared<std::vector<kube::ObjectPtr>>();
  kube::Informer::Handlers jobs;
  jobs.on_change = [this, on_change, on_new_nautobot_job, pending](const kube::InformerChange& c) {
    const bool new_nautobot = c.kind == kube::ChangeKind::Added && on_new_nautobot_job && c.object &&
                              origin_of(*c.object) == JobOrigin::Nautobot;
    if (new_nautobot && c.from_list) return pending->push_back(c.object);
    if (new_nautobot) on_new_nautobot_job(*c.object);
    on_change(c.name, std::chrono::steady_clock::now());
  };
  jobs.on_synced = [on_change, on_new_nautobot_job, pending] {
    std::sort(pending->begin(), pending->end(), created_before);
    for (const auto& job : *pending) on_new_nautobot_job(*job);
    for (const auto& job : *pending) on_change(kube::name_of(*job), std::chrono::steady_clock::now());
    pending->clear();
  };
  kube::Informer::Handlers pods;
  pods.on_change = [on_change](const kube::InformerChange& c) {
    if (!c.index_key.empty()) on_change(c.index_key, std::chrono::steady_clock::now());
  };
  jobs_.start(std::move(jobs));
  pods_.start(std::move(pods));
}

void JobInformer::stop() {
  jobs_.stop();
  pods_.stop();
}

JobSnapshot JobInformer::snapshot(const std::string& job_name) const {
  JobSnapshot s;
  if (kube::ObjectPtr job = jobs_.get(job_name)) s.job = *job;
  for (const kube::ObjectPtr& pod : pods_.by_index(job_name)) s.pods.push_back(*pod);
  return s;
}

std::vector<std::string> JobInformer::job_names() const { return jobs_.names(); }

InformerStats JobInformer::stats() const {
  const kube::InformerStats j = jobs_.stats(), p = pods_.stats();
  return {j.restarts, p.restarts, j.relists + p.relists, j.failures + p.failures};
}

std::string JobInformer::last_error() const {
  std::string e = jobs_.last_error();
  return e.empty() ? pods_.last_error() : e;
}

}  // namespace kjq::server
