// The change feed behind GET /api/v1/events (server/change_feed.hpp), over a real listener and
// real sockets: what a new stream gets first, resuming with Last-Event-ID, the reset when that is
// no longer possible, heartbeats, many streams at once, and event text that tries to forge fields.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "server/change_feed.hpp"
#include "server/http_server.hpp"
#include "support/raw_client.hpp"

namespace {

using namespace kjq::server;
using namespace std::chrono_literals;
using kjq::test::RawClient;

struct SseEvent {
  std::string id, type, data;
};

// The body of a chunked answer so far (complete chunks only).
std::string dechunked(const std::string& bytes) {
  std::string out;
  std::size_t at = bytes.find("\r\n\r\n");
  if (at == std::string::npos) return out;
  at += 4;
  while (true) {
    const std::size_t eol = bytes.find("\r\n", at);
    if (eol == std::string::npos) break;
    const std::size_t size = std::stoul(bytes.substr(at, eol - at), nullptr, 16);
    if (size == 0 || eol + 2 + size + 2 > bytes.size()) break;
    out.append(bytes, eol + 2, size);
    at = eol + 2 + size + 2;
  }
  return out;
}

// The events (comments and retry lines skipped) of an event-stream body.
std::vector<SseEvent> events_in(const std::string& body) {
  std::vector<SseEvent> out;
  SseEvent e;
  std::size_t at = 0;
  while (true) {
    const std::size_t eol = body.find('\n', at);
    if (eol == std::string::npos) break;
    const std::string line = body.substr(at, eol - at);
    at = eol + 1;
    if (line.empty()) {
      if (!e.type.empty()) out.push_back(e);
      e = {};
    } else if (line.rfind("id: ", 0) == 0) {
      e.id = line.substr(4);
    } else if (line.rfind("event: ", 0) == 0) {
      e.type = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      e.data += (e.data.empty() ? "" : "\n") + line.substr(6);
    }
  }
  return out;
}

class ChangeFeedFixture : public ::testing::Test {
 protected:
  void start(ChangeFeedOptions options = {}) {
    feed_ = std::make_unique<ChangeFeed>(options);
    feed_->start();
    server_.route("GET", "/events", [this](const http::Request& req, http::Response& res) {
      res.content_type = "text/event-stream";
      res.stream = std::make_shared<http::EventStream>();
      feed_->subscribe(res.stream, req.header("Last-Event-ID"));
    });
    port_ = server_.listen("127.0.0.1", 0);
  }
  void TearDown() override {
    if (feed_) feed_->stop();
    server_.stop();
  }
  RawClient open(const std::string& last_event_id = "") {
    RawClient c(port_);
    std::string req = "GET /events HTTP/1.1\r\nHost: t\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    EXPECT_TRUE(c.send(req + "\r\n"));
    return c;
  }
  // Reads until the stream holds `n` events (ready/reset included).
  static std::vector<SseEvent> read_events(RawClient& c, std::size_t n, std::chrono::milliseconds timeout = 3s) {
    c.read_until([n](const std::string& b) { return events_in(dechunked(b)).size() >= n; }, timeout);
    return events_in(dechunked(c.received()));
  }
  void wait_for_streams(std::size_t n) {
    for (int i = 0; i < 300 && feed_->stats().streams < n; ++i) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(feed_->stats().streams, n);
  }

  http::HttpServer server_;
  std::unique_ptr<ChangeFeed> feed_;
  int port_ = 0;
};

TEST(ChangeFeedFormat, NewlinesInDataBecomeDataLinesAndCannotForgeFields) {
  EXPECT_EQ(format_sse_event("1-2", "job", "{\"a\":1}"), "id: 1-2\nevent: job\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(format_sse_event("1-3", "job", "x\nid: 9\r\nevent: evil\rretry: 1\n"),
            "id: 1-3\nevent: job\ndata: x\ndata: id: 9\ndata: event: evil\ndata: retry: 1\ndata: \n\n");
  auto parsed = events_in(format_sse_event("1-3", "job", "a\n\nid: 7\nevent: forged\n"));
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].id, "1-3");
  EXPECT_EQ(parsed[0].type, "job");
}

TEST_F(ChangeFeedFixture, ANewStreamGetsReadyWithTheCurrentIdThenEveryLaterEventInOrder) {
  start();
  feed_->publish("job", "{\"n\":0}");  // before the stream: not sent to it
  auto c = open();
  auto first = read_events(c, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].type, "ready");
  EXPECT_EQ(first[0].id, feed_->current_id());
  EXPECT_NE(c.received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(dechunked(c.received()).find("retry: 2000\n"), std::string::npos);
  for (int i = 1; i <= 5; ++i) feed_->publish(i % 2 ? "job" : "queue", "{\"n\":" + std::to_string(i) + "}");
  auto all = read_events(c, 6);
  ASSERT_EQ(all.size(), 6u) << c.received();
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(all[i].data, "{\"n\":" + std::to_string(i) + "}");
    EXPECT_EQ(all[i].type, i % 2 ? "job" : "queue");
  }
  EXPECT_EQ(all[5].id, feed_->current_id());
}

TEST_F(ChangeFeedFixture, ResumingWithLastEventIdSendsExactlyWhatWasMissed) {
  start();
  for (int i = 1; i <= 3; ++i) feed_->publish("job", "{\"n\":" + std::to_string(i) + "}");
  auto c1 = open();
  const std::string seen = read_events(c1, 1)[0].id;  // the client saw up to here, then dropped
  for (int i = 4; i <= 8; ++i) feed_->publish("job", "{\"n\":" + std::to_string(i) + "}");
  // Let the writer pass, so resume covers both the ring and what the writer sends next.
  std::this_thread::sleep_for(50ms);
  feed_->publish("job", "{\"n\":9}");
  auto c2 = open(seen);
  auto got = read_events(c2, 6);
  ASSERT_EQ(got.size(), 6u) << c2.received();
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k].data, "{\"n\":" + std::to_string(k + 4) + "}");
  EXPECT_EQ(feed_->stats().resumed, 1u);
}

TEST_F(ChangeFeedFixture, AnIdTooOldForeignOrMalformedGetsAResetToReload) {
  ChangeFeedOptions o;
  o.ring_size = 4;
  start(o);
  auto c0 = open();
  const std::string start_id = read_events(c0, 1)[0].id;
  for (int i = 1; i <= 10; ++i) feed_->publish("job", "{\"n\":" + std::to_string(i) + "}");
  // (A burst larger than the ring within one pass reaches c0 as a reset and the newest events.)
  ASSERT_TRUE(
      c0.read_until([](const std::string& b) { return dechunked(b).find("{\"n\":10}") != std::string::npos; }, 3s));
  for (const std::string& id : {start_id, std::string("12345-1"), std::string("garbage"), std::string("-"),
                                start_id.substr(0, start_id.find('-')) + "-999999", std::string(2000, '9')}) {
    auto c = open(id);
    auto got = read_events(c, 1);
    ASSERT_EQ(got.size(), 1u) << id;
    EXPECT_EQ(got[0].type, "reset") << id;
    EXPECT_EQ(got[0].id, feed_->current_id()) << "the reset carries the id to go on from";
    EXPECT_NE(got[0].data.find("\"reason\""), std::string::npos);
  }
  // Within the ring: resumed, not reset.
  auto ok = open(start_id.substr(0, start_id.find('-')) + "-8");
  auto got = read_events(ok, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, "{\"n\":9}");
  EXPECT_EQ(got[1].data, "{\"n\":10}");
}

TEST_F(ChangeFeedFixture, IdleStreamsGetHeartbeats) {
  ChangeFeedOptions o;
  o.heartbeat_interval = 50ms;
  start(o);
  auto c = open();
  EXPECT_TRUE(c.read_until(
      [](const std::string& b) {
        const std::string body = dechunked(b);
        return body.find(": heartbeat\n\n") != body.rfind(": heartbeat\n\n");  // two of them
      },
      3s))
      << c.received();
}

TEST_F(ChangeFeedFixture, FiftyStreamsEachGetEveryEventOfABurstInOrder) {
  start();
  std::vector<RawClient> clients;
  for (int i = 0; i < 50; ++i) clients.push_back(open());
  for (auto& c : clients) ASSERT_EQ(read_events(c, 1).size(), 1u);
  wait_for_streams(50);
  for (int i = 1; i <= 1000; ++i) feed_->publish("job", "{\"n\":" + std::to_string(i) + "}");
  for (auto& c : clients) {
    auto got = read_events(c, 1001, 5s);
    ASSERT_EQ(got.size(), 1001u);
    for (int i = 1; i <= 1000; ++i) ASSERT_EQ(got[i].data, "{\"n\":" + std::to_string(i) + "}");
  }
  // Clients that hang up are dropped from the feed.
  clients.clear();
  feed_->publish("job", "{}");
  for (int i = 0; i < 300 && feed_->stats().streams > 0; ++i) {
    std::this_thread::sleep_for(10ms);
    feed_->publish("job", "{}");
  }
  EXPECT_EQ(feed_->stats().streams, 0u);
}

TEST_F(ChangeFeedFixture, StopEndsEveryStream) {
  start();
  auto c = open();
  read_events(c, 1);
  wait_for_streams(1);
  feed_->stop();
  EXPECT_TRUE(c.closed_by_peer(2s));
}

}  // namespace
