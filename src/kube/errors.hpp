#pragma once
// Typed errors of the Kubernetes client. An API answer that is not 2xx becomes an ApiError
// decoded from its Status object (reason, message, causes); a request that never got an answer
// (DNS, TCP, TLS, timeout) becomes a TransportError. Neither ever carries a token.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/diagnostic.hpp"

namespace kjq::kube {

enum class ErrorReason {
  BadRequest,
  Unauthorized,
  Forbidden,
  NotFound,
  AlreadyExists,
  Conflict,
  Gone,
  Invalid,
  TooManyRequests,
  Timeout,
  ServerError,
  ServiceUnavailable,
  Other
};

// "NotFound", "AlreadyExists", ... (the Kubernetes StatusReason spelling).
std::string reason_name(ErrorReason r);

struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
};

class ApiError : public RuntimeError {
 public:
  ApiError(int http_code, ErrorReason reason, std::string reason_text, std::string message,
           std::vector<StatusCause> causes, const std::string& what_text);
  int http_code() const { return http_code_; }
  ErrorReason reason() const { return reason_; }
  const std::string& reason_text() const { return reason_text_; }  // as the server spelled it
  const std::string& message() const { return message_; }
  const std::vector<StatusCause>& causes() const { return causes_; }
  bool is(ErrorReason r) const { return reason_ == r; }

 private:
  int http_code_;
  ErrorReason reason_;
  std::string reason_text_;
  std::string message_;
  std::vector<StatusCause> causes_;
};

class TransportError : public RuntimeError {
 public:
  TransportError(const std::string& what_text, bool tls_problem) : RuntimeError(what_text), tls_problem_(tls_problem) {}
  bool tls_problem() const { return tls_problem_; }

 private:
  bool tls_problem_;
};

// A stream (watch, followed logs) that broke after it had delivered data: resume, don't repeat.
class StreamError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// Decodes a non-2xx answer. `context` names the call ("create jobs/batch nautobot-job-1 in
// namespace default"); the body may be a Status, other JSON or text.
ApiError decode_status_error(int http_code, const std::string& body, const std::string& context);

// Removes every occurrence of `secret` (when not empty) from `text`.
std::string redact(std::string text, const std::string& secret);

}  // namespace kjq::kube
