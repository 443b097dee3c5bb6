// kjq serve end to end: the real `kjq serve` process against kube-emulator over HTTPS, with the
// SQLite store: submit → succeed, each failure reason, logs kept past a 1-second TTL, caps, cancel,
// time limits, the API's validation and authentication.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <thread>

#include "e2e/serve_fixture.hpp"

using namespace kjq::test;
using nlohmann::json;

namespace {

class ServeE2E : public ServeTest {
 protected:
  std::string submit_ok(const json& body) {
    ApiReply r = env.submit(url, body);
    EXPECT_EQ(r.status, 202) << r.text;
    return r.body.value("id", "");
  }
};

TEST_F(ServeE2E, SubmittedJobSucceedsWithItsRecordAndEvidence) {
  env.kube().write_queue("default",
                         RuntimeEnv::test_manifest("succeed", 0.2, {{"kube-emulator/log", "hello from the job\n"}}));
  start();
  ApiReply r = env.submit(url, {{"queue", "default"}, {"data", {{"device", "rtr1"}}}, {"timeLimitSeconds", 600}});
  ASSERT_EQ(r.status, 202) << r.text;
  const std::string id = r.body["id"];
  EXPECT_EQ(id.size(), 36u);  // a UUID when the client gives none
  EXPECT_EQ(r.body["queue"], "default");
  EXPECT_TRUE(r.body["state"] == "Queued" || r.body["state"] == "Submitted") << r.body;
  json done = env.wait_for(url, id, {"Succeeded", "Failed"});
  EXPECT_EQ(done["state"], "Succeeded") << done;
  EXPECT_EQ(done["reason"], "Completed");
  EXPECT_EQ(done["exitCode"], 0);
  EXPECT_EQ(done["kubernetesJob"]["name"], "nautobot-job-" + id);
  EXPECT_FALSE(done["kubernetesJob"]["uid"].get<std::string>().empty());
  // The log tail and the Events follow the end: the tracker records the end first, and the
  // evidence (what the end did not carry already) right after.
  EXPECT_TRUE(eventually([&] {
    const json now = env.request(url, "GET", "/api/v1/jobs/" + id).body;
    return now.value("logTail", "") == "hello from the job\n" && !now["events"].empty();
  })) << env.request(url, "GET", "/api/v1/jobs/" + id).body;
  for (const char* t : {"createdAt", "submittedAt", "startedAt", "finishedAt"}) EXPECT_TRUE(done.contains(t)) << t;
  // The Job: Nautobot's command with the data, the service label on it and its pods, the limit.
  json job = env.kube().admin().get_job("default", "nautobot-job-" + id);
  EXPECT_EQ(job["metadata"]["labels"]["kjq.nautobot.com/serve"], "kjq-serve");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["kjq.nautobot.com/serve"], "kjq-serve");
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 600);
  json command = job["spec"]["template"]["spec"]["containers"][0]["command"];
  EXPECT_EQ(command[2], id);
  EXPECT_EQ(command[5], "{\"device\": \"rtr1\"}");
  ApiReply queues = env.request(url, "GET", "/api/v1/queues");
  ASSERT_EQ(queues.status, 200);
  EXPECT_EQ(queues.body["items"][0]["name"], "default");
  EXPECT_EQ(queues.body["items"][0]["succeeded"], 1);
  EXPECT_EQ(queues.body["items"][0]["endedLastHour"], json({{"succeeded", 1}, {"failed", 0}, {"cancelled", 0}}));
  EXPECT_EQ(queues.body["items"][0]["endedLastDay"]["succeeded"], 1);
}

TEST_F(ServeE2E, TheSameIdIsOneJob) {
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.1));
  start();
  json body = {{"queue", "default"}, {"id", "0f6f8e3c-1d2b-4c5a-9e7f-aaaaaaaaaaaa"}, {"data", {{"x", 1}}}};
  EXPECT_EQ(env.submit(url, body).status, 202);
  ApiReply again = env.submit(url, body);
  EXPECT_EQ(again.status, 200) << again.text;
  EXPECT_EQ(again.body["id"], body["id"]);
  body["data"]["x"] = 2;
  ApiReply conflict = env.submit(url, body);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.body["error"]["reason"], "Conflict");
  env.wait_for(url, body["id"], {"Succeeded"});
  EXPECT_EQ(env.job_creates().size(), 1u);
}

TEST_F(ServeE2E, RequestsNeedTheTokenAndValidBodies) {
  start();
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs", nullptr, "").status, 401);
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs", nullptr, "wrong").status, 401);
  EXPECT_EQ(env.request(url, "GET", "/healthz", nullptr, "").status, 200);
  auto bad = [&](const json& body, const std::string& expect_in_message) {
    ApiReply r = env.submit(url, body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find(expect_in_message), std::string::npos) << r.text;
  };
  bad(json::array(), "JSON object");
  bad({{"data", json::object()}}, "queue:");
  bad({{"queue", "../etc"}}, "queue:");
  bad({{"queue", "default"}, {"id", "Not_A_Label"}}, "id:");
  bad({{"queue", "default"}, {"data", "x"}}, "data:");
  bad({{"queue", "default"}, {"timeLimitSeconds", 0}}, "timeLimitSeconds:");
  bad({{"queue", "default"}, {"priority", 1}}, "priority: unknown field");
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs/nope").status, 404);
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs?state=Done").status, 400);
  // The token never shows in anything serve prints.
  EXPECT_EQ(serve->process().err_so_far().find(ServeEnv::kApiToken), std::string::npos);
  EXPECT_EQ(serve->process().err_so_far().find(RuntimeEnv::kKjqToken), std::string::npos);
}

TEST_F(ServeE2E, EachFailureIsRecordedWithItsReason) {
  env.kube().write_queue("fail", RuntimeEnv::test_manifest("fail", 0.1, {{"kube-emulator/exit-code", "3"}}));
  env.kube().write_queue("oom", RuntimeEnv::test_manifest("oom", 0.1));
  env.kube().write_queue("pull", RuntimeEnv::test_manifest("image-pull-error", 0.1));
  env.kube().write_queue("nowhere", RuntimeEnv::test_manifest("unschedulable", 0.1));
  json broken = RuntimeEnv::test_manifest();
  broken["kind"] = "Deployment";
  env.kube().write_queue("broken", broken);
  start({"--start-deadline", "2"});
  struct Case {
    std::string queue, reason;
    std::optional<int> exit_code;
  };
  std::vector<Case> cases = {{"fail", "Error", 3},
                             {"oom", "OOMKilled", 137},
                             {"pull", "ImagePullBackOff", std::nullopt},
                             {"nowhere", "Unschedulable", std::nullopt},
                             {"broken", "InvalidManifest", std::nullopt},
                             {"missing", "InvalidManifest", std::nullopt}};
  std::vector<std::string> ids;
  for (const auto& c : cases) ids.push_back(submit_ok({{"queue", c.queue}}));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].queue);
    json done = env.wait_for(url, ids[i], {"Succeeded", "Failed", "Cancelled"});
    EXPECT_EQ(done["state"], "Failed") << done;
    if (cases[i].queue == "pull") {
      EXPECT_TRUE(done["reason"] == "ImagePullBackOff" || done["reason"] == "ErrImagePull") << done;
    } else {
      EXPECT_EQ(done["reason"], cases[i].reason) << done;
    }
    if (cases[i].exit_code) {
      EXPECT_EQ(done["exitCode"], *cases[i].exit_code);
    }
    EXPECT_FALSE(done.value("message", "").empty());
  }
  // A pod that could never start does not leave its Job behind.
  for (std::size_t i : {2u, 3u})
    EXPECT_TRUE(eventually([&] {
      try {
        env.kube().admin().get_job("default", "nautobot-job-" + ids[i]);
        return false;
      } catch (const std::exception&) {
        return true;
      }
    })) << cases[i].queue;
}

TEST_F(ServeE2E, LogsAndEventsAreKeptPastAOneSecondTtl) {
  json m = RuntimeEnv::test_manifest("succeed", 0.2, {{"kube-emulator/log", "line 1\nline 2\nline 3\n"}});
  m["spec"]["ttlSecondsAfterFinished"] = 1;
  env.kube().write_queue("short", m);
  start({"--log-tail-lines", "2"});
  const std::string id = submit_ok({{"queue", "short"}});
  json done = env.wait_for(url, id, {"Succeeded", "Failed"});
  EXPECT_EQ(done["state"], "Succeeded");
  // The TTL really removes the Job and its pods...
  ASSERT_TRUE(
      eventually([&] { return env.kube().admin().list_jobs("default", {}).items.empty(); }, std::chrono::seconds(10)));
  // ...and the record still has what they said.
  json kept = env.request(url, "GET", "/api/v1/jobs/" + id).body;
  EXPECT_EQ(kept["logTail"], "line 2\nline 3\n");
  bool completed_event = false;
  for (const auto& e : kept["events"]) completed_event = completed_event || e["reason"] == "Completed";
  EXPECT_TRUE(completed_event) << kept["events"];
}

TEST_F(ServeE2E, AQueueCapHoldsJobsInQueuedFirstInFirstOut) {
  env.kube().write_queue("capped", RuntimeEnv::test_manifest("succeed", 0.4));
  std::ofstream(env.kube().dir() / "values.yaml")
      << "workers:\n  capped:\n    enabled: true\n    type: kubernetes\n    maxConcurrency: 3\n";
  start({"-f", (env.kube().dir() / "values.yaml").string()});
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(submit_ok({{"queue", "capped"}, {"data", {{"n", i}}}}));
  int max_cluster = 0, max_store = 0;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      max_cluster = std::max(max_cluster, env.active_jobs_in_cluster());
      ApiReply q = env.request(url, "GET", "/api/v1/queues");
      if (q.status == 200)
        for (const auto& item : q.body["items"])
          if (item["name"] == "capped") {
            max_store = std::max(max_store, item["active"].get<int>());
            EXPECT_EQ(item["limit"], 3);
          }
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  std::vector<std::string> submitted_at;
  for (const auto& id : ids) {
    json j = env.wait_for(url, id, {"Succeeded", "Failed"}, std::chrono::seconds(60));
    EXPECT_EQ(j["state"], "Succeeded") << j;
    submitted_at.push_back(j.value("submittedAt", ""));
  }
  done = true;
  sampler.join();
  EXPECT_LE(max_cluster, 3);
  EXPECT_LE(max_store, 3);
  EXPECT_GE(max_store, 2);  // the cap is used, not just respected
  // First in, first out: each job was submitted to the cluster no earlier than the one before it.
  for (std::size_t i = 1; i < submitted_at.size(); ++i) EXPECT_LE(submitted_at[i - 1], submitted_at[i]) << i;
  // A queue the values do not enable is refused.
  EXPECT_EQ(env.submit(url, {{"queue", "other"}}).status, 404);
}

TEST_F(ServeE2E, CancelDeletesWithAGracePeriodOrDropsAQueuedJob) {
  env.kube().write_queue("slow", RuntimeEnv::test_manifest("hang", 0.1));
  start({"--max-concurrency", "1"});
  const std::string running = submit_ok({{"queue", "slow"}});
  const std::string waiting = submit_ok({{"queue", "slow"}});
  EXPECT_EQ(env.wait_for(url, running, {"Running"})["state"], "Running");
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs/" + waiting).body["state"], "Queued");
  ApiReply c = env.request(url, "POST", "/api/v1/jobs/" + waiting + "/cancel");
  EXPECT_EQ(c.status, 200) << c.text;
  EXPECT_EQ(c.body["state"], "Cancelled");
  EXPECT_EQ(c.body["reason"], "CancelledBeforeStart");
  c = env.request(url, "POST", "/api/v1/jobs/" + running + "/cancel", {{"gracePeriodSeconds", 5}});
  EXPECT_EQ(c.status, 202) << c.text;
  EXPECT_TRUE(c.body["cancelRequested"].get<bool>());
  json done = env.wait_for(url, running, {"Cancelled", "Failed", "Succeeded"});
  EXPECT_EQ(done["state"], "Cancelled") << done;
  EXPECT_THROW(env.kube().admin().get_job("default", "nautobot-job-" + running), std::exception);
  EXPECT_EQ(env.request(url, "POST", "/api/v1/jobs/" + running + "/cancel").status, 409);
  EXPECT_EQ(env.request(url, "POST", "/api/v1/jobs/nope/cancel").status, 404);
  EXPECT_EQ(env.request(url, "POST", "/api/v1/jobs/" + running + "/cancel", {{"gracePeriodSeconds", -1}}).status, 400);
  EXPECT_EQ(env.job_creates().size(), 1u);  // the cancelled queued job never reached the cluster
}

TEST_F(ServeE2E, TimeLimitBecomesActiveDeadlineSeconds) {
  env.kube().write_queue("slow", RuntimeEnv::test_manifest("hang", 0.1));
  start();
  const std::string id = submit_ok({{"queue", "slow"}, {"timeLimitSeconds", 1}});
  json done = env.wait_for(url, id, {"Succeeded", "Failed", "Cancelled"});
  EXPECT_EQ(done["state"], "Failed");
  EXPECT_EQ(done["reason"], "DeadlineExceeded");
  EXPECT_EQ(env.kube().admin().get_job("default", "nautobot-job-" + id)["spec"]["activeDeadlineSeconds"], 1);
}

}  // namespace
