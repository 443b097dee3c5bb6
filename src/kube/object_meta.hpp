#pragma once
// The object metadata kjq reads of any Kubernetes object (ObjectMeta: name, uid, labels...), in
// one place. Objects come from API servers, manifests and users, so every accessor answers ""
// when the object, its metadata or the field is missing or is not a string, and never throws.
// Templates: Jobs being prepared are ordered_json (their key order is kept), objects read back
// from the API are json.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace kjq::kube {

namespace detail {
template <class Json>
const Json* member(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}
template <class Json>
std::string string_member(const Json* object, const char* key) {
  if (object == nullptr) return "";
  const Json* v = member(*object, key);
  return v != nullptr && v->is_string() ? v->template get<std::string>() : "";
}
}  // namespace detail

// metadata.<key> ("name", "uid", "resourceVersion", ...).
template <class Json>
std::string meta_string(const Json& object, const char* key) {
  return detail::string_member(detail::member(object, "metadata"), key);
}
// metadata.labels.<key>.
template <class Json>
std::string label_of(const Json& object, const char* key) {
  const Json* meta = detail::member(object, "metadata");
  return detail::string_member(meta ? detail::member(*meta, "labels") : nullptr, key);
}
// metadata.annotations.<key>.
template <class Json>
std::string annotation_of(const Json& object, const char* key) {
  const Json* meta = detail::member(object, "metadata");
  return detail::string_member(meta ? detail::member(*meta, "annotations") : nullptr, key);
}
// metadata.labels as a map ({} when absent); non-string values are left out.
template <class Json>
std::map<std::string, std::string> labels_of(const Json& object) {
  std::map<std::string, std::string> out;
  const Json* meta = detail::member(object, "metadata");
  const Json* labels = meta ? detail::member(*meta, "labels") : nullptr;
  if (labels == nullptr || !labels->is_object()) return out;
  for (auto it = labels->begin(); it != labels->end(); ++it)
    if (it->is_string()) out.emplace(it.key(), it->template get<std::string>());
  return out;
}

template <class Json>
std::string name_of(const Json& object) {
  return meta_string(object, "name");
}
template <class Json>
std::string uid_of(const Json& object) {
  return meta_string(object, "uid");
}
template <class Json>
std::string resource_version_of(const Json& object) {
  return meta_string(object, "resourceVersion");
}
template <class Json>
std::string creation_timestamp_of(const Json& object) {
  return meta_string(object, "creationTimestamp");
}

// The Job a pod belongs to: the label the Job controller sets (batch.kubernetes.io/job-name since
// Kubernetes 1.27, job-name before and still alongside).
template <class Json>
std::string job_name_of_pod(const Json& pod) {
  std::string name = label_of(pod, "batch.kubernetes.io/job-name");
  return name.empty() ? label_of(pod, "job-name") : name;
}

}  // namespace kjq::kube
