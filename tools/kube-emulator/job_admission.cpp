#include "job_admission.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {

std::string go_type(const json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_number()) return "number";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

void expect(const json& parent, const char* key, const char* want, const std::string& go_field,
            const std::string& go_type_name) {
  if (!parent.is_object()) return;
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return;
  bool ok = (std::string(want) == "int" && it->is_number_integer()) ||
            (std::string(want) == "string" && it->is_string()) || (std::string(want) == "object" && it->is_object()) ||
            (std::string(want) == "array" && it->is_array()) || (std::string(want) == "bool" && it->is_boolean());
  if (!ok)
    throw bad_request("Job in version \"v1\" cannot be handled as a Job: json: cannot unmarshal " + go_type(*it) +
                      " into Go struct field " + go_field + " of type " + go_type_name);
}

StatusCause required(const std::string& field, const std::string& detail = "") {
  return {"FieldValueRequired", detail.empty() ? "Required value" : "Required value: " + detail, field};
}

StatusCause invalid_value(const std::string& field, const json& value, const std::string& detail) {
  return {"FieldValueInvalid", "Invalid value: " + value.dump() + ": " + detail, field};
}

const json& at(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string image_pull_policy(const std::string& image) {
  auto at_pos = image.find('@');
  if (at_pos != std::string::npos) return "IfNotPresent";
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

}  // namespace

std::string validate_dns_subdomain(const std::string& name) {
  // [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !name.empty();
  std::size_t label_start = 0;
  for (std::size_t i = 0; ok && i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      ok = i > label_start && alnum(name[label_start]) && alnum(name[i - 1]);
      label_start = i + 1;
    } else if (!alnum(name[i]) && name[i] != '-') {
      ok = false;
    }
  }
  if (name.size() > 253) return "must be no more than 253 characters";
  if (!ok)
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
           "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
           "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  return "";
}

void check_job_types(const json& job) {
  if (!job.is_object()) throw bad_request("Job in version \"v1\" cannot be handled as a Job: expected an object");
  expect(job, "metadata", "object", "Job.metadata", "v1.ObjectMeta");
  expect(job, "spec", "object", "Job.spec", "v1.JobSpec");
  const json& meta = at(job, "metadata");
  expect(meta, "name", "string", "Job.metadata.name", "string");
  expect(meta, "namespace", "string", "Job.metadata.namespace", "string");
  expect(meta, "labels", "object", "Job.metadata.labels", "map[string]string");
  expect(meta, "annotations", "object", "Job.metadata.annotations", "map[string]string");
  const json& spec = at(job, "spec");
  for (const char* f : {"backoffLimit", "parallelism", "completions"})
    expect(spec, f, "int", std::string("Job.spec.") + f, "int32");
  for (const char* f : {"activeDeadlineSeconds"}) expect(spec, f, "int", std::string("Job.spec.") + f, "int64");
  expect(spec, "ttlSecondsAfterFinished", "int", "Job.spec.ttlSecondsAfterFinished", "int32");
  expect(spec, "suspend", "bool", "Job.spec.suspend", "bool");
  expect(spec, "template", "object", "Job.spec.template", "v1.PodTemplateSpec");
  const json& tmpl = at(spec, "template");
  expect(tmpl, "spec", "object", "Job.spec.template.spec", "v1.PodSpec");
  expect(at(tmpl, "metadata"), "annotations", "object", "Job.spec.template.metadata.annotations", "map[string]string");
  const json& pod = at(tmpl, "spec");
  expect(pod, "containers", "array", "Job.spec.template.spec.containers", "[]v1.Container");
  expect(pod, "restartPolicy", "string", "Job.spec.template.spec.restartPolicy", "v1.RestartPolicy");
  for (const auto& c : at(pod, "containers")) {
    if (!c.is_object())
      throw bad_request("Job in version \"v1\" cannot be handled as a Job: json: cannot unmarshal " + go_type(c) +
                        " into Go struct field PodSpec.spec.template.spec.containers of type v1.Container");
    expect(c, "name", "string", "Container.spec.template.spec.containers.name", "string");
    expect(c, "image", "string", "Container.spec.template.spec.containers.image", "string");
    expect(c, "command", "array", "Container.spec.template.spec.containers.command", "[]string");
  }
}

void default_job_fields(json& job) {
  json& meta = job["metadata"];
  json& spec = job["spec"];
  if (!spec.is_object()) spec = json::object();
  json& tmpl = spec["template"];
  if (!tmpl.is_object()) tmpl = json::object();
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object()) tmpl["metadata"] = json::object();
  json& tmeta = tmpl["metadata"];
  if ((!meta.contains("labels") || meta["labels"].empty()) && tmeta.contains("labels") && tmeta["labels"].is_object() &&
      !tmeta["labels"].empty())
    meta["labels"] = tmeta["labels"];
  if (!spec.contains("parallelism")) spec["parallelism"] = 1;
  if (!spec.contains("completions")) spec["completions"] = 1;
  if (!spec.contains("backoffLimit")) spec["backoffLimit"] = 6;
  if (!spec.contains("completionMode")) spec["completionMode"] = "NonIndexed";
  if (!spec.contains("suspend")) spec["suspend"] = false;
  if (!spec.contains("podReplacementPolicy")) spec["podReplacementPolicy"] = "TerminatingOrFailed";
  if (!tmeta.contains("creationTimestamp")) tmeta["creationTimestamp"] = nullptr;
  json& pod = tmpl["spec"];
  if (!pod.is_object()) pod = json::object();
  if (!pod.contains("restartPolicy")) pod["restartPolicy"] = "Always";
  if (!pod.contains("terminationGracePeriodSeconds")) pod["terminationGracePeriodSeconds"] = 30;
  if (!pod.contains("dnsPolicy")) pod["dnsPolicy"] = "ClusterFirst";
  if (!pod.contains("securityContext")) pod["securityContext"] = json::object();
  if (!pod.contains("schedulerName")) pod["schedulerName"] = "default-scheduler";
  if (pod.contains("containers") && pod["containers"].is_array())
    for (auto& c : pod["containers"]) {
      if (!c.is_object()) continue;
      if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
      if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
      if (!c.contains("imagePullPolicy") && c.contains("image") && c["image"].is_string())
        c["imagePullPolicy"] = image_pull_policy(c["image"].get<std::string>());
      if (!c.contains("resources")) c["resources"] = json::object();
    }
}

void default_job(json& job) {
  // The decoder's defaults come first (metadata.labels copied from the template's own labels),
  // then the create strategy's selector generation adds the controller labels to the template.
  default_job_fields(job);
  json& meta = job["metadata"];
  json& spec = job["spec"];
  json& tmeta = spec["template"]["metadata"];
  const std::string uid = meta.value("uid", "");
  const std::string name = meta.value("name", "");
  if (!spec.value("manualSelector", false)) {
    spec["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
    json& labels = tmeta["labels"];
    if (!labels.is_object()) labels = json::object();
    labels["batch.kubernetes.io/controller-uid"] = uid;
    labels["batch.kubernetes.io/job-name"] = name;
    labels["controller-uid"] = uid;
    labels["job-name"] = name;
  }
  meta["generation"] = 1;
  job["status"] = json::object();
}

std::vector<StatusCause> validate_job(const json& job) {
  std::vector<StatusCause> causes;
  const json& meta = at(job, "metadata");
  std::string name = meta.value("name", "");
  if (name.empty()) {
    causes.push_back(required("metadata.name", "name or generateName is required"));
  } else {
    std::string why = validate_dns_subdomain(name);
    if (!why.empty())
      causes.push_back(invalid_value("metadata.name", name, why));
    else if (name.size() > 63)
      causes.push_back(invalid_value("metadata.labels", name, "must be no more than 63 characters"));
  }
  const json& spec = at(job, "spec");
  for (const char* f : {"parallelism", "completions", "backoffLimit", "ttlSecondsAfterFinished"}) {
    const json& v = at(spec, f);
    if (v.is_number_integer() && v.get<long long>() < 0)
      causes.push_back(invalid_value(std::string("spec.") + f, v, "must be greater than or equal to 0"));
  }
  if (const json& ads = at(spec, "activeDeadlineSeconds"); ads.is_number_integer() && ads.get<long long>() <= 0)
    causes.push_back(invalid_value("spec.activeDeadlineSeconds", ads, "must be greater than 0"));
  const json& pod = at(at(spec, "template"), "spec");
  const json& containers = at(pod, "containers");
  if (!containers.is_array() || containers.empty()) {
    causes.push_back(required("spec.template.spec.containers"));
  } else {
    for (std::size_t i = 0; i < containers.size(); ++i) {
      std::string base = "spec.template.spec.containers[" + std::to_string(i) + "]";
      const json& c = containers[i];
      if (c.value("name", "").empty()) causes.push_back(required(base + ".name"));
      if (c.value("image", "").empty()) causes.push_back(required(base + ".image"));
    }
  }
  std::string rp = pod.value("restartPolicy", "");
  if (rp != "OnFailure" && rp != "Never")
    causes.push_back({"FieldValueNotSupported",
                      "Unsupported value: \"" + rp + "\": supported values: \"OnFailure\", \"Never\"",
                      "spec.template.spec.restartPolicy"});
  return causes;
}

void admit_job_create(json& job) {
  check_job_types(job);
  if (job.contains("kind") && job["kind"] != "Job")
    throw bad_request("the object provided is unrecognized (must be of type Job): kind " + job["kind"].dump());
  if (job.contains("apiVersion") && job["apiVersion"] != "batch/v1")
    throw bad_request(
        "the API version in the data (" +
        (job["apiVersion"].is_string() ? job["apiVersion"].get<std::string>() : job["apiVersion"].dump()) +
        ") does not match the expected API version (batch/v1)");
  default_job(job);
  auto causes = validate_job(job);
  if (!causes.empty()) throw invalid("Job", "batch", job["metadata"].value("name", ""), causes);
}

namespace {

StatusCause immutable(const std::string& field, const json& value) {
  return {"FieldValueInvalid", "Invalid value: " + value.dump() + ": field is immutable", field};
}

// `tmpl` with the fields a suspended, never started Job may change replaced by those of `next`
// (the API server's AllowMutableSchedulingDirectives).
json with_scheduling_directives_of(json tmpl, const json& next) {
  auto copy_field = [](json& to, const json& from, const char* key) {
    if (from.is_object() && from.contains(key))
      to[key] = from[key];
    else if (to.is_object())
      to.erase(key);
  };
  if (!tmpl.is_object()) return tmpl;
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object()) tmpl["metadata"] = json::object();
  if (!tmpl.contains("spec") || !tmpl["spec"].is_object()) tmpl["spec"] = json::object();
  const json& next_meta = at(next, "metadata");
  const json& next_pod = at(next, "spec");
  copy_field(tmpl["metadata"], next_meta, "labels");
  copy_field(tmpl["metadata"], next_meta, "annotations");
  json& pod = tmpl["spec"];
  copy_field(pod, next_pod, "nodeSelector");
  copy_field(pod, next_pod, "tolerations");
  copy_field(pod, next_pod, "schedulingGates");
  // Node affinity may change, the other affinities may not; an affinity that held only node
  // affinity may go, and one that brings only node affinity may come.
  const json& next_affinity = at(next_pod, "affinity");
  const bool had_affinity = pod.contains("affinity") && pod["affinity"].is_object();
  if (!next_affinity.is_object() && had_affinity) {
    pod["affinity"].erase("nodeAffinity");
    if (pod["affinity"].empty()) pod.erase("affinity");
  } else if (next_affinity.is_object()) {
    if (!had_affinity) pod["affinity"] = json::object();
    copy_field(pod["affinity"], next_affinity, "nodeAffinity");
  }
  return tmpl;
}

}  // namespace

std::vector<StatusCause> validate_job_update(const json& job, const json& old) {
  std::vector<StatusCause> causes;
  const json& spec = at(job, "spec");
  const json& old_spec = at(old, "spec");
  for (const char* f : {"completions", "selector"}) {
    if (at(spec, f) != at(old_spec, f)) causes.push_back(immutable(std::string("spec.") + f, at(spec, f)));
  }
  const bool suspended = at(old_spec, "suspend") == json(true);
  const bool never_started = at(at(old, "status"), "startTime").is_null();
  json old_template = at(old_spec, "template");
  if (suspended && never_started) old_template = with_scheduling_directives_of(old_template, at(spec, "template"));
  if (at(spec, "template") != old_template) causes.push_back(immutable("spec.template", at(spec, "template")));
  for (const char* f : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"}) {
    if (at(spec, f) != at(old_spec, f)) causes.push_back(immutable(std::string("spec.") + f, at(spec, f)));
  }
  return causes;
}

void admit_job_update(json& job, const json& current) {
  check_job_types(job);
  if (!job.contains("metadata") || !job["metadata"].is_object()) job["metadata"] = json::object();
  json& meta = job["metadata"];
  const json& old_meta = at(current, "metadata");
  const std::string name = old_meta.value("name", "");
  std::vector<StatusCause> causes;
  const json& uid = at(meta, "uid");
  if (uid.is_null() || uid == "")
    meta["uid"] = old_meta.value("uid", "");
  else if (uid != at(old_meta, "uid"))
    causes.push_back(immutable("metadata.uid", uid));
  // What a client cannot change: the creation time, the deletion marks, the generation (the
  // server bumps it) and, on the main resource, the status (jobs/status is the controller's).
  for (const char* k : {"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
    if (old_meta.contains(k))
      meta[k] = old_meta[k];
    else
      meta.erase(k);
  }
  job["kind"] = current.value("kind", "Job");
  job["apiVersion"] = current.value("apiVersion", "batch/v1");
  job["status"] = current.contains("status") ? current["status"] : json::object();
  default_job_fields(job);
  for (auto& c : validate_job(job)) causes.push_back(std::move(c));
  for (auto& c : validate_job_update(job, current)) causes.push_back(std::move(c));
  if (!causes.empty()) throw invalid("Job", "batch", name, causes);
  if (at(job, "spec") != at(current, "spec")) meta["generation"] = old_meta.value("generation", 1) + 1;
}

}  // namespace kjq::emulator
