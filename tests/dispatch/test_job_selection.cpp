// Which Jobs `kjq list` and `kjq watch --queue` show (kjq's and Nautobot's own), and what their rows
// say: origin, queue, JobResult id.
#include <gtest/gtest.h>

#include "dispatch/follower.hpp"
#include "dispatch/job_report.hpp"
#include "queue/job_preparation.hpp"

namespace kjq::dispatch {
namespace {

using nlohmann::json;

const std::string kId = "0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0b";

// A Job as kjq dispatch creates it: kjq's labels and annotation, and the chart's.
json kjq_job(const std::string& queue = "default") {
  return {{"metadata",
           {{"name", "nautobot-job-" + kId},
            {"creationTimestamp", "2026-01-01T00:00:00Z"},
            {"labels",
             {{"kjq.nautobot.com/queue", queue},
              {"kjq.nautobot.com/job-result-id", kId},
              {"app.kubernetes.io/component", "nautobot-job"}}},
            {"annotations", {{"kjq.nautobot.com/queue", queue}, {"nautobot-job.io/worker-name", queue}}}}}};
}

// A Job as Nautobot creates it from the chart's manifest: none of kjq's labels.
json nautobot_job(const std::string& name, const std::string& queue) {
  json j = {{"metadata",
             {{"name", name},
              {"creationTimestamp", "2026-01-01T00:00:00Z"},
              {"labels", {{"app.kubernetes.io/component", "nautobot-job"}, {"app.kubernetes.io/name", "nautobot"}}},
              {"annotations", json::object()}}}};
  if (!queue.empty()) j["metadata"]["annotations"]["nautobot-job.io/worker-name"] = queue;
  return j;
}

json other_job() { return {{"metadata", {{"name", "backup-1"}, {"labels", {{"app", "backup"}}}}}}; }

JobSelection selection(const std::string& queue = "", const std::string& origin = "") {
  JobSelection s;
  s.queue = queue;
  s.origin = origin;
  return s;
}

TEST(JobSelection, OriginQueueAndJobResultIdOfBothKinds) {
  EXPECT_EQ(job_origin(kjq_job()), "kjq");
  EXPECT_EQ(job_queue(kjq_job("team a")), "team a");
  EXPECT_EQ(job_result_id(kjq_job()), kId);

  const json n = nautobot_job("nautobot-job-" + kId, "bulk");
  EXPECT_EQ(job_origin(n), "nautobot");
  EXPECT_EQ(job_queue(n), "bulk");
  EXPECT_EQ(job_result_id(n), kId);
  // Another NAUTOBOT_KUBERNETES_JOB_POD_NAME, upper-case hex: the uuid as Nautobot stores it.
  EXPECT_EQ(job_result_id(nautobot_job("nb-0F1E2D3C-4B5A-4987-8A6B-5C4D3E2F1A0B", "")), kId);
  EXPECT_EQ(job_queue(nautobot_job("x", "")), "");
}

TEST(JobSelection, JobResultIdOfName) {
  EXPECT_EQ(job_result_id_of_name("nautobot-job-" + kId), kId);
  EXPECT_EQ(job_result_id_of_name("a-" + kId), kId);
  EXPECT_EQ(job_result_id_of_name("-" + kId), "");               // no prefix
  EXPECT_EQ(job_result_id_of_name(kId), "");                     // no prefix either
  EXPECT_EQ(job_result_id_of_name("nautobot-job-1"), "");        // not a uuid
  EXPECT_EQ(job_result_id_of_name("nautobot-job-x" + kId), "");  // not after a dash
  EXPECT_EQ(job_result_id_of_name("nautobot-job-0f1e2d3c-4b5a-4987-8a6b-5c4d3e2f1a0g"), "");
  EXPECT_EQ(job_result_id_of_name("nautobot-job-0f1e2d3c04b5a-4987-8a6b-5c4d3e2f1a0b"), "");
}

TEST(JobSelection, BothKindsByDefault) {
  const JobSelection s = selection();
  EXPECT_TRUE(selected(kjq_job(), s));
  EXPECT_TRUE(selected(nautobot_job("nautobot-job-" + kId, "bulk"), s));
  EXPECT_FALSE(selected(other_job(), s));
  // Selectors cannot OR: the server lists the namespace, the client keeps.
  EXPECT_EQ(server_selector(s), "");
}

TEST(JobSelection, OriginNarrows) {
  const json n = nautobot_job("nautobot-job-" + kId, "bulk");
  EXPECT_TRUE(selected(kjq_job(), selection("", "kjq")));
  EXPECT_FALSE(selected(n, selection("", "kjq")));
  EXPECT_EQ(server_selector(selection("", "kjq")), "kjq.nautobot.com/queue");
  // kjq's Jobs carry the chart's labels too: still kjq's, not Nautobot's.
  EXPECT_FALSE(selected(kjq_job(), selection("", "nautobot")));
  EXPECT_TRUE(selected(n, selection("", "nautobot")));
  EXPECT_EQ(server_selector(selection("", "nautobot")), "app.kubernetes.io/component=nautobot-job");
}

TEST(JobSelection, WithoutNautobotSelectorOnlyKjqs) {
  JobSelection s = selection("bulk");
  s.nautobot_jobs.reset();
  EXPECT_FALSE(selected(nautobot_job("nautobot-job-" + kId, "bulk"), s));
  EXPECT_TRUE(selected(kjq_job("bulk"), s));
  EXPECT_EQ(server_selector(s), "kjq.nautobot.com/queue=bulk");
}

TEST(JobSelection, QueueMatchesKjqsLabelOrNautobotsAnnotation) {
  EXPECT_TRUE(selected(kjq_job("bulk"), selection("bulk")));
  EXPECT_FALSE(selected(kjq_job("default"), selection("bulk")));
  EXPECT_TRUE(selected(nautobot_job("nautobot-job-" + kId, "bulk"), selection("bulk")));
  EXPECT_FALSE(selected(nautobot_job("nautobot-job-" + kId, "default"), selection("bulk")));
  EXPECT_FALSE(selected(nautobot_job("nautobot-job-" + kId, ""), selection("bulk")));
  // A queue name that is not a label value: kjq labels its hash.
  const std::string odd = "team a/b";
  json k = kjq_job(odd);
  k["metadata"]["labels"]["kjq.nautobot.com/queue"] = queue::queue_label_value(odd);
  k["metadata"]["annotations"].erase("nautobot-job.io/worker-name");
  EXPECT_TRUE(selected(k, selection(odd)));
  EXPECT_TRUE(selected(nautobot_job("n-" + kId, odd), selection(odd)));
}

TEST(JobSelection, CustomSelector) {
  JobSelection s = selection();
  s.nautobot_jobs = kube::LabelSelector::parse("app.kubernetes.io/name=nautobot,tier notin (test)", "x");
  json n = nautobot_job("nautobot-job-" + kId, "bulk");
  EXPECT_TRUE(selected(n, s));
  n["metadata"]["labels"]["tier"] = "test";
  EXPECT_FALSE(selected(n, s));
}

TEST(JobSelection, RowsCarryOriginAndJobResultId) {
  const JobRow k = job_row(kjq_job("bulk"), {});
  EXPECT_EQ(k.origin, "kjq");
  EXPECT_EQ(k.queue, "bulk");
  EXPECT_EQ(k.job_result_id, kId);
  const JobRow n = job_row(nautobot_job("nautobot-job-" + kId, "bulk"), {});
  EXPECT_EQ(n.origin, "nautobot");
  EXPECT_EQ(n.queue, "bulk");
  EXPECT_EQ(n.job_result_id, kId);
  EXPECT_EQ(n.status, "Submitted");
  const json j = job_row_to_json(n);
  EXPECT_EQ(j["origin"], "nautobot");
  EXPECT_EQ(j["jobResultId"], kId);
  EXPECT_EQ(j["queue"], "bulk");
  const std::string t = format_job_table({k, n});
  const std::string header = t.substr(0, t.find('\n'));
  EXPECT_EQ(header.find("NAME"), 0u);
  EXPECT_EQ(header.find("ORIGIN"), std::string("nautobot-job-").size() + kId.size() + 3) << header;
  EXPECT_LT(header.find("ORIGIN"), header.find("QUEUE"));
  EXPECT_LT(header.find("QUEUE"), header.find("STATUS"));
  EXPECT_NE(t.find("nautobot   bulk    Submitted"), std::string::npos) << t;
}

TEST(JobSelection, ReportJsonAndTextForNautobotsJob) {
  JobReport r;
  r.job = nautobot_job("nautobot-job-" + kId, "bulk");
  r.lifecycle = derive_lifecycle(r.job, {});
  const json j = job_report_to_json(r);
  EXPECT_EQ(j["origin"], "nautobot");
  EXPECT_EQ(j["queue"], "bulk");
  EXPECT_EQ(j["jobResultId"], kId);
  const std::string text = format_job_report(r);
  EXPECT_NE(text.find("Queue:       bulk\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Job result:  " + kId + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Origin:      nautobot\n"), std::string::npos) << text;
}

TEST(Duration, KubectlSpellings) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("30"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  for (const char* bad : {"", "s", "-5s", "5x", "5 s", "1.2.3s", "m5", "1e3s", "99999999999999999999h", "5m-1s"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
}

}  // namespace
}  // namespace kjq::dispatch
