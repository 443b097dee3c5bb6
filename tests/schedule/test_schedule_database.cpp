// ScheduleDatabase against a throwaway PostgreSQL holding Nautobot's tables
// (tests/support/nautobot_schema.sql): each test case runs in its own process and database.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "nautobot/database_errors.hpp"
#include "nautobot/pg_connection.hpp"
#include "schedule/run_id.hpp"
#include "schedule/schedule_database.hpp"
#include "schedule/schedule_runner.hpp"
#include "support/nautobot_database_test.hpp"
#include "support/nautobot_schema.hpp"
#include "support/postgres_server.hpp"

namespace kjq::schedule {
namespace {

using test::PostgresServer;

Instant instant(const std::string& text) { return parse_instant(text).value(); }

class ScheduleDatabaseFixture : public test::NautobotDatabaseTest {
 protected:
  void SetUp() override {
    NautobotDatabaseTest::SetUp();
    if (unavailable()) return;
    // SQL on one connection of the test's own: a psql process per statement is slow on a busy machine.
    conn_ = std::make_unique<nautobot::PgConnection>(nautobot::NautobotDatabase::from_flags(url_), "");
    queue_ = test::random_uuid();
    celery_queue_ = test::random_uuid();
    user_ = test::random_uuid();
    job_ = test::random_uuid();
    sql(test::job_queue_sql(queue_, "kubernetes", "kubernetes") + ";" +
        test::job_queue_sql(celery_queue_, "default", "celery") + ";" + test::user_sql(user_, "alice") + ";" +
        test::job_sql(job_, "Backup Configs", queue_, true, false));
  }

  // psql's unaligned output: columns joined by "|", rows by "\n"; the last statement's rows.
  std::string sql(const std::string& text) const {
    auto r = conn_->exec_script("test SQL", text);
    std::string out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      if (i) out += "\n";
      for (int k = 0; k < PQnfields(r.get()); ++k) out += (k ? "|" : "") + nautobot::pg_text(r, i, k);
    }
    return out;
  }
  std::string add_job(const std::string& name, bool enabled = true, bool sensitive = false) const {
    const auto id = test::random_uuid();
    sql(test::job_sql(id, name, queue_, enabled, sensitive));
    return id;
  }
  std::unique_ptr<ScheduleDatabase> database() const {
    return std::make_unique<ScheduleDatabase>(nautobot::NautobotDatabase::from_flags(url_));
  }
  test::ScheduledJobSpec spec(const std::string& name, const std::string& crontab = "*/15 * * * *") const {
    test::ScheduledJobSpec s;
    s.name = name;
    s.job_id = job_;
    s.queue_id = queue_;
    s.user_id = user_;
    s.crontab = crontab;
    return s;
  }
  std::string schedule(const test::ScheduledJobSpec& s) const {
    const auto id = test::random_uuid();
    sql(test::scheduled_job_sql(id, s));
    return id;
  }
  int count(const std::string& where = "TRUE") const {
    return std::stoi(sql("SELECT COUNT(*) FROM extras_jobresult WHERE " + where));
  }

  std::unique_ptr<nautobot::PgConnection> conn_;
  std::string queue_, celery_queue_, user_, job_;
};

using ScheduleDatabaseClaim = ScheduleDatabaseFixture;

TEST_F(ScheduleDatabaseClaim, RecordsARunAsBeatDoesOnce) {
  auto s = spec("nightly backup");
  s.last_run_at = "2026-06-01T09:00:00Z";
  const auto id = schedule(s);
  auto db = database();
  const auto now = instant("2026-06-01T09:15:00.300Z");
  const auto outcomes = db->claim({id}, now, {});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].kind, ClaimOutcome::Kind::Fired);
  ASSERT_EQ(outcomes[0].runs.size(), 1u);
  const auto& run = outcomes[0].runs[0];
  EXPECT_EQ(run.job_result_id, run_id(id, instant("2026-06-01T09:15:00Z")));
  EXPECT_EQ(run.queue, "kubernetes");
  EXPECT_EQ(nlohmann::json::parse(run.data_json), nlohmann::json::parse("{\"devices\": 3}"));
  EXPECT_EQ(format_instant(*outcomes[0].next), "2026-06-01T09:30:00Z");

  EXPECT_EQ(sql("SELECT name, status, task_name, user_id = '" + user_ + "', job_model_id = '" + job_ +
                "', scheduled_job_id = '" + id +
                "', date_created = '2026-06-01T09:15:00.3Z', task_args::text,"
                " task_kwargs::text, date_done IS NULL, traceback IS NULL FROM extras_jobresult WHERE id = '" +
                run.job_result_id + "'"),
            "Backup Configs|PENDING|example_jobs.Backup ConfigsJob|t|t|t|t|[]|{\"devices\": 3}|t|t");
  const auto kwargs = nlohmann::json::parse(
      sql("SELECT celery_kwargs::text FROM extras_jobresult WHERE id = '" + run.job_result_id + "'"));
  EXPECT_EQ(kwargs["queue"], "kubernetes");
  EXPECT_EQ(kwargs["nautobot_job_scheduled_job_id"], id);
  EXPECT_EQ(kwargs["nautobot_job_user_id"], user_);
  EXPECT_EQ(kwargs["nautobot_job_job_model_id"], job_);
  EXPECT_EQ(kwargs["headers"], nlohmann::json::object());
  EXPECT_EQ(kwargs["nautobot_job_console_log"], false);
  EXPECT_EQ(sql("SELECT log_level, grouping, message FROM extras_joblogentry WHERE job_result_id = '" +
                run.job_result_id + "'"),
            "info|main|Creating job pod nautobot-job-" + run.job_result_id + " in namespace default");
  EXPECT_EQ(sql("SELECT last_run_at = '2026-06-01T09:15:00Z', total_run_count, enabled, state FROM "
                "extras_scheduledjob WHERE id = '" +
                id + "'"),
            "t|1|t|active");

  // Again at the same moment, and from a second connection (a restart): nothing more.
  EXPECT_EQ(db->claim({id}, now, {})[0].kind, ClaimOutcome::Kind::NotDue);
  EXPECT_EQ(database()->claim({id}, now + std::chrono::seconds(5), {})[0].kind, ClaimOutcome::Kind::NotDue);
  EXPECT_EQ(count(), 1);
}

TEST_F(ScheduleDatabaseClaim, SensitiveJobKeepsItsKwargsOutOfTheJobResult) {
  const auto sensitive = add_job("Rotate Secrets", true, true);
  auto s = spec("rotate");
  s.job_id = sensitive;
  s.last_run_at = "2026-06-01T09:00:00Z";
  const auto id = schedule(s);
  const auto out = database()->claim({id}, instant("2026-06-01T09:15:01Z"), {});
  ASSERT_EQ(out[0].runs.size(), 1u);
  EXPECT_EQ(sql("SELECT task_kwargs::text FROM extras_jobresult"), "{}");
  EXPECT_EQ(nlohmann::json::parse(out[0].runs[0].data_json)["devices"], 3);  // the pod still gets them
}

TEST_F(ScheduleDatabaseClaim, TwoReplicasFireEachRunOnce) {  // nb#2546
  // 40 schedules every minute, claimed by two replicas at once, minute after minute.
  sql("INSERT INTO extras_scheduledjob (id, name, task, interval, args, kwargs, one_off, start_time, enabled,"
      " total_run_count, date_changed, description, user_id, job_model_id, crontab, celery_kwargs, time_zone,"
      " job_queue_id, state, headers) SELECT gen_random_uuid(), 'every minute ' || n, 'example_jobs.X', 'custom',"
      " '[]', '{}', false, '2026-06-01T00:00:00Z', true, 0, now(), '', '" +
      user_ + "', '" + job_ + "', '* * * * *', '{}', 'UTC', '" + queue_ +
      "', 'active', '{}' FROM generate_series(1, 40) AS n");
  std::vector<std::string> ids;
  for (const auto& row : database()->load()) ids.push_back(row.id);
  ASSERT_EQ(ids.size(), 40u);
  std::atomic<int> fired{0};
  auto replica = [&] {
    auto db = database();
    for (int minute = 0; minute < 5; ++minute) {
      const auto now = instant("2026-06-01T10:00:00.5Z") + std::chrono::minutes(minute);
      for (int attempt = 0; attempt < 3; ++attempt)  // a row the other holds is looked at again
        for (const auto& o : db->claim(ids, now, {})) fired += static_cast<int>(o.runs.size());
    }
  };
  std::thread a(replica), b(replica);
  a.join();
  b.join();
  EXPECT_EQ(fired.load(), 200);
  EXPECT_EQ(count(), 200);
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT (scheduled_job_id, date_created)) FROM extras_jobresult"), "200");
  EXPECT_EQ(sql("SELECT MIN(total_run_count) || '/' || MAX(total_run_count) FROM extras_scheduledjob"), "5/5");
}

TEST_F(ScheduleDatabaseClaim, AClaimerKilledMidTransactionLosesAndDoublesNothing) {
  sql("INSERT INTO extras_scheduledjob (id, name, task, interval, args, kwargs, one_off, start_time, enabled,"
      " total_run_count, date_changed, description, user_id, job_model_id, crontab, celery_kwargs, time_zone,"
      " job_queue_id, state, headers) SELECT gen_random_uuid(), 'every minute ' || n, 'example_jobs.X', 'custom',"
      " '[]', '{}', false, '2026-06-01T00:00:00Z', true, 0, now(), '', '" +
      user_ + "', '" + job_ + "', '* * * * *', '{}', 'UTC', '" + queue_ +
      "', 'active', '{}' FROM generate_series(1, 20) AS n");
  std::vector<std::string> ids;
  for (const auto& row : database()->load()) ids.push_back(row.id);
  const auto start = instant("2026-06-01T10:00:00.5Z");
  auto claim_minutes = [&](ScheduleDatabase& db) {
    for (int minute = 0; minute < 30; ++minute) db.claim(ids, start + std::chrono::minutes(minute), {});
  };
  // A replica that dies with kill -9 somewhere in its claims (libpq in a fresh child process).
  for (int delay_ms : {15, 40, 90}) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        ScheduleDatabase db(nautobot::NautobotDatabase::from_flags(url_));
        claim_minutes(db);
      } catch (...) {
      }
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
  }
  // The survivor goes through the same minutes: each run exists exactly once.
  auto db = database();
  claim_minutes(*db);
  EXPECT_EQ(count(), 20 * 30);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM extras_joblogentry"), "600");
  EXPECT_EQ(sql("SELECT MIN(total_run_count) || '/' || MAX(total_run_count) FROM extras_scheduledjob"), "30/30");
}

// A replica killed with kill -9 while its claim made ahead waits for the due time: nothing of it
// was visible, its locks kept the other replica off meanwhile, and once it is gone the other
// replica fires each run once.
TEST_F(ScheduleDatabaseClaim, AReplicaKilledWhileHoldingAClaimAheadLeavesNothing) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto s = spec("ahead " + std::to_string(i));
    s.last_run_at = "2026-06-01T09:45:00Z";
    ids.push_back(schedule(s));
  }
  const auto due = instant("2026-06-01T10:00:00Z");
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      ScheduleDatabase db(nautobot::NautobotDatabase::from_flags(url_));
      db.claim(ids, due, {}, 0, [&] {
        const char prepared = 'p';
        (void)!write(ready[1], &prepared, 1);
        std::this_thread::sleep_for(std::chrono::seconds(30));  // "waits for the due time"
        return true;
      });
    } catch (...) {
    }
    _exit(0);
  }
  close(ready[1]);
  char prepared = 0;
  ASSERT_EQ(read(ready[0], &prepared, 1), 1);  // the child's transaction is prepared, not committed
  close(ready[0]);
  EXPECT_EQ(count(), 0);
  auto db = database();
  for (const auto& o : db->claim(ids, due, {})) EXPECT_EQ(o.kind, ClaimOutcome::Kind::Locked);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // PostgreSQL notices the dead connection and rolls its transaction back; the locks go with it.
  std::vector<ClaimOutcome> out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    out = db->claim(ids, due, {});
    if (!out.empty() && out[0].kind != ClaimOutcome::Kind::Locked) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(out.size(), ids.size());
  for (const auto& o : out) EXPECT_EQ(o.kind, ClaimOutcome::Kind::Fired) << o.schedule_id;
  EXPECT_EQ(count(), 5);
  EXPECT_EQ(sql("SELECT MIN(total_run_count) || '/' || MAX(total_run_count) FROM extras_scheduledjob"), "1/1");
}

// A claim made ahead holds every run of a moment: one transaction over many statement chunks,
// each schedule's outcome and run kept.
TEST_F(ScheduleDatabaseClaim, ClaimsManySchedulesInOneTransaction) {
  constexpr int kSchedules = 900;
  std::vector<std::string> ids;
  std::string script;
  for (int i = 0; i < kSchedules; ++i) {
    auto s = spec("many " + std::to_string(i));
    s.last_run_at = "2026-06-01T09:45:00Z";
    ids.push_back(test::random_uuid());
    script += test::scheduled_job_sql(ids.back(), s) + ";";
  }
  sql(script);
  auto db = database();
  const auto out = db->claim(ids, instant("2026-06-01T10:00:00.1Z"), {});
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kSchedules));
  std::set<std::string> fired;
  for (const auto& o : out) {
    EXPECT_EQ(o.kind, ClaimOutcome::Kind::Fired) << o.schedule_id;
    ASSERT_EQ(o.runs.size(), 1u) << o.schedule_id;
    EXPECT_EQ(o.row->total_run_count, 1);
    fired.insert(o.schedule_id);
  }
  EXPECT_EQ(fired, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(count(), kSchedules);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM extras_joblogentry"), std::to_string(kSchedules));
  EXPECT_EQ(sql("SELECT MIN(total_run_count) || '/' || MAX(total_run_count) FROM extras_scheduledjob"), "1/1");
}

TEST_F(ScheduleDatabaseClaim, OneOffRunsOnceAndIsCompleted) {  // nb#5887: future without one_off
  auto s = spec("once");
  s.interval = "future";
  s.crontab = "";
  s.start_time = "2026-06-01T12:00:00Z";
  s.one_off = false;
  const auto id = schedule(s);
  auto db = database();
  EXPECT_EQ(db->claim({id}, instant("2026-06-01T11:59:59Z"), {})[0].kind, ClaimOutcome::Kind::NotDue);
  const auto out = db->claim({id}, instant("2026-06-01T12:00:00.2Z"), {});
  EXPECT_EQ(out[0].kind, ClaimOutcome::Kind::Fired);
  EXPECT_FALSE(out[0].next);
  EXPECT_EQ(sql("SELECT enabled, state, total_run_count FROM extras_scheduledjob"), "f|completed|1");
  EXPECT_EQ(db->claim({id}, instant("2026-06-02T12:00:00Z"), {})[0].kind, ClaimOutcome::Kind::NotFired);
  EXPECT_EQ(count(), 1);
}

TEST_F(ScheduleDatabaseClaim, MissingUserRecordsAFailureAndErrorsTheSchedule) {  // nb#8934
  auto s = spec("orphaned");
  s.last_run_at = "2026-06-01T09:00:00Z";
  const auto id = schedule(s);
  sql("UPDATE extras_scheduledjob SET user_id = NULL");  // Django's SET_NULL when the user went
  const auto out = database()->claim({id}, instant("2026-06-01T09:15:00Z"), {});
  EXPECT_EQ(out[0].kind, ClaimOutcome::Kind::MissingUser);
  EXPECT_TRUE(out[0].runs.empty());
  EXPECT_EQ(sql("SELECT status, user_id IS NULL, traceback LIKE '%originating user has been removed%',"
                " date_done IS NOT NULL, error_log_count, info_log_count FROM extras_jobresult"),
            "FAILURE|t|t|t|1|0");
  EXPECT_EQ(sql("SELECT log_level, log_object, absolute_url FROM extras_joblogentry"),
            "error|orphaned: custom|/extras/scheduled-jobs/" + id + "/");
  EXPECT_EQ(sql("SELECT enabled, state, last_run_at IS NULL FROM extras_scheduledjob"), "f|errored|t");
}

TEST_F(ScheduleDatabaseClaim, MissingJobErrorsTheScheduleWithoutARun) {
  auto s = spec("jobless");
  s.job_id = "";
  s.last_run_at = "2026-06-01T09:00:00Z";
  const auto id = schedule(s);
  EXPECT_EQ(database()->claim({id}, instant("2026-06-01T09:15:00Z"), {})[0].kind, ClaimOutcome::Kind::MissingJob);
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(sql("SELECT enabled, state FROM extras_scheduledjob"), "f|errored");
}

TEST_F(ScheduleDatabaseClaim, NeverFiresWhatIsNotActiveEnabledAndOnAKubernetesQueue) {
  std::vector<std::string> ids;
  for (const char* state : {"pending", "denied", "canceled", "completed", "errored"}) {
    auto s = spec(std::string("state ") + state);
    s.state = state;
    ids.push_back(schedule(s));
  }
  auto disabled = spec("disabled");
  disabled.enabled = false;
  ids.push_back(schedule(disabled));
  auto celery = spec("celery");
  celery.queue_id = celery_queue_;
  ids.push_back(schedule(celery));
  auto job_off = spec("job disabled");
  job_off.job_id = add_job("Disabled Job", false);
  ids.push_back(schedule(job_off));
  const auto out = database()->claim(ids, instant("2026-06-02T00:00:00Z"), {});
  ASSERT_EQ(out.size(), ids.size());
  for (const auto& o : out) EXPECT_EQ(o.kind, ClaimOutcome::Kind::NotFired) << o.schedule_id << " " << o.message;
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(database()->load().size(), 7u);  // the Celery one is not kjq's to show
}

TEST_F(ScheduleDatabaseClaim, AnEditMadeWhileDueCounts) {
  auto s = spec("edited");
  s.last_run_at = "2026-06-01T09:00:00Z";
  const auto id = schedule(s);
  // kjq planned 09:15 from */15; just before the claim someone makes it hourly at :40.
  sql("UPDATE extras_scheduledjob SET crontab = '40 * * * *', date_changed = now()");
  const auto out = database()->claim({id}, instant("2026-06-01T09:15:00Z"), {});
  EXPECT_EQ(out[0].kind, ClaimOutcome::Kind::NotDue);
  EXPECT_EQ(format_instant(*out[0].next), "2026-06-01T09:40:00Z");
  EXPECT_EQ(count(), 0);
}

TEST_F(ScheduleDatabaseClaim, CatchesUpAfterThreeHoursDownPerPolicy) {
  auto s = spec("quarterly");
  s.last_run_at = "2026-06-01T09:00:00Z";
  const auto id = schedule(s);
  const auto now = instant("2026-06-01T12:00:20Z");
  struct Case {
    CatchUp policy;
    std::size_t fired;
  };
  for (const auto& c : {Case{CatchUp::None, 1}, Case{CatchUp::Once, 1}, Case{CatchUp::All, 12}}) {
    sql("DELETE FROM extras_joblogentry; DELETE FROM extras_jobresult;"
        " UPDATE extras_scheduledjob SET last_run_at = '2026-06-01T09:00:00Z', total_run_count = 0");
    ClaimContext context;
    context.catch_up.policy = c.policy;
    const auto out = database()->claim({id}, now, context);
    EXPECT_EQ(out[0].runs.size(), c.fired) << catch_up_name(c.policy);
    EXPECT_EQ(count(), static_cast<int>(c.fired));
    EXPECT_EQ(sql("SELECT last_run_at = '2026-06-01T12:00:00Z', total_run_count FROM extras_scheduledjob"),
              "t|" + std::to_string(c.fired));
  }
}

TEST_F(ScheduleDatabaseFixture, RefusesJobResultColumnsItDoesNotKnow) {
  database()->check_schema();
  sql("ALTER TABLE extras_jobresult ADD COLUMN retention_days integer NOT NULL DEFAULT 30");
  database()->check_schema();  // a default fills it
  sql("ALTER TABLE extras_jobresult ADD COLUMN revocation_type varchar(30) NOT NULL");
  try {
    database()->check_schema();
    FAIL() << "accepted";
  } catch (const nautobot::SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("revocation_type"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("newer Nautobot"), std::string::npos) << e.what();
  }
  database()->check_schema(/*writes=*/false);  // kjq schedules only reads: it still lists
  sql("DROP TABLE extras_scheduledjobs");
  EXPECT_THROW(database()->check_schema(), nautobot::SchemaError);
}

// The runner with a fake clock: what it hands to the queue, and what it does with PENDING runs.
using ScheduleRunnerFixture = ScheduleDatabaseFixture;

TEST_F(ScheduleRunnerFixture, FiresOnANewDatabasePicksUpEditsAndFollowsPendingRuns) {
  auto s = spec("first schedule");
  s.start_time = "2026-06-01T10:00:00Z";
  const auto id = schedule(s);
  sql("DELETE FROM extras_scheduledjobs");  // a new database: no row yet (nb#4411)
  auto db = database();
  Instant now = instant("2026-06-01T09:59:59Z");
  std::vector<FiredRun> handed;
  std::map<std::string, RunState> queue;
  std::vector<std::string> failed;
  RunHooks hooks;
  hooks.submit = [&](const std::vector<FiredRun>& runs) {
    for (const auto& r : runs) {
      handed.push_back(r);
      queue[r.job_result_id] = RunState{};
    }
  };
  hooks.lookup = [&](const std::string& jr) -> std::optional<RunState> {
    auto found = queue.find(jr);
    if (found == queue.end()) return std::nullopt;
    return found->second;
  };
  hooks.fail = [&](const std::string& jr, const std::string& reason, const std::string&) {
    failed.push_back(jr + " " + reason);
  };
  RunnerOptions options;
  options.poll = std::chrono::milliseconds(0);         // read the change marker on every tick
  options.claim_ahead = std::chrono::milliseconds(0);  // the fake clock stands still
  ScheduleRunner runner(*db, options, hooks, [&] { return now; });
  EXPECT_TRUE(runner.tick().empty());
  now = instant("2026-06-01T10:00:00.1Z");
  ASSERT_EQ(runner.tick().size(), 1u);
  EXPECT_EQ(format_instant(handed[0].due), "2026-06-01T10:00:00Z");
  EXPECT_TRUE(runner.tick().empty());

  // An edit in Nautobot (every 5 minutes now) is seen by the next tick.
  sql("UPDATE extras_scheduledjob SET crontab = '*/5 * * * *', date_changed = now()");
  runner.tick();
  const auto views = runner.schedules();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(format_instant(*views[0].next), "2026-06-01T10:05:00Z");
  now = instant("2026-06-01T10:05:00.2Z");
  ASSERT_EQ(runner.tick().size(), 1u);
  EXPECT_EQ(runner.stats().fired, 2u);

  // kjq stopped between a claim and its hand-over: follow() hands the run over.
  const auto lost = handed.back().job_result_id;
  queue.erase(lost);
  now += std::chrono::seconds(30);
  EXPECT_EQ(runner.follow(), 1);
  EXPECT_EQ(handed.back().job_result_id, lost);
  EXPECT_EQ(handed.back().queue, "kubernetes");
  // A run whose Job the API server refused: FAILURE with the reason.
  queue[lost] = RunState{true, false, "CreateRejected", "admission webhook denied the Job"};
  EXPECT_EQ(runner.follow(), 1);
  EXPECT_EQ(failed, std::vector<std::string>{lost + " CreateRejected"});
  EXPECT_EQ(runner.stats().resubmitted, 1u);
  EXPECT_EQ(sql("SELECT total_run_count FROM extras_scheduledjob WHERE id = '" + id + "'"), "2");
}

// How far ahead the runner claims follows how long its claims take: with 900 runs due at once,
// longer than a claim_ahead of 1 ms (the fake clock stands still: that round is not ahead).
TEST_F(ScheduleRunnerFixture, ClaimsFurtherAheadWhenClaimsTakeLonger) {
  std::string script;
  for (int i = 0; i < 900; ++i) {
    auto s = spec("due " + std::to_string(i));
    s.last_run_at = "2026-06-01T09:45:00Z";
    script += test::scheduled_job_sql(test::random_uuid(), s) + ";";
  }
  sql(script);
  auto db = database();
  RunHooks hooks;
  hooks.submit = [](const std::vector<FiredRun>&) {};
  hooks.lookup = [](const std::string&) { return std::optional<RunState>(RunState{}); };
  hooks.fail = [](const std::string&, const std::string&, const std::string&) {};
  RunnerOptions options;
  options.claim_ahead = std::chrono::milliseconds(1);
  const Instant now = instant("2026-06-01T10:00:00.1Z");
  ScheduleRunner runner(*db, options, hooks, [&] { return now; });
  EXPECT_EQ(runner.stats().claim_lead, std::chrono::milliseconds(1));
  ASSERT_EQ(runner.tick().size(), 900u);
  EXPECT_GT(runner.stats().claim_lead, std::chrono::milliseconds(1));
  options.claim_ahead = std::chrono::milliseconds(0);
  ScheduleRunner off(*db, options, hooks, [&] { return now; });
  EXPECT_EQ(off.stats().claim_lead, std::chrono::microseconds(0));
}

// Real time: the runs due in a moment are claimed ahead, committed at their due time (nothing in
// Nautobot's tables before it, date_created the due time itself), and rolled back when the runner
// stops while waiting.
TEST_F(ScheduleRunnerFixture, ClaimsAheadAndCommitsAtTheDueTime) {
  const auto due = std::chrono::time_point_cast<std::chrono::milliseconds>(ScheduleRunner::system_now()) +
                   std::chrono::milliseconds(1500);
  for (int i = 0; i < 3; ++i) {
    auto s = spec("soon " + std::to_string(i));
    s.interval = "future";
    s.crontab = "";
    s.start_time = format_instant(due);
    schedule(s);
  }
  auto db = database();
  std::vector<FiredRun> handed;
  RunHooks hooks;
  hooks.submit = [&](const std::vector<FiredRun>& runs) { handed.insert(handed.end(), runs.begin(), runs.end()); };
  hooks.lookup = [](const std::string&) { return std::optional<RunState>(RunState{}); };
  hooks.fail = [](const std::string&, const std::string&, const std::string&) {};
  RunnerOptions options;
  options.claim_ahead = std::chrono::seconds(3);
  ScheduleRunner runner(*db, options, hooks);

  // Another connection watches for the first JobResult (for 10 s at most).
  std::optional<Instant> first_seen;
  std::thread watcher([&] {
    nautobot::PgConnection watch(nautobot::NautobotDatabase::from_flags(url_), "");
    for (const auto until = due + std::chrono::seconds(10); ScheduleRunner::system_now() < until;) {
      auto r = watch.exec("count", "SELECT COUNT(*) FROM extras_jobresult", {});
      if (nautobot::pg_text(r, 0, 0) != "0") {
        first_seen = ScheduleRunner::system_now();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const auto runs = runner.tick();
  const auto returned = ScheduleRunner::system_now();
  watcher.join();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_GE(returned, due);
  ASSERT_TRUE(first_seen);
  EXPECT_GE(*first_seen, due);
  EXPECT_EQ(sql("SELECT DISTINCT date_created = '" + format_instant(due) + "'::timestamptz FROM extras_jobresult"),
            "t");
  EXPECT_EQ(runner.stats().fired, 3u);

  // Stopped while waiting: rolled back, nothing claimed.
  auto later = spec("later");
  later.interval = "future";
  later.crontab = "";
  later.start_time = format_instant(ScheduleRunner::system_now() + std::chrono::seconds(2));
  const auto id = schedule(later);
  std::vector<FiredRun> stopped_runs;
  std::thread ticking([&] { stopped_runs = runner.tick(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  runner.stop();
  ticking.join();
  EXPECT_TRUE(stopped_runs.empty());
  EXPECT_EQ(count("scheduled_job_id = '" + id + "'"), 0);
  EXPECT_EQ(sql("SELECT total_run_count FROM extras_scheduledjob WHERE id = '" + id + "'"), "0");
}

}  // namespace
}  // namespace kjq::schedule
