#pragma once
// Kubernetes `Status` objects (meta/v1) and the error type every handler throws to produce one.
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace kjq::emulator {

// One entry of Status.details.causes (field validation errors).
struct StatusCause {
  std::string reason;   // e.g. FieldValueRequired, FieldValueInvalid, FieldValueNotSupported
  std::string message;  // e.g. "Required value"
  std::string field;    // e.g. spec.template.spec.containers[0].image
};

// An API error answered as a `Status` with HTTP status `code`.
class ApiError : public std::runtime_error {
 public:
  ApiError(int code, std::string reason, const std::string& message, nlohmann::json details = nullptr);
  int code() const { return code_; }
  const std::string& reason() const { return reason_; }
  nlohmann::json status() const;  // the full Status object
  int retry_after_seconds = 0;    // > 0: send a Retry-After header

 private:
  int code_;
  std::string reason_;
  nlohmann::json details_;
};

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
nlohmann::json make_failure_status(int code, const std::string& reason, const std::string& message,
                                   const nlohmann::json& details = nullptr);
// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{...}}
nlohmann::json make_success_status(const nlohmann::json& details);

// "jobs.batch" for group batch, "pods" for the core group.
std::string qualified_resource(const std::string& resource, const std::string& group);
nlohmann::json status_details(const std::string& name, const std::string& group, const std::string& kind);

ApiError not_found(const std::string& resource, const std::string& group, const std::string& name);
ApiError already_exists(const std::string& resource, const std::string& group, const std::string& name);
ApiError conflict(const std::string& resource, const std::string& group, const std::string& name,
                  const std::string& why);
ApiError bad_request(const std::string& message);
ApiError method_not_supported(const std::string& message);
// 422: `Job.batch "x" is invalid: [a: Required value, b: ...]`
ApiError invalid(const std::string& kind, const std::string& group, const std::string& name,
                 const std::vector<StatusCause>& causes);
ApiError expired(const std::string& message);  // 410 Expired
ApiError unauthorized();
ApiError too_many_requests(int retry_after_seconds);
ApiError service_unavailable(int retry_after_seconds);

}  // namespace kjq::emulator
