#include "server/change_feed.hpp"

#include <charconv>
#include <optional>

#include "util/clock.hpp"

namespace kjq::server {

std::string format_sse_event(const std::string& id, const std::string& type, const std::string& data) {
  std::string out;
  out.reserve(id.size() + type.size() + data.size() + 32);
  out += "id: " + id + "\nevent: " + type + "\n";
  // Any of CR, LF, CRLF ends a line in an event stream: each piece becomes its own data: line.
  std::size_t start = 0;
  while (true) {
    const std::size_t end = data.find_first_of("\r\n", start);
    out += "data: ";
    out.append(data, start, end == std::string::npos ? std::string::npos : end - start);
    out += '\n';
    if (end == std::string::npos) break;
    start = end + (data.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  out += '\n';
  return out;
}

ChangeFeed::ChangeFeed(ChangeFeedOptions options) : options_(options), epoch_(now_ms()) {}

ChangeFeed::~ChangeFeed() { stop(); }

void ChangeFeed::start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) return;
  started_ = true;
  writer_ = std::thread([this] { run(); });
}

void ChangeFeed::stop() {
  std::vector<Subscriber> subs;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
    subs.swap(subscribers_);
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  for (auto& s : subs) s.stream->close();
}

std::string ChangeFeed::id_of(std::uint64_t n) const { return std::to_string(epoch_) + "-" + std::to_string(n); }

std::string ChangeFeed::current_id() const {
  std::lock_guard lock(mu_);
  return id_of(head_);
}

ChangeFeedStats ChangeFeed::stats() const {
  std::lock_guard lock(mu_);
  return {head_, subscribers_.size(), resets_, resumed_};
}

void ChangeFeed::publish(const std::string& type, const std::string& json_data) {
  {
    std::lock_guard lock(mu_);
    const std::uint64_t n = ++head_;
    ring_.push_back({n, format_sse_event(id_of(n), type, json_data)});
    while (ring_.size() > options_.ring_size) ring_.pop_front();
  }
  cv_.notify_one();
}

namespace {
// "<epoch>-<n>" → n when the epoch is `epoch`; nullopt otherwise.
std::optional<std::uint64_t> event_number(const std::string& id, std::int64_t epoch) {
  const auto dash = id.find('-');
  if (dash == std::string::npos) return std::nullopt;
  std::int64_t e = 0;
  std::uint64_t n = 0;
  const char* end = id.data() + id.size();
  auto [p1, ec1] = std::from_chars(id.data(), id.data() + dash, e);
  if (ec1 != std::errc() || p1 != id.data() + dash || e != epoch) return std::nullopt;
  auto [p2, ec2] = std::from_chars(id.data() + dash + 1, end, n);
  if (ec2 != std::errc() || p2 != end || dash + 1 == id.size()) return std::nullopt;
  return n;
}
}  // namespace

void ChangeFeed::subscribe(const std::shared_ptr<http::EventStream>& stream, const std::string& last_event_id) {
  std::string first = "retry: " + std::to_string(options_.client_retry.count()) + "\n\n";
  std::lock_guard lock(mu_);
  if (stop_) {
    stream->close();
    return;
  }
  // Everything up to head_ is sent here, under the lock; the writer sends this stream only what
  // comes after (Subscriber::after), so nothing is lost or sent twice.
  if (last_event_id.empty()) {
    first += format_sse_event(id_of(head_), "ready", "{}");
  } else {
    const auto n = event_number(last_event_id, epoch_);
    const std::uint64_t oldest = ring_.empty() ? head_ + 1 : ring_.front().n;
    if (n && *n <= head_ && *n + 1 >= oldest) {
      ++resumed_;
      for (std::uint64_t k = *n + 1; k <= head_; ++k) first += ring_[k - oldest].text;
    } else {
      ++resets_;
      const char* why =
          n ? (*n > head_ ? "the event id is unknown to this server" : "the events since that id are no longer kept")
            : "the event id is not one of this server's (it restarted, or another replica sent it)";
      first += format_sse_event(id_of(head_), "reset", std::string("{\"reason\":\"") + why + "\"}");
    }
  }
  stream->send(std::move(first));
  subscribers_.push_back({stream, head_});
}

void ChangeFeed::run() {
  auto last_send = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    const auto heartbeat_due = last_send + options_.heartbeat_interval;
    cv_.wait_until(lock, heartbeat_due, [&] { return stop_ || head_ > delivered_; });
    if (stop_) break;
    std::string chunk;
    // Where each event starts in `chunk`, for streams that joined during (delivered_, head_].
    std::vector<std::size_t> starts;
    const std::uint64_t from = delivered_;
    const bool heartbeat = head_ == delivered_;
    if (!heartbeat) {
      const std::uint64_t oldest = ring_.empty() ? head_ + 1 : ring_.front().n;
      // Events that fell out of the ring before any pass sent them (a burst larger than the
      // ring within one pass): the streams are told to reload instead.
      std::uint64_t k = delivered_ + 1;
      if (k < oldest) {
        chunk += format_sse_event(id_of(oldest - 1), "reset", "{\"reason\":\"more changes than the feed keeps\"}");
        k = oldest;
      }
      starts.reserve(head_ - k + 1);
      for (; k <= head_; ++k) {
        starts.push_back(chunk.size());
        chunk += ring_[k - oldest].text;
      }
      delivered_ = head_;
    } else if (std::chrono::steady_clock::now() >= heartbeat_due) {
      chunk = ": heartbeat\n\n";
    } else {
      continue;
    }
    const std::uint64_t to = delivered_;
    const std::uint64_t first_in_chunk = to + 1 - starts.size();
    std::vector<std::pair<std::shared_ptr<http::EventStream>, std::size_t>> targets;  // stream, offset
    targets.reserve(subscribers_.size());
    std::erase_if(subscribers_, [](const Subscriber& s) { return s.stream->closed(); });
    for (auto& s : subscribers_) {
      if (heartbeat) {
        targets.emplace_back(s.stream, 0);
        continue;
      }
      if (s.after >= to) continue;  // joined after this pass's events: it has them already
      const std::size_t offset =
          s.after > from && s.after + 1 >= first_in_chunk ? starts[s.after + 1 - first_in_chunk] : 0;
      targets.emplace_back(s.stream, offset);
      s.after = to;
    }
    lock.unlock();
    for (const auto& [stream, offset] : targets) stream->send(offset ? chunk.substr(offset) : chunk);
    last_send = std::chrono::steady_clock::now();
    // Lets a burst gather into the next pass rather than one pass per event.
    std::this_thread::sleep_for(options_.min_flush_interval);
    lock.lock();
  }
}

}  // namespace kjq::server
