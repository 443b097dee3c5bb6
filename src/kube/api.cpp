#include "kube/api.hpp"

#include "kube/errors.hpp"
#include "kube/object_meta.hpp"
#include "kube/watch_decoder.hpp"
#include "util/json_limits.hpp"

namespace kjq::kube {

using nlohmann::json;

std::string Resource::collection_path(const std::string& ns) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!ns.empty()) p += "/namespaces/" + url_encode(ns);
  return p + "/" + plural;
}

std::string Resource::object_path(const std::string& ns, const std::string& name) const {
  return collection_path(ns) + "/" + url_encode(name);
}

const Resource& jobs_resource() {
  static const Resource r{"batch", "v1", "jobs", "Job"};
  return r;
}
const Resource& pods_resource() {
  static const Resource r{"", "v1", "pods", "Pod"};
  return r;
}
const Resource& events_resource() {
  static const Resource r{"", "v1", "events", "Event"};
  return r;
}

namespace {

// API answers are bounded like every other input: a list may be large, never arbitrarily deep.
json parse_body(const RestResponse& r, const std::string& what, const json::parser_callback_t& filter = nullptr) {
  if (auto why = json_limit_violation(r.body, kApiListJsonLimits))
    throw RuntimeError(what + ": the API server's answer is refused: " + *why);
  auto j = json::parse(r.body, filter, false);
  if (j.is_discarded()) throw RuntimeError(what + ": the API server answered with invalid JSON");
  return j;
}

std::string in_ns(const std::string& ns) { return ns.empty() ? "" : " in namespace " + ns; }

}  // namespace

json KubeApi::create_job(const std::string& ns, const nlohmann::ordered_json& job, bool metadata_only) {
  RestRequest r;
  r.method = "POST";
  r.path = jobs_resource().collection_path(ns);
  r.body = job.dump();
  const std::string name = name_of(job);
  r.retry_safe = !name.empty();
  const std::string what = "create job " + name + in_ns(ns);
  if (!metadata_only) return parse_body(client_.send(r, what), what);
  return parse_body(client_.send(r, what), what, [](int depth, json::parse_event_t event, json& parsed) {
    if (depth != 1 || event != json::parse_event_t::key) return true;
    const auto& k = parsed.get_ref<const std::string&>();
    return k == "metadata" || k == "kind" || k == "apiVersion";
  });
}

json KubeApi::get_job(const std::string& ns, const std::string& name) {
  RestRequest r;
  r.path = jobs_resource().object_path(ns, name);
  const std::string what = "get job " + name + in_ns(ns);
  return parse_body(client_.send(r, what), what);
}

void KubeApi::delete_job(const std::string& ns, const std::string& name, std::optional<int> grace_seconds) {
  RestRequest r;
  r.method = "DELETE";
  r.path = jobs_resource().object_path(ns, name);
  json opts = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
  if (grace_seconds) opts["gracePeriodSeconds"] = *grace_seconds;
  r.body = opts.dump();
  client_.send(r, "delete job " + name + in_ns(ns));
}

json KubeApi::resume_job(const std::string& ns, const std::string& name, const std::string& uid) {
  RestRequest r;
  r.method = "PATCH";
  r.path = jobs_resource().object_path(ns, name);
  r.content_type = "application/json-patch+json";
  json patch = json::array();
  if (!uid.empty()) patch.push_back({{"op", "test"}, {"path", "/metadata/uid"}, {"value", uid}});
  patch.push_back({{"op", "test"}, {"path", "/spec/suspend"}, {"value", true}});
  patch.push_back({{"op", "replace"}, {"path", "/spec/suspend"}, {"value", false}});
  r.body = patch.dump();
  const std::string what = "resume job " + name + in_ns(ns);
  return parse_body(client_.send(r, what), what);
}

void KubeApi::delete_pod(const std::string& ns, const std::string& name, int grace_seconds, const std::string& uid) {
  RestRequest r;
  r.method = "DELETE";
  r.path = pods_resource().object_path(ns, name);
  json opts = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"gracePeriodSeconds", grace_seconds}};
  if (!uid.empty()) opts["preconditions"] = {{"uid", uid}};
  r.body = opts.dump();
  client_.send(r, "delete pod " + name + in_ns(ns));
}

ObjectList KubeApi::list_page(const Resource& res, const std::string& ns, const ListOptions& o) {
  RestRequest r;
  r.path = res.collection_path(ns);
  if (!o.label_selector.empty()) r.query.emplace_back("labelSelector", o.label_selector);
  if (!o.field_selector.empty()) r.query.emplace_back("fieldSelector", o.field_selector);
  if (o.limit > 0) r.query.emplace_back("limit", std::to_string(o.limit));
  if (!o.continue_token.empty()) r.query.emplace_back("continue", o.continue_token);
  if (!o.resource_version.empty()) r.query.emplace_back("resourceVersion", o.resource_version);
  const std::string what = "list " + res.plural + in_ns(ns);
  json j = parse_body(client_.send(r, what), what, o.parse_filter);
  ObjectList out;
  if (j.contains("items") && j["items"].is_array())
    for (auto& item : j["items"]) out.items.push_back(std::move(item));
  out.resource_version = resource_version_of(j);  // the list's ListMeta
  out.continue_token = meta_string(j, "continue");
  return out;
}

ObjectList KubeApi::list_all(const Resource& res, const std::string& ns, ListOptions o) {
  ObjectList all;
  bool first = true;
  do {
    ObjectList page = list_page(res, ns, o);
    if (first) all.resource_version = page.resource_version;
    first = false;
    for (auto& item : page.items) all.items.push_back(std::move(item));
    o.continue_token = page.continue_token;
  } while (!o.continue_token.empty());
  return all;
}

std::vector<json> KubeApi::events_for(const std::string& ns, const std::string& kind, const std::string& name) {
  ListOptions o;
  o.field_selector = "involvedObject.kind=" + kind + ",involvedObject.name=" + name;
  ObjectList l = list_all(events_resource(), ns, o);
  return l.items;
}

void KubeApi::watch_once(const Resource& res, const std::string& ns, const ListOptions& selectors,
                         const std::string& resource_version, int timeout_seconds,
                         const std::function<bool(const json&)>& on_event, const std::atomic<bool>* cancel) {
  RestRequest r;
  r.path = res.collection_path(ns);
  r.query.emplace_back("watch", "true");
  r.query.emplace_back("allowWatchBookmarks", "true");
  if (!resource_version.empty()) r.query.emplace_back("resourceVersion", resource_version);
  if (!selectors.label_selector.empty()) r.query.emplace_back("labelSelector", selectors.label_selector);
  if (!selectors.field_selector.empty()) r.query.emplace_back("fieldSelector", selectors.field_selector);
  r.query.emplace_back("timeoutSeconds", std::to_string(timeout_seconds));
  r.timeout_ms = (timeout_seconds + 30) * 1000L;
  const std::string what = "watch " + res.plural + in_ns(ns);
  WatchDecoder decoder(what, selectors.parse_filter);
  client_.stream(
      r, what, [&](std::string_view chunk) { return decoder.feed(chunk, [&](json& ev) { return on_event(ev); }); },
      cancel);
}

std::string KubeApi::pod_logs(const std::string& ns, const std::string& pod, const LogOptions& o) {
  RestRequest r;
  r.path = pods_resource().object_path(ns, pod) + "/log";
  if (!o.container.empty()) r.query.emplace_back("container", o.container);
  if (o.tail_lines) r.query.emplace_back("tailLines", std::to_string(*o.tail_lines));
  if (o.timestamps) r.query.emplace_back("timestamps", "true");
  return client_.send(r, "logs of pod " + pod + in_ns(ns)).body;
}

void KubeApi::follow_pod_logs(const std::string& ns, const std::string& pod, const LogOptions& o,
                              const std::function<bool(std::string_view)>& on_data, const std::atomic<bool>* cancel) {
  RestRequest r;
  r.path = pods_resource().object_path(ns, pod) + "/log";
  r.query.emplace_back("follow", "true");
  if (!o.container.empty()) r.query.emplace_back("container", o.container);
  if (o.tail_lines) r.query.emplace_back("tailLines", std::to_string(*o.tail_lines));
  if (o.timestamps) r.query.emplace_back("timestamps", "true");
  r.timeout_ms = 0;
  client_.stream(r, "follow logs of pod " + pod + in_ns(ns), on_data, cancel);
}

bool KubeApi::can_i(const std::string& ns, const AccessCheck& c, std::string* why) {
  json attrs = {{"namespace", ns}, {"verb", c.verb}, {"group", c.group}, {"resource", c.resource}};
  if (!c.subresource.empty()) attrs["subresource"] = c.subresource;
  json body = {{"apiVersion", "authorization.k8s.io/v1"},
               {"kind", "SelfSubjectAccessReview"},
               {"spec", {{"resourceAttributes", attrs}}}};
  RestRequest r;
  r.method = "POST";
  r.path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  r.body = body.dump();
  r.retry_safe = true;  // creates nothing
  const std::string what = "SelfSubjectAccessReview";
  json j = parse_body(client_.send(r, what), what);
  const json status = j.value("status", json::object());
  if (why) *why = status.value("reason", status.value("evaluationError", ""));
  return status.value("allowed", false);
}

}  // namespace kjq::kube
