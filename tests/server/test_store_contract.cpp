// The JobStore contract (server/store/job_store.hpp), run against SQLite and PostgreSQL alike.
#include <gtest/gtest.h>

#include <set>

#include "server/store/migrations.hpp"
#include "store_test_support.hpp"

namespace kjq::test {
namespace {

using server::JobFilter;
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
};

TEST_P(StoreContract, MigratingAgainIsANoOp) {
  EXPECT_EQ(store_->schema_version(), 2);
  EXPECT_EQ(store_->schema_version(), server::latest_schema_version());
  store_->submit({new_job("kept")});
  store_->migrate();
  store_->migrate();
  EXPECT_EQ(store_->schema_version(), 2);
  auto again = db_->open();  // a second start-up migrates too
  EXPECT_EQ(again->schema_version(), 2);
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

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, testing::Values(StoreBackend::Sqlite, StoreBackend::Postgres),
                         backend_name);

}  // namespace
}  // namespace kjq::test
