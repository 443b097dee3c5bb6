// kjq serve --run-schedules end to end: a real kjq serve fires Nautobot's schedules from a
// throwaway PostgreSQL holding Nautobot's tables, creates each run's Job in kube-emulator from a
// queue manifest rendered by `kjq render`, and follows it to its end; in real time (the due times
// are a second or two away).
#include <gtest/gtest.h>

#include <fstream>

#include "e2e/serve_fixture.hpp"
#include "schedule/run_id.hpp"
#include "support/nautobot_schema.hpp"
#include "support/postgres_server.hpp"

using namespace kjq::test;
using nlohmann::json;

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

TEST(SchedulesE2E, ServeFiresNautobotsSchedulesAsKubernetesJobsOnce) {
  KJQ_REQUIRE_POSTGRES();
  ServeEnv env;
  const auto values = (env.kube().dir() / "values.yaml").string();
  std::ofstream(values) << "workers:\n  ok:\n    enabled: true\n    type: kubernetes\n"
                           "    podAnnotations: {kube-emulator/outcome: succeed, kube-emulator/run-seconds: \"0.2\"}\n";
  const ProcessResult r =
      env.kube().kjq({"render", "-f", values, "--job-queues-dir", env.kube().queues().string(), "-o", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  auto& pg = PostgresServer::shared();
  const auto url = create_nautobot_database(pg);
  const auto db = database_name(url);
  const auto queue = insert_job_queue(pg, db, "ok");
  const auto user = insert_user(pg, db, "alice");
  const auto job = insert_job(pg, db, "Backup Configs", queue);
  // A one-off due in a second, and an hourly schedule three hours behind (catch-up once: one run).
  ScheduledJobSpec once;
  once.name = "once";
  once.job_id = job;
  once.queue_id = queue;
  once.user_id = user;
  once.interval = "future";
  once.one_off = true;
  once.start_time =
      trimmed(pg.psql("SELECT to_char((now() + interval '1 second') AT TIME ZONE 'UTC',"
                      " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                      db));
  const auto once_id = insert_scheduled_job(pg, db, once);
  ScheduledJobSpec hourly = once;
  hourly.name = "hourly";
  hourly.interval = "hourly";
  hourly.one_off = false;
  hourly.start_time = "2026-01-01T00:07:00Z";
  const auto hourly_id = insert_scheduled_job(pg, db, hourly);
  pg.psql(
      "UPDATE extras_scheduledjob SET last_run_at = now() - interval '3 hours' WHERE id = " + sql_literal(hourly_id),
      db);

  auto serve = env.start({"-f", values, "--nautobot-database", url, "--run-schedules"});
  auto results = [&] { return trimmed(pg.psql("SELECT COUNT(*) FROM extras_jobresult", db)); };
  ASSERT_TRUE(eventually([&] { return results() == "2"; }, std::chrono::seconds(20))) << results();

  const auto once_run =
      trimmed(pg.psql("SELECT id FROM extras_jobresult WHERE scheduled_job_id = " + sql_literal(once_id), db));
  const auto start = kjq::schedule::parse_instant(once.start_time).value();
  EXPECT_EQ(once_run, kjq::schedule::run_id(once_id, start));
  for (const auto& id :
       {once_run,
        trimmed(pg.psql("SELECT id FROM extras_jobresult WHERE scheduled_job_id = " + sql_literal(hourly_id), db))}) {
    const json j = env.wait_for(serve->url(), id, {"Succeeded", "Failed"}, std::chrono::seconds(30));
    EXPECT_EQ(j.value("state", ""), "Succeeded") << j;
    EXPECT_EQ(j.value("queue", ""), "ok") << j;
    EXPECT_EQ(j["kubernetesJob"]["name"], "nautobot-job-" + id) << j;
    EXPECT_EQ(
        trimmed(pg.psql("SELECT status || ' ' || task_name FROM extras_jobresult WHERE id = " + sql_literal(id), db)),
        "PENDING example_jobs.Backup ConfigsJob");  // the pod (here: the emulator) records the rest
  }
  EXPECT_EQ(trimmed(pg.psql("SELECT enabled || ' ' || state || ' ' || total_run_count FROM extras_scheduledjob"
                            " WHERE id = " +
                                sql_literal(once_id),
                            db)),
            "false completed 1");
  EXPECT_EQ(
      trimmed(pg.psql("SELECT total_run_count FROM extras_scheduledjob WHERE id = " + sql_literal(hourly_id), db)),
      "1");
  const ApiReply metrics = env.request(serve->url(), "GET", "/metrics");
  EXPECT_NE(metrics.text.find("kjq_serve_schedule_runs_total{outcome=\"fired\"} 2"), std::string::npos)
      << metrics.text.substr(0, 400);
  EXPECT_EQ(env.job_creates().size(), 2u);

  // The API shows what serve fires: the hourly schedule's next run, not late.
  const ApiReply api = env.request(serve->url(), "GET", "/api/v1/schedules");
  ASSERT_EQ(api.status, 200) << api.text;
  ASSERT_EQ(api.body["items"].size(), 2u) << api.text;
  EXPECT_EQ(api.body["items"][0]["name"], "hourly");
  EXPECT_EQ(api.body["items"][0]["late"], false) << api.text;
  EXPECT_EQ(api.body["items"][0]["next"].size(), 1u) << api.text;
  EXPECT_EQ(env.request(serve->url(), "GET", "/api/v1/schedules", nullptr, "wrong-token").status, 401);

  // kjq schedules reads the same database: the completed one-off says why it is not fired, the
  // hourly one shows its next runs at start_time's minute (:07).
  const ProcessResult listed = env.kube().kjq({"schedules", "--nautobot-database", url, "--next", "2", "-o", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json items = json::parse(listed.out)["items"];
  ASSERT_EQ(items.size(), 2u) << listed.out;
  EXPECT_EQ(items[0]["name"], "hourly");
  EXPECT_EQ(items[0]["firedByKjq"], true);
  ASSERT_EQ(items[0]["next"].size(), 2u);
  EXPECT_EQ(items[0]["next"][0]["utc"].get<std::string>().substr(13), ":07:00Z");
  EXPECT_EQ(items[1]["name"], "once");
  EXPECT_EQ(items[1]["notFiredBecause"], "state is completed");
  const ProcessResult refused = env.kube().kjq({"schedules", "--nautobot-database", "mysql://nautobot@db/nautobot"});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.err.find("only PostgreSQL"), std::string::npos) << refused.err;
}

}  // namespace
