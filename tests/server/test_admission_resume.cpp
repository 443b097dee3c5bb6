// Admission resumes a Job Nautobot created suspended, and remembers it for a moment: a watch event
// that still shows the Job suspended is older than the resume, and the tracker must not resume it
// again (a second PATCH that its precondition refuses, under load, for every such Job). Against
// a real SQLite store and an API server on a real socket.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <httplib.h>

#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "queue/manifest_store.hpp"
#include "server/admission.hpp"
#include "server/nautobot_jobs.hpp"
#include "server/serve_metrics.hpp"
#include "server/store/job_store.hpp"
#include "support/test_support.hpp"
#include "util/clock.hpp"

namespace kjq::server {
namespace {

namespace fs = std::filesystem;

// Answers every PATCH as a resumed Job, counting them.
class ResumingApiServer {
 public:
  ResumingApiServer() {
    server_.Patch(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ++patches_;
      path_ = req.path;
      res.set_content(R"({"kind":"Job","metadata":{"name":"nautobot-job-1","resourceVersion":"8"},)"
                      R"("spec":{"suspend":false}})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ResumingApiServer() {
    server_.stop();
    thread_.join();
  }
  kube::ClusterConfig config() const {
    kube::ClusterConfig c;
    c.server = "http://127.0.0.1:" + std::to_string(port_);
    c.token = "kube-token";
    return c;
  }
  int patches() const { return patches_; }
  std::string path() const { return path_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> patches_{0};
  std::string path_;
};

TEST(AdmissionResume, RemembersAResumeForAMoment) {
  test::TempDir dir;
  auto store = open_store("sqlite:" + (dir.path() / "jobs.db").string());
  fs::create_directories(dir.path() / "job-queues");
  queue::ManifestStore manifests(dir.path() / "job-queues");
  ResumingApiServer server;
  kube::RestClient client(server.config());
  kube::KubeApi api(client);
  ServeOptions options;
  ServeMetrics metrics;
  AdoptedJob job;
  job.id = "11111111-2222-4333-8444-555555555555";
  job.job_result_id = job.id;
  job.queue = "default";
  job.kube_name = "nautobot-job-" + job.id;
  job.kube_uid = "uid-1";
  job.state = JobState::Queued;
  job.reason = kWaitingForAdmission;  // suspended, labelled for kjq's admission
  job.created_ms = job.now_ms = now_ms();
  ASSERT_TRUE(store->adopt(job).inserted);

  Admission admission(*store, api, manifests, options, metrics);
  EXPECT_FALSE(admission.resumed_lately(job.id));
  admission.start();
  admission.wake();
  for (int i = 0; i < 500 && server.patches() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (int i = 0; i < 500 && admission.in_flight(job.id); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  admission.stop();
  ASSERT_EQ(server.patches(), 1);
  EXPECT_EQ(server.path(), "/apis/batch/v1/namespaces/" + options.namespace_name + "/jobs/" + job.kube_name);
  EXPECT_TRUE(admission.resumed_lately(job.id));
  EXPECT_FALSE(admission.resumed_lately("another-job"));
}

}  // namespace
}  // namespace kjq::server
