#include <gtest/gtest.h>

#include "dispatch/job_report.hpp"
#include "dispatch/lifecycle.hpp"

namespace kjq::dispatch {
namespace {

using nlohmann::json;

json job(json conditions = json::array()) {
  return {{"metadata", {{"name", "j"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
          {"status", {{"conditions", conditions}}}};
}

json cond(const std::string& type, const std::string& reason, const std::string& message = "") {
  return {{"type", type}, {"status", "True"}, {"reason", reason}, {"message", message}};
}

json pod(const std::string& phase, json container_state, json conditions = json::array(),
         std::string created = "2026-01-01T00:00:01Z") {
  return {{"metadata", {{"name", "j-abc"}, {"creationTimestamp", created}}},
          {"spec", json::object()},
          {"status",
           {{"phase", phase},
            {"conditions", conditions},
            {"containerStatuses", json::array({{{"name", "nautobot-job"}, {"state", container_state}}})}}}};
}

json scheduled() { return json::array({{{"type", "PodScheduled"}, {"status", "True"}}}); }

TEST(Lifecycle, ProgressesThroughSubmittedScheduledRunningSucceeded) {
  EXPECT_EQ(derive_lifecycle(job(), {}).phase, Phase::Submitted);
  EXPECT_EQ(derive_lifecycle(job(), {}).reason, "Created");
  auto s = derive_lifecycle(job(), {pod("Pending", {{"waiting", {{"reason", "ContainerCreating"}}}}, scheduled())});
  EXPECT_EQ(s.phase, Phase::Scheduled);
  EXPECT_EQ(s.reason, "ContainerCreating");
  auto r = derive_lifecycle(job(), {pod("Running", {{"running", json::object()}}, scheduled())});
  EXPECT_EQ(r.phase, Phase::Running);
  // The pod ended before the Job's condition: no step back to Submitted.
  auto completing = derive_lifecycle(
      job(), {pod("Succeeded", {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}}, scheduled())});
  EXPECT_EQ(completing.phase, Phase::Running);
  EXPECT_EQ(completing.reason, "Completing");
  auto retrying =
      derive_lifecycle(job(), {pod("Failed", {{"terminated", {{"exitCode", 1}, {"reason", "Error"}}}}, scheduled())});
  EXPECT_EQ(retrying.phase, Phase::Submitted);
  EXPECT_EQ(retrying.reason, "Retrying");
  auto done = derive_lifecycle(job(json::array({cond("Complete", "CompletionsReached")})), {});
  EXPECT_EQ(done.phase, Phase::Succeeded);
  EXPECT_EQ(done.reason, "Completed");
  EXPECT_TRUE(done.terminal());
}

TEST(Lifecycle, FailureReasons) {
  json failed =
      job(json::array({cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")}));
  auto oom = derive_lifecycle(failed, {pod("Failed", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}})});
  EXPECT_EQ(oom.reason, "OOMKilled");
  EXPECT_EQ(oom.exit_code, 137);
  EXPECT_EQ(oom.job_reason, "BackoffLimitExceeded");
  auto err = derive_lifecycle(failed, {pod("Failed", {{"terminated", {{"exitCode", 2}, {"reason", "Error"}}}})});
  EXPECT_EQ(err.reason, "Error");
  EXPECT_EQ(err.exit_code, 2);
  EXPECT_EQ(lifecycle_summary(err).substr(0, 22), "Failed/Error (exit 2):");
  auto bare = derive_lifecycle(failed, {});
  EXPECT_EQ(bare.reason, "BackoffLimitExceeded");
  auto deadline = derive_lifecycle(job(json::array({cond("Failed", "DeadlineExceeded")})),
                                   {pod("Failed", {{"terminated", {{"exitCode", 143}, {"reason", "Error"}}}})});
  EXPECT_EQ(deadline.reason, "DeadlineExceeded");
  EXPECT_EQ(derive_lifecycle(job(json::array({cond("FailureTarget", "PodFailurePolicy")})), {}).phase, Phase::Failed);
  EXPECT_EQ(derive_lifecycle(json(), {}).reason, "Deleted");
}

TEST(Lifecycle, JobEndedSaysWhetherTheJobControllerDecided) {
  // FailureTarget and SuccessCriteriaMet (Kubernetes 1.31+) count as decided, like the final ones.
  for (const char* type : {"Complete", "SuccessCriteriaMet", "Failed", "FailureTarget"}) {
    SCOPED_TRACE(type);
    EXPECT_TRUE(derive_lifecycle(job(json::array({cond(type, "R")})), {}).job_ended);
  }
  json failed = job(json::array({cond("FailureTarget", "BackoffLimitExceeded")}));
  EXPECT_TRUE(
      derive_lifecycle(failed, {pod("Failed", {{"terminated", {{"exitCode", 2}, {"reason", "Error"}}}})}).job_ended);
  // A pod that can never start fails the job while the Job itself is still active.
  auto early = derive_lifecycle(job(), {pod("Pending", {{"waiting", {{"reason", "ErrImagePull"}}}}, scheduled())});
  EXPECT_EQ(early.phase, Phase::Failed);
  EXPECT_FALSE(early.job_ended);
  EXPECT_FALSE(derive_lifecycle(job(), {}).job_ended);
}

TEST(Lifecycle, PodsThatCanNeverStartFailEarly) {
  for (std::string reason : {"ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError", "InvalidImageName"}) {
    SCOPED_TRACE(reason);
    auto l =
        derive_lifecycle(job(), {pod("Pending", {{"waiting", {{"reason", reason}, {"message", "m"}}}}, scheduled())});
    EXPECT_EQ(l.phase, Phase::Failed);
    EXPECT_EQ(l.reason, reason);
    EXPECT_TRUE(l.terminal());
  }
}

TEST(Lifecycle, WithAGraceAPodThatCannotStartYetIsWaitingUntilTheGraceEnds) {
  json p = pod("Pending", {{"waiting", {{"reason", "ImagePullBackOff"}, {"message", "back-off"}}}}, scheduled(),
               "2026-01-01T00:00:01Z");
  LifecycleOptions o;
  o.never_start_grace = std::chrono::seconds(60);
  o.now = *parse_rfc3339("2026-01-01T00:00:31Z");
  auto early = derive_lifecycle(job(), {p}, {}, o);
  EXPECT_EQ(early.phase, Phase::Scheduled);
  EXPECT_EQ(early.reason, "ImagePullBackOff");
  EXPECT_FALSE(early.terminal());
  o.now = *parse_rfc3339("2026-01-01T00:01:02Z");
  auto late = derive_lifecycle(job(), {p}, {}, o);
  EXPECT_EQ(late.phase, Phase::Failed);
  EXPECT_EQ(late.reason, "ImagePullBackOff");
}

TEST(Lifecycle, UnschedulableOnlyFailsPastTheStartDeadline) {
  json unsched = json::array({{{"type", "PodScheduled"},
                               {"status", "False"},
                               {"reason", "Unschedulable"},
                               {"message", "0/1 nodes are available"},
                               {"lastTransitionTime", "2026-01-01T00:00:01Z"}}});
  json p = {{"metadata", {{"name", "j-x"}, {"creationTimestamp", "2026-01-01T00:00:01Z"}}},
            {"spec", json::object()},
            {"status", {{"phase", "Pending"}, {"conditions", unsched}}}};
  LifecycleOptions o;
  o.start_deadline = std::chrono::seconds(60);
  o.now = *parse_rfc3339("2026-01-01T00:00:31Z");
  auto early = derive_lifecycle(job(), {p}, {}, o);
  EXPECT_EQ(early.phase, Phase::Submitted);
  EXPECT_EQ(early.reason, "Unschedulable");
  o.now = *parse_rfc3339("2026-01-01T00:01:02Z");
  auto late = derive_lifecycle(job(), {p}, {}, o);
  EXPECT_EQ(late.phase, Phase::Failed);
  EXPECT_EQ(late.reason, "Unschedulable");
}

TEST(Lifecycle, JsonAndTable) {
  auto j = lifecycle_to_json(derive_lifecycle(job(json::array({cond("Complete", "CompletionsReached")})), {}));
  EXPECT_EQ(j["phase"], "Succeeded");
  EXPECT_EQ(j["terminal"], true);
  EXPECT_EQ(human_duration(std::chrono::seconds(59)), "59s");
  EXPECT_EQ(human_duration(std::chrono::seconds(192)), "3m12s");
  EXPECT_EQ(human_duration(std::chrono::seconds(7500)), "125m");
  EXPECT_EQ(human_duration(std::chrono::seconds(4 * 86400)), "4d");
  const JobRow row{"a", "q", "Running", "Running", "0/1", "5s", "6s", "kjq", ""};
  std::string t = format_job_table({row});
  EXPECT_EQ(t.substr(0, 4), "NAME");
  EXPECT_NE(t.find("a      kjq      q       Running"), std::string::npos) << t;
}

}  // namespace
}  // namespace kjq::dispatch
