// kjq watch against kube-emulator: exits when the job ends, survives dropped watches, relists on
// 410 Gone, and keeps working while the service-account token file rotates. And the Jobs Nautobot
// creates itself (none of kjq's labels) in kjq list, status and watch; watch of a missing Job
// (exit 6) and --wait-for-create.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/runtime_fixture.hpp"

namespace kjq::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kWatchedId = "5d1c2a4e-0000-4c8e-9d55-2a3c1e7f9a01";
const std::string kWatchedName = "nautobot-job-" + kWatchedId;

// A Job as Nautobot creates it from the chart's manifest: the chart's labels, the queue in
// nautobot-job.io/worker-name, the JobResult's uuid in the name; none of kjq's labels. A plain create.
json nautobot_job(const std::string& id, const std::string& queue, const std::string& outcome = "succeed",
                  double run_seconds = 0.3) {
  json job = RuntimeEnv::test_manifest(outcome, run_seconds);
  job["metadata"] = {{"name", "nautobot-job-" + id},
                     {"labels",
                      {{"app.kubernetes.io/component", "nautobot-job"},
                       {"app.kubernetes.io/instance", "nautobot"},
                       {"app.kubernetes.io/name", "nautobot"}}},
                     {"annotations", {{"nautobot-job.io/worker-name", queue}}}};
  return job;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

void rotate_token(const RuntimeEnv& env, const std::string& token) {
  // Like the kubelet: write a new file, then rename it over the old one.
  std::ofstream(env.dir() / "kjq.token.new") << token << "\n";
  fs::rename(env.dir() / "kjq.token.new", env.token_file());
}

TEST(WatchE2E, ExitsWhenTheJobEndsWithPlainLinesWhenNotATty) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 0.5));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId}).exit_code, 0);
  auto r = env.kjq({"watch", kWatchedName}, {}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(kWatchedName + "  Succeeded/Completed"));
  EXPECT_EQ(r.out.find("\033["), std::string::npos);
  // Never a step back once running.
  const auto running = r.out.find("Running/");
  ASSERT_NE(running, std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Submitted/", running), std::string::npos) << r.out;
}

TEST(WatchE2E, QueueWatchPrintsChangesUntilInterrupted) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 0.3));
  auto w = env.kjq_background({"watch", "--queue", "default"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId, "--wait"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  w->signal(SIGINT);
  auto r = w->wait(10);
  // The first line is Submitted/ when the Job's watch delivers it before the pod's watch delivers
  // the pod, which kube-emulator creates already scheduled: either may come first.
  EXPECT_THAT(r.out, ::testing::ContainsRegex(kWatchedName + "  (Submitted|Scheduled)/"));
  EXPECT_THAT(r.out, HasSubstr(kWatchedName + "  Running/Running"));
  EXPECT_THAT(r.out, HasSubstr(kWatchedName + "  Succeeded/Completed"));
}

TEST(WatchE2E, QueueWatchFollowsThePods) {
  // An image that cannot be pulled shows only on the pod: the Job stays active with no condition.
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("image-pull-error"));
  auto w = env.kjq_background({"watch", "--queue", "default"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  w->signal(SIGINT);
  auto r = w->wait(10);
  EXPECT_THAT(r.out, ::testing::ContainsRegex(kWatchedName + "  (Submitted|Scheduled)/"));  // see above
  EXPECT_THAT(r.out, HasSubstr("ErrImagePull"));
  // One line per change of status or reason, not one per pod event.
  std::set<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) EXPECT_TRUE(lines.insert(line).second) << "repeated: " << line;
}

TEST(WatchE2E, DroppedWatchesResume) {
  RuntimeEnv env;
  // Two seconds in ContainerCreating: the watch starts before the pod runs, so it has at least
  // two Job changes (running, then complete) to see and has to resume between them.
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 1.5, {{"kube-emulator/pull-seconds", "2"}}));
  env.set_faults({{"watchDropAfterEvents", 1}});
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId}).exit_code, 0);
  auto r = env.kjq({"watch", kWatchedName, "-v"}, {}, 30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Running/Running"));
  EXPECT_THAT(r.out, HasSubstr("Succeeded/Completed"));
  EXPECT_THAT(r.err, HasSubstr("resum"));
}

TEST(WatchE2E, GoneRelistsTheFullState) {
  // Short watch history and no bookmarks: while the watch waits, 40 other Jobs push its
  // resourceVersion out of the history; the server ends the watch after 2 s; resuming gets 410.
  RuntimeEnv env({{"--watch-history", "5", "--watch-timeout", "2", "--bookmark-interval", "1000"}});
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 4));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId}).exit_code, 0);
  auto w = env.kjq_background({"watch", kWatchedName, "-v"});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  json other = RuntimeEnv::test_manifest("hang");
  for (int i = 0; i < 40; ++i) {
    other["metadata"]["name"] = "filler-" + std::to_string(i);
    env.admin().create_job("default", other);
  }
  auto r = w->wait(30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("410 Gone"));
  EXPECT_THAT(r.err, HasSubstr("relisting"));
  EXPECT_THAT(r.out, HasSubstr("Succeeded/Completed"));
}

TEST(WatchE2E, TokenRotationWhileWatching) {
  RuntimeEnv env({{"--watch-timeout", "1"}});
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 3));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId}).exit_code, 0);
  auto w = env.kjq_background({"watch", kWatchedName}, {{"KJQ_TOKEN_REFRESH_SECONDS", "0.5"}});
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  rotate_token(env, RuntimeEnv::kRotatedToken);  // another valid token, for another user
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  std::ofstream(env.token_file()) << "";  // an empty file mid-rotation: keep the last good token
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  rotate_token(env, RuntimeEnv::kKjqToken);
  auto r = w->wait(30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Succeeded/Completed"));
  // A token that becomes invalid: the 401 makes kjq re-read the file at once.
  rotate_token(env, "revoked-token");
  auto denied = env.kjq({"watch", kWatchedName});
  EXPECT_EQ(denied.exit_code, 5);
  EXPECT_THAT(denied.err, HasSubstr("Unauthorized"));
  EXPECT_EQ(denied.err.find("revoked-token"), std::string::npos);
}

const std::string kNautobotId = "8b7a6c5d-1111-4e2f-9a3b-0c1d2e3f4a5b";
const std::string kNautobotName = "nautobot-job-" + kNautobotId;

TEST(NautobotJobsE2E, ListShowsBothKindsAndFilters) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("hang"));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId}).exit_code, 0);
  env.admin().create_job("default", nautobot_job(kNautobotId, "bulk", "hang"));
  json unrelated = RuntimeEnv::test_manifest("hang");
  unrelated["metadata"] = {{"name", "backup-1"}, {"labels", {{"app", "backup"}}}};
  env.admin().create_job("default", unrelated);

  auto all = env.kjq({"list"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.out, HasSubstr("ORIGIN"));
  EXPECT_THAT(all.out, HasSubstr(kWatchedName + "   kjq        default"));
  EXPECT_THAT(all.out, HasSubstr(kNautobotName + "   nautobot   bulk"));
  EXPECT_THAT(all.out, Not(HasSubstr("backup-1")));

  auto json_list = env.kjq({"list", "-o", "json"});
  ASSERT_EQ(json_list.exit_code, 0) << json_list.err;
  std::map<std::string, json> items;
  const json listed = json::parse(json_list.out);
  for (const json& i : listed["items"]) items[i["name"].get<std::string>()] = i;
  ASSERT_EQ(items.size(), 2u) << json_list.out;
  EXPECT_EQ(items[kNautobotName]["origin"], "nautobot");
  EXPECT_EQ(items[kNautobotName]["queue"], "bulk");
  EXPECT_EQ(items[kNautobotName]["jobResultId"], kNautobotId);
  EXPECT_EQ(items[kWatchedName]["origin"], "kjq");
  EXPECT_EQ(items[kWatchedName]["jobResultId"], kWatchedId);

  auto nautobot_only = env.kjq({"list", "--origin", "nautobot"});
  EXPECT_THAT(nautobot_only.out, HasSubstr(kNautobotName));
  EXPECT_THAT(nautobot_only.out, Not(HasSubstr(kWatchedName)));
  auto kjq_only = env.kjq({"list", "--origin", "kjq"});
  EXPECT_THAT(kjq_only.out, HasSubstr(kWatchedName));
  EXPECT_THAT(kjq_only.out, Not(HasSubstr(kNautobotName)));
  auto selector_off = env.kjq({"list", "--nautobot-job-selector", ""});
  EXPECT_THAT(selector_off.out, HasSubstr(kWatchedName));
  EXPECT_THAT(selector_off.out, Not(HasSubstr(kNautobotName)));
  auto other_selector = env.kjq({"list", "--nautobot-job-selector", "app=backup", "-o", "json"});
  EXPECT_THAT(other_selector.out, HasSubstr("backup-1"));
  EXPECT_THAT(other_selector.out, Not(HasSubstr(kNautobotName)));

  auto bulk = env.kjq({"list", "--queue", "bulk"});
  EXPECT_THAT(bulk.out, HasSubstr(kNautobotName));
  EXPECT_THAT(bulk.out, Not(HasSubstr(kWatchedName)));
  auto by_default = env.kjq({"list", "--queue", "default"});
  EXPECT_THAT(by_default.out, HasSubstr(kWatchedName));
  EXPECT_THAT(by_default.out, Not(HasSubstr(kNautobotName)));
  auto none = env.kjq({"list", "--queue", "bulk", "--origin", "kjq"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_THAT(none.err, HasSubstr("No jobs found in namespace default"));

  auto contradiction = env.kjq({"list", "--origin", "nautobot", "--nautobot-job-selector", ""});
  EXPECT_EQ(contradiction.exit_code, 3);
  EXPECT_THAT(contradiction.err, HasSubstr("--origin"));
  EXPECT_EQ(env.kjq({"list", "--origin", "celery"}).exit_code, 2);
  EXPECT_EQ(env.kjq({"list", "--nautobot-job-selector", "a in b"}).exit_code, 3);
}

TEST(NautobotJobsE2E, StatusShowsQueueAndJobResultId) {
  RuntimeEnv env;
  env.admin().create_job("default", nautobot_job(kNautobotId, "bulk", "hang"));
  auto text = env.kjq({"status", kNautobotName});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Origin:      nautobot\n"));
  EXPECT_THAT(text.out, HasSubstr("Queue:       bulk\n"));
  EXPECT_THAT(text.out, HasSubstr("Job result:  " + kNautobotId + "\n"));
  auto j = env.kjq({"status", kNautobotName, "-o", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json s = json::parse(j.out);
  EXPECT_EQ(s["origin"], "nautobot");
  EXPECT_EQ(s["queue"], "bulk");
  EXPECT_EQ(s["jobResultId"], kNautobotId);
}

TEST(NautobotJobsE2E, QueueWatchFollowsNautobotsJobs) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 0.3));
  auto w = env.kjq_background({"watch", "--queue", "bulk"});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  env.admin().create_job("default", nautobot_job(kNautobotId, "bulk"));
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kWatchedId, "--wait"}).exit_code, 0);
  for (int i = 0; i < 50 && w->out_so_far().find(kNautobotName + "  Succeeded/Completed") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  w->signal(SIGINT);
  auto r = w->wait(10);
  EXPECT_THAT(r.out, ::testing::ContainsRegex(kNautobotName + "  (Submitted|Scheduled)/"));  // see above
  EXPECT_THAT(r.out, HasSubstr(kNautobotName + "  Succeeded/Completed"));
  EXPECT_THAT(r.out, Not(HasSubstr(kWatchedName)));  // queue default
}

TEST(NautobotJobsE2E, WatchOfAMissingJobExitsNotFoundLikeStatus) {
  RuntimeEnv env;
  auto status = env.kjq({"status", kNautobotName});
  EXPECT_EQ(status.exit_code, 6);
  auto r = env.kjq({"watch", kNautobotName}, {}, 30);
  EXPECT_EQ(r.exit_code, 6) << r.err;
  const std::string not_found = "jobs.batch \"" + kNautobotName + "\" not found";
  EXPECT_THAT(status.err, HasSubstr(not_found));
  EXPECT_THAT(r.err, HasSubstr("kjq: error: watch job " + kNautobotName + " in namespace default: NotFound"));
  EXPECT_THAT(r.err, HasSubstr(not_found));
  EXPECT_EQ(r.out, "");

  // Waiting, but nothing is created: still 6, after the duration.
  const auto started = std::chrono::steady_clock::now();
  auto waited = env.kjq({"watch", kNautobotName, "--wait-for-create=1500ms"}, {}, 30);
  EXPECT_EQ(waited.exit_code, 6) << waited.err;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  EXPECT_THAT(waited.err, HasSubstr("waiting for job " + kNautobotName + " to be created"));
  EXPECT_THAT(waited.err, HasSubstr(not_found + " (not created within 1.5s)"));

  EXPECT_EQ(env.kjq({"watch", kNautobotName, "--wait-for-create=soon"}).exit_code, 2);
  EXPECT_EQ(env.kjq({"watch", "--queue", "bulk", "--wait-for-create"}).exit_code, 3);
}

TEST(NautobotJobsE2E, WatchWaitsForTheJobToBeCreated) {
  RuntimeEnv env;
  auto w = env.kjq_background({"watch", "--wait-for-create", kNautobotName});  // the default wait (60s)
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_THAT(w->err_so_far(), HasSubstr("waiting for job " + kNautobotName + " to be created"));
  EXPECT_EQ(w->out_so_far(), "");
  env.admin().create_job("default", nautobot_job(kNautobotId, "bulk"));
  auto r = w->wait(30);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(kNautobotName + "  Succeeded/Completed"));
  EXPECT_EQ(count(r.err, "waiting for job"), 1) << r.err;  // one line when not on a terminal

  // A Job that ends Failed after the wait: 4, as without waiting.
  const std::string failing = "nautobot-job-9c8b7a6d-2222-4e2f-9a3b-0c1d2e3f4a5b";
  auto f = env.kjq_background({"watch", failing, "--wait-for-create=30s"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  env.admin().create_job("default", nautobot_job("9c8b7a6d-2222-4e2f-9a3b-0c1d2e3f4a5b", "bulk", "fail"));
  auto fr = f->wait(30);
  EXPECT_EQ(fr.exit_code, 4) << fr.err;
  EXPECT_THAT(fr.out, HasSubstr(failing + "  Failed/"));
}

}  // namespace
}  // namespace kjq::test
