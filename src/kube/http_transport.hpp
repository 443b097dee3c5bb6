#pragma once
// HTTPS over libcurl: TLS verification on unless the config says insecure-skip-tls-verify,
// client certificates, HTTP/2 when the server offers it (ALPN), keep-alive connections reused
// through a pool of curl handles (one per concurrent request), connect and total timeouts.
// Knows nothing of Kubernetes: no auth, no retries, no JSON.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kjq::kube {

struct TlsOptions {
  std::string ca_file, ca_data;
  bool insecure_skip_verify = false;
  std::string client_cert_file, client_cert_data, client_key_file, client_key_data;
};

struct TransportOptions {
  TlsOptions tls;
  long connect_timeout_ms = 10000;
  bool http2 = true;
  std::string user_agent = "kjq/0.1.0";
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  long timeout_ms = 30000;  // whole request; 0: none
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  int http_version = 0;                        // 1 (HTTP/1.x) or 2 (HTTP/2, negotiated by ALPN)
  std::string header(const std::string& lower_name) const;
};

class HttpTransport {
 public:
  explicit HttpTransport(TransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Throws TransportError when no HTTP answer arrived.
  HttpResponse perform(const HttpRequest& request);
  // Streams a 2xx body to `on_data` (return false to stop); a non-2xx body is collected into the
  // result instead. Stops early when `*cancel` becomes true. Throws TransportError on a failed
  // connection or a broken stream.
  HttpResponse stream(const HttpRequest& request, const std::function<bool(std::string_view)>& on_data,
                      const std::atomic<bool>* cancel);

 private:
  struct Handle;
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle> h);
  HttpResponse run(Handle& h, const HttpRequest& request, const std::function<bool(std::string_view)>* on_data,
                   const std::atomic<bool>* cancel);

  TransportOptions options_;
  void* share_ = nullptr;  // CURLSH*
  std::mutex share_mu_[8];
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
  friend void share_lock(void*, int, int, void*);
  friend void share_unlock(void*, int, void*);
};

}  // namespace kjq::kube
