#pragma once
// The HTTP/1.1 listener of `kjq serve`, event-driven on Boost.Beast/Asio.
//
// Why not a thread per connection: a client that sends its headers a byte at a time, or just keeps
// a connection open, must cost a file descriptor and a few KiB, never a thread. One I/O thread
// reads and writes every connection; only a request that has fully arrived (headers and body,
// within their limits and deadlines) is handed to a small pool of worker threads, because its
// handler may block on the store. Pipelined requests are answered in order. A handler may answer
// with an event stream: the connection then stays open and the stream's writer pushes chunks from
// any thread, without holding a worker.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/http_router.hpp"

namespace kjq::server {
class TlsCertificates;
}

namespace kjq::server::http {

struct Request {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as sent: "/api/v1/jobs?limit=5"
  std::string path;                                          // percent-decoded, without the query: "/api/v1/jobs"
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // as sent
  std::vector<std::string> path_params;                      // the "{}" segments of the route, decoded
  std::string body;
  std::string remote;  // "127.0.0.1:53412"

  // Case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
  bool has_param(std::string_view name) const;
  // The first value of a query parameter; "" when absent.
  std::string param(std::string_view name) const;
};

class EventStream;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set by a handler that answers with a stream (e.g. text/event-stream): the status and headers
  // are sent with chunked transfer encoding, then whatever the stream's writer sends, until either
  // side closes. `body` is ignored.
  std::shared_ptr<EventStream> stream;

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// The writing end of a streamed answer. Thread-safe; outlives the connection harmlessly.
class EventStream {
 public:
  EventStream() = default;
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Queues `data` for the client. False when the stream is closed (the client went away, it read
  // too slowly and its backlog passed the limit, or the server is stopping): stop producing then.
  bool send(std::string data);
  // Ends the answer (the final chunk) and closes the connection.
  void close();
  bool closed() const;
  // Called once, from the I/O thread, when the stream ends for any reason.
  void on_close(std::function<void()> callback);

  // The connection's side (internal to the server).
  struct Sink {
    virtual ~Sink() = default;
    virtual void push(std::string data) = 0;
    virtual void finish() = 0;
  };
  void attach(std::weak_ptr<Sink> sink);
  void detach();

 private:
  mutable std::mutex mu_;
  std::weak_ptr<Sink> sink_;
  bool attached_ = false;
  bool closed_ = false;
  std::vector<std::string> early_;  // sent before the connection took the stream
  std::function<void()> on_close_;
};

using Handler = std::function<void(const Request&, Response&)>;

// Whether a handler may run on the I/O thread: only for answers that take microseconds and never
// block (a liveness probe must answer even when every worker waits on the store).
enum class Dispatch { Worker, Inline };

struct Limits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;  // chunked bodies too, counted while they arrive
  // From the first byte of a request to the end of its headers: a byte-a-second client is cut off.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // A kept-alive connection with no request in flight.
  std::chrono::milliseconds idle_timeout{120'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Beyond this many open connections, new ones are answered 503 and closed.
  std::size_t max_connections = 10'000;
  // Bytes queued for a slow event-stream reader before the stream is dropped.
  std::size_t max_stream_backlog = 4 * 1024 * 1024;
  int worker_threads = 16;
};

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t refused_over_cap = 0;  // connections refused by max_connections
  std::uint64_t timed_out = 0;         // header, body, idle or write deadline passed
  std::uint64_t rejected = 0;          // 400, 413, 431 answered by the transport itself
  std::uint64_t open = 0;
  std::uint64_t streams = 0;  // open event streams
  std::uint64_t tls_handshake_failures = 0;
};

class HttpServer {
 public:
  explicit HttpServer(Limits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is a path whose "{}" segments match one non-empty segment each, e.g.
  // "/api/v1/jobs/{}/cancel". Routes are matched in the order they were added.
  void route(std::string method, std::string_view pattern, Handler handler, Dispatch dispatch = Dispatch::Worker);

  // Every connection speaks TLS with the certificate `certificates` holds when it is accepted.
  // Call before listen().
  void use_tls(std::shared_ptr<TlsCertificates> certificates);

  // Binds (port 0: any free port) and starts serving. Returns the bound port. Throws
  // kjq::RuntimeError when the address cannot be bound.
  int listen(const std::string& host, int port);
  // Stops accepting, closes every connection and stream, and joins the threads. Idempotent.
  void stop();

  ServerStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kjq::server::http
