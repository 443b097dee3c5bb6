// pods/log (tail, limitBytes, timestamps, follow) and SelfSubjectAccessReview.
#include <chrono>
#include <memory>
#include <sstream>
#include <vector>

#include "api_request.hpp"
#include "api_server.hpp"
#include "api_status.hpp"

namespace kjq::emulator {

using nlohmann::json;

void ApiServer::do_pod_log(const RequestInfo& info, const httplib::Request& req, httplib::Response& res) {
  const ResourceType* pods = registry_.find("", "v1", "pods");
  ObjectPtr pod_ptr = store_.get(*pods, info.ns, info.name);
  if (!pod_ptr) throw not_found("pods", "", info.name);
  const json pod_obj = pod_ptr->parse();
  const json* pod = &pod_obj;
  const json& containers = (*pod)["spec"]["containers"];
  std::string container = req.get_param_value("container");
  if (container.empty()) {
    if (containers.size() != 1) {
      std::string names;
      for (const auto& c : containers) {
        if (!names.empty()) names += ' ';
        names += c.value("name", "");
      }
      throw bad_request("a container name must be specified for pod " + info.name + ", choose one of: [" + names + "]");
    }
    container = containers[0].value("name", "");
  }
  bool known = false;
  for (const auto& c : containers) known = known || c.value("name", "") == container;
  if (!known) throw bad_request("container " + container + " is not valid for pod " + info.name);
  if (bool_param(req, "previous"))
    throw bad_request("previous terminated container \"" + container + "\" in pod \"" + info.name + "\" not found");
  auto container_state = [container](const json& p) -> json {
    for (const auto& cs : p["status"].value("containerStatuses", json::array()))
      if (cs.value("name", "") == container) return cs.value("state", json::object());
    return json::object();
  };
  json state = container_state(*pod);
  if (state.empty() || state.contains("waiting")) {
    std::string reason =
        state.contains("waiting") ? state["waiting"].value("reason", "ContainerCreating") : "ContainerCreating";
    if (reason == "ErrImagePull" || reason == "ImagePullBackOff") reason = "trying and failing to pull image";
    throw bad_request("container \"" + container + "\" in pod \"" + info.name + "\" is waiting to start: " + reason);
  }
  std::string log = controller_.pod_log(info.ns, info.name).value_or("");
  // Split into lines, apply tailLines / timestamps / limitBytes.
  std::vector<std::string> lines;
  {
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line + "\n");
  }
  long long tail = parse_int_param(req, "tailLines", -1);
  if (tail >= 0 && static_cast<std::size_t>(tail) < lines.size()) lines.erase(lines.begin(), lines.end() - tail);
  const bool timestamps = bool_param(req, "timestamps");
  std::string started = state.contains("running")      ? state["running"].value("startedAt", "")
                        : state.contains("terminated") ? state["terminated"].value("startedAt", "")
                                                       : "";
  std::string text;
  for (const auto& l : lines) text += (timestamps ? started.substr(0, started.size() - 1) + ".000000000Z " : "") + l;
  long long limit_bytes = parse_int_param(req, "limitBytes", -1);
  if (limit_bytes >= 0 && static_cast<std::size_t>(limit_bytes) < text.size()) text.resize(limit_bytes);
  const bool follow = bool_param(req, "follow");
  if (!follow || state.contains("terminated")) {
    res.status = 200;
    res.set_content(text, "text/plain");
    return;
  }
  // follow: stream what there is, then hold the stream open until the container ends.
  disable_compression(req);
  auto sent = std::make_shared<bool>(false);
  const std::string ns = info.ns, name = info.name;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.watch_timeout_seconds);
  res.status = 200;
  res.set_chunked_content_provider("text/plain", [this, sent, text, ns, name, pods, container_state, deadline](
                                                     std::size_t, httplib::DataSink& sink) {
    if (!*sent) {
      *sent = true;
      if (!text.empty() && !sink.write(text.data(), text.size())) return false;
      if (text.empty()) return true;
    }
    ObjectPtr p = store_.get(*pods, ns, name);
    if (!p || container_state(p->parse()).contains("terminated") || closing_ ||
        std::chrono::steady_clock::now() >= deadline) {
      sink.done();
      return true;
    }
    if (!sink.is_writable()) return false;
    store_.wait_for_change(store_.current_rv(), std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    return true;
  });
}

void ApiServer::do_self_subject_access_review(const UserInfo& user, const json& body, httplib::Response& res) {
  if (!body.is_object() || !body.contains("spec") || !body["spec"].is_object())
    throw invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                  {{"FieldValueInvalid",
                    "Invalid value: \"null\": exactly one of nonResourceAttributes or "
                    "resourceAttributes must be specified",
                    "spec.resourceAttributes"}});
  const json& spec = body["spec"];
  RequestAttributes attrs;
  attrs.user = user;
  if (spec.contains("resourceAttributes") && spec["resourceAttributes"].is_object()) {
    const json& ra = spec["resourceAttributes"];
    attrs.resource_request = true;
    attrs.ns = ra.value("namespace", "");
    attrs.verb = ra.value("verb", "");
    attrs.group = ra.value("group", "");
    attrs.resource = ra.value("resource", "");
    attrs.subresource = ra.value("subresource", "");
    attrs.name = ra.value("name", "");
  } else if (spec.contains("nonResourceAttributes") && spec["nonResourceAttributes"].is_object()) {
    attrs.resource_request = false;
    attrs.path = spec["nonResourceAttributes"].value("path", "");
    attrs.verb = spec["nonResourceAttributes"].value("verb", "");
  } else {
    throw invalid("SelfSubjectAccessReview", "authorization.k8s.io", "",
                  {{"FieldValueInvalid",
                    "Invalid value: \"null\": exactly one of nonResourceAttributes or "
                    "resourceAttributes must be specified",
                    "spec.resourceAttributes"}});
  }
  auto decision = authz_.authorize(attrs);
  json out = body;
  out["kind"] = "SelfSubjectAccessReview";
  out["apiVersion"] = "authorization.k8s.io/v1";
  if (!out.contains("metadata") || !out["metadata"].is_object()) out["metadata"] = json::object();
  out["metadata"]["creationTimestamp"] = nullptr;
  json status = {{"allowed", decision.allowed}};
  if (!decision.reason.empty()) status["reason"] = decision.reason;
  out["status"] = status;
  write_json(res, 201, out);
}

}  // namespace kjq::emulator
