// The evidence collector: logs read as containers end and handed to the end or the capture
// (read once), and under a backlog the order of the work (failed containers' logs, failures'
// write-backs, other logs, other failures, successes); against a real SQLite store and an API
// server on a real socket.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "forwarding_store.hpp"
#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "loopback_api_server.hpp"
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

// An API server with no Events; every pod's log is "line 1\n" (the log reads are counted, and
// each request's path is kept in order).
class EmptyApiServer {
 public:
  kube::ClusterConfig config() const { return server_.config(); }
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
  std::atomic<int> log_reads_{0};
  test::LoopbackApiServer server_{[this](httplib::Server& s) {
    s.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
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
  }};
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

// One collector on a real SQLite store and the API server above; started by each test once its
// backlog is queued.
class EvidenceCaptures : public testing::Test {
 protected:
  // Waits (5 s at most) until `n` jobs' evidence is attached, then stops the collector.
  void run_until_attached(std::size_t n) {
    collector_.start(1);
    for (int i = 0; i < 500 && store_.order().size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    collector_.stop();
  }

  test::TempDir dir_;
  std::unique_ptr<JobStore> inner_ = open_store("sqlite:" + (dir_.path() / "jobs.db").string());
  AttachOrder store_{*inner_};
  EmptyApiServer server_;
  kube::RestClient client_{server_.config(), kube::ClientOptions{}};
  kube::KubeApi api_{client_};
  ServeOptions options_;
  EvidenceCollector collector_{store_, api_, options_};
};

TEST_F(EvidenceCaptures, CapturesWriteBacksFirstThenFailuresThenSuccesses) {
  // A backlog: all queued before the one capturing thread starts.
  collector_.add(task("ok-1", JobState::Succeeded, true));  // a success's write-back is a later check
  collector_.add(task("failed-1", JobState::Failed, false));
  collector_.add(task("writeback-1", JobState::Failed, true));
  collector_.add(task("ok-2", JobState::Succeeded, false));
  collector_.add(task("cancelled-1", JobState::Cancelled, false));
  collector_.add(task("writeback-2", JobState::Failed, true));
  run_until_attached(6);
  EXPECT_EQ(store_.order(),
            (std::vector<std::string>{"writeback-1", "writeback-2", "failed-1", "cancelled-1", "ok-1", "ok-2"}));
}

// A log read when the container ended goes before every capture, and the Job's capture uses it
// instead of reading it again.
TEST_F(EvidenceCaptures, ReadsLogsAheadAndCapturesWithTheKeptOne) {
  auto ended = task("job-a", JobState::Failed, true);
  ended.pods = {ended_pod("job-a-pod")};
  collector_.add(ended);
  collector_.keep_log(ended.record.kube_name, ended.pods[0]);
  collector_.keep_log(ended.record.kube_name, ended.pods[0]);  // once per pod
  run_until_attached(1);
  EXPECT_EQ(store_.order(), std::vector<std::string>{"job-a"});
  EXPECT_EQ(store_.logs(), std::vector<std::string>{"line 1\n"});
  EXPECT_EQ(server_.log_reads(), 1);
}

// Under a backlog: failed containers' logs, then captures whose write-back waits, then the other
// logs. A capture whose own log is still queued behind it reads that log itself, at once.
TEST_F(EvidenceCaptures, ReadsFailedLogsFirstAndNeverWaitsForAQueuedRead) {
  collector_.keep_log("nautobot-job-ok", ended_pod("ok-pod", true));
  auto writeback = task("wb", JobState::Failed, true);
  collector_.add(writeback);
  collector_.keep_log("nautobot-job-bad", ended_pod("bad-pod"));
  // A Job failed past its deadline while its container exited 0: its log is an "other" read.
  auto deadline = task("deadline", JobState::Failed, true);
  deadline.pods = {ended_pod("deadline-pod", true)};
  collector_.keep_log(deadline.record.kube_name, deadline.pods[0]);
  collector_.add(deadline);
  run_until_attached(2);
  ASSERT_EQ(store_.order(), (std::vector<std::string>{"wb", "deadline"}));
  EXPECT_EQ(store_.logs()[1], "line 1\n");
  const int bad = server_.position_of("/pods/bad-pod/log");
  const int wb = server_.position_of("nautobot-job-wb");
  const int deadline_log = server_.position_of("/pods/deadline-pod/log");
  const int ok = server_.position_of("/pods/ok-pod/log");
  EXPECT_GE(bad, 0);
  EXPECT_LT(bad, wb);
  EXPECT_LT(wb, deadline_log);  // read by the deadline Job's own capture, before the other reads
  EXPECT_LT(deadline_log, ok);
  EXPECT_EQ(server_.log_reads(), 3);
}

// A cancel reads the log on the caller's thread, a queued read included (the pods are about to
// go); the end takes it.
TEST_F(EvidenceCaptures, KeepsALogNowAndHandsItOverOnce) {
  EXPECT_FALSE(collector_.take_log("job-b"));
  collector_.keep_log_now("job-b", ended_pod("job-b-pod"));
  collector_.keep_log_now("job-b", ended_pod("job-b-pod"));  // kept already: not read again
  EXPECT_EQ(server_.log_reads(), 1);
  const auto kept = collector_.take_log("job-b");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->pod, "job-b-pod");
  EXPECT_EQ(kept->log, "line 1\n");
  EXPECT_FALSE(collector_.take_log("job-b"));
  collector_.keep_log_now("job-c", ended_pod("job-c-pod"));
  collector_.forget_log("job-c");
  EXPECT_FALSE(collector_.take_log("job-c"));
  // A read still queued (no thread started here) is done on the spot.
  collector_.keep_log("job-d", ended_pod("job-d-pod", true));
  EXPECT_FALSE(collector_.take_log("job-d"));
  collector_.keep_log_now("job-d", ended_pod("job-d-pod", true));
  ASSERT_TRUE(collector_.take_log("job-d"));
  EXPECT_EQ(server_.log_reads(), 3);
}

}  // namespace
}  // namespace kjq::server
