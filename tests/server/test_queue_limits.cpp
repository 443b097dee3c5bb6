// Per-queue caps from values: workers.<q>.maxConcurrency over kubernetesJobs.maxConcurrency.
#include <gtest/gtest.h>

#include "server/queue_limits.hpp"
#include "support/test_support.hpp"

using kjq::server::QueueLimits;

TEST(QueueLimitsTest, WorkersInheritAndOverrideTheDefaultCap) {
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
  EXPECT_EQ(l.limit("a"), 5);
  EXPECT_EQ(l.limit("b"), 2);
  EXPECT_EQ(l.limit("c"), 0);  // 0: no limit, even under a default
  EXPECT_EQ(l.limit("d"), 5);  // disabled: not a queue of the values, so the default applies
  EXPECT_EQ(l.all().size(), 3u);
}

TEST(QueueLimitsTest, NoCapAnywhereMeansUnlimited) {
  auto doc = kjq::test::values_from_yaml("workers:\n  a: {enabled: true, type: kubernetes}\n");
  QueueLimits l = QueueLimits::from_values(doc.merged);
  EXPECT_EQ(l.limit("a"), 0);
  EXPECT_EQ(l.limit("elsewhere"), 0);
  l.set_default(4);
  EXPECT_EQ(l.limit("elsewhere"), 4);
}
