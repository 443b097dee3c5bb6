// The evidence collector under a backlog: what matters most is captured first (a failure's
// write-back into Nautobot, then other failures, then successes), first come, first served within
// each; against a real SQLite store and an API server on a real socket.
#include <gtest/gtest.h>

#include <atomic>
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

// Records the order in which the collector attaches evidence, and the log tails attached.
class AttachOrder : public test::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  bool attach_evidence(const std::string& id, const Evidence& e) override {
    {
      std::lock_guard lock(mu_);
      order_.push_back(id);
      logs_.push_back(e.log_tail.value_or("(none)"));
    }
    return inner_.attach_evidence(id, e);
  }
  std::vector<std::string> order() {
    std::lock_guard lock(mu_);
    return order_;
  }
  std::vector<std::string> logs() {
    std::lock_guard lock(mu_);
    return logs_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> order_, logs_;
};

// An API server with no Events; every pod's log is "line 1\n" (the log reads are counted).
class EmptyApiServer {
 public:
  EmptyApiServer() {
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req.path +
                            (req.has_param("fieldSelector") ? "?" + req.get_param_value("fieldSelector") : ""));
      }
      if (req.path.size() > 4 && req.path.substr(req.path.size() - 4) == "/log") {
        ++log_reads_;
        res.set_content("line 1\n", "text/plain");
        return;
      }
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
  int log_reads() const { return log_reads_; }
  // Where the first request whose path contains `part` came in the order of requests (-1: none).
  int position_of(const std::string& part) {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < requests_.size(); ++i)
      if (requests_[i].find(part) != std::string::npos) return static_cast<int>(i);
    return -1;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> requests_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> log_reads_{0};
};

// A pod whose job container has ended (exit code 1, or 0 with `succeeded`).
nlohmann::json ended_pod(const std::string& name, bool succeeded = false) {
  nlohmann::json pod;
  pod["metadata"] = {{"name", name}, {"creationTimestamp", "2026-12-03T10:00:00Z"}};
  pod["spec"]["containers"] = nlohmann::json::array({{{"name", "nautobot-job"}}});
  nlohmann::json status;
  status["name"] = "nautobot-job";
  status["state"]["terminated"] = {{"exitCode", succeeded ? 0 : 1}, {"reason", succeeded ? "Completed" : "Error"}};
  pod["status"]["phase"] = succeeded ? "Succeeded" : "Failed";
  pod["status"]["containerStatuses"] = nlohmann::json::array({status});
  return pod;
}

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

// A log read when the container ended goes before every capture, and the Job's capture uses it
// instead of reading it again.
TEST(EvidenceCollector, ReadsLogsAheadAndCapturesWithTheKeptOne) {
  test::TempDir dir;
  auto inner = open_store("sqlite:" + (dir.path() / "jobs.db").string());
  AttachOrder store(*inner);
  EmptyApiServer server;
  kube::RestClient client(server.config(), kube::ClientOptions{});
  kube::KubeApi api(client);
  ServeOptions options;
  EvidenceCollector collector(store, api, options);
  auto ended = task("job-a", JobState::Failed, true);
  ended.pods = {ended_pod("job-a-pod")};
  collector.add(ended);
  collector.keep_log(ended.record.kube_name, ended.pods[0]);
  collector.keep_log(ended.record.kube_name, ended.pods[0]);  // once per pod
  collector.start(1);
  for (int i = 0; i < 500 && store.order().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  collector.stop();
  EXPECT_EQ(store.order(), std::vector<std::string>{"job-a"});
  EXPECT_EQ(store.logs(), std::vector<std::string>{"line 1\n"});
  EXPECT_EQ(server.log_reads(), 1);
}

// Under a backlog: failed containers' logs, then captures whose write-back waits, then the other
// logs. A capture whose own log is still queued behind it reads that log itself, at once.
TEST(EvidenceCollector, ReadsFailedLogsFirstAndNeverWaitsForAQueuedRead) {
  test::TempDir dir;
  auto inner = open_store("sqlite:" + (dir.path() / "jobs.db").string());
  AttachOrder store(*inner);
  EmptyApiServer server;
  kube::RestClient client(server.config(), kube::ClientOptions{});
  kube::KubeApi api(client);
  ServeOptions options;
  EvidenceCollector collector(store, api, options);
  collector.keep_log("nautobot-job-ok", ended_pod("ok-pod", true));
  auto writeback = task("wb", JobState::Failed, true);
  collector.add(writeback);
  collector.keep_log("nautobot-job-bad", ended_pod("bad-pod"));
  // A Job failed past its deadline while its container exited 0: its log is an "other" read.
  auto deadline = task("deadline", JobState::Failed, true);
  deadline.pods = {ended_pod("deadline-pod", true)};
  collector.keep_log(deadline.record.kube_name, deadline.pods[0]);
  collector.add(deadline);
  collector.start(1);
  for (int i = 0; i < 300 && store.order().size() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  collector.stop();
  ASSERT_EQ(store.order(), (std::vector<std::string>{"wb", "deadline"}));
  EXPECT_EQ(store.logs()[1], "line 1\n");
  const int bad = server.position_of("/pods/bad-pod/log");
  const int wb = server.position_of("nautobot-job-wb");
  const int deadline_log = server.position_of("/pods/deadline-pod/log");
  const int ok = server.position_of("/pods/ok-pod/log");
  EXPECT_GE(bad, 0);
  EXPECT_LT(bad, wb);
  EXPECT_LT(wb, deadline_log);  // read by the deadline Job's own capture, before the other reads
  EXPECT_LT(deadline_log, ok);
  EXPECT_EQ(server.log_reads(), 3);
}

// A cancel reads the log on the caller's thread (the pods are about to go); the end takes it.
TEST(EvidenceCollector, KeepsALogNowAndHandsItOverOnce) {
  test::TempDir dir;
  auto inner = open_store("sqlite:" + (dir.path() / "jobs.db").string());
  EmptyApiServer server;
  kube::RestClient client(server.config(), kube::ClientOptions{});
  kube::KubeApi api(client);
  ServeOptions options;
  EvidenceCollector collector(*inner, api, options);
  EXPECT_FALSE(collector.take_log("job-b"));
  collector.keep_log_now("job-b", ended_pod("job-b-pod"));
  collector.keep_log_now("job-b", ended_pod("job-b-pod"));  // kept already: not read again
  EXPECT_EQ(server.log_reads(), 1);
  const auto kept = collector.take_log("job-b");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->pod, "job-b-pod");
  EXPECT_EQ(kept->log, "line 1\n");
  EXPECT_FALSE(collector.take_log("job-b"));
  collector.keep_log_now("job-c", ended_pod("job-c-pod"));
  collector.forget_log("job-c");
  EXPECT_FALSE(collector.take_log("job-c"));
}

}  // namespace
}  // namespace kjq::server
