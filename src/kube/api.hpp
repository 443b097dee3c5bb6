#pragma once
// The typed calls kjq needs, on top of RestClient: jobs create/get/list/watch/delete, pods list,
// pod logs, events for an object, SelfSubjectAccessReview.
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/rest_client.hpp"

namespace kjq::kube {

struct Resource {
  std::string group;  // "" for core
  std::string version;
  std::string plural;
  std::string kind;
  std::string collection_path(const std::string& ns) const;
  std::string object_path(const std::string& ns, const std::string& name) const;
};
const Resource& jobs_resource();
const Resource& pods_resource();
const Resource& events_resource();

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 500;  // per page; 0: no limit
  std::string continue_token;
  std::string resource_version;
  // Applied while parsing listed items and watch events: a long-running watcher that needs a
  // few fields of big objects (a Job's pod template) can drop the rest before it is ever built.
  nlohmann::json::parser_callback_t parse_filter;
};

struct ObjectList {
  std::vector<nlohmann::json> items;
  std::string resource_version;
  std::string continue_token;  // "" on the last page
};

struct LogOptions {
  std::string container;
  std::optional<int> tail_lines;
  bool follow = false;
  bool timestamps = false;
};

struct AccessCheck {
  std::string verb, group, resource, subresource;
};

class KubeApi {
 public:
  explicit KubeApi(RestClient& client) : client_(client) {}
  RestClient& client() { return client_; }
  const std::string& default_namespace() const { return client_.config().namespace_name; }

  // POST with retries allowed: the Job has a fixed metadata.name, so a repeat answers 409. The
  // body goes out in the manifest's own key order, as Nautobot's client sends its dict.
  // With `metadata_only`, the answer keeps only apiVersion, kind and metadata (the spec and status
  // are lexed but never built: a dispatch that needs just the uid skips most of the parse).
  nlohmann::json create_job(const std::string& ns, const nlohmann::ordered_json& job, bool metadata_only = false);
  nlohmann::json get_job(const std::string& ns, const std::string& name);
  // Background propagation (the garbage collector then deletes the pods, each with its own
  // terminationGracePeriodSeconds: a Job's grace period does not reach them).
  void delete_job(const std::string& ns, const std::string& name, std::optional<int> grace_seconds);
  // Un-suspends a suspended Job with a JSON patch whose `test` operations are its preconditions:
  // the same Job (uid) and still suspended. Throws ApiError 422 (Invalid) when either fails, so of
  // two callers only one ever resumes it.
  nlohmann::json resume_job(const std::string& ns, const std::string& name, const std::string& uid);
  // Graceful pod deletion; `uid` (if not empty) is a precondition, so a namesake is never hit.
  void delete_pod(const std::string& ns, const std::string& name, int grace_seconds, const std::string& uid);

  ObjectList list_page(const Resource& r, const std::string& ns, const ListOptions& o);
  // Every page (continue tokens followed); resource_version from the first page.
  ObjectList list_all(const Resource& r, const std::string& ns, ListOptions o);
  ObjectList list_jobs(const std::string& ns, const ListOptions& o) { return list_all(jobs_resource(), ns, o); }
  ObjectList list_pods(const std::string& ns, const ListOptions& o) { return list_all(pods_resource(), ns, o); }
  // Events whose involvedObject is the named object (oldest first).
  std::vector<nlohmann::json> events_for(const std::string& ns, const std::string& kind, const std::string& name);

  // One watch request from `resource_version`; each decoded event {type, object} goes to
  // `on_event` (return false to stop). Returns when the server ends the stream.
  void watch_once(const Resource& r, const std::string& ns, const ListOptions& selectors,
                  const std::string& resource_version, int timeout_seconds,
                  const std::function<bool(const nlohmann::json&)>& on_event, const std::atomic<bool>* cancel);

  std::string pod_logs(const std::string& ns, const std::string& pod, const LogOptions& o);
  void follow_pod_logs(const std::string& ns, const std::string& pod, const LogOptions& o,
                       const std::function<bool(std::string_view)>& on_data, const std::atomic<bool>* cancel);

  // SelfSubjectAccessReview: is the current user allowed? (reason in `why` when given)
  bool can_i(const std::string& ns, const AccessCheck& check, std::string* why = nullptr);

 private:
  RestClient& client_;
};

}  // namespace kjq::kube
