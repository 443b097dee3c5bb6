// kjq serve under trouble: injected 503/429 answers, dropped watches, 410 Gone (the `kill -9`
// burst is in test_serve_kill9_e2e.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/serve_fixture.hpp"

using namespace kjq::test;
using nlohmann::json;

namespace {

std::vector<std::string> submit_many(const ServeEnv& env, const std::string& url, const std::string& queue, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ApiReply r = env.submit(url, {{"queue", queue}, {"data", {{"n", i}}}});
    EXPECT_EQ(r.status, 202) << r.text;
    ids.push_back(r.body.value("id", ""));
  }
  return ids;
}

void expect_all_succeed(const ServeEnv& env, const std::string& url, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    json j = env.wait_for(url, id, {"Succeeded", "Failed", "Cancelled"}, std::chrono::seconds(60));
    EXPECT_EQ(j["state"], "Succeeded") << j;
  }
}

TEST(ServeFaults, RetriesThrough503And429) {
  ServeEnv env;
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.1));
  auto serve = env.start();
  env.kube().set_faults({{"error503Fraction", 0.2}, {"error429Fraction", 0.1}, {"retryAfterSeconds", 0}});
  auto ids = submit_many(env, serve->url(), "default", 20);
  expect_all_succeed(env, serve->url(), ids);
  env.kube().clear_faults();
  const std::string page = env.request(serve->url(), "GET", "/metrics").text;
  EXPECT_GT(metric(page, "kjq_serve_api_retries_total"), 0) << page;
  auto creates = env.job_creates();
  EXPECT_EQ(creates.size(), 20u);
  EXPECT_EQ(std::set<std::string>(creates.begin(), creates.end()).size(), 20u);
}

TEST(ServeFaults, ResumesDroppedWatchesAndRelistsOn410) {
  // A short watch history makes a resumed watch's resourceVersion too old: 410, then a relist.
  ServeEnv env(EmulatorOptions{{"--watch-history", "4"}});
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.5));
  auto serve = env.start();
  // Streams cut every 2 events while 30 jobs start: between a cut and the resume, more than 4
  // changes happen, so resumes also meet 410 and relist.
  env.kube().set_faults({{"watchDropAfterEvents", 2}});
  auto ids = submit_many(env, serve->url(), "default", 30);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // Closed for a second while the jobs run: the watches come back to a resourceVersion the
  // server no longer has.
  env.kube().set_faults({{"refuseConnectionsSeconds", 1.0}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  env.kube().set_faults({{"watchDropAfterEvents", 0}});
  expect_all_succeed(env, serve->url(), ids);
  env.kube().clear_faults();
  const std::string page = env.request(serve->url(), "GET", "/metrics").text;
  double restarts = 0;
  for (const char* r :
       {"kjq_serve_watch_restarts_total{resource=\"jobs\"}", "kjq_serve_watch_restarts_total{resource=\"pods\"}"})
    restarts += std::max(0.0, metric(page, r));
  EXPECT_GT(restarts, 0) << page;
  EXPECT_GT(metric(page, "kjq_serve_watch_relists_total"), 0) << page;
  EXPECT_EQ(serve->stop().exit_code, 0);  // SIGTERM: a clean stop
}

}  // namespace
