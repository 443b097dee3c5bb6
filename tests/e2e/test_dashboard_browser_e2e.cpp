// The dashboard in a real browser: Debian's chromium, headless, driven by puppeteer-core
// (tests/browser/dashboard.mjs) against one real `kjq serve` and kube-emulator. This test prepares
// the jobs (finished ones with logs and Events, one whose log is an XSS line, waiting ones in a
// paused queue), then runs the script once: one browser, one serve process, every check in it.
// Screenshots go to <build>/dashboard-screenshots.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "e2e/serve_fixture.hpp"

using namespace kjq::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kViewerToken = "serve-viewer-token-9";
constexpr const char* kXssLine = "<img src=x onerror=alert(1)>";

TEST(DashboardBrowserE2E, SignInFiltersDetailLiveUpdatesCancelAndXssInChromium) {
  const fs::path script = fs::path(KJQ_SOURCE_DIR) / "tests/browser/dashboard.mjs";
  const fs::path modules = fs::path(KJQ_SOURCE_DIR) / "tests/browser/node_modules/puppeteer-core";
  const char* chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium) || !fs::exists(modules) || !fs::exists("/usr/bin/node")) {
    // CI installs them (.ci/run): there a missing tool is a failure, not a quiet skip.
    if (std::getenv("CI") != nullptr)
      FAIL() << "needs chromium, node and tests/browser/node_modules (scripts/install-test-tools.sh)";
    GTEST_SKIP() << "needs chromium, node and tests/browser/node_modules (scripts/install-test-tools.sh)";
  }

  ServeEnv env;
  env.kube().write_queue("default",
                         RuntimeEnv::test_manifest("succeed", 0.2, {{"kube-emulator/log", "hello from the job\n"}}));
  env.kube().write_queue("reports",
                         RuntimeEnv::test_manifest("fail", 0.2,
                                                   {{"kube-emulator/log", std::string("starting\n") + kXssLine + "\n"},
                                                    {"kube-emulator/exit-code", "3"}}));
  env.kube().write_queue("held", RuntimeEnv::test_manifest("hang", 60));
  std::ofstream(env.kube().dir() / "viewer.token") << kViewerToken << "\n";
  auto serve = env.start({"--viewer-token-file", (env.kube().dir() / "viewer.token").string()});
  const std::string url = serve->url();

  ASSERT_EQ(env.request(url, "POST", "/api/v1/queues/held/pause").status, 200);
  json ids = json::object();
  for (const char* name : {"ok-1", "ok-2"})
    ASSERT_EQ(env.submit(url, {{"queue", "default"}, {"id", name}}).status, 202);
  ASSERT_EQ(env.submit(url, {{"queue", "reports"}, {"id", "xss-job"}, {"data", {{"note", kXssLine}}}}).status, 202);
  for (const char* name : {"held-live", "held-ui", "held-viewer"})
    ASSERT_EQ(env.submit(url, {{"queue", "held"}, {"id", name}}).status, 202);
  for (const char* name : {"ok-1", "ok-2"})
    EXPECT_EQ(env.wait_for(url, name, {"Succeeded", "Failed"})["state"], "Succeeded");
  json failed = env.wait_for(url, "xss-job", {"Succeeded", "Failed"});
  ASSERT_EQ(failed["state"], "Failed") << failed;
  // The log tail may follow the end (the evidence is captured right after it is recorded).
  ASSERT_TRUE(eventually([&] {
    return env.request(url, "GET", "/api/v1/jobs/xss-job").body.value("logTail", "").find(kXssLine) !=
           std::string::npos;
  })) << env.request(url, "GET", "/api/v1/jobs/xss-job").body;

  const fs::path shots = fs::path(KJQ_BINARY_DIR) / "dashboard-screenshots";
  fs::create_directories(shots);
  ProcessResult r = run_process({"/usr/bin/node", script.string()}, 60,
                                {"KJQ_URL=" + url, std::string("KJQ_OPERATOR_TOKEN=") + ServeEnv::kApiToken,
                                 std::string("KJQ_VIEWER_TOKEN=") + kViewerToken, "KJQ_SCREENSHOTS=" + shots.string(),
                                 std::string("KJQ_CHROMIUM=") + chromium, "HOME=" + env.kube().dir().string()});
  EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  EXPECT_NE(r.out.find("all dashboard checks passed"), std::string::npos) << r.out;
  std::cout << r.out;
  // What the browser did went through the real API.
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs/held-ui").body["state"], "Cancelled");
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs/held-viewer").body["state"], "Queued");
  // The paused queue held its job through all of that; resumed, admission takes it at once.
  ASSERT_EQ(env.request(url, "POST", "/api/v1/queues/held/resume").status, 200);
  const json admitted =
      env.wait_for(url, "held-viewer", {"Submitted", "Scheduled", "Running"}, std::chrono::seconds(5));
  EXPECT_NE(admitted["state"], "Queued") << admitted;
}

}  // namespace
