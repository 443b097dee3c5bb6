#pragma once
// One Kubernetes API request at a time, done right (client-go's `rest`): bearer token from a
// TokenSource (re-read after 401), client-side rate limit, retries of 429/5xx honouring
// Retry-After and otherwise exponential backoff with full jitter (bounded), retries of connection
// errors, and non-2xx answers decoded into ApiError. Never logs or reports the token.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kube/config.hpp"
#include "kube/http_transport.hpp"
#include "kube/rate_limiter.hpp"
#include "kube/token_source.hpp"

namespace kjq::kube {

struct ClientOptions {
  double qps = 50;  // client-go defaults to 5/10; kjq dispatches bursts
  int burst = 100;
  int max_retries = 5;  // after the first attempt
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{5000};
  std::chrono::seconds max_retry_after{30};
  long request_timeout_ms = 30000;
  std::chrono::steady_clock::duration token_refresh = std::chrono::minutes(1);
  bool http2 = true;
};

struct RestRequest {
  std::string method = "GET";
  std::string path;  // "/apis/batch/v1/namespaces/default/jobs"
  std::vector<std::pair<std::string, std::string>> query;
  std::string body;
  std::string content_type = "application/json";
  // POST is retried only when the caller knows a repeat cannot duplicate anything (a create with
  // a fixed name: a repeat answers 409). Other verbs are idempotent and always retried.
  bool retry_safe = false;
  long timeout_ms = -1;  // -1: ClientOptions::request_timeout_ms; 0: none
};

struct RestResponse {
  int status = 0;
  std::string body;
};

struct RestStats {
  std::atomic<long> requests{0}, retries{0}, throttled{0}, token_reloads{0};
};

class RestClient {
 public:
  RestClient(ClusterConfig config, ClientOptions options = {});
  const ClusterConfig& config() const { return config_; }
  const ClientOptions& options() const { return options_; }

  // A 2xx answer, or throws ApiError / TransportError. `what` names the call in errors.
  RestResponse send(const RestRequest& request, const std::string& what);
  // Streams a 2xx body (watch, follow logs). Retries like send() until the stream is
  // established; a stream broken afterwards throws TransportError.
  void stream(const RestRequest& request, const std::string& what, const std::function<bool(std::string_view)>& on_data,
              const std::atomic<bool>* cancel);

  RestStats& stats() { return stats_; }
  std::string url_for(const RestRequest& request) const;

 private:
  template <class Attempt>
  RestResponse with_retries(const RestRequest& request, const std::string& what, Attempt attempt);
  std::chrono::milliseconds backoff(int attempt);

  ClusterConfig config_;
  ClientOptions options_;
  TokenSource tokens_;
  RateLimiter limiter_;
  HttpTransport transport_;
  RestStats stats_;
};

std::string url_encode(std::string_view s);

}  // namespace kjq::kube
