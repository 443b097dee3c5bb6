// Per-queue caps from values: workers.<q>.maxConcurrency over kubernetesJobs.maxConcurrency, and
// the --max-concurrency default for queues the values leave without one.
#include <gtest/gtest.h>

#include "server/queue_limits.hpp"
#include "support/test_support.hpp"

using kjq::server::QueueLimits;

TEST(QueueLimits, WorkersInheritAndOverrideTheValuesCap) {
  auto doc = kjq::test::values_from_yaml(R"(
kubernetesJobs:
  maxConcurrency: 5
workers:
  a: {enabled: true, type: kubernetes}
  b: {enabled: true, type: kubernetes, maxConcurrency: 2}
  c: {enabled: true, type: kubernetes, maxConcurrency: 0}
  d: {enabled: false, type: kubernetes, maxConcurrency: 9}
)");
  QueueLimits l = QueueLimits::from_values(doc.merged);
  l.set_default(7);
  EXPECT_EQ(l.limit("a"), 5);  // inherited from kubernetesJobs: the default does not apply
  EXPECT_EQ(l.limit("b"), 2);
  EXPECT_EQ(l.limit("c"), 0);  // 0: no limit, explicitly
  EXPECT_EQ(l.limit("d"), 7);  // disabled: not a queue of the values
  EXPECT_EQ(l.all(), (std::map<std::string, int>{{"a", 5}, {"b", 2}, {"c", 0}}));
  EXPECT_EQ(l.all({"e"}).at("e"), 7);
}

TEST(QueueLimits, TheDefaultCapsQueuesTheValuesLeaveOpen) {
  auto doc = kjq::test::values_from_yaml("workers:\n  a: {enabled: true, type: kubernetes}\n");
  QueueLimits l = QueueLimits::from_values(doc.merged);
  EXPECT_EQ(l.limit("a"), 0);
  l.set_default(4);
  EXPECT_EQ(l.limit("a"), 4);
  EXPECT_EQ(l.limit("elsewhere"), 4);
}
