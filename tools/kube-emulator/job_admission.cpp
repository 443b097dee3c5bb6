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
  std::string ref = image;
  auto at_pos = ref.find('@');
  if (at_pos != std::string::npos) return "IfNotPresent";
  auto slash = ref.rfind('/');
  auto colon = ref.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return "Always";
  return ref.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
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

void default_job(json& job) {
  json& meta = job["metadata"];
  json& spec = job["spec"];
  json& tmpl = spec["template"];
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object()) tmpl["metadata"] = json::object();
  json& tmeta = tmpl["metadata"];
  if ((!meta.contains("labels") || meta["labels"].empty()) && tmeta.contains("labels") && tmeta["labels"].is_object() &&
      !tmeta["labels"].empty())
    meta["labels"] = tmeta["labels"];
  const std::string uid = meta.value("uid", "");
  const std::string name = meta.value("name", "");
  if (!spec.contains("parallelism")) spec["parallelism"] = 1;
  if (!spec.contains("completions")) spec["completions"] = 1;
  if (!spec.contains("backoffLimit")) spec["backoffLimit"] = 6;
  if (!spec.contains("completionMode")) spec["completionMode"] = "NonIndexed";
  if (!spec.contains("suspend")) spec["suspend"] = false;
  if (!spec.contains("podReplacementPolicy")) spec["podReplacementPolicy"] = "TerminatingOrFailed";
  if (!spec.value("manualSelector", false)) {
    spec["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}};
    json& labels = tmeta["labels"];
    if (!labels.is_object()) labels = json::object();
    labels["batch.kubernetes.io/controller-uid"] = uid;
    labels["batch.kubernetes.io/job-name"] = name;
    labels["controller-uid"] = uid;
    labels["job-name"] = name;
  }
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
      if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
      if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
      if (!c.contains("imagePullPolicy") && c.contains("image") && c["image"].is_string())
        c["imagePullPolicy"] = image_pull_policy(c["image"].get<std::string>());
      if (!c.contains("resources")) c["resources"] = json::object();
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

}  // namespace kjq::emulator
