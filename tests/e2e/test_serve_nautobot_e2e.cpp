// kjq serve following the Jobs Nautobot creates itself, end to end: the Jobs are created by
// Nautobot's own code path (bench/dispatch/nautobot_dispatch.py: python3-kubernetes, a new
// ApiClient per job, metadata.name = nautobot-job-<JobResult uuid>) from queue manifests rendered
// by `kjq render`, against kube-emulator, whose pod-template annotations decide each pod's fate.
// Nautobot's database is a throwaway PostgreSQL holding Nautobot's two tables: the test inserts
// the JobResults (PENDING) before dispatch, plays the pod's part (STARTED, a log entry, SUCCESS)
// for the pods that get to run, and checks both kjq's record (API) and what kjq wrote into
// Nautobot's tables (or left alone).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "e2e/serve_fixture.hpp"
#include "support/nautobot_schema.hpp"
#include "support/postgres_server.hpp"

using namespace kjq::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kNautobotToken = "admin-token-1";  // Nautobot's account in the emulator
constexpr const char* kTraceHead = "Kubernetes Job ended without a result (recorded by kjq)";

// The queues, as the chart renders them (kjq render): each pod's fate through its annotations.
// backoffLimit 0: one pod per Job, as Nautobot's jobs are not retried by Kubernetes.
const char* kValues = R"(kubernetesJobs:
  backoffLimit: 0
workers:
  ok:
    enabled: true
    type: kubernetes
    podAnnotations: {kube-emulator/outcome: succeed, kube-emulator/run-seconds: "1"}
  fail:
    enabled: true
    type: kubernetes
    podAnnotations:
      kube-emulator/outcome: fail
      kube-emulator/exit-code: "1"
      kube-emulator/run-seconds: "0.3"
      kube-emulator/log: "Running job\nTraceback (most recent call last):\nRuntimeError: boom\n"
  slowfail:
    enabled: true
    type: kubernetes
    podAnnotations: {kube-emulator/outcome: fail, kube-emulator/exit-code: "1", kube-emulator/run-seconds: "2"}
  oom:
    enabled: true
    type: kubernetes
    podAnnotations: {kube-emulator/outcome: oom, kube-emulator/run-seconds: "0.3"}
  pull:
    enabled: true
    type: kubernetes
    podAnnotations: {kube-emulator/outcome: image-pull-error, kube-emulator/pull-seconds: "0.2"}
  hang:
    enabled: true
    type: kubernetes
    podAnnotations: {kube-emulator/outcome: hang}
  capped:
    enabled: true
    type: kubernetes
    admission: kjq
    maxConcurrency: 2
    podAnnotations: {kube-emulator/outcome: succeed, kube-emulator/run-seconds: "0.4"}
)";

bool python_kubernetes_available() {
  return run_process({"/usr/bin/python3", "-c", "import kubernetes.client"}, 60).exit_code == 0;
}

bool final_condition(const json& job) {
  for (const auto& c : job.value("status", json::object()).value("conditions", json::array()))
    if ((c.value("type", "") == "Complete" || c.value("type", "") == "Failed") && c.value("status", "") == "True")
      return true;
  return false;
}

// A PostgreSQL server that can be stopped and started again on the same port and data (Nautobot's
// database going down): the server's own postmaster.pid and postmaster.opts say which process and
// which command line.
class RestartablePostgres {
 public:
  RestartablePostgres() : data_(server_.psql("SHOW data_directory")) {
    while (!data_.empty() && (data_.back() == '\n' || data_.back() == ' ')) data_.pop_back();
  }
  ~RestartablePostgres() {
    if (restarted_) {
      restarted_->signal(SIGQUIT);
      restarted_->wait(20);
    }
  }
  PostgresServer& server() { return server_; }

  void stop() {
    std::string pid_line;
    std::ifstream(fs::path(data_) / "postmaster.pid") >> pid_line;
    const pid_t pid = std::stoi(pid_line);
    std::ifstream opts(fs::path(data_) / "postmaster.opts");
    opts_.assign(std::istreambuf_iterator<char>(opts), std::istreambuf_iterator<char>());
    ::kill(pid, SIGINT);  // fast shutdown: clients are disconnected
    if (!eventually([&] { return !fs::exists(fs::path(data_) / "postmaster.pid"); }, std::chrono::seconds(20)))
      throw std::runtime_error("postgres did not stop");
    if (restarted_) restarted_->wait(10);
  }

  void start() {
    // postmaster.opts: the binary, then each argument in double quotes.
    std::vector<std::string> argv;
    if (::geteuid() == 0) argv = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
    std::string token;
    bool quoted = false;
    for (char c : opts_) {
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == ' ' || c == '\n')) {
        if (!token.empty()) argv.push_back(token);
        token.clear();
      } else {
        token += c;
      }
    }
    if (!token.empty()) argv.push_back(token);
    restarted_ = std::make_unique<Background>(argv, std::vector<std::string>{"PATH=/usr/bin:/bin"});
    if (!eventually(
            [&] {
              try {
                server_.psql("SELECT 1");
                return true;
              } catch (const std::exception&) {
                return false;
              }
            },
            std::chrono::seconds(20)))
      throw std::runtime_error("postgres did not come back: " + restarted_->err_so_far());
  }

 private:
  PostgresServer server_;
  std::string data_;
  std::string opts_;
  std::unique_ptr<Background> restarted_;
};

class NautobotE2E : public ::testing::Test {
 protected:
  ServeEnv env;
  PostgresServer* pg = nullptr;
  std::string nb_url, nb_db;

  void SetUp() override {
    KJQ_REQUIRE_POSTGRES();
    if (!python_kubernetes_available()) GTEST_SKIP() << "needs /usr/bin/python3 with python3-kubernetes";
    std::ofstream(env.kube().dir() / "nautobot.token") << kNautobotToken << "\n";
    std::ofstream(env.kube().dir() / "serve-sa.token") << kNautobotToken << "\n";
    std::ofstream(values()) << kValues;
    const ProcessResult r =
        env.kube().kjq({"render", "-f", values(), "--job-queues-dir", env.kube().queues().string(), "-o", "none"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // As the chart renders it: Nautobot's component label and the queue's worker-name annotation.
    json m = json::parse(read_text(env.kube().queues() / "capped" / "manifest.json"));
    ASSERT_EQ(m["metadata"]["labels"]["app.kubernetes.io/component"], "nautobot-job") << m;
    ASSERT_EQ(m["metadata"]["annotations"]["nautobot-job.io/worker-name"], "capped") << m;
    ASSERT_EQ(m["metadata"]["labels"]["kjq.nautobot.com/admission"], "kjq") << m;
    ASSERT_EQ(m["spec"]["suspend"], true) << m;
  }

  void use_database(PostgresServer& server) {
    pg = &server;
    nb_url = create_nautobot_database(server);
    nb_db = database_name(nb_url);
  }

  std::string values() { return (env.kube().dir() / "values.yaml").string(); }

  // kjq serve following Nautobot's Jobs, writing their ends into Nautobot's database when one is
  // in use. The emulator's RBAC gives kjq's own account no `patch` on jobs (admission by suspend
  // needs it), so serve runs with an account that has it.
  std::unique_ptr<ServeProcess> serve(std::vector<std::string> extra = {}, const std::string& store = "") {
    std::vector<std::string> args = {"-f", values(), "--start-deadline", "2", "--nautobot-success-grace", "1"};
    if (!nb_url.empty()) args.insert(args.end(), {"--nautobot-database", nb_url});
    args.insert(args.end(), extra.begin(), extra.end());
    return env.start_with_env({{"NAUTOBOT_KUBERNETES_TOKEN_PATH", (env.kube().dir() / "serve-sa.token").string()}},
                              args, store);
  }

  // A JobResult as Nautobot's enqueue_job leaves it before the create.
  std::string job_result(const std::string& status = "PENDING") { return insert_job_result(*pg, nb_db, status); }

  // Nautobot's dispatch of `pks` on `queue`, one ApiClient per job, in order.
  ProcessResult run_dispatch(const std::string& queue, const std::vector<std::string>& pks) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     std::string(KJQ_SOURCE_DIR) + "/bench/dispatch/nautobot_dispatch.py",
                                     "--server",
                                     env.kube().url(),
                                     "--ca",
                                     env.kube().ca().string(),
                                     "--token-file",
                                     (env.kube().dir() / "nautobot.token").string(),
                                     "--queues",
                                     env.kube().queues().string(),
                                     "--queue",
                                     queue,
                                     "--data",
                                     R"({"device": "rtr1"})"};
    for (const auto& pk : pks) argv.insert(argv.end(), {"--pk", pk});
    return run_process(argv, 120);
  }
  void dispatch(const std::string& queue, const std::vector<std::string>& pks) {
    const ProcessResult r = run_dispatch(queue, pks);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::size_t at = 0;
    for (const auto& pk : pks) {  // Nautobot's log line, before each create, in order
      at = r.err.find("Creating job pod nautobot-job-" + pk + " in namespace default", at);
      ASSERT_NE(at, std::string::npos) << r.err;
    }
  }

  // The pod's part: Nautobot's runjob_with_job_result marks the JobResult STARTED and logs. The
  // tests do it just before the dispatch, so that a pod that fails fast cannot end first.
  void pod_started(const std::string& id) {
    pg->psql("UPDATE extras_jobresult SET status = 'STARTED', date_started = now() WHERE id = " + sql_literal(id),
             nb_db);
    insert_job_log_entry(*pg, nb_db, id, "info", "Running job");
  }
  void pod_succeeded(const std::string& id) {
    insert_job_log_entry(*pg, nb_db, id, "success", "Job completed");
    pg->psql(
        "UPDATE extras_jobresult SET status = 'SUCCESS', date_done = now(), result = 'null', debug_log_count = 0,"
        " error_log_count = 0, info_log_count = 1, success_log_count = 1, warning_log_count = 0 WHERE id = " +
            sql_literal(id),
        nb_db);
  }

  json row(const std::string& id) const {
    const std::string out =
        pg->psql("SELECT row_to_json(r) FROM extras_jobresult r WHERE id = " + sql_literal(id), nb_db);
    return out.empty() ? json() : json::parse(out);
  }
  json logs(const std::string& id) const {
    return json::parse(pg->psql(
        "SELECT coalesce(json_agg(json_build_object('level', log_level, 'grouping', grouping, 'message', message,"
        " 'log_object', log_object, 'absolute_url', absolute_url) ORDER BY created, id), '[]') FROM extras_joblogentry"
        " WHERE job_result_id = " +
            sql_literal(id),
        nb_db));
  }
  std::string status(const std::string& id) const {
    try {
      return row(id).value("status", "");
    } catch (const std::exception&) {
      return "";  // the database is down
    }
  }
  bool wait_status(const std::string& id, const std::string& want, std::chrono::seconds timeout) const {
    return eventually([&] { return status(id) == want; }, timeout);
  }

  // kjq's record of Nautobot's Job: origin, JobResult id, queue, and the end.
  json expect_record(const std::string& url, const std::string& id, const std::string& queue,
                     const std::string& state) {
    const json j = env.wait_for(url, id, {"Succeeded", "Failed", "Cancelled"}, std::chrono::seconds(40));
    EXPECT_EQ(j.value("state", ""), state) << j;
    EXPECT_EQ(j.value("origin", ""), "nautobot") << j;
    EXPECT_EQ(j.value("jobResultId", ""), id) << j;
    EXPECT_EQ(j.value("queue", ""), queue) << j;
    EXPECT_EQ(j["kubernetesJob"]["name"], "nautobot-job-" + id) << j;
    return j;
  }

  // What kjq writes for a failed Job: FAILURE, date_done, its traceback, one set of log entries of
  // grouping kubernetes (the first an error naming the reason), and the counts of all the rows.
  void expect_failure_written(const std::string& id, const std::string& reason, std::optional<int> exit_code) {
    ASSERT_TRUE(wait_status(id, "FAILURE", std::chrono::seconds(30))) << id << ": " << row(id);
    const json r = row(id);
    const std::string traceback = r.value("traceback", "");
    EXPECT_EQ(traceback.rfind(kTraceHead, 0), 0u) << traceback;
    EXPECT_NE(traceback.find("Reason: " + reason + "\n"), std::string::npos) << traceback;
    if (exit_code)
      EXPECT_NE(traceback.find("Exit code: " + std::to_string(*exit_code) + "\n"), std::string::npos) << traceback;
    else
      EXPECT_EQ(traceback.find("Exit code:"), std::string::npos) << traceback;
    EXPECT_FALSE(r["date_done"].is_null()) << r;
    const json entries = logs(id);
    std::map<std::string, int> count;
    int kubernetes = 0, errors = 0;
    for (const auto& e : entries) {
      const std::string level = e["level"];
      ++count[level == "failure" || level == "critical" ? "error" : level];
      if (e["grouping"] == "kubernetes") {
        ++kubernetes;
        if (level == "error") ++errors;
        EXPECT_EQ(e["log_object"], "") << e;
        EXPECT_EQ(e["absolute_url"], "") << e;
      }
    }
    EXPECT_GE(kubernetes, 1) << entries;
    EXPECT_EQ(errors, 1) << "written once: " << entries;
    for (const auto& e : entries)
      if (e["grouping"] == "kubernetes") {
        EXPECT_EQ(e["level"], "error") << entries;  // the first of kjq's rows names the end
        EXPECT_NE(e["message"].get<std::string>().find("`" + reason + "`"), std::string::npos) << e;
        if (exit_code) {
          EXPECT_NE(e["message"].get<std::string>().find("exit code " + std::to_string(*exit_code)), std::string::npos)
              << e;
        }
        break;
      }
    for (const char* level : {"debug", "info", "success", "warning", "error"})
      EXPECT_EQ(r[std::string(level) + "_log_count"], count[level]) << level << ": " << r << "\n" << entries;
  }
};

json list(const ServeEnv& env, const std::string& url, const std::string& query) {
  ApiReply r = env.request(url, "GET", "/api/v1/jobs?limit=1000" + query);
  EXPECT_EQ(r.status, 200) << r.text;
  return r.body.value("items", json::array());
}

// 1–6 and 11: each end of a Nautobot Job, one serve, one emulator, one Nautobot database.
TEST_F(NautobotE2E, NautobotJobEndsAreRecordedAndWrittenIntoJobResults) {
  use_database(PostgresServer::shared());
  // 11: Jobs that exist before serve starts: one that already failed, one still running.
  const std::string before_failed = job_result(), before_running = job_result();
  pod_started(before_failed);
  dispatch("fail", {before_failed});
  pod_started(before_running);
  dispatch("ok", {before_running});
  pod_succeeded(before_running);  // while the pod runs (1 s)
  ASSERT_TRUE(eventually(
      [&] { return final_condition(env.kube().admin().get_job("default", "nautobot-job-" + before_failed)); },
      std::chrono::seconds(20)));

  auto s = serve();
  const std::string url = s->url();
  const std::string ok = job_result(), failed = job_result(), oom = job_result(), pull = job_result(),
                    deleted = job_result(), revoked = job_result("REVOKED");
  pod_started(ok);
  dispatch("ok", {ok});
  pod_succeeded(ok);
  pod_started(failed);
  dispatch("fail", {failed, revoked});
  pod_started(oom);
  dispatch("oom", {oom});
  dispatch("pull", {pull});
  pod_started(deleted);
  dispatch("hang", {deleted});
  // One of kjq's own jobs beside them, for the origin filter.
  ApiReply own = env.submit(url, {{"queue", "ok"}, {"id", "kjq-own-1"}, {"data", json::object()}});
  ASSERT_EQ(own.status, 202) << own.text;

  // 5: the Job deleted while its pod runs.
  env.wait_for(url, deleted, {"Running"});
  env.kube().admin().delete_job("default", "nautobot-job-" + deleted, std::nullopt);

  // 1: success: kjq's record, and the JobResult exactly as the pod left it (kjq only checks it).
  for (const auto& id : {before_running, ok}) {
    const json j = expect_record(url, id, "ok", "Succeeded");
    EXPECT_EQ(j["exitCode"], 0) << j;
    EXPECT_EQ(j["reason"], "Completed") << j;
  }
  ASSERT_TRUE(eventually(
      [&] {
        return metric(env.request(url, "GET", "/metrics").text,
                      "kjq_serve_nautobot_writebacks_total{outcome=\"checked\"}") >= 2;
      },
      std::chrono::seconds(20)))
      << s->process().err_so_far();
  for (const auto& id : {before_running, ok}) {
    const json r = row(id);
    EXPECT_EQ(r["status"], "SUCCESS") << r;
    EXPECT_TRUE(r["traceback"].is_null()) << r;
    EXPECT_EQ(r["info_log_count"], 1) << r;
    EXPECT_EQ(r["success_log_count"], 1) << r;
    EXPECT_EQ(logs(id).size(), 2u) << logs(id);
  }

  // 2: a pod that exits 1.
  for (const auto& id : {before_failed, failed}) {
    const json j = expect_record(url, id, "fail", "Failed");
    EXPECT_EQ(j["reason"], "Error") << j;
    EXPECT_EQ(j["exitCode"], 1) << j;
    expect_failure_written(id, "Error", 1);
  }
  {
    // The end of the pod's log is among the rows, in a code span.
    const std::string all = logs(failed).dump();
    EXPECT_NE(all.find("`RuntimeError: boom`"), std::string::npos) << all;
  }
  // 3: OOMKilled.
  {
    const json j = expect_record(url, oom, "oom", "Failed");
    EXPECT_EQ(j["reason"], "OOMKilled") << j;
    EXPECT_EQ(j["exitCode"], 137) << j;
    expect_failure_written(oom, "OOMKilled", 137);
  }
  // 4: an image that never pulls, until the start deadline (2 s); the JobResult was never STARTED.
  {
    const json j = expect_record(url, pull, "pull", "Failed");
    const std::string reason = j.value("reason", "");
    EXPECT_NE(reason.find("ImagePull"), std::string::npos) << j;
    EXPECT_FALSE(j.contains("exitCode")) << j;
    expect_failure_written(pull, reason, std::nullopt);
  }
  // 5: deleted mid-run.
  {
    const json j = expect_record(url, deleted, "hang", "Failed");
    EXPECT_EQ(j["reason"], "Deleted") << j;
    expect_failure_written(deleted, "Deleted", std::nullopt);
  }
  // 6: a JobResult REVOKED before its Job failed: kjq records the failure and leaves it alone.
  {
    const json j = expect_record(url, revoked, "fail", "Failed");
    EXPECT_EQ(j["exitCode"], 1) << j;
    ASSERT_TRUE(eventually(
        [&] {
          return metric(env.request(url, "GET", "/metrics").text,
                        "kjq_serve_nautobot_writebacks_total{outcome=\"already_final\"}") >= 1;
        },
        std::chrono::seconds(20)))
        << env.request(url, "GET", "/metrics").text;
    const json r = row(revoked);
    EXPECT_EQ(r["status"], "REVOKED") << r;
    EXPECT_TRUE(r["traceback"].is_null()) << r;
    EXPECT_TRUE(r["error_log_count"].is_null()) << r;
    EXPECT_TRUE(logs(revoked).empty()) << logs(revoked);
  }

  // Nautobot's create of a name that exists: no retry, the API's error as Nautobot shows it
  // (HTML-escaped), and kjq's record is not disturbed.
  {
    const ProcessResult again = run_dispatch("ok", {ok});
    EXPECT_EQ(again.exit_code, 1) << again.err;
    EXPECT_NE(again.err.find("Error creating job pod nautobot-job-" + ok + ": (409)"), std::string::npos) << again.err;
    EXPECT_NE(again.err.find("&quot;AlreadyExists&quot;"), std::string::npos) << again.err;
    EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs/" + ok).body.value("state", ""), "Succeeded");
  }

  // 11: the origin filters.
  EXPECT_EQ(env.wait_for(url, "kjq-own-1", {"Succeeded", "Failed"})["state"], "Succeeded");
  const std::set<std::string> nautobot_ids = {before_failed, before_running, ok, failed, oom, pull, deleted, revoked};
  std::set<std::string> listed;
  for (const auto& j : list(env, url, "&origin=nautobot")) {
    EXPECT_EQ(j["origin"], "nautobot") << j;
    EXPECT_EQ(j["jobResultId"], j["id"]) << j;
    listed.insert(j["id"].get<std::string>());
  }
  EXPECT_EQ(listed, nautobot_ids);
  const json own_list = list(env, url, "&origin=kjq");
  ASSERT_EQ(own_list.size(), 1u) << own_list;
  EXPECT_EQ(own_list[0]["id"], "kjq-own-1");
  EXPECT_EQ(own_list[0]["origin"], "kjq");
  EXPECT_FALSE(own_list[0].contains("jobResultId")) << own_list[0];
  EXPECT_EQ(list(env, url, "").size(), nautobot_ids.size() + 1);
  EXPECT_EQ(env.request(url, "GET", "/api/v1/jobs?origin=celery").status, 400);
  EXPECT_EQ(s->stop().exit_code, 0);
}

// 7 and 8: the end of a Job happens while serve is down, and Nautobot's database is down for a
// while (with a serve restart in the outage): every end is written once, after the fact.
TEST_F(NautobotE2E, WritesAfterRestartAndAfterNautobotDatabaseOutage) {
  RestartablePostgres nautobot_db;
  use_database(nautobot_db.server());
  auto s = serve();

  // 7: serve is down while the Job fails; the restarted serve writes it.
  const std::string while_down = job_result();
  pod_started(while_down);
  dispatch("slowfail", {while_down});
  env.wait_for(s->url(), while_down, {"Running"});
  EXPECT_EQ(s->stop().exit_code, 0);
  ASSERT_TRUE(
      eventually([&] { return final_condition(env.kube().admin().get_job("default", "nautobot-job-" + while_down)); },
                 std::chrono::seconds(20)));
  EXPECT_EQ(status(while_down), "STARTED");
  s = serve();
  expect_record(s->url(), while_down, "slowfail", "Failed");
  expect_failure_written(while_down, "Error", 1);

  // 8: Nautobot's database goes down; two Jobs fail meanwhile.
  const std::string d1 = job_result(), d2 = job_result();
  pod_started(d1);
  pod_started(d2);
  const auto outage = std::chrono::steady_clock::now();
  nautobot_db.stop();
  dispatch("fail", {d1, d2});
  expect_record(s->url(), d1, "fail", "Failed");
  expect_record(s->url(), d2, "fail", "Failed");
  ApiReply ready;
  EXPECT_TRUE(eventually(
      [&] {
        ready = env.request(s->url(), "GET", "/readyz", nullptr, "");
        return ready.status == 503 && ready.text.find("nautobot database") != std::string::npos;
      },
      std::chrono::seconds(15)))
      << ready.status << " " << ready.text;
  const std::string metrics = env.request(s->url(), "GET", "/metrics").text;
  EXPECT_GE(metric(metrics, "kjq_serve_nautobot_writeback_errors_total"), 1) << metrics;
  EXPECT_GE(metric(metrics, "kjq_serve_nautobot_writebacks_pending"), 1) << metrics;
  // 7 again: serve restarted while the database is still down; it keeps the pending writes.
  EXPECT_EQ(s->stop().exit_code, 0);
  s = serve();
  while (std::chrono::steady_clock::now() - outage < std::chrono::seconds(9))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  nautobot_db.start();
  for (const auto& id : {d1, d2}) expect_failure_written(id, "Error", 1);
  EXPECT_TRUE(eventually(
      [&] {
        ready = env.request(s->url(), "GET", "/readyz", nullptr, "");
        return ready.status == 200;
      },
      std::chrono::seconds(15)))
      << ready.status << " " << ready.text;
  // Nothing written twice, nothing pending.
  for (const auto& id : {while_down, d1, d2}) expect_failure_written(id, "Error", 1);
  EXPECT_EQ(metric(env.request(s->url(), "GET", "/metrics").text, "kjq_serve_nautobot_writebacks_pending"), 0);
  EXPECT_EQ(s->stop().exit_code, 0);
}

// 9: two replicas on one PostgreSQL store: one record per JobResult, one write per failure.
TEST_F(NautobotE2E, TwoReplicasRecordAndWriteEachNautobotJobOnce) {
  auto& shared = PostgresServer::shared();
  use_database(shared);
  const std::string store = shared.create_database();
  auto a = serve({"--replica", "a"}, store);
  auto b = serve({"--replica", "b"}, store);
  std::vector<std::string> ok, failed;
  for (int i = 0; i < 3; ++i) {
    ok.push_back(job_result());
    failed.push_back(job_result());
  }
  for (const auto& id : failed) pod_started(id);
  dispatch("fail", failed);
  for (const auto& id : ok) {  // the pods record their own ends while they run
    pod_started(id);
    pod_succeeded(id);
  }
  dispatch("ok", ok);
  for (const auto* replica : {a.get(), b.get()}) {
    for (const auto& id : ok) expect_record(replica->url(), id, "ok", "Succeeded");
    for (const auto& id : failed) expect_record(replica->url(), id, "fail", "Failed");
  }
  for (const auto& id : failed) expect_failure_written(id, "Error", 1);
  for (const auto& id : ok) EXPECT_EQ(row(id)["status"], "SUCCESS");
  for (const auto* replica : {a.get(), b.get()}) {
    std::multiset<std::string> ids;
    for (const auto& j : list(env, replica->url(), "&origin=nautobot")) ids.insert(j.value("jobResultId", ""));
    std::multiset<std::string> expected(ok.begin(), ok.end());
    expected.insert(failed.begin(), failed.end());
    EXPECT_EQ(ids, expected);
  }
  // A while later, still one set of rows each (a second writer would have added its own).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  for (const auto& id : failed) expect_failure_written(id, "Error", 1);
  EXPECT_EQ(shared.psql("SELECT count(*) FROM jobs", database_name(store)), "6\n");
  EXPECT_EQ(a->stop().exit_code, 0);
  EXPECT_EQ(b->stop().exit_code, 0);
}

// 10: admission by suspend: Nautobot creates 10 suspended Jobs on a queue capped at 2; kjq starts
// them oldest first, never more than 2 at once, and all end.
TEST_F(NautobotE2E, AdmitsSuspendedNautobotJobsUnderTheCapInOrder) {
  auto s = serve();
  const std::string url = s->url();
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(random_uuid());

  // The emulator has no witness of when a Job was resumed, so the sampler checks FIFO as it goes:
  // the Jobs ever admitted (not suspended) are always the oldest ones, a prefix of the creation
  // order.
  std::atomic<bool> done{false};
  std::atomic<int> max_running{0}, max_active{0}, samples{0}, positions_seen{0}, out_of_order{0};
  std::string first_out_of_order;
  std::thread sampler([&] {
    kjq::kube::ListOptions o;
    o.label_selector = "app.kubernetes.io/component=nautobot-job";
    while (!done) {
      int running = 0;
      std::set<std::string> admitted;
      for (const auto& job : env.kube().admin().list_jobs("default", o).items) {
        if (job["spec"].value("suspend", false)) continue;
        admitted.insert(job["metadata"]["name"].get<std::string>());
        if (!final_condition(job)) ++running;
      }
      std::set<std::string> oldest;
      // The resumes of one claim (up to the cap, 2) are sent side by side, so a sample may see the
      // younger of the two first: each admitted Job must be among the oldest admitted + 1.
      for (std::size_t i = 0; i < admitted.size() + 1 && i < ids.size(); ++i) oldest.insert("nautobot-job-" + ids[i]);
      const bool in_order = std::includes(oldest.begin(), oldest.end(), admitted.begin(), admitted.end());
      if (!in_order && ++out_of_order == 1) first_out_of_order = json(admitted).dump();
      max_running = std::max(max_running.load(), running);
      ApiReply q = env.request(url, "GET", "/api/v1/queues");
      if (q.status == 200)
        for (const auto& item : q.body["items"])
          if (item["name"] == "capped") max_active = std::max(max_active.load(), item["active"].get<int>());
      // The oldest Job still waiting is the next one admitted: queuePosition 1.
      std::set<std::string> queued;
      for (const auto& j : list(env, url, "&origin=nautobot"))
        if (j["state"] == "Queued") queued.insert(j["id"].get<std::string>());
      for (const auto& id : ids)
        if (queued.count(id)) {
          const ApiReply one = env.request(url, "GET", "/api/v1/jobs/" + id);
          if (one.status == 200 && one.body["state"] == "Queued") {
            EXPECT_EQ(one.body.value("queuePosition", -1), 1) << one.body;
            EXPECT_EQ(one.body.value("reason", ""), "WaitingForAdmission") << one.body;
            ++positions_seen;
          }
          break;
        }
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  dispatch("capped", ids);
  for (const auto& id : ids) expect_record(url, id, "capped", "Succeeded");
  done = true;
  sampler.join();
  EXPECT_GT(samples.load(), 10);
  EXPECT_LE(max_running.load(), 2);
  EXPECT_GE(max_running.load(), 1);
  EXPECT_LE(max_active.load(), 2);
  EXPECT_GT(positions_seen.load(), 0);
  EXPECT_EQ(out_of_order.load(), 0) << "admitted, first out of order: " << first_out_of_order
                                    << "\ncreated: " << json(ids).dump();
  std::vector<std::string> expected;
  for (const auto& id : ids) expected.push_back("nautobot-job-" + id);
  EXPECT_EQ(env.job_creates(), expected);  // Nautobot's creates, each once, in order
  EXPECT_EQ(s->stop().exit_code, 0);
}

// 10 and 11: suspended Jobs that Nautobot created while serve was down are admitted oldest first
// too. Their names sort the other way round (a list returns them by name), and each is created in
// a later second than the one before (creationTimestamp has whole seconds), so only their age
// can give the order.
TEST_F(NautobotE2E, AdmitsSuspendedJobsCreatedBeforeItStartedOldestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(random_uuid());
  std::sort(ids.rbegin(), ids.rend());
  for (const auto& id : ids) {
    const auto now = std::chrono::system_clock::now();
    std::this_thread::sleep_until(std::chrono::ceil<std::chrono::seconds>(now) + std::chrono::milliseconds(20));
    dispatch("capped", {id});
  }
  auto s = serve();
  const std::string url = s->url();
  std::atomic<bool> done{false};
  std::atomic<int> out_of_order{0}, max_running{0};
  std::string first_out_of_order;
  std::thread sampler([&] {
    kjq::kube::ListOptions o;
    o.label_selector = "app.kubernetes.io/component=nautobot-job";
    while (!done) {
      std::set<std::string> admitted, oldest;
      int running = 0;
      for (const auto& job : env.kube().admin().list_jobs("default", o).items)
        if (!job["spec"].value("suspend", false)) {
          admitted.insert(job["metadata"]["name"].get<std::string>());
          if (!final_condition(job)) ++running;
        }
      // The resumes of one claim (up to the cap, 2) are sent side by side, so a sample may see the
      // younger of the two first: each admitted Job must be among the oldest admitted + 1.
      for (std::size_t i = 0; i < admitted.size() + 1 && i < ids.size(); ++i) oldest.insert("nautobot-job-" + ids[i]);
      const bool in_order = std::includes(oldest.begin(), oldest.end(), admitted.begin(), admitted.end());
      if (!in_order && ++out_of_order == 1) first_out_of_order = json(admitted).dump();
      max_running = std::max(max_running.load(), running);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (const auto& id : ids) expect_record(url, id, "capped", "Succeeded");
  done = true;
  sampler.join();
  EXPECT_LE(max_running.load(), 2);
  EXPECT_EQ(out_of_order.load(), 0) << "admitted, first out of order: " << first_out_of_order
                                    << "\ncreated: " << json(ids).dump();
  EXPECT_EQ(s->stop().exit_code, 0);
}

}  // namespace
