// History in the job store (server/store/job_store.hpp): list orders, filters and the keyset
// cursor, counts per state, retention's pruning and the evidence note, against SQLite and
// PostgreSQL alike.
#include <gtest/gtest.h>

#include <limits>

#include "store_test_support.hpp"

namespace kjq::test {
namespace {

using server::JobFilter;
using server::JobState;
using server::ListOrder;
using server::Retention;
using server::TimeField;

class StoreHistory : public StoreTest {
 protected:
  // Submits jobs named `ids`, in that order, created at 1000, 2000, 3000, … ms.
  void submit(const std::vector<std::string>& ids, const std::string& queue = "default") {
    std::vector<server::NewJob> jobs;
    for (const auto& id : ids) jobs.push_back(new_job(id, queue, 1000 * (++created_)));
    for (const auto& r : store_->submit(jobs)) ASSERT_TRUE(r.inserted) << r.record.id;
  }

  void finish(const std::string& id, JobState state, std::int64_t at_ms, const std::string& reason = "Completed") {
    ASSERT_TRUE(store_->finish(id, finish_as(state, at_ms, reason))) << id;
  }

  std::vector<std::string> ids(const JobFilter& f) { return ids_of(store_->list(f).items); }

  // Every id the filter lists, page by page.
  std::vector<std::string> all_pages(JobFilter f) {
    std::vector<std::string> out;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = store_->list(f);
      for (const auto& r : page.items) out.push_back(r.id);
      if (page.next_after_seq == 0) return out;
      f.after_seq = page.next_after_seq;
    }
    ADD_FAILURE() << "the pages never end";
    return out;
  }

  JobFilter newest(int limit = 100) {
    JobFilter f;
    f.order = ListOrder::Newest;
    f.limit = limit;
    return f;
  }

  int created_ = 0;
};

using Ids = std::vector<std::string>;

TEST_P(StoreHistory, NewestFirstPagesStayStableWhileJobsArrive) {
  submit({"a", "b", "c", "d", "e"});
  JobFilter f = newest(2);
  auto first = store_->list(f);
  EXPECT_EQ(ids_of(first.items), (Ids{"e", "d"}));
  ASSERT_GT(first.next_after_seq, 0);
  // Jobs that arrive between two pages go to the top; the pages not read yet do not move.
  submit({"f", "g"});
  f.after_seq = first.next_after_seq;
  auto second = store_->list(f);
  EXPECT_EQ(ids_of(second.items), (Ids{"c", "b"}));
  f.after_seq = second.next_after_seq;
  auto last = store_->list(f);
  EXPECT_EQ(ids_of(last.items), (Ids{"a"}));
  EXPECT_EQ(last.next_after_seq, 0);
  // The first page now starts with the newcomers; oldest-first is unchanged.
  EXPECT_EQ(ids(newest(3)), (Ids{"g", "f", "e"}));
  JobFilter oldest;
  oldest.limit = 3;
  EXPECT_EQ(all_pages(oldest), (Ids{"a", "b", "c", "d", "e", "f", "g"}));
}

TEST_P(StoreHistory, FiltersByStatesReasonOriginIdPrefixAndTimeRange) {
  submit({"ab-1", "ab-2", "ac-3", "b-4", "b-5"});                    // created at 1000 … 5000
  submit({"q-6"}, "reports");                                        // 6000
  store_->adopt(adopted_job("ab-nb", "default", false, 500, 7000));  // origin nautobot, created 500
  finish("ab-1", JobState::Failed, 10'000, "Error");
  finish("ab-2", JobState::Failed, 20'000, "OOMKilled");
  finish("ac-3", JobState::Succeeded, 30'000);
  finish("b-4", JobState::Cancelled, 40'000, "CancelledBeforeStart");

  JobFilter f = newest();
  f.states = {JobState::Failed, JobState::Succeeded};
  EXPECT_EQ(ids(f), (Ids{"ac-3", "ab-2", "ab-1"}));
  f.state = JobState::Failed;  // state and states: both must hold
  EXPECT_EQ(ids(f), (Ids{"ab-2", "ab-1"}));
  f.state = JobState::Queued;
  EXPECT_EQ(ids(f), Ids{});

  f = newest();
  f.states = {JobState::Queued};
  EXPECT_EQ(ids(f), (Ids{"q-6", "b-5"}));
  f.queue = "reports";
  EXPECT_EQ(ids(f), (Ids{"q-6"}));

  f = newest();
  f.reason = "OOMKilled";
  EXPECT_EQ(ids(f), (Ids{"ab-2"}));

  f = newest();
  f.id_prefix = "ab";
  EXPECT_EQ(ids(f), (Ids{"ab-nb", "ab-2", "ab-1"}));
  f.origin = server::JobOrigin::Nautobot;
  EXPECT_EQ(ids(f), (Ids{"ab-nb"}));
  // The prefix is text, never a pattern: LIKE's wildcards and a range's edge match nothing more.
  for (const auto& hostile :
       std::initializer_list<std::string>{"a%", "a_", "%", "_b", "a\\", "\xff", "a\xc3", std::string("a\0", 2)}) {
    f = newest();
    f.id_prefix = hostile;
    EXPECT_EQ(ids(f), Ids{}) << hostile;
  }

  // Created in [2000, 5000): the half-open range of createdAt.
  f = newest();
  f.since_ms = 2000;
  f.until_ms = 5000;
  EXPECT_EQ(ids(f), (Ids{"b-4", "ac-3", "ab-2"}));
  // Finished in [20000, ∞): unfinished jobs have no finish time and never match.
  f = newest();
  f.time_field = TimeField::Finished;
  f.since_ms = 20'000;
  EXPECT_EQ(ids(f), (Ids{"b-4", "ac-3", "ab-2"}));
  f.since_ms.reset();
  f.until_ms = 20'000;
  EXPECT_EQ(ids(f), (Ids{"ab-1"}));
  // Oldest first with every filter at once, one job a page.
  f = JobFilter{};
  f.limit = 1;
  f.states = {JobState::Failed, JobState::Cancelled};
  f.id_prefix = "ab";
  f.since_ms = 1000;
  EXPECT_EQ(all_pages(f), (Ids{"ab-1", "ab-2"}));
}

TEST_P(StoreHistory, CountsPerStateFollowTheFilterExceptItsStates) {
  submit({"a1", "a2", "a3", "a4"});
  submit({"r1", "r2"}, "reports");
  finish("a1", JobState::Failed, 10'000, "Error");
  finish("a2", JobState::Failed, 11'000, "Error");
  finish("a3", JobState::Succeeded, 12'000);
  finish("r1", JobState::Failed, 13'000, "Error");

  JobFilter f;
  f.queue = "default";
  f.states = {JobState::Succeeded};  // ignored: the counts show every state beside the filter
  auto counts = store_->count_states(f);
  EXPECT_EQ(counts[JobState::Failed], 2);
  EXPECT_EQ(counts[JobState::Succeeded], 1);
  EXPECT_EQ(counts[JobState::Queued], 1);
  EXPECT_EQ(counts[JobState::Running], 0);
  EXPECT_EQ(counts.total(), 4);

  f = JobFilter{};
  f.reason = "Error";
  EXPECT_EQ(store_->count_states(f)[JobState::Failed], 3);
  EXPECT_EQ(store_->count_states(f).total(), 3);
  f.time_field = TimeField::Finished;
  f.since_ms = 11'000;
  EXPECT_EQ(store_->count_states(f).total(), 2);
}

TEST_P(StoreHistory, EndedSinceCountsEachQueuesEndsFromThatTimeOn) {
  submit({"a1", "a2", "a3", "a4"});
  submit({"r1", "r2"}, "reports");
  finish("a1", JobState::Failed, 10'000, "Error");
  finish("a2", JobState::Succeeded, 20'000);
  finish("a3", JobState::Succeeded, 30'000);
  finish("r1", JobState::Cancelled, 40'000, "CancelledBeforeStart");
  auto ended = store_->ended_since(20'000);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].queue, "default");
  EXPECT_EQ(ended[0].succeeded, 2);
  EXPECT_EQ(ended[0].failed, 0);
  EXPECT_EQ(ended[0].queued, 0);  // a4 has not ended
  EXPECT_EQ(ended[1].queue, "reports");
  EXPECT_EQ(ended[1].cancelled, 1);
  EXPECT_EQ(store_->ended_since(0).at(0).failed, 1);  // 0: every end
  EXPECT_TRUE(store_->ended_since(40'001).empty());
}

TEST_P(StoreHistory, PruningDeletesOldFinishedJobsInBatchesAndNeverUnfinishedOrPendingWriteBacks) {
  submit({"old-1", "old-2", "old-3", "old-4", "new-1", "active", "queued"});
  finish("old-1", JobState::Succeeded, 1'000);
  finish("old-2", JobState::Failed, 2'000, "Error");
  finish("old-3", JobState::Cancelled, 3'000, "CancelledBeforeStart");
  {
    server::Finish f = finish_as(JobState::Failed, 4'000, "Error");
    f.writeback_json = R"({"pending":true})";
    ASSERT_TRUE(store_->finish("old-4", f));  // its write-back into Nautobot is not done yet
  }
  finish("new-1", JobState::Succeeded, 50'000);
  ASSERT_EQ(ids_of(store_->claim("default", 0, 1, "r", "kjq", 100)), Ids{"active"});
  Retention r;
  r.finished_before_ms = 10'000;
  r.batch = 2;
  EXPECT_EQ(store_->prune_finished(r), 2);  // a batch at a time, oldest finish first
  EXPECT_FALSE(store_->get("old-1"));
  EXPECT_FALSE(store_->get("old-2"));
  EXPECT_TRUE(store_->get("old-3"));
  EXPECT_EQ(store_->prune_finished(r), 1);
  EXPECT_EQ(store_->prune_finished(r), 0);
  EXPECT_TRUE(store_->get("old-4")) << "a pending write-back keeps its record";
  EXPECT_TRUE(store_->get("new-1"));
  EXPECT_TRUE(store_->get("active"));
  EXPECT_TRUE(store_->get("queued"));

  // Once the write-back is done, the record and its write-back go.
  store_->writeback_done("old-4", "written", 60'000);
  EXPECT_EQ(store_->prune_finished(r), 1);
  EXPECT_FALSE(store_->get("old-4"));
  // Even "everything finished before the end of time" leaves the unfinished jobs alone.
  r.finished_before_ms = std::numeric_limits<std::int64_t>::max();
  r.batch = 100;
  EXPECT_EQ(store_->prune_finished(r), 1);
  EXPECT_EQ(ids_of(store_->list(JobFilter{}).items), (Ids{"active", "queued"}));
  EXPECT_EQ(store_->pending_writebacks(), 0);
}

TEST_P(StoreHistory, PruningKeepsTheNewestMaxFinished) {
  submit({"f1", "f2", "f3", "f4", "f5", "waiting"});
  for (int i = 1; i <= 5; ++i) finish("f" + std::to_string(i), JobState::Succeeded, 10'000 * (6 - i));  // f5 oldest
  Retention r;
  r.keep_max_finished = 2;
  r.batch = 2;
  EXPECT_EQ(store_->prune_finished(r), 2);
  EXPECT_EQ(store_->prune_finished(r), 1);
  EXPECT_EQ(store_->prune_finished(r), 0);
  EXPECT_EQ(ids_of(store_->list(JobFilter{}).items), (Ids{"f1", "f2", "waiting"}));
  // Both limits at once: the age limit takes what it can, the count limit the rest.
  r.keep_max_finished = 1;
  r.finished_before_ms = 1;  // nothing is that old
  EXPECT_EQ(store_->prune_finished(r), 1);
  EXPECT_EQ(ids_of(store_->list(JobFilter{}).items), (Ids{"f1", "waiting"}));
  // No limit: nothing is pruned.
  EXPECT_EQ(store_->prune_finished(Retention{}), 0);
}

TEST_P(StoreHistory, FinishRecordsWhetherTheEvidenceWasCut) {
  submit({"cut", "whole"});
  server::Finish f = finish_as(JobState::Failed, 9000, "Error");
  f.log_tail = "last line\n";
  f.events_json = "[]";
  f.evidence_truncated = true;
  ASSERT_TRUE(store_->finish("cut", f));
  finish("whole", JobState::Succeeded, 9000);
  EXPECT_TRUE(store_->get("cut")->evidence_truncated);
  EXPECT_FALSE(store_->get("whole")->evidence_truncated);
  EXPECT_TRUE(store_->list(JobFilter{}).items.front().evidence_truncated);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreHistory, testing::Values(StoreBackend::Sqlite, StoreBackend::Postgres),
                         backend_name);

}  // namespace
}  // namespace kjq::test
