#include "api_status.hpp"

namespace kjq::emulator {

using nlohmann::json;

ApiError::ApiError(int code, std::string reason, const std::string& message, json details)
    : std::runtime_error(message), code_(code), reason_(std::move(reason)), details_(std::move(details)) {}

json ApiError::status() const { return make_failure_status(code_, reason_, what(), details_); }

json make_failure_status(int code, const std::string& reason, const std::string& message, const json& details) {
  json s = {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", "Failure"},
            {"message", message}};
  if (!reason.empty()) s["reason"] = reason;
  if (!details.is_null()) s["details"] = details;
  s["code"] = code;
  return s;
}

json make_success_status(const json& details) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"details", details}};
}

std::string qualified_resource(const std::string& resource, const std::string& group) {
  return group.empty() ? resource : resource + "." + group;
}

json status_details(const std::string& name, const std::string& group, const std::string& kind) {
  json d = json::object();
  if (!name.empty()) d["name"] = name;
  if (!group.empty()) d["group"] = group;
  d["kind"] = kind;
  return d;
}

ApiError not_found(const std::string& resource, const std::string& group, const std::string& name) {
  return ApiError(404, "NotFound", qualified_resource(resource, group) + " \"" + name + "\" not found",
                  status_details(name, group, resource));
}

ApiError already_exists(const std::string& resource, const std::string& group, const std::string& name) {
  return ApiError(409, "AlreadyExists", qualified_resource(resource, group) + " \"" + name + "\" already exists",
                  status_details(name, group, resource));
}

ApiError conflict(const std::string& resource, const std::string& group, const std::string& name,
                  const std::string& why) {
  return ApiError(
      409, "Conflict",
      "Operation cannot be fulfilled on " + qualified_resource(resource, group) + " \"" + name + "\": " + why,
      status_details(name, group, resource));
}

ApiError bad_request(const std::string& message) { return ApiError(400, "BadRequest", message); }

ApiError method_not_supported(const std::string& message) { return ApiError(405, "MethodNotAllowed", message); }

ApiError invalid(const std::string& kind, const std::string& group, const std::string& name,
                 const std::vector<StatusCause>& causes) {
  std::string list;
  json jcauses = json::array();
  for (const auto& c : causes) {
    if (!list.empty()) list += ", ";
    list += c.field + ": " + c.message;
    jcauses.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  if (causes.size() > 1) list = "[" + list + "]";
  std::string qualified = group.empty() ? kind : kind + "." + group;
  json details = status_details(name, group, kind);
  details["causes"] = jcauses;
  return ApiError(422, "Invalid", qualified + " \"" + name + "\" is invalid: " + list, details);
}

ApiError expired(const std::string& message) { return ApiError(410, "Expired", message); }

ApiError unauthorized() { return ApiError(401, "Unauthorized", "Unauthorized"); }

ApiError too_many_requests(int retry_after_seconds) {
  ApiError e(429, "TooManyRequests", "Too many requests, please try again later.",
             json{{"retryAfterSeconds", retry_after_seconds}});
  e.retry_after_seconds = retry_after_seconds;
  return e;
}

ApiError service_unavailable(int retry_after_seconds) {
  ApiError e(503, "ServiceUnavailable", "the server is currently unable to handle the request",
             json{{"retryAfterSeconds", retry_after_seconds}});
  e.retry_after_seconds = retry_after_seconds;
  return e;
}

}  // namespace kjq::emulator
