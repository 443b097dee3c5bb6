// The evidence collector under a backlog: what matters most is captured first (a failure's
// write-back into Nautobot, then other failures, then successes), first come, first served within
// each; against a real SQLite store and an API server on a real socket.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "forwarding_store.hpp"
#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "server/evidence_collector.hpp"
#include "server/store/job_store.hpp"
#include "support/test_support.hpp"

namespace kjq::server {
namespace {

// Records the order in which the collector attaches evidence.
class AttachOrder : public test::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  bool attach_evidence(const std::string& id, const Evidence& e) override {
    {
      std::lock_guard lock(mu_);
      order_.push_back(id);
    }
    return inner_.attach_evidence(id, e);
  }
  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> order_;
};

// An API server with no Events and no logs.
class EmptyApiServer {
 public:
  EmptyApiServer() {
    server_.Get(".*", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"kind":"EventList","items":[]})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~EmptyApiServer() {
    server_.stop();
    thread_.join();
  }
  kube::ClusterConfig config() const {
    kube::ClusterConfig c;
    c.server = "http://127.0.0.1:" + std::to_string(port_);
    c.token = "kube-token";
    return c;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

EvidenceCollector::Task task(const std::string& id, JobState state, bool writeback) {
  EvidenceCollector::Task t;
  t.record.id = id;
  t.record.kube_name = "nautobot-job-" + id;
  t.finish.state = state;
  if (writeback) t.finish.writeback_json = R"({"kind":"failure"})";
  return t;
}

TEST(EvidenceCollector, CapturesWriteBacksFirstThenFailuresThenSuccesses) {
  test::TempDir dir;
  auto inner = open_store("sqlite:" + (dir.path() / "jobs.db").string());
  AttachOrder store(*inner);
  EmptyApiServer server;
  kube::RestClient client(server.config(), kube::ClientOptions{});
  kube::KubeApi api(client);
  ServeOptions options;
  EvidenceCollector collector(store, api, options);
  // A backlog: all queued before the one capturing thread starts.
  collector.add(task("ok-1", JobState::Succeeded, true));  // a success's write-back is a later check
  collector.add(task("failed-1", JobState::Failed, false));
  collector.add(task("writeback-1", JobState::Failed, true));
  collector.add(task("ok-2", JobState::Succeeded, false));
  collector.add(task("cancelled-1", JobState::Cancelled, false));
  collector.add(task("writeback-2", JobState::Failed, true));
  collector.start(1);
  for (int i = 0; i < 500 && store.order().size() < 6; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  collector.stop();
  EXPECT_EQ(store.order(),
            (std::vector<std::string>{"writeback-1", "writeback-2", "failed-1", "cancelled-1", "ok-1", "ok-2"}));
}

}  // namespace
}  // namespace kjq::server
