// What serve reads of a Job Nautobot created (nautobot_jobs.hpp): the JobResult id of its name,
// its queue, whether and by whom it waits to be admitted, and the write-back payload of its end.
#include <gtest/gtest.h>

#include "server/nautobot_jobs.hpp"

namespace kjq::server {
namespace {

using nlohmann::json;

constexpr const char* kId = "0b5e1c2a-7d4f-4e31-9a77-5c1f2e3d4b6a";

json nautobot_job(const std::string& name, const json& labels = json::object(), bool suspended = false) {
  json l = {{"app.kubernetes.io/component", "nautobot-job"}};
  l.update(labels);
  return {{"metadata",
           {{"name", name},
            {"uid", "u-1"},
            {"creationTimestamp", "2026-12-02T10:00:01Z"},
            {"labels", l},
            {"annotations", {{"nautobot-job.io/worker-name", "reports"}}}}},
          {"spec", {{"suspend", suspended}}}};
}

TEST(NautobotJobs, TheJobResultIdIsTheUuidEndingTheName) {
  EXPECT_EQ(job_result_id_of(std::string("nautobot-job-") + kId), kId);
  EXPECT_EQ(job_result_id_of(std::string("custom-prefix-") + kId), kId);
  EXPECT_EQ(job_result_id_of("nautobot-job-0B5E1C2A-7D4F-4E31-9A77-5C1F2E3D4B6A"), kId);  // canonical: lowercase
  EXPECT_EQ(job_result_id_of(kId), "");                                                   // no prefix
  EXPECT_EQ(job_result_id_of(std::string("x") + kId), "");                                // no dash before it
  EXPECT_EQ(job_result_id_of("nautobot-job-not-a-uuid-at-all-but-36-characters-long"), "");
  EXPECT_EQ(job_result_id_of(""), "");
}

TEST(NautobotJobs, AnAdoptedJobRunsUnlessSuspendedAndSaysWhoAdmitsIt) {
  const std::string name = std::string("nautobot-job-") + kId;
  AdoptedJob running = adopted_job(nautobot_job(name), 5000);
  EXPECT_EQ(running.id, kId);
  EXPECT_EQ(running.job_result_id, kId);
  EXPECT_EQ(running.origin, JobOrigin::Nautobot);
  EXPECT_EQ(running.queue, "reports");
  EXPECT_EQ(running.kube_name, name);
  EXPECT_EQ(running.kube_uid, "u-1");
  EXPECT_EQ(running.state, JobState::Submitted);
  EXPECT_EQ(running.created_ms, 1796205601000);  // 2026-12-02T10:00:01Z
  EXPECT_EQ(running.now_ms, 5000);

  EXPECT_EQ(adopted_job(nautobot_job(name, {{"kjq.nautobot.com/admission", "kjq"}}, true), 0).reason,
            kWaitingForAdmission);
  EXPECT_EQ(adopted_job(nautobot_job(name, {{"kueue.x-k8s.io/queue-name", "lq"}}, true), 0).reason, kWaitingForKueue);
  const AdoptedJob manual = adopted_job(nautobot_job(name, json::object(), true), 0);
  EXPECT_EQ(manual.state, JobState::Queued);
  EXPECT_EQ(manual.reason, kSuspended);
}

TEST(NautobotJobs, AJobWithoutUuidOrQueueStillGetsAnIdAndAQueue) {
  json job = nautobot_job("odd-name");
  job["metadata"].erase("annotations");
  job["metadata"].erase("creationTimestamp");
  const AdoptedJob a = adopted_job(job, 777);
  EXPECT_EQ(a.id, "odd-name");
  EXPECT_EQ(a.job_result_id, "");
  EXPECT_EQ(a.queue, "default");
  EXPECT_EQ(a.created_ms, 777);
  job["metadata"]["labels"]["kjq.nautobot.com/queue"] = "from-label";
  EXPECT_EQ(adopted_job(job, 0).queue, "from-label");
}

TEST(NautobotJobs, WriteBackPayloadRoundTripsIntoAJobEnd) {
  JobRecord r;
  r.id = kId;
  r.origin = JobOrigin::Nautobot;
  r.job_result_id = kId;
  Finish f;
  f.state = JobState::Failed;
  f.reason = "OOMKilled";
  f.exit_code = 137;
  f.message = "container nautobot-job: OOMKilled";
  f.log_tail = std::string("line 1\nline \xff 2\n");
  f.events_json =
      R"([{"type":"Warning","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit",
      "involvedObject":{"kind":"Job","name":"nautobot-job-x"},"lastTimestamp":"2026-12-02T10:00:05Z"}])";
  f.now_ms = 1796205606000;
  const auto payload = writeback_payload(r, f);
  ASSERT_TRUE(payload);
  const json p = json::parse(*payload);
  EXPECT_EQ(p["kind"], "failure");
  const nautobot::JobEnd end = job_end_from_payload(p);
  EXPECT_EQ(end.job_result_id, kId);
  EXPECT_EQ(end.reason, "OOMKilled");
  EXPECT_EQ(end.exit_code, 137);
  EXPECT_EQ(end.message, "container nautobot-job: OOMKilled");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(end.ended_at.time_since_epoch()).count(),
            1796205606000);
  ASSERT_EQ(end.events.size(), 1u);
  EXPECT_EQ(end.events[0].type, "Warning");
  EXPECT_EQ(end.events[0].reason, "BackoffLimitExceeded");
  EXPECT_EQ(end.events[0].object, "job/nautobot-job-x");
  ASSERT_TRUE(end.events[0].time);
  // The byte that is not UTF-8 became U+FFFD; the trailing newline ends the last line.
  EXPECT_EQ(end.log_tail, (std::vector<std::string>{"line 1", "line \xEF\xBF\xBD 2"}));
}

TEST(NautobotJobs, OnlyNautobotsJobsWithAJobResultHaveAWriteBack) {
  JobRecord r;
  r.origin = JobOrigin::Kjq;
  r.job_result_id = kId;
  Finish f;
  EXPECT_FALSE(writeback_payload(r, f));
  r.origin = JobOrigin::Nautobot;
  r.job_result_id = "";
  EXPECT_FALSE(writeback_payload(r, f));
  r.job_result_id = kId;
  f.state = JobState::Succeeded;
  EXPECT_EQ(json::parse(*writeback_payload(r, f))["kind"], "check");
  f.events_json = "not json";
  EXPECT_EQ(json::parse(*writeback_payload(r, f))["events"], json::array());
}

}  // namespace
}  // namespace kjq::server
