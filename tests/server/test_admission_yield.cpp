// Admission's create workers yield to the tracker: they wait while its oldest unprocessed watch
// event is older than the threshold, never longer than the bound, and not at all otherwise.
#include <gtest/gtest.h>

#include <atomic>

#include "server/admission.hpp"

namespace {

using namespace std::chrono_literals;
using kjq::server::yield_to_backlog;
using Duration = std::chrono::steady_clock::duration;

TEST(AdmissionYield, NoBacklogNoWait) {
  std::atomic<bool> stop{false};
  int calls = 0;
  auto waited = yield_to_backlog(
      [&]() -> Duration {
        ++calls;
        return 5ms;
      },
      stop, 20ms, 100ms);
  EXPECT_EQ(calls, 1);
  EXPECT_LT(waited, 20ms);
}

TEST(AdmissionYield, WaitsUntilTheTrackerCatchesUp) {
  std::atomic<bool> stop{false};
  int calls = 0;
  auto waited = yield_to_backlog([&]() -> Duration { return ++calls < 4 ? 50ms : 0ms; }, stop, 20ms, 1000ms);
  EXPECT_EQ(calls, 4);
  EXPECT_GE(waited, 6ms);  // three 2 ms steps
  EXPECT_LT(waited, 1000ms);
}

TEST(AdmissionYield, WaitsNoLongerThanTheBound) {
  std::atomic<bool> stop{false};
  auto waited = yield_to_backlog([]() -> Duration { return 10s; }, stop, 20ms, 30ms);
  EXPECT_GE(waited, 30ms);
  EXPECT_LT(waited, 500ms);
}

TEST(AdmissionYield, StopEndsTheWait) {
  std::atomic<bool> stop{true};
  auto waited = yield_to_backlog([]() -> Duration { return 10s; }, stop, 20ms, 5000ms);
  EXPECT_LT(waited, 100ms);
}

TEST(AdmissionYield, CreatesOfKjqJobsYieldResumesOfNautobotJobsDoNot) {
  kjq::server::JobRecord own;
  own.origin = kjq::server::JobOrigin::Kjq;
  kjq::server::JobRecord nautobots;
  nautobots.origin = kjq::server::JobOrigin::Nautobot;
  EXPECT_TRUE(kjq::server::yields_to_backlog(own));
  EXPECT_FALSE(kjq::server::yields_to_backlog(nautobots));
}

}  // namespace
