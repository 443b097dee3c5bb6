// Admission resumes a Job Nautobot created suspended, and remembers it for a moment: a watch event
// that still shows the Job suspended is older than the resume, and the tracker must not resume it
// again (a second PATCH that its precondition refuses, under load, for every such Job). Against
// a real SQLite store and an API server on a real socket.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "loopback_api_server.hpp"
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
  kube::ClusterConfig config() const { return server_.config(); }
  int patches() const { return patches_; }
  std::string path() {
    std::lock_guard lock(mu_);
    return path_;
  }

 private:
  std::mutex mu_;
  std::string path_;
  std::atomic<int> patches_{0};
  test::LoopbackApiServer server_{[this](httplib::Server& s) {
    s.Patch(".*", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        path_ = req.path;
      }
      ++patches_;
      res.set_content(R"({"kind":"Job","metadata":{"name":"nautobot-job-1","resourceVersion":"8"},)"
                      R"("spec":{"suspend":false}})",
                      "application/json");
    });
  }};
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
