#include "kube/errors.hpp"

#include <nlohmann/json.hpp>

#include "util/json_limits.hpp"

namespace kjq::kube {

std::string reason_name(ErrorReason r) {
  switch (r) {
    case ErrorReason::BadRequest:
      return "BadRequest";
    case ErrorReason::Unauthorized:
      return "Unauthorized";
    case ErrorReason::Forbidden:
      return "Forbidden";
    case ErrorReason::NotFound:
      return "NotFound";
    case ErrorReason::AlreadyExists:
      return "AlreadyExists";
    case ErrorReason::Conflict:
      return "Conflict";
    case ErrorReason::Gone:
      return "Expired";
    case ErrorReason::Invalid:
      return "Invalid";
    case ErrorReason::TooManyRequests:
      return "TooManyRequests";
    case ErrorReason::Timeout:
      return "Timeout";
    case ErrorReason::ServerError:
      return "InternalError";
    case ErrorReason::ServiceUnavailable:
      return "ServiceUnavailable";
    case ErrorReason::Other:
      return "Unknown";
  }
  return "Unknown";
}

ApiError::ApiError(int http_code, ErrorReason reason, std::string reason_text, std::string message,
                   std::vector<StatusCause> causes, const std::string& what_text)
    : RuntimeError(what_text),
      http_code_(http_code),
      reason_(reason),
      reason_text_(std::move(reason_text)),
      message_(std::move(message)),
      causes_(std::move(causes)) {}

namespace {

ErrorReason classify(int code, const std::string& reason) {
  if (reason == "AlreadyExists") return ErrorReason::AlreadyExists;
  if (reason == "Conflict") return ErrorReason::Conflict;
  if (reason == "NotFound") return ErrorReason::NotFound;
  if (reason == "Forbidden") return ErrorReason::Forbidden;
  if (reason == "Unauthorized") return ErrorReason::Unauthorized;
  if (reason == "Invalid") return ErrorReason::Invalid;
  if (reason == "Expired" || reason == "Gone") return ErrorReason::Gone;
  if (reason == "TooManyRequests") return ErrorReason::TooManyRequests;
  if (reason == "Timeout" || reason == "ServerTimeout") return ErrorReason::Timeout;
  if (reason == "ServiceUnavailable") return ErrorReason::ServiceUnavailable;
  if (reason == "InternalError") return ErrorReason::ServerError;
  if (reason == "BadRequest") return ErrorReason::BadRequest;
  switch (code) {
    case 400:
      return ErrorReason::BadRequest;
    case 401:
      return ErrorReason::Unauthorized;
    case 403:
      return ErrorReason::Forbidden;
    case 404:
      return ErrorReason::NotFound;
    case 409:
      return ErrorReason::Conflict;
    case 410:
      return ErrorReason::Gone;
    case 422:
      return ErrorReason::Invalid;
    case 429:
      return ErrorReason::TooManyRequests;
    case 503:
      return ErrorReason::ServiceUnavailable;
    case 504:
      return ErrorReason::Timeout;
    default:
      return code >= 500 ? ErrorReason::ServerError : ErrorReason::Other;
  }
}

std::string first_line(const std::string& s, std::size_t max = 200) {
  std::string out = s.substr(0, s.find('\n'));
  if (out.size() > max) out = out.substr(0, max) + "...";
  return out;
}

}  // namespace

ApiError decode_status_error(int http_code, const std::string& body, const std::string& context) {
  std::string reason_text, message;
  std::vector<StatusCause> causes;
  auto j =
      json_limit_violation(body, kApiObjectJsonLimits) ? nlohmann::json() : nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.value("kind", "") == "Status") {
    reason_text = j.value("reason", "");
    message = j.value("message", "");
    if (j.contains("details") && j["details"].is_object() && j["details"].contains("causes") &&
        j["details"]["causes"].is_array()) {
      for (const auto& c : j["details"]["causes"])
        if (c.is_object()) causes.push_back({c.value("reason", ""), c.value("message", ""), c.value("field", "")});
    }
  } else if (!body.empty()) {
    message = first_line(body);
  }
  ErrorReason reason = classify(http_code, reason_text);
  if (reason_text.empty()) reason_text = reason_name(reason);
  std::string what = context + ": " + reason_text + " (HTTP " + std::to_string(http_code) + ")";
  if (!message.empty()) what += ": " + message;
  for (const auto& c : causes) {
    what += "\n  - ";
    if (!c.field.empty()) what += c.field + ": ";
    what += c.message.empty() ? c.reason : c.message;
  }
  if (reason == ErrorReason::Forbidden)
    what +=
        "\n  hint: the service account lacks this permission; check the Role/RoleBinding "
        "(`kjq doctor` lists every verb kjq needs)";
  if (reason == ErrorReason::Unauthorized)
    what += "\n  hint: the token was rejected; check the token file or kubeconfig user";
  return ApiError(http_code, reason, reason_text, message, std::move(causes), what);
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (std::size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
    text.replace(pos, secret.size(), "<redacted>");
  return text;
}

}  // namespace kjq::kube
