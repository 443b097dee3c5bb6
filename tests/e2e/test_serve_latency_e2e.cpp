// kjq serve against slow and idle clients, as a real process: /healthz and a submit answer within
// 100 ms while 1,000 idle connections and 50 clients sending their headers a byte at a time are
// open. It measures latency, so it runs alone (SERIAL), as load beside it would measure the load.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "e2e/serve_fixture.hpp"
#include "support/raw_client.hpp"

using namespace kjq::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

class ServeLatencyE2E : public ServeTest {};

TEST_F(ServeLatencyE2E, IdleAndSlowHeaderClientsLeaveHealthzAndSubmitAnswering) {
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.1));
  start();
  std::vector<RawClient> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.emplace_back(port);
    ASSERT_TRUE(idle.back().connected()) << i;
  }
  std::vector<RawClient> slow;
  for (int i = 0; i < 50; ++i) slow.emplace_back(port);
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    const std::string header = "POST /api/v1/jobs HTTP/1.1\r\nHost: t\r\nX-Slow: ";
    for (std::size_t i = 0; !done; ++i) {
      for (auto& s : slow) s.send(std::string_view(&header[std::min(i, header.size() - 1)], 1));
      std::this_thread::sleep_for(20ms);
    }
  });
  std::this_thread::sleep_for(500ms);
  double worst_health = 0, worst_submit = 0;
  for (int i = 0; i < 10; ++i) {
    auto t0 = Clock::now();
    Answer h = ask(port, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 2s);
    worst_health = std::max(worst_health, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    EXPECT_EQ(h.status, 200);
    t0 = Clock::now();
    Answer s = ask(port, raw_post("/api/v1/jobs", R"({"queue":"default","data":{"i":)" + std::to_string(i) + "}}"), 2s);
    worst_submit = std::max(worst_submit, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    EXPECT_EQ(s.status, 202) << s.body;
  }
  done = true;
  trickle.join();
  EXPECT_LT(worst_health, 100.0);
  EXPECT_LT(worst_submit, 100.0);
  std::cerr << "worst /healthz " << worst_health << " ms, worst submit " << worst_submit << " ms\n";
}

}  // namespace
