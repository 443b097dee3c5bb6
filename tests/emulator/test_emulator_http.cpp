// In-process emulator over real loopback sockets: job simulation, list paging, watch resume,
// selector transitions, 410, streaming lists, Tables, SelfSubjectAccessReview, patch, fault injection.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "emulator.hpp"
#include "table_convertor.hpp"

using namespace kjq::emulator;
using nlohmann::json;

namespace {

EmulatorOptions fast_options() {
  EmulatorOptions o;
  o.listen = "127.0.0.1:0";
  o.admin_listen = "127.0.0.1:0";
  o.time_scale = 0.02;  // run-seconds 1 -> 20 ms
  o.simulation.backoff_seconds = 1;
  o.api.bookmark_interval_seconds = 0.1;
  o.threads = 16;
  return o;
}

json job_body(const std::string& name, json annotations = json::object(), json spec_extra = json::object()) {
  json j = {{"apiVersion", "batch/v1"},
            {"kind", "Job"},
            {"metadata", {{"name", name}, {"labels", {{"app", "kjq"}}}}},
            {"spec",
             {{"template",
               {{"metadata", {{"annotations", annotations}}},
                {"spec", {{"restartPolicy", "Never"}, {"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}}}}}};
  j["spec"].update(spec_extra);
  return j;
}

template <typename F>
bool eventually(F f, int max_ms = 5000) {
  for (int i = 0; i < max_ms / 10; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

class EmulatorHttp : public ::testing::Test {
 protected:
  void SetUp() override { start(fast_options()); }
  void start(EmulatorOptions o) {
    emu = std::make_unique<Emulator>(o);
    emu->start();
    cli = std::make_unique<httplib::Client>(emu->base_url());
    cli->set_read_timeout(10);
  }
  json get(const std::string& path, int want = 200) {
    auto r = cli->Get(path);
    EXPECT_TRUE(r) << path;
    if (!r) return nullptr;
    EXPECT_EQ(r->status, want) << path << ": " << r->body;
    return json::parse(r->body);
  }
  json post(const std::string& path, const json& body, int want = 201) {
    auto r = cli->Post(path, body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, want) << r->body;
    return json::parse(r->body);
  }
  // Reads a watch stream until `stop` says so or the server ends it.
  std::vector<json> watch(const std::string& path, const std::function<bool(const std::vector<json>&)>& stop,
                          const httplib::Headers& headers = {}) {
    std::vector<json> events;
    std::string buf;
    httplib::Client c(emu->base_url());
    c.set_read_timeout(10);
    c.Get(path, headers, [&](const char* data, size_t n) {
      buf.append(data, n);
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        events.push_back(json::parse(buf.substr(0, nl)));
        buf.erase(0, nl + 1);
        if (stop(events)) return false;
      }
      return true;
    });
    return events;
  }
  const std::string jobs = "/apis/batch/v1/namespaces/default/jobs";
  std::unique_ptr<Emulator> emu;
  std::unique_ptr<httplib::Client> cli;
};

json condition(const json& job, const std::string& type) {
  for (const auto& c : job["status"].value("conditions", json::array()))
    if (c["type"] == type) return c;
  return nullptr;
}

}  // namespace

TEST_F(EmulatorHttp, JobRunsToCompletionWithPodsAndEvents) {
  post(jobs, job_body("ok", {{"kube-emulator/run-seconds", "1"}}));
  ASSERT_TRUE(eventually([&] { return !condition(get(jobs + "/ok"), "Complete").is_null(); }));
  json j = get(jobs + "/ok");
  EXPECT_EQ(j["status"]["succeeded"], 1);
  EXPECT_FALSE(j["status"].contains("active"));
  EXPECT_TRUE(j["status"].contains("completionTime"));
  EXPECT_EQ(condition(j, "Complete")["reason"], "CompletionsReached");
  json pods = get("/api/v1/namespaces/default/pods?labelSelector=job-name%3Dok");
  ASSERT_EQ(pods["items"].size(), 1u);
  const json& pod = pods["items"][0];
  EXPECT_EQ(pod["status"]["phase"], "Succeeded");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], j["metadata"]["uid"]);
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"], "Completed");
  std::string pod_name = pod["metadata"]["name"];
  auto log = cli->Get("/api/v1/namespaces/default/pods/" + pod_name + "/log");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->status, 200);
  EXPECT_NE(log->body.find("kube-emulator: job ok started"), std::string::npos);
  json events = get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DJob");
  std::vector<std::string> reasons;
  for (const auto& e : events["items"]) reasons.push_back(e["reason"]);
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "SuccessfulCreate"), reasons.end());
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "Completed"), reasons.end());
}

TEST_F(EmulatorHttp, BackoffLimitAndRetries) {
  post(jobs, job_body("flaky", {{"kube-emulator/outcome", "fail"}}, {{"backoffLimit", 2}}));
  ASSERT_TRUE(eventually([&] { return !condition(get(jobs + "/flaky"), "Failed").is_null(); }));
  json j = get(jobs + "/flaky");
  EXPECT_EQ(j["status"]["failed"], 3);
  EXPECT_EQ(condition(j, "Failed")["reason"], "BackoffLimitExceeded");
  EXPECT_EQ(condition(j, "FailureTarget")["reason"], "BackoffLimitExceeded");
  EXPECT_EQ(get("/api/v1/namespaces/default/pods?labelSelector=job-name%3Dflaky")["items"].size(), 3u);
}

TEST_F(EmulatorHttp, StatusErrors) {
  json nf = get(jobs + "/missing", 404);
  EXPECT_EQ(nf, json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"jobs.batch \"missing\" not found","reason":"NotFound",
    "details":{"name":"missing","group":"batch","kind":"jobs"},"code":404})"));
  json pnf = get("/api/v1/namespaces/default/pods/nope", 404);
  EXPECT_EQ(pnf["message"], "pods \"nope\" not found");
  EXPECT_EQ(get("/apis/nothing/v1/namespaces/default/things", 404)["message"],
            "the server could not find the requested resource");
  auto r = cli->Post(jobs, "{not json", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto gone = cli->Get(jobs + "?continue=eyJydiI6MSwic3RhcnQiOiIifQ");  // {"rv":1,"start":""}
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 200);  // history not yet compacted
}

TEST_F(EmulatorHttp, ListLimitContinueAndSelectors) {
  for (const char* n : {"a", "b", "c"}) post(jobs, job_body(n, {{"kube-emulator/outcome", "hang"}}));
  json page = get(jobs + "?limit=2");
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["metadata"]["remainingItemCount"], 1);
  std::string token = page["metadata"]["continue"];
  json rest = get(jobs + "?limit=2&continue=" + token);
  ASSERT_EQ(rest["items"].size(), 1u);
  EXPECT_EQ(rest["items"][0]["metadata"]["name"], "c");
  EXPECT_FALSE(rest["metadata"].contains("continue"));
  EXPECT_EQ(rest["metadata"]["resourceVersion"], page["metadata"]["resourceVersion"]);
  json one = get(jobs + "?fieldSelector=metadata.name%3Db");
  ASSERT_EQ(one["items"].size(), 1u);
  EXPECT_EQ(one["items"][0]["metadata"]["name"], "b");
  EXPECT_EQ(get(jobs + "?labelSelector=app%3Dother")["items"].size(), 0u);
  EXPECT_EQ(get("/apis/batch/v1/jobs")["items"].size(), 3u);  // all namespaces
  EXPECT_EQ(get(jobs + "?labelSelector=%3D%3D", 400)["reason"], "BadRequest");
}

TEST_F(EmulatorHttp, WatchResumesFromResourceVersion) {
  json created = post(jobs, job_body("w1", {{"kube-emulator/outcome", "hang"}}));
  std::string rv = created["metadata"]["resourceVersion"];
  post(jobs, job_body("w2", {{"kube-emulator/outcome", "hang"}}));
  auto events = watch(jobs + "?watch=1&resourceVersion=" + rv, [](const std::vector<json>& ev) {
    for (const auto& e : ev)
      if (e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "w2") return true;
    return false;
  });
  ASSERT_FALSE(events.empty());
  for (const auto& e : events)  // w1 was created at rv: only its later changes (status) follow
    if (e["object"]["metadata"]["name"] == "w1") {
      EXPECT_EQ(e["type"], "MODIFIED") << e.dump();
    }
  // Without a resourceVersion the current state comes first as ADDED.
  auto initial = watch(jobs + "?watch=true", [](const std::vector<json>& ev) { return ev.size() >= 2; });
  ASSERT_GE(initial.size(), 2u);
  EXPECT_EQ(initial[0]["type"], "ADDED");
  EXPECT_EQ(initial[1]["type"], "ADDED");
}

TEST_F(EmulatorHttp, WatchSelectorTransitionsAndBookmarks) {
  post(jobs, job_body("sel", {{"kube-emulator/outcome", "hang"}}));
  std::string rv = std::to_string(emu->store().current_rv());
  std::thread relabel([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cli->Patch(jobs + "/sel", R"({"metadata":{"labels":{"app":"gone"}}})", "application/merge-patch+json");
  });
  auto events = watch(jobs + "?watch=true&allowWatchBookmarks=true&labelSelector=app%3Dkjq&resourceVersion=" + rv,
                      [](const std::vector<json>& ev) {
                        bool deleted = false, bookmark = false;
                        for (const auto& e : ev) {
                          deleted = deleted || e["type"] == "DELETED";
                          bookmark = bookmark || e["type"] == "BOOKMARK";
                        }
                        return deleted && bookmark;
                      });
  relabel.join();
  bool deleted = false, bookmark = false;
  for (const auto& e : events) {
    if (e["type"] == "DELETED") deleted = e["object"]["metadata"]["labels"]["app"] == "gone";
    if (e["type"] == "BOOKMARK") {
      bookmark = true;
      EXPECT_EQ(e["object"]["kind"], "Job");
      EXPECT_FALSE(e["object"]["metadata"]["resourceVersion"].get<std::string>().empty());
    }
  }
  EXPECT_TRUE(deleted);  // leaving the selector is a DELETED for this watcher
  EXPECT_TRUE(bookmark);
}

TEST_F(EmulatorHttp, WatchTooOldResourceVersionIs410) {
  EmulatorOptions o = fast_options();
  o.watch_history = 5;
  emu.reset();
  start(o);
  for (int i = 0; i < 10; ++i) post(jobs, job_body("old" + std::to_string(i), {{"kube-emulator/outcome", "hang"}}));
  auto events = watch(jobs + "?watch=true&resourceVersion=1", [](const std::vector<json>&) { return false; });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
  EXPECT_EQ(events[0]["object"]["message"].get<std::string>().rfind("too old resource version: 1 (", 0), 0u);
}

TEST_F(EmulatorHttp, SelfSubjectAccessReviewAndRbacObjectsThroughTheApi) {
  std::string dir = ::testing::TempDir();
  std::string tokens = dir + "/emu-tokens.csv";
  {
    std::ofstream f(tokens);
    f << "admin,admin,1,system:masters\nsa,system:serviceaccount:default:kjq,2\n";
  }
  EmulatorOptions o = fast_options();
  o.token_file = tokens;
  emu.reset();
  start(o);
  httplib::Headers sa = {{"Authorization", "Bearer sa"}};
  httplib::Headers admin = {{"Authorization", "Bearer admin"}};
  json review = {{"apiVersion", "authorization.k8s.io/v1"},
                 {"kind", "SelfSubjectAccessReview"},
                 {"spec",
                  {{"resourceAttributes",
                    {{"namespace", "default"}, {"verb", "create"}, {"group", "batch"}, {"resource", "jobs"}}}}}};
  const std::string ssar = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
  auto r = cli->Post(ssar, sa, review.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(json::parse(r->body)["status"]["allowed"], false);
  auto denied = cli->Post(jobs, sa, job_body("x").dump(), "application/json");
  EXPECT_EQ(denied->status, 403);
  EXPECT_EQ(cli->Get(jobs)->status, 401);  // anonymous

  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "runner"}}},
               {"rules", {{{"apiGroups", {"batch"}}, {"resources", {"jobs"}}, {"verbs", {"create"}}}}}};
  json binding = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "RoleBinding"},
                  {"metadata", {{"name", "runner"}}},
                  {"subjects", {{{"kind", "ServiceAccount"}, {"name", "kjq"}, {"namespace", "default"}}}},
                  {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "runner"}}}};
  EXPECT_EQ(
      cli->Post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", sa, role.dump(), "application/json")
          ->status,
      403);
  EXPECT_EQ(
      cli->Post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", admin, role.dump(), "application/json")
          ->status,
      201);
  EXPECT_EQ(cli->Post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", admin, binding.dump(),
                      "application/json")
                ->status,
            201);
  r = cli->Post(ssar, sa, review.dump(), "application/json");
  json allowed = json::parse(r->body);
  EXPECT_EQ(allowed["status"]["allowed"], true);
  EXPECT_EQ(allowed["status"]["reason"],
            "RBAC: allowed by RoleBinding \"runner/default\" of Role \"runner\" to ServiceAccount \"kjq/default\"");
  EXPECT_EQ(cli->Post(jobs, sa, job_body("x").dump(), "application/json")->status, 201);
}

TEST_F(EmulatorHttp, DeletePropagation) {
  post(jobs, job_body("orphaned", {{"kube-emulator/outcome", "hang"}}));
  post(jobs, job_body("cascaded", {{"kube-emulator/outcome", "hang"}}));
  ASSERT_TRUE(eventually([&] { return get("/api/v1/namespaces/default/pods")["items"].size() == 2; }));
  // No propagationPolicy: batch/v1 Jobs orphan their pods.
  auto r = cli->Delete(jobs + "/orphaned");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["status"], "Success");
  // Foreground: the Job waits, with its finalizer, until the garbage collector's pod deletion
  // (the pod's own terminationGracePeriodSeconds: the Job's grace period does not reach its pods)
  // has run its course. A `hang` pod ignores SIGTERM and is killed when the 30 s (0.6 s scaled) end.
  r = cli->Delete(jobs + "/cascaded", R"({"propagationPolicy":"Foreground","gracePeriodSeconds":0})",
                  "application/json");
  EXPECT_EQ(json::parse(r->body)["metadata"]["finalizers"][0], "foregroundDeletion");
  json waiting = get(jobs + "/cascaded");
  EXPECT_TRUE(waiting["metadata"].contains("deletionTimestamp"));
  json cascaded = get("/api/v1/namespaces/default/pods?labelSelector=job-name%3Dcascaded");
  ASSERT_EQ(cascaded["items"].size(), 1u);
  EXPECT_EQ(cascaded["items"][0]["metadata"]["deletionGracePeriodSeconds"], 30);
  EXPECT_TRUE(eventually([&] { return cli->Get(jobs + "/cascaded")->status == 404; }));
  json pods = get("/api/v1/namespaces/default/pods");
  ASSERT_EQ(pods["items"].size(), 1u);
  EXPECT_EQ(pods["items"][0]["metadata"]["labels"]["job-name"], "orphaned");
  EXPECT_FALSE(pods["items"][0]["metadata"].contains("ownerReferences"));
  EXPECT_EQ(cli->Delete(jobs + "/cascaded")->status, 404);
}

TEST_F(EmulatorHttp, GracefulPodDeletion) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  auto running_pod = [&](const std::string& job) {
    std::string name;
    EXPECT_TRUE(eventually([&] {
      const json list = get(pods + "?labelSelector=job-name%3D" + job);
      for (const auto& p : list["items"])
        if (p["status"].value("phase", "") == "Running" && !p["metadata"].contains("deletionTimestamp"))
          name = p["metadata"]["name"];
      return !name.empty();
    }));
    return name;
  };
  // A `hang` pod ignores SIGTERM: it stays Terminating for its grace period, is killed (137) and
  // removed; the Job counts it failed and replaces it at once. A later, longer grace does not
  // extend the first.
  post(jobs, job_body("stubborn", {{"kube-emulator/outcome", "hang"}}));
  const std::string first = running_pod("stubborn");
  const std::string rv = get(pods)["metadata"]["resourceVersion"];
  auto r = cli->Delete(pods + "/" + first, R"({"gracePeriodSeconds":25})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json marked = json::parse(r->body);
  EXPECT_EQ(marked["metadata"]["deletionGracePeriodSeconds"], 25);
  EXPECT_TRUE(marked["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(
      json::parse(
          cli->Delete(pods + "/" + first + "?gracePeriodSeconds=60")->body)["metadata"]["deletionGracePeriodSeconds"],
      25);
  EXPECT_EQ(get(pods + "/" + first)["status"]["phase"], "Running");  // still stopping
  auto events = watch(pods + "?watch=true&resourceVersion=" + rv + "&fieldSelector=metadata.name%3D" + first,
                      [](const std::vector<json>& e) { return !e.empty() && e.back()["type"] == "DELETED"; });
  ASSERT_GE(events.size(), 2u);
  const json& last = events.back()["object"];
  EXPECT_EQ(last["status"]["phase"], "Failed");
  EXPECT_EQ(last["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 137);
  EXPECT_NE(running_pod("stubborn"), first);  // replaced
  json killing = get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D" + first);
  bool saw_killing = false;
  for (const auto& e : killing["items"]) saw_killing |= e["reason"] == "Killing";
  EXPECT_TRUE(saw_killing);

  // A process that handles SIGTERM exits at once (143), well before its grace period ends.
  post(jobs, job_body("polite", {{"kube-emulator/run-seconds", "1000"}}));
  const std::string p = running_pod("polite");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(cli->Delete(pods + "/" + p + "?gracePeriodSeconds=1000")->status, 200);
  EXPECT_TRUE(eventually([&] { return cli->Get(pods + "/" + p)->status == 404; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));  // 1000 s scaled is 20 s

  // Grace 0 removes at once.
  post(jobs, job_body("forced", {{"kube-emulator/outcome", "hang"}}));
  const std::string f = running_pod("forced");
  ASSERT_EQ(cli->Delete(pods + "/" + f + "?gracePeriodSeconds=0")->status, 200);
  EXPECT_EQ(cli->Get(pods + "/" + f)->status, 404);

  // Background deletion of the Job: the Job goes at once; its running pod is stopped with its own
  // terminationGracePeriodSeconds (30 s, 0.6 s scaled), even after the Job's simulation is gone.
  post(jobs, job_body("orphan-free", {{"kube-emulator/outcome", "hang"}}));
  const std::string b = running_pod("orphan-free");
  ASSERT_EQ(cli->Delete(jobs + "/orphan-free?propagationPolicy=Background")->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the controller forgets the Job
  json stopping = get(pods + "/" + b);
  EXPECT_EQ(stopping["metadata"]["deletionGracePeriodSeconds"], 30);
  EXPECT_EQ(stopping["status"]["phase"], "Running");
  EXPECT_TRUE(eventually([&] { return cli->Get(pods + "/" + b)->status == 404; }));
}

TEST_F(EmulatorHttp, DeadlineWaitsForTerminatingPodsBeforeFailed) {
  // activeDeadlineSeconds: FailureTarget at once; Failed (and the Job's warning event) only when
  // the pods being stopped are gone, with status.terminating counting them meanwhile.
  json spec = {{"activeDeadlineSeconds", 1}};
  json body = job_body("late", {{"kube-emulator/outcome", "hang"}}, spec);
  body["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 50;  // 1 s scaled
  post(jobs, body);
  auto has_condition = [](const json& job, const char* type) {
    for (const auto& c : job["status"].value("conditions", json::array()))
      if (c["type"] == type) return true;
    return false;
  };
  json target, done;
  ASSERT_TRUE(eventually([&] { return has_condition(target = get(jobs + "/late"), "FailureTarget"); }));
  EXPECT_FALSE(has_condition(target, "Failed")) << target.dump();
  EXPECT_EQ(target["status"]["terminating"], 1);
  ASSERT_TRUE(eventually([&] { return has_condition(done = get(jobs + "/late"), "Failed"); }));
  EXPECT_EQ(done["status"]["terminating"], 0);
  EXPECT_EQ(done["status"]["conditions"].back()["reason"], "DeadlineExceeded");
  EXPECT_TRUE(get("/api/v1/namespaces/default/pods?labelSelector=job-name%3Dlate")["items"].empty());
}

TEST_F(EmulatorHttp, FaultInjectionFromTheAdminEndpoint) {
  httplib::Client admin(emu->admin_url());
  auto r = admin.Put("/faults", R"({"error503Fraction":1,"retryAfterSeconds":7})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto failed = cli->Get(jobs);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_EQ(failed->get_header_value("Retry-After"), "7");
  EXPECT_EQ(json::parse(failed->body)["reason"], "ServiceUnavailable");
  admin.Put("/faults", R"({"error503Fraction":0,"error429Fraction":1})", "application/json");
  EXPECT_EQ(cli->Get(jobs)->status, 429);
  EXPECT_EQ(admin.Delete("/faults")->status, 200);
  EXPECT_EQ(cli->Get(jobs)->status, 200);
  EXPECT_EQ(admin.Put("/faults", R"({"bogus":1})", "application/json")->status, 400);

  // Watch dropped after N events.
  for (const char* n : {"d1", "d2", "d3"}) post(jobs, job_body(n, {{"kube-emulator/outcome", "hang"}}));
  admin.Put("/faults", R"({"watchDropAfterEvents":2})", "application/json");
  auto events = watch(jobs + "?watch=true", [](const std::vector<json>&) { return false; });
  EXPECT_EQ(events.size(), 2u);
  admin.Delete("/faults");

  // Refused connections for a period, then served again on the same port.
  r = admin.Put("/faults", R"({"refuseConnectionsSeconds":0.5})", "application/json");
  ASSERT_TRUE(r);
  httplib::Client fresh(emu->base_url());
  fresh.set_connection_timeout(1);
  auto refused = fresh.Get("/version");
  EXPECT_FALSE(refused);
  EXPECT_TRUE(eventually(
      [&] {
        httplib::Client again(emu->base_url());
        auto ok = again.Get("/version");
        return ok && ok->status == 200;
      },
      5000));
  EXPECT_EQ(json::parse(admin.Get("/stats")->body)["objects"]["jobs"], 3);
}

TEST_F(EmulatorHttp, DiscoveryAndOpenApi) {
  EXPECT_EQ(get("/version")["minor"], "32");
  EXPECT_EQ(get("/api")["versions"][0], "v1");
  json groups = get("/apis")["groups"];
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"batch", "rbac.authorization.k8s.io", "authorization.k8s.io"}));
  json batch = get("/apis/batch/v1");
  EXPECT_EQ(batch["resources"][0]["name"], "jobs");
  EXPECT_EQ(get("/openapi/v3")["paths"]["apis/batch/v1"]["serverRelativeURL"],
            "/openapi/v3/apis/batch/v1?hash=kube-emulator");
  json doc = get("/openapi/v3/apis/batch/v1");
  EXPECT_TRUE(doc["paths"].contains("/apis/batch/v1/namespaces/{namespace}/jobs/{name}"));
}

namespace {
const char kAggregatedAccept[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";  // kubectl 1.32

json group_named(const json& doc, const std::string& name) {
  for (const auto& g : doc["items"])
    if (g["metadata"]["name"] == name) return g;
  return nullptr;
}

json resource_named(const json& version, const std::string& name) {
  for (const auto& r : version["resources"])
    if (r["resource"] == name) return r;
  return nullptr;
}
}  // namespace

TEST_F(EmulatorHttp, AggregatedDiscovery) {
  auto r = cli->Get("/apis", httplib::Headers{{"Accept", kAggregatedAccept}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(r->get_header_value("Vary"), "Accept");
  json doc = json::parse(r->body);
  EXPECT_EQ(doc["apiVersion"], "apidiscovery.k8s.io/v2");
  EXPECT_EQ(doc["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(doc["metadata"], json::object());
  std::vector<std::string> names;
  for (const auto& g : doc["items"]) names.push_back(g["metadata"]["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"batch", "rbac.authorization.k8s.io", "authorization.k8s.io"}));
  json batch = group_named(doc, "batch");
  ASSERT_EQ(batch["versions"].size(), 1u);
  EXPECT_EQ(batch["versions"][0]["version"], "v1");
  EXPECT_EQ(batch["versions"][0]["freshness"], "Current");
  json jobs_r = resource_named(batch["versions"][0], "jobs");
  ASSERT_FALSE(jobs_r.is_null());
  EXPECT_EQ(jobs_r["scope"], "Namespaced");
  EXPECT_EQ(jobs_r["singularResource"], "job");
  EXPECT_EQ(jobs_r["responseKind"], (json{{"group", "batch"}, {"version", "v1"}, {"kind", "Job"}}));
  EXPECT_EQ(jobs_r["categories"], json::array({"all"}));
  EXPECT_FALSE(jobs_r.contains("shortNames"));
  EXPECT_FALSE(jobs_r.contains("subresources"));
  auto verbs = jobs_r["verbs"].get<std::vector<std::string>>();
  for (const char* v : {"create", "get", "list", "watch", "delete"})
    EXPECT_NE(std::find(verbs.begin(), verbs.end(), v), verbs.end()) << v;
  EXPECT_EQ(resource_named(group_named(doc, "rbac.authorization.k8s.io")["versions"][0], "clusterroles")["scope"],
            "Cluster");

  // /api: the core group only, named "", with pods/log as a subresource.
  r = cli->Get("/api", httplib::Headers{{"Accept", kAggregatedAccept}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  EXPECT_EQ(r->get_header_value("Vary"), "Accept");
  doc = json::parse(r->body);
  EXPECT_EQ(doc["kind"], "APIGroupDiscoveryList");
  ASSERT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["items"][0]["metadata"]["name"], "");
  json pods = resource_named(doc["items"][0]["versions"][0], "pods");
  ASSERT_FALSE(pods.is_null());
  EXPECT_EQ(pods["responseKind"], (json{{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}));
  EXPECT_EQ(pods["shortNames"], json::array({"po"}));
  ASSERT_EQ(pods["subresources"].size(), 1u);
  EXPECT_EQ(pods["subresources"][0]["subresource"], "log");
  EXPECT_EQ(pods["subresources"][0]["responseKind"]["kind"], "Pod");
  EXPECT_EQ(pods["subresources"][0]["verbs"], json::array({"get"}));

  // v2beta1 only when v2 is not asked for; a clause with q=0 is not acceptable.
  const std::string beta = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
  r = cli->Get("/apis", httplib::Headers{{"Accept", beta + ",application/json"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), beta);
  EXPECT_EQ(json::parse(r->body)["apiVersion"], "apidiscovery.k8s.io/v2beta1");
  r = cli->Get(
      "/apis",
      httplib::Headers{{"Accept", beta + ", application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["apiVersion"], "apidiscovery.k8s.io/v2");
  r = cli->Get(
      "/apis",
      httplib::Headers{
          {"Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0,application/json"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["kind"], "APIGroupList");
}

TEST_F(EmulatorHttp, LegacyDiscoveryWithoutAggregatedAccept) {
  for (const char* accept : {"", "application/json", "application/json, */*",
                             "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}) {
    httplib::Headers headers;
    if (*accept) headers.emplace("Accept", accept);
    auto r = cli->Get("/apis", headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << accept;
    EXPECT_EQ(r->get_header_value("Vary"), "Accept");
    json doc = json::parse(r->body);
    EXPECT_EQ(doc["kind"], "APIGroupList") << accept;
    EXPECT_EQ(doc["apiVersion"], "v1");
    EXPECT_EQ(doc["groups"].size(), 3u);
    r = cli->Get("/api", headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << accept;
    EXPECT_EQ(json::parse(r->body)["kind"], "APIVersions") << accept;
  }
}

// The aggregated documents and the per-group-version documents come from one table.
TEST(EmulatorDiscovery, AggregatedAndLegacyListTheSameResources) {
  ResourceRegistry registry;
  std::size_t listed = 0;
  for (bool core : {true, false}) {
    const json doc = registry.aggregated_discovery_doc(core, "v2");
    for (const auto& group : doc["items"]) {
      for (const auto& version : group["versions"]) {
        json legacy = registry.resource_list_doc(group["metadata"]["name"], version["version"]);
        ASSERT_FALSE(legacy.is_null());
        std::vector<std::string> want, got;
        for (const auto& r : legacy["resources"]) want.push_back(r["name"]);
        for (const auto& r : version["resources"]) {
          got.push_back(r["resource"]);
          for (const auto& s : r.value("subresources", json::array()))
            got.push_back(r["resource"].get<std::string>() + "/" + s["subresource"].get<std::string>());
          ++listed;
        }
        EXPECT_EQ(got, want);
      }
    }
  }
  EXPECT_EQ(listed, registry.all().size());
}

TEST_F(EmulatorHttp, FollowLogsUntilTheContainerEnds) {
  post(jobs, job_body("follow", {{"kube-emulator/run-seconds", "25"}, {"kube-emulator/log", "line1\nline2"}}));
  const std::string pods = "/api/v1/namespaces/default/pods?labelSelector=job-name%3Dfollow";
  std::string pod;
  ASSERT_TRUE(eventually([&] {
    json items = get(pods)["items"];
    if (items.empty() || items[0]["status"]["phase"] != "Running") return false;
    pod = items[0]["metadata"]["name"];
    return true;
  }));
  auto r = cli->Get("/api/v1/namespaces/default/pods/" + pod + "/log?follow=true");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "line1\nline2\n");
  // The stream ended because the container ended.
  EXPECT_EQ(get(pods)["items"][0]["status"]["phase"], "Succeeded");
}

TEST_F(EmulatorHttp, SmallAnswersAreNotCompressed) {
  post(jobs, job_body("plain", {{"kube-emulator/outcome", "hang"}}));
  auto r = cli->Get(jobs + "/plain", httplib::Headers{{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Encoding"), "");  // like kube-apiserver: gzip only above 128 KiB
}

TEST_F(EmulatorHttp, CreateLogOutlivesDeletedObjects) {
  post(jobs, job_body("kept", {{"kube-emulator/outcome", "hang"}}));
  post(jobs, job_body("gone", {{"kube-emulator/outcome", "hang"}}));
  EXPECT_EQ(cli->Post(jobs, job_body("gone").dump(), "application/json")->status, 409);  // not a create
  EXPECT_EQ(cli->Delete(jobs + "/gone")->status, 200);
  httplib::Client admin(emu->admin_url());
  auto r = admin.Get("/creates?resource=jobs");
  ASSERT_TRUE(r);
  json items = json::parse(r->body)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["name"], "kept");
  EXPECT_EQ(items[1]["name"], "gone");
  EXPECT_EQ(items[1]["namespace"], "default");
  EXPECT_FALSE(items[1]["uid"].get<std::string>().empty());
  // Pods and Events the controller makes are not API requests: not in the log.
  EXPECT_EQ(json::parse(admin.Get("/creates")->body)["items"].size(), 2u);
}

// --- streaming lists (WatchList) ---------------------------------------------------------------

namespace {
bool is_end_bookmark(const json& e) {
  return e["type"] == "BOOKMARK" &&
         e["object"]["metadata"].value("annotations", json::object()).value("k8s.io/initial-events-end", "") == "true";
}
}  // namespace

TEST_F(EmulatorHttp, WatchListSendsTheStateThenTheInitialEventsEndBookmark) {
  post(jobs, job_body("wl-a", {{"kube-emulator/outcome", "hang"}}));
  post(jobs, job_body("wl-b", {{"kube-emulator/outcome", "hang"}}));
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    post(jobs, job_body("wl-c", {{"kube-emulator/outcome", "hang"}}));
  });
  auto events =
      watch(jobs + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
            [](const std::vector<json>& ev) {
              for (const auto& e : ev)
                if (e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "wl-c") return true;
              return false;
            });
  later.join();
  // ADDED wl-a, ADDED wl-b, the end bookmark, then live events (wl-c and status updates).
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "wl-a");
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[1]["object"]["metadata"]["name"], "wl-b");
  ASSERT_TRUE(is_end_bookmark(events[2])) << events[2].dump();
  EXPECT_EQ(events[2]["object"]["kind"], "Job");
  EXPECT_EQ(events[2]["object"]["apiVersion"], "batch/v1");
  const auto bookmark_rv = std::stoull(events[2]["object"]["metadata"]["resourceVersion"].get<std::string>());
  for (int i : {0, 1})
    EXPECT_LE(std::stoull(events[i]["object"]["metadata"]["resourceVersion"].get<std::string>()), bookmark_rv);
  int end_bookmarks = 0;
  for (const auto& e : events) end_bookmarks += is_end_bookmark(e) ? 1 : 0;
  EXPECT_EQ(end_bookmarks, 1);
  EXPECT_EQ(events.back()["object"]["metadata"]["name"], "wl-c");
}

TEST_F(EmulatorHttp, LegacyWatchFromNowIsAStreamingListToo) {
  post(jobs, job_body("legacy", {{"kube-emulator/outcome", "hang"}}));
  // No resourceVersion: kube-apiserver defaults it to sendInitialEvents=true (WatchList on), so
  // a client that allows bookmarks gets the end marker.
  auto events = watch(jobs + "?watch=true&allowWatchBookmarks=true",
                      [](const std::vector<json>& ev) { return is_end_bookmark(ev.back()); });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "legacy");
  EXPECT_TRUE(is_end_bookmark(events[1]));
  // Without allowWatchBookmarks the initial events come, and no bookmark at all.
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    post(jobs, job_body("legacy2", {{"kube-emulator/outcome", "hang"}}));
  });
  events = watch(jobs + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan",
                 [](const std::vector<json>& ev) { return ev.back()["object"]["metadata"]["name"] == "legacy2"; });
  later.join();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "legacy");
  for (const auto& e : events) EXPECT_NE(e["type"], "BOOKMARK") << e.dump();
}

TEST_F(EmulatorHttp, WatchListWithoutInitialEventsStartsNow) {
  const std::string cms = "/api/v1/namespaces/default/configmaps";  // nothing updates them behind our back
  post(cms, {{"metadata", {{"name", "before"}}}, {"data", {{"k", "v"}}}});
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    post(cms, {{"metadata", {{"name", "after"}}}});
  });
  auto events =
      watch(cms + "?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
            [](const std::vector<json>& ev) { return ev.back()["type"] != "BOOKMARK"; });
  later.join();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["type"], "ADDED");
  EXPECT_EQ(events.back()["object"]["metadata"]["name"], "after");
  for (const auto& e : events) EXPECT_FALSE(is_end_bookmark(e)) << e.dump();  // no initial events to end
}

TEST_F(EmulatorHttp, ListOptionsAreValidatedAsKubeApiserverDoes) {
  struct Case {
    std::string query;
    std::string message;
  };
  const std::string prefix = "ListOptions.meta.k8s.io \"\" is invalid: ";
  const std::vector<Case> cases = {
      {"?sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"},
      {"?resourceVersionMatch=NotOlderThan",
       "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"},
      {"?resourceVersion=0&resourceVersionMatch=Exact",
       "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""},
      {"?resourceVersion=1&resourceVersionMatch=Newest",
       "resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\""},
      {"?watch=true&sendInitialEvents=true",
       "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"},
      {"?watch=true&sendInitialEvents=true&resourceVersionMatch=Exact&allowWatchBookmarks=true",
       "[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, "
       "resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"]"},
      {"?watch=true&resourceVersion=5&resourceVersionMatch=NotOlderThan",
       "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
       "provided"},
      {"?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&continue=abc",
       "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided"},
  };
  for (const auto& c : cases) {
    auto r = cli->Get(jobs + c.query);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 422) << c.query;
    json st = json::parse(r->body);
    EXPECT_EQ(st["kind"], "Status");
    EXPECT_EQ(st["reason"], "Invalid");
    EXPECT_EQ(st["message"], prefix + c.message) << c.query;
    EXPECT_EQ(st["details"]["kind"], "ListOptions");
    EXPECT_EQ(st["details"]["group"], "meta.k8s.io");
    EXPECT_FALSE(st["details"].contains("name"));
    EXPECT_FALSE(st["details"]["causes"].empty());
  }
  auto r = cli->Get(jobs + "?watch=true&sendInitialEvents=maybe&resourceVersionMatch=NotOlderThan");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  // A streaming list asked to be at least as new as a version the store has not reached: the
  // watch cache waits 3 s, then answers 504 with the ResourceVersionTooLarge cause.
  const auto rv = emu->store().current_rv() + 1000;
  r = cli->Get(jobs + "?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=" +
               std::to_string(rv));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504);
  json st = json::parse(r->body);
  EXPECT_EQ(st["reason"], "Timeout");
  EXPECT_EQ(st["message"].get<std::string>().rfind(
                "Timeout: Too large resource version: " + std::to_string(rv) + ", current: ", 0),
            0u);
  EXPECT_EQ(st["details"]["causes"][0]["reason"], "ResourceVersionTooLarge");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
}

// --- Tables ----------------------------------------------------------------------------------

namespace {
const char* kTableAccept =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
std::vector<std::string> column_names(const json& table) {
  std::vector<std::string> names;
  for (const auto& c : table["columnDefinitions"]) names.push_back(c["name"]);
  return names;
}
}  // namespace

TEST_F(EmulatorHttp, JobAndPodTablesHaveTheServerColumns) {
  post(jobs, job_body("tab", {{"kube-emulator/run-seconds", "1"}}));
  ASSERT_TRUE(eventually([&] { return !condition(get(jobs + "/tab"), "Complete").is_null(); }));
  const httplib::Headers accept{{"Accept", kTableAccept}};
  auto r = cli->Get(jobs + "/tab", accept);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json;as=Table;v=v1;g=meta.k8s.io");
  json t = json::parse(r->body);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(column_names(t), (std::vector<std::string>{"Name", "Status", "Completions", "Duration", "Age", "Containers",
                                                       "Images", "Selector"}));
  EXPECT_EQ(t["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(t["columnDefinitions"][4]["priority"], 0);
  EXPECT_EQ(t["columnDefinitions"][5]["priority"], 1);  // wide
  ASSERT_EQ(t["rows"].size(), 1u);
  const json& cells = t["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "tab");
  EXPECT_EQ(cells[1], "Complete");
  EXPECT_EQ(cells[2], "1/1");
  EXPECT_EQ(cells[3], "0s");  // 20 ms of simulated run time
  EXPECT_EQ(cells[5], "main");
  EXPECT_EQ(cells[6], "busybox");
  EXPECT_EQ(cells[7].get<std::string>().rfind("batch.kubernetes.io/controller-uid=", 0), 0u);
  // includeObject defaults to Metadata: a PartialObjectMetadata of the same Table version.
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(t["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(t["rows"][0]["object"]["metadata"]["name"], "tab");
  EXPECT_FALSE(t["rows"][0]["object"].contains("spec"));
  EXPECT_EQ(t["metadata"]["resourceVersion"], get(jobs + "/tab")["metadata"]["resourceVersion"]);

  json pods = json::parse(cli->Get("/api/v1/namespaces/default/pods?labelSelector=job-name%3Dtab", accept)->body);
  EXPECT_EQ(column_names(pods), (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                                          "Nominated Node", "Readiness Gates"}));
  ASSERT_EQ(pods["rows"].size(), 1u);
  const json& pod = pods["rows"][0];
  EXPECT_EQ(pod["cells"][1], "0/1");
  EXPECT_EQ(pod["cells"][2], "Completed");
  EXPECT_EQ(pod["cells"][3], "0");
  EXPECT_EQ(pod["cells"][6], emu->controller().node_name());
  EXPECT_EQ(pod["cells"][8], "<none>");
  EXPECT_EQ(pod["conditions"][0]["type"], "Completed");
  EXPECT_EQ(pod["conditions"][0]["reason"], "Succeeded");

  // The Job controller records its Completed Event just after the condition (as Kubernetes does):
  // the table is read once it is there.
  json events;
  auto has_completed = [&] {
    events = json::parse(cli->Get("/api/v1/namespaces/default/events", accept)->body);
    for (const auto& row : events["rows"])
      if (row["cells"][2] == "Completed") return true;
    return false;
  };
  EXPECT_TRUE(eventually(has_completed));
  EXPECT_EQ(column_names(events), (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject",
                                                            "Source", "Message", "First Seen", "Count", "Name"}));
  bool completed = false;
  for (const auto& row : events["rows"])
    if (row["cells"][2] == "Completed") {
      completed = true;
      EXPECT_EQ(row["cells"][1], "Normal");
      EXPECT_EQ(row["cells"][3], "job/tab");
      EXPECT_EQ(row["cells"][5], "job-controller");
      EXPECT_EQ(row["cells"][6], "Job completed");
      EXPECT_EQ(row["cells"][8], 1);
    }
  EXPECT_TRUE(completed);
}

TEST_F(EmulatorHttp, TableStatusesIncludeObjectAndPaging) {
  post(jobs, job_body("run", {{"kube-emulator/outcome", "hang"}}));
  post(jobs, job_body("bad", {{"kube-emulator/outcome", "fail"}}, {{"backoffLimit", 0}}));
  ASSERT_TRUE(eventually([&] { return !condition(get(jobs + "/bad"), "Failed").is_null(); }));
  const httplib::Headers accept{{"Accept", kTableAccept}};
  json t = json::parse(cli->Get(jobs, accept)->body);
  ASSERT_EQ(t["rows"].size(), 2u);
  EXPECT_EQ(t["rows"][0]["cells"][0], "bad");
  EXPECT_EQ(t["rows"][0]["cells"][1], "Failed");
  EXPECT_EQ(t["rows"][0]["cells"][2], "0/1");
  EXPECT_EQ(t["rows"][1]["cells"][1], "Running");
  EXPECT_EQ(t["metadata"]["resourceVersion"], get(jobs)["metadata"]["resourceVersion"]);

  json obj = json::parse(cli->Get(jobs + "?includeObject=Object", accept)->body);
  EXPECT_EQ(obj["rows"][0]["object"]["kind"], "Job");
  EXPECT_EQ(obj["rows"][0]["object"]["spec"]["backoffLimit"], 0);
  json none = json::parse(cli->Get(jobs + "?includeObject=None", accept)->body);
  EXPECT_TRUE(none["rows"][0]["object"].is_null());
  auto r = cli->Get(jobs + "?includeObject=Everything", accept);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["message"],
            "Unable to convert to Table as requested: includeObject: Unsupported value: \"Everything\": supported "
            "values: \"Metadata\", \"None\", \"Object\"");

  // Without a Table, includeObject means nothing (not validated either).
  EXPECT_EQ(json::parse(cli->Get(jobs + "?includeObject=Everything")->body)["kind"], "JobList");
  EXPECT_EQ(cli->Get(jobs + "/run?includeObject=Everything")->status, 200);

  json page = json::parse(cli->Get(jobs + "?limit=1", accept)->body);
  ASSERT_EQ(page["rows"].size(), 1u);
  EXPECT_EQ(page["metadata"]["remainingItemCount"], 1);
  json rest = json::parse(
      cli->Get(jobs + "?limit=1&continue=" + page["metadata"]["continue"].get<std::string>(), accept)->body);
  ASSERT_EQ(rest["rows"].size(), 1u);
  EXPECT_EQ(rest["rows"][0]["cells"][0], "run");

  // Only v1beta1 asked for: a v1beta1 Table. No Table clause: the plain list.
  r = cli->Get(jobs, httplib::Headers{{"Accept", "application/json;as=Table;v=v1beta1;g=meta.k8s.io"}});
  EXPECT_EQ(json::parse(r->body)["apiVersion"], "meta.k8s.io/v1beta1");
  EXPECT_EQ(json::parse(r->body)["rows"][0]["object"]["apiVersion"], "meta.k8s.io/v1beta1");
  r = cli->Get(jobs, httplib::Headers{{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io;q=0,application/json"}});
  EXPECT_EQ(json::parse(r->body)["kind"], "JobList");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
}

TEST_F(EmulatorHttp, WatchAsTableSendsColumnsOnlyFirst) {
  post(jobs, job_body("w1", {{"kube-emulator/outcome", "hang"}}));
  post(jobs, job_body("w2", {{"kube-emulator/outcome", "hang"}}));
  auto events = watch(
      jobs + "?watch=true", [](const std::vector<json>& ev) { return ev.size() == 2; },
      httplib::Headers{{"Accept", kTableAccept}});
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) {
    EXPECT_EQ(e["type"], "ADDED");
    EXPECT_EQ(e["object"]["kind"], "Table");
    ASSERT_EQ(e["object"]["rows"].size(), 1u);
  }
  EXPECT_EQ(column_names(events[0]["object"]).size(), 8u);
  EXPECT_TRUE(events[1]["object"]["columnDefinitions"].is_null());
  EXPECT_EQ(events[1]["object"]["rows"][0]["cells"][0], "w2");
}

TEST(EmulatorTables, HumanDurationMatchesKubectl) {
  using std::chrono::seconds;
  const std::vector<std::pair<long long, std::string>> cases = {{-5, "<invalid>"},
                                                                {-1, "0s"},
                                                                {0, "0s"},
                                                                {119, "119s"},
                                                                {120, "2m"},
                                                                {125, "2m5s"},
                                                                {600, "10m"},
                                                                {10799, "179m"},
                                                                {10800, "3h"},
                                                                {11000, "3h3m"},
                                                                {8 * 3600, "8h"},
                                                                {47 * 3600, "47h"},
                                                                {48 * 3600, "2d"},
                                                                {50 * 3600, "2d2h"},
                                                                {8 * 86400, "8d"},
                                                                {730 * 86400, "2y"},
                                                                {731 * 86400, "2y1d"},
                                                                {8 * 365 * 86400, "8y"}};
  for (const auto& [s, want] : cases) EXPECT_EQ(human_duration(seconds(s)), want) << s;
}

TEST(EmulatorTables, AcceptNegotiation) {
  EXPECT_EQ(table_version_for_accept(kTableAccept), "v1");
  EXPECT_EQ(table_version_for_accept("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json"), "v1beta1");
  EXPECT_EQ(table_version_for_accept("application/json"), "");
  EXPECT_EQ(table_version_for_accept(""), "");
  EXPECT_EQ(
      table_version_for_accept("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json"), "");
  EXPECT_EQ(table_version_for_accept("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,"
                                     "application/json;as=Table;v=v1;g=meta.k8s.io"),
            "v1");
}
