// bench/events_fanout: the live feed of `kjq serve` (GET /api/v1/events) under load. The real
// HTTP listener (server/http_server.hpp) and change feed (server/change_feed.hpp) in this
// process; S clients on real loopback sockets, each on its own thread reading text/event-stream;
// one publisher putting R job changes a second into the feed for D seconds (each event carries
// its publish time). Every client checks it got every event once and in order, and measures each
// event's delay from publish to its arrival. Prints one JSON object: per-event delay quantiles
// over all clients, the worst client's p99 and max, events lost, and the process's CPU time.
// Usage: events_fanout [--streams 50] [--rate 1000] [--seconds 10]
//
// With --url http://HOST:PORT --token T it measures a running `kjq serve` instead: S streams on
// its GET /api/v1/events for --seconds, each event's delay from the "at" time the server
// stamped on it (the store write, wall clock, same machine) to its arrival, the changes per
// second the streams saw, and whether every stream saw the same number of events. Run it beside
// a load such as bench/serve/run.sh (EVENT_STREAMS=50 does that).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "server/change_feed.hpp"
#include "server/http_server.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

struct ClientResult {
  std::vector<std::int64_t> delays_us;
  std::int64_t expected_next = 1;
  std::int64_t out_of_order = 0;
};

// Reads the stream until `total` events have arrived or the deadline passes. Only whole
// "data: {...}" lines are looked at: the feed writes each event whole into one chunk, so the
// chunk-size lines between chunks never cut one.
void client(int port, std::int64_t total, ClientResult& out, std::atomic<int>& ready, Clock::time_point deadline) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    return;
  }
  const std::string req = "GET /events HTTP/1.1\r\nHost: bench\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return;
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string buf;
  char chunk[65536];
  bool counted_ready = false;
  std::int64_t got = 0;
  while (got < total && Clock::now() < deadline) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) continue;
    const std::int64_t arrived = now_us();
    buf.append(chunk, static_cast<std::size_t>(n));
    if (!counted_ready && buf.find("event: ready") != std::string::npos) {
      counted_ready = true;
      ++ready;
    }
    std::size_t at = 0;
    while (true) {
      const std::size_t start = buf.find("data: {\"n\":", at);
      if (start == std::string::npos) break;
      const std::size_t end = buf.find('\n', start);
      if (end == std::string::npos) break;
      // data: {"n":123,"t":456}
      long long seq = 0, sent = 0;
      if (std::sscanf(buf.c_str() + start, "data: {\"n\":%lld,\"t\":%lld}", &seq, &sent) == 2) {
        if (seq != out.expected_next) ++out.out_of_order;
        out.expected_next = seq + 1;
        out.delays_us.push_back(arrived - sent);
        ++got;
      }
      at = end + 1;
    }
    buf.erase(0, at);
  }
  close(fd);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ServeResult {
  std::vector<std::int64_t> delays_ms;
  std::int64_t first_ms = 0, last_ms = 0;
};

// One stream on a running serve until `until`: the delay of every job event from its "at".
void serve_client(int port, const std::string& token, ServeResult& out, Clock::time_point until) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    return;
  }
  const std::string req = "GET /api/v1/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return;
  timeval tv{0, 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string buf;
  char chunk[65536];
  while (Clock::now() < until) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) continue;
    const std::int64_t arrived = wall_ms();
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t at = 0;
    while (true) {
      const std::size_t start = buf.find("event: job\ndata: {", at);
      if (start == std::string::npos) break;
      const std::size_t end = buf.find('\n', start + 11);
      if (end == std::string::npos) break;
      const std::size_t stamp = buf.find("\"at\":", start);
      if (stamp != std::string::npos && stamp < end) {
        const long long sent = std::atoll(buf.c_str() + stamp + 5);
        out.delays_ms.push_back(arrived - sent);
        if (out.first_ms == 0) out.first_ms = arrived;
        out.last_ms = arrived;
      }
      at = end + 1;
    }
    buf.erase(0, at);
  }
  close(fd);
}

int measure_serve(const std::string& url, const std::string& token, int streams, int seconds) {
  const auto colon = url.rfind(':');
  const int port = std::atoi(url.c_str() + colon + 1);
  std::vector<ServeResult> results(static_cast<std::size_t>(streams));
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> clients;
  for (int i = 0; i < streams; ++i)
    clients.emplace_back(serve_client, port, token, std::ref(results[static_cast<std::size_t>(i)]), until);
  for (auto& t : clients) t.join();
  std::vector<std::int64_t> all;
  std::size_t fewest = SIZE_MAX, most = 0;
  std::int64_t first = INT64_MAX, last = 0;
  for (auto& r : results) {
    fewest = std::min(fewest, r.delays_ms.size());
    most = std::max(most, r.delays_ms.size());
    all.insert(all.end(), r.delays_ms.begin(), r.delays_ms.end());
    if (r.first_ms) first = std::min(first, r.first_ms);
    last = std::max(last, r.last_ms);
  }
  const double span = last > first ? static_cast<double>(last - first) / 1000.0 : 0;
  auto q = [&](double p) {
    if (all.empty()) return 0.0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(all.size() - 1));
    std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
    return static_cast<double>(all[k]);
  };
  std::printf(
      "{\"streams\": %d, \"events_per_stream\": {\"fewest\": %zu, \"most\": %zu}, \"changes_per_s\": %.0f, "
      "\"delay_ms\": {\"p50\": %.0f, \"p99\": %.0f, \"max\": %.0f}}\n",
      streams, fewest, most, span > 0 ? static_cast<double>(most) / span : 0.0, q(0.5), q(0.99), q(1.0));
  return fewest == most ? 0 : 1;
}

double quantile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int streams = 50, rate = 1000, seconds = 10;
  std::string url, token;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--streams")
      streams = v;
    else if (k == "--rate")
      rate = v;
    else if (k == "--seconds")
      seconds = v;
    else if (k == "--url")
      url = argv[i + 1];
    else if (k == "--token")
      token = argv[i + 1];
  }
  if (!url.empty()) return measure_serve(url, token, streams, seconds);
  kjq::server::http::Limits limits;
  limits.worker_threads = 4;
  kjq::server::http::HttpServer server(limits);
  kjq::server::ChangeFeed feed;
  feed.start();
  server.route("GET", "/events", [&feed](const kjq::server::http::Request& req, kjq::server::http::Response& res) {
    res.content_type = "text/event-stream";
    res.stream = std::make_shared<kjq::server::http::EventStream>();
    feed.subscribe(res.stream, req.header("Last-Event-ID"));
  });
  const int port = server.listen("127.0.0.1", 0);

  const std::int64_t total = static_cast<std::int64_t>(rate) * seconds;
  std::vector<ClientResult> results(static_cast<std::size_t>(streams));
  std::atomic<int> ready{0};
  const auto deadline = Clock::now() + std::chrono::seconds(seconds + 15);
  std::vector<std::thread> clients;
  for (int i = 0; i < streams; ++i)
    clients.emplace_back(client, port, total, std::ref(results[static_cast<std::size_t>(i)]), std::ref(ready),
                         deadline);
  while (ready < streams && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  const double cpu0 = cpu_seconds();
  const auto start = Clock::now();
  // Evenly spaced publishes: event k goes out at start + k/rate.
  for (std::int64_t k = 1; k <= total; ++k) {
    const auto due = start + std::chrono::microseconds(k * 1'000'000 / rate);
    std::this_thread::sleep_until(due);
    feed.publish("job", "{\"n\":" + std::to_string(k) + ",\"t\":" + std::to_string(now_us()) + "}");
  }
  for (auto& t : clients) t.join();
  const double cpu = cpu_seconds() - cpu0;
  feed.stop();
  server.stop();

  std::vector<std::int64_t> all;
  std::int64_t lost = 0, out_of_order = 0;
  double worst_p99 = 0, worst_max = 0;
  for (auto& r : results) {
    lost += total - static_cast<std::int64_t>(r.delays_us.size());
    out_of_order += r.out_of_order;
    all.insert(all.end(), r.delays_us.begin(), r.delays_us.end());
    worst_p99 = std::max(worst_p99, quantile(r.delays_us, 0.99));
    worst_max = std::max(worst_max, quantile(r.delays_us, 1.0));
  }
  std::printf(
      "{\"streams\": %d, \"rate_per_s\": %d, \"seconds\": %d, \"events_per_stream\": %lld, \"lost\": %lld, "
      "\"out_of_order\": %lld, \"delay_ms\": {\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}, "
      "\"worst_stream_ms\": {\"p99\": %.2f, \"max\": %.2f}, \"cpu_seconds_per_second\": %.3f}\n",
      streams, rate, seconds, static_cast<long long>(total), static_cast<long long>(lost),
      static_cast<long long>(out_of_order), quantile(all, 0.5), quantile(all, 0.99), quantile(all, 1.0), worst_p99,
      worst_max, cpu / seconds);
  return lost == 0 && out_of_order == 0 ? 0 : 1;
}
