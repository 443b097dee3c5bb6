// PostgreSQL's counts of jobs per (queue, state) (migration 5): job_counts plus the deltas the
// triggers on jobs append stay equal to counting the jobs, through every change a store makes,
// two replicas writing at once, folding running beside the writes, and the upgrade of a version 4
// database that already holds jobs.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <sstream>
#include <thread>
#include <utility>

#include "server/store/migrations.hpp"
#include "server/store/postgres_store.hpp"
#include "store_test_support.hpp"

namespace kjq::test {
namespace {

using server::JobState;
using CountMap = std::map<std::pair<std::string, std::string>, std::int64_t>;  // (queue, state) → n

const JobState kAllStates[] = {JobState::Queued,    JobState::Submitted, JobState::Scheduled, JobState::Running,
                               JobState::Succeeded, JobState::Failed,    JobState::Cancelled};

std::int64_t count_of(const server::QueueCounts& c, JobState s) {
  switch (s) {
    case JobState::Queued:
      return c.queued;
    case JobState::Submitted:
      return c.submitted;
    case JobState::Scheduled:
      return c.scheduled;
    case JobState::Running:
      return c.running;
    case JobState::Succeeded:
      return c.succeeded;
    case JobState::Failed:
      return c.failed;
    case JobState::Cancelled:
      return c.cancelled;
  }
  return 0;
}

class StorePostgresCounts : public testing::Test {
 protected:
  void SetUp() override {
    KJQ_REQUIRE_POSTGRES();
    url_ = PostgresServer::shared().create_database();
  }

  std::string psql(const std::string& sql) const {
    return PostgresServer::shared().psql(sql, url_.substr(url_.rfind('/') + 1));
  }

  std::unique_ptr<server::PostgresStore> open() const {
    auto store = std::make_unique<server::PostgresStore>(url_);
    store->migrate();
    return store;
  }

  // What counting the jobs themselves says.
  CountMap truth() const {
    CountMap out;
    std::istringstream lines(psql("SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state"));
    for (std::string line; std::getline(lines, line);) {
      const auto a = line.find('|'), b = line.rfind('|');
      out[{line.substr(0, a), line.substr(a + 1, b - a - 1)}] = std::stoll(line.substr(b + 1));
    }
    return out;
  }

  // The store's counts equal the truth: per queue and state, per state without a filter, and per
  // state of each queue; and a queue without jobs is not listed.
  void expect_exact(server::JobStore& store, const std::string& when) const {
    SCOPED_TRACE(when);
    const auto expected = truth();
    CountMap got;
    for (const auto& c : store.queue_counts()) {
      bool any = false;
      for (auto s : kAllStates) {
        if (count_of(c, s) != 0) got[{c.queue, server::state_name(s)}] = count_of(c, s);
        any = any || count_of(c, s) != 0;
      }
      EXPECT_TRUE(any) << "queue " << c.queue << " listed without jobs";
    }
    EXPECT_EQ(got, expected);
    std::map<std::string, std::int64_t> per_state;
    std::map<std::string, std::map<std::string, std::int64_t>> per_queue_state;
    for (const auto& [key, n] : expected) {
      per_state[key.second] += n;
      per_queue_state[key.first][key.second] += n;
    }
    const auto all = store.count_states(job_filter(""));
    for (auto s : kAllStates) EXPECT_EQ(all[s], per_state[server::state_name(s)]) << server::state_name(s);
    for (auto& [queue, states] : per_queue_state) {
      const auto one = store.count_states(job_filter(queue));
      for (auto s : kAllStates)
        EXPECT_EQ(one[s], states[server::state_name(s)]) << queue << " " << server::state_name(s);
    }
  }

  std::string url_;
};

std::vector<server::NewJob> batch(const std::string& prefix, int n, const std::string& queue) {
  std::vector<server::NewJob> jobs;
  for (int i = 0; i < n; ++i) jobs.push_back(new_job(prefix + std::to_string(i), queue, 1000 + i));
  return jobs;
}

TEST_F(StorePostgresCounts, StayExactThroughEveryChangeAStoreMakes) {
  auto store = open();
  expect_exact(*store, "empty");
  store->submit(batch("a-", 8, "a"));
  store->submit(batch("b-", 3, "b"));
  store->submit(batch("a-", 2, "a"));  // repeats: nothing inserted
  expect_exact(*store, "submitted");
  store->adopt(adopted_job("nb-run", "nb"));
  store->adopt(adopted_job("nb-wait", "nb", true));
  store->adopt(adopted_job("nb-run", "nb"));  // repeat
  expect_exact(*store, "adopted");
  store->claim("a", 0, 5, "r", "kjq", 2000);
  store->claim("b", 0, 3, "r", "kjq", 2000);
  server::Progress p;
  p.state = JobState::Running;
  p.reason = "PodRunning";
  p.now_ms = 2100;
  store->update_progress("a-0", p);
  store->update_progress("a-0", p);  // no change of state
  p.state = JobState::Scheduled;
  store->update_progress("a-1", p);
  store->set_kube_uid("a-0", "uid", 2200);
  expect_exact(*store, "claimed and running");
  store->finish("a-0", finish_as(JobState::Succeeded));
  store->finish("a-0", finish_as(JobState::Failed));  // second finish changes nothing
  for (const auto* id : {"b-0", "b-1", "b-2", "nb-run"}) store->finish(id, finish_as(JobState::Failed, 9100));
  store->request_cancel("a-7", std::nullopt, 2300);  // Queued → Cancelled
  store->request_cancel("a-2", 10, 2300);            // active: only requested
  expect_exact(*store, "finished and cancelled");
  EXPECT_GE(store->compact_counts(), 0);  // the reads may have folded some already
  EXPECT_EQ(psql("SELECT COUNT(*) FROM job_count_deltas"), "0\n");
  expect_exact(*store, "folded");
  // Retention deletes every job of queue b: b is no longer listed, as when counting jobs.
  server::Retention r;
  r.finished_before_ms = 9200;
  r.batch = 10;
  EXPECT_EQ(store->prune_finished(r), 6);  // a-0, a-7, b-0..b-2, nb-run
  expect_exact(*store, "pruned");
  EXPECT_GE(store->compact_counts(), 0);
  EXPECT_EQ(psql("SELECT COUNT(*) FROM job_counts WHERE queue = 'b' OR n = 0"), "0\n");
  expect_exact(*store, "pruned and folded");
  store->finish("a-2", finish_as(JobState::Cancelled, 9300));
  r.finished_before_ms.reset();
  r.keep_max_finished = 0;
  EXPECT_EQ(store->prune_finished(r), 1);
  expect_exact(*store, "every finished job pruned");
  EXPECT_EQ(psql("DELETE FROM jobs WHERE queue = 'nb'; TRUNCATE jobs; SELECT COUNT(*) FROM jobs"), "0\n");
  expect_exact(*store, "truncated");
  EXPECT_TRUE(store->queue_counts().empty());
}

TEST_F(StorePostgresCounts, FilteredCountsStillCountTheJobs) {
  auto store = open();
  store->submit(batch("a-", 4, "a"));
  store->claim("a", 0, 2, "r", "kjq", 2000);
  store->finish("a-0", finish_as(JobState::Failed, 9000, "OOMKilled"));
  auto f = job_filter("a");
  f.reason = "OOMKilled";
  EXPECT_EQ(store->count_states(f).total(), 1);
  f = job_filter("");
  f.states = {JobState::Failed};  // count_states ignores the states: every job counts
  EXPECT_EQ(store->count_states(f)[JobState::Queued], 2);
  EXPECT_EQ(store->count_states(f)[JobState::Failed], 1);
  f = job_filter("");
  f.origin = server::JobOrigin::Nautobot;
  EXPECT_EQ(store->count_states(f).total(), 0);
  EXPECT_EQ(store->count_states(job_filter("\xff\xfe")).total(), 0);  // not storable: no job has it
  EXPECT_EQ(store->count_states(job_filter("nowhere")).total(), 0);
}

TEST_F(StorePostgresCounts, TwoReplicasWritingWhileOneFoldsLoseNothing) {
  auto first = open();
  auto second = open();
  constexpr int kRounds = 15;
  std::atomic<bool> writing{true};
  auto replica = [&](server::PostgresStore& store, const std::string& name) {
    for (int round = 0; round < kRounds; ++round) {
      const auto prefix = name + "-" + std::to_string(round) + "-";
      store.submit(batch(prefix, 4, "shared"));
      store.submit(batch(prefix + "own-", 2, name));
      for (const auto& job : store.claim("shared", 0, 3, name, "kjq", 2000))
        store.finish(job.id, finish_as(round % 2 ? JobState::Succeeded : JobState::Failed));
      store.request_cancel(prefix + "own-0", std::nullopt, 2500);
      server::Retention r;
      r.keep_max_finished = 20;
      r.batch = 7;
      store.prune_finished(r);
    }
  };
  std::int64_t folded = 0;  // delta rows this thread folded (-1: the other replica was folding)
  std::thread folder([&] {
    while (writing) folded += std::max<std::int64_t>(second->compact_counts(), 0);
  });
  std::thread a([&] { replica(*first, "one"); });
  std::thread b([&] { replica(*second, "two"); });
  a.join();
  b.join();
  writing = false;
  folder.join();
  EXPECT_GT(folded, 0);
  expect_exact(*first, "after the writes");
  expect_exact(*second, "seen by the other replica");
  first->compact_counts();
  expect_exact(*second, "folded");
}

// 10,000 folded deltas left dead in job_count_deltas would slow every count until autovacuum: the
// store vacuums the table itself, and it shrinks back.
TEST_F(StorePostgresCounts, FoldingManyDeltasVacuumsTheirTable) {
  auto store = open();
  psql(
      "INSERT INTO jobs (id, queue, state, created_ms, updated_ms)"
      " SELECT 'bulk-' || i, 'q' || (i % 2), 'Queued', 1000, 1000 FROM generate_series(1, 5000) AS i;"
      " UPDATE jobs SET state = 'Running';");  // 10,000 deltas: -1 Queued, +1 Running per job
  EXPECT_GT(std::stoll(psql("SELECT pg_relation_size('job_count_deltas')")), 100'000);
  EXPECT_GE(store->compact_counts(), 10'000);
  EXPECT_LT(std::stoll(psql("SELECT pg_relation_size('job_count_deltas')")), 16'384);
  expect_exact(*store, "folded and vacuumed");
}

TEST_F(StorePostgresCounts, AVersionFourDatabaseWithJobsCountsThemAfterTheUpgrade) {
  std::string sql = std::string(server::kCreateSchemaMigrationsSql) + ";\n";
  for (const auto& m : server::migrations()) {
    if (m.version > 4) break;
    sql += m.postgres_sql + "\nINSERT INTO schema_migrations (version, applied_at_ms) VALUES (" +
           std::to_string(m.version) + ", 1);\n";
  }
  sql +=
      "INSERT INTO jobs (id, queue, state, created_ms, updated_ms)"
      " SELECT 'old-' || i, 'q' || (i % 3),"
      " (ARRAY['Queued','Running','Succeeded','Failed','Cancelled'])[1 + i % 5], 1000, 1000"
      " FROM generate_series(1, 40) AS i;\n";
  psql(sql);
  EXPECT_EQ(psql("SELECT to_regclass('job_counts') IS NULL"), "t\n");

  auto store = open();
  EXPECT_EQ(store->schema_version(), 5);
  EXPECT_EQ(psql("SELECT COALESCE(SUM(n), 0) FROM job_counts"), "40\n");
  EXPECT_EQ(psql("SELECT COUNT(*) FROM job_count_deltas"), "0\n");
  expect_exact(*store, "upgraded");
  store->submit(batch("new-", 3, "q1"));
  store->claim("q0", 0, 10, "r", "kjq", 2000);
  expect_exact(*store, "written after the upgrade");
  EXPECT_EQ(open()->schema_version(), 5);  // a second start finds nothing to do
  expect_exact(*store, "started again");
}

}  // namespace
}  // namespace kjq::test
