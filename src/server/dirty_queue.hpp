#pragma once
// The tracker's work queue: Job names to look at again, oldest first, with when the first
// unprocessed watch event for each arrived (nullopt: a recheck asked for by the reconcile or the
// once-a-second deadline pass, not counted in the event-to-record lag). Names with an event go
// before rechecks, which can be thousands at once; a recheck that gets an event moves up. A name
// is queued once however often it changes. Not thread-safe: the tracker holds its lock.
#include <chrono>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

namespace kjq::server {

class DirtyQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Item {
    std::string name;
    std::optional<Clock::time_point> seen;
  };

  void event(const std::string& name, Clock::time_point seen);
  void recheck(const std::string& name);
  // The oldest name not in `busy` (events first); nullopt when there is none.
  std::optional<Item> take(const std::set<std::string>& busy);
  bool contains(const std::string& name) const { return seen_.count(name) > 0; }
  bool empty() const { return seen_.empty(); }
  // How long the oldest queued event has waited (zero when none).
  Clock::duration oldest_event_age(Clock::time_point now) const;

 private:
  std::optional<Item> take_from(std::deque<std::string>& order, const std::set<std::string>& busy);

  std::unordered_map<std::string, std::optional<Clock::time_point>> seen_;
  std::deque<std::string> events_;    // names with an event, in arrival order
  std::deque<std::string> rechecks_;  // names without one
  // An entry whose name is no longer in seen_ (taken through the other deque) is stale, skipped.
};

}  // namespace kjq::server
