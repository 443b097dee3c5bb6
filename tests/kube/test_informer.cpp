// kube::Informer against a scripted API server on a real socket: the store and index follow lists
// and watch events, a relist is reconciled (what vanished is Deleted), `keep` and `transform`
// shape the store, and a failure either stops the informer or is retried.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kube/api.hpp"
#include "kube/informer.hpp"
#include "kube/object_meta.hpp"
#include "scripted_api_server.hpp"

namespace kjq::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string pod(const std::string& name, const std::string& job, const std::string& rv, const std::string& extra = "") {
  return R"({"metadata":{"name":")" + name + R"(","resourceVersion":")" + rv + R"(","labels":{"job-name":")" + job +
         R"("}})" + extra + "}";
}
std::string list_of(const std::string& rv, const std::vector<std::string>& items) {
  std::string out = R"({"metadata":{"resourceVersion":")" + rv + R"("},"items":[)";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}
std::string event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

// Records every change delivered and lets a test wait for a count of them.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> seen;  // "<kind> <name> <index key>[ list]"
  int synced = 0, failed = 0;
  Informer::Handlers handlers() {
    return {[this](const InformerChange& c) {
              static const char* kinds[] = {"Added", "Modified", "Deleted"};
              std::lock_guard lock(mu);
              seen.push_back(std::string(kinds[static_cast<int>(c.kind)]) + " " + c.name + " " + c.index_key +
                             (c.from_list ? " list" : ""));
              cv.notify_all();
            },
            [this] {
              std::lock_guard lock(mu);
              ++synced;
              cv.notify_all();
            },
            [this] {
              std::lock_guard lock(mu);
              ++failed;
              cv.notify_all();
            }};
  }
  bool wait_for(const std::function<bool()>& done) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, done);
  }
};

InformerOptions pods_by_job() {
  InformerOptions o;
  o.what = "pods";
  o.index = [](const json& p) { return job_name_of_pod(p); };
  return o;
}

TEST(Informer, FollowsEventsIndexesAndReconcilesARelist) {
  ScriptedApiServer s;
  s.hold_idle_watches = true;
  s.script = {
      {200, list_of("10", {pod("a", "j1", "8"), pod("b", "j1", "9")}), {}},
      {200,
       event("ADDED", pod("c", "j2", "11")) + event("MODIFIED", pod("a", "j2", "12")) +
           event("DELETED", pod("b", "j1", "13")),
       {}},
      {200, event("ERROR", R"({"kind":"Status","code":410,"reason":"Expired"})"), {}},
      {200, list_of("20", {pod("a", "j2", "14"), pod("d", "j3", "15")}), {}},
  };
  RestClient client(s.config(), fast());
  KubeApi api(client);
  Informer informer(api, pods_resource(), "ns", pods_by_job());
  Recorder r;
  informer.start(r.handlers());
  ASSERT_TRUE(r.wait_for([&] { return r.synced == 2; }));
  EXPECT_TRUE(informer.healthy());  // before stop(): a stop that cuts a request short is not health
  informer.stop();
  EXPECT_EQ(r.seen, (std::vector<std::string>{
                        "Added a j1 list", "Added b j1 list",                           // first list
                        "Added c j2", "Deleted a j1", "Modified a j2", "Deleted b j1",  // watch
                        "Deleted c j2 list", "Modified a j2 list", "Added d j3 list",   // relist
                    }));
  EXPECT_EQ(informer.names(), (std::vector<std::string>{"a", "d"}));
  ASSERT_EQ(informer.by_index("j2").size(), 1u);
  EXPECT_EQ(name_of(*informer.by_index("j2")[0]), "a");
  EXPECT_TRUE(informer.by_index("j1").empty());
  EXPECT_EQ(resource_version_of(*informer.get("d")), "15");
  EXPECT_EQ(informer.get("c"), nullptr);
  EXPECT_EQ(informer.stats().relists, 1);
}

TEST(Informer, KeepFiltersOnTheClientAndTransformShapesTheStore) {
  ScriptedApiServer s;
  s.hold_idle_watches = true;
  s.script = {
      {200, list_of("10", {pod("a", "keep", "8", R"(,"spec":{"big":1})"), pod("b", "drop", "9")}), {}},
      {200,
       event("MODIFIED", pod("b", "drop", "11")) + event("ADDED", pod("c", "keep", "12")) +
           event("MODIFIED", pod("a", "drop", "13")),
       {}},
  };
  RestClient client(s.config(), fast());
  KubeApi api(client);
  InformerOptions o = pods_by_job();
  o.keep = [](const json& p) { return label_of(p, "job-name") == "keep"; };
  o.transform = [](const json& p) { return json{{"metadata", p["metadata"]}}; };
  Informer informer(api, pods_resource(), "ns", o);
  Recorder r;
  informer.start(r.handlers());
  ASSERT_TRUE(r.wait_for([&] { return r.seen.size() == 3; }));
  // b never matched: its events are not changes; a stopped matching: Deleted.
  EXPECT_EQ(r.seen, (std::vector<std::string>{"Added a keep list", "Added c keep", "Deleted a keep"}));
  EXPECT_EQ(informer.names(), (std::vector<std::string>{"c"}));
  EXPECT_FALSE(informer.get("c")->contains("spec"));
  informer.stop();
}

TEST(Informer, TransformDropsWhatTheStoreNeedNotKeep) {
  ScriptedApiServer s;
  s.hold_idle_watches = true;
  s.script = {{200, list_of("1", {pod("a", "j", "1", R"(,"spec":{"containers":[{"name":"c","env":[]}]})")}), {}}};
  RestClient client(s.config(), fast());
  KubeApi api(client);
  InformerOptions o;
  o.transform = [](const json& p) { return json{{"metadata", {{"name", name_of(p)}}}}; };
  Informer informer(api, pods_resource(), "ns", o);
  Recorder r;
  informer.start(r.handlers());
  ASSERT_TRUE(r.wait_for([&] { return r.synced == 1; }));
  EXPECT_EQ(*informer.get("a"), json::parse(R"({"metadata":{"name":"a"}})"));
  informer.stop();
}

TEST(Informer, AForbiddenListStopsAnInformerThatMustReportIt) {
  ScriptedApiServer s;
  s.script = {{403, R"({"kind":"Status","code":403,"reason":"Forbidden","message":"pods is forbidden"})", {}}};
  RestClient client(s.config(), fast());
  KubeApi api(client);
  InformerOptions o;
  o.what = "pods";
  o.on_failure = OnFailure::Stop;
  Informer informer(api, pods_resource(), "ns", o);
  Recorder r;
  informer.start(r.handlers());
  ASSERT_TRUE(r.wait_for([&] { return r.failed == 1; }));
  ASSERT_TRUE(informer.error());
  EXPECT_THROW(std::rethrow_exception(informer.error()), ApiError);
  EXPECT_FALSE(informer.synced());
  EXPECT_NE(informer.last_error().find("watch pods: "), std::string::npos);
  EXPECT_EQ(informer.last_error().find("static-secret"), std::string::npos);
  informer.stop();
}

TEST(Informer, AServiceInformerRetriesAForbiddenListUntilItIsAllowed) {
  ScriptedApiServer s;
  s.hold_idle_watches = true;
  s.script = {{403, R"({"kind":"Status","code":403,"reason":"Forbidden","message":"pods is forbidden"})", {}},
              {200, list_of("5", {pod("a", "j", "4")}), {}}};
  RestClient client(s.config(), fast());
  KubeApi api(client);
  Informer informer(api, pods_resource(), "ns", pods_by_job());
  Recorder r;
  informer.start(r.handlers());
  ASSERT_TRUE(r.wait_for([&] { return r.synced == 1; }));
  EXPECT_TRUE(informer.healthy());
  EXPECT_EQ(informer.stats().failures, 1);
  EXPECT_EQ(r.failed, 0);
  EXPECT_EQ(informer.error(), nullptr);
  informer.stop();
}

TEST(Informer, StopEndsAWatchThatIsWaitingForEvents) {
  ScriptedApiServer s;
  s.hold_idle_watches = true;
  s.script = {{200, list_of("5", {}), {}}};
  RestClient client(s.config(), fast());
  KubeApi api(client);
  Informer informer(api, pods_resource(), "ns", {});
  Recorder r;
  informer.start(r.handlers());
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(s.mu);
      if (s.held == 1) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  {
    std::lock_guard lock(s.mu);
    ASSERT_EQ(s.held, 1);
  }
  const auto t0 = std::chrono::steady_clock::now();
  informer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

}  // namespace
}  // namespace kjq::kube
