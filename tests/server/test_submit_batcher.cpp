// Group commit of submissions (SubmitBatcher) over a real SQLite store: every caller gets its own
// job back, exactly once, and a store failure reaches every caller whose job was in the batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "server/store/job_store.hpp"
#include "server/submit_batcher.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace {

using namespace kjq::server;

std::unique_ptr<JobStore> sqlite_store(const kjq::test::TempDir& dir) {
  return open_store("sqlite:" + (dir.path() / "jobs.db").string());
}

NewJob new_job(const std::string& id, const std::string& queue = "default") {
  NewJob j;
  j.id = id;
  j.queue = queue;
  j.data_json = R"({"n":")" + id + "\"}";
  j.now_ms = 1764200000000;
  return j;
}

// Every record in the store, through the list pages the API uses.
std::vector<JobRecord> all_records(JobStore& store) {
  std::vector<JobRecord> out;
  JobFilter f;
  f.limit = 1000;
  while (true) {
    JobPage page = store.list(f);
    out.insert(out.end(), page.items.begin(), page.items.end());
    if (page.next_after_seq == 0) break;
    f.after_seq = page.next_after_seq;
  }
  return out;
}

// A JobStore that forwards to a real one; tests override submit().
class ForwardingStore : public JobStore {
 public:
  explicit ForwardingStore(JobStore& inner) : inner_(inner) {}
  void migrate() override { inner_.migrate(); }
  int schema_version() override { return inner_.schema_version(); }
  std::vector<SubmitResult> submit(const std::vector<NewJob>& jobs) override { return inner_.submit(jobs); }
  std::optional<JobRecord> get(const std::string& id) override { return inner_.get(id); }
  std::optional<JobRecord> get_by_kube_name(const std::string& kube_name) override {
    return inner_.get_by_kube_name(kube_name);
  }
  JobPage list(const JobFilter& filter) override { return inner_.list(filter); }
  std::vector<QueueCounts> queue_counts() override { return inner_.queue_counts(); }
  std::vector<JobRecord> unfinished() override { return inner_.unfinished(); }
  std::vector<JobRecord> claim(const std::string& queue, int limit, int max_batch, const std::string& owner,
                               const std::string& name_prefix, std::int64_t now_ms) override {
    return inner_.claim(queue, limit, max_batch, owner, name_prefix, now_ms);
  }
  std::vector<std::string> queues_with_waiting_jobs() override { return inner_.queues_with_waiting_jobs(); }
  bool set_queue_paused(const std::string& q, bool paused, std::int64_t now) override {
    return inner_.set_queue_paused(q, paused, now);
  }
  std::vector<QueueSetting> queue_settings() override { return inner_.queue_settings(); }
  void set_kube_uid(const std::string& id, const std::string& uid, std::int64_t now_ms) override {
    inner_.set_kube_uid(id, uid, now_ms);
  }
  bool update_progress(const std::string& id, const Progress& p) override { return inner_.update_progress(id, p); }
  bool finish(const std::string& id, const Finish& f) override { return inner_.finish(id, f); }
  CancelResult request_cancel(const std::string& id, std::optional<int> grace_seconds, std::int64_t now_ms) override {
    return inner_.request_cancel(id, grace_seconds, now_ms);
  }
  SubmitResult adopt(const AdoptedJob& job) override { return inner_.adopt(job); }
  std::int64_t queue_position(const std::string& id) override { return inner_.queue_position(id); }
  std::vector<WriteBack> due_writebacks(std::int64_t now_ms, int limit) override {
    return inner_.due_writebacks(now_ms, limit);
  }
  void writeback_done(const std::string& job_id, const std::string& outcome, std::int64_t now_ms) override {
    inner_.writeback_done(job_id, outcome, now_ms);
  }
  void writeback_retry(const std::string& job_id, std::int64_t next_attempt_ms, const std::string& error,
                       std::int64_t now_ms) override {
    inner_.writeback_retry(job_id, next_attempt_ms, error, now_ms);
  }
  std::int64_t pending_writebacks() override { return inner_.pending_writebacks(); }

 protected:
  JobStore& inner_;
};

// Records the size of every batch; the first submit() can be held until released, so that
// callers pile up behind it and form one batch.
class GatedStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  std::vector<SubmitResult> submit(const std::vector<NewJob>& jobs) override {
    bool first;
    {
      std::unique_lock lock(mu_);
      first = batches_.empty();
      batches_.push_back(jobs.size());
      if (first) {
        entered_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
      }
    }
    if (failing_) throw kjq::RuntimeError("the store is unreachable: disk full");
    auto results = inner_.submit(jobs);
    if (drop_last_) results.pop_back();  // a store bug: one result missing
    return results;
  }

  void wait_until_held() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::vector<std::size_t> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  std::atomic<bool> failing_{false};
  std::atomic<bool> drop_last_{false};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, released_ = false;
  std::vector<std::size_t> batches_;
};

// Starts `n` callers of batcher.submit() while the store holds the first batch, waits until they
// have all called, then releases the store. Returns, per caller, "" or the error it got.
std::vector<std::string> submit_behind_a_held_batch(SubmitBatcher& batcher, GatedStore& store, int n,
                                                    std::vector<SubmitResult>* results = nullptr) {
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  std::vector<SubmitResult> got(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  std::atomic<int> calling{0};
  threads.emplace_back([&] {
    try {
      got[0] = batcher.submit(new_job("held-0"));
    } catch (const std::exception& e) {
      errors[0] = e.what();
    }
  });
  store.wait_until_held();
  for (int i = 1; i < n; ++i)
    threads.emplace_back([&, i] {
      ++calling;
      try {
        got[static_cast<std::size_t>(i)] = batcher.submit(new_job("held-" + std::to_string(i)));
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(i)] = e.what();
      }
    });
  while (calling < n - 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let them reach the queue
  store.release();
  for (auto& t : threads) t.join();
  if (results) *results = std::move(got);
  return errors;
}

}  // namespace

TEST(SubmitBatcher, EveryConcurrentSubmitIsStoredExactlyOnceAndAnsweredWithItsOwnJob) {
  kjq::test::TempDir dir;
  auto store = sqlite_store(dir);
  SubmitBatcher batcher(*store);
  constexpr int kThreads = 32, kEach = 50;
  std::vector<std::vector<SubmitResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        results[t].push_back(
            batcher.submit(new_job("t" + std::to_string(t) + "-" + std::to_string(i), "q" + std::to_string(t % 3))));
    });
  for (auto& th : threads) th.join();

  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(results[t].size(), static_cast<std::size_t>(kEach));
    for (int i = 0; i < kEach; ++i) {
      const SubmitResult& r = results[t][i];
      const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
      EXPECT_TRUE(r.inserted) << id;
      EXPECT_EQ(r.record.id, id);  // each caller gets its own job back, not a neighbour's
      EXPECT_EQ(r.record.queue, "q" + std::to_string(t % 3));
      EXPECT_EQ(r.record.data_json, R"({"n":")" + id + "\"}");
      EXPECT_EQ(r.record.state, JobState::Queued);
      EXPECT_GT(r.record.seq, 0);
    }
  }

  std::vector<JobRecord> stored = all_records(*store);
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kThreads * kEach));
  std::set<std::string> ids;
  std::set<std::int64_t> seqs;
  for (const auto& r : stored) {
    ids.insert(r.id);
    seqs.insert(r.seq);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kThreads * kEach));
  // One thread's submits are stored in the order it made them (each waited for the previous).
  std::map<std::string, std::int64_t> seq_of;
  for (const auto& r : stored) seq_of[r.id] = r.seq;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 1; i < kEach; ++i)
      EXPECT_LT(seq_of["t" + std::to_string(t) + "-" + std::to_string(i - 1)],
                seq_of["t" + std::to_string(t) + "-" + std::to_string(i)]);
}

TEST(SubmitBatcher, TheSameIdFromManyThreadsIsInsertedOnce) {
  kjq::test::TempDir dir;
  auto store = sqlite_store(dir);
  SubmitBatcher batcher(*store);
  constexpr int kThreads = 24;
  std::vector<SubmitResult> results(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ++ready;
      while (ready < kThreads) std::this_thread::yield();
      results[t] = batcher.submit(new_job("same-id"));
    });
  for (auto& th : threads) th.join();
  int inserted = 0;
  for (const auto& r : results) {
    inserted += r.inserted ? 1 : 0;
    EXPECT_EQ(r.record.id, "same-id");
    EXPECT_EQ(r.record.queue, "default");
    EXPECT_EQ(r.record.seq, results[0].record.seq);  // all see the one stored record
  }
  EXPECT_EQ(inserted, 1);
  EXPECT_EQ(all_records(*store).size(), 1u);
}

TEST(SubmitBatcher, TheSameIdTwiceInOneBatchIsInsertedOnce) {
  kjq::test::TempDir dir;
  auto real = sqlite_store(dir);
  GatedStore store(*real);
  SubmitBatcher batcher(store);
  // Callers 1..n-1 pile up behind the held first batch; give half of them one id.
  std::vector<std::thread> threads;
  std::vector<SubmitResult> results(8);
  threads.emplace_back([&] { results[0] = batcher.submit(new_job("first")); });
  store.wait_until_held();
  std::atomic<int> calling{0};
  for (int i = 1; i < 8; ++i)
    threads.emplace_back([&, i] {
      ++calling;
      results[static_cast<std::size_t>(i)] = batcher.submit(new_job(i % 2 ? "dup" : "own-" + std::to_string(i)));
    });
  while (calling < 7) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  store.release();
  for (auto& t : threads) t.join();

  int dup_inserted = 0;
  for (int i = 1; i < 8; i += 2) {
    EXPECT_EQ(results[static_cast<std::size_t>(i)].record.id, "dup");
    dup_inserted += results[static_cast<std::size_t>(i)].inserted ? 1 : 0;
  }
  EXPECT_EQ(dup_inserted, 1);
  for (int i = 2; i < 8; i += 2) {
    EXPECT_TRUE(results[static_cast<std::size_t>(i)].inserted);
    EXPECT_EQ(results[static_cast<std::size_t>(i)].record.id, "own-" + std::to_string(i));
  }
  EXPECT_EQ(all_records(*real).size(), 5u);  // first, dup, own-2, own-4, own-6
}

TEST(SubmitBatcher, WaitingSubmitsShareOneStoreCallUpToTheBatchLimit) {
  kjq::test::TempDir dir;
  auto real = sqlite_store(dir);
  GatedStore store(*real);
  SubmitBatcher batcher(store, 4);
  constexpr int kCallers = 17;
  std::vector<SubmitResult> results;
  std::vector<std::string> errors = submit_behind_a_held_batch(batcher, store, kCallers, &results);
  for (const auto& e : errors) EXPECT_EQ(e, "");
  for (int i = 0; i < kCallers; ++i) {
    EXPECT_TRUE(results[static_cast<std::size_t>(i)].inserted);
    EXPECT_EQ(results[static_cast<std::size_t>(i)].record.id, "held-" + std::to_string(i));
  }
  const auto batches = store.batches();
  std::size_t total = 0;
  for (auto b : batches) {
    EXPECT_GE(b, 1u);
    EXPECT_LE(b, 4u);
    total += b;
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kCallers));
  // The 16 callers that waited behind the held batch went in batches of 4, not one by one.
  EXPECT_EQ(batches.size(), 5u);
  EXPECT_EQ(all_records(*real).size(), static_cast<std::size_t>(kCallers));
}

TEST(SubmitBatcher, AStoreErrorReachesEveryWaitingCaller) {
  kjq::test::TempDir dir;
  auto real = sqlite_store(dir);
  GatedStore store(*real);
  store.failing_ = true;
  SubmitBatcher batcher(store);
  constexpr int kCallers = 12;
  std::vector<std::string> errors = submit_behind_a_held_batch(batcher, store, kCallers);
  for (int i = 0; i < kCallers; ++i)
    EXPECT_EQ(errors[static_cast<std::size_t>(i)], "the store is unreachable: disk full") << "caller " << i;
  EXPECT_GE(store.batches().size(), 2u);                                  // the held batch and the ones behind it
  EXPECT_LT(store.batches().size(), static_cast<std::size_t>(kCallers));  // ... which were grouped
  EXPECT_EQ(all_records(*real).size(), 0u);

  // The error keeps its type, and the writer survives it: once the store is back, submits work.
  EXPECT_THROW(batcher.submit(new_job("while-down")), kjq::RuntimeError);
  store.failing_ = false;
  SubmitResult r = batcher.submit(new_job("after"));
  EXPECT_TRUE(r.inserted);
  EXPECT_EQ(r.record.id, "after");
  EXPECT_EQ(all_records(*real).size(), 1u);
}

TEST(SubmitBatcher, AStoreThatAnswersTooFewResultsFailsTheCallersInsteadOfCrashing) {
  // Run in a child process: the bug aborts it. The second batch holds two callers: the first gets
  // its value, then the missing second result must fail the caller, not the process.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        kjq::test::TempDir dir;
        auto real = sqlite_store(dir);
        GatedStore store(*real);
        store.drop_last_ = true;
        SubmitBatcher batcher(store);
        std::vector<std::string> errors = submit_behind_a_held_batch(batcher, store, 3);
        std::exit(errors[0].empty() ? 1 : 0);
      },
      testing::ExitedWithCode(0), "");
}
