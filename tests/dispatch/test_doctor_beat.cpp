// kjq doctor --run-schedules: the Celery Beat check, from DeploymentLists as the API server
// answers them.
#include <gtest/gtest.h>

#include "dispatch/doctor.hpp"

namespace kjq::dispatch {
namespace {

nlohmann::json deployment(const std::string& name, int wanted, int running) {
  return {{"metadata", {{"name", name}}}, {"spec", {{"replicas", wanted}}}, {"status", {{"replicas", running}}}};
}

TEST(DoctorBeatCheck, FailsWhenBeatRunsWhileKjqFiresSchedules) {
  const auto r = beat_check({{"items", {deployment("nautobot-celery-beat", 1, 1)}}}, "nautobot");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("nautobot-celery-beat (1 wanted, 1 running)"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("fire twice"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("workers.beat.enabled: false"), std::string::npos) << r.fix;
  // Scaled to 0 but its pod still terminating: still running.
  EXPECT_FALSE(beat_check({{"items", {deployment("b", 0, 1)}}}, "nautobot").ok);
}

TEST(DoctorBeatCheck, PassesWithoutBeatOrWithBeatScaledToZero) {
  EXPECT_TRUE(beat_check({{"items", nlohmann::json::array()}}, "nautobot").ok);
  EXPECT_TRUE(beat_check({{"items", {deployment("b", 0, 0)}}}, "nautobot").ok);
  EXPECT_TRUE(beat_check({{"kind", "Status"}}, "nautobot").ok);  // no items at all
  EXPECT_TRUE(beat_check({{"items", {"not an object", 42}}}, "nautobot").ok);
}

}  // namespace
}  // namespace kjq::dispatch
