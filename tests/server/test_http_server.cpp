// The event-driven listener of kjq serve, over real loopback sockets, as a hostile client would
// use it: slow headers, idle connections, pipelining, oversized and chunked bodies, streams.
#include "server/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/raw_client.hpp"

namespace kjq::server::http {
namespace {

using test::Answer;
using test::answers_in;
using test::ask;
using test::has_answers;
using test::RawClient;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class HttpServerFixture : public ::testing::Test {
 protected:
  void start(Limits limits = {}) {
    server_ = std::make_unique<HttpServer>(limits);
    server_->route(
        "GET", "/healthz", [](const Request&, Response& res) { res.body = "ok\n"; }, Dispatch::Inline);
    server_->route("GET", "/items/{}", [](const Request& req, Response& res) {
      res.body = req.path_params.at(0) + "|" + req.param("a") + "|" + req.param("b") + "|" +
                 (req.has_param("flag") ? "flag" : "-");
    });
    server_->route("POST", "/echo", [this](const Request& req, Response& res) {
      ++handled_;
      res.status = 202;
      res.set_header("X-Length", std::to_string(req.body.size()));
      res.body = req.body;
    });
    server_->route("GET", "/slow", [](const Request&, Response& res) {
      std::this_thread::sleep_for(300ms);
      res.body = "slept";
    });
    server_->route("GET", "/throw", [](const Request&, Response&) -> void { throw std::runtime_error("boom"); });
    server_->route("GET", "/stream", [this](const Request&, Response& res) {
      res.content_type = "text/event-stream";
      res.stream = std::make_shared<EventStream>();
      res.stream->on_close([this] { ++streams_closed_; });
      std::lock_guard lock(mu_);
      streams_.push_back(res.stream);
    });
    port_ = server_->listen("127.0.0.1", 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<int> handled_{0};
  std::atomic<int> streams_closed_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<EventStream>> streams_;
};

TEST_F(HttpServerFixture, RoutesDecodePathSegmentsAndQuery) {
  start();
  auto a = ask(port_, "GET /items/j%2D1?a=x%20y&b=1+2&flag HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "j-1|x y|1 2|flag");
  auto missing = ask(port_, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"reason\":\"NotFound\""), std::string::npos) << missing.body;
  EXPECT_EQ(ask(port_, "DELETE /items/x HTTP/1.1\r\nHost: t\r\n\r\n").status, 405);
  EXPECT_EQ(ask(port_, "GET /items/ HTTP/1.1\r\nHost: t\r\n\r\n").status, 404);  // "{}" needs a segment
}

TEST_F(HttpServerFixture, PipelinedRequestsAllGetAnswersInOrder) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(
      c.send("GET /items/one HTTP/1.1\r\nHost: t\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
             "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
             "GET /items/four HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(c.read_until(has_answers(4), 5s)) << c.received();
  auto all = answers_in(c.received());
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].body, "one|||-");
  EXPECT_EQ(all[1].status, 202);
  EXPECT_EQ(all[1].body, "hello");
  EXPECT_EQ(all[2].body, "slept");
  EXPECT_EQ(all[3].body, "four|||-");
}

TEST_F(HttpServerFixture, DeclaredBodyOverTheLimitIsRefusedBeforeItIsRead) {
  Limits limits;
  limits.max_body_bytes = 1024;
  start(limits);
  RawClient c(port_);
  const auto t0 = Clock::now();
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
  ASSERT_TRUE(c.read_until(has_answers(1), 2s)) << "the server waited for 100 MB that never came";
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_EQ(answers_in(c.received()).front().status, 413);
  EXPECT_NE(c.received().find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.closed_by_peer(3s));
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerFixture, ChunkedBodyOverTheLimitIsRefusedAfterAtMostTheLimit) {
  Limits limits;
  limits.max_body_bytes = 64 * 1024;
  start(limits);
  RawClient c(port_);
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "1000\r\n" + std::string(0x1000, 'x') + "\r\n";
  // One chunk past the limit, then nothing more: a server that waited for the end of the body
  // (as one that counted only Content-Length would) never answers.
  for (std::size_t sent = 0; sent <= limits.max_body_bytes; sent += 0x1000) ASSERT_TRUE(c.send(chunk));
  ASSERT_TRUE(c.read_until(has_answers(1), 3s)) << c.received();
  EXPECT_EQ(answers_in(c.received()).front().status, 413);
  EXPECT_EQ(handled_.load(), 0);
  // A chunked body within the limit is taken whole.
  RawClient ok(port_);
  ASSERT_TRUE(
      ok.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  ASSERT_TRUE(ok.read_until(has_answers(1), 3s));
  EXPECT_EQ(answers_in(ok.received()).front().body, "abcde");
}

TEST_F(HttpServerFixture, ExpectContinueIsAnsweredOrRefusedUpFront) {
  Limits limits;
  limits.max_body_bytes = 1024;
  start(limits);
  RawClient c(port_);
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(c.read_until([](const std::string& b) { return b.find("100 Continue") != std::string::npos; }, 2s));
  ASSERT_TRUE(c.send("body"));
  ASSERT_TRUE(c.read_until([](const std::string& b) { return b.find("202 Accepted") != std::string::npos; }, 2s));
  auto big = ask(port_, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(big.status, 413);
}

TEST_F(HttpServerFixture, OversizedHeadersAndGarbageGetClearErrors) {
  Limits limits;
  limits.max_header_bytes = 2048;
  start(limits);
  EXPECT_EQ(ask(port_, "GET /items/x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n").status,
            431);
  EXPECT_EQ(ask(port_, "NOT HTTP AT ALL\r\n\r\n").status, 400);
  EXPECT_EQ(ask(port_, "GET /items/x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd").status, 400);
  EXPECT_EQ(ask(port_, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").status, 200);  // still serving
}

TEST_F(HttpServerFixture, HandlerExceptionsBecome500AndTheConnectionLivesOn) {
  start();
  RawClient c(port_);
  ASSERT_TRUE(c.send("GET /throw HTTP/1.1\r\nHost: t\r\n\r\nGET /items/after HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(c.read_until(has_answers(2), 3s));
  auto all = answers_in(c.received());
  EXPECT_EQ(all[0].status, 500);
  EXPECT_EQ(all[0].body.find("boom"), std::string::npos) << "internal messages stay in the log";
  EXPECT_EQ(all[1].body, "after|||-");
}

TEST_F(HttpServerFixture, HeaderDeadlineCutsOffAByteAtATimeClient) {
  Limits limits;
  limits.header_timeout = 400ms;
  start(limits);
  RawClient c(port_);
  const std::string request = "GET /items/x HTTP/1.1\r\nHost: t\r\nX-Padding: " + std::string(200, 'p') + "\r\n\r\n";
  const auto t0 = Clock::now();
  bool cut = false;
  for (char ch : request) {
    if (!c.send(std::string_view(&ch, 1)) || c.closed_by_peer(20ms)) {
      cut = true;
      break;
    }
  }
  EXPECT_TRUE(cut) << "a trickling client kept its connection for the whole header";
  EXPECT_LT(Clock::now() - t0, 2s);
  // The socket closes as the deadline passes; the count follows a moment later.
  for (int i = 0; i < 100 && server_->stats().timed_out == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_GE(server_->stats().timed_out, 1u);
}

TEST_F(HttpServerFixture, IdleAndSlowClientsLeaveHealthAndWorkersAnswering) {
  Limits limits;
  limits.worker_threads = 4;  // fewer workers than slow clients: they must not need one
  start(limits);
  std::vector<RawClient> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.emplace_back(port_);
    ASSERT_TRUE(idle.back().connected());
  }
  std::vector<RawClient> slow;
  for (int i = 0; i < 50; ++i) slow.emplace_back(port_);
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    const std::string header = "POST /echo HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    for (std::size_t i = 0; !done; ++i) {
      for (auto& s : slow) s.send(std::string_view(&header[std::min(i, header.size() - 1)], 1));
      std::this_thread::sleep_for(20ms);
    }
  });
  std::this_thread::sleep_for(300ms);  // every slow client is mid-header
  std::vector<double> worst;
  for (const char* request : {"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
                              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n{\"queue\":\"q-1\"}\n"}) {
    double max_ms = 0;
    for (int i = 0; i < 20; ++i) {
      const auto t0 = Clock::now();
      auto a = ask(port_, request, 1s);
      max_ms = std::max(max_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      ASSERT_GE(a.status, 200);
      ASSERT_LT(a.status, 300);
    }
    worst.push_back(max_ms);
  }
  done = true;
  trickle.join();
  EXPECT_LT(worst[0], 100.0) << "/healthz";
  EXPECT_LT(worst[1], 100.0) << "POST through a worker";
  EXPECT_GE(server_->stats().open, 1000u);
}

TEST_F(HttpServerFixture, ConnectionsBeyondTheCapAreRefusedWith503) {
  Limits limits;
  limits.max_connections = 3;
  start(limits);
  std::vector<RawClient> held;
  for (int i = 0; i < 3; ++i) held.emplace_back(port_);
  ASSERT_TRUE(held[0].send("GET /items/a HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(held[0].read_until(has_answers(1), 2s));  // all three are accepted by now
  RawClient extra(port_);
  EXPECT_TRUE(extra.read_until([](const std::string& b) { return b.find("503") != std::string::npos; }, 2s));
  EXPECT_TRUE(extra.closed_by_peer(2s));
  EXPECT_GE(server_->stats().refused_over_cap, 1u);
  held.clear();
  EXPECT_TRUE([&] {
    for (int i = 0; i < 100; ++i) {
      if (ask(port_, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").status == 200) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }()) << "closed connections free their places";
}

TEST_F(HttpServerFixture, EventStreamsHoldNoWorkerAndReachTheirClients) {
  Limits limits;
  limits.worker_threads = 2;
  start(limits);
  std::vector<RawClient> clients;
  for (int i = 0; i < 60; ++i) {
    clients.emplace_back(port_);
    ASSERT_TRUE(clients.back().send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  for (auto& c : clients)
    ASSERT_TRUE(c.read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }, 3s));
  EXPECT_NE(clients[0].received().find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(clients[0].received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_EQ(server_->stats().streams, 60u);
  // 60 open streams, 2 workers: a worker route still answers at once.
  const auto t0 = Clock::now();
  EXPECT_EQ(ask(port_, "GET /items/z HTTP/1.1\r\nHost: t\r\n\r\n").status, 200);
  EXPECT_LT(Clock::now() - t0, 500ms);
  {
    std::lock_guard lock(mu_);
    ASSERT_EQ(streams_.size(), 60u);
    for (auto& s : streams_) EXPECT_TRUE(s->send("data: hello\n\n"));
  }
  for (auto& c : clients)
    EXPECT_TRUE(
        c.read_until([](const std::string& b) { return b.find("d\r\ndata: hello\n\n\r\n") != std::string::npos; }, 3s))
        << c.received();
  // The client hangs up: the producer learns it from send() and from on_close.
  clients.erase(clients.begin(), clients.begin() + 10);
  EXPECT_TRUE([&] {
    for (int i = 0; i < 150 && streams_closed_ < 10; ++i) std::this_thread::sleep_for(20ms);
    return streams_closed_ == 10;
  }());
  // The producer ends its streams: the final chunk, then the connection closes. (All of them: the
  // order in which the server registered the 60 streams need not be the order of the clients.)
  {
    std::lock_guard lock(mu_);
    for (auto& s : streams_) s->close();
  }
  for (auto& c : clients) {
    EXPECT_TRUE(c.closed_by_peer(2s));
    EXPECT_NE(c.received().find("0\r\n\r\n"), std::string::npos);
  }
}

TEST_F(HttpServerFixture, AStreamReaderThatFallsBehindIsDropped) {
  Limits limits;
  limits.max_stream_backlog = 64 * 1024;
  start(limits);
  RawClient c(port_, 4096);
  ASSERT_TRUE(c.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::shared_ptr<EventStream> stream;
  for (int i = 0; i < 200 && !stream; ++i) {
    std::this_thread::sleep_for(10ms);
    std::lock_guard lock(mu_);
    if (!streams_.empty()) stream = streams_.front();
  }
  ASSERT_TRUE(stream);
  const std::string piece(8192, 'e');
  std::size_t sent = 0;
  const auto until = Clock::now() + 10s;
  while (stream->send(piece) && Clock::now() < until) {
    sent += piece.size();
    if (sent % (1 << 20) == 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(stream->closed());
  EXPECT_LT(sent, 64u << 20) << "the backlog of a client that never reads is bounded";
}

TEST_F(HttpServerFixture, StopClosesStreamsAndConnections) {
  start();
  RawClient idle(port_);
  RawClient streamer(port_);
  ASSERT_TRUE(streamer.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_TRUE(streamer.read_until([](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; }, 2s));
  server_->stop();
  EXPECT_EQ(streams_closed_.load(), 1);
  EXPECT_TRUE(idle.closed_by_peer(2s));
  EXPECT_TRUE(streamer.closed_by_peer(2s));
  std::lock_guard lock(mu_);
  EXPECT_FALSE(streams_.front()->send("late"));
}

}  // namespace
}  // namespace kjq::server::http

namespace kjq::server::http {
namespace {

TEST(HttpRouter, MatchesSegmentsInOrderAndTellsA405FromA404) {
  Router r;
  r.add("GET", "/api/v1/jobs");
  r.add("GET", "/api/v1/jobs/{}");
  r.add("POST", "/api/v1/jobs/{}/cancel");
  bool known = false;
  auto m = r.match("GET", "/api/v1/jobs/a%2Fb", known);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->route, 1u);
  EXPECT_EQ(m->params, std::vector<std::string>{"a/b"});  // decoded after splitting: "/" stays inside
  EXPECT_FALSE(r.match("GET", "/api/v1/jobs/x/cancel", known));
  EXPECT_TRUE(known);
  EXPECT_FALSE(r.match("GET", "/api/v1/nothing", known));
  EXPECT_FALSE(known);
  EXPECT_FALSE(r.match("GET", "/api/v1/jobs/", known));
}

TEST(HttpRouter, SplitTargetDecodesPathAndQuery) {
  std::string raw, path;
  std::vector<std::pair<std::string, std::string>> query;
  split_target("/a%20b?x=1+2&&y&z=%zz", raw, path, query);
  EXPECT_EQ(raw, "/a%20b");
  EXPECT_EQ(path, "/a b");
  EXPECT_EQ(query, (std::vector<std::pair<std::string, std::string>>{{"x", "1 2"}, {"y", ""}, {"z", "%zz"}}));
  EXPECT_EQ(percent_decode("%4", Plus::Literal), "%4");
  EXPECT_EQ(percent_decode("100%", Plus::Space), "100%");
}

}  // namespace
}  // namespace kjq::server::http
