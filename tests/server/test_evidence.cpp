// What a finished job leaves behind: which pod's log to keep (newest_terminated_pod,
// pod_with_log, find_pod, on hand-made pods) and the log tail itself (capture_log_tail, against an
// in-process API server).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "loopback_api_server.hpp"
#include "server/evidence.hpp"

namespace {

using kjq::server::find_pod;
using kjq::server::has_job_end_event;
using kjq::server::newest_terminated_pod;
using kjq::server::pod_with_log;
using nlohmann::json;

json container_state(const std::string& state) {
  if (state == "running") return {{"running", {{"startedAt", "2026-11-27T10:00:01Z"}}}};
  if (state == "terminated")
    return {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}, {"finishedAt", "2026-11-27T10:00:09Z"}}}};
  if (state == "waiting") return {{"waiting", {{"reason", "ContainerCreating"}}}};
  return json::object();
}

// A pod named `name`, created at `created`, whose containers (in spec order) are in `states`;
// the statuses are listed in the same order unless `statuses` is given.
json pod(const std::string& name, const std::string& created, const std::vector<std::string>& states,
         std::optional<std::vector<std::pair<std::string, std::string>>> statuses = std::nullopt) {
  json p = {{"metadata", {{"name", name}, {"creationTimestamp", created}}},
            {"spec", {{"containers", json::array()}}},
            {"status", {{"phase", "Running"}, {"containerStatuses", json::array()}}}};
  for (std::size_t i = 0; i < states.size(); ++i) {
    const std::string c = i == 0 ? "nautobot-job" : "sidecar-" + std::to_string(i);
    p["spec"]["containers"].push_back({{"name", c}});
    if (!statuses) p["status"]["containerStatuses"].push_back({{"name", c}, {"state", container_state(states[i])}});
  }
  if (statuses)
    for (const auto& [c, state] : *statuses)
      p["status"]["containerStatuses"].push_back({{"name", c}, {"state", container_state(state)}});
  return p;
}

// Retries of a failed job: several pods, one per attempt.
std::vector<json> attempts() {
  return {pod("job-a", "2026-11-27T10:00:00Z", {"terminated"}), pod("job-c", "2026-11-27T10:20:00Z", {"running"}),
          pod("job-b", "2026-11-27T10:10:00Z", {"terminated"}), pod("job-d", "2026-11-27T10:30:00Z", {"waiting"})};
}

}  // namespace

// --- newest_terminated_pod -------------------------------------------------------------------------

TEST(NewestTerminatedPod, IsTheNewestPodWhoseContainerEnded) {
  std::vector<json> pods = attempts();
  EXPECT_EQ(newest_terminated_pod(pods), "job-b");  // c is newer but running, d newer but waiting
  std::reverse(pods.begin(), pods.end());
  EXPECT_EQ(newest_terminated_pod(pods), "job-b");  // the order of the list does not matter
}

TEST(NewestTerminatedPod, ComparesTimesAcrossHoursDaysAndMonths) {
  EXPECT_EQ(newest_terminated_pod({pod("late-morning", "2026-11-27T09:59:59Z", {"terminated"}),
                                   pod("ten", "2026-11-27T10:00:00Z", {"terminated"})}),
            "ten");
  EXPECT_EQ(newest_terminated_pod({pod("december", "2026-12-01T00:00:00Z", {"terminated"}),
                                   pod("november", "2026-11-30T23:59:59Z", {"terminated"})}),
            "december");
}

TEST(NewestTerminatedPod, NoneWhenNoContainerEnded) {
  EXPECT_EQ(newest_terminated_pod({}), std::nullopt);
  EXPECT_EQ(
      newest_terminated_pod({pod("r", "2026-11-27T10:00:00Z", {"running"}),
                             pod("w", "2026-11-27T10:01:00Z", {"waiting"}), pod("none", "2026-11-27T10:02:00Z", {})}),
      std::nullopt);
}

TEST(NewestTerminatedPod, OnlyTheFirstContainerCounts) {
  // The job container still runs while a sidecar has ended: the pod's log is not complete.
  EXPECT_EQ(newest_terminated_pod({pod("p", "2026-11-27T10:00:00Z", {"running", "terminated"})}), std::nullopt);
  EXPECT_EQ(newest_terminated_pod({pod("p", "2026-11-27T10:00:00Z", {"terminated", "running"})}), "p");
}

TEST(NewestTerminatedPod, PodsWithoutStatusesAreSkippedWithoutThrowing) {
  std::vector<json> pods = {
      json::object(),
      json(nullptr),
      json::array(),
      {{"metadata", {{"name", "no-status"}}}},
      {{"metadata", {{"name", "null-status"}}}, {"status", nullptr}},
      {{"metadata", {{"name", "status-string"}}}, {"status", "Running"}},
      {{"metadata", {{"name", "statuses-object"}}}, {"status", {{"containerStatuses", {{"a", 1}}}}}},
      {{"metadata", {{"name", "statuses-empty"}}}, {"status", {{"containerStatuses", json::array()}}}},
      {{"metadata", {{"name", "state-null"}}},
       {"status", {{"containerStatuses", {{{"name", "c"}, {"state", nullptr}}}}}}},
      pod("good", "2026-11-27T10:00:00Z", {"terminated"})};
  std::optional<std::string> got;
  ASSERT_NO_THROW(got = newest_terminated_pod(pods));
  EXPECT_EQ(got, "good");
  ASSERT_NO_THROW(got = pod_with_log(pods));
  EXPECT_EQ(got, "good");
  EXPECT_EQ(find_pod(pods, "good"), &pods.back());
}

// --- pod_with_log ----------------------------------------------------------------------------------

TEST(PodWithLog, IsTheNewestPodWhoseContainerStarted) {
  std::vector<json> pods = attempts();
  EXPECT_EQ(pod_with_log(pods), "job-c");  // running and newer than b; d has not started
  std::reverse(pods.begin(), pods.end());
  EXPECT_EQ(pod_with_log(pods), "job-c");
}

TEST(PodWithLog, ATerminatedPodHasALogToo) {
  EXPECT_EQ(pod_with_log({pod("old", "2026-11-27T10:00:00Z", {"terminated"}),
                          pod("new", "2026-11-27T10:05:00Z", {"terminated"}),
                          pod("pending", "2026-11-27T10:06:00Z", {"waiting"})}),
            "new");
}

TEST(PodWithLog, NoneWhenNoContainerStarted) {
  EXPECT_EQ(pod_with_log({}), std::nullopt);
  EXPECT_EQ(pod_with_log({pod("w", "2026-11-27T10:00:00Z", {"waiting"}), pod("none", "2026-11-27T10:01:00Z", {})}),
            std::nullopt);
}

TEST(PodWithLog, ASidecarThatStartedDoesNotMakeTheJobContainerStarted) {
  EXPECT_EQ(pod_with_log({pod("ran", "2026-11-27T10:00:00Z", {"terminated"}),
                          pod("pulling", "2026-11-27T10:05:00Z", {"waiting", "running"})}),
            "ran");
}

TEST(Evidence, TheJobContainerIsFoundByNameNotByStatusOrder) {
  // spec: [nautobot-job, istio-proxy]; statuses as the kubelet lists them: by name.
  json ended =
      pod("ended", "2026-11-27T10:00:00Z", {"terminated", "running"},
          std::vector<std::pair<std::string, std::string>>{{"istio-proxy", "running"}, {"nautobot-job", "terminated"}});
  ended["spec"]["containers"][1]["name"] = "istio-proxy";
  EXPECT_EQ(newest_terminated_pod({ended}), "ended");

  json still_running = pod(
      "still-running", "2026-11-27T10:00:00Z", {"running", "terminated"},
      std::vector<std::pair<std::string, std::string>>{{"a-log-shipper", "terminated"}, {"nautobot-job", "running"}});
  still_running["spec"]["containers"][1]["name"] = "a-log-shipper";
  EXPECT_EQ(newest_terminated_pod({still_running}), std::nullopt);
}

// --- find_pod --------------------------------------------------------------------------------------

TEST(FindPod, FindsThePodByNameInTheList) {
  const std::vector<json> pods = attempts();
  for (std::size_t i = 0; i < pods.size(); ++i) {
    const std::string name = pods[i]["metadata"]["name"];
    EXPECT_EQ(find_pod(pods, name), &pods[i]) << name;  // the element itself, not a copy
  }
  EXPECT_EQ(find_pod(pods, "job-x"), nullptr);
  EXPECT_EQ(find_pod(pods, "job"), nullptr);  // no prefix match
  EXPECT_EQ(find_pod({}, "job-a"), nullptr);
}

TEST(FindPod, TheChosenPodIsInTheList) {
  const std::vector<json> pods = attempts();
  const json* p = find_pod(pods, *newest_terminated_pod(pods));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ((*p)["metadata"]["creationTimestamp"], "2026-11-27T10:10:00Z");
}

// --- job_container_failed ---------------------------------------------------------------------------

TEST(JobContainerFailed, ReadsTheJobContainersExitCodeElseThePodsPhase) {
  auto ended = [](int code, const char* reason) {
    json p = pod("p", "2026-11-27T10:00:00Z", {"terminated"});
    p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] = code;
    p["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] = reason;
    return p;
  };
  EXPECT_TRUE(kjq::server::job_container_failed(ended(1, "Error")));
  EXPECT_TRUE(kjq::server::job_container_failed(ended(137, "OOMKilled")));
  EXPECT_FALSE(kjq::server::job_container_failed(ended(0, "Completed")));
  // A sidecar's failure is not the job's: spec.containers[0] is, found by name among the statuses.
  json sidecar_failed = pod("p", "2026-11-27T10:00:00Z", {"terminated", "terminated"});
  sidecar_failed["status"]["containerStatuses"][1]["state"]["terminated"]["exitCode"] = 2;
  EXPECT_FALSE(kjq::server::job_container_failed(sidecar_failed));
  // No exit code yet: the pod's phase.
  json evicted = pod("p", "2026-11-27T10:00:00Z", {"waiting"});
  evicted["status"]["phase"] = "Failed";
  EXPECT_TRUE(kjq::server::job_container_failed(evicted));
  EXPECT_FALSE(kjq::server::job_container_failed(pod("p", "2026-11-27T10:00:00Z", {"running"})));
  EXPECT_FALSE(kjq::server::job_container_failed(json::object()));
}

// --- capture_log_tail ------------------------------------------------------------------------------

namespace {

// An API server that answers pod log requests with a scripted status and body.
class LogServer {
 public:
  kjq::kube::ClusterConfig config() const { return server_.config(); }
  void answer(int status, std::string body) {
    std::lock_guard lock(mu_);
    status_ = status;
    body_ = std::move(body);
  }
  std::string path() {
    std::lock_guard lock(mu_);
    return path_;
  }
  std::map<std::string, std::string> params() {
    std::lock_guard lock(mu_);
    return params_;
  }

 private:
  std::mutex mu_;
  int status_ = 200;
  std::string body_;
  std::string path_;
  std::map<std::string, std::string> params_;
  kjq::test::LoopbackApiServer server_{[this](httplib::Server& s) {
    s.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      path_ = req.path;
      params_.clear();
      for (const auto& [k, v] : req.params) params_[k] = v;
      res.status = status_;
      res.set_content(body_, status_ == 200 ? "text/plain" : "application/json");
    });
  }};
};

kjq::kube::ClientOptions quick() {
  kjq::kube::ClientOptions o;
  o.max_retries = 1;
  o.backoff_base = std::chrono::milliseconds(1);
  o.backoff_cap = std::chrono::milliseconds(2);
  o.request_timeout_ms = 5000;
  return o;
}

}  // namespace

TEST(CaptureLogTail, AsksForTheTailOfTheFirstContainer) {
  LogServer server;
  kjq::kube::RestClient client(server.config(), quick());
  kjq::kube::KubeApi api(client);
  server.answer(200, "line 1\nline 2\n");
  kjq::server::EvidenceOptions options;
  options.log_tail_lines = 25;
  const json p = pod("nautobot-job-1-x7k2p", "2026-11-27T10:00:00Z", {"terminated", "running"});
  EXPECT_EQ(kjq::server::capture_log_tail(api, "nautobot", p, options), "line 1\nline 2\n");
  EXPECT_EQ(server.path(), "/api/v1/namespaces/nautobot/pods/nautobot-job-1-x7k2p/log");
  EXPECT_EQ(server.params(), (std::map<std::string, std::string>{{"container", "nautobot-job"}, {"tailLines", "25"}}));
}

TEST(CaptureLogTail, ALongLogIsCutFromTheFront) {
  LogServer server;
  kjq::kube::RestClient client(server.config(), quick());
  kjq::kube::KubeApi api(client);
  server.answer(200, "0123456789abcdefghij");
  kjq::server::EvidenceOptions options;
  options.log_tail_max_bytes = 8;
  bool cut = false;
  EXPECT_EQ(kjq::server::capture_log_tail(api, "ns", pod("p", "2026-11-27T10:00:00Z", {"terminated"}), options, &cut),
            "cdefghij");
  EXPECT_TRUE(cut);                 // noted: the record says its evidence was cut
  options.log_tail_max_bytes = 20;  // exactly the limit: whole
  cut = false;
  EXPECT_EQ(kjq::server::capture_log_tail(api, "ns", pod("p", "2026-11-27T10:00:00Z", {"terminated"}), options, &cut),
            "0123456789abcdefghij");
  EXPECT_FALSE(cut);
}

TEST(CaptureLogTail, TheFrontCutKeepsWholeUtf8Characters) {
  LogServer server;
  kjq::kube::RestClient client(server.config(), quick());
  kjq::kube::KubeApi api(client);
  server.answer(200, "prix: 5\xe2\x82\xac\n");  // "prix: 5€\n": € is 3 bytes
  kjq::server::EvidenceOptions options;
  options.log_tail_max_bytes = 3;  // the cut falls inside "€"
  const std::string tail =
      kjq::server::capture_log_tail(api, "ns", pod("p", "2026-11-27T10:00:00Z", {"terminated"}), options);
  EXPECT_LE(tail.size(), 3u);
  EXPECT_NO_THROW((void)json(tail).dump()) << "not valid UTF-8";
}

TEST(CaptureLogTail, NeverThrowsAndIsEmptyWhenTheApiHasNoLog) {
  LogServer server;
  kjq::kube::RestClient client(server.config(), quick());
  kjq::kube::KubeApi api(client);
  server.answer(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,)"
                     R"("message":"pods \"gone\" not found"})");
  std::string tail = "unset";
  EXPECT_NO_THROW(
      tail = kjq::server::capture_log_tail(api, "ns", pod("gone", "2026-11-27T10:00:00Z", {"terminated"}), {}));
  EXPECT_EQ(tail, "");

  // Nobody listening at all.
  kjq::kube::ClusterConfig nowhere;
  nowhere.server = "http://127.0.0.1:1";
  nowhere.token = "kube-token";
  kjq::kube::RestClient down(nowhere, quick());
  kjq::kube::KubeApi down_api(down);
  tail = "unset";
  EXPECT_NO_THROW(
      tail = kjq::server::capture_log_tail(down_api, "ns", pod("p", "2026-11-27T10:00:00Z", {"terminated"}), {}));
  EXPECT_EQ(tail, "");
}

TEST(CaptureLogTail, APodWithoutContainersInItsSpecNamesNone) {
  LogServer server;
  kjq::kube::RestClient client(server.config(), quick());
  kjq::kube::KubeApi api(client);
  server.answer(200, "x\n");
  json p = pod("p", "2026-11-27T10:00:00Z", {"terminated"});
  p.erase("spec");
  EXPECT_EQ(kjq::server::capture_log_tail(api, "ns", p, {}), "x\n");
  EXPECT_EQ(server.params().count("container"), 0u);
  EXPECT_EQ(server.params().at("tailLines"), "100");  // the default
}

TEST(HasJobEndEvent, FindsTheJobControllersEndEventOfThatJobOnly) {
  const json events = json::parse(R"([
    {"object":"Pod/j-abc","reason":"Completed"},
    {"object":"Job/other","reason":"Completed"},
    {"object":"Job/j","reason":"SuccessfulCreate"}])");
  EXPECT_FALSE(has_job_end_event(events, "j"));
  json with_end = events;
  with_end.push_back({{"object", "Job/j"}, {"reason", "BackoffLimitExceeded"}});
  EXPECT_TRUE(has_job_end_event(with_end, "j"));
  EXPECT_FALSE(has_job_end_event(json::object(), "j"));
}

// --- cap_events -------------------------------------------------------------------------------------

namespace {
json event(int i, const std::string& message = "m") {
  return {{"time", "2026-11-27T10:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i) + "Z"},
          {"type", "Normal"},
          {"reason", "R" + std::to_string(i)},
          {"object", "Pod/p"},
          {"message", message}};
}
}  // namespace

TEST(CapEvents, EventsWithinTheCapAreKeptAsTheyAre) {
  json events = json::array({event(1), event(2)});
  const json before = events;
  EXPECT_FALSE(kjq::server::cap_events(events, {}));
  EXPECT_EQ(events, before);
}

TEST(CapEvents, TheNewestAreKeptUpToTheCount) {
  json events = json::array();
  for (int i = 0; i < 50; ++i) events.push_back(event(i));
  kjq::server::EvidenceOptions o;
  o.max_events = 3;
  EXPECT_TRUE(kjq::server::cap_events(events, o));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["reason"], "R47");
  EXPECT_EQ(events[2]["reason"], "R49");
}

TEST(CapEvents, ALongMessageIsCutOnACharacterAndTheArrayFitsItsBytes) {
  // A hostile Event: a megabyte of "€" (three bytes each) in its message.
  std::string huge;
  for (int i = 0; i < 350'000; ++i) huge += "\u20ac";
  json events = json::array({event(1, huge), event(2, "short")});
  kjq::server::EvidenceOptions o;
  o.event_message_max_bytes = 100;
  EXPECT_TRUE(kjq::server::cap_events(events, o));
  ASSERT_EQ(events.size(), 2u);
  const std::string cut = events[0]["message"];
  EXPECT_EQ(cut.size(), 99u + 3u);  // 33 whole "€" and "…"
  EXPECT_EQ(cut.substr(cut.size() - 3), "\u2026");
  EXPECT_EQ(events[1]["message"], "short");
  // The whole array over its byte cap: the oldest go first.
  o.events_max_bytes = events[1].dump().size() + 3;
  EXPECT_TRUE(kjq::server::cap_events(events, o));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["reason"], "R2");
  EXPECT_LE(events.dump().size(), o.events_max_bytes);
}
