// In-process emulator over real loopback sockets: Job suspension (no pods while suspended, the
// Suspended condition, resume resets startTime, suspending deletes pods without counting them) and
// PATCH on Jobs (merge patch, JSON patch, resourceVersion preconditions, 415, immutability, RBAC).
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "emulator.hpp"
#include "sim_clock.hpp"

using namespace kjq::emulator;
using nlohmann::json;

namespace job_suspend_tests {

EmulatorOptions suspend_options(double time_scale = 0.02) {
  EmulatorOptions o;
  o.listen = "127.0.0.1:0";
  o.time_scale = time_scale;
  o.simulation.backoff_seconds = 1;
  o.threads = 8;
  return o;
}

json job(const std::string& name, json spec_extra = json::object(), json annotations = json::object()) {
  json j = {{"apiVersion", "batch/v1"},
            {"kind", "Job"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"template",
               {{"metadata", {{"annotations", annotations}}},
                {"spec",
                 {{"restartPolicy", "Never"},
                  {"terminationGracePeriodSeconds", 5},
                  {"containers", {{{"name", "main"}, {"image", "busybox:1.36"}}}}}}}}}}};
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

json condition_of(const json& job, const std::string& type) {
  for (const auto& c : job["status"].value("conditions", json::array()))
    if (c["type"] == type) return c;
  return nullptr;
}

class JobSuspendAndPatch : public ::testing::Test {
 protected:
  void SetUp() override { start(suspend_options()); }
  void start(EmulatorOptions o) {
    cli.reset();
    emu.reset();
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
  json create(const json& body) {
    auto r = cli->Post(jobs, body.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body);
  }
  // PATCH with a content type; checks the answer's status and returns its body.
  json patch(const std::string& name, const std::string& body, const std::string& type, int want = 200,
             const httplib::Headers& headers = {}) {
    auto r = cli->Patch(jobs + "/" + name, headers, body, type);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, want) << body << ": " << r->body;
    return json::parse(r->body);
  }
  json merge(const std::string& name, const json& body, int want = 200) {
    return patch(name, body.dump(), "application/merge-patch+json", want);
  }
  json json_patch(const std::string& name, const json& ops, int want = 200) {
    return patch(name, ops.dump(), "application/json-patch+json", want);
  }
  json pods_of(const std::string& job) { return get(pods + "?labelSelector=job-name%3D" + job)["items"]; }
  std::vector<std::string> job_event_reasons(const std::string& job) {
    std::vector<std::string> reasons;
    const json events = get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D" + job);
    for (const auto& e : events["items"])
      if (e["involvedObject"]["kind"] == "Job") reasons.push_back(e["reason"]);
    return reasons;
  }
  bool has_running_pod(const std::string& job) {
    for (const auto& p : pods_of(job))
      if (p["status"].value("phase", "") == "Running" && !p["metadata"].contains("deletionTimestamp")) return true;
    return false;
  }

  const std::string jobs = "/apis/batch/v1/namespaces/default/jobs";
  const std::string pods = "/api/v1/namespaces/default/pods";
  std::unique_ptr<Emulator> emu;
  std::unique_ptr<httplib::Client> cli;
};

TEST_F(JobSuspendAndPatch, CreatedSuspendedHasNoPodsNoStartTimeUntilResumed) {
  create(job("held", {{"suspend", true}}, {{"kube-emulator/outcome", "hang"}}));
  json held;
  ASSERT_TRUE(eventually([&] { return !condition_of(held = get(jobs + "/held"), "Suspended").is_null(); }));
  const json suspended = condition_of(held, "Suspended");
  EXPECT_EQ(suspended["status"], "True");
  EXPECT_EQ(suspended["reason"], "JobSuspended");
  EXPECT_EQ(suspended["message"], "Job suspended");
  EXPECT_TRUE(suspended.contains("lastTransitionTime"));
  EXPECT_TRUE(suspended.contains("lastProbeTime"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // 10 s of simulated time
  held = get(jobs + "/held");
  EXPECT_TRUE(pods_of("held").empty());
  EXPECT_FALSE(held["status"].contains("startTime")) << held.dump();
  EXPECT_FALSE(held["status"].contains("active"));
  EXPECT_EQ(held["status"]["conditions"].size(), 1u);
  auto reasons = job_event_reasons("held");
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "Suspended"), reasons.end());
  EXPECT_EQ(std::find(reasons.begin(), reasons.end(), "SuccessfulCreate"), reasons.end());
  auto table = cli->Get(jobs + "/held", {{"Accept", "application/json;as=Table;v=v1;g=meta.k8s.io"}});
  ASSERT_TRUE(table);
  EXPECT_EQ(json::parse(table->body)["rows"][0]["cells"][1], "Suspended");  // kubectl's STATUS column

  // Resume: pods come, the condition turns False (JobResumed) and startTime is the resume time.
  const std::string before_resume = rfc3339_now();
  json resumed = merge("held", {{"spec", {{"suspend", false}}}});
  EXPECT_EQ(resumed["spec"]["suspend"], false);
  EXPECT_EQ(resumed["metadata"]["generation"], 2);
  ASSERT_TRUE(eventually([&] { return has_running_pod("held"); }));
  ASSERT_TRUE(eventually([&] { return get(jobs + "/held")["status"].value("active", 0) == 1; }));
  held = get(jobs + "/held");
  const json cond = condition_of(held, "Suspended");
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "JobResumed");
  EXPECT_EQ(cond["message"], "Job resumed");
  ASSERT_TRUE(held["status"].contains("startTime"));
  EXPECT_GE(held["status"]["startTime"].get<std::string>(), before_resume);
  EXPECT_GE(cond["lastTransitionTime"].get<std::string>(), suspended["lastTransitionTime"].get<std::string>());
  reasons = job_event_reasons("held");
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "Resumed"), reasons.end());
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "SuccessfulCreate"), reasons.end());
}

TEST_F(JobSuspendAndPatch, SuspendingARunningJobDeletesItsPodsWithoutCountingThem) {
  create(job("busy", json::object(), {{"kube-emulator/outcome", "hang"}}));
  ASSERT_TRUE(eventually([&] { return has_running_pod("busy"); }));
  ASSERT_TRUE(eventually([&] { return get(jobs + "/busy")["status"].value("active", 0) == 1; }));
  const std::string first_pod = pods_of("busy")[0]["metadata"]["name"];
  const std::string started = get(jobs + "/busy")["status"]["startTime"];

  json_patch("busy", json::array({{{"op", "replace"}, {"path", "/spec/suspend"}, {"value", true}}}));
  json busy;
  ASSERT_TRUE(eventually([&] {
    busy = get(jobs + "/busy");
    const json c = condition_of(busy, "Suspended");
    return c.is_object() && c["status"] == "True";
  }));
  EXPECT_FALSE(busy["status"].contains("active")) << busy.dump();  // 0 at once, while the pod stops
  ASSERT_TRUE(eventually([&] { return pods_of("busy").empty(); }));
  ASSERT_TRUE(eventually([&] { return get(jobs + "/busy")["status"].value("terminating", -1) == 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  busy = get(jobs + "/busy");
  EXPECT_FALSE(busy["status"].contains("failed")) << busy.dump();  // not counted as a failure
  EXPECT_FALSE(busy["status"].contains("succeeded"));
  EXPECT_EQ(busy["status"]["startTime"], started);  // kept while suspended
  EXPECT_TRUE(pods_of("busy").empty());             // and no new pod
  auto reasons = job_event_reasons("busy");
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "SuccessfulDelete"), reasons.end());
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "Suspended"), reasons.end());

  // Resume: a new pod, a new startTime, still no failure counted.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // startTime has a 1 s resolution
  merge("busy", {{"spec", {{"suspend", false}}}});
  ASSERT_TRUE(eventually([&] { return has_running_pod("busy"); }));
  ASSERT_TRUE(eventually([&] { return get(jobs + "/busy")["status"].value("active", 0) == 1; }));
  busy = get(jobs + "/busy");
  EXPECT_NE(pods_of("busy")[0]["metadata"]["name"], first_pod);
  EXPECT_GT(busy["status"]["startTime"].get<std::string>(), started);
  EXPECT_FALSE(busy["status"].contains("failed"));
  EXPECT_EQ(condition_of(busy, "Suspended")["reason"], "JobResumed");
}

TEST_F(JobSuspendAndPatch, ActiveDeadlineCountsFromTheResume) {
  start(suspend_options(0.1));  // activeDeadlineSeconds 3 -> 0.3 s
  create(job("timed", {{"suspend", true}, {"activeDeadlineSeconds", 3}}, {{"kube-emulator/outcome", "hang"}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // twice the deadline, suspended
  json timed = get(jobs + "/timed");
  EXPECT_TRUE(condition_of(timed, "FailureTarget").is_null()) << timed.dump();
  EXPECT_TRUE(condition_of(timed, "Failed").is_null());

  const auto resumed_at = std::chrono::steady_clock::now();
  merge("timed", {{"spec", {{"suspend", false}}}});
  ASSERT_TRUE(eventually([&] { return !pods_of("timed").empty(); }));
  ASSERT_TRUE(eventually([&] { return !condition_of(timed = get(jobs + "/timed"), "FailureTarget").is_null(); }));
  const auto failed_after = std::chrono::steady_clock::now() - resumed_at;
  EXPECT_GE(failed_after, std::chrono::milliseconds(280));  // the whole deadline, from the resume
  EXPECT_EQ(condition_of(timed, "FailureTarget")["reason"], "DeadlineExceeded");
  ASSERT_TRUE(eventually([&] { return !condition_of(timed = get(jobs + "/timed"), "Failed").is_null(); }));
  EXPECT_EQ(condition_of(timed, "Failed")["message"], "Job was active longer than specified deadline");
}

TEST_F(JobSuspendAndPatch, MergePatchAndJsonPatchOperations) {
  json created = create(job("p", {{"suspend", true}}));
  const std::string rv0 = created["metadata"]["resourceVersion"];
  ASSERT_TRUE(eventually([&] { return !condition_of(get(jobs + "/p"), "Suspended").is_null(); }));
  const std::string rv1 = get(jobs + "/p")["metadata"]["resourceVersion"];

  // RFC 7386: objects merge, null deletes; the change is a MODIFIED watch event with a new rv.
  json m = merge("p", {{"metadata", {{"labels", {{"team", "net"}, {"tier", "1"}}}}}});
  EXPECT_EQ(m["metadata"]["labels"]["team"], "net");
  EXPECT_NE(m["metadata"]["resourceVersion"], rv1);
  EXPECT_EQ(m["metadata"]["generation"], 1);  // metadata only: the generation stays
  m = merge("p", {{"metadata", {{"labels", {{"tier", nullptr}}}}}});
  EXPECT_EQ(m["metadata"]["labels"], json({{"team", "net"}}));
  EXPECT_EQ(m["status"], get(jobs + "/p")["status"]);

  // A patch that changes nothing keeps the resourceVersion.
  const std::string rv2 = m["metadata"]["resourceVersion"];
  EXPECT_EQ(merge("p", {{"metadata", {{"labels", {{"team", "net"}}}}}})["metadata"]["resourceVersion"], rv2);

  // RFC 6902: add, copy, move, remove, replace, test.
  json ops = json::array({
      {{"op", "add"}, {"path", "/metadata/annotations"}, {"value", {{"a", "1"}}}},
      {{"op", "copy"}, {"from", "/metadata/annotations/a"}, {"path", "/metadata/annotations/b"}},
      {{"op", "move"}, {"from", "/metadata/annotations/b"}, {"path", "/metadata/annotations/c"}},
      {{"op", "replace"}, {"path", "/metadata/annotations/a"}, {"value", "2"}},
      {{"op", "test"}, {"path", "/metadata/annotations/c"}, {"value", "1"}},
      {{"op", "remove"}, {"path", "/metadata/labels/team"}},
  });
  json j = json_patch("p", ops);
  EXPECT_EQ(j["metadata"]["annotations"], json({{"a", "2"}, {"c", "1"}}));
  EXPECT_FALSE(j["metadata"].contains("labels") && j["metadata"]["labels"].contains("team"));
  const std::string rv3 = j["metadata"]["resourceVersion"];

  // A failing test: 422 as kube-apiserver answers it, nothing applied.
  json failed = json_patch("p",
                           json::array({{{"op", "test"}, {"path", "/spec/suspend"}, {"value", false}},
                                        {{"op", "replace"}, {"path", "/spec/parallelism"}, {"value", 3}}}),
                           422);
  EXPECT_EQ(failed, json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"the server rejected our request due to an error in our request","reason":"Invalid",
    "details":{},"code":422})"));
  EXPECT_EQ(get(jobs + "/p")["metadata"]["resourceVersion"], rv3);
  EXPECT_EQ(get(jobs + "/p")["spec"]["parallelism"], 1);
  // A path that is not there is the same 422; a patch that is not a list of operations is a 400.
  EXPECT_EQ(json_patch("p", json::array({{{"op", "remove"}, {"path", "/metadata/nope"}}}), 422)["reason"], "Invalid");
  EXPECT_EQ(json_patch("p", {{"op", "remove"}}, 400)["reason"], "BadRequest");
  EXPECT_EQ(patch("p", "[{", "application/json-patch+json", 400)["reason"], "BadRequest");
  EXPECT_EQ(patch("p", "{", "application/merge-patch+json", 400)["reason"], "BadRequest");

  // Strategic merge patch (kubectl's default type) is applied as a merge patch.
  json s = patch("p", R"({"spec":{"parallelism":2}})", "application/strategic-merge-patch+json");
  EXPECT_EQ(s["spec"]["parallelism"], 2);
  EXPECT_EQ(s["metadata"]["generation"], 2);  // the spec changed

  // Every change above was a MODIFIED event, in order, on a watch from the first version.
  std::vector<json> events;
  {
    httplib::Client c(emu->base_url());
    c.set_read_timeout(5);
    std::string buf;
    c.Get(jobs + "?watch=true&resourceVersion=" + rv0 + "&fieldSelector=metadata.name%3Dp",
          [&](const char* data, size_t n) {
            buf.append(data, n);
            for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1))
              events.push_back(json::parse(buf.substr(0, nl)));
            return events.empty() || events.back()["object"]["spec"]["parallelism"] != 2;
          });
  }
  ASSERT_GE(events.size(), 5u);
  for (const auto& e : events) EXPECT_EQ(e["type"], "MODIFIED");
  EXPECT_EQ(events.back()["object"]["metadata"]["resourceVersion"], s["metadata"]["resourceVersion"]);
}

TEST_F(JobSuspendAndPatch, StaleResourceVersionIs409) {
  json created = create(job("rv", {{"suspend", true}}));
  const std::string stale = created["metadata"]["resourceVersion"];
  ASSERT_TRUE(eventually([&] { return get(jobs + "/rv")["metadata"]["resourceVersion"] != stale; }));
  const json conflict = json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"Operation cannot be fulfilled on jobs.batch \"rv\": the object has been modified; please apply your changes to the latest version and try again",
    "reason":"Conflict","details":{"name":"rv","group":"batch","kind":"jobs"},"code":409})");
  EXPECT_EQ(merge("rv", {{"metadata", {{"resourceVersion", stale}}}, {"spec", {{"suspend", false}}}}, 409), conflict);
  EXPECT_EQ(json_patch("rv",
                       json::array({{{"op", "replace"}, {"path", "/metadata/resourceVersion"}, {"value", stale}},
                                    {{"op", "replace"}, {"path", "/spec/suspend"}, {"value", false}}}),
                       409),
            conflict);
  json current = get(jobs + "/rv");
  EXPECT_EQ(current["spec"]["suspend"], true);  // neither applied
  // Also when the change would be invalid: the precondition is checked first.
  EXPECT_EQ(merge("rv", {{"metadata", {{"resourceVersion", stale}}}, {"spec", {{"backoffLimit", -1}}}}, 409)["reason"],
            "Conflict");
  // The current resourceVersion is a precondition that holds.
  const std::string rv = current["metadata"]["resourceVersion"];
  json ok = merge("rv", {{"metadata", {{"resourceVersion", rv}}}, {"spec", {{"suspend", false}}}});
  EXPECT_EQ(ok["spec"]["suspend"], false);
  EXPECT_NE(ok["metadata"]["resourceVersion"], rv);
  // PUT with a stale resourceVersion is the same 409.
  current["spec"]["suspend"] = true;
  auto put = cli->Put(jobs + "/rv", current.dump(), "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 409);
  EXPECT_EQ(json::parse(put->body), conflict);
  // So is a PUT that names another uid.
  current = get(jobs + "/rv");
  current["metadata"]["uid"] = "not-the-uid";
  put = cli->Put(jobs + "/rv", current.dump(), "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 409);
  EXPECT_EQ(json::parse(put->body)["message"],
            "Operation cannot be fulfilled on jobs.batch \"rv\": Precondition failed: UID in precondition: "
            "not-the-uid, UID in object meta: " +
                get(jobs + "/rv")["metadata"]["uid"].get<std::string>());
  // A PUT of the current object with a change is an update (without a resourceVersion, an
  // unconditional one: the running Job's status keeps changing).
  current = get(jobs + "/rv");
  current["metadata"].erase("resourceVersion");
  current["spec"]["parallelism"] = 2;
  current["status"] = {{"active", 7}};
  put = cli->Put(jobs + "/rv", current.dump(), "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(json::parse(put->body)["spec"]["parallelism"], 2);
  EXPECT_NE(json::parse(put->body)["status"].value("active", 0), 7);  // status is not the client's
}

TEST_F(JobSuspendAndPatch, UnsupportedContentTypesAre415) {
  create(job("ct", {{"suspend", true}}));
  const std::string body = R"({"spec":{"suspend":false}})";
  for (const char* type : {"application/apply-patch+yaml", "application/json", "text/plain", "application/yaml"}) {
    json s = patch("ct", body, type, 415);
    EXPECT_EQ(s["reason"], "UnsupportedMediaType") << type;
    EXPECT_EQ(s["code"], 415);
    EXPECT_NE(s["message"].get<std::string>().find("application/merge-patch+json"), std::string::npos);
  }
  EXPECT_EQ(get(jobs + "/ct")["spec"]["suspend"], true);
  EXPECT_EQ(patch("ct", body, "application/merge-patch+json; charset=utf-8")["spec"]["suspend"], false);
}

TEST_F(JobSuspendAndPatch, ValidationImmutabilityAndStatus) {
  // A Job that has started: its template is immutable, as are completions and the selector.
  create(job("run", json::object(), {{"kube-emulator/outcome", "hang"}}));
  ASSERT_TRUE(eventually([&] { return get(jobs + "/run")["status"].contains("startTime"); }));
  json e = json_patch(
      "run", json::array({{{"op", "replace"}, {"path", "/spec/template/spec/containers/0/image"}, {"value", "x:2"}}}),
      422);
  EXPECT_EQ(e["reason"], "Invalid");
  ASSERT_EQ(e["details"]["causes"].size(), 1u);
  EXPECT_EQ(e["details"]["causes"][0]["field"], "spec.template");
  EXPECT_NE(e["details"]["causes"][0]["message"].get<std::string>().find(": field is immutable"), std::string::npos);
  EXPECT_EQ(e["message"].get<std::string>().rfind("Job.batch \"run\" is invalid: spec.template: Invalid value: ", 0),
            0u);
  e = merge("run", {{"spec", {{"completions", 2}}}}, 422);
  EXPECT_EQ(e["message"], "Job.batch \"run\" is invalid: spec.completions: Invalid value: 2: field is immutable");
  e = merge("run", {{"spec", {{"selector", {{"matchLabels", {{"a", "b"}}}}}}}}, 422);
  EXPECT_EQ(e["details"]["causes"][0]["field"], "spec.selector");
  e = merge("run", {{"spec", {{"backoffLimit", -1}}}}, 422);
  EXPECT_EQ(e["message"],
            "Job.batch \"run\" is invalid: spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0");
  e = merge("run", {{"metadata", {{"uid", "other"}}}}, 422);
  EXPECT_EQ(e["message"], "Job.batch \"run\" is invalid: metadata.uid: Invalid value: \"other\": field is immutable");
  e = merge("run", {{"spec", {{"parallelism", "two"}}}}, 400);
  EXPECT_NE(e["message"].get<std::string>().find("Job.spec.parallelism of type int32"), std::string::npos);
  EXPECT_EQ(merge("run", {{"metadata", {{"name", "renamed"}}}}, 400)["message"],
            "the name of the object (renamed) does not match the name on the URL (run)");
  EXPECT_EQ(merge("run", {{"metadata", {{"namespace", "elsewhere"}}}}, 400)["message"],
            "the namespace of the provided object does not match the namespace sent on the request");
  // activeDeadlineSeconds and parallelism may change; status on the main resource is ignored.
  json ok = merge("run", {{"spec", {{"activeDeadlineSeconds", 600}}}, {"status", {{"succeeded", 5}}}});
  EXPECT_EQ(ok["spec"]["activeDeadlineSeconds"], 600);
  EXPECT_FALSE(ok["status"].contains("succeeded"));
  EXPECT_EQ(ok["metadata"]["generation"], 2);

  // A suspended Job that never started may change its template's scheduling directives, labels
  // and annotations (not its containers).
  create(job("queued", {{"suspend", true}}));
  ASSERT_TRUE(eventually([&] { return !condition_of(get(jobs + "/queued"), "Suspended").is_null(); }));
  json q =
      merge("queued",
            {{"spec",
              {{"template",
                {{"metadata", {{"annotations", {{"kube-emulator/run-seconds", "2"}}}}},
                 {"spec",
                  {{"nodeSelector", {{"zone", "a"}}}, {"tolerations", {{{"key", "k"}, {"operator", "Exists"}}}}}}}}}}});
  EXPECT_EQ(q["spec"]["template"]["spec"]["nodeSelector"]["zone"], "a");
  e = merge("queued", {{"spec", {{"template", {{"spec", {{"serviceAccountName", "other"}}}}}}}}, 422);
  EXPECT_EQ(e["details"]["causes"][0]["field"], "spec.template");
  // Once it has run, that is over.
  merge("queued", {{"spec", {{"suspend", false}}}});
  ASSERT_TRUE(eventually([&] { return get(jobs + "/queued")["status"].contains("startTime"); }));
  merge("queued", {{"spec", {{"suspend", true}}}});
  e = merge("queued", {{"spec", {{"template", {{"spec", {{"nodeSelector", {{"zone", "b"}}}}}}}}}}, 422);
  EXPECT_EQ(e["details"]["causes"][0]["field"], "spec.template");
}

TEST_F(JobSuspendAndPatch, RbacNeedsThePatchVerb) {
  const std::string dir = ::testing::TempDir();
  const std::string tokens = dir + "/suspend-tokens.csv", rbac = dir + "/suspend-rbac.yaml";
  {
    std::ofstream f(tokens);
    f << "admin,admin,1,system:masters\nsa,system:serviceaccount:default:kjq,2\nops,ops,3\n";
    std::ofstream r(rbac);
    r << R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runner, namespace: default}
rules: [{apiGroups: [batch], resources: [jobs], verbs: [create, get, list, watch, update]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner, namespace: default}
subjects: [{kind: ServiceAccount, name: kjq, namespace: default}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: runner}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: patcher, namespace: default}
rules: [{apiGroups: [batch], resources: [jobs], verbs: [patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: patcher, namespace: default}
subjects: [{kind: User, name: ops}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: patcher}
)";
  }
  EmulatorOptions o = suspend_options();
  o.token_file = tokens;
  o.rbac_file = rbac;
  start(o);
  const httplib::Headers sa = {{"Authorization", "Bearer sa"}}, ops = {{"Authorization", "Bearer ops"}};
  auto r = cli->Post(jobs, sa, job("guarded", {{"suspend", true}}).dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string resume = R"({"spec":{"suspend":false}})";
  json denied = patch("guarded", resume, "application/merge-patch+json", 403, sa);
  EXPECT_EQ(denied["reason"], "Forbidden");
  EXPECT_EQ(denied["message"],
            "jobs.batch \"guarded\" is forbidden: User \"system:serviceaccount:default:kjq\" cannot patch resource "
            "\"jobs\" in API group \"batch\" in the namespace \"default\"");
  EXPECT_EQ(patch("guarded", resume, "application/merge-patch+json", 401)["reason"], "Unauthorized");  // anonymous
  r = cli->Get(jobs + "/guarded", sa);
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)["spec"]["suspend"], true);
  EXPECT_EQ(patch("guarded", resume, "application/merge-patch+json", 200, ops)["spec"]["suspend"], false);
}

}  // namespace job_suspend_tests
