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

TEST(ServeFaults, KillNineInTheMiddleOfABurstLosesNothingAndDuplicatesNothing) {
  ServeEnv env;
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.05));
  auto serve = env.start();
  Burst burst;
  burst.urls = {serve->url()};
  std::thread killer([&] {
    while (burst.accepted < 150) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    serve->kill9();
    burst.set_url(0, "http://127.0.0.1:1");  // down: clients retry until the new process is up
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    serve = env.start();
    burst.set_url(0, serve->url());
  });
  // 400 jobs, killed after 150 were accepted: jobs are then in every state (queued, created,
  // running, finished). More jobs made the test slower, not stronger.
  burst.run(env, "default", 400, 8);
  killer.join();
  expect_exactly_once(env, serve->url(), burst.ids, 400);
}

}  // namespace
