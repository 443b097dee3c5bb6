// NautobotWriteBack: write-backs queued by the store's finish() reach Nautobot's JobResult (a
// throwaway PostgreSQL holding Nautobot's tables), once, and survive Nautobot's database being
// unreachable: retried with backoff, reported as unhealthy meanwhile, then written.
#include <gtest/gtest.h>

#include "server/nautobot_jobs.hpp"
#include "server/nautobot_writeback.hpp"
#include "server/store/job_store.hpp"
#include "support/nautobot_database_test.hpp"
#include "support/nautobot_schema.hpp"
#include "support/postgres_server.hpp"
#include "support/test_support.hpp"
#include "util/clock.hpp"

namespace kjq::server {
namespace {

using test::PostgresServer;

class NautobotWriteBackFixture : public test::NautobotDatabaseTest {
 protected:
  void SetUp() override {
    NautobotDatabaseTest::SetUp();
    if (unavailable()) return;
    store_ = open_store("sqlite:" + (dir_.path() / "jobs.db").string());
  }

  std::unique_ptr<NautobotWriteBack> worker(const std::string& url,
                                            std::chrono::seconds grace = std::chrono::seconds(0)) {
    return std::make_unique<NautobotWriteBack>(
        *store_, std::make_unique<nautobot::JobResultWriter>(nautobot::NautobotDatabase::from_flags(url)), metrics_,
        grace);
  }

  // A Nautobot Job adopted by kjq and finished as `state`, its write-back queued as the tracker does.
  std::string finished_job(const std::string& status, JobState state, const std::string& reason) {
    const std::string id = test::insert_job_result(*server_, db_, status);
    AdoptedJob a;
    a.id = a.job_result_id = id;
    a.queue = "default";
    a.kube_name = "nautobot-job-" + id;
    a.kube_uid = "uid-" + id;
    a.now_ms = a.created_ms = now_ms();
    const JobRecord r = store_->adopt(a).record;
    Finish f;
    f.state = state;
    f.reason = reason;
    f.exit_code = state == JobState::Failed ? std::optional<int>(137) : std::nullopt;
    f.message = "container nautobot-job: " + reason;
    f.log_tail = "Running job\nProcessing devices\n";
    f.events_json = "[]";
    f.now_ms = now_ms();
    f.writeback_json = writeback_payload(r, f);
    EXPECT_TRUE(store_->finish(id, f));
    return id;
  }

  std::string status(const std::string& id) const {
    std::string s = server_->psql("SELECT status FROM extras_jobresult WHERE id = '" + id + "'", db_);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  int log_rows(const std::string& id) const {
    return std::stoi(server_->psql(
        "SELECT COUNT(*) FROM extras_joblogentry WHERE grouping = 'kubernetes' AND job_result_id = '" + id + "'", db_));
  }
  std::string metrics() { return metrics_.scrape({}, {}, {}); }

  test::TempDir dir_;
  std::unique_ptr<JobStore> store_;
  ServeMetrics metrics_;
};

TEST_F(NautobotWriteBackFixture, AFailedJobIsWrittenOnceAndTheWriteBackIsDone) {
  const std::string id = finished_job("STARTED", JobState::Failed, "OOMKilled");
  EXPECT_EQ(store_->pending_writebacks(), 1);
  auto w = worker(url_);
  EXPECT_EQ(w->run_once(), 1);
  EXPECT_EQ(status(id), "FAILURE");
  EXPECT_EQ(log_rows(id), 4);  // the reason; the log's header and its two lines
  EXPECT_EQ(store_->pending_writebacks(), 0);
  EXPECT_EQ(w->run_once(), 0);
  EXPECT_TRUE(w->healthy());
  EXPECT_NE(metrics().find("kjq_serve_nautobot_writebacks_total{outcome=\"written\"} 1"), std::string::npos);
}

TEST_F(NautobotWriteBackFixture, AFinalJobResultIsLeftAlone) {
  const std::string id = finished_job("REVOKED", JobState::Failed, "Deleted");
  worker(url_)->run_once();
  EXPECT_EQ(status(id), "REVOKED");
  EXPECT_EQ(log_rows(id), 0);
  EXPECT_EQ(store_->pending_writebacks(), 0);
  EXPECT_NE(metrics().find("kjq_serve_nautobot_writebacks_total{outcome=\"already_final\"} 1"), std::string::npos);
}

TEST_F(NautobotWriteBackFixture, AnUnreachableDatabaseIsRetriedWithBackoffAndNothingIsLost) {
  const std::string id = finished_job("PENDING", JobState::Failed, "DeadlineExceeded");
  // Nothing listens on port 1: every attempt fails the way a database that is down does.
  auto down = worker("postgresql://kjq@127.0.0.1:1/" + db_);
  EXPECT_EQ(down->run_once(), 1);
  std::string why;
  EXPECT_FALSE(down->healthy(&why));
  EXPECT_FALSE(why.empty());
  EXPECT_EQ(store_->pending_writebacks(), 1);
  EXPECT_EQ(down->run_once(), 0);  // not due again before the backoff
  const std::vector<WriteBack> due = store_->due_writebacks(now_ms() + 5000, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].attempts, 1);
  EXPECT_GT(due[0].next_attempt_ms, now_ms() + 500);
  EXPECT_EQ(status(id), "PENDING");
  EXPECT_NE(metrics().find("kjq_serve_nautobot_writeback_errors_total 1"), std::string::npos);

  // The database is back (another process, after a restart: the store kept it).
  store_->writeback_retry(id, now_ms(), "", now_ms());  // due now, as after the backoff
  auto up = worker(url_);
  EXPECT_EQ(up->run_once(), 1);
  EXPECT_TRUE(up->healthy());
  EXPECT_EQ(status(id), "FAILURE");
  EXPECT_EQ(store_->pending_writebacks(), 0);
}

TEST_F(NautobotWriteBackFixture, ASucceededJobWhoseJobResultIsNotFinalIsReportedNotWritten) {
  const std::string stuck = finished_job("STARTED", JobState::Succeeded, "Completed");
  const std::string fine = finished_job("SUCCESS", JobState::Succeeded, "Completed");
  auto w = worker(url_, std::chrono::seconds(0));
  EXPECT_EQ(w->run_once(), 2);
  EXPECT_EQ(status(stuck), "STARTED");
  EXPECT_EQ(status(fine), "SUCCESS");
  EXPECT_EQ(log_rows(stuck), 0);
  const std::string m = metrics();
  EXPECT_NE(m.find("kjq_serve_nautobot_writebacks_total{outcome=\"not_final_after_success\"} 1"), std::string::npos);
  EXPECT_NE(m.find("kjq_serve_nautobot_writebacks_total{outcome=\"checked\"} 1"), std::string::npos);
}

TEST_F(NautobotWriteBackFixture, ACheckWaitsForTheGracePeriod) {
  const std::string id = finished_job("STARTED", JobState::Succeeded, "Completed");
  auto w = worker(url_, std::chrono::seconds(3600));
  EXPECT_EQ(w->run_once(), 1);  // looked at, put off until the grace period has passed
  EXPECT_EQ(store_->pending_writebacks(), 1);
  EXPECT_EQ(w->run_once(), 0);
  EXPECT_GT(store_->due_writebacks(now_ms() + 4000 * 1000, 10).size(), 0u);
}

}  // namespace
}  // namespace kjq::server
