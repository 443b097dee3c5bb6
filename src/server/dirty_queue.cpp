#include "server/dirty_queue.hpp"

namespace kjq::server {

void DirtyQueue::event(const std::string& name, Clock::time_point seen) {
  auto [it, inserted] = seen_.emplace(name, seen);
  if (inserted) {
    events_.push_back(name);
  } else if (!it->second) {  // a queued recheck now has an event: it moves up
    it->second = seen;
    events_.push_back(name);
  }  // else: keeps the oldest unprocessed event time
}

void DirtyQueue::recheck(const std::string& name) {
  if (seen_.emplace(name, std::nullopt).second) rechecks_.push_back(name);
}

std::optional<DirtyQueue::Item> DirtyQueue::take_from(std::deque<std::string>& order,
                                                      const std::set<std::string>& busy) {
  // A name another worker holds stays queued (at most as many as there are workers are skipped).
  for (auto it = order.begin(); it != order.end();) {
    auto s = seen_.find(*it);
    if (s == seen_.end()) {
      it = order.erase(it);  // stale
      continue;
    }
    if (busy.count(*it)) {
      ++it;
      continue;
    }
    Item item{std::move(*it), s->second};
    order.erase(it);
    seen_.erase(s);
    return item;
  }
  return std::nullopt;
}

std::optional<DirtyQueue::Item> DirtyQueue::take(const std::set<std::string>& busy) {
  if (auto item = take_from(events_, busy)) return item;
  return take_from(rechecks_, busy);
}

DirtyQueue::Clock::duration DirtyQueue::oldest_event_age(Clock::time_point now) const {
  for (const auto& name : events_) {  // the first live entry with an event time is the oldest
    auto s = seen_.find(name);
    if (s != seen_.end() && s->second) return now - *s->second;
  }
  return Clock::duration::zero();
}

}  // namespace kjq::server
