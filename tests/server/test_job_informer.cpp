// serve's JobInformer against an API server on a real socket that answers by path: which Jobs it
// keeps (its own, Nautobot's, not another instance's or anybody else's), what the server is asked
// for, and the creation order in which Nautobot's new Jobs are handed over.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kube/label_selector.hpp"
#include "kube/rest_client.hpp"
#include "loopback_api_server.hpp"
#include "server/job_informer.hpp"

namespace kjq::server {
namespace job_informer_test {

using nlohmann::json;
using namespace std::chrono_literals;

json job(const std::string& name, const json& labels, const std::string& created, const std::string& rv) {
  return {{"metadata",
           {{"name", name},
            {"uid", "uid-" + name},
            {"resourceVersion", rv},
            {"creationTimestamp", created},
            {"labels", labels},
            {"annotations", {{"nautobot-job.io/worker-name", "q"}, {"kubectl.kubernetes.io/last-applied", "big"}}}}},
          {"spec", {{"suspend", false}, {"template", {{"spec", {{"containers", json::array()}}}}}}}};
}

// Lists from fixed items; watches stay open with no event until the server stops.
class PathApiServer {
 public:
  explicit PathApiServer(json jobs) : jobs_(std::move(jobs)) {}
  ~PathApiServer() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;  // the open watches end, then server_ (the last member) stops
    }
    cv_.notify_all();
  }
  PathApiServer(const PathApiServer&) = delete;
  PathApiServer& operator=(const PathApiServer&) = delete;
  kube::ClusterConfig config() const { return server_.config(); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  json jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;
  std::vector<std::string> requests_;
  test::LoopbackApiServer server_{[this](httplib::Server& s) {
    s.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req.path + "?labelSelector=" + req.get_param_value("labelSelector") +
                            (req.has_param("watch") ? "&watch" : ""));
      }
      if (req.has_param("watch")) {
        res.set_chunked_content_provider("application/json", [this](std::size_t, httplib::DataSink&) {
          std::unique_lock lock(mu_);
          cv_.wait_for(lock, 50ms, [this] { return closing_; });
          return !closing_;
        });
        return;
      }
      const bool pods = req.path.find("/pods") != std::string::npos;
      json list = {{"metadata", {{"resourceVersion", "100"}}}, {"items", pods ? json::array() : jobs_}};
      res.set_content(list.dump(), "application/json");
    });
  }};
};

const json kNautobot = {{"app.kubernetes.io/component", "nautobot-job"}};

json the_jobs() {
  return json::array({
      job("nb-late", kNautobot, "2026-12-02T10:00:02Z", "30"),
      job("nb-early", kNautobot, "2026-12-02T10:00:01Z", "40"),
      job("nb-same-second-b", kNautobot, "2026-12-02T10:00:01Z", "9"),  // created before nb-early
      job("ours", {{"kjq.nautobot.com/serve", "kjq-serve"}, {"app.kubernetes.io/component", "nautobot-job"}},
          "2026-12-02T10:00:00Z", "5"),
      job("other-instance", {{"kjq.nautobot.com/serve", "other"}, {"app.kubernetes.io/component", "nautobot-job"}},
          "2026-12-02T10:00:00Z", "6"),
      job("unrelated", {{"app", "backup"}}, "2026-12-02T10:00:00Z", "7"),
  });
}

struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> adopted, changed;
};

TEST(JobInformer, FollowsItsOwnAndNautobotsJobsAndHandsNewOnesOverInCreationOrder) {
  PathApiServer api_server(the_jobs());
  kube::RestClient client(api_server.config());
  kube::KubeApi api(client);
  JobInformer informer(api, "ns", "kjq-serve",
                       kube::LabelSelector::parse("app.kubernetes.io/component=nautobot-job", "test"));
  Seen seen;
  informer.start(
      [&](const std::string& name, std::chrono::steady_clock::time_point) {
        std::lock_guard lock(seen.mu);
        seen.changed.push_back(name);
        seen.cv.notify_all();
      },
      [&](const json& j) {
        std::lock_guard lock(seen.mu);
        seen.adopted.push_back(j["metadata"]["name"]);
      });
  {
    std::unique_lock lock(seen.mu);
    ASSERT_TRUE(seen.cv.wait_for(lock, 10s, [&] { return seen.changed.size() >= 4; }));
    EXPECT_EQ(seen.adopted, (std::vector<std::string>{"nb-same-second-b", "nb-early", "nb-late"}));
  }
  for (int i = 0; i < 500 && !informer.synced(); ++i) std::this_thread::sleep_for(10ms);  // the pods too
  EXPECT_TRUE(informer.synced());
  EXPECT_EQ(informer.job_names(), (std::vector<std::string>{"nb-early", "nb-late", "nb-same-second-b", "ours"}));
  // The slim copy keeps what the tracker reads: labels, the queue annotation, spec.suspend.
  const JobSnapshot s = informer.snapshot("nb-early");
  ASSERT_TRUE(s.job);
  EXPECT_EQ((*s.job)["metadata"]["annotations"], json({{"nautobot-job.io/worker-name", "q"}}));
  EXPECT_EQ((*s.job)["metadata"]["labels"], kNautobot);
  EXPECT_EQ((*s.job)["spec"], json({{"suspend", false}}));
  EXPECT_EQ(informer.origin_of(*s.job), JobOrigin::Nautobot);
  EXPECT_EQ(informer.origin_of(*informer.snapshot("ours").job), JobOrigin::Kjq);
  // One list and one watch per kind, the namespace's Jobs and the pods of any Job.
  informer.stop();
  for (const auto& r : api_server.requests()) {
    if (r.find("/jobs") != std::string::npos) {
      const std::string selector = r.substr(r.find("?labelSelector=") + 15);
      EXPECT_TRUE(selector.empty() || selector == "&watch") << r;  // the namespace's Jobs
    } else {
      EXPECT_NE(r.find("labelSelector=job-name"), std::string::npos) << r;
    }
  }
}

TEST(JobInformer, WithoutNautobotsSelectorTheServerSelectsThisServicesJobs) {
  PathApiServer api_server(json::array());
  kube::RestClient client(api_server.config());
  kube::KubeApi api(client);
  JobInformer informer(api, "ns", "kjq-serve", kube::LabelSelector());
  informer.start([](const std::string&, std::chrono::steady_clock::time_point) {});
  for (int i = 0; i < 500 && !informer.synced(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(informer.synced());
  informer.stop();
  const auto requests = api_server.requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests)
    EXPECT_NE(r.find("labelSelector=kjq.nautobot.com/serve=kjq-serve"), std::string::npos) << r;
  EXPECT_FALSE(informer.origin_of(job("x", kNautobot, "", "1")));
}

}  // namespace job_informer_test
}  // namespace kjq::server
