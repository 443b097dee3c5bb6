// The JobStore contract (server/store/job_store.hpp), run against SQLite and PostgreSQL alike.
#include <gtest/gtest.h>

#include <set>

#include "server/store/migrations.hpp"
#include "store_test_support.hpp"

namespace kjq::test {
namespace {

using server::AdoptedJob;
using server::JobFilter;
using server::JobOrigin;
using server::JobState;
using server::NewJob;
using server::Progress;

class StoreContract : public StoreTest {
 protected:
  // Submits `count` jobs named <prefix>0, <prefix>1, … to `queue`, in that order.
  std::vector<std::string> submit_many(int count, const std::string& queue = "default",
                                       const std::string& prefix = "job-") {
    std::vector<NewJob> jobs;
    for (int i = 0; i < count; ++i) jobs.push_back(new_job(prefix + std::to_string(i), queue, 1000 + i));
    std::vector<std::string> ids;
    for (const auto& result : store_->submit(jobs)) {
      EXPECT_TRUE(result.inserted);
      ids.push_back(result.record.id);
    }
    return ids;
  }

  Progress progress(JobState state, std::int64_t now_ms) {
    Progress p;
    p.state = state;
    p.reason = state == JobState::Running ? "PodRunning" : "PodScheduled";
    p.now_ms = now_ms;
    return p;
  }

  server::JobRecord stored(const std::string& id) {
    auto record = store_->get(id);
    if (!record) ADD_FAILURE() << id << " is not stored";
    return record.value_or(server::JobRecord{});
  }

  // Claims `id` (the only Queued job of its queue) and finishes it with a write-back.
  bool finish_with_writeback(const std::string& id, const std::string& payload, std::int64_t now_ms,
                             const std::string& queue = "default") {
    store_->claim(queue, 0, 1, "r", "kjq", now_ms - 1);
    server::Finish f = finish_as(JobState::Succeeded, now_ms);
    f.writeback_json = payload;
    return store_->finish(id, f);
  }

  std::vector<std::string> due_ids(std::int64_t now_ms, int limit = 100) {
    std::vector<std::string> ids;
    for (const auto& w : store_->due_writebacks(now_ms, limit)) ids.push_back(w.job_id);
    return ids;
  }
};

TEST_P(StoreContract, MigratingAgainIsANoOp) {
  EXPECT_EQ(store_->schema_version(), 5);
  EXPECT_EQ(store_->schema_version(), server::latest_schema_version());
  store_->submit({new_job("kept")});
  store_->migrate();
  store_->migrate();
  EXPECT_EQ(store_->schema_version(), 5);
  auto again = db_->open();  // a second start-up migrates too
  EXPECT_EQ(again->schema_version(), 5);
  EXPECT_TRUE(again->get("kept").has_value());
}

TEST_P(StoreContract, SubmitThenGetRoundTripsTheNewRecord) {
  NewJob job = new_job("a1", "reports", 1234);
  job.data_json = R"({"device":"rtr-01","note":"quote \" and ünïcode","lines":"a\nb"})";
  job.time_limit_seconds = 600;
  const auto results = store_->submit({job});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].inserted);
  const auto& r = results[0].record;
  EXPECT_GT(r.seq, 0);
  EXPECT_EQ(r.id, "a1");
  EXPECT_EQ(r.queue, "reports");
  EXPECT_EQ(r.origin, JobOrigin::Kjq);
  EXPECT_EQ(r.job_result_id, "");
  EXPECT_EQ(r.state, JobState::Queued);
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.data_json, job.data_json);
  EXPECT_EQ(r.time_limit_seconds, 600);
  EXPECT_EQ(r.kube_name, "");
  EXPECT_EQ(r.kube_uid, "");
  EXPECT_EQ(r.exit_code, std::nullopt);
  EXPECT_EQ(r.log_tail, "");
  EXPECT_EQ(r.events_json, "[]");
  EXPECT_EQ(r.owner, "");
  EXPECT_FALSE(r.cancel_requested);
  EXPECT_EQ(r.cancel_grace_seconds, std::nullopt);
  EXPECT_EQ(r.created_ms, 1234);
  EXPECT_EQ(r.submitted_ms, 0);
  EXPECT_EQ(r.started_ms, 0);
  EXPECT_EQ(r.finished_ms, 0);
  EXPECT_EQ(r.updated_ms, 1234);
  expect_same_record(stored("a1"), r);

  auto without_limit = store_->submit({new_job("a2")});
  EXPECT_EQ(without_limit.at(0).record.time_limit_seconds, std::nullopt);
  EXPECT_EQ(stored("a2").time_limit_seconds, std::nullopt);
  EXPECT_FALSE(store_->get("missing").has_value());
}

TEST_P(StoreContract, EveryFieldSurvivesTheWholeLifecycle) {
  NewJob job = new_job("life", "reports", 1000);
  job.data_json = R"({"k":1})";
  job.time_limit_seconds = 60;
  store_->submit({job});
  const auto claimed = store_->claim("reports", 1, 1, "replica-a", "kjq-job", 2000);
  ASSERT_EQ(claimed.size(), 1u);
  store_->set_kube_uid("life", "uid-123", 2500);
  ASSERT_TRUE(store_->update_progress("life", progress(JobState::Running, 3000)));
  const auto cancel = store_->request_cancel("life", 45, 3500);
  ASSERT_TRUE(cancel.found);
  server::Finish f = finish_as(JobState::Failed, 4000, "DeadlineExceeded");
  f.message = "ran out of time";
  f.exit_code = 137;
  f.log_tail = "line 1\nline 2 ✓\n";
  f.events_json = R"([{"reason":"Killing"}])";
  ASSERT_TRUE(store_->finish("life", f));

  const auto r = stored("life");
  EXPECT_EQ(r.seq, claimed[0].seq);
  EXPECT_EQ(r.queue, "reports");
  EXPECT_EQ(r.state, JobState::Failed);
  EXPECT_EQ(r.reason, "DeadlineExceeded");
  EXPECT_EQ(r.message, "ran out of time");
  EXPECT_EQ(r.data_json, R"({"k":1})");
  EXPECT_EQ(r.time_limit_seconds, 60);
  EXPECT_EQ(r.kube_name, "kjq-job-life");
  EXPECT_EQ(r.kube_uid, "uid-123");
  EXPECT_EQ(r.exit_code, 137);
  EXPECT_EQ(r.log_tail, "line 1\nline 2 ✓\n");
  EXPECT_EQ(r.events_json, R"([{"reason":"Killing"}])");
  EXPECT_EQ(r.owner, "replica-a");
  EXPECT_TRUE(r.cancel_requested);
  EXPECT_EQ(r.cancel_grace_seconds, 45);
  EXPECT_EQ(r.created_ms, 1000);
  EXPECT_EQ(r.submitted_ms, 2000);
  EXPECT_EQ(r.started_ms, 3000);
  EXPECT_EQ(r.finished_ms, 4000);
  EXPECT_EQ(r.updated_ms, 4000);
}

TEST_P(StoreContract, SubmittingAnExistingIdReturnsTheStoredRecordUnchanged) {
  NewJob first = new_job("dup", "q1", 1000);
  first.data_json = R"({"v":1})";
  const auto original = store_->submit({first}).at(0);
  ASSERT_TRUE(original.inserted);

  NewJob second = new_job("dup", "q2", 5000);
  second.data_json = R"({"v":2})";
  second.time_limit_seconds = 10;
  const auto again = store_->submit({second}).at(0);
  EXPECT_FALSE(again.inserted);
  expect_same_record(again.record, original.record);
  expect_same_record(stored("dup"), original.record);
}

TEST_P(StoreContract, ABatchIsInsertedInOrderAndRepeatsComeBackAsStored) {
  const auto results = store_->submit({new_job("b1"), new_job("b2", "other"), new_job("b1", "ignored"), new_job("b3")});
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].inserted);
  EXPECT_TRUE(results[1].inserted);
  EXPECT_FALSE(results[2].inserted);
  EXPECT_TRUE(results[3].inserted);
  expect_same_record(results[2].record, results[0].record);
  EXPECT_LT(results[0].record.seq, results[1].record.seq);
  EXPECT_LT(results[1].record.seq, results[3].record.seq);
  EXPECT_EQ(ids_of(store_->list(JobFilter{}).items), (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_TRUE(store_->submit({}).empty());
}

TEST_P(StoreContract, ListFiltersByQueueAndStateAndPagesWithTheCursor) {
  store_->submit({new_job("a", "q1"), new_job("b", "q2"), new_job("c", "q1"), new_job("d", "q1"), new_job("e", "q2")});
  ASSERT_EQ(store_->claim("q1", 0, 1, "r", "kjq", 2000).size(), 1u);  // a → Submitted

  EXPECT_EQ(ids_of(store_->list(job_filter("q1")).items), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("", JobState::Queued)).items),
            (std::vector<std::string>{"b", "c", "d", "e"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("q1", JobState::Queued)).items), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("q2", JobState::Submitted)).items), std::vector<std::string>{});
  EXPECT_TRUE(store_->list(job_filter("nope")).items.empty());

  const auto first = store_->list(job_filter("", std::nullopt, 2));
  EXPECT_EQ(ids_of(first.items), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(first.next_after_seq, first.items.back().seq);
  const auto second = store_->list(job_filter("", std::nullopt, 2, first.next_after_seq));
  EXPECT_EQ(ids_of(second.items), (std::vector<std::string>{"c", "d"}));
  const auto last = store_->list(job_filter("", std::nullopt, 2, second.next_after_seq));
  EXPECT_EQ(ids_of(last.items), (std::vector<std::string>{"e"}));
  EXPECT_EQ(last.next_after_seq, 0);
  // A page that is exactly full says there is nothing more.
  EXPECT_EQ(store_->list(job_filter("", std::nullopt, 5)).next_after_seq, 0);
}

TEST_P(StoreContract, ListKeepsTheLimitWithinOneToAThousand) {
  submit_many(3);
  const auto at_least_one = store_->list(job_filter("", std::nullopt, 0));
  EXPECT_EQ(ids_of(at_least_one.items), (std::vector<std::string>{"job-0"}));
  EXPECT_EQ(at_least_one.next_after_seq, at_least_one.items.back().seq);
  EXPECT_EQ(store_->list(job_filter("", std::nullopt, 1'000'000)).items.size(), 3u);
}

TEST_P(StoreContract, PagingOver250RecordsReturnsEachOnceInOrder) {
  const auto submitted = submit_many(250);
  std::vector<std::string> seen;
  std::int64_t cursor = 0;
  int pages = 0;
  std::int64_t previous_seq = 0;
  do {
    const auto page = store_->list(job_filter("", std::nullopt, 100, cursor));
    ++pages;
    for (const auto& r : page.items) {
      EXPECT_GT(r.seq, previous_seq);
      previous_seq = r.seq;
      seen.push_back(r.id);
    }
    cursor = page.next_after_seq;
    ASSERT_LE(pages, 3);
  } while (cursor != 0);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, submitted);
}

TEST_P(StoreContract, ClaimTakesTheOldestFirstAndKeepsTheQueueUnderItsCap) {
  const auto ids = submit_many(10, "q");
  submit_many(2, "elsewhere", "other-");

  const auto first = store_->claim("q", 3, 10, "replica-a", "kjq", 2000);
  EXPECT_EQ(ids_of(first), (std::vector<std::string>{"job-0", "job-1", "job-2"}));
  for (const auto& r : first) {
    EXPECT_EQ(r.state, JobState::Submitted);
    EXPECT_EQ(r.reason, "Dispatching");
    EXPECT_EQ(r.owner, "replica-a");
    EXPECT_EQ(r.kube_name, "kjq-" + r.id);
    EXPECT_EQ(r.submitted_ms, 2000);
    expect_same_record(stored(r.id), r);
  }
  EXPECT_TRUE(store_->claim("q", 3, 10, "replica-a", "kjq", 2001).empty());

  // Scheduled and Running count against the cap as Submitted does.
  ASSERT_TRUE(store_->update_progress("job-0", progress(JobState::Running, 2100)));
  ASSERT_TRUE(store_->update_progress("job-1", progress(JobState::Scheduled, 2100)));
  EXPECT_TRUE(store_->claim("q", 3, 10, "replica-a", "kjq", 2002).empty());

  ASSERT_TRUE(store_->finish("job-1", finish_as(JobState::Succeeded)));
  EXPECT_EQ(ids_of(store_->claim("q", 3, 10, "replica-b", "kjq", 2003)), (std::vector<std::string>{"job-3"}));
  EXPECT_TRUE(store_->claim("q", 3, 10, "replica-b", "kjq", 2004).empty());

  // Another queue has its own cap.
  EXPECT_EQ(ids_of(store_->claim("elsewhere", 1, 10, "replica-a", "kjq", 2005)), (std::vector<std::string>{"other-0"}));
  EXPECT_TRUE(store_->claim("missing", 3, 10, "replica-a", "kjq", 2006).empty());
}

TEST_P(StoreContract, ClaimWithoutACapHonoursTheBatchSize) {
  submit_many(10, "q");
  EXPECT_EQ(ids_of(store_->claim("q", 0, 4, "r", "p", 2000)),
            (std::vector<std::string>{"job-0", "job-1", "job-2", "job-3"}));
  EXPECT_EQ(ids_of(store_->claim("q", 0, 4, "r", "p", 2001)),
            (std::vector<std::string>{"job-4", "job-5", "job-6", "job-7"}));
  EXPECT_EQ(ids_of(store_->claim("q", 0, 4, "r", "p", 2002)), (std::vector<std::string>{"job-8", "job-9"}));
  EXPECT_TRUE(store_->claim("q", 0, 4, "r", "p", 2003).empty());
  // The batch size also bounds a claim under a cap with more room.
  submit_many(5, "capped", "c-");
  EXPECT_EQ(store_->claim("capped", 4, 2, "r", "p", 2004).size(), 2u);
  EXPECT_EQ(store_->claim("capped", 4, 2, "r", "p", 2005).size(), 2u);
  EXPECT_TRUE(store_->claim("capped", 4, 2, "r", "p", 2006).empty());
  EXPECT_TRUE(store_->claim("capped", 0, 0, "r", "p", 2007).empty());
}

TEST_P(StoreContract, QueuesWithWaitingJobsListsOnlyQueuesWithQueuedJobs) {
  EXPECT_TRUE(store_->queues_with_waiting_jobs().empty());
  store_->submit({new_job("a", "q1"), new_job("b", "q2"), new_job("c", "q3"), new_job("d", "q3")});
  ASSERT_EQ(store_->claim("q2", 0, 10, "r", "p", 2000).size(), 1u);
  ASSERT_TRUE(store_->request_cancel("a", std::nullopt, 2000).cancelled_now);
  EXPECT_EQ(store_->queues_with_waiting_jobs(), (std::vector<std::string>{"q3"}));
}

TEST_P(StoreContract, ProgressSetsStartedOnceAndNeverTouchesAFinalRecord) {
  submit_many(1);
  store_->claim("default", 0, 1, "r", "kjq", 2000);
  EXPECT_TRUE(store_->update_progress("job-0", progress(JobState::Scheduled, 2500)));
  EXPECT_EQ(stored("job-0").state, JobState::Scheduled);
  EXPECT_EQ(stored("job-0").started_ms, 0);

  Progress running = progress(JobState::Running, 3000);
  running.message = "pod started";
  EXPECT_TRUE(store_->update_progress("job-0", running));
  running.now_ms = 3500;
  running.exit_code = 0;
  EXPECT_TRUE(store_->update_progress("job-0", running));
  auto r = stored("job-0");
  EXPECT_EQ(r.state, JobState::Running);
  EXPECT_EQ(r.reason, "PodRunning");
  EXPECT_EQ(r.message, "pod started");
  EXPECT_EQ(r.started_ms, 3000);  // the first time it ran, not the latest report
  EXPECT_EQ(r.updated_ms, 3500);
  EXPECT_EQ(r.exit_code, 0);

  ASSERT_TRUE(store_->finish("job-0", finish_as(JobState::Succeeded, 4000)));
  const auto final_record = stored("job-0");
  EXPECT_FALSE(store_->update_progress("job-0", progress(JobState::Running, 5000)));
  expect_same_record(stored("job-0"), final_record);
  EXPECT_FALSE(store_->update_progress("missing", progress(JobState::Running, 5000)));
  EXPECT_THROW(store_->update_progress("job-0", progress(JobState::Succeeded, 5000)), std::invalid_argument);
}

TEST_P(StoreContract, FinishIsFirstWriterWins) {
  submit_many(1);
  store_->claim("default", 0, 1, "r", "kjq", 2000);
  server::Finish succeeded = finish_as(JobState::Succeeded, 3000, "Completed");
  succeeded.exit_code = 0;
  server::Finish cancelled = finish_as(JobState::Cancelled, 3100, "Cancelled");
  cancelled.log_tail = "must not be stored";
  EXPECT_TRUE(store_->finish("job-0", succeeded));
  EXPECT_FALSE(store_->finish("job-0", cancelled));
  const auto r = stored("job-0");
  EXPECT_EQ(r.state, JobState::Succeeded);
  EXPECT_EQ(r.reason, "Completed");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.log_tail, "");
  EXPECT_EQ(r.finished_ms, 3000);
  EXPECT_FALSE(store_->finish("missing", succeeded));
  EXPECT_THROW(store_->finish("job-0", finish_as(JobState::Running)), std::invalid_argument);
}

TEST_P(StoreContract, FinishKeepsStoredEvidenceWhenGivenNone) {
  submit_many(1);
  store_->claim("default", 0, 1, "r", "kjq", 1500);
  Progress running = progress(JobState::Running, 2000);
  running.exit_code = 3;
  store_->update_progress("job-0", running);
  ASSERT_TRUE(store_->finish("job-0", finish_as(JobState::Failed, 3000, "Error")));
  const auto r = stored("job-0");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.log_tail, "");
  EXPECT_EQ(r.events_json, "[]");
}

TEST_P(StoreContract, CancellingAQueuedJobCancelsItAtOnce) {
  submit_many(2);
  const auto result = store_->request_cancel("job-0", 30, 2000);
  EXPECT_TRUE(result.found);
  EXPECT_TRUE(result.cancelled_now);
  EXPECT_EQ(result.record.state, JobState::Cancelled);
  EXPECT_EQ(result.record.reason, "CancelledBeforeStart");
  EXPECT_EQ(result.record.finished_ms, 2000);
  expect_same_record(stored("job-0"), result.record);
  // A claim no longer sees it, and it is final now.
  EXPECT_EQ(ids_of(store_->claim("default", 0, 10, "r", "kjq", 2100)), (std::vector<std::string>{"job-1"}));
  EXPECT_FALSE(store_->finish("job-0", finish_as(JobState::Succeeded)));
}

TEST_P(StoreContract, CancellingAnActiveJobOnlyRequestsIt) {
  submit_many(1);
  store_->claim("default", 0, 1, "r", "kjq", 2000);
  store_->update_progress("job-0", progress(JobState::Running, 2500));
  const auto result = store_->request_cancel("job-0", 15, 3000);
  EXPECT_TRUE(result.found);
  EXPECT_FALSE(result.cancelled_now);
  EXPECT_EQ(result.record.state, JobState::Running);
  EXPECT_TRUE(result.record.cancel_requested);
  EXPECT_EQ(result.record.cancel_grace_seconds, 15);
  EXPECT_EQ(result.record.finished_ms, 0);
  expect_same_record(stored("job-0"), result.record);
}

TEST_P(StoreContract, CancellingAFinalOrMissingJobChangesNothing) {
  submit_many(1);
  store_->claim("default", 0, 1, "r", "kjq", 2000);
  ASSERT_TRUE(store_->finish("job-0", finish_as(JobState::Succeeded, 3000)));
  const auto before = stored("job-0");
  const auto result = store_->request_cancel("job-0", 5, 4000);
  EXPECT_TRUE(result.found);
  EXPECT_FALSE(result.cancelled_now);
  expect_same_record(result.record, before);
  expect_same_record(stored("job-0"), before);
  EXPECT_FALSE(store_->request_cancel("missing", 5, 4000).found);
}

TEST_P(StoreContract, QueueCountsCountEveryStatePerQueue) {
  EXPECT_TRUE(store_->queue_counts().empty());
  submit_many(7, "a", "a-");
  submit_many(2, "b", "b-");
  store_->claim("a", 0, 4, "r", "kjq", 2000);  // a-0..a-3 Submitted
  store_->update_progress("a-1", progress(JobState::Scheduled, 2100));
  store_->update_progress("a-2", progress(JobState::Running, 2100));
  store_->finish("a-3", finish_as(JobState::Failed));
  store_->request_cancel("a-4", std::nullopt, 2200);  // Queued → Cancelled
  store_->claim("b", 0, 1, "r", "kjq", 2000);
  store_->finish("b-0", finish_as(JobState::Succeeded));

  const auto counts = store_->queue_counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].queue, "a");
  EXPECT_EQ(counts[0].queued, 2);
  EXPECT_EQ(counts[0].submitted, 1);
  EXPECT_EQ(counts[0].scheduled, 1);
  EXPECT_EQ(counts[0].running, 1);
  EXPECT_EQ(counts[0].succeeded, 0);
  EXPECT_EQ(counts[0].failed, 1);
  EXPECT_EQ(counts[0].cancelled, 1);
  EXPECT_EQ(counts[0].active(), 3);
  EXPECT_EQ(counts[1].queue, "b");
  EXPECT_EQ(counts[1].queued, 1);
  EXPECT_EQ(counts[1].succeeded, 1);
  EXPECT_EQ(counts[1].active(), 0);
}

// Retention deleting every job of a queue leaves the queue out, as if it never had jobs; the
// unfiltered counts per state follow every change (PostgreSQL keeps them in job_counts).
TEST_P(StoreContract, QueueCountsLeaveOutAQueueWhoseJobsWereAllPruned) {
  submit_many(2, "gone", "g-");
  submit_many(1, "kept", "k-");
  store_->claim("gone", 0, 2, "r", "kjq", 2000);
  store_->finish("g-0", finish_as(JobState::Succeeded, 3000));
  store_->finish("g-1", finish_as(JobState::Failed, 3000));
  ASSERT_EQ(store_->queue_counts().size(), 2u);
  EXPECT_EQ(store_->count_states(job_filter(""))[JobState::Failed], 1);
  EXPECT_EQ(store_->count_states(job_filter("gone")).total(), 2);

  server::Retention r;
  r.finished_before_ms = 5000;
  EXPECT_EQ(store_->prune_finished(r), 2);
  const auto counts = store_->queue_counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].queue, "kept");
  EXPECT_EQ(counts[0].queued, 1);
  const auto all = store_->count_states(job_filter(""));
  EXPECT_EQ(all.total(), 1);
  EXPECT_EQ(all[JobState::Queued], 1);
  EXPECT_EQ(store_->count_states(job_filter("gone")).total(), 0);
}

TEST_P(StoreContract, UnfinishedListsEveryNonFinalRecordOldestFirst) {
  submit_many(5);
  store_->claim("default", 0, 2, "r", "kjq", 2000);
  store_->update_progress("job-1", progress(JobState::Running, 2100));
  store_->finish("job-0", finish_as(JobState::Succeeded));
  store_->request_cancel("job-3", std::nullopt, 2200);
  EXPECT_EQ(ids_of(store_->unfinished()), (std::vector<std::string>{"job-1", "job-2", "job-4"}));
}

TEST_P(StoreContract, KubeUidIsFirstWriterWins) {
  submit_many(1);
  store_->claim("default", 0, 1, "r", "kjq", 2000);
  store_->set_kube_uid("job-0", "first", 2100);
  store_->set_kube_uid("job-0", "second", 2200);
  const auto r = stored("job-0");
  EXPECT_EQ(r.kube_uid, "first");
  EXPECT_EQ(r.updated_ms, 2100);
  store_->set_kube_uid("missing", "x", 2300);  // a no-op, not an error
}

TEST_P(StoreContract, GetByKubeNameFindsClaimedJobs) {
  submit_many(2);
  store_->claim("default", 0, 1, "r", "kjq-nb", 2000);
  const auto found = store_->get_by_kube_name("kjq-nb-job-0");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, "job-0");
  EXPECT_FALSE(store_->get_by_kube_name("kjq-nb-job-1").has_value());  // not claimed yet
  EXPECT_FALSE(store_->get_by_kube_name("").has_value());              // unclaimed jobs have no name
}

TEST_P(StoreContract, AdoptRecordsTheJobAsFound) {
  AdoptedJob running = adopted_job("jr-1", "reports", false, 700, 1500);
  running.origin = JobOrigin::Nautobot;
  running.job_result_id = "6f0c1b7e-0000-4000-8000-000000000001";
  running.reason = "Adopted \"as found\"";
  const auto result = store_->adopt(running);
  EXPECT_TRUE(result.inserted);
  const auto& r = result.record;
  EXPECT_GT(r.seq, 0);
  EXPECT_EQ(r.id, "jr-1");
  EXPECT_EQ(r.queue, "reports");
  EXPECT_EQ(r.origin, JobOrigin::Nautobot);
  EXPECT_EQ(r.job_result_id, "6f0c1b7e-0000-4000-8000-000000000001");
  EXPECT_EQ(r.state, JobState::Submitted);
  EXPECT_EQ(r.reason, "Adopted \"as found\"");
  EXPECT_EQ(r.message, "");
  EXPECT_EQ(r.data_json, "{}");
  EXPECT_EQ(r.time_limit_seconds, std::nullopt);
  EXPECT_EQ(r.kube_name, "nautobot-job-jr-1");
  EXPECT_EQ(r.kube_uid, "uid-jr-1");
  EXPECT_EQ(r.owner, "");
  EXPECT_FALSE(r.cancel_requested);
  EXPECT_EQ(r.created_ms, 700);
  EXPECT_EQ(r.submitted_ms, 1500);
  EXPECT_EQ(r.started_ms, 0);
  EXPECT_EQ(r.finished_ms, 0);
  EXPECT_EQ(r.updated_ms, 1500);
  expect_same_record(stored("jr-1"), r);
  const auto by_name = store_->get_by_kube_name("nautobot-job-jr-1");
  ASSERT_TRUE(by_name.has_value());
  expect_same_record(*by_name, r);

  // Suspended: Queued, waiting for kjq's admission, not yet submitted.
  const auto suspended = store_->adopt(adopted_job("jr-2", "reports", true, 800, 1600)).record;
  EXPECT_EQ(suspended.state, JobState::Queued);
  EXPECT_EQ(suspended.reason, "WaitingForAdmission");
  EXPECT_EQ(suspended.submitted_ms, 0);
  EXPECT_EQ(suspended.updated_ms, 1600);
  EXPECT_GT(suspended.seq, r.seq);
  EXPECT_EQ(store_->queues_with_waiting_jobs(), std::vector<std::string>{"reports"});
  EXPECT_EQ(ids_of(store_->unfinished()), (std::vector<std::string>{"jr-1", "jr-2"}));

  // An adopted record follows the same lifecycle as any other.
  ASSERT_TRUE(store_->update_progress("jr-1", progress(JobState::Running, 2000)));
  ASSERT_TRUE(store_->finish("jr-1", finish_as(JobState::Succeeded, 3000)));
  EXPECT_EQ(stored("jr-1").origin, JobOrigin::Nautobot);
  EXPECT_EQ(stored("jr-1").job_result_id, "6f0c1b7e-0000-4000-8000-000000000001");
}

TEST_P(StoreContract, AdoptIsIdempotentAndReturnsTheStoredRecord) {
  const auto first = store_->adopt(adopted_job("nb", "q", true, 500, 1000));
  ASSERT_TRUE(first.inserted);
  AdoptedJob again = adopted_job("nb", "other", false, 900, 5000);
  again.kube_name = "another-name";
  again.job_result_id = "another";
  const auto second = store_->adopt(again);
  EXPECT_FALSE(second.inserted);
  expect_same_record(second.record, first.record);
  expect_same_record(stored("nb"), first.record);

  // An id kjq itself submitted is not taken over either.
  const auto own = store_->submit({new_job("mine", "q", 1200)}).at(0).record;
  const auto clash = store_->adopt(adopted_job("mine", "q"));
  EXPECT_FALSE(clash.inserted);
  expect_same_record(clash.record, own);
  EXPECT_EQ(store_->list(JobFilter{}).items.size(), 2u);

  // Only Queued or Submitted can be adopted.
  AdoptedJob running = adopted_job("odd");
  running.state = JobState::Running;
  EXPECT_THROW(store_->adopt(running), std::invalid_argument);
  running.state = JobState::Succeeded;
  EXPECT_THROW(store_->adopt(running), std::invalid_argument);
  EXPECT_FALSE(store_->get("odd").has_value());
}

TEST_P(StoreContract, ListFiltersByOriginAndPagesWithTheCursor) {
  // k0 n0 k1 n1 … in seq order, over two queues.
  for (int i = 0; i < 5; ++i) {
    const auto queue = i % 2 == 0 ? "q1" : "q2";
    store_->submit({new_job("k" + std::to_string(i), queue)});
    store_->adopt(adopted_job("n" + std::to_string(i), queue, i == 4));
  }
  const auto nautobot = [](int limit, std::int64_t after) {
    return job_filter("", std::nullopt, limit, after, JobOrigin::Nautobot);
  };
  const auto first = store_->list(nautobot(2, 0));
  EXPECT_EQ(ids_of(first.items), (std::vector<std::string>{"n0", "n1"}));
  EXPECT_EQ(first.next_after_seq, first.items.back().seq);
  const auto second = store_->list(nautobot(2, first.next_after_seq));
  EXPECT_EQ(ids_of(second.items), (std::vector<std::string>{"n2", "n3"}));
  const auto last = store_->list(nautobot(2, second.next_after_seq));
  EXPECT_EQ(ids_of(last.items), (std::vector<std::string>{"n4"}));
  EXPECT_EQ(last.next_after_seq, 0);
  for (const auto& r : store_->list(nautobot(100, 0)).items) EXPECT_EQ(r.origin, JobOrigin::Nautobot);

  EXPECT_EQ(ids_of(store_->list(job_filter("", std::nullopt, 100, 0, JobOrigin::Kjq)).items),
            (std::vector<std::string>{"k0", "k1", "k2", "k3", "k4"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("q1", std::nullopt, 100, 0, JobOrigin::Nautobot)).items),
            (std::vector<std::string>{"n0", "n2", "n4"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("", JobState::Queued, 100, 0, JobOrigin::Nautobot)).items),
            (std::vector<std::string>{"n4"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("q1", JobState::Submitted, 100, 0, JobOrigin::Nautobot)).items),
            (std::vector<std::string>{"n0", "n2"}));
  EXPECT_EQ(ids_of(store_->list(job_filter("q2", JobState::Submitted, 100, 0, JobOrigin::Kjq)).items),
            std::vector<std::string>{});
  EXPECT_EQ(ids_of(store_->list(job_filter("q2", JobState::Queued, 100, 0, JobOrigin::Kjq)).items),
            (std::vector<std::string>{"k1", "k3"}));
  // No origin: both.
  EXPECT_EQ(store_->list(job_filter("")).items.size(), 10u);
}

TEST_P(StoreContract, CancellingAnAdoptedQueuedJobAsksForItsJobToBeDeleted) {
  store_->adopt(adopted_job("waiting", "q", true));
  const server::CancelResult c = store_->request_cancel("waiting", 5, 3000);
  ASSERT_TRUE(c.found);
  EXPECT_FALSE(c.cancelled_now);  // its Job exists: it must be deleted first
  EXPECT_EQ(c.record.state, JobState::Queued);
  EXPECT_TRUE(c.record.cancel_requested);
  EXPECT_EQ(c.record.cancel_grace_seconds, 5);
  // kjq's own Queued job, which has no Job yet, is cancelled at once as before.
  store_->submit({new_job("own", "q")});
  EXPECT_TRUE(store_->request_cancel("own", std::nullopt, 3000).cancelled_now);
}

TEST_P(StoreContract, ClaimLeavesSuspendedJobsThatSomeoneElseAdmits) {
  // Kueue's, or suspended by a person: followed, never resumed by kjq.
  AdoptedJob kueue = adopted_job("kueue", "q", true);
  kueue.reason = "WaitingForKueue";
  AdoptedJob manual = adopted_job("manual", "q", true);
  manual.reason = "Suspended";
  store_->adopt(kueue);
  store_->adopt(manual);
  EXPECT_TRUE(store_->queues_with_waiting_jobs().empty());
  EXPECT_TRUE(store_->claim("q", 0, 10, "replica-a", "kjq", 2000).empty());
  store_->adopt(adopted_job("ours", "q", true));
  EXPECT_EQ(ids_of(store_->claim("q", 0, 10, "replica-a", "kjq", 2000)), std::vector<std::string>{"ours"});
  EXPECT_EQ(store_->get("kueue")->state, JobState::Queued);
  EXPECT_EQ(store_->get("manual")->state, JobState::Queued);
}

TEST_P(StoreContract, ClaimKeepsAnAdoptedJobsNameAndCountsAdoptedJobsAgainstTheCap) {
  store_->adopt(adopted_job("running", "q"));          // active, counts against the cap
  store_->adopt(adopted_job("suspended", "q", true));  // Queued, first in line
  store_->submit({new_job("k1", "q"), new_job("k2", "q")});

  const auto first = store_->claim("q", 2, 10, "replica-a", "kjq", 2000);
  ASSERT_EQ(ids_of(first), std::vector<std::string>{"suspended"});
  EXPECT_EQ(first[0].kube_name, "nautobot-job-suspended");  // the Job exists already: its name stays
  EXPECT_EQ(first[0].state, JobState::Submitted);
  EXPECT_EQ(first[0].reason, "Dispatching");
  EXPECT_EQ(first[0].owner, "replica-a");
  EXPECT_EQ(first[0].submitted_ms, 2000);
  EXPECT_EQ(first[0].origin, JobOrigin::Nautobot);
  EXPECT_EQ(first[0].kube_uid, "uid-suspended");
  expect_same_record(stored("suspended"), first[0]);
  EXPECT_TRUE(store_->claim("q", 2, 10, "replica-a", "kjq", 2001).empty());

  ASSERT_TRUE(store_->finish("running", finish_as(JobState::Succeeded, 2100)));
  const auto second = store_->claim("q", 2, 10, "replica-a", "kjq", 2200);
  ASSERT_EQ(ids_of(second), std::vector<std::string>{"k1"});
  EXPECT_EQ(second[0].kube_name, "kjq-k1");  // kjq's own jobs are named as before
  EXPECT_TRUE(store_->claim("q", 2, 10, "replica-a", "kjq", 2201).empty());
}

TEST_P(StoreContract, QueuePositionCountsTheQueuedJobsAheadInTheSameQueue) {
  store_->submit({new_job("a", "q1"), new_job("b", "q1"), new_job("x", "q2")});
  store_->adopt(adopted_job("n", "q1", true));
  store_->submit({new_job("c", "q1")});
  EXPECT_EQ(store_->queue_position("a"), 1);
  EXPECT_EQ(store_->queue_position("b"), 2);
  EXPECT_EQ(store_->queue_position("n"), 3);
  EXPECT_EQ(store_->queue_position("c"), 4);
  EXPECT_EQ(store_->queue_position("x"), 1);  // another queue has its own line
  EXPECT_EQ(store_->queue_position("missing"), 0);

  ASSERT_EQ(ids_of(store_->claim("q1", 0, 1, "r", "kjq", 2000)), std::vector<std::string>{"a"});
  EXPECT_EQ(store_->queue_position("a"), 0);  // not Queued any more
  EXPECT_EQ(store_->queue_position("b"), 1);
  ASSERT_TRUE(store_->request_cancel("b", std::nullopt, 2100).cancelled_now);
  EXPECT_EQ(store_->queue_position("b"), 0);
  EXPECT_EQ(store_->queue_position("n"), 1);
  EXPECT_EQ(store_->queue_position("c"), 2);
  store_->adopt(adopted_job("running", "q1"));  // active: not in the line
  EXPECT_EQ(store_->queue_position("running"), 0);
  EXPECT_EQ(store_->queue_position("c"), 2);
}

TEST_P(StoreContract, OnlyTheFinishThatMadeTheRecordFinalQueuesItsWriteBack) {
  submit_many(1);
  EXPECT_EQ(store_->pending_writebacks(), 0);
  EXPECT_TRUE(finish_with_writeback("job-0", R"({"status":"SUCCESS"})", 3000));
  EXPECT_EQ(store_->pending_writebacks(), 1);

  server::Finish late = finish_as(JobState::Failed, 4000);
  late.writeback_json = R"({"status":"FAILURE"})";
  EXPECT_FALSE(store_->finish("job-0", late));
  EXPECT_FALSE(store_->finish("missing", late));
  EXPECT_EQ(store_->pending_writebacks(), 1);
  const auto due = store_->due_writebacks(10'000, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].job_id, "job-0");
  EXPECT_EQ(due[0].payload_json, R"({"status":"SUCCESS"})");
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(due[0].next_attempt_ms, 3000);  // due at once
  EXPECT_EQ(due[0].last_error, "");
  EXPECT_EQ(due[0].created_ms, 3000);

  // A finish without one queues nothing; nor does cancelling a Queued job.
  submit_many(2, "other", "o-");
  store_->claim("other", 0, 1, "r", "kjq", 5000);
  ASSERT_TRUE(store_->finish("o-0", finish_as(JobState::Succeeded, 5100)));
  ASSERT_TRUE(store_->request_cancel("o-1", std::nullopt, 5200).cancelled_now);
  EXPECT_EQ(store_->pending_writebacks(), 1);
}

TEST_P(StoreContract, EvidenceAttachedAfterTheEndCompletesTheUntriedWriteBackOnly) {
  submit_many(3);
  server::Evidence e;
  e.log_tail = "the tail\n";
  e.events_json = R"([{"reason":"Completed"}])";
  e.writeback_json = R"({"status":"SUCCESS","events":1})";
  e.now_ms = 3500;
  // Not final yet: nothing is stored.
  EXPECT_FALSE(store_->attach_evidence("job-0", e));
  EXPECT_EQ(stored("job-0").log_tail, "");
  EXPECT_FALSE(store_->attach_evidence("missing", e));

  // The end first, its write-back held back for the evidence...
  store_->claim("default", 0, 3, "r", "kjq", 2000);
  server::Finish f = finish_as(JobState::Succeeded, 3000);
  f.writeback_json = R"({"status":"SUCCESS"})";
  f.writeback_due_ms = 13'000;
  ASSERT_TRUE(store_->finish("job-0", f));
  EXPECT_TRUE(due_ids(12'999).empty());
  // ...then the evidence, which completes the payload and makes it due at once.
  EXPECT_TRUE(store_->attach_evidence("job-0", e));
  const auto r = stored("job-0");
  EXPECT_EQ(r.log_tail, "the tail\n");
  EXPECT_EQ(r.events_json, R"([{"reason":"Completed"}])");
  EXPECT_EQ(r.state, JobState::Succeeded);
  EXPECT_FALSE(r.evidence_truncated);
  auto due = store_->due_writebacks(3500, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].payload_json, R"({"status":"SUCCESS","events":1})");
  EXPECT_EQ(due[0].created_ms, 3000);

  // A write-back already tried keeps its payload and time; nullopt evidence keeps what is stored.
  ASSERT_TRUE(store_->finish("job-1", f));
  store_->writeback_retry("job-1", 20'000, "nautobot db: timeout", 13'000);
  server::Evidence only_events;
  only_events.events_json = "[]";
  only_events.writeback_json = R"({"late":true})";
  only_events.now_ms = 14'000;
  EXPECT_TRUE(store_->attach_evidence("job-1", only_events));
  due = store_->due_writebacks(20'000, 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].job_id, "job-1");
  EXPECT_EQ(due[1].payload_json, R"({"status":"SUCCESS"})");
  EXPECT_EQ(due[1].next_attempt_ms, 20'000);
  EXPECT_EQ(stored("job-1").events_json, "[]");
  // Evidence cut to the cap marks the record, and a later attach never unmarks it.
  only_events.evidence_truncated = true;
  EXPECT_TRUE(store_->attach_evidence("job-1", only_events));
  EXPECT_TRUE(stored("job-1").evidence_truncated);
  only_events.evidence_truncated = false;
  EXPECT_TRUE(store_->attach_evidence("job-1", only_events));
  EXPECT_TRUE(stored("job-1").evidence_truncated);

  server::Evidence bad;
  bad.log_tail = std::string("a\0b", 3);
  EXPECT_THROW(store_->attach_evidence("job-0", bad), std::invalid_argument);
  EXPECT_EQ(stored("job-0").log_tail, "the tail\n");
}

TEST_P(StoreContract, DueWriteBacksComeOldestFirstAndRetriesWaitForTheirTime) {
  submit_many(1, "q0", "w0-");
  submit_many(1, "q1", "w1-");
  submit_many(1, "q2", "w2-");
  ASSERT_TRUE(finish_with_writeback("w0-0", R"({"n":0})", 5000, "q0"));
  ASSERT_TRUE(finish_with_writeback("w1-0", R"({"n":1})", 3000, "q1"));
  ASSERT_TRUE(finish_with_writeback("w2-0", R"({"n":2})", 4000, "q2"));
  EXPECT_EQ(store_->pending_writebacks(), 3);

  EXPECT_TRUE(due_ids(2999).empty());
  EXPECT_EQ(due_ids(4500), (std::vector<std::string>{"w1-0", "w2-0"}));
  EXPECT_EQ(due_ids(10'000), (std::vector<std::string>{"w1-0", "w2-0", "w0-0"}));
  EXPECT_EQ(due_ids(10'000, 1), std::vector<std::string>{"w1-0"});
  EXPECT_EQ(due_ids(10'000, 0), std::vector<std::string>{"w1-0"});  // the limit is at least 1

  store_->writeback_retry("w1-0", 20'000, "nautobot db: connection refused", 10'000);
  EXPECT_EQ(due_ids(10'000), (std::vector<std::string>{"w2-0", "w0-0"}));
  EXPECT_EQ(store_->pending_writebacks(), 3);  // still pending, only later
  store_->writeback_retry("w1-0", 40'000, "nautobot db: timeout", 20'000);
  auto due = store_->due_writebacks(40'000, 10);
  ASSERT_EQ(due.size(), 3u);
  EXPECT_EQ(due[0].job_id, "w1-0");  // still ordered by when it was queued
  EXPECT_EQ(due[0].attempts, 2);
  EXPECT_EQ(due[0].next_attempt_ms, 40'000);
  EXPECT_EQ(due[0].last_error, "nautobot db: timeout");
  EXPECT_EQ(due[0].created_ms, 3000);
  EXPECT_EQ(due[0].payload_json, R"({"n":1})");
  EXPECT_EQ(due[1].attempts, 0);

  store_->writeback_done("w1-0", "written", 41'000);
  store_->writeback_done("w2-0", "nothing to write: JobResult gone", 41'000);
  EXPECT_EQ(due_ids(100'000), std::vector<std::string>{"w0-0"});
  EXPECT_EQ(store_->pending_writebacks(), 1);
  // Done stays done: a late retry or a second done changes nothing.
  store_->writeback_retry("w1-0", 50'000, "late", 42'000);
  store_->writeback_done("w1-0", "again", 42'000);
  EXPECT_EQ(due_ids(100'000), std::vector<std::string>{"w0-0"});
  EXPECT_EQ(store_->pending_writebacks(), 1);
  // Unknown ids are no-ops.
  store_->writeback_retry("missing", 50'000, "x", 42'000);
  store_->writeback_done("missing", "x", 42'000);
  store_->writeback_done("w0-0", "written", 43'000);
  EXPECT_EQ(store_->pending_writebacks(), 0);
  EXPECT_TRUE(store_->due_writebacks(100'000, 10).empty());
}

TEST_P(StoreContract, HostileWriteBackPayloadsRoundTripOrAreRefusedAlike) {
  std::string big(1 << 20, 'x');
  const std::vector<std::string> payloads{
      R"({"msg":"it's \"quoted\" and back\\slashed"})",
      R"({"sql":"'); DROP TABLE writebacks; --","dollar":"$1::text $$ $q$"})",
      R"({"escaped_nul":"a\u0000b","ctl":"\t\r\n"})",
      "{\"utf8\":\"ünïcødé ✓ 🚀 \xe2\x80\xa8\"}",
      "not even JSON: '\"\\;\n",
      "",
      "{\"big\":\"" + big + "\"}",
  };
  std::vector<NewJob> jobs;
  for (std::size_t i = 0; i < payloads.size(); ++i) jobs.push_back(new_job("h" + std::to_string(i)));
  store_->submit(jobs);
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_TRUE(finish_with_writeback("h" + std::to_string(i), payloads[i], 3000 + static_cast<std::int64_t>(i)));
  }
  const auto due = store_->due_writebacks(10'000, 100);
  ASSERT_EQ(due.size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(due[i].job_id, "h" + std::to_string(i));
    EXPECT_EQ(due[i].payload_json, payloads[i]) << i;
  }

  // A raw NUL byte (PostgreSQL cannot store one, libpq would cut the text there) and invalid
  // UTF-8 are refused by both stores before anything changes: the record stays unfinished.
  submit_many(1, "bad", "bad-");
  store_->claim("bad", 0, 1, "r", "kjq", 4000);
  for (const auto& hostile :
       {std::string("{\"a\":\"x\0y\"}", sizeof("{\"a\":\"x\0y\"}") - 1), std::string("{\"a\":\"\xff\xfe\"}"),
        std::string("{\"a\":\"\xc0\xaf\"}"), std::string("\xed\xa0\x80")}) {
    server::Finish f = finish_as(JobState::Succeeded, 5000);
    f.writeback_json = hostile;
    EXPECT_THROW(store_->finish("bad-0", f), std::invalid_argument);
    EXPECT_EQ(stored("bad-0").state, JobState::Submitted);
  }
  EXPECT_EQ(store_->pending_writebacks(), static_cast<std::int64_t>(payloads.size()));

  // Errors and outcomes are stored whatever they hold: bad bytes become U+FFFD.
  store_->writeback_retry("h0", 6000, std::string("bad \0 byte \xff end", sizeof("bad \0 byte \xff end") - 1), 5000);
  const auto retried = store_->due_writebacks(6000, 1);
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_EQ(retried[0].job_id, "h0");
  EXPECT_EQ(retried[0].last_error, "bad \xEF\xBF\xBD byte \xEF\xBF\xBD end");
  store_->writeback_done("h0", std::string("ok\0", 3), 7000);
  EXPECT_EQ(store_->pending_writebacks(), static_cast<std::int64_t>(payloads.size()) - 1);
}

// A database the previous release created (schema version 1, by its own SQL) upgrades in place.
TEST_P(StoreContract, AVersionOneDatabaseUpgradesInPlaceKeepingItsRows) {
  const auto& v1 = server::migrations().front();
  ASSERT_EQ(v1.version, 1);
  StoreDatabase old_db(GetParam());
  old_db.exec(std::string(server::kCreateSchemaMigrationsSql) + ";\n" +
              (GetParam() == StoreBackend::Sqlite ? v1.sqlite_sql : v1.postgres_sql) +
              "INSERT INTO schema_migrations (version, applied_at_ms) VALUES (1, 1);\n"
              "INSERT INTO jobs (id, queue, state, data_json, time_limit_seconds, created_ms, updated_ms)"
              " VALUES ('old-queued', 'q', 'Queued', '{\"k\":1}', 60, 1000, 1000);\n"
              "INSERT INTO jobs (id, queue, state, reason, data_json, kube_name, kube_uid, owner, created_ms,"
              " submitted_ms, updated_ms) VALUES ('old-running', 'q', 'Running', 'PodRunning', '{}',"
              " 'kjq-old-running', 'uid-1', 'replica-a', 1001, 2000, 2500);\n"
              "INSERT INTO jobs (id, queue, state, reason, exit_code, created_ms, finished_ms, updated_ms)"
              " VALUES ('old-done', 'q', 'Succeeded', 'Completed', 0, 1002, 3000, 3000);\n");

  auto store = old_db.open();
  EXPECT_EQ(store->schema_version(), 5);
  const auto all = store->list(job_filter(""));
  EXPECT_EQ(ids_of(all.items), (std::vector<std::string>{"old-queued", "old-running", "old-done"}));
  for (const auto& r : all.items) {
    EXPECT_EQ(r.origin, JobOrigin::Kjq) << r.id;
    EXPECT_EQ(r.job_result_id, "") << r.id;
  }
  const auto queued = store->get("old-queued").value();
  EXPECT_EQ(queued.data_json, R"({"k":1})");
  EXPECT_EQ(queued.time_limit_seconds, 60);
  EXPECT_EQ(queued.created_ms, 1000);
  const auto running = store->get("old-running").value();
  EXPECT_EQ(running.state, JobState::Running);
  EXPECT_EQ(running.kube_name, "kjq-old-running");
  EXPECT_EQ(running.owner, "replica-a");
  EXPECT_EQ(running.submitted_ms, 2000);
  EXPECT_EQ(store->get("old-done").value().exit_code, 0);
  EXPECT_EQ(ids_of(store->list(job_filter("", std::nullopt, 100, 0, JobOrigin::Kjq)).items).size(), 3u);
  EXPECT_TRUE(store->list(job_filter("", std::nullopt, 100, 0, JobOrigin::Nautobot)).items.empty());
  EXPECT_EQ(store->pending_writebacks(), 0);
  EXPECT_EQ(store->queue_position("old-queued"), 1);

  // Everything version 2 adds works on the upgraded database, and new rows follow the old ones.
  const auto adopted = store->adopt(adopted_job("nb", "q", true)).record;
  EXPECT_GT(adopted.seq, all.items.back().seq);
  EXPECT_EQ(store->queue_position("nb"), 2);
  server::Finish f = finish_as(JobState::Succeeded, 4000);
  f.writeback_json = "{}";
  ASSERT_TRUE(store->finish("old-running", f));
  EXPECT_EQ(store->pending_writebacks(), 1);
  // The CHECK holds on the upgraded table too.
  EXPECT_THROW(old_db.exec("UPDATE jobs SET origin = 'elsewhere' WHERE id = 'nb'"), std::runtime_error);
  // And a second start-up finds nothing left to do.
  EXPECT_EQ(old_db.open()->schema_version(), 5);
}

TEST_P(StoreContract, APausedQueueIsClaimedByNoReplicaUntilResumedAndStaysPausedAcrossRestarts) {
  submit_many(3, "default");
  submit_many(1, "other", "other-");
  auto replica = db_->open();  // a second serve process on the same database
  EXPECT_TRUE(store_->set_queue_paused("default", true, 5000));
  EXPECT_FALSE(replica->set_queue_paused("default", true, 5001)) << "already paused: nothing changes";
  EXPECT_FALSE(store_->set_queue_paused("never-paused", false, 5002)) << "resuming a running queue changes nothing";
  EXPECT_TRUE(store_->claim("default", 0, 10, "a", "kjq", 6000).empty());
  EXPECT_TRUE(replica->claim("default", 0, 10, "b", "kjq", 6000).empty());
  EXPECT_EQ(replica->queues_with_waiting_jobs(), std::vector<std::string>{"other"});
  EXPECT_EQ(replica->claim("other", 0, 10, "b", "kjq", 6000).size(), 1u) << "other queues go on";
  // A restart (a new connection) still sees it paused.
  replica = db_->open();
  auto settings = replica->queue_settings();
  ASSERT_EQ(settings.size(), 1u);
  EXPECT_EQ(settings[0].queue, "default");
  EXPECT_TRUE(settings[0].paused);
  EXPECT_EQ(settings[0].changed_ms, 5000);
  EXPECT_TRUE(replica->claim("default", 0, 10, "b", "kjq", 6000).empty());
  EXPECT_EQ(stored("job-0").state, JobState::Queued);

  EXPECT_TRUE(replica->set_queue_paused("default", false, 7000));
  EXPECT_EQ(store_->queues_with_waiting_jobs(), std::vector<std::string>{"default"});
  auto claimed = store_->claim("default", 2, 10, "a", "kjq", 8000);
  ASSERT_EQ(claimed.size(), 2u) << "the cap still holds after a resume";
  EXPECT_EQ(claimed[0].id, "job-0");
  settings = store_->queue_settings();
  ASSERT_EQ(settings.size(), 1u);
  EXPECT_FALSE(settings[0].paused);
  EXPECT_EQ(settings[0].changed_ms, 7000);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, testing::Values(StoreBackend::Sqlite, StoreBackend::Postgres),
                         backend_name);

}  // namespace
}  // namespace kjq::test
