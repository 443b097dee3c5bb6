// Two stores on one database stand for two processes (two serve replicas, or two processes on one
// SQLite file): claims together never exceed a queue's cap, no job is claimed twice, a finish, a
// submit or an adoption races to exactly one winner.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store_test_support.hpp"

namespace kjq::test {
namespace {

using server::JobState;

class StoreConcurrency : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    other_ = db_->open();
  }
  server::JobStore& store(int i) { return i % 2 == 0 ? *store_ : *other_; }

  std::unique_ptr<server::JobStore> other_;  // the second "process"
};

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

TEST_P(StoreConcurrency, ClaimsFromTwoStoresNeverExceedTheCapNorClaimTwice) {
  constexpr int kJobs = 60;
  constexpr int kCap = 3;
  constexpr int kClaimers = 8;
  constexpr int kFinishers = 2;
  std::vector<server::NewJob> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(new_job("c-" + std::to_string(i), "q"));
  store_->submit(jobs);
  store_->submit({new_job("noise-0", "other"), new_job("noise-1", "other")});

  std::mutex mutex;
  std::multiset<std::string> claimed;  // every id each claim returned, duplicates included
  std::deque<std::string> to_finish;
  std::atomic<int> finished{0};
  std::atomic<bool> stop{false};
  std::atomic<int> max_active{0};
  std::atomic<int> largest_claim{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // A store error in a thread fails the test (and stops the others) instead of aborting the run.
  auto guarded = [&](auto body) {
    return [&, body](auto... args) {
      try {
        body(args...);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        stop = true;
      }
    };
  };

  auto claimer = [&](int n) {
    while (!stop && finished < kJobs && std::chrono::steady_clock::now() < deadline) {
      const auto got = store(n).claim("q", kCap, 2, "replica-" + std::to_string(n % 2), "kjq", now_ms());
      largest_claim = std::max<int>(largest_claim, static_cast<int>(got.size()));
      {
        std::lock_guard lock(mutex);
        for (const auto& r : got) {
          claimed.insert(r.id);
          to_finish.push_back(r.id);
        }
      }
      if (got.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  auto finisher = [&](int n) {
    // Finishing waits for the watcher's first sight of an active job: on a fast, idle machine the
    // whole run can otherwise end between two of its samples, and the cap check would see nothing.
    while (!stop && max_active == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    while (!stop && finished < kJobs && std::chrono::steady_clock::now() < deadline) {
      std::string id;
      {
        std::lock_guard lock(mutex);
        if (!to_finish.empty()) {
          id = to_finish.front();
          to_finish.pop_front();
        }
      }
      if (id.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      EXPECT_TRUE(store(n).finish(id, finish_as(JobState::Succeeded))) << id;
      ++finished;
    }
  };
  // Samples the queue's active count as the database sees it, all the while.
  auto watcher = [&] {
    while (!stop) {
      for (const auto& counts : store_->queue_counts()) {
        if (counts.queue == "q") max_active = std::max<int>(max_active, static_cast<int>(counts.active()));
      }
    }
  };

  std::vector<std::thread> threads;
  std::thread watching(guarded(watcher));
  for (int i = 0; i < kClaimers; ++i) threads.emplace_back(guarded(claimer), i);
  for (int i = 0; i < kFinishers; ++i) threads.emplace_back(guarded(finisher), i);
  for (auto& t : threads) t.join();
  stop = true;
  watching.join();

  EXPECT_EQ(finished.load(), kJobs) << "did not finish within 30 s";
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), claimed.size()) << "a job was claimed twice";
  EXPECT_LE(max_active.load(), kCap);
  EXPECT_GT(max_active.load(), 0) << "the watcher never saw an active job";
  EXPECT_LE(largest_claim.load(), 2);
  const auto counts = store_->queue_counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].queue, "other");
  EXPECT_EQ(counts[0].queued, 2);
  EXPECT_EQ(counts[1].succeeded, kJobs);
  EXPECT_EQ(counts[1].queued + counts[1].active(), 0);
}

TEST_P(StoreConcurrency, RacingFinishesHaveExactlyOneWinner) {
  constexpr int kJobs = 20;
  std::vector<server::NewJob> jobs;
  for (int i = 0; i < kJobs; ++i) jobs.push_back(new_job("f-" + std::to_string(i)));
  store_->submit(jobs);
  ASSERT_EQ(store_->claim("default", 0, kJobs, "r", "kjq", 2000).size(), static_cast<std::size_t>(kJobs));

  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const auto state = t % 2 == 0 ? JobState::Succeeded : JobState::Cancelled;
      for (int i = 0; i < kJobs; ++i) {
        auto f = finish_as(state);
        f.writeback_json = R"({"by":)" + std::to_string(t) + "}";
        if (store(t).finish("f-" + std::to_string(i), f)) ++wins;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), kJobs);
  // Only each winner queued its write-back, and it carries the winner's payload.
  EXPECT_EQ(store_->pending_writebacks(), kJobs);
  const auto due = store_->due_writebacks(1'000'000, 1000);
  ASSERT_EQ(due.size(), static_cast<std::size_t>(kJobs));
  for (const auto& w : due) {
    const auto record = store_->get(w.job_id);
    ASSERT_TRUE(record.has_value());
    const int winner = w.payload_json == R"({"by":0})" || w.payload_json == R"({"by":2})" ? 0 : 1;
    EXPECT_EQ(record->state, winner == 0 ? JobState::Succeeded : JobState::Cancelled) << w.payload_json;
  }
}

TEST_P(StoreConcurrency, RacingSubmitsOfOneIdInsertItOnce) {
  constexpr int kIds = 20;
  std::atomic<int> inserted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIds; ++i) {
        const auto results = store(t).submit({new_job("s-" + std::to_string(i), "q" + std::to_string(t))});
        if (results.at(0).inserted) ++inserted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(inserted.load(), kIds);
  EXPECT_EQ(store_->list(job_filter("", std::nullopt, 1000)).items.size(), static_cast<std::size_t>(kIds));
}

// Two replicas whose informers find the same Nautobot Job at once record it once, and both get
// the one stored record back.
TEST_P(StoreConcurrency, RacingAdoptionsOfOneJobRecordItOnce) {
  constexpr int kIds = 20;
  constexpr int kThreads = 4;
  std::atomic<int> inserted{0};
  std::mutex mutex;
  std::map<std::string, std::set<std::int64_t>> seqs;  // every seq each id came back with
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < kIds; ++i) {
          const auto id = "nb-" + std::to_string(i);
          const auto result = store(t).adopt(adopted_job(id, "q", i % 2 == 0, 500 + i, now_ms()));
          if (result.inserted) ++inserted;
          EXPECT_EQ(result.record.id, id);
          EXPECT_EQ(result.record.origin, server::JobOrigin::Nautobot);
          std::lock_guard lock(mutex);
          seqs[id].insert(result.record.seq);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(inserted.load(), kIds);
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kIds));
  for (const auto& [id, seen] : seqs) EXPECT_EQ(seen.size(), 1u) << id << " came back as different records";
  EXPECT_EQ(store_->list(job_filter("", std::nullopt, 1000)).items.size(), static_cast<std::size_t>(kIds));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConcurrency, testing::Values(StoreBackend::Sqlite, StoreBackend::Postgres),
                         backend_name);

}  // namespace
}  // namespace kjq::test
