#pragma once
// The live feed behind GET /api/v1/events: every job and queue change this process makes, as
// server-sent events (text/event-stream), to any number of open streams.
//
// Recent events stay in a ring, each with an id "<epoch>-<n>" (the epoch is the feed's start in
// milliseconds, so ids of an earlier process are recognised as such). A client that reconnects
// with Last-Event-ID gets what it missed; when that is no longer in the ring (or came from an
// earlier process) it gets a `reset` event instead, meaning: reload everything, then go on.
//
// One thread writes to the streams, never the code that publishes: publish() only appends to the
// ring. That thread sends whatever arrived since its last pass as one chunk, the same bytes to
// every stream (at most one pass per `min_flush_interval`), so 50 streams and 1,000 changes a
// second cost 50 writes per pass, not 50,000 a second. Streams that have had nothing for
// `heartbeat_interval` get a comment line, so proxies and clients see the connection alive.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/http_server.hpp"

namespace kjq::server {

struct ChangeFeedOptions {
  std::size_t ring_size = 16'384;  // events kept for resuming streams
  std::chrono::milliseconds heartbeat_interval{15'000};
  std::chrono::milliseconds min_flush_interval{20};
  std::chrono::milliseconds client_retry{2'000};  // the `retry:` hint sent to clients
};

struct ChangeFeedStats {
  std::uint64_t published = 0;
  std::uint64_t streams = 0;  // open now
  std::uint64_t resets = 0;   // resumes that could not be served from the ring
  std::uint64_t resumed = 0;  // resumes that were
};

class ChangeFeed {
 public:
  explicit ChangeFeed(ChangeFeedOptions options = {});
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Starts the writer thread; stop() ends every stream and joins it. Both idempotent.
  void start();
  void stop();

  // Appends an event (`type`: "job", "queue"; `json_data`: one line of JSON). Never blocks on a
  // stream. Thread-safe.
  void publish(const std::string& type, const std::string& json_data);

  // Takes a new stream: first `retry:` and, for `last_event_id`:
  //   ""          → a `ready` event carrying the current id (the point to resume from);
  //   resumable   → every event after it, in order;
  //   anything else (unknown, too old, another epoch, malformed) → a `reset` event.
  // Then every later event, until the stream closes.
  void subscribe(const std::shared_ptr<http::EventStream>& stream, const std::string& last_event_id);

  // The id of the newest event ("<epoch>-0" before the first).
  std::string current_id() const;
  ChangeFeedStats stats() const;

 private:
  struct Event {
    std::uint64_t n = 0;
    std::string text;  // formatted: "id: ...\nevent: ...\ndata: ...\n\n"
  };
  struct Subscriber {
    std::shared_ptr<http::EventStream> stream;
    std::uint64_t after = 0;  // it has had every event up to this one
  };
  void run();
  std::string id_of(std::uint64_t n) const;

  const ChangeFeedOptions options_;
  const std::int64_t epoch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> ring_;
  std::uint64_t head_ = 0;       // n of the newest event
  std::uint64_t delivered_ = 0;  // n up to which the writer has passed
  std::vector<Subscriber> subscribers_;
  bool stop_ = false;
  bool started_ = false;
  std::uint64_t resets_ = 0, resumed_ = 0;
  std::thread writer_;
};

// "id: <id>\nevent: <type>\ndata: <data>\n\n" with `data` split on newlines into data: lines (so a
// newline in it can never end the event early or forge another field).
std::string format_sse_event(const std::string& id, const std::string& type, const std::string& data);

}  // namespace kjq::server
