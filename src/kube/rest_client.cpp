#include "kube/rest_client.hpp"

#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "kube/errors.hpp"

namespace kjq::kube {

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

namespace {

TransportOptions transport_options(const ClusterConfig& c, const ClientOptions& o) {
  TransportOptions t;
  t.tls.ca_file = c.ca_file;
  t.tls.ca_data = c.ca_data;
  t.tls.insecure_skip_verify = c.insecure_skip_tls_verify;
  t.tls.client_cert_file = c.client_cert_file;
  t.tls.client_cert_data = c.client_cert_data;
  t.tls.client_key_file = c.client_key_file;
  t.tls.client_key_data = c.client_key_data;
  t.http2 = o.http2;
  return t;
}

TokenSource make_tokens(const ClusterConfig& c, const ClientOptions& o) {
  if (!c.token_file.empty()) return TokenSource::from_file(c.token_file, o.token_refresh);
  return TokenSource::fixed(c.token);
}

bool retryable_status(int s) { return s == 429 || (s >= 500 && s <= 599); }

// Retry-After: delta-seconds only (the API server never sends an HTTP date).
std::optional<std::chrono::milliseconds> retry_after(const HttpResponse& r, std::chrono::seconds cap) {
  std::string v = r.header("retry-after");
  if (v.empty()) return std::nullopt;
  try {
    long s = std::stol(v);
    if (s < 0) return std::nullopt;
    return std::chrono::milliseconds(std::min<long>(s, cap.count()) * 1000);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

RestClient::RestClient(ClusterConfig config, ClientOptions options)
    : config_(std::move(config)),
      options_(options),
      tokens_(make_tokens(config_, options_)),
      limiter_(options_.qps, options_.burst),
      transport_(transport_options(config_, options_)) {
  if (config_.insecure_skip_tls_verify)
    spdlog::warn("TLS verification is disabled for {} (insecure-skip-tls-verify)", config_.server);
}

std::string RestClient::url_for(const RestRequest& r) const {
  std::string url = config_.server + r.path;
  char sep = '?';
  for (const auto& [k, v] : r.query) {
    url += sep + url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  return url;
}

std::chrono::milliseconds RestClient::backoff(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const long base = options_.backoff_base.count();
  const long cap = options_.backoff_cap.count();
  long ceiling = base << std::min(attempt, 20);
  if (ceiling > cap || ceiling <= 0) ceiling = cap;
  std::uniform_int_distribution<long> dist(ceiling / 2, ceiling);  // "equal jitter"
  return std::chrono::milliseconds(dist(rng));
}

template <class Attempt>
RestResponse RestClient::with_retries(const RestRequest& request, const std::string& what, Attempt attempt) {
  const bool may_retry = request.method != "POST" || request.retry_safe;
  bool reloaded_token = false;
  for (int n = 0;; ++n) {
    const auto waited = limiter_.acquire();
    if (waited.count() > 0) ++stats_.throttled;
    std::string token = tokens_.token();
    HttpRequest h;
    h.method = request.method;
    h.url = url_for(request);
    h.body = request.body;
    h.timeout_ms = request.timeout_ms < 0 ? options_.request_timeout_ms : request.timeout_ms;
    h.headers.emplace_back("Accept: application/json");
    if (!request.body.empty() || request.method == "POST") h.headers.push_back("Content-Type: " + request.content_type);
    if (!token.empty()) h.headers.push_back("Authorization: Bearer " + token);
    ++stats_.requests;
    HttpResponse r;
    try {
      r = attempt(h);
    } catch (const TransportError& e) {
      if (!may_retry || e.tls_problem() || n >= options_.max_retries)
        throw TransportError(redact(what + ": " + e.what(), token), e.tls_problem());
      auto d = backoff(n);
      spdlog::warn("{}: connection failed ({}); retry {}/{} in {}ms", what, redact(e.what(), token), n + 1,
                   options_.max_retries, d.count());
      ++stats_.retries;
      std::this_thread::sleep_for(d);
      continue;
    }
    if (r.status >= 200 && r.status < 300) return {r.status, std::move(r.body)};
    if (r.status == 401 && tokens_.from_file() && !reloaded_token) {
      // Bound service-account tokens rotate: re-read the file and try once more.
      tokens_.invalidate();
      reloaded_token = true;
      ++stats_.token_reloads;
      spdlog::info("{}: 401 Unauthorized; re-reading the token file", what);
      continue;
    }
    if (retryable_status(r.status) && may_retry && n < options_.max_retries) {
      auto d = retry_after(r, options_.max_retry_after).value_or(backoff(n));
      spdlog::warn("{}: HTTP {}; retry {}/{} in {}ms", what, r.status, n + 1, options_.max_retries, d.count());
      ++stats_.retries;
      std::this_thread::sleep_for(d);
      continue;
    }
    ApiError e = decode_status_error(r.status, redact(r.body, token), what);
    throw e;
  }
}

RestResponse RestClient::send(const RestRequest& request, const std::string& what) {
  return with_retries(request, what, [this](const HttpRequest& h) { return transport_.perform(h); });
}

void RestClient::stream(const RestRequest& request, const std::string& what,
                        const std::function<bool(std::string_view)>& on_data, const std::atomic<bool>* cancel) {
  bool delivered = false;
  std::function<bool(std::string_view)> counted = [&](std::string_view chunk) {
    delivered = true;
    return on_data(chunk);
  };
  with_retries(request, what, [&](const HttpRequest& h) {
    try {
      return transport_.stream(h, counted, cancel);
    } catch (const TransportError& e) {
      if (delivered) throw StreamError(what + ": stream broken: " + e.what());
      throw;
    }
  });
}

}  // namespace kjq::kube
