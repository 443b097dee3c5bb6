// kjq dispatch / status / list / logs / cancel / doctor against kube-emulator over HTTPS, with a
// CA and a service-account token, as Nautobot would run it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "dispatch/dispatcher.hpp"
#include "e2e/runtime_fixture.hpp"
#include "kube/errors.hpp"
#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"

namespace kjq::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kId = "0b6c5b4e-5f0e-4c8e-9d55-2a3c1e7f9a01";

std::string id(int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "0b6c5b4e-5f0e-4c8e-9d55-%012d", n);
  return buf;
}

TEST(DispatchE2E, CreatesTheJobExactlyAsNautobotAndWaitsForSuccess) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 0.3));
  auto r = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId, "--data",
                    R"({"device": "r1", "n": [1, 2]})", "--wait"},
                   {{"NAUTOBOT_CONFIG", "/opt/nautobot/nautobot_config.py"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nautobot-job-" + kId + "\n");
  EXPECT_THAT(r.err, HasSubstr("Succeeded/Completed"));
  json job = env.admin().get_job("default", "nautobot-job-" + kId);
  const json& c = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"],
            json::array({"nautobot-server", "runjob_with_job_result", kId, "--config=/opt/nautobot/nautobot_config.py",
                         "--data", R"({"device": "r1", "n": [1, 2]})"}));
  EXPECT_EQ(job["metadata"]["labels"]["kjq.nautobot.com/queue"], "default");
  EXPECT_EQ(job["metadata"]["labels"]["kjq.nautobot.com/job-result-id"], kId);
  EXPECT_EQ(job["metadata"]["labels"]["app.kubernetes.io/component"], "nautobot-job");  // kept

  auto list = env.kjq({"list", "--queue", "default"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("NAME"));
  EXPECT_THAT(list.out, HasSubstr("nautobot-job-" + kId));
  EXPECT_THAT(list.out, HasSubstr("Succeeded"));
  auto status = env.kjq({"status", "nautobot-job-" + kId, "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  json s = json::parse(status.out);
  EXPECT_EQ(s["lifecycle"]["phase"], "Succeeded");
  EXPECT_EQ(s["queue"], "default");
  EXPECT_FALSE(s["pods"].empty());
  EXPECT_FALSE(s["events"].empty());
  auto text = env.kjq({"status", "nautobot-job-" + kId});
  EXPECT_THAT(text.out, HasSubstr("Reason:      Completed"));
  auto logs = env.kjq({"logs", "nautobot-job-" + kId, "--tail", "5"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_THAT(logs.out, HasSubstr("runjob_with_job_result " + kId));
  auto follow = env.kjq({"logs", "-f", "nautobot-job-" + kId});
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_THAT(follow.out, HasSubstr("finished"));
}

TEST(DispatchE2E, WaitReportsEachFailureReason) {
  RuntimeEnv env;
  env.write_queue("fail", RuntimeEnv::test_manifest("fail", 0.2, {{"kube-emulator/exit-code", "3"}}));
  env.write_queue("oom", RuntimeEnv::test_manifest("oom", 0.2));
  env.write_queue("pull", RuntimeEnv::test_manifest("image-pull-error"));
  env.write_queue("unsched", RuntimeEnv::test_manifest("unschedulable"));
  json deadline = RuntimeEnv::test_manifest("hang");
  deadline["spec"]["activeDeadlineSeconds"] = 1;
  env.write_queue("deadline", deadline);
  // The chart's job pods read their settings from a Secret (envFrom); a missing one stops the
  // kubelet before the container starts.
  json config = RuntimeEnv::test_manifest("create-container-config-error");
  config["spec"]["template"]["spec"]["containers"][0]["envFrom"] =
      json::array({{{"secretRef", {{"name", "nautobot-env"}}}}});
  env.write_queue("config", config);
  json bad_image = RuntimeEnv::test_manifest("invalid-image-name");
  bad_image["spec"]["template"]["spec"]["containers"][0]["image"] = "networktocode/Nautobot:2.4";
  env.write_queue("image", bad_image);
  struct Case {
    std::string queue, reason;
  };
  std::vector<Case> cases = {{"fail", "\"Error\""},
                             {"oom", "\"OOMKilled\""},
                             {"pull", "ImagePull"},
                             {"unsched", "\"Unschedulable\""},
                             {"deadline", "\"DeadlineExceeded\""},
                             {"config", "\"CreateContainerConfigError\""},
                             {"image", "\"InvalidImageName\""}};
  std::vector<std::unique_ptr<Background>> runs;
  for (std::size_t i = 0; i < cases.size(); ++i)
    runs.push_back(env.kjq_background({"dispatch", "--queue", cases[i].queue, "--job-result-id",
                                       id(static_cast<int>(i)), "--wait", "--start-deadline", "1", "-o", "json"}));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto r = runs[i]->wait(40);
    SCOPED_TRACE(cases[i].queue);
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_THAT(r.out, HasSubstr("\"phase\": \"Failed\""));
    EXPECT_THAT(r.out, HasSubstr(cases[i].reason));
  }
  auto fail = env.kjq({"status", "nautobot-job-" + id(0), "-o", "json"});
  json f = json::parse(fail.out);
  EXPECT_EQ(f["lifecycle"]["exitCode"], 3);
  EXPECT_EQ(f["lifecycle"]["jobReason"], "BackoffLimitExceeded");
  // The message says what to fix, as the kubelet words it.
  auto config_status = env.kjq({"status", "nautobot-job-" + id(5), "-o", "json"});
  EXPECT_THAT(config_status.out, HasSubstr("secret \\\"nautobot-env\\\" not found")) << config_status.out;
  auto image_status = env.kjq({"status", "nautobot-job-" + id(6), "-o", "json"});
  EXPECT_THAT(image_status.out, HasSubstr("couldn't parse image reference")) << image_status.out;
}

TEST(DispatchE2E, RbacDeniedIsAClearError) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest());
  std::ofstream(env.dir() / "reader.token") << RuntimeEnv::kReaderToken << "\n";
  auto r = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId},
                   {{"NAUTOBOT_KUBERNETES_TOKEN_PATH", (env.dir() / "reader.token").string()}});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Forbidden"));
  EXPECT_THAT(r.err, HasSubstr("cannot create resource \"jobs\""));
  EXPECT_THAT(r.err, HasSubstr("kjq doctor"));
  EXPECT_THAT(r.err, Not(HasSubstr(RuntimeEnv::kReaderToken)));
  std::ofstream(env.dir() / "bad.token") << "not-a-token\n";
  auto u = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId},
                   {{"NAUTOBOT_KUBERNETES_TOKEN_PATH", (env.dir() / "bad.token").string()}});
  EXPECT_EQ(u.exit_code, 5) << u.err;
  EXPECT_THAT(u.err, HasSubstr("Unauthorized"));
  EXPECT_THAT(u.err, Not(HasSubstr("not-a-token")));
}

TEST(DispatchE2E, TraversalAttemptsSendNothing) {
  RuntimeEnv env({{"-v"}});
  env.write_queue("default", RuntimeEnv::test_manifest());
  fs::create_directories(env.dir() / "outside");
  std::ofstream(env.dir() / "outside" / "manifest.json") << RuntimeEnv::test_manifest().dump();
  fs::create_directory_symlink(env.dir() / "outside", env.queues() / "linked");
  fs::create_directories(env.queues() / "filelink");
  fs::create_symlink(env.dir() / "outside" / "manifest.json", env.queues() / "filelink" / "manifest.json");
  for (std::string q : {"../outside", "/etc", "default/../../outside", "linked", "filelink", ".."}) {
    SCOPED_TRACE(q);
    auto r = env.kjq({"dispatch", "--queue", q, "--job-result-id", kId});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_THAT(r.err, HasSubstr("refusing"));
    auto d = env.kjq({"dispatch", "--queue", q, "--job-result-id", kId, "--dry-run"});
    EXPECT_EQ(d.exit_code, 3);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_THAT(env.emulator_stderr(), Not(HasSubstr("/jobs")));  // -v logs every request
}

TEST(DispatchE2E, OversizedDeepOrNulInputIsExit3NeverACrash) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest());
  auto dispatch = [&](const std::vector<std::string>& extra, const std::map<std::string, std::string>& e = {}) {
    std::vector<std::string> args = {"dispatch", "--queue", "default", "--job-result-id", kId};
    args.insert(args.end(), extra.begin(), extra.end());
    return env.kjq(args, e, 30);
  };
  // --data nested 100,000 arrays deep, from a file (200 KB: more than one argument may hold) and
  // inline (the opening brackets alone).
  std::ofstream(env.dir() / "deep.json") << std::string(100000, '[') << std::string(100000, ']');
  for (const std::string& data : {"@" + (env.dir() / "deep.json").string(), std::string(100000, '[')}) {
    auto r = dispatch({"--data", data});
    EXPECT_EQ(r.exit_code, 3) << r.err.substr(0, 300);
    EXPECT_THAT(r.err, HasSubstr("--data: refused: nested deeper than 100 levels"));
  }
  // --data @/dev/zero: stops at 1 MiB + 1 byte, at once.
  const auto start = std::chrono::steady_clock::now();
  auto zero = dispatch({"--data", "@/dev/zero"});
  EXPECT_EQ(zero.exit_code, 3) << zero.err;
  EXPECT_THAT(zero.err, HasSubstr("/dev/zero"));
  EXPECT_THAT(zero.err, HasSubstr("limit of 1048576 bytes (1 MiB)"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // --data from a file with a NUL after the object.
  std::ofstream(env.dir() / "nul.json", std::ios::binary) << std::string("{}\0", 3);
  auto nul = dispatch({"--data", "@" + (env.dir() / "nul.json").string()});
  EXPECT_EQ(nul.exit_code, 3) << nul.err;
  EXPECT_THAT(nul.err, HasSubstr("NUL byte"));
  // A manifest 50,000 levels deep, one above 1 MiB, one with trailing NUL bytes.
  fs::create_directories(env.queues() / "deep");
  std::ofstream(env.queues() / "deep" / "manifest.json") << std::string(50000, '[') << std::string(50000, ']');
  fs::create_directories(env.queues() / "huge");
  std::ofstream(env.queues() / "huge" / "manifest.json") << "[\"" << std::string(2 * 1024 * 1024, 'x') << "\"]";
  fs::create_directories(env.queues() / "nul");
  std::ofstream(env.queues() / "nul" / "manifest.json", std::ios::binary)
      << RuntimeEnv::test_manifest().dump() << std::string(8, '\0');
  for (auto [queue, expected] : std::vector<std::pair<std::string, std::string>>{
           {"deep", "nested deeper than 100 levels"}, {"huge", "limit of 1048576 bytes"}, {"nul", "NUL byte"}}) {
    SCOPED_TRACE(queue);
    auto r = env.kjq({"dispatch", "--queue", queue, "--job-result-id", kId}, {}, 30);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_THAT(r.err, HasSubstr(expected));
    EXPECT_THAT(r.err, HasSubstr(queue + "/manifest.json"));
  }
  // NAUTOBOT_KUBERNETES_JOB_MANIFEST 60,000 levels deep.
  auto envdeep = env.kjq({"dispatch", "--queue", "missing", "--job-result-id", kId},
                         {{"NAUTOBOT_KUBERNETES_JOB_MANIFEST", std::string(60000, '[') + std::string(60000, ']')}}, 30);
  EXPECT_EQ(envdeep.exit_code, 3) << envdeep.err;
  EXPECT_THAT(envdeep.err, HasSubstr("NAUTOBOT_KUBERNETES_JOB_MANIFEST: refused: nested deeper than 100 levels"));
  EXPECT_THROW(env.admin().get_job("default", "nautobot-job-" + kId), kube::ApiError);  // nothing was created
}

TEST(DispatchE2E, FallbackManifestFromTheEnvironment) {
  RuntimeEnv env;
  json m = RuntimeEnv::test_manifest();
  m["metadata"]["labels"]["origin"] = "fallback";
  auto r = env.kjq({"dispatch", "--queue", "missing", "--job-result-id", kId},
                   {{"NAUTOBOT_KUBERNETES_JOB_MANIFEST", m.dump()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(env.admin().get_job("default", "nautobot-job-" + kId)["metadata"]["labels"]["origin"], "fallback");
  auto none = env.kjq({"dispatch", "--queue", "missing", "--job-result-id", id(2)});
  EXPECT_EQ(none.exit_code, 3);
  EXPECT_THAT(none.err, HasSubstr("unable to retrieve a Kubernetes job manifest"));
  auto empty = env.kjq({"dispatch", "--queue", "missing", "--job-result-id", id(2)},
                       {{"NAUTOBOT_KUBERNETES_JOB_MANIFEST", "{}"}});
  EXPECT_EQ(empty.exit_code, 3);
  env.write_queue("notajob", {{"kind", "ConfigMap"}});
  auto bad = env.kjq({"dispatch", "--queue", "notajob", "--job-result-id", id(2)});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_THAT(bad.err, HasSubstr("not a Job"));
}

TEST(DispatchE2E, RepeatedDispatchIs409AndIdempotentForTheSameRun) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("hang"));
  env.write_queue("other", RuntimeEnv::test_manifest("hang"));
  auto first = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto again = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId, "-o", "json"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already existed"));
  EXPECT_EQ(json::parse(again.out)["metadata"]["name"], "nautobot-job-" + kId);
  auto foreign = env.kjq({"dispatch", "--queue", "other", "--job-result-id", kId});
  EXPECT_EQ(foreign.exit_code, 7) << foreign.err;
  EXPECT_THAT(foreign.err, HasSubstr("already exists"));
  EXPECT_EQ(env.admin().list_jobs("default", {}).items.size(), 1u);
}

TEST(DispatchE2E, RetriesThroughInjected503And429) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("succeed", 0.2));
  for (const char* fault : {"error503Fraction", "error429Fraction"}) {
    SCOPED_TRACE(fault);
    env.set_faults({{fault, 1.0}, {"retryAfterSeconds", 1}});
    const std::string job_id = std::string(fault) == "error503Fraction" ? id(503) : id(429);
    auto p = env.kjq_background({"dispatch", "--queue", "default", "--job-result-id", job_id, "--wait"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    env.clear_faults();
    auto r = p->wait(30);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr(std::string("HTTP ") + (job_id == id(503) ? "503" : "429") + "; retry 1/5 in 1000ms"));
  }
  EXPECT_EQ(env.admin().list_jobs("default", {}).items.size(), 2u);
}

TEST(DispatchE2E, CancelDeletesTheJobAndItsPods) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("hang"));
  auto running_pod = [&](const std::string& job) {
    kube::ListOptions o;
    o.label_selector = "job-name=" + job;
    for (int i = 0; i < 500; ++i) {
      auto pods = env.admin().list_pods("default", o).items;
      if (!pods.empty() && pods[0]["status"].value("phase", "") == "Running") return pods[0];
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return json();
  };
  auto pods_of = [&](const std::string& job) {
    kube::ListOptions o;
    o.label_selector = "job-name=" + job;
    return env.admin().list_pods("default", o).items;
  };
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId}).exit_code, 0);
  const std::string name = "nautobot-job-" + kId;
  ASSERT_FALSE(running_pod(name).is_null());
  // The pods are deleted with the cancel's grace period (0: at once), not the 30 s the garbage
  // collector would give them.
  auto c = env.kjq({"cancel", name, "--grace-period", "0"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out, "job " + name + " cancelled\n");
  EXPECT_THROW(env.admin().get_job("default", name), kube::ApiError);
  EXPECT_TRUE(pods_of(name).empty());
  // A grace period: the pod is Terminating with it.
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", id(21)}).exit_code, 0);
  const std::string second = "nautobot-job-" + id(21);
  ASSERT_FALSE(running_pod(second).is_null());
  ASSERT_EQ(env.kjq({"cancel", second, "--grace-period", "7"}).exit_code, 0);
  auto terminating = pods_of(second);
  ASSERT_EQ(terminating.size(), 1u);
  EXPECT_EQ(terminating[0]["metadata"]["deletionGracePeriodSeconds"], 7);
  // Without `delete` on pods: a warning, and the garbage collector's grace (the pod's 30 s).
  kube::RestRequest unbind;
  unbind.method = "DELETE";
  unbind.path = "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/kjq-pod-delete";
  env.admin().client().send(unbind, "delete rolebinding");
  ASSERT_EQ(env.kjq({"dispatch", "--queue", "default", "--job-result-id", id(22)}).exit_code, 0);
  const std::string third = "nautobot-job-" + id(22);
  ASSERT_FALSE(running_pod(third).is_null());
  auto w = env.kjq({"cancel", third, "--grace-period", "0"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_THAT(w.err, HasSubstr("the role may not delete pods"));
  bool gc_grace = false;
  for (int i = 0; i < 200 && !gc_grace; ++i) {
    for (const auto& p : pods_of(third)) gc_grace |= p["metadata"].value("deletionGracePeriodSeconds", 0) == 30;
    if (!gc_grace) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gc_grace);
  auto s = env.kjq({"status", name});
  EXPECT_EQ(s.exit_code, 6);
  auto again = env.kjq({"cancel", name});
  EXPECT_EQ(again.exit_code, 6);
}

TEST(DispatchE2E, MetadataOnlyKeepsTheUidAndDropsTheRest) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("hang"));
  kjq::queue::ManifestStore store(env.queues());
  auto prepared = kjq::queue::prepare_job(
      store.load("default").manifest, {"default", id(31), "{}", "/opt/nautobot/nautobot_config.py", "nautobot-job"});
  auto slim = kjq::dispatch::dispatch_job(env.admin(), "default", prepared, /*metadata_only=*/true);
  EXPECT_EQ(slim.job["kind"], "Job");
  EXPECT_EQ(slim.job["metadata"]["name"], "nautobot-job-" + id(31));
  EXPECT_EQ(slim.job["metadata"]["uid"], env.admin().get_job("default", "nautobot-job-" + id(31))["metadata"]["uid"]);
  EXPECT_FALSE(slim.job.contains("spec"));
  EXPECT_FALSE(slim.job.contains("status"));
  auto prepared2 = kjq::queue::prepare_job(
      store.load("default").manifest, {"default", id(32), "{}", "/opt/nautobot/nautobot_config.py", "nautobot-job"});
  auto full = kjq::dispatch::dispatch_job(env.admin(), "default", prepared2);
  EXPECT_TRUE(full.job.contains("spec"));
}

TEST(DispatchE2E, ChartManifestsDispatchUnchanged) {
  RuntimeEnv env({{"--default-run-seconds", "0.1"}});
  int n = 0;
  for (const auto& c : fs::directory_iterator(fixtures_dir() / "chart-cases")) {
    if (!fs::exists(c.path() / "expected-text")) continue;
    for (const auto& f : fs::directory_iterator(c.path() / "expected-text")) {
      SCOPED_TRACE(f.path().string());
      json manifest = read_json(f.path());
      const std::string queue = f.path().stem().string();
      env.write_queue(queue, manifest);
      const std::string job_id = id(1000 + n++);
      auto dry = env.kjq({"dispatch", "--queue", queue, "--job-result-id", job_id, "--dry-run"});
      ASSERT_EQ(dry.exit_code, 0) << dry.err;
      json prepared = json::parse(dry.out);
      json expected = manifest;
      expected["metadata"]["name"] = "nautobot-job-" + job_id;
      expected["metadata"]["labels"]["kjq.nautobot.com/queue"] = queue;
      expected["metadata"]["labels"]["kjq.nautobot.com/job-result-id"] = job_id;
      expected["metadata"]["annotations"]["kjq.nautobot.com/queue"] = queue;
      expected["spec"]["template"]["spec"]["containers"][0]["command"] =
          json::array({"nautobot-server", "runjob_with_job_result", job_id, "--config=/opt/nautobot/nautobot_config.py",
                       "--data", "{}"});
      EXPECT_EQ(prepared, expected);
      std::vector<std::string> args = {"dispatch", "--queue", queue, "--job-result-id", job_id};
      if (n == 1) args.push_back("--wait");  // one of them all the way to success
      auto r = env.kjq(args);
      EXPECT_EQ(r.exit_code, 0) << r.err;
      json created =
          env.admin().get_job("default", "nautobot-job-" + job_id)["spec"]["template"]["spec"]["containers"][0];
      created.erase("terminationMessagePath");  // defaults the API server adds
      created.erase("terminationMessagePolicy");
      EXPECT_EQ(created, expected["spec"]["template"]["spec"]["containers"][0]);
    }
  }
  EXPECT_GE(n, 5);
}

TEST(DispatchE2E, DoctorPassesWithTheRightRoleAndExplainsFailures) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest());
  auto ok = env.kjq({"doctor"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("[ ok ] permission create batch/jobs"));
  EXPECT_THAT(ok.out, HasSubstr("[ ok ] queue default"));
  std::ofstream(env.dir() / "reader.token") << RuntimeEnv::kReaderToken << "\n";
  env.write_queue("broken", {{"kind", "Job"}});
  auto bad = env.kjq({"doctor"}, {{"NAUTOBOT_KUBERNETES_TOKEN_PATH", (env.dir() / "reader.token").string()}});
  EXPECT_EQ(bad.exit_code, 8);
  EXPECT_THAT(bad.out, HasSubstr("[FAIL] permission create batch/jobs"));
  EXPECT_THAT(bad.out, HasSubstr("fix: grant it"));
  EXPECT_THAT(bad.out, HasSubstr("[FAIL] queue broken"));
  auto notoken = env.kjq({"doctor"}, {{"NAUTOBOT_KUBERNETES_TOKEN_PATH", (env.dir() / "absent").string()}});
  EXPECT_EQ(notoken.exit_code, 8);
  EXPECT_THAT(notoken.out, HasSubstr("automountServiceAccountToken"));
  auto wrongca = env.kjq({"doctor"}, {{"NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", "/etc/ssl/certs/ca-certificates.crt"}});
  EXPECT_EQ(wrongca.exit_code, 8);
  EXPECT_THAT(wrongca.out, HasSubstr("TLS"));
}

TEST(DispatchE2E, DoctorWarnsForTheExtrasAndFailsOnlyForWhatDispatchNeeds) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest());
  auto send = [&](const std::string& method, const std::string& path, const json& body) {
    kube::RestRequest r;
    r.method = method;
    r.path = path;
    if (!body.is_null()) r.body = body.dump();
    env.admin().client().send(r, method + " " + path);
  };
  // The service account without `delete` on pods (cancel falls back to the garbage collector).
  send("DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/kjq-pod-delete", nullptr);
  auto warned = env.kjq({"doctor"});
  EXPECT_EQ(warned.exit_code, 0) << warned.out << warned.err;
  EXPECT_THAT(warned.out, HasSubstr("[WARN] permission delete pods: denied in default"));
  EXPECT_THAT(warned.out, HasSubstr("limits kjq cancel --grace-period"));
  EXPECT_THAT(warned.out, HasSubstr("[ ok ] permission create batch/jobs"));
  EXPECT_THAT(warned.out, HasSubstr("1 warning(s) limit kjq's extras"));
  auto as_json = env.kjq({"doctor", "-o", "json"});
  EXPECT_EQ(as_json.exit_code, 0) << as_json.err;
  json report = json::parse(as_json.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["warnings"], 1);
  // A user who may only create and get jobs: Nautobot's dispatch works, every extra is limited.
  send("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
       {{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "Role"},
        {"metadata", {{"name", "creator"}, {"namespace", "default"}}},
        {"rules", json::array({{{"apiGroups", {"batch"}}, {"resources", {"jobs"}}, {"verbs", {"create", "get"}}}})}});
  send("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
       {{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "RoleBinding"},
        {"metadata", {{"name", "creator"}, {"namespace", "default"}}},
        {"subjects", json::array({{{"kind", "User"}, {"name", "nobody"}}})},
        {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "creator"}}}});
  std::ofstream(env.dir() / "creator.token") << RuntimeEnv::kNobodyToken << "\n";
  const std::map<std::string, std::string> creator = {
      {"NAUTOBOT_KUBERNETES_TOKEN_PATH", (env.dir() / "creator.token").string()}};
  auto minimal = env.kjq({"doctor"}, creator);
  EXPECT_EQ(minimal.exit_code, 0) << minimal.out << minimal.err;
  EXPECT_THAT(minimal.out, HasSubstr("[ ok ] permission create batch/jobs"));
  EXPECT_THAT(minimal.out, HasSubstr("[ ok ] permission get batch/jobs"));
  EXPECT_THAT(minimal.out, HasSubstr("[WARN] permission delete batch/jobs: denied in default"));
  EXPECT_THAT(minimal.out, HasSubstr("limits kjq cancel"));
  EXPECT_THAT(minimal.out, HasSubstr("[WARN] permission get pods/log"));
  EXPECT_THAT(minimal.out, HasSubstr("limits kjq logs"));
  EXPECT_THAT(minimal.out, Not(HasSubstr("[FAIL]")));
  // And dispatch indeed works with that role alone.
  auto d = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId}, creator);
  EXPECT_EQ(d.exit_code, 0) << d.err;
  // Without `get` on jobs, dispatch cannot tell a repeat of its own run from another's: a failure.
  send("PUT", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/creator",
       {{"apiVersion", "rbac.authorization.k8s.io/v1"},
        {"kind", "Role"},
        {"metadata", {{"name", "creator"}, {"namespace", "default"}}},
        {"rules", json::array({{{"apiGroups", {"batch"}}, {"resources", {"jobs"}}, {"verbs", {"create"}}}})}});
  auto noget = env.kjq({"doctor"}, creator);
  EXPECT_EQ(noget.exit_code, 8) << noget.out;
  EXPECT_THAT(noget.out, HasSubstr("[FAIL] permission get batch/jobs: denied in default"));
  EXPECT_THAT(noget.out, HasSubstr("Nautobot's dispatch needs it"));
}

// admission: kjq (the manifests kjq render writes): doctor checks patch on jobs, which kjq serve
// needs to start the suspended Jobs, and warns without it; without such a queue it does not ask.
TEST(DispatchE2E, DoctorWarnsWhenAdmissionByKjqCannotPatchJobs) {
  RuntimeEnv env;
  std::ofstream(env.dir() / "values.yaml") << "workers:\n"
                                              "  capped: {enabled: true, type: kubernetes, admission: kjq}\n"
                                              "  free: {enabled: true, type: kubernetes}\n";
  auto render = [&](const std::vector<std::string>& set) {
    std::vector<std::string> args = {
        "render", "-f", (env.dir() / "values.yaml").string(), "--job-queues-dir", env.queues().string(), "-o", "none"};
    for (const auto& s : set) args.insert(args.end(), {"--set", s});
    auto r = env.kjq(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  render({"workers.capped.admission=none"});
  auto none = env.kjq({"doctor"});
  EXPECT_EQ(none.exit_code, 0) << none.out << none.err;
  EXPECT_THAT(none.out, HasSubstr("[ ok ] queue capped"));
  EXPECT_THAT(none.out, Not(HasSubstr("patch")));
  EXPECT_THAT(none.out, HasSubstr("All checks passed."));

  render({});
  auto warned = env.kjq({"doctor"});
  EXPECT_EQ(warned.exit_code, 0) << warned.out << warned.err;  // a warning, not a failure
  EXPECT_THAT(warned.out, HasSubstr("[WARN] permission patch batch/jobs: denied in default"));
  EXPECT_THAT(warned.out, HasSubstr("limits admission by suspend: suspended Jobs will wait forever"));
  EXPECT_THAT(warned.out, HasSubstr("queues with admission: kjq: capped\n"));
  EXPECT_THAT(warned.out, HasSubstr("verbs [\"patch\"]"));
  EXPECT_THAT(warned.out, HasSubstr("[ ok ] queue capped"));
  EXPECT_THAT(warned.out, HasSubstr("1 warning(s)"));
  auto as_json = env.kjq({"doctor", "-o", "json"});
  json report = json::parse(as_json.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["warnings"], 1);

  // The job-creator Role kjq renders for these values, bound to the service account doctor runs
  // as, grants it.
  auto objects = env.kjq({"render", "-f", (env.dir() / "values.yaml").string(), "-n", "default", "-o", "json", "--set",
                          "serviceAccount.create=false,serviceAccount.name=kjq", "--set",
                          "serviceAccount.roles.jobCreator.create=true"});
  ASSERT_EQ(objects.exit_code, 0) << objects.err;
  int applied = 0;
  const json list = json::parse(objects.out);
  for (const auto& object : list["items"]) {
    const std::string kind = object["kind"];
    if (kind != "Role" && kind != "RoleBinding") continue;
    kube::RestRequest r;
    r.method = "POST";
    r.path = "/apis/rbac.authorization.k8s.io/v1/namespaces/default/" +
             std::string(kind == "Role" ? "roles" : "rolebindings");
    r.body = object.dump();
    env.admin().client().send(r, "POST " + r.path);
    ++applied;
  }
  ASSERT_EQ(applied, 2);
  auto granted = env.kjq({"doctor"});
  EXPECT_EQ(granted.exit_code, 0) << granted.out << granted.err;
  EXPECT_THAT(granted.out, HasSubstr("[ ok ] permission patch batch/jobs: allowed in default"));
  EXPECT_THAT(granted.out, HasSubstr("All checks passed."));
}

TEST(DispatchE2E, NoTokenOverPlainHttpUnlessAllowed) {
  RuntimeEnv env;  // for its token file and queues; a second emulator serves plain HTTP
  env.write_queue("default", RuntimeEnv::test_manifest());
  std::ofstream(env.dir() / "http-tokens.csv")
      << RuntimeEnv::kKjqToken << ",system:serviceaccount:default:kjq,2,\"system:masters\"\n";
  Background plain({emulator_binary(), "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--token-file",
                    (env.dir() / "http-tokens.csv").string()},
                   {"PATH=/usr/bin:/bin"});
  std::string url;
  for (int i = 0; i < 400 && url.empty(); ++i) {
    const std::string out = plain.out_so_far();
    if (auto nl = out.find('\n'); nl != std::string::npos)
      url = out.substr(0, nl);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(url.rfind("http://", 0), 0u) << url << plain.err_so_far();
  const std::map<std::string, std::string> to_http = {{"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", url}};
  auto refused = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId}, to_http);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("refusing to send the bearer token (from " + env.token_file().string() + ") to " +
                                     url + " over plain HTTP"));
  EXPECT_THAT(refused.err, HasSubstr("--allow-insecure-token-over-http"));
  EXPECT_THAT(refused.err, Not(HasSubstr(RuntimeEnv::kKjqToken)));
  auto doctor = env.kjq({"doctor"}, to_http);
  EXPECT_EQ(doctor.exit_code, 8);
  EXPECT_THAT(doctor.out, HasSubstr("[FAIL] configuration: refusing to send the bearer token"));
  auto allowed =
      env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId, "--allow-insecure-token-over-http"}, to_http);
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(allowed.out, "nautobot-job-" + kId + "\n");
  // No token: a plain-HTTP server is used as configured (the emulator then answers 401 itself).
  std::ofstream(env.dir() / "kubeconfig") << "current-context: x\nclusters:\n- name: c\n  cluster: {server: " << url
                                          << "}\ncontexts:\n- name: x\n  context: {cluster: c}\n";
  auto anonymous = env.kjq({"list", "--kubeconfig", (env.dir() / "kubeconfig").string()});
  EXPECT_THAT(anonymous.err, Not(HasSubstr("refusing to send")));
  EXPECT_EQ(anonymous.exit_code, 5) << anonymous.err;
}

TEST(DispatchE2E, NamespacesAreDns1123LabelsEverywhere) {
  RuntimeEnv env({{"-v"}});
  env.write_queue("default", RuntimeEnv::test_manifest());
  for (const std::string cmd : {"dispatch", "list", "doctor"}) {
    SCOPED_TRACE(cmd);
    std::vector<std::string> args = {cmd, "-n", "../kube-system"};
    if (cmd == "dispatch") args.insert(args.end(), {"--queue", "default", "--job-result-id", kId});
    auto r = env.kjq(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("namespace \"../kube-system\" is not a valid namespace"));
  }
  auto from_env = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId},
                          {{"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", "../kube-system"}});
  EXPECT_EQ(from_env.exit_code, 3) << from_env.err;
  EXPECT_THAT(from_env.err,
              HasSubstr("NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE: \"../kube-system\" is not a valid namespace"));
  std::ofstream(env.dir() / "kubeconfig")
      << "current-context: x\nclusters:\n- name: c\n  cluster: {server: " << env.url()
      << ", certificate-authority: ca.crt}\nusers:\n- name: u\n  user: {tokenFile: kjq.token}\n"
      << "contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: Kube_System}\n";
  auto from_file = env.kjq({"list", "--kubeconfig", (env.dir() / "kubeconfig").string()},
                           {{"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", ""},
                            {"NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", ""},
                            {"NAUTOBOT_KUBERNETES_TOKEN_PATH", ""},
                            {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", ""}});
  EXPECT_EQ(from_file.exit_code, 3) << from_file.err;
  EXPECT_THAT(from_file.err, HasSubstr("namespace \"Kube_System\" is not a valid namespace"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_THAT(env.emulator_stderr(), Not(HasSubstr("kube-system")));  // -v logs every request
}

TEST(DispatchE2E, WithNautobotsSettingsTheNamespaceIsNautobotsNotTheContexts) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest());
  std::ofstream(env.dir() / "kubeconfig")
      << "current-context: x\nclusters:\n- name: c\n  cluster: {server: " << env.url()
      << ", certificate-authority: ca.crt}\nusers:\n- name: u\n  user: {tokenFile: kjq.token}\n"
      << "contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: elsewhere}\n";
  // KUBECONFIG says where the server is; NAUTOBOT_KUBERNETES_JOB_POD_NAME is set and the namespace
  // variable is not: Nautobot would create the Job in "default", and so does kjq.
  auto r = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId, "-v"},
                   {{"KUBECONFIG", (env.dir() / "kubeconfig").string()},
                    {"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", ""},
                    {"NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", ""},
                    {"NAUTOBOT_KUBERNETES_TOKEN_PATH", ""},
                    {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", ""},
                    {"NAUTOBOT_KUBERNETES_JOB_POD_NAME", "nautobot-job"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("namespace default (Nautobot's default"));
  EXPECT_NO_THROW(env.admin().get_job("default", "nautobot-job-" + kId));
}

TEST(DispatchE2E, KubeconfigWithContextAndNamespaceFlag) {
  RuntimeEnv env;
  env.write_queue("default", RuntimeEnv::test_manifest("hang"));
  std::ofstream(env.dir() / "kubeconfig")
      << "apiVersion: v1\nkind: Config\ncurrent-context: wrong\n"
      << "clusters:\n- name: emu\n  cluster:\n    server: " << env.url() << "\n    certificate-authority: ca.crt\n"
      << "users:\n- name: kjq\n  user:\n    tokenFile: kjq.token\n"
      << "contexts:\n- name: emu\n  context: {cluster: emu, user: kjq, namespace: default}\n"
      << "- name: wrong\n  context: {cluster: emu, user: kjq, namespace: elsewhere}\n";
  std::map<std::string, std::string> no_nautobot = {{"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", ""},
                                                    {"NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", ""},
                                                    {"NAUTOBOT_KUBERNETES_TOKEN_PATH", ""},
                                                    {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", ""}};
  auto r = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId, "--kubeconfig",
                    (env.dir() / "kubeconfig").string(), "--context", "emu"},
                   no_nautobot);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto wrong = env.kjq({"list", "--kubeconfig", (env.dir() / "kubeconfig").string()}, no_nautobot);
  EXPECT_EQ(wrong.exit_code, 5) << wrong.err;  // context namespace "elsewhere": not allowed there
  auto flag = env.kjq({"list", "--kubeconfig", (env.dir() / "kubeconfig").string(), "-n", "default"}, no_nautobot);
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_THAT(flag.out, HasSubstr("nautobot-job-" + kId));
}

TEST(DispatchE2E, HelpUsageAndDryRunWithoutACluster) {
  RuntimeEnv env;
  for (std::string cmd : {"dispatch", "status", "list", "watch", "logs", "cancel", "doctor"}) {
    SCOPED_TRACE(cmd);
    auto h = env.kjq({cmd, "--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_THAT(h.out, HasSubstr("--kubeconfig"));
    EXPECT_THAT(h.out, HasSubstr("--namespace"));
  }
  EXPECT_EQ(env.kjq({"dispatch", "--job-result-id", "x"}).exit_code, 2);
  EXPECT_EQ(env.kjq({"list", "-o", "xml"}).exit_code, 2);
  env.write_queue("default", RuntimeEnv::test_manifest());
  std::map<std::string, std::string> nothing = {{"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", ""},
                                                {"NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", ""},
                                                {"NAUTOBOT_KUBERNETES_TOKEN_PATH", ""}};
  auto y = env.kjq({"dispatch", "--queue", "default", "--job-result-id", kId, "--dry-run", "-o", "yaml", "--data",
                    "@" + env.write_data()},
                   nothing);
  ASSERT_EQ(y.exit_code, 0) << y.err;
  EXPECT_THAT(y.out, HasSubstr("name: nautobot-job-" + kId));
  EXPECT_THAT(y.out, HasSubstr(R"(- "{\"x\": 1}")"));
  auto none = env.kjq({"list"}, nothing);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.err, HasSubstr("no Kubernetes configuration found"));
  auto bad_id = env.kjq({"dispatch", "--queue", "default", "--job-result-id", "Not_Valid", "--dry-run"});
  EXPECT_EQ(bad_id.exit_code, 3);
  EXPECT_THAT(bad_id.err, HasSubstr("DNS-1123"));
}

}  // namespace
}  // namespace kjq::test
