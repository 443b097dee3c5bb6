// The tracker's work queue: oldest first, events before rechecks, one entry per name, busy names
// skipped, and the age of the oldest event (what admission's create workers yield to).
#include <gtest/gtest.h>

#include "server/dirty_queue.hpp"

namespace {

using kjq::server::DirtyQueue;
using namespace std::chrono_literals;

std::string take_name(DirtyQueue& q, const std::set<std::string>& busy = {}) {
  auto item = q.take(busy);
  return item ? item->name : "";
}

TEST(DirtyQueue, EventsGoOldestFirstAndBeforeRechecks) {
  DirtyQueue q;
  const auto t0 = DirtyQueue::Clock::now();
  q.recheck("r1");
  q.recheck("r2");
  q.event("a", t0);
  q.event("b", t0 + 1ms);
  q.event("a", t0 + 2ms);  // queued once; keeps its oldest event time
  auto first = q.take({});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->name, "a");
  EXPECT_EQ(first->seen, t0);
  EXPECT_EQ(take_name(q), "b");
  EXPECT_EQ(take_name(q), "r1");
  auto r2 = q.take({});
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->name, "r2");
  EXPECT_FALSE(r2->seen);  // a recheck carries no event time
  EXPECT_FALSE(q.take({}));
  EXPECT_TRUE(q.empty());
}

TEST(DirtyQueue, ARecheckThatGetsAnEventMovesUp) {
  DirtyQueue q;
  const auto t0 = DirtyQueue::Clock::now();
  for (int i = 0; i < 1000; ++i) q.recheck("r" + std::to_string(i));
  q.event("r999", t0);
  auto item = q.take({});
  ASSERT_TRUE(item);
  EXPECT_EQ(item->name, "r999");
  EXPECT_EQ(item->seen, t0);
  EXPECT_EQ(take_name(q), "r0");
  // The stale recheck entry of r999 is skipped, not taken twice.
  int taken = 1;
  while (q.take({})) ++taken;
  EXPECT_EQ(taken, 999);
}

TEST(DirtyQueue, ABusyNameStaysQueued) {
  DirtyQueue q;
  const auto t0 = DirtyQueue::Clock::now();
  q.event("a", t0);
  q.event("b", t0);
  EXPECT_EQ(take_name(q, {"a"}), "b");
  EXPECT_TRUE(q.contains("a"));
  EXPECT_FALSE(q.take({"a"}));
  EXPECT_EQ(take_name(q), "a");
}

TEST(DirtyQueue, OldestEventAge) {
  DirtyQueue q;
  const auto t0 = DirtyQueue::Clock::now();
  EXPECT_EQ(q.oldest_event_age(t0), DirtyQueue::Clock::duration::zero());
  q.recheck("r");
  EXPECT_EQ(q.oldest_event_age(t0 + 1s),
            DirtyQueue::Clock::duration::zero());  // rechecks do not count
  q.event("a", t0);
  q.event("b", t0 + 40ms);
  EXPECT_EQ(q.oldest_event_age(t0 + 50ms), 50ms);
  q.take({});
  EXPECT_EQ(q.oldest_event_age(t0 + 50ms), 10ms);
  q.take({});
  EXPECT_EQ(q.oldest_event_age(t0 + 50ms), DirtyQueue::Clock::duration::zero());
}

}  // namespace
