// kjq watch against kube-emulator: exits when the job ends, survives dropped watches, relists on
// 410 Gone, and keeps working while the service-account token file rotates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "e2e/runtime_fixture.hpp"

namespace kjq::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

const std::string kWatchedId = "5d1c2a4e-0000-4c8e-9d55-2a3c1e7f9a01";
const std::string kWatchedName = "nautobot-job-" + kWatchedId;

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
  EXPECT_THAT(r.out, HasSubstr(kWatchedName + "  Submitted/"));
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
  EXPECT_THAT(r.out, HasSubstr(kWatchedName + "  Submitted/"));
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

}  // namespace
}  // namespace kjq::test
