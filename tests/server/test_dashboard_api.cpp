// The parts of the API the dashboard stands on, over a real listener: the page and its assets
// (and their security headers), operator and viewer tokens, queue pause/resume, the Job as
// created, and GET /api/v1/events carrying the changes the API makes. A SQLite store, a manifest
// directory, and a Kubernetes client pointed at a port nothing listens on (nothing here starts
// admission or the tracker).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "queue/manifest_store.hpp"
#include "server/admission.hpp"
#include "server/bearer_tokens.hpp"
#include "server/change_feed.hpp"
#include "server/dashboard.hpp"
#include "server/http_api.hpp"
#include "server/http_server.hpp"
#include "server/job_informer.hpp"
#include "server/job_tracker.hpp"
#include "server/publishing_store.hpp"
#include "server/serve_metrics.hpp"
#include "server/submit_batcher.hpp"
#include "support/raw_client.hpp"
#include "support/test_support.hpp"
#include "util/clock.hpp"

namespace {

using namespace kjq::server;
using namespace std::chrono_literals;
using kjq::test::Answer;
using kjq::test::ask;
using kjq::test::RawClient;

constexpr const char* kOperator = "operator-token-0123";
constexpr const char* kViewer = "viewer-token-4567";

kjq::kube::ClusterConfig cluster_nobody_answers() {
  kjq::kube::ClusterConfig c;
  c.server = "http://127.0.0.1:1";
  c.token = "unused";
  c.source = "unit test";
  return c;
}

std::string header_of(const Answer& a, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  const auto at = a.head.find(key);
  if (at == std::string::npos) return "";
  const auto end = a.head.find("\r\n", at + key.size());
  return a.head.substr(at + key.size(), end - at - key.size());
}

class DashboardApi : public testing::Test {
 protected:
  DashboardApi()
      : store_(std::make_unique<PublishingStore>(open_store("sqlite:" + (dir_.path() / "jobs.db").string()), feed_)),
        manifests_(make_manifests(dir_)),
        tokens_(dir_.write("api-token", std::string(kOperator) + "\n")),
        viewer_tokens_(dir_.write("viewer-token", std::string(kViewer) + "\n"), "--viewer-token-file"),
        client_(cluster_nobody_answers()),
        api_(client_),
        batcher_(*store_),
        informer_(api_, options_.namespace_name, options_.instance, kjq::kube::LabelSelector()),
        admission_(*store_, api_, manifests_, options_, metrics_),
        tracker_(*store_, api_, informer_, admission_, options_, metrics_),
        ctx_{*store_, batcher_, admission_, tracker_, informer_, metrics_,        options_, manifests_,
             tokens_, false,    {},         nullptr,  nullptr,   &viewer_tokens_, &feed_,   nullptr} {
    feed_.start();
    install_job_api(server_, ctx_);
    install_dashboard(server_);
    port_ = server_.listen("127.0.0.1", 0);
  }
  ~DashboardApi() override {
    feed_.stop();
    server_.stop();
  }

  static kjq::queue::ManifestStore make_manifests(kjq::test::TempDir& dir) {
    dir.write("job-queues/default/manifest.json",
              R"({"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {"restartPolicy": "Never",)"
              R"( "containers": [{"name": "job", "image": "nautobot:2"}]}}}})");
    return kjq::queue::ManifestStore(dir.path() / "job-queues");
  }

  Answer call(const std::string& method, const std::string& target, const std::string& token,
              const std::string& body = "") {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!body.empty() || method == "POST")
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    return ask(port_, req + "\r\n" + body);
  }
  std::string submit(const std::string& id) {
    auto a = call("POST", "/api/v1/jobs", kOperator, R"({"queue": "default", "id": ")" + id + R"("})");
    EXPECT_EQ(a.status, 202) << a.body;
    return id;
  }

  kjq::test::TempDir dir_;
  ServeOptions options_;
  ServeMetrics metrics_;
  ChangeFeed feed_;
  std::unique_ptr<JobStore> store_;
  kjq::queue::ManifestStore manifests_;
  BearerTokens tokens_, viewer_tokens_;
  kjq::kube::RestClient client_;
  kjq::kube::KubeApi api_;
  SubmitBatcher batcher_;
  JobInformer informer_;
  Admission admission_;
  JobTracker tracker_;
  ApiContext ctx_;
  http::HttpServer server_;
  int port_ = 0;
};

TEST_F(DashboardApi, ThePageAndItsAssetsNeedNoTokenAndCarryAStrictPolicy) {
  auto page = call("GET", "/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(header_of(page, "Content-Type"), "text/html; charset=utf-8");
  const std::string csp = header_of(page, "Content-Security-Policy");
  for (const char* part :
       {"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"})
    EXPECT_NE(csp.find(part), std::string::npos) << part << " missing from " << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(header_of(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(page, "X-Frame-Options"), "DENY");
  // No inline script or style in the page: every <script> has a src, and no style attribute.
  EXPECT_NE(page.body.find(R"(<script src="/assets/app.js")"), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_EQ(page.body.find("style="), std::string::npos);
  EXPECT_EQ(page.body.find("<style"), std::string::npos);
  EXPECT_EQ(page.body.find("http"), std::string::npos) << "nothing is loaded from elsewhere";

  auto js = call("GET", "/assets/app.js", "");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(header_of(js, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header_of(js, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(js.body.find("innerHTML"), std::string::npos) << "job text reaches the page as text only";
  EXPECT_EQ(js.body.find("localStorage"), std::string::npos) << "the token is kept for the tab only";
  EXPECT_EQ(call("GET", "/assets/app.css", "").status, 200);
  for (const char* bad : {"/assets/missing.js", "/assets/index.html", "/assets/..%2Fapi-token", "/assets/%2e%2e"})
    EXPECT_EQ(call("GET", bad, "").status, 404) << bad;
}

TEST_F(DashboardApi, ViewersReadButCannotSubmitCancelOrPause) {
  const std::string id = submit("job-one");
  EXPECT_NE(call("GET", "/api/v1/whoami", kOperator).body.find(R"("role":"operator")"), std::string::npos);
  EXPECT_NE(call("GET", "/api/v1/whoami", kViewer).body.find(R"("role":"viewer")"), std::string::npos);
  for (const char* target : {"/api/v1/jobs", "/api/v1/jobs/job-one", "/api/v1/queues", "/api/v1/jobs/job-one/manifest"})
    EXPECT_EQ(call("GET", target, kViewer).status, 200) << target;
  auto refused = call("POST", "/api/v1/jobs/" + id + "/cancel", kViewer);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Forbidden"), std::string::npos);
  EXPECT_EQ(refused.body.find(kViewer), std::string::npos) << "a token never appears in an answer";
  EXPECT_EQ(call("POST", "/api/v1/jobs", kViewer, R"({"queue": "default"})").status, 403);
  EXPECT_EQ(call("POST", "/api/v1/queues/default/pause", kViewer).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/queues/default/resume", kViewer).status, 403);
  EXPECT_EQ(store_->get(id)->state, JobState::Queued) << "the refused cancel changed nothing";
  // No token, a wrong one, one that differs by case or a byte: 401 everywhere, events included.
  for (const std::string& token :
       {std::string(""), std::string("nope"), std::string(kViewer) + "x", std::string("VIEWER-TOKEN-4567")})
    for (const char* target : {"/api/v1/jobs", "/api/v1/events", "/api/v1/whoami"})
      EXPECT_EQ(call("GET", target, token).status, 401) << target << " with \"" << token << "\"";
  EXPECT_EQ(call("POST", "/api/v1/jobs/" + id + "/cancel", kOperator).status, 200);
  EXPECT_EQ(store_->get(id)->state, JobState::Cancelled);
}

TEST_F(DashboardApi, APausedQueueKeepsItsJobsQueuedUntilResumedAndSaysSo) {
  submit("waits-1");
  submit("waits-2");
  auto paused = call("POST", "/api/v1/queues/default/pause", kOperator);
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_NE(paused.body.find(R"("paused":true)"), std::string::npos) << paused.body;
  EXPECT_NE(paused.body.find(R"("queued":2)"), std::string::npos) << paused.body;
  EXPECT_TRUE(store_->claim("default", 0, 10, "r", "nautobot-job", kjq::now_ms()).empty());
  EXPECT_TRUE(store_->queues_with_waiting_jobs().empty());
  auto queues = call("GET", "/api/v1/queues", kViewer);
  EXPECT_NE(queues.body.find(R"("paused":true)"), std::string::npos) << queues.body;
  EXPECT_NE(queues.body.find(R"("oldestQueuedMs":)"), std::string::npos) << queues.body;
  // Pausing again changes nothing and still answers 200.
  EXPECT_EQ(call("POST", "/api/v1/queues/default/pause", kOperator).status, 200);
  // A paused queue that has no jobs yet is listed too.
  EXPECT_EQ(call("POST", "/api/v1/queues/reports/pause", kOperator).status, 200);
  EXPECT_NE(call("GET", "/api/v1/queues", kViewer).body.find(R"("name":"reports")"), std::string::npos);
  // Names that would leave the manifest directory are refused.
  for (const char* bad : {"/api/v1/queues/..%2Fetc/pause", "/api/v1/queues/.../pause"})
    EXPECT_EQ(call("POST", bad, kOperator).status, 400) << bad;

  auto resumed = call("POST", "/api/v1/queues/default/resume", kOperator);
  ASSERT_EQ(resumed.status, 200);
  EXPECT_NE(resumed.body.find(R"("paused":false)"), std::string::npos) << resumed.body;
  auto claimed = store_->claim("default", 0, 10, "r", "nautobot-job", kjq::now_ms());
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].id, "waits-1");
}

TEST_F(DashboardApi, TheJobAsCreatedIsTheManifestPreparedForIt) {
  submit("shown-job");
  auto a = call("GET", "/api/v1/jobs/shown-job/manifest", kViewer);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(header_of(a, "Content-Type"), "application/yaml; charset=utf-8");
  EXPECT_NE(a.body.find("kind: Job\n"), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("name: nautobot-job-shown-job\n"), std::string::npos) << a.body;
  EXPECT_EQ(call("GET", "/api/v1/jobs/missing/manifest", kViewer).status, 404);
}

TEST_F(DashboardApi, EventsCarryTheChangesTheApiMakes) {
  RawClient c(port_);
  ASSERT_TRUE(
      c.send(std::string("GET /api/v1/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ") + kViewer + "\r\n\r\n"));
  ASSERT_TRUE(c.read_until([](const std::string& b) { return b.find("event: ready") != std::string::npos; }, 3s))
      << c.received();
  EXPECT_NE(c.received().find("Content-Type: text/event-stream"), std::string::npos);
  EXPECT_NE(c.received().find("Cache-Control: no-store"), std::string::npos);
  submit("live-job");
  ASSERT_TRUE(c.read_until([](const std::string& b) { return b.find(R"("id":"live-job")") != std::string::npos; }, 3s))
      << c.received();
  EXPECT_NE(c.received().find(R"("state":"Queued")"), std::string::npos);
  EXPECT_EQ(call("POST", "/api/v1/queues/default/pause", kOperator).status, 200);
  EXPECT_EQ(call("POST", "/api/v1/jobs/live-job/cancel", kOperator).status, 200);
  ASSERT_TRUE(
      c.read_until([](const std::string& b) { return b.find(R"("state":"Cancelled")") != std::string::npos; }, 3s))
      << c.received();
  EXPECT_NE(c.received().find("event: queue\ndata: {\"at\":"), std::string::npos) << c.received();
  EXPECT_NE(c.received().find(R"("paused":true)"), std::string::npos);
  // The id to resume from may come as ?lastEventId= too (for clients that cannot set headers);
  // one this server never gave gets a reset.
  RawClient again(port_);
  ASSERT_TRUE(
      again.send(std::string("GET /api/v1/events?lastEventId=1-1 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ") +
                 kViewer + "\r\n\r\n"));
  EXPECT_TRUE(again.read_until([](const std::string& b) { return b.find("event: reset") != std::string::npos; }, 3s))
      << again.received();
  // A refused change publishes nothing.
  const auto before = feed_.stats().published;
  EXPECT_EQ(call("POST", "/api/v1/jobs/live-job/cancel", kOperator).status, 409);
  EXPECT_EQ(call("POST", "/api/v1/queues/default/pause", kOperator).status, 200);
  EXPECT_EQ(feed_.stats().published, before);
}

}  // namespace
