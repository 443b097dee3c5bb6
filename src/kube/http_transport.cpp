#include "kube/http_transport.hpp"

#include <cctype>
#include <cstring>

#include <curl/curl.h>

#include "kube/errors.hpp"

namespace kjq::kube {

struct HttpTransport::Handle {
  CURL* curl = nullptr;
  ~Handle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

void share_lock(void*, int data, int, void* user) {
  auto* t = static_cast<HttpTransport*>(user);
  t->share_mu_[static_cast<unsigned>(data) % 8].lock();
}
void share_unlock(void*, int data, void* user) {
  auto* t = static_cast<HttpTransport*>(user);
  t->share_mu_[static_cast<unsigned>(data) % 8].unlock();
}

namespace {

std::once_flag g_curl_init;

struct Transfer {
  HttpResponse* response;
  const std::function<bool(std::string_view)>* on_data;
  const std::atomic<bool>* cancel;
  CURL* curl;
  bool stopped_by_callback = false;
};

size_t on_write(char* ptr, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->on_data) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      if (!(*t->on_data)(std::string_view(ptr, len))) {
        t->stopped_by_callback = true;
        return 0;
      }
      return len;
    }
  }
  t->response->body.append(ptr, len);
  return len;
}

size_t on_header(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(buffer, size * n);
  if (line.rfind("HTTP/", 0) == 0) t->response->headers.clear();  // a new response (after 100/redirect)
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.erase(0, 1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
    t->response->headers[name] = value;
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancel && t->cancel->load()) {
    t->stopped_by_callback = true;
    return 1;
  }
  return 0;
}

bool is_tls_error(CURLcode c) {
  return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_CONNECT_ERROR ||
         c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER || c == CURLE_SSL_ENGINE_NOTFOUND ||
         c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_CRL_BADFILE;
}

void set_blob(CURL* curl, CURLoption opt, const std::string& data) {
  curl_blob blob{const_cast<char*>(data.data()), data.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, opt, &blob);
}

}  // namespace

HttpTransport::HttpTransport(TransportOptions options) : options_(std::move(options)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURLSH* sh = curl_share_init();
  curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(sh, CURLSHOPT_USERDATA, this);
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  share_ = sh;
}

HttpTransport::~HttpTransport() {
  idle_.clear();
  if (share_) curl_share_cleanup(static_cast<CURLSH*>(share_));
}

std::unique_ptr<HttpTransport::Handle> HttpTransport::acquire() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->curl = curl_easy_init();
  if (!h->curl) throw TransportError("cannot initialise libcurl", false);
  return h;
}

void HttpTransport::release(std::unique_ptr<Handle> h) {
  std::lock_guard lock(pool_mu_);
  if (idle_.size() < 64) idle_.push_back(std::move(h));
}

HttpResponse HttpTransport::run(Handle& h, const HttpRequest& r, const std::function<bool(std::string_view)>* on_data,
                                const std::atomic<bool>* cancel) {
  CURL* c = h.curl;
  curl_easy_reset(c);  // options only: the connection cache and TLS sessions survive
  HttpResponse response;
  Transfer t{&response, on_data, cancel, c};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_SHARE, static_cast<CURLSH*>(share_));
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, options_.http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  // No Accept-Encoding: objects are small and the API server is near; compressing every answer
  // costs more than it saves (kube-apiserver itself only gzips answers above 128 KiB).
  const TlsOptions& tls = options_.tls;
  if (tls.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!tls.ca_data.empty())
      set_blob(c, CURLOPT_CAINFO_BLOB, tls.ca_data);
    else if (!tls.ca_file.empty())
      curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
  }
  if (!tls.client_cert_data.empty())
    set_blob(c, CURLOPT_SSLCERT_BLOB, tls.client_cert_data);
  else if (!tls.client_cert_file.empty())
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls.client_cert_file.c_str());
  if (!tls.client_key_data.empty())
    set_blob(c, CURLOPT_SSLKEY_BLOB, tls.client_key_data);
  else if (!tls.client_key_file.empty())
    curl_easy_setopt(c, CURLOPT_SSLKEY, tls.client_key_file.c_str());

  curl_slist* headers = nullptr;
  for (const auto& hd : r.headers) headers = curl_slist_append(headers, hd.c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (r.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (cancel) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  long version = 0;
  curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &version);
  response.http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : version == 0 ? 0 : 1;
  if (rc != CURLE_OK && !(t.stopped_by_callback && code != 0)) {
    if (t.stopped_by_callback) return response;  // cancelled before an answer
    std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    std::string what = r.method + " " + r.url.substr(0, r.url.find('?')) + ": " + detail;
    if (is_tls_error(rc))
      what +=
          "\n  hint: TLS verification failed; check the CA (certificate-authority / "
          "NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH) matches the API server's certificate";
    throw TransportError(what, is_tls_error(rc));
  }
  return response;
}

HttpResponse HttpTransport::perform(const HttpRequest& request) {
  auto h = acquire();
  HttpResponse r;
  try {
    r = run(*h, request, nullptr, nullptr);
  } catch (...) {
    release(std::move(h));
    throw;
  }
  release(std::move(h));
  return r;
}

HttpResponse HttpTransport::stream(const HttpRequest& request, const std::function<bool(std::string_view)>& on_data,
                                   const std::atomic<bool>* cancel) {
  auto h = acquire();  // a stopped stream's connection is closed by curl; the handle is still reusable
  HttpResponse r;
  try {
    r = run(*h, request, &on_data, cancel);
  } catch (...) {
    release(std::move(h));
    throw;
  }
  release(std::move(h));
  return r;
}

}  // namespace kjq::kube
