// Retention (server/retention.hpp): the pruner deletes what the limits let go, in batches with
// the store free between them, never an unfinished job, and counts what it deleted; the flags'
// durations.
#include "server/retention.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "forwarding_store.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {
namespace {

using namespace std::chrono_literals;
using test::ForwardingStore;

// Records every prune call's batch and what it deleted; can hold the second call until told.
class WatchedStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  std::int64_t prune_finished(const Retention& r) override {
    {
      std::unique_lock lock(mu_);
      batches_asked.push_back(r.batch);
      if (hold_second_ && batches_asked.size() == 2) {
        second_waiting_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
      }
    }
    const auto n = inner_.prune_finished(r);
    std::lock_guard lock(mu_);
    deleted.push_back(n);
    cv_.notify_all();
    return n;
  }

  void hold_second_batch() { hold_second_ = true; }
  // Waits until the pruner is between its first and second batch (the second one held).
  bool wait_for_second_batch() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return second_waiting_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool wait_for_deleted(std::int64_t total) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] {
      std::int64_t sum = 0;
      for (auto n : deleted) sum += n;
      return sum >= total;
    });
  }

  std::vector<int> batches_asked;
  std::vector<std::int64_t> deleted;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_second_ = false, second_waiting_ = false, released_ = false;
};

class RetentionPrunerFixture : public ::testing::Test {
 protected:
  void SetUp() override { real_ = open_store("sqlite:" + (dir_.path() / "jobs.db").string()); }

  // `n` jobs finished at `finished_ms`, then two still waiting and one running.
  void fill(int n, std::int64_t finished_ms) {
    std::vector<NewJob> jobs;
    for (int i = 0; i < n; ++i) jobs.push_back(job("done-" + std::to_string(i)));
    for (const char* id : {"running", "queued-1", "queued-2"}) jobs.push_back(job(id));
    real_->submit(jobs);
    Finish f;
    f.state = JobState::Succeeded;
    f.reason = "Completed";
    f.now_ms = finished_ms;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(real_->finish("done-" + std::to_string(i), f));
    ASSERT_EQ(real_->claim("default", 0, 1, "r", "kjq", finished_ms).size(), 1u);  // "running"
  }

  static NewJob job(const std::string& id) {
    NewJob j;
    j.id = id;
    j.queue = "default";
    j.now_ms = 1;
    return j;
  }

  StateCounts counts() { return real_->count_states(JobFilter{}); }

  test::TempDir dir_;
  std::unique_ptr<JobStore> real_;
  ServeMetrics metrics_;
};

TEST_F(RetentionPrunerFixture, APassDeletesOldFinishedJobsInSmallBatchesAndNeverUnfinishedOnes) {
  fill(25, 1'000);
  WatchedStore store(*real_);
  RetentionOptions o;
  o.finished_for = 1h;
  o.batch = 10;
  o.pause = 0ms;
  RetentionPruner pruner(store, o, metrics_);
  // Not old enough yet: nothing goes.
  EXPECT_EQ(pruner.prune_now(1'000 + 3'599'999), 0);
  EXPECT_EQ(pruner.prune_now(1'000 + 3'600'001), 25);
  EXPECT_EQ(store.batches_asked, (std::vector<int>{10, 10, 10, 10}));
  EXPECT_EQ(store.deleted, (std::vector<std::int64_t>{0, 10, 10, 5}));
  const auto c = counts();
  EXPECT_EQ(c[JobState::Succeeded], 0);
  EXPECT_EQ(c[JobState::Queued], 2);
  EXPECT_EQ(c[JobState::Submitted], 1);
  const std::string scrape = metrics_.scrape({}, {}, {});
  EXPECT_NE(scrape.find("kjq_serve_pruned_jobs_total 25"), std::string::npos) << scrape;
}

TEST_F(RetentionPrunerFixture, OtherStoreWorkRunsBetweenTwoBatches) {
  fill(30, 1'000);
  WatchedStore store(*real_);
  store.hold_second_batch();
  RetentionOptions o;
  o.max_finished = 0;  // every finished job goes
  o.batch = 10;
  o.pause = 0ms;
  o.interval = 1h;
  RetentionPruner pruner(store, o, metrics_);
  pruner.start();
  ASSERT_TRUE(store.wait_for_second_batch());
  // The pass is under way and holds nothing: a submission, a claim and a list go through now.
  EXPECT_TRUE(real_->submit({job("arrived-mid-pass")}).front().inserted);
  EXPECT_EQ(real_->claim("default", 0, 1, "r", "kjq", 2'000).size(), 1u);
  EXPECT_EQ(counts()[JobState::Succeeded], 20);
  store.release();
  ASSERT_TRUE(store.wait_for_deleted(30));
  pruner.stop();
  const auto c = counts();
  EXPECT_EQ(c[JobState::Succeeded], 0);
  EXPECT_EQ(c[JobState::Submitted], 2);  // "running" and the one claimed mid-pass
  EXPECT_EQ(c[JobState::Queued], 2);
}

TEST_F(RetentionPrunerFixture, StopEndsAPassThatIsPausingBetweenBatches) {
  fill(30, 1'000);
  WatchedStore store(*real_);
  RetentionOptions o;
  o.max_finished = 0;
  o.batch = 10;
  o.pause = 1h;  // only stop() can end this pause
  RetentionPruner pruner(store, o, metrics_);
  pruner.start();
  ASSERT_TRUE(store.wait_for_deleted(10));
  pruner.stop();  // returns: the test would time out otherwise
  EXPECT_EQ(counts()[JobState::Succeeded], 20);
}

TEST(RetentionDuration, DaysAndKubectlDurationsArePositiveDurations) {
  EXPECT_EQ(parse_retention_duration("7d", "--retain-finished"), std::chrono::hours(24 * 7));
  EXPECT_EQ(parse_retention_duration("36h", "--retain-finished"), std::chrono::hours(36));
  EXPECT_EQ(parse_retention_duration("1h30m", "--retain-finished"), std::chrono::minutes(90));
  for (const char* bad : {"", "0", "0d", "-1h", "d", "7 d", "1w", "forever", "99999999d"}) {
    try {
      parse_retention_duration(bad, "--retain-finished");
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--retain-finished"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace kjq::server
