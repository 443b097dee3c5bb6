#include "server/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "server/tls_certificates.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

std::string str(beast::string_view text) { return {text.data(), text.size()}; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The transport's own answers use the API's error shape, so a client parses every error alike.
std::string error_body(int status, std::string_view reason, std::string_view message) {
  return nlohmann::json{{"error", {{"code", status}, {"reason", reason}, {"message", message}}}}.dump() + "\n";
}

std::string_view reason_phrase(int status) {
  const auto text = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
  return {text.data(), text.size()};
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return "";
}

bool Request::has_param(std::string_view name) const {
  return std::any_of(query.begin(), query.end(), [&](const auto& kv) { return kv.first == name; });
}

std::string Request::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return v;
  return "";
}

// ---- EventStream ------------------------------------------------------------------------------

bool EventStream::send(std::string data) {
  std::shared_ptr<Sink> sink;
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (!attached_) {
      early_.push_back(std::move(data));
      return true;
    }
    sink = sink_.lock();
    if (!sink) {
      closed_ = true;
      return false;
    }
  }
  sink->push(std::move(data));
  return true;
}

void EventStream::close() {
  std::shared_ptr<Sink> sink;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    sink = sink_.lock();
  }
  if (sink) sink->finish();
}

bool EventStream::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void EventStream::on_close(std::function<void()> callback) {
  {
    std::lock_guard lock(mu_);
    if (!(closed_ && attached_ && sink_.expired())) {
      on_close_ = std::move(callback);
      return;
    }
  }
  callback();
}

void EventStream::attach(std::weak_ptr<Sink> sink) {
  std::vector<std::string> early;
  bool closed = false;
  std::shared_ptr<Sink> s = sink.lock();
  {
    std::lock_guard lock(mu_);
    sink_ = std::move(sink);
    attached_ = true;
    early.swap(early_);
    closed = closed_;
  }
  if (!s) return;
  for (auto& d : early) s->push(std::move(d));
  if (closed) s->finish();
}

void EventStream::detach() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    sink_.reset();
    callback = std::move(on_close_);
    on_close_ = nullptr;
  }
  if (callback) callback();
}

// ---- the server -------------------------------------------------------------------------------

struct HttpServer::Impl {
  explicit Impl(Limits l) : limits(l) {}

  struct Route {
    Handler handler;
    Dispatch dispatch;
  };
  Router router;

  void accept();

  // Declared before the I/O objects: sessions count themselves out while those are destroyed.
  std::atomic<std::uint64_t> accepted{0}, refused_over_cap{0}, timed_out{0}, rejected{0}, open{0}, streams{0},
      tls_handshake_failures{0};
  std::atomic<bool> stopping{false};

  Limits limits;
  std::shared_ptr<TlsCertificates> tls;  // set: every connection speaks TLS
  std::vector<Route> routes;             // by the router's index
  std::optional<asio::io_context> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::optional<asio::thread_pool> workers;
  std::thread io_thread;
  bool running = false;
};

// One connection. Stream is beast::tcp_stream (plain HTTP) or TlsStream; `tls_context` keeps the
// certificate the connection was accepted with alive for as long as it lasts.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>>, public EventStream::Sink {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Session(tcp::socket&& socket, HttpServer::Impl& impl, std::shared_ptr<asio::ssl::context> tls_context = {})
      : tls_context_(std::move(tls_context)), stream_(make_stream(std::move(socket), tls_context_.get())), impl_(impl) {
    ++impl_.open;
    beast::error_code ec;
    const auto ep = tcp_layer().socket().remote_endpoint(ec);
    if (!ec) remote_ = fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  ~Session() override {
    if (event_stream_) {
      event_stream_->detach();
      --impl_.streams;
    }
    --impl_.open;
  }

  void start() {
    if constexpr (kTls) {
      // The handshake has the header deadline: a client that opens a connection and says nothing
      // costs no more than one that sends no request.
      tcp_layer().expires_after(limits().header_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          ++self->impl_.tls_handshake_failures;
          spdlog::debug("http: TLS handshake with {} failed: {}", self->remote_, ec.message());
          return self->close_now();
        }
        self->wait_for_request();
      });
    } else {
      wait_for_request();
    }
  }

  // EventStream::Sink: called from any thread, so hop onto this connection's strand.
  void push(std::string data) override {
    asio::post(stream_.get_executor(),
               [self = this->shared_from_this(), d = std::move(data)]() { self->queue_chunk(d); });
  }
  void finish() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->end_stream(); });
  }

 private:
  static Stream make_stream(tcp::socket&& socket, asio::ssl::context* tls_context) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls_context);
    } else {
      return Stream(std::move(socket));
    }
  }

  // The TCP layer under TLS (or the stream itself): deadlines, shutdown and close act on it.
  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }

  const Limits& limits() const { return impl_.limits; }

  void wait_for_request() {
    if (impl_.stopping) return close_now();
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already here
    // An idle kept-alive connection costs no thread: wait for its next first byte.
    tcp_layer().expires_after(limits().idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) {
                                if (ec == beast::error::timeout) ++self->impl_.timed_out;
                                return self->close_now();
                              }
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits().max_header_bytes));
    parser_->body_limit(limits().max_body_bytes);
    // One deadline for the whole header, however slowly it trickles in.
    tcp_layer().expires_after(limits().header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec == bhttp::error::header_limit)
      return reject(431, "RequestHeaderFieldsTooLarge",
                    fmt::format("the request headers exceed {} bytes", limits().max_header_bytes));
    if (ec == bhttp::error::body_limit) return reject_too_large();
    if (ec == beast::error::timeout) {
      ++impl_.timed_out;
      return close_now();
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
      return close_now();
    if (ec) return reject(400, "BadRequest", "malformed HTTP request: " + ec.message());
    if (const auto length = parser_->content_length(); length && *length > limits().max_body_bytes)
      return reject_too_large();
    const auto& head = parser_->get();
    if (iequals(str(head[bhttp::field::expect]), "100-continue")) {
      write_ = "HTTP/1.1 100 Continue\r\n\r\n";
      tcp_layer().expires_after(limits().write_timeout);
      return asio::async_write(stream_, asio::buffer(write_),
                               [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                                 if (wec) return self->close_now();
                                 self->read_body();
                               });
    }
    if (parser_->is_done()) return dispatch();
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return dispatch();
    tcp_layer().expires_after(limits().body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec == bhttp::error::body_limit) return self->reject_too_large();
      if (ec == beast::error::timeout) {
        ++self->impl_.timed_out;
        return self->close_now();
      }
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset)
        return self->close_now();
      if (ec) return self->reject(400, "BadRequest", "malformed HTTP request body: " + ec.message());
      self->dispatch();
    });
  }

  void dispatch() {
    auto message = parser_->release();
    parser_.reset();
    const bool keep_alive = message.keep_alive() && !impl_.stopping;
    Request req;
    req.method = str(message.method_string());
    req.target = str(message.target());
    req.remote = remote_;
    for (const auto& field : message) req.headers.emplace_back(str(field.name_string()), str(field.value()));
    req.body = std::move(message.body());
    std::string raw_path;
    split_target(req.target, raw_path, req.path, req.query);
    if (raw_path.empty() || raw_path.front() != '/')
      return reject(400, "BadRequest", "the request target must be a path starting with '/'");

    bool path_known = false;
    auto matched = impl_.router.match(req.method, raw_path, path_known);
    if (!matched) {
      Response res;
      res.content_type = "application/json";
      res.status = path_known ? 405 : 404;
      res.body = path_known ? error_body(405, "MethodNotAllowed", req.method + " is not allowed on " + req.path)
                            : error_body(404, "NotFound", "no such path: " + req.path);
      return respond(std::move(res), keep_alive);
    }
    req.path_params = std::move(matched->params);
    const auto* route = &impl_.routes[matched->route];
    // No read is pending while a handler runs; a pipelined request waits in the buffer.
    tcp_layer().expires_never();
    if (route->dispatch == Dispatch::Inline) {
      Response res;
      run_handler(*route, req, res);
      return respond(std::move(res), keep_alive);
    }
    asio::post(*impl_.workers, [self = this->shared_from_this(), route, req = std::move(req), keep_alive]() mutable {
      Response res;
      run_handler(*route, req, res);
      asio::post(self->stream_.get_executor(),
                 [self, res = std::move(res), keep_alive]() mutable { self->respond(std::move(res), keep_alive); });
    });
  }

  static void run_handler(const HttpServer::Impl::Route& route, const Request& req, Response& res) {
    try {
      route.handler(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
      res = Response{};
      res.status = 500;
      res.content_type = "application/json";
      res.body = error_body(500, "InternalError", "the request could not be completed");
    }
  }

  // How the body after the head is delimited: a whole body of known length, or a stream of chunks.
  enum class Framing { ContentLength, Chunked };

  static std::string head(const Response& res, bool keep_alive, Framing framing) {
    std::string out =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\n", res.status, reason_phrase(res.status), res.content_type);
    for (const auto& [k, v] : res.headers) {
      // A header value with CR or LF would let a handler's input forge headers.
      if (k.find_first_of("\r\n:") != std::string::npos || v.find_first_of("\r\n") != std::string::npos) continue;
      out += k;
      out += ": ";
      out += v;
      out += "\r\n";
    }
    if (framing == Framing::Chunked)
      out += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
    else
      out += fmt::format("Content-Length: {}\r\n", res.body.size());
    if (!keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    return out;
  }

  void respond(Response res, bool keep_alive) {
    if (impl_.stopping) keep_alive = false;
    if (res.stream) return start_stream(std::move(res));
    write_ = head(res, keep_alive, Framing::ContentLength);
    write_ += res.body;
    tcp_layer().expires_after(limits().write_timeout);
    asio::async_write(stream_, asio::buffer(write_),
                      [self = this->shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                        if (ec) {
                          if (ec == beast::error::timeout) ++self->impl_.timed_out;
                          return self->close_now();
                        }
                        if (!keep_alive) return self->linger_close();
                        self->write_.clear();
                        self->wait_for_request();
                      });
  }

  void reject_too_large() {
    reject(413, "RequestEntityTooLarge", fmt::format("the request body exceeds {} bytes", limits().max_body_bytes));
  }

  void reject(int status, std::string_view reason, const std::string& message) {
    ++impl_.rejected;
    parser_.reset();
    Response res;
    res.status = status;
    res.content_type = "application/json";
    res.body = error_body(status, reason, message);
    respond(std::move(res), false);
  }

  // After an answer that ends the connection while the client may still be sending (a 413): stop
  // writing, read and drop what arrives for a moment, then close, so the client sees the answer
  // instead of a reset.
  void linger_close() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_layer().expires_after(std::chrono::seconds(2));
    drain();
  }

  void drain() {
    if (drained_ > 4 * limits().max_body_bytes) return close_now();
    scratch_.resize(64 * 1024);
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close_now();
                              self->drained_ += n;
                              self->drain();
                            });
  }

  void close_now() {
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().close();
    if (event_stream_) end_stream_now();
  }

  // ---- streamed answers ----

  void start_stream(Response res) {
    event_stream_ = std::move(res.stream);
    ++impl_.streams;
    backlog_.push_back(head(res, /*keep_alive=*/true, Framing::Chunked));
    tcp_layer().expires_never();
    event_stream_->attach(std::weak_ptr<EventStream::Sink>(this->shared_from_this()));
    watch_for_hangup();
    write_next();
  }

  // The client sends nothing on a stream; a read that completes means it closed (or misbehaves).
  void watch_for_hangup() {
    scratch_.resize(1024);
    stream_.async_read_some(asio::buffer(scratch_), [self = this->shared_from_this()](beast::error_code, std::size_t) {
      self->end_stream_now();
    });
  }

  void queue_chunk(const std::string& data) {
    if (!event_stream_ || stream_ending_ || data.empty()) return;
    backlog_bytes_ += data.size();
    if (backlog_bytes_ > limits().max_stream_backlog) {
      spdlog::warn("http: event stream to {} dropped: the client reads too slowly", remote_);
      return end_stream_now();
    }
    backlog_.push_back(fmt::format("{:x}\r\n", data.size()) + data + "\r\n");
    if (!writing_) write_next();
  }

  void end_stream() {
    if (!event_stream_ || stream_ending_) return;
    stream_ending_ = true;
    backlog_.emplace_back("0\r\n\r\n");
    if (!writing_) write_next();
  }

  void end_stream_now() {
    if (!event_stream_) return;
    auto es = std::move(event_stream_);
    event_stream_.reset();
    --impl_.streams;
    es->detach();
    backlog_.clear();
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_layer().close();
  }

  void write_next() {
    if (backlog_.empty()) {
      if (stream_ending_) end_stream_now();
      return;
    }
    writing_ = true;
    write_ = std::move(backlog_.front());
    backlog_.pop_front();
    tcp_layer().expires_after(limits().write_timeout);
    asio::async_write(stream_, asio::buffer(write_),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                        self->writing_ = false;
                        self->backlog_bytes_ -= std::min(self->backlog_bytes_, n);
                        if (ec) {
                          if (ec == beast::error::timeout) ++self->impl_.timed_out;
                          return self->end_stream_now();
                        }
                        self->tcp_layer().expires_never();
                        self->write_next();
                      });
  }

  std::shared_ptr<asio::ssl::context> tls_context_;  // before the stream: it outlives it
  Stream stream_;
  HttpServer::Impl& impl_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string write_;
  std::vector<char> scratch_;
  std::size_t drained_ = 0;
  std::shared_ptr<EventStream> event_stream_;
  std::deque<std::string> backlog_;
  std::size_t backlog_bytes_ = 0;
  bool writing_ = false;
  bool stream_ending_ = false;
};

void HttpServer::Impl::accept() {
  acceptor->async_accept(asio::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor->is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE/ENFILE) and the like: try again shortly instead of spinning.
      spdlog::warn("http: accept failed: {}", ec.message());
      accept_retry->expires_after(std::chrono::milliseconds(50));
      accept_retry->async_wait([this](beast::error_code) {
        if (!stopping) accept();
      });
      return;
    }
    if (open.load() >= limits.max_connections) {
      ++refused_over_cap;
      static constexpr std::string_view kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
          "Connection: close\r\n\r\ntoo many connections\n";
      beast::error_code ignored;
      socket.non_blocking(true, ignored);
      socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ignored);
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
    } else {
      ++accepted;
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // small answers: never wait for a delayed ACK
      if (tls) {
        // Looked up per connection: a rotated certificate is used from the next connection on.
        std::make_shared<Session<TlsStream>>(std::move(socket), *this, tls->current())->start();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(std::move(socket), *this)->start();
      }
    }
    accept();
  });
}

HttpServer::HttpServer(Limits limits) : impl_(std::make_unique<Impl>(limits)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, std::string_view pattern, Handler handler, Dispatch dispatch) {
  impl_->router.add(std::move(method), pattern);
  impl_->routes.push_back({std::move(handler), dispatch});
}

void HttpServer::use_tls(std::shared_ptr<TlsCertificates> certificates) { impl_->tls = std::move(certificates); }

int HttpServer::listen(const std::string& host, int port) {
  Impl& p = *impl_;
  p.ioc.emplace(1);
  p.acceptor.emplace(*p.ioc);
  p.accept_retry.emplace(*p.ioc);
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, static_cast<unsigned short>(port));
  } else {
    tcp::resolver resolver(*p.ioc);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) throw RuntimeError("cannot resolve " + host + ": " + ec.message());
    endpoint = results.begin()->endpoint();
  }
  p.acceptor->open(endpoint.protocol(), ec);
  if (!ec) p.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p.acceptor->bind(endpoint, ec);
  if (!ec) p.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw RuntimeError(fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
  const int bound = p.acceptor->local_endpoint().port();
  p.workers.emplace(static_cast<std::size_t>(std::max(1, p.limits.worker_threads)));
  p.accept();
  p.running = true;
  p.io_thread = std::thread([&p] {
    // A handler that throws must not take the listener down with it.
    while (true) {
      try {
        p.ioc->run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: {}", e.what());
      }
    }
  });
  return bound;
}

void HttpServer::stop() {
  Impl& p = *impl_;
  if (!p.running) return;
  p.running = false;
  p.stopping = true;
  asio::post(*p.ioc, [&p] {
    beast::error_code ignored;
    p.acceptor->close(ignored);
    p.accept_retry->cancel();
  });
  p.workers->stop();
  p.workers->join();
  p.ioc->stop();
  if (p.io_thread.joinable()) p.io_thread.join();
  // Destroying the pool's and then the context's pending work destroys each connection, while the
  // context its sockets belong to still exists.
  p.workers.reset();
  p.accept_retry.reset();
  p.acceptor.reset();
  p.ioc.reset();
}

ServerStats HttpServer::stats() const {
  const Impl& p = *impl_;
  return {p.accepted.load(), p.refused_over_cap.load(),      p.timed_out.load(), p.rejected.load(), p.open.load(),
          p.streams.load(),  p.tls_handshake_failures.load()};
}

}  // namespace kjq::server::http
