// kjq serve under `kill -9` in the middle of a 400-job burst. The emulator's create log is the
// witness that no Job was created twice and none was lost. Runs alone (SERIAL): it keeps both
// cores busy.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/serve_fixture.hpp"

using namespace kjq::test;
using nlohmann::json;

namespace {

// Submits `n` jobs with fixed ids from several threads, retrying each until the API accepts it
// (the service may be down between a kill and a restart), while `during` runs alongside.
struct Burst {
  std::mutex mu;
  std::string url;
  std::atomic<int> accepted{0};
  std::set<std::string> ids;
  void run(const ServeEnv& env, const std::string& queue, int n, int threads) {
    std::vector<std::thread> workers;
    std::atomic<int> next{0};
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (int i; (i = next++) < n;) {
          const std::string id = "burst-" + std::to_string(i);
          for (int attempt = 0; attempt < 2000; ++attempt) {
            std::string base;
            {
              std::lock_guard lock(mu);
              base = url;
            }
            ApiReply r = env.submit(base, {{"queue", queue}, {"id", id}, {"data", {{"i", i}}}});
            if (r.status == 202 || r.status == 200) {
              ++accepted;
              std::lock_guard lock(mu);
              ids.insert(id);
              break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
      });
    for (auto& w : workers) w.join();
  }
  void set_url(const std::string& u) {
    std::lock_guard lock(mu);
    url = u;
  }
};

TEST(ServeFaults, KillNineInTheMiddleOfABurstLosesNothingAndDuplicatesNothing) {
  ServeEnv env;
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.05));
  auto serve = env.start();
  Burst burst;
  burst.set_url(serve->url());
  std::thread killer([&] {
    while (burst.accepted < 150) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    serve->kill9();
    burst.set_url("http://127.0.0.1:1");  // down: clients retry until the new process is up
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    serve = env.start();
    burst.set_url(serve->url());
  });
  // 400 jobs, killed after 150 were accepted: jobs are then in every state (queued, created,
  // running, finished). More jobs made the test slower, not stronger.
  burst.run(env, "default", 400, 8);
  killer.join();
  expect_exactly_once(env, serve->url(), burst.ids, 400);
}

}  // namespace
